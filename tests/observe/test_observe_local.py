"""Observing the learner's machine: git history, inline passwords, Docker config logins."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from labcheck.observe.docker import logged_in_hosts
from labcheck.observe.model import Unavailable, WorkspaceState
from labcheck.observe.needs import Needs, merge
from labcheck.observe.workspace import observe_workspace


def git(path: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(path), *args], capture_output=True, text=True, check=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "config", "user.email", "t@example.invalid")
    git(tmp_path, "config", "user.name", "T")
    (tmp_path / "version.txt").write_text("1.0.0\n")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "first")
    (tmp_path / "version.txt").write_text("1.1.0\n")
    git(tmp_path, "commit", "-qam", "second")
    return tmp_path


def test_history_is_newest_first_with_files_per_commit(repo: Path) -> None:
    ws = observe_workspace(repo, frozenset({"version.txt", "missing.txt"}))
    assert isinstance(ws, WorkspaceState)
    assert [c.subject for c in ws.commits] == ["second", "first"]
    assert ws.commits[0].files == {"missing.txt": None, "version.txt": b"1.1.0\n"}
    assert ws.commits[1].files["version.txt"] == b"1.0.0\n"
    head = git(repo, "rev-parse", "--short", "HEAD").strip()
    assert ws.commit_for_tag(head) is ws.commits[0]
    assert ws.commit_for_tag(head.upper()) is ws.commits[0]
    assert ws.commit_for_tag(head[:6]) is None  # shorter than git's shortest short SHA
    assert ws.commit_for_tag("latest") is None


def test_files_are_read_as_git_cat_file_blob_reads_them_one_by_one(repo: Path) -> None:
    """One `cat-file --batch` for every commit and file gives what `cat-file blob` gives each:
    binary bytes and newlines kept, an empty file, a name with spaces, a directory (no file),
    a file deleted in a later commit, a missing one."""
    (repo / "bin.dat").write_bytes(b"\x00\x1f\x8b\nline\r\n\xff")
    (repo / "empty").write_bytes(b"")
    (repo / "with space.txt").write_text("spaced\n")
    (repo / "dir").mkdir()
    (repo / "dir" / "inner").write_text("x")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "third")
    git(repo, "rm", "-q", "bin.dat")
    git(repo, "commit", "-qm", "fourth")
    names = frozenset({"version.txt", "bin.dat", "empty", "with space.txt", "dir", "dir/inner", "missing.txt"})
    ws = observe_workspace(repo, names)
    assert isinstance(ws, WorkspaceState)
    assert len(ws.commits) == 4
    for commit in ws.commits:
        for name in names:
            one = subprocess.run(
                ["git", "-C", str(repo), "cat-file", "blob", f"{commit.sha}:{name}"], capture_output=True
            )
            assert commit.files[name] == (one.stdout if one.returncode == 0 else None), (commit.subject, name)
    assert ws.commits[1].files["bin.dat"] == b"\x00\x1f\x8b\nline\r\n\xff"
    assert ws.commits[0].files["bin.dat"] is None  # deleted
    assert ws.commits[1].files["dir"] is None  # a tree, not a file


@pytest.mark.parametrize(
    ("line", "flagged"),
    [
        ('docker login -u learner -p "$HUB_PASSWORD" localhost:5001', True),
        ("docker login localhost:5001 --password s3cret -u learner", True),
        ("docker login localhost:5001 --password=s3cret -u learner", True),
        ('echo "$HUB_PASSWORD" | docker login localhost:5001 -u learner --password-stdin', False),
        ("docker login localhost:5001", False),
        ("docker run -p 8080:8080 my-app", False),
        ("# never: docker login -p secret", False),
    ],
)
def test_inline_password_detection(repo: Path, line: str, flagged: bool) -> None:
    (repo / "publish.sh").write_text(f"#!/bin/sh\nset -e\n{line}\n")  # untracked files count too
    ws = observe_workspace(repo, frozenset())
    assert isinstance(ws, WorkspaceState)
    assert bool(ws.inline_passwords) is flagged
    if flagged:
        assert (ws.inline_passwords[0].path, ws.inline_passwords[0].line) == ("publish.sh", 3)


def test_not_a_repository_is_unavailable(tmp_path: Path) -> None:
    result = observe_workspace(tmp_path, frozenset())
    assert isinstance(result, Unavailable)
    assert "cannot read git history" in result.reason


def test_logged_in_hosts_reads_auths_keys(tmp_path: Path) -> None:
    assert logged_in_hosts(tmp_path) == frozenset()
    (tmp_path / "config.json").write_text(
        json.dumps({"auths": {"localhost:5001": {"auth": "eDp5"}, "https://index.docker.io/v1/": {}}})
    )
    assert logged_in_hosts(tmp_path) == frozenset({"localhost:5001", "index.docker.io"})
    (tmp_path / "config.json").write_text("{not json")
    assert logged_in_hosts(tmp_path) == frozenset()


def test_merge_unions_files_per_repository() -> None:
    merged = merge(
        [
            Needs(repos={("hub", "a"): frozenset({"/x"})}),
            Needs(repos={("hub", "a"): frozenset({"/y"}), ("registry", "b"): frozenset()}, docker=True),
            Needs(workspace_files=frozenset({"index.html"})),
        ]
    )
    assert merged.repos == {("hub", "a"): frozenset({"/x", "/y"}), ("registry", "b"): frozenset()}
    assert merged.docker is True
    assert merged.workspace_files == frozenset({"index.html"})
    assert merge([Needs()]).workspace_files is None
