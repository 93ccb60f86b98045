"""The class state: where the shared registry and its token server run, and every login.

Kept in `<state dir>/class/` (mode 0700): `state.json` (0600, the logins' passwords, for
the login cards and grading), the token server's config, signing key, certificate and log.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from labcheck.environment.state import state_dir
from labcheck.errors import ClassError


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


def private_write(path: Path, data: bytes) -> None:
    """Write a file only its owner can read (atomically)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    tmp.replace(path)


def save_class(state: ClassState) -> None:
    private_write(_state_path(), json.dumps(asdict(state), indent=2).encode())


def _login(data: dict[str, Any]) -> ClassLogin:
    return ClassLogin(**data)


def load_class() -> ClassState | None:
    """The running class, or None."""
    try:
        data = json.loads(_state_path().read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ClassError(f"the class state {_state_path()} is unreadable: {exc}") from exc
    return ClassState(
        **{
            **data,
            "token_command": tuple(data["token_command"]),
            "grader": _login(data["grader"]),
            "learners": tuple(_login(x) for x in data["learners"]),
        }
    )


def require_class() -> ClassState:
    state = load_class()
    if state is None:
        raise ClassError("no class is running", tip="start one with `labcheck class up LAB --roster roster.csv`")
    return state


def delete_class_files() -> None:
    shutil.rmtree(class_dir(), ignore_errors=True)
