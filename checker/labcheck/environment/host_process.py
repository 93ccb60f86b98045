"""Detached host processes (the ECR API stand-in, the workshop token server).

No Python image can be pulled or built offline, so these services run on the host, each in
its own session: a Ctrl-C meant for labcheck does not reach them. They are stopped by pid,
only after checking that the pid still runs the command line we started (pids are reused).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

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
            start_new_session=True,
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
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    if stat.rpartition(")")[2].split()[:1] == ["Z"]:
        return None  # a zombie has finished
    return tuple(part.decode(errors="replace") for part in raw.split(b"\0") if part)


def alive(pid: int | None, command: tuple[str, ...] | None) -> bool:
    """True when `pid` runs exactly `command`."""
    return pid is not None and command is not None and cmdline(pid) == command


def stop(pid: int | None, command: tuple[str, ...] | None) -> bool:
    """Stop the process group of `pid` if it still runs `command`; True if it was ours and running."""
    if pid is None or not alive(pid, command):
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


def owned_by(owner: str) -> list[tuple[int, tuple[str, ...]]]:
    """(pid, command line) of every live process spawned for `owner`: for a `down` whose state
    file is gone (another LABCHECK_STATE_DIR, a deleted directory), so nothing keeps running."""
    marker = f"{OWNER_VAR}={owner}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:  # gone meanwhile, or not ours to read
            continue
        command = cmdline(int(entry.name)) if marker in environ else None
        if command:
            found.append((int(entry.name), command))
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
