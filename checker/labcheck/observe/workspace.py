"""Observe the learner's git workspace: HEAD's history, files per commit, login commands."""

from __future__ import annotations

import re
from pathlib import Path

from labcheck.observe.model import Commit, InlinePassword, Unavailable, WorkspaceState
from labcheck.safe_git import git

MAX_COMMITS = 200
MAX_SCAN_BYTES = 256 * 1024
# `docker login` followed, on the same line, by -p / --password VALUE (not --password-stdin)
_INLINE = re.compile(r"docker\s+login\b[^\n#]*\s(-p|--password(?!-stdin)\b)(\s|=)")


def observe_workspace(path: Path, files: frozenset[str]) -> WorkspaceState | Unavailable:
    """HEAD's commits (newest first) with the requested files, and inline-password logins."""
    log = git(path, "log", f"--max-count={MAX_COMMITS}", "--format=%H%x00%s", "HEAD")
    if log.returncode != 0:
        reason = log.stderr.decode(errors="replace").strip().splitlines()
        return Unavailable(f"cannot read git history of {path}: {reason[-1] if reason else 'git failed'}")
    history = [line.partition("\x00") for line in log.stdout.decode(errors="replace").splitlines()]
    blobs = _blobs(path, [f"{sha}:{f}" for sha, _, _ in history for f in sorted(files)])
    commits = tuple(
        Commit(sha=sha, subject=subject, files={f: blobs.get(f"{sha}:{f}") for f in sorted(files)})
        for sha, _, subject in history
    )
    return WorkspaceState(path=str(path), commits=commits, inline_passwords=_inline_passwords(path))


def _blobs(path: Path, names: list[str]) -> dict[str, bytes]:
    """The bytes of each `commit:file` that is a file there, read by one `git cat-file --batch`
    (one git process, not one per commit and file): no textconv, no filters."""
    names = [n for n in names if "\n" not in n]  # one name a line
    if not names:
        return {}
    batch = git(path, "cat-file", "--batch", stdin="".join(f"{n}\n" for n in names).encode())
    out, pos, found = batch.stdout, 0, {}
    for name in names:  # `<oid> <type> <size>\n<bytes>\n`, or `<name> missing\n` (or ambiguous)
        end = out.find(b"\n", pos)
        if end < 0:
            break  # git stopped early (it failed): what is left is not there
        header = out[pos:end].split(b" ")
        pos = end + 1
        if len(header) == 3 and header[2].isdigit():
            size = int(header[2])
            if header[1] == b"blob":
                found[name] = out[pos : pos + size]
            pos += size + 1
    return found


def _inline_passwords(path: Path) -> tuple[InlinePassword, ...]:
    listed = git(path, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    found = []
    for name in sorted(set(listed.stdout.decode(errors="replace").split("\0")) - {""}):
        file = path / name
        try:
            if not file.is_file() or file.stat().st_size > MAX_SCAN_BYTES:
                continue
            text = file.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.lstrip().startswith("#") and _INLINE.search(line):  # comments run nothing
                found.append(InlinePassword(path=name, line=number))
    return tuple(found)


def is_git_repository(path: Path) -> bool:
    """True when `path` is inside a git work tree."""
    return git(path, "rev-parse", "--is-inside-work-tree").returncode == 0
