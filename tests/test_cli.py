"""The CLI without Docker: help, listing, usage errors and their exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cli_kit import call
from labcheck.session import load_lab
from labcheck.spec.render import example_context, render_lab


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = call(capsys, "--help")
    assert code == 0
    for command in ("list", "up", "down", "status", "env", "run", "hint", "verify", "workspace", "docs"):
        assert f"  {command}" in out


def test_list(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = call(capsys, "list")
    assert code == 0
    assert "part7" in out
    assert "pull-by-version" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("run", "part8"), "unknown lab 'part8'"),
        (("run", "part7", "no-such-exercise"), "unknown exercise 'no-such-exercise'"),
        (("hint", "part7", "nope"), "unknown exercise 'nope'"),
        (("up", "part7", "--port", "registry=abc"), "expected SERVICE=PORT"),
        (("up", "part7", "--port", "99999"), "expected SERVICE=PORT"),
        (("run", "part7", "--format", "xml"), "'xml' is not one of"),
        (("run", "part7", "--workspace", "/nonexistent/dir"), "is not a git repository"),
        (("frobnicate",), "No such command"),
        (("up", "part7", "--host", "0.0.0.0"), "--host 0.0.0.0 would publish the lab's registries beyond this machine"),
        (
            ("class", "up", "part7", "--roster", "roster.csv", "--host", "192.168.1.5"),
            "--host 192.168.1.5 would publish the class registry beyond this machine",
        ),
        (("run", "part7", "ecr", "--ecr-region", "us-east-1"), "--ecr-region needs --registry"),
        (("run", "part7", "--registry", "localhost:5002", "--ecr-region", "mars"), "not an AWS region name"),
        (
            ("run", "part7", "--registry", "123456789012.dkr.ecr.eu-west-1.amazonaws.com", "--ecr-region", "us-east-1"),
            "does not match the region",
        ),
    ],
)
def test_usage_errors_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    code, out, err = call(capsys, *args)
    assert code == 2
    assert message in err
    assert "Traceback" not in err + out


def test_broken_spec_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    spec = tmp_path / "lab.yaml"
    spec.write_text("schema_version: 1\nid: x\n")
    code, _, err = call(capsys, "hint", str(spec), "x")
    assert code == 2
    assert f"labcheck: error: {spec}:" in err


def test_run_without_a_running_lab_exits_3(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LABCHECK_STATE_DIR", str(tmp_path))
    code, _, err = call(capsys, "run", "part7")
    assert code == 3
    assert "lab 'part7' is not running" in err
    assert "labcheck up part7" in err


def test_an_ecr_registry_without_aws_credentials_exits_3(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    code, out, err = call(capsys, "run", "part7", "ecr", "--registry", "123456789012.dkr.ecr.eu-west-1.amazonaws.com")
    assert code == 3
    assert err.startswith("labcheck: error: no AWS credentials to ask ECR in eu-west-1 for a login token\n")
    assert "aws configure" in err
    assert "Traceback" not in out + err


def test_hint_gives_help_one_level_at_a_time(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LABCHECK_STATE_DIR", str(tmp_path))
    solved = "docker tag localhost:5000/myapp:1.2.3 localhost:5000/myapp:production"
    code, out, _ = call(capsys, "hint", "part7", "promote")
    assert code == 0
    assert "1.2.3, staging and production are one image" in out  # what is graded, always
    assert "Hint (1 of 3):" in out and "Build once, promote by retagging" in out
    assert solved not in out and "docker tag IMAGE" not in out
    assert "More help: labcheck hint part7 promote --level 2" in out
    code, out, _ = call(capsys, "hint", "part7", "promote", "--level", "2")
    assert code == 0
    assert "Hint (2 of 3):" in out and "    docker tag IMAGE:VERSION IMAGE:ENVIRONMENT" in out
    assert solved not in out and "```" not in out  # code is indented for the terminal
    assert "More help: labcheck hint part7 promote --solution" in out
    code, out, _ = call(capsys, "hint", "part7", "promote", "--solution")
    assert code == 0
    assert "Solution (3 of 3):" in out and f"    {solved}" in out and "More help" not in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--level", "4"), "has 3 hint level(s); there is no level 4"),
        (("--level", "2", "--solution"), "--level and --solution do not go together"),
    ],
)
def test_hint_refuses_a_level_it_does_not_have(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: tuple[str, ...],
    message: str,
) -> None:
    monkeypatch.setenv("LABCHECK_STATE_DIR", str(tmp_path))
    code, out, err = call(capsys, "hint", "part7", "promote", *args)
    assert code == 2 and out == ""
    assert message in err


def test_hint_uses_the_learners_own_values(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LABCHECK_STATE_DIR", str(tmp_path))
    spec = load_lab("part7")
    values = render_lab(spec, example_context(spec, "alice")).exercise("semver-latest")
    assert values is not None
    code, out, _ = call(capsys, "hint", "part7", "semver-latest", "--learner", "alice", "--level", "2")
    assert code == 0
    assert values.goal.split("`")[1] in out  # alice's repository, in the goal and the hint
    code, out, _ = call(capsys, "hint", "part7", "semver-latest", "--learner", "alice", "--solution")
    next_version = example_context(spec, "alice")["next_version"]
    assert f'echo "{next_version.removeprefix("v")}" > version.txt' in out
    assert f"docker push localhost:5001/learner/{example_context(spec, 'alice')['app']}:{next_version}" in out


def test_workspace_is_a_git_repository_with_the_app(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    dest = tmp_path / "ws"
    code, _, _ = call(capsys, "workspace", "part7", str(dest))
    assert code == 0
    assert (dest / "Dockerfile").is_file()
    log = subprocess.run(["git", "-C", str(dest), "log", "--oneline"], capture_output=True, text=True, check=True)
    assert len(log.stdout.splitlines()) == 1
    code, _, err = call(capsys, "workspace", "part7", str(dest))
    assert code == 2
    assert "not empty" in err


def test_help_starts_fast_without_heavy_imports() -> None:
    # What --help imports decides start-up time; measured in bench/, here only the imports.
    heavy = "{'docker', 'testcontainers', 'httpx', 'pydantic', 'jinja2'}"
    code = f"import sys; import labcheck.cli; print(sorted(m for m in sys.modules if m.split('.')[0] in {heavy}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_watch_shows_a_skipped_exercise_with_its_reason_beside_graded_ones() -> None:
    """On the classic image store the multi-platform exercise is skipped: watch says so, once,
    and marks each graded check (it crashed on the first SKIP once)."""
    from labcheck.cli.learner import watch_lines
    from labcheck.results import CheckResult, ExerciseResult, LabResult, Status

    def check(status: Status, message: str = "") -> CheckResult:
        return CheckResult(f"c-{status.value}", f"a {status.value} check", status, 0, 1, message)

    result = LabResult(
        "part7",
        "Docker registries",
        (
            ExerciseResult(
                "hub-publish", "Publish", "docker-hub", tuple(map(check, (Status.PASS, Status.FAIL, Status.ERROR)))
            ),
            ExerciseResult(
                "multi-platform", "Multi", "images", (check(Status.SKIP, "needs the containerd image store"),)
            ),
        ),
    )
    lines = watch_lines("part7", result, color=False)
    assert "  hub-publish 0/3" in lines
    assert [ln.strip()[0] for ln in lines if ln.startswith("    ")] == ["✔", "✘", "?"]
    assert "- multi-platform skipped: needs the containerd image store" in lines
