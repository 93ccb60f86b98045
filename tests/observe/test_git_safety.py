"""labcheck reads a learner's git workspace without running what that workspace configures.

A real repository whose .git/config points every program-running key git has at a script
that leaves a marker file (and some GIT_* variables doing the same from the environment):
grading it, and creating a workspace, must leave no marker.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from labcheck.observe.workspace import is_git_repository, observe_workspace
from labcheck.safe_git import git
from labcheck.workspace import create_workspace


def sh(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=True, env=env)
    return done.stdout


@pytest.fixture
def markers(tmp_path: Path) -> Path:
    folder = tmp_path / "markers"
    folder.mkdir()
    return folder


def evil(tmp_path: Path, markers: Path, name: str) -> str:
    """A script that records that git ran it (as `name`), and otherwise behaves."""
    script = tmp_path / f"evil-{name}"
    script.write_text(f'#!/bin/sh\ntouch "{markers}/{name}"\ncat >/dev/null 2>&1\nexit 0\n')
    script.chmod(0o755)
    return str(script)


@pytest.fixture
def repo(tmp_path: Path, markers: Path) -> Iterator[Path]:
    """A workspace cloned from who knows where: a commit, an unsigned one claiming a
    signature, and a config that runs a script wherever git lets a config run one."""
    ws = tmp_path / "ws"
    ws.mkdir()
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    sh(ws, "git", "init", "-q", "-b", "main", env=clean_env)
    (ws / "Dockerfile").write_text("FROM busybox:stable\n")
    (ws / "push.sh").write_text("docker login -u me -p hunter2 localhost:5001\n")
    (ws / ".gitattributes").write_text("* diff=evil filter=evil\n")
    sh(ws, "git", "add", "-A", env=clean_env)
    sh(ws, "git", "-c", "user.name=L", "-c", "user.email=l@x", "commit", "-qm", "app", env=clean_env)
    # a commit object with a gpgsig header: `git log --show-signature` hands it to gpg.program
    tree = sh(ws, "git", "rev-parse", "HEAD^{tree}", env=clean_env).strip()
    head = sh(ws, "git", "rev-parse", "HEAD", env=clean_env).strip()
    signed = (
        f"tree {tree}\nparent {head}\nauthor L <l@x> 1700000000 +0000\ncommitter L <l@x> 1700000000 +0000\n"
        "gpgsig -----BEGIN PGP SIGNATURE-----\n \n -----END PGP SIGNATURE-----\n\nsigned\n"
    )
    sha = (
        subprocess.run(
            ["git", "hash-object", "-t", "commit", "-w", "--stdin"], cwd=ws, input=signed.encode(), capture_output=True
        )
        .stdout.decode()
        .strip()
    )
    sh(ws, "git", "update-ref", "HEAD", sha, env=clean_env)
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    for hook in ("pre-commit", "post-checkout", "post-index-change", "reference-transaction", "pre-auto-gc"):
        (hooks / hook).symlink_to(evil(tmp_path, markers, f"hook-{hook}"))
    settings = {
        "core.fsmonitor": evil(tmp_path, markers, "fsmonitor"),
        "core.pager": evil(tmp_path, markers, "pager"),
        "core.sshCommand": evil(tmp_path, markers, "ssh"),
        "core.gitProxy": evil(tmp_path, markers, "proxy"),
        "core.askPass": evil(tmp_path, markers, "askpass"),
        "core.editor": evil(tmp_path, markers, "editor"),
        "core.hooksPath": str(hooks),
        "diff.external": evil(tmp_path, markers, "diff-external"),
        "diff.evil.textconv": evil(tmp_path, markers, "textconv"),
        "diff.evil.command": evil(tmp_path, markers, "diff-command"),
        "filter.evil.clean": evil(tmp_path, markers, "clean"),
        "filter.evil.smudge": evil(tmp_path, markers, "smudge"),
        "filter.evil.process": evil(tmp_path, markers, "process"),
        "log.showSignature": "true",
        "gpg.program": evil(tmp_path, markers, "gpg"),
        "credential.helper": evil(tmp_path, markers, "credential"),
        "pager.log": evil(tmp_path, markers, "pager-log"),
    }
    for key, value in settings.items():
        sh(ws, "git", "config", key, value, env=clean_env)
    yield ws


@pytest.fixture
def hostile_env(tmp_path: Path, markers: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """GIT_* variables in labcheck's own environment that would run a program, or inject config."""
    monkeypatch.setenv("GIT_EXTERNAL_DIFF", evil(tmp_path, markers, "env-external-diff"))
    monkeypatch.setenv("GIT_PAGER", evil(tmp_path, markers, "env-pager"))
    monkeypatch.setenv("GIT_SSH_COMMAND", evil(tmp_path, markers, "env-ssh"))
    monkeypatch.setenv("GIT_ASKPASS", evil(tmp_path, markers, "env-askpass"))
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "core.fsmonitor")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", evil(tmp_path, markers, "env-config-fsmonitor"))
    monkeypatch.setenv("GIT_CONFIG_PARAMETERS", f"'core.fsmonitor'='{evil(tmp_path, markers, 'env-params')}'")
    monkeypatch.setenv("GIT_DIR", str(tmp_path / "nowhere"))  # would make every command fail


def test_the_script_really_runs_when_git_is_run_plainly(repo: Path, markers: Path) -> None:
    """The trap is real: plain git commands of the kind labcheck runs do run it."""
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    subprocess.run(["git", "-C", str(repo), "ls-files", "--others"], capture_output=True, env=clean_env)
    subprocess.run(["git", "-C", str(repo), "log", "--format=%H", "HEAD"], capture_output=True, env=clean_env)
    subprocess.run(["git", "-C", str(repo), "show", "HEAD:Dockerfile"], capture_output=True, env=clean_env)
    assert {"fsmonitor", "gpg"} <= {p.name for p in markers.iterdir()}


def test_grading_a_workspace_runs_nothing_it_configures(repo: Path, markers: Path, hostile_env: None) -> None:
    assert is_git_repository(repo)
    seen = observe_workspace(repo, frozenset({"Dockerfile", "missing.txt"}))
    assert not isinstance(seen, str) and hasattr(seen, "commits"), seen
    assert [c.subject for c in seen.commits] == ["signed", "app"]
    assert seen.commits[0].files == {"Dockerfile": b"FROM busybox:stable\n", "missing.txt": None}  # raw bytes
    assert [(p.path, p.line) for p in seen.inline_passwords] == [("push.sh", 1)]
    assert sorted(p.name for p in markers.iterdir()) == []


def test_creating_a_workspace_runs_nothing_from_the_environment(
    tmp_path: Path, markers: Path, hostile_env: None
) -> None:
    ws = create_workspace("part7", tmp_path / "new-ws")
    assert git(ws, "log", "--format=%s").stdout.decode().strip() == "my-app as handed out for lab part7"
    assert sorted(p.name for p in markers.iterdir()) == []


def test_git_missing_or_slow_is_a_failed_command_not_a_crash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no git on it
    missing = git(tmp_path, "status")
    assert (missing.returncode, missing.stderr) == (127, b"git is not installed")
    assert observe_workspace(tmp_path, frozenset()).reason.endswith("git is not installed")  # type: ignore[union-attr]
    slow = tmp_path / "git"
    slow.write_text("#!/bin/sh\nexec /bin/sleep 5\n")
    slow.chmod(0o755)
    timed_out = git(tmp_path, "log", timeout=0.2)
    assert (timed_out.returncode, timed_out.stderr) == (124, b"git log took more than 0.2 s")
