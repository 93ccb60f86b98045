"""Detached host processes (the workshop's token server).

The token server runs on the instructor's host, in its own session: a Ctrl-C meant for
labcheck does not reach it. It is stopped by pid, only after checking that the pid still runs
the command line we started (pids are reused). psutil reads processes the same way on Linux,
macOS and Windows (no /proc there).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

import psutil

STOP_TIMEOUT = 5.0

# Popen objects of the processes this process started, so that they are reaped when stopped
# (and never garbage-collected while running, which would warn).
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


#: Set in a spawned process's environment: whose it is, should its pid be lost with the state.
OWNER_VAR = "LABCHECK_OWNER"


def spawn(
    command: tuple[str, ...], log: Path, *, env: Mapping[str, str] | None = None, owner: str | None = None
) -> subprocess.Popen[bytes]:
    """Start `command` in its own session, its output in `log`; `owner` marks it for owned_by()."""
    if owner is not None:
        env = {**(os.environ if env is None else env), OWNER_VAR: owner}
    log.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=os.name == "posix",
            creationflags=getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0),  # Windows: away from Ctrl-C
            env=dict(env) if env is not None else None,
            cwd="/",
        )
    _CHILDREN[proc.pid] = proc
    return proc


def last_line(log: Path) -> str:
    """The last line a process wrote: why it exited, usually."""
    lines = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    return lines[-1] if lines else "?"


def cmdline(pid: int) -> tuple[str, ...] | None:
    """The live (not zombie) pid's command line, or None."""
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return None  # a zombie has finished
        return tuple(process.cmdline())
    except (psutil.Error, OSError):
        return None


def alive(pid: int | None, command: tuple[str, ...] | None) -> bool:
    """True when `pid` runs exactly `command`."""
    return pid is not None and command is not None and cmdline(pid) == command


def stop(pid: int | None, command: tuple[str, ...] | None) -> bool:
    """Stop the process group of `pid` if it still runs `command`; True if it was ours and running."""
    if pid is None or not alive(pid, command):
        _reap(pid)
        return False
    _signal_group(pid, kill=False)
    deadline = time.monotonic() + STOP_TIMEOUT
    while time.monotonic() < deadline and alive(pid, command):
        _reap(pid, wait=False)
        time.sleep(0.05)
    if alive(pid, command):
        _signal_group(pid, kill=True)
    _reap(pid)
    return True


def _signal_group(pid: int, *, kill: bool) -> None:
    """SIGTERM (or SIGKILL) to the process and everything it started: its own session's group
    on POSIX; on Windows, which has no process groups, its process tree."""
    if hasattr(os, "killpg"):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL if kill else signal.SIGTERM)  # the group id is its pid
        return
    with contextlib.suppress(psutil.Error):
        process = psutil.Process(pid)
        for each in [*process.children(recursive=True), process]:
            with contextlib.suppress(psutil.Error):
                each.kill() if kill else each.terminate()


def owned_by(owner: str) -> list[tuple[int, tuple[str, ...]]]:
    """(pid, command line) of every live process spawned for `owner`: for a `down` whose state
    file is gone (another LABCHECK_STATE_DIR, a deleted directory), so nothing keeps running."""
    found = []
    for process in psutil.process_iter():
        try:
            if process.environ().get(OWNER_VAR) != owner:
                continue
        except (psutil.Error, OSError):  # gone meanwhile, or not ours to read
            continue
        command = cmdline(process.pid)
        if command:
            found.append((process.pid, command))
    return found


def _reap(pid: int | None, *, wait: bool = True) -> None:
    proc = _CHILDREN.get(pid) if pid is not None else None
    if proc is None:
        return
    if proc.poll() is not None or wait:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=STOP_TIMEOUT)
        if proc.returncode is not None:
            _CHILDREN.pop(proc.pid, None)
