"""The token server as a detached host process (see environment/host_process.py)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import httpx

from labcheck.environment.host_process import alive, last_line, spawn, stop
from labcheck.errors import ClassError

READY_TIMEOUT = 20.0

__all__ = ["alive", "start_token_server", "stop", "token_server_command"]


def token_server_command(config: Path) -> tuple[str, ...]:
    return (sys.executable, "-m", "labcheck.classroom.token_server", str(config))


def start_token_server(config: Path, log: Path, probe_url: str) -> tuple[int, tuple[str, ...]]:
    """Start the token server detached; (pid, command line) once /healthz answers."""
    command = token_server_command(config)
    proc = spawn(command, log)
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            stop(proc.pid, command)  # reaps it
            raise ClassError(f"the token server exited: {last_line(log)}", tip=f"see {log}")
        try:
            if httpx.get(probe_url, timeout=1.0).status_code == 200:
                return proc.pid, command
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    stop(proc.pid, command)
    raise ClassError(f"the token server did not answer {probe_url} within {READY_TIMEOUT:.0f} s")
