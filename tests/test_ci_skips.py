"""The CI skip guard (tests/ci_skips.py), run on a small suite of its own in a child pytest."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
SUITE = """\
import pytest

def test_runs():
    pass

def test_needs_a_gpu():
    pytest.skip("no GPU on this machine")

@pytest.mark.skipif(True, reason="Windows only")
def test_windows():
    pass

@pytest.mark.xfail(reason="known bug 12")
def test_known_bug():
    assert False
"""


def run_suite(tmp_path: Path, ci: str | None, allowed: str = "", extra: str = "") -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_suite.py").write_text(SUITE)
    if extra:
        (tmp_path / "test_extra.py").write_text(extra)
    (tmp_path / "allowed.txt").write_text(allowed)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.update(LABCHECK_ALLOWED_SKIPS=str(tmp_path / "allowed.txt"), PYTHONPATH=str(TESTS))
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "ci_skips", "-p", "no:cacheprovider", "-q", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("ci", [None, "false"])
def test_off_ci_skips_are_only_reported(tmp_path: Path, ci: str | None) -> None:
    done = run_suite(tmp_path, ci)
    assert done.returncode == 0, done.stdout
    assert "2 skipped" in done.stdout and "1 xfailed" in done.stdout


@pytest.mark.parametrize("ci", ["true", "1"])
def test_on_ci_an_unallowed_skip_fails_the_run_and_is_named(tmp_path: Path, ci: str) -> None:
    done = run_suite(tmp_path, ci)
    assert done.returncode == 1, done.stdout
    assert "skipped on CI without leave" in done.stdout
    assert "test_suite.py::test_needs_a_gpu: no GPU on this machine" in done.stdout
    assert "test_suite.py::test_windows: Windows only" in done.stdout
    assert "test_suite.py::test_known_bug: known bug 12" in done.stdout


def test_on_ci_allowed_reasons_pass(tmp_path: Path) -> None:
    allowed = (
        "# comments and blank lines are fine\n\n"
        "^no GPU  # this CI machine has no GPU\n"
        "Windows only  # CI runs Linux\n"
        "known bug \\d+  # tracked upstream\n"
    )
    done = run_suite(tmp_path, "true", allowed)
    assert done.returncode == 0, done.stdout


def test_on_ci_one_allowed_reason_does_not_allow_the_others(tmp_path: Path) -> None:
    done = run_suite(tmp_path, "true", "^no GPU  # this CI machine has no GPU\n")
    assert done.returncode == 1
    assert "test_needs_a_gpu" not in done.stdout.split("skipped on CI without leave")[1]
    assert "test_windows: Windows only" in done.stdout


def test_on_ci_a_module_skipped_at_import_fails_the_run(tmp_path: Path) -> None:
    extra = "import pytest\nboto3 = pytest.importorskip('no_such_module_labcheck')\n\ndef test_x():\n    pass\n"
    done = run_suite(tmp_path, "true", "^no GPU  # x\nWindows  # x\nknown bug  # x\n", extra)
    assert done.returncode == 1, done.stdout
    assert "test_extra.py: could not import 'no_such_module_labcheck'" in done.stdout


def test_an_allowed_entry_must_say_why(tmp_path: Path) -> None:
    done = run_suite(tmp_path, "true", "^no GPU\n")
    assert done.returncode == 4, done.stdout + done.stderr  # a usage error
    assert "allowed.txt:1: say why this skip is allowed" in done.stderr


def test_a_failing_run_stays_failed(tmp_path: Path) -> None:
    done = run_suite(tmp_path, "true", extra="def test_broken():\n    assert False\n")
    assert done.returncode == 1


def test_this_machines_list_allows_nothing_without_a_reason() -> None:
    from ci_skips import ALLOWED_FILE, read_allowed

    read_allowed(ALLOWED_FILE)  # every entry says why
