"""`labcheck run` end to end: its JSON and JUnit reports validate against the pinned schemas,
and text from outside (a workspace's path, a registry's tags) reaches neither the terminal
nor the XML with its control characters."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import xmlschema
from fake_registry import PROMOTE_TAGS, fake_registry
from jsonschema import Draft202012Validator

from labcheck.reporters.schema import report_schema

XSD = Path(__file__).parents[1] / "reporters" / "schemas" / "junit-10.xsd"
ESCAPES = "\x1b]0;owned\x07\x1b[2J"
FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def lc(tmp_path: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "LABCHECK_STATE_DIR": str(tmp_path / "state"), "NO_COLOR": "1"}
    env["DOCKER_CONFIG"] = str(tmp_path / "docker-config")
    env["DOCKER_HOST"] = f"unix://{tmp_path}/no-docker.sock"  # the daemon's checks: ERROR, never a hang
    (tmp_path / "docker-config").mkdir(exist_ok=True)
    return subprocess.run(
        [sys.executable, "-m", "labcheck", *args], env=env, cwd=cwd or tmp_path, capture_output=True, text=True
    )


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A git workspace whose folder name carries terminal escapes (a legal name on Linux)."""
    ws = tmp_path / f"ws{ESCAPES}"
    ws.mkdir()
    for args in (["init", "-q"], ["commit", "-q", "--allow-empty", "-m", "start"]):
        subprocess.run(["git", "-c", "user.name=L", "-c", "user.email=l@x", "-C", str(ws), *args], check=True)
    return ws


@pytest.mark.parametrize("exercise", ["promote", "git-sha", "hub-publish"])
def test_real_json_and_junit_reports_validate(tmp_path: Path, workspace: Path, exercise: str) -> None:
    with fake_registry("good", (*PROMOTE_TAGS, "abcdef1")) as registry:
        base = ("run", "part7", exercise, "--registry", registry, "--insecure", "--workspace", str(workspace))
        as_json = lc(tmp_path, *base, "--format", "json", "--learner", "alice")
        as_junit = lc(tmp_path, *base, "--format", "junit")
    assert as_json.returncode in (0, 1, 3) and "Traceback" not in as_json.stderr, as_json.stderr
    data = json.loads(as_json.stdout)
    Draft202012Validator(report_schema()).validate(data)
    assert data["learner"] == "alice" and data["lab"] == "part7"
    xmlschema.XMLSchema(str(XSD)).validate(as_junit.stdout)


def test_a_workspace_path_with_escapes_is_shown_not_run(tmp_path: Path, workspace: Path) -> None:
    """git-sha's hint names the workspace: the text report shows its escapes as \\x1b, the
    JUnit XML stays valid, the JSON keeps the exact path."""
    with fake_registry("good", ("abcdef1",)) as registry:
        base = ("run", "part7", "git-sha", "--registry", registry, "--insecure", "--workspace", str(workspace))
        text, junit, raw = (lc(tmp_path, *base, "--format", fmt) for fmt in ("text", "junit", "json"))
    assert "\\x1b]0;owned\\x07\\x1b[2J" in text.stdout, text.stdout
    for output in (text.stdout, text.stderr, junit.stdout, raw.stdout):
        assert not FORBIDDEN.search(output.replace("\n", "").replace("\t", ""))
    xmlschema.XMLSchema(str(XSD)).validate(junit.stdout)
    hints = [c["hint"] for ex in json.loads(raw.stdout)["exercises"] for c in ex["checks"]]
    assert any(str(workspace) in h for h in hints), hints  # JSON escapes it itself, and keeps it exact


def test_an_error_naming_such_a_path_is_one_escaped_line(tmp_path: Path) -> None:
    plain = tmp_path / f"not-git{ESCAPES}\nsecond line"
    plain.mkdir()
    done = lc(tmp_path, "run", "part7", "--workspace", str(plain), cwd=tmp_path)
    assert done.returncode == 2
    first, tip = done.stderr.splitlines()
    assert first.startswith("labcheck: error: --workspace ") and first.endswith(
        "\\nsecond line is not a git repository"
    )
    assert "\\x1b]0;owned\\x07" in first and not FORBIDDEN.search(done.stderr.replace("\n", ""))
    assert tip.startswith("tip: ")
