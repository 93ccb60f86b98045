"""Create a learner's workspace: a git repository holding a copy of the lab's app."""

from __future__ import annotations

import shutil
from pathlib import Path

from labcheck.errors import UsageError, WorkspaceError
from labcheck.safe_git import git as run_git
from labcheck.spec.loader import lab_path


def app_dir(lab: str) -> Path:
    """The lab's app folder (`<lab>/app` beside its lab.yaml); `lab` is an id or a path."""
    return lab_path(lab).parent / "app"


def create_workspace(lab: str, dest: Path) -> Path:
    """Copy the app into `dest` (new or empty), `git init` it and commit; returns dest."""
    source = app_dir(lab)
    if not source.is_dir():
        raise UsageError(f"lab {lab!r} has no app folder ({source})")
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise WorkspaceError(f"{dest} exists and is not empty", tip="choose a new folder for the workspace")
    shutil.copytree(source, dest, dirs_exist_ok=True)

    def git(*args: str) -> None:
        done = run_git(dest, *args)
        if done.returncode != 0:
            last = done.stderr.decode(errors="replace").strip().splitlines()[-1:]
            raise WorkspaceError(f"git {args[0]} failed in {dest}: {last}")

    git("init", "-q", "-b", "main")
    for key, value in (("user.name", "Lab Learner"), ("user.email", "learner@labcheck.invalid")):
        if run_git(dest, "config", key).returncode != 0:  # keep the learner's own identity when git has one
            git("config", key, value)
    git("add", "-A")
    git("commit", "-q", "-m", f"my-app as handed out for lab {lab}")
    return dest
