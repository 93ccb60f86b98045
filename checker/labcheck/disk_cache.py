"""Results that change only when their inputs change, kept on disk between runs.

`labcheck run` grades the same lab many times: validating its spec (YAML, pydantic models,
every check's arguments) and rendering its templates gave the same result every time and
cost more than the grading itself. Such a result is stored under a key that hashes every
input it came from (the spec file's bytes, the context it was rendered in) and the code that
made it (`code_fingerprint`), so a changed spec or a changed labcheck is a miss, never a stale
hit.

Entries are pickles, so they are only read from a folder that passes state_files' checks
(the user's own, writable by nobody else) and only when the file itself is the user's and
writable by them alone: a planted file is ignored, not loaded. Anything wrong with an entry
(damaged, truncated, from another Python) is a miss and the entry is removed: the cache can
make a run faster, never make it fail. The folder is $LABCHECK_CACHE_DIR, else
$XDG_CACHE_HOME/labcheck, else ~/.cache/labcheck; LABCHECK_NO_CACHE=1 turns it off.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import pickle
import stat
from pathlib import Path

import labcheck
from labcheck.errors import LabcheckError
from labcheck.state_files import check_private_dir, write_private

NO_CACHE_ENV = "LABCHECK_NO_CACHE"
CACHE_DIR_ENV = "LABCHECK_CACHE_DIR"
#: Entries kept per folder; the oldest go first (a lab run on many ports leaves one each).
MAX_ENTRIES = 64
_SUFFIX = ".pickle"
_TIP = "keep labcheck's state in a folder of your own, or set LABCHECK_NO_CACHE=1"


@functools.cache
def code_fingerprint() -> str:
    """labcheck's version and the size and modification time of each of its modules: a new
    install, an edited checkout or another Python makes every earlier entry a miss."""
    root = Path(labcheck.__file__).parent
    digest = hashlib.sha256(f"{labcheck.__version__}\0{pickle.HIGHEST_PROTOCOL}\0{root}".encode())
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            if name.endswith(".py"):
                info = os.stat(os.path.join(folder, name))
                digest.update(f"\0{folder}/{name}\0{info.st_mtime_ns}\0{info.st_size}".encode())
    return digest.hexdigest()


def cache_dir() -> Path:
    """Where entries are kept (see the module docstring)."""
    if env := os.environ.get(CACHE_DIR_ENV):
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "labcheck"


def cache_key(*parts: str | bytes) -> str:
    """A key for a result made from `parts` by this labcheck."""
    digest = hashlib.sha256(code_fingerprint().encode())
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big") + data)  # lengths first: no two splits collide
    return digest.hexdigest()


def enabled() -> bool:
    return os.environ.get(NO_CACHE_ENV, "") in ("", "0")


def load(key: str) -> object | None:
    """The value stored under `key`, or None (none, turned off, or not safe to read)."""
    if not enabled():
        return None
    try:
        folder = cache_dir()
        path = folder / f"{key}{_SUFFIX}"
        check_private_dir(folder, tip=_TIP)
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except (OSError, LabcheckError, RuntimeError, KeyError):  # Path.home() of a user without one
        return None
    try:
        with os.fdopen(fd, "rb") as fh:
            info = os.fstat(fh.fileno())
            if info.st_uid != os.geteuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
                return None  # not labcheck's: leave it, and do not load it
            value: object = pickle.loads(fh.read())
            return value
    except Exception:  # a damaged entry is a miss (pickle raises almost anything)
        with contextlib.suppress(OSError):
            path.unlink()
        return None


def store(key: str, value: object) -> None:
    """Keep `value` under `key`; silently nothing when the folder cannot take it."""
    if not enabled():
        return
    try:
        folder = cache_dir()
        write_private(folder / f"{key}{_SUFFIX}", pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL), tip=_TIP)
        entries = sorted(folder.glob(f"*{_SUFFIX}"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
        for old in entries[MAX_ENTRIES:]:
            old.unlink()
    except (OSError, LabcheckError, RuntimeError, KeyError, pickle.PicklingError):
        return
