"""A running lab's state (ports, generated passwords), kept in a private file.

Containers carry labels so `status` and `down` find them from Docker alone; the state file
adds what labels must not hold: the generated passwords (file mode 0600).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from labcheck.errors import LabNotRunning, StateDamaged, UsageError
from labcheck.pause import pause_point
from labcheck.state_files import check_private_dir, read_state, write_private

LABEL_PREFIX = "io.labcheck"
LABEL_INSTANCE = f"{LABEL_PREFIX}.instance"
LABEL_LAB = f"{LABEL_PREFIX}.lab"
LABEL_SERVICE = f"{LABEL_PREFIX}.service"

# An instance name becomes a container name and a file name: nothing that could leave the
# state directory or need quoting.
_INSTANCE = re.compile(r"[a-z0-9][a-z0-9_.-]{0,62}")


def check_instance_name(instance: str) -> str:
    """`instance` when it is a valid instance name (lower case, digits, `_.-`), else UsageError."""
    if not _INSTANCE.fullmatch(instance) or ".." in instance:
        raise UsageError(
            f"invalid lab instance name {instance!r}",
            tip="use lower-case letters, digits, '-', '_' or '.', e.g. --instance part7-b",
        )
    return instance


def state_dir() -> Path:
    """$LABCHECK_STATE_DIR, else $XDG_STATE_HOME/labcheck, else ~/.local/state/labcheck."""
    if env := os.environ.get("LABCHECK_STATE_DIR"):
        return Path(env)
    xdg = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(xdg) / "labcheck"


#: moto's ECR stand-in accepts any key pair: these are placeholders, not secrets.
DUMMY_AWS_KEYS = {"AWS_ACCESS_KEY_ID": "labcheck-dummy-key-id", "AWS_SECRET_ACCESS_KEY": "labcheck-dummy-secret"}


def local_address(bind_host: str) -> str:
    """The address to connect to for a port published on `bind_host` (all interfaces: loopback)."""
    return "127.0.0.1" if bind_host in ("0.0.0.0", "localhost", "::", "") else bind_host


@dataclass(frozen=True)
class ServiceState:
    """A started service: where it listens and, with auth, its generated login.

    Every service is a container (`container_id`) publishing `container_port` on host:port.
    The ECR stand-in's registry is served by its API's container (the front), which keeps
    the images in a registry:2 container of its own (`backend_id`); its login comes from the
    ecr-api service `token_from`, asked anew for each use (tokens expire). Labs started by
    labcheck 0.x ran the ECR API as a host process (`pid`, and `command` to recognise it
    before it is stopped): `up` and `down` still stop those.
    """

    name: str
    env_var: str
    host: str
    port: int
    container_id: str = ""
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    kind: str = "registry"
    auth: str = "none"
    pid: int | None = None
    command: tuple[str, ...] = ()
    region: str | None = None
    # where labcheck itself reads the service (host:port), when that is not 127.0.0.1:port:
    # from a container on a bridge network, the lab container's address there (placement.py)
    endpoint: str = ""
    container_port: int = 5000
    backend_id: str = ""
    token_from: str | None = None

    @property
    def reach(self) -> str:
        """host:port at which labcheck reads the service."""
        return self.endpoint or f"{local_address(self.host)}:{self.port}"

    @property
    def address(self) -> str:
        """What learners type: localhost:PORT (Docker allows plain HTTP only to loopback)."""
        host = "localhost" if self.host in ("127.0.0.1", "0.0.0.0", "localhost") else self.host
        return f"{host}:{self.port}"

    @property
    def is_process(self) -> bool:
        return self.pid is not None

    def env(self) -> dict[str, str]:
        """This service's `export` variables."""
        if self.kind == "ecr-api":
            # the aws CLI runs beside labcheck: where labcheck reaches the API, it does too
            joined = self.reach != f"{local_address(self.host)}:{self.port}"
            return {
                self.env_var: f"http://{self.reach if joined else self.address}",
                **DUMMY_AWS_KEYS,
                "AWS_DEFAULT_REGION": self.region or "us-east-1",
                "AWS_PAGER": "",
            }
        out = {self.env_var: self.address}
        if self.auth == "ecr-token":
            return out  # the learner gets the password from `aws ecr get-login-password`
        prefix = self.env_var.removesuffix("_REGISTRY")
        if self.username:
            out[f"{prefix}_USERNAME"] = self.username
        if self.password:
            out[f"{prefix}_PASSWORD"] = self.password
        return out


@dataclass(frozen=True)
class LabState:
    """A running lab instance."""

    lab: str
    instance: str
    services: dict[str, ServiceState]

    def env(self) -> dict[str, str]:
        """The variables `labcheck env` exports, passwords included."""
        out: dict[str, str] = {}
        for svc in self.services.values():
            out.update(svc.env())
        return out

    def secrets(self) -> list[str]:
        """Every secret of the lab: must never appear in output other than `env`."""
        return [s.password for s in self.services.values() if s.password]

    def hosts(self) -> dict[str, str]:
        return {name: svc.address for name, svc in self.services.items()}

    def usernames(self) -> dict[str, str]:
        """Each service's login user, for templates ({{ hub_username }})."""
        return {name: svc.username for name, svc in self.services.items() if svc.username}


def _path(instance: str) -> Path:
    return state_dir() / f"{check_instance_name(instance)}.json"


STATE_TIP = (
    "keep labcheck's state in a folder of your own (`chmod go-w` it, or set LABCHECK_STATE_DIR); "
    "`labcheck down LAB` removes a lab whose state file is damaged"
)


def save_state(state: LabState) -> None:
    """Write the state file readable by its owner only (it holds the generated passwords)."""
    pause_point("save-lab-state", state.instance)
    write_private(_path(state.instance), json.dumps(asdict(state), indent=2).encode(), tip=STATE_TIP)


def load_state(instance: str) -> LabState | None:
    """The saved state of an instance, None when it has none; StateDamaged when its file is
    not what labcheck wrote (`labcheck down` still removes such a lab)."""
    return read_state(_path(instance), LabState, what="lab state", tip=STATE_TIP)


def check_services(state: LabState, services: Iterable[str]) -> LabState:
    """`state` when it holds every one of its lab's `services`; else StateDamaged (an older
    labcheck, before the lab had that service, started it)."""
    missing = [name for name in services if name not in state.services]
    if missing:
        raise StateDamaged(
            f"the lab state {_path(state.instance)} has no service {missing[0]!r} of lab {state.lab}: "
            "an older labcheck started this lab",
            tip=f"`labcheck down {state.lab}{'' if state.instance == state.lab else ' --instance ' + state.instance}`"
            f", then `labcheck up` it again",
        )
    return state


def require_state(instance: str) -> LabState:
    """The saved state, or LabNotRunning with the command that starts it."""
    state = load_state(instance)
    if state is None:
        raise LabNotRunning(f"lab {instance!r} is not running", tip=f"start it with `labcheck up {instance}`")
    return state


def all_states() -> list[LabState]:
    """The state of every instance that has a state file."""
    folder = state_dir()
    if not folder.is_dir():
        return []
    check_private_dir(folder, tip=STATE_TIP)
    names = sorted(p.stem for p in folder.glob("*.json") if _INSTANCE.fullmatch(p.stem) and ".." not in p.stem)
    found = (load_state(name) for name in names)
    return [s for s in found if s is not None]


def log_path(instance: str, service: str) -> Path:
    """Where a host-process service of an instance writes its output."""
    return state_dir() / f"{instance}.{service}.log"


def delete_state(instance: str) -> None:
    _path(instance).unlink(missing_ok=True)
