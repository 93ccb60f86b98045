"""The multi-platform exercise against the learner's real engine: `docker buildx build --push`
graded from a real registry:2 where the engine can build for two platforms (the containerd image
store), and skipped, saying why and how to fix it, where it cannot (the classic store)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine_kit import containerd_store
from labcheck.observe.gather import Target
from labcheck.results import ExerciseResult, Status
from labcheck.session import load_lab, prepare
from labcheck.workspace import create_workspace
from registry_kit import running_registry

pytestmark = [pytest.mark.docker, pytest.mark.engine]


@pytest.fixture
def registry() -> Iterator[str]:
    with running_registry(name="mp-test") as port:
        host = f"localhost:{port}"
        try:
            yield host
        finally:  # the containerd store keeps what buildx pushed under the registry's name
            listed = subprocess.run(
                ["docker", "images", "--format", "{{.Repository}}:{{.Tag}}", f"{host}/my-app"],
                capture_output=True,
                text=True,
            ).stdout.split()
            if listed:
                subprocess.run(["docker", "rmi", *listed], capture_output=True)


def grade(registry: str, workspace: Path) -> ExerciseResult:
    prepared = prepare(
        load_lab("part7"), addresses={"registry": registry}, targets={"registry": Target(registry, insecure=True)}
    )
    return prepared.grade(["multi-platform"], workspace=workspace).exercises[0]


def buildx(workspace: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", "buildx", "build", *args, "."], cwd=workspace, capture_output=True, text=True, timeout=300
    )


def test_a_multi_platform_push_is_graded_where_the_engine_builds_it(registry: str, tmp_path: Path) -> None:
    ws = create_workspace("part7", tmp_path / "ws")
    release = f"{registry}/my-app:2.0.0"
    if not containerd_store():
        # the classic store: buildx (if installed at all) cannot build two platforms with the
        # default builder; nothing is failed, every check says why and how to fix it
        tried = buildx(ws, "--platform", "linux/amd64,linux/arm64", "-t", release, "--push")
        assert tried.returncode != 0
        result = grade(registry, ws)
        assert {c.status for c in result.checks} == {Status.SKIP}
        assert result.skipped and result.max_points == 0
        assert all("classic image store" in c.message and "containerd-snapshotter" in c.message for c in result.checks)
        return

    # one platform only: an index (the attestation makes it one), without arm64
    done = buildx(ws, "--platform", "linux/amd64", "-t", release, "--push")
    assert done.returncode == 0, done.stderr[-2000:]
    one = {c.id: c for c in grade(registry, ws).checks}
    statuses = {i: c.status for i, c in one.items()}
    assert statuses == {"index": Status.PASS, "platforms": Status.FAIL, "lab-app": Status.PASS}
    assert one["platforms"].hint.startswith(f"{release} holds linux/amd64 only: linux/arm64 was not built.")

    # the lesson's command: one index, both platforms, each config saying its own
    done = buildx(ws, "--platform", "linux/amd64,linux/arm64", "-t", release, "--push")
    assert done.returncode == 0, done.stderr[-2000:]
    both = {c.id: c for c in grade(registry, ws).checks}
    assert {c.status for c in both.values()} == {Status.PASS}, [c.hint for c in both.values()]
    assert both["platforms"].message == f"{release} holds linux/amd64, linux/arm64, each config saying its platform"

    # what labcheck read is what buildx's own registry reader says the tag is
    shown = subprocess.run(
        ["docker", "buildx", "imagetools", "inspect", release, "--format", "{{json .}}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    inspected = json.loads(shown.stdout)
    assert both["index"].evidence[release] == inspected["manifest"]["digest"]
    platforms = {p: img["architecture"] for p, img in inspected["image"].items()}
    assert platforms == {"linux/amd64": "amd64", "linux/arm64": "arm64"}
