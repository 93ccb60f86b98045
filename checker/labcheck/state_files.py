"""Files that hold passwords (the lab and class state, the login cards): written and read safely.

Writing goes through a fresh, randomly named temporary file in the same folder, created
with O_CREAT|O_EXCL|O_NOFOLLOW and mode 0600, synced, then renamed over the target: a
stale temporary file, a planted symlink or a reader catching the file half-written never
gets the content, and a rename never follows a symlink at the target. The folder must be
the user's own and writable by nobody else (others could swap the files), else
UnsafeDirectory. State files are read back strictly: StateDamaged names the file and the
first key that is wrong.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import os
import secrets
import stat
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

from labcheck.errors import StateDamaged, UnsafeDirectory

T = TypeVar("T")
MAX_STATE_BYTES = 16 << 20  # a class of 1000 learners is about 200 kB


def _open_dir(folder: Path, tip: str) -> int:
    """An fd of `folder`, after checking that it is the user's and nobody else may write to it."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        raise UnsafeDirectory(f"cannot use {folder}: {exc.strerror}", tip=tip) from exc
    info = os.fstat(fd)
    problem = None
    if info.st_uid != os.geteuid():
        problem = f"{folder} belongs to user id {info.st_uid}, not to you"
    elif info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        problem = f"{folder} may be written by others (mode {stat.filemode(info.st_mode)})"
    if problem:
        os.close(fd)
        raise UnsafeDirectory(f"{problem}: labcheck keeps passwords there", tip=tip)
    return fd


def check_private_dir(folder: Path, *, tip: str) -> None:
    """UnsafeDirectory unless `folder` (if it exists) is the user's and writable by them only."""
    if folder.exists():
        os.close(_open_dir(folder, tip))


def write_private(path: Path, data: bytes, *, tip: str, mode: int = 0o600) -> None:
    """Write `path` atomically with `mode` (0600: only its owner can read it); its folder is
    created (0700) when missing and must pass the check of check_private_dir."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    dir_fd = _open_dir(path.parent, tip)
    try:
        tmp = f".{path.name}.{secrets.token_hex(8)}.tmp"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(tmp, flags, mode, dir_fd=dir_fd)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path.name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=dir_fd)
            raise
        os.fsync(dir_fd)  # the rename itself survives a crash
    finally:
        os.close(dir_fd)


def read_state(path: Path, kind: type[T], *, what: str, tip: str) -> T | None:
    """The `kind` (a dataclass) saved in `path`, None when there is no such file; StateDamaged
    when it is not JSON or does not fit `kind` (the message names the first wrong key, never a value)."""
    check_private_dir(path.parent, tip=tip)
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_STATE_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StateDamaged(f"the {what} {path} cannot be read: {exc.strerror}", tip=tip) from exc
    if len(raw) > MAX_STATE_BYTES:
        raise StateDamaged(f"the {what} {path} is larger than {MAX_STATE_BYTES} bytes", tip=tip)
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise StateDamaged(f"the {what} {path} is not JSON", tip=tip) from exc
    exact = _exactly(kind, data)
    if exact is not _NOT_EXACT:
        return typing.cast(T, exact)
    from pydantic import TypeAdapter, ValidationError  # what labcheck did not write this way

    try:
        return TypeAdapter(kind).validate_python(data)
    except ValidationError as exc:
        first = exc.errors(include_input=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "the top level"
        raise StateDamaged(f"the {what} {path} is damaged: {where}: {first['msg']}", tip=tip) from exc


# -- reading back exactly what was written ------------------------------------------------------

_NOT_EXACT = object()
_SCALARS: dict[Any, type] = {str: str, int: int, float: float, bool: bool, type(None): type(None)}


@functools.cache
def _fields(kind: type) -> dict[str, Any]:
    return typing.get_type_hints(kind)


def _exactly(hint: Any, value: Any) -> Any:
    """`value` (parsed JSON) as `hint` when it is exactly what json.dumps(asdict(...)) of such a
    value writes (every key, every type as written: a list for a tuple, no coercion); else
    _NOT_EXACT, and read_state asks pydantic, which decides and names what is wrong.

    Building the pydantic validator costs ~90 ms of a ~0.4 s `labcheck run`; a state file
    labcheck wrote itself never needs it. Any hint this does not know is _NOT_EXACT too.
    """
    if hint in _SCALARS:
        return value if type(value) is _SCALARS[hint] else _NOT_EXACT  # type(): no bool for int
    origin, params = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        for option in params:
            made = _exactly(option, value)
            if made is not _NOT_EXACT:
                return made
        return _NOT_EXACT
    if origin is tuple and len(params) == 2 and params[1] is Ellipsis and type(value) is list:
        items = [_exactly(params[0], v) for v in value]
        return _NOT_EXACT if any(i is _NOT_EXACT for i in items) else tuple(items)
    if origin is dict and params and params[0] is str and type(value) is dict:
        made = {k: _exactly(params[1], v) for k, v in value.items()}
        return _NOT_EXACT if any(v is _NOT_EXACT for v in made.values()) else made
    if isinstance(hint, type) and dataclasses.is_dataclass(hint) and type(value) is dict:
        fields = {f.name: f for f in dataclasses.fields(hint) if f.init}
        if set(value) != set(fields):  # a key missing or unknown: as written, every key is there
            return _NOT_EXACT
        hints = _fields(hint)
        made = {name: _exactly(hints[name], v) for name, v in value.items()}
        return _NOT_EXACT if any(v is _NOT_EXACT for v in made.values()) else hint(**made)
    return _NOT_EXACT
