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


#: Before the reference script, the registry of the lab is made to fail as registry:2 does
#: when it reads a tag's link file while it is being written (an empty link: a real 500,
#: "invalid checksum digest format"), and the learner's pull meets it. `once`: only in the
#: first lab, as a flake would.
SABOTAGE = """#!/usr/bin/env bash
set -euo pipefail
if [ "$SABOTAGE" = always ] || [ ! -e "$SABOTAGE_DIR/done" ]; then
  touch "$SABOTAGE_DIR/done"
  registry=$(docker ps -q --filter "publish=${REGISTRY##*:}")
  docker cp "$SABOTAGE_DIR/docker" "$registry:/var/lib/registry/"
  docker pull "$REGISTRY/${LAB_APP}:broken"
fi
"""


@pytest.mark.parametrize("sabotage", ["once", "always"])
def test_a_registry_failing_under_a_solution_is_retried_never_blamed_on_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sabotage: str
) -> None:
    """verify met a registry:2 answering 500 under a buildx push in CI (tag-per-platform): a
    failure of the lab, not of the solution. It reruns the solution once in a fresh lab; a
    registry failing twice is exit 3 with the registry's answer, never "did not grade"."""
    solutions = tmp_path / "solutions" / "part7"
    solutions.mkdir(parents=True)
    reference = (SOLUTIONS / "part7" / "reference" / "local-registry.sh").read_text()
    (solutions / "flaky.sh").write_text(SABOTAGE + reference.split("set -euo pipefail", 1)[1])
    (solutions / "solutions.yaml").write_text(
        "schema_version: 1\nlab: part7\nsolutions:\n"
        "  - name: flaky\n    script: flaky.sh\n    kind: reference\n    exercises: [local-registry]\n"
    )
    link = tmp_path / "sabotage" / "docker/registry/v2/repositories/my-app/_manifests/tags/broken/current/link"
    link.parent.mkdir(parents=True)
    link.write_text("")
    monkeypatch.setenv("SABOTAGE", sabotage)
    monkeypatch.setenv("SABOTAGE_DIR", str(tmp_path / "sabotage"))

    done = verify(tmp_path, solutions=tmp_path / "solutions")

    said = "again flaky: the lab's registry failed while the script ran (HEAD /v2/my-app/manifests/broken: 500 "
    assert said in done.stdout, done.stdout + done.stderr
    if sabotage == "once":
        assert done.returncode == 0, done.stdout + done.stderr
        assert "ok   flaky (reference: local-registry)" in done.stdout
        assert "1 passed, 0 failed" in done.stdout
    else:
        assert done.returncode == 3, done.stdout + done.stderr
        assert "the lab's registry logged: HEAD /v2/my-app/manifests/broken: 500 invalid checksum digest format" in (
            done.stdout
        )
        assert "the lab's registry failed under flaky, twice: they could not be verified" in done.stderr
        assert "did not grade as declared" not in done.stderr
    assert verify_containers() == set(), "verify left lab containers behind"
