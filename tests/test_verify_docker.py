"""`labcheck verify part7` on a real engine: the shipped solutions grade as declared, and a
solutions manifest that lies is caught."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from engine_kit import containerd_store
from installed import SOLUTIONS, labcheck_argv

pytestmark = [pytest.mark.docker, pytest.mark.engine]


def verify_containers() -> set[str]:
    """Containers of verify's own labs (other tests' labs may come and go meanwhile)."""
    out = subprocess.run(
        ["docker", "ps", "-a", "--filter", "label=io.labcheck.lab", "--format", "{{.Names}}"],
        capture_output=True,
        text=True,
    )
    return {name for name in out.stdout.split() if name.startswith("labcheck-part7-verify-")}


def verify(tmp_path: Path, *args: str, solutions: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LABCHECK_STATE_DIR": str(tmp_path / "state")}
    if solutions is not None:
        env["LABCHECK_SOLUTIONS_DIR"] = str(solutions)
    return subprocess.run(
        [*labcheck_argv(), "verify", "part7", *args], env=env, capture_output=True, text=True, timeout=1200
    )


#: The solutions of the multi-platform exercise: they need the containerd image store.
MULTI_PLATFORM = ("multi-platform", "one-platform", "tag-per-platform", "arm64-beside")


def test_every_shipped_solution_grades_as_declared(tmp_path: Path) -> None:
    done = verify(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    if containerd_store():
        assert "27 passed, 0 failed\n" in done.stdout
    else:  # the classic image store cannot build for two platforms: not run, and said so
        assert "23 passed, 0 failed, 4 skipped (not run on this engine)" in done.stdout
        skipped = [line.split()[1] for line in done.stdout.splitlines() if line.startswith("skip ")]
        assert skipped == list(MULTI_PLATFORM)
        assert done.stdout.count("not run on this engine: this Docker engine keeps its images in the classic") == 4
    assert verify_containers() == set(), "verify left lab containers behind"


def test_a_manifest_that_lies_fails_verify(tmp_path: Path) -> None:
    shipped = SOLUTIONS / "part7"
    fake = tmp_path / "solutions" / "part7"
    fake.mkdir(parents=True)
    shutil.copytree(shipped / "reference", fake / "reference")
    # The reference hub-publish declared as a mistake that should fail one-image: it does not.
    (fake / "solutions.yaml").write_text(
        "schema_version: 1\nlab: part7\nsolutions:\n"
        "  - name: liar\n    script: reference/hub-publish.sh\n    kind: mistake\n"
        "    exercises: [hub-publish]\n    fails:\n      hub-publish/one-image: rebuilt\n"
    )
    done = verify(tmp_path, solutions=tmp_path / "solutions")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "hub-publish/one-image should fail but is pass" in done.stdout
    assert "did not grade as declared: liar" in done.stderr
