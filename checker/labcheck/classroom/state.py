"""The class state: where the shared registry and its token server run, and every login.

Kept in `<state dir>/class/` (mode 0700): `state.json` (0600, the logins' passwords, for
the login cards and grading), the token server's config, signing key, certificate and log.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

from labcheck.environment.state import state_dir
from labcheck.errors import ClassError
from labcheck.pause import pause_point
from labcheck.state_files import check_private_dir, read_state, write_private


@dataclass(frozen=True)
class ClassLogin:
    """A login on the class registry: a learner's, or the instructor's grading one."""

    user: str
    password: str = field(repr=False)
    name: str = ""
    email: str = ""


@dataclass(frozen=True)
class ClassState:
    lab: str
    instance: str  # the containers' io.labcheck.instance label
    service: str  # the lab service the class shares (its class_service)
    host: str  # the address the registry and the token server listen on
    port: int
    realm: str  # the token endpoint clients are sent to (a TLS proxy's URL, with --realm)
    token_url: str  # the same endpoint on this machine, for grading and the bench
    container_id: str
    token_pid: int
    token_command: tuple[str, ...]
    grader: ClassLogin
    learners: tuple[ClassLogin, ...]
    public_address: str = ""  # what learners type when a TLS proxy fronts the registry

    @property
    def learner_address(self) -> str:
        """The registry address on the login cards."""
        return self.public_address or self.address

    @property
    def address(self) -> str:
        """host:port as learners type it (localhost for loopback: Docker allows plain HTTP there)."""
        host = "localhost" if self.host in ("127.0.0.1", "0.0.0.0", "localhost") else self.host
        return f"{host}:{self.port}"

    def learner(self, learner_id: str) -> ClassLogin | None:
        return next((lg for lg in self.learners if lg.user == learner_id), None)


def class_dir() -> Path:
    return state_dir() / "class"


def _state_path() -> Path:
    return class_dir() / "state.json"


CLASS_TIP = (
    "keep labcheck's state in a folder of your own (`chmod go-w` it, or set LABCHECK_STATE_DIR); "
    "`labcheck class down` removes a class whose state is damaged"
)


def save_class(state: ClassState) -> None:
    pause_point("save-class-state", state.instance)
    write_private(_state_path(), json.dumps(asdict(state), indent=2).encode(), tip=CLASS_TIP)


def load_class() -> ClassState | None:
    """The running class, or None; StateDamaged when its state file is not what labcheck wrote."""
    check_private_dir(state_dir(), tip=CLASS_TIP)
    return read_state(_state_path(), ClassState, what="class state", tip=CLASS_TIP)


def require_class() -> ClassState:
    state = load_class()
    if state is None:
        raise ClassError("no class is running", tip="start one with `labcheck class up LAB --roster roster.csv`")
    return state


def delete_class_files() -> None:
    shutil.rmtree(class_dir(), ignore_errors=True)
