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
    commits = []
    for line in log.stdout.decode(errors="replace").splitlines():
        sha, _, subject = line.partition("\x00")
        contents: dict[str, bytes | None] = {}
        for f in sorted(files):
            shown = git(path, "cat-file", "blob", f"{sha}:{f}")  # the bytes: no textconv, no filters
            contents[f] = shown.stdout if shown.returncode == 0 else None
        commits.append(Commit(sha=sha, subject=subject, files=contents))
    return WorkspaceState(path=str(path), commits=tuple(commits), inline_passwords=_inline_passwords(path))


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
