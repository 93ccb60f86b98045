"""The token server as a detached host process: started in its own session, stopped by pid
only after checking that the pid still runs our command line (pids are reused)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from labcheck.errors import ClassError

READY_TIMEOUT = 20.0
STOP_TIMEOUT = 5.0

_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}  # reaped when stopped, never collected while running


def token_server_command(config: Path) -> tuple[str, ...]:
    return (sys.executable, "-m", "labcheck.classroom.token_server", str(config))


def start_token_server(config: Path, log: Path, probe_url: str) -> tuple[int, tuple[str, ...]]:
    """Start the token server detached; (pid, command line) once /healthz answers."""
    command = token_server_command(config)
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C in the instructor's terminal is not for it
            cwd="/",
        )
    _CHILDREN[proc.pid] = proc
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            lines = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
            _CHILDREN.pop(proc.pid, None)
            raise ClassError(f"the token server exited: {lines[-1] if lines else '?'}", tip=f"see {log}")
        try:
            if httpx.get(probe_url, timeout=1.0).status_code == 200:
                return proc.pid, command
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    stop(proc.pid, command)
    raise ClassError(f"the token server did not answer {probe_url} within {READY_TIMEOUT:.0f} s")


def cmdline(pid: int) -> tuple[str, ...] | None:
    """The live (not zombie) pid's command line, or None."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    if stat.rpartition(")")[2].split()[:1] == ["Z"]:
        return None
    return tuple(part.decode(errors="replace") for part in raw.split(b"\0") if part)


def alive(pid: int, command: tuple[str, ...]) -> bool:
    return cmdline(pid) == command


def stop(pid: int, command: tuple[str, ...]) -> bool:
    """Stop the process group of `pid` if it still runs `command`; True if it was ours and running."""
    if not alive(pid, command):
        _reap(pid)
        return False
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)  # its own session: the group id is its pid
    deadline = time.monotonic() + STOP_TIMEOUT
    while time.monotonic() < deadline and alive(pid, command):
        _reap(pid, wait=False)
        time.sleep(0.05)
    if alive(pid, command):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
    _reap(pid)
    return True


def _reap(pid: int, *, wait: bool = True) -> None:
    proc = _CHILDREN.get(pid)
    if proc is None:
        return
    if proc.poll() is not None or wait:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=STOP_TIMEOUT)
        if proc.returncode is not None:
            _CHILDREN.pop(pid, None)
