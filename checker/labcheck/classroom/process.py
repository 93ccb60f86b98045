"""The token server as a detached host process (see environment/host_process.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from labcheck.environment.host_process import alive, last_line, owned_by, spawn, stop
from labcheck.environment.readiness import wait_until_ready
from labcheck.errors import ClassError

READY_TIMEOUT = 20.0

__all__ = ["alive", "start_token_server", "stop", "stop_orphans", "token_server_command"]


def token_server_command(config: Path) -> tuple[str, ...]:
    return (sys.executable, "-m", "labcheck.classroom.token_server", str(config))


def _owner(folder: Path) -> str:
    """The owner mark of the token server whose files are in `folder` (the class dir)."""
    return f"class:{folder}"


def start_token_server(config: Path, log: Path, probe_url: str) -> tuple[int, tuple[str, ...]]:
    """Start the token server detached; (pid, command line) once /healthz answers.

    Stopped again if it does not answer, or if we are interrupted while waiting for it.
    """
    command = token_server_command(config)
    proc = spawn(command, log, owner=_owner(config.parent))
    try:
        _wait_healthy(proc, command, log, probe_url)
    except BaseException:
        stop(proc.pid, command)  # reaps it
        raise
    return proc.pid, command


def _wait_healthy(proc: subprocess.Popen[bytes], command: tuple[str, ...], log: Path, probe_url: str) -> None:
    wait_until_ready(
        "the token server",
        lambda http: http.get(probe_url).status_code == 200,
        lambda: None if proc.poll() is None else last_line(log),
        timeout=READY_TIMEOUT,
        tip=f"see {log}",
        error=ClassError,
    )


def stop_orphans(folder: Path) -> list[str]:
    """Stop the token servers of the class dir `folder` found by their owner mark (for a
    `class down` whose state file is damaged); what was stopped."""
    return [f"token server (pid {pid})" for pid, command in owned_by(_owner(folder)) if stop(pid, command)]
