"""A learner who types every exercise's commands verbatim, in order, passes every check.

The commands are the lab's own instructions (labs/part7/lab.yaml, the same text the site's
lab pages and `labcheck hint` show), run against a fresh lab on free ports. Everything goes
through the command line of the labcheck under test: in CI, the wheel a learner installs.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine_kit import containerd_store
from installed import labcheck_argv
from labcheck.docker_host import throwaway_docker_config
from labcheck.environment.services import free_port
from labcheck.environment.state import LabState, load_state
from labcheck.registry import RegistryClient, media_types
from labcheck.session import load_lab
from labcheck.verify import local_tags, remove_new_tags

pytestmark = [pytest.mark.docker, pytest.mark.engine]
Completed = subprocess.CompletedProcess[str]
BASH_BLOCK = re.compile(r"```bash\n(.*?)```", re.S)
EXERCISE = re.compile(r"^## ([a-z0-9-]+): .*?\n(.*?)(?=^## |\Z)", re.S | re.M)


@pytest.fixture
def lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LabState]:
    monkeypatch.setenv("LABCHECK_STATE_DIR", str(tmp_path / "state"))
    instance = f"walk-{free_port()}"
    before = local_tags()
    ports = [f"--port={name}={free_port()}" for name in load_lab("part7").services]
    started = labcheck("up", "part7", "--instance", instance, *ports)
    state = load_state(instance)
    try:
        assert started.returncode == 0, started.stderr
        assert state is not None
        yield state
    finally:
        remove_new_tags(state, before)
        labcheck("down", "part7", "--instance", instance)


def labcheck(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*labcheck_argv(), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_the_instructions_verbatim_pass_every_check(lab: LabState, tmp_path: Path) -> None:
    # What a learner is told (`labcheck instructions`, the same text as the site's lab pages)...
    shown = labcheck("instructions", "part7", "--instance", lab.instance, "--for-this-engine")
    assert shown.returncode == 0, shown.stderr
    sections = {m[1]: m[2] for m in EXERCISE.finditer(shown.stdout)}
    spec = load_lab("part7")
    assert list(sections) == [ex.id for ex in spec.exercises]
    # An exercise that needs what this engine cannot do (a multi-platform build on the classic
    # image store) is left out, saying why: its commands would fail, and grading skips it.
    cannot = set() if containerd_store() else {ex.id for ex in spec.exercises if ex.requires}
    assert cannot <= {"multi-platform"}
    left_out = {ex_id for ex_id, text in sections.items() if "Left out: not on this engine:" in text}
    assert left_out == cannot
    assert all("```" not in sections[ex_id] and "classic image store" in sections[ex_id] for ex_id in cannot)
    script = "\n".join(BASH_BLOCK.findall(shown.stdout))
    assert script.count("docker push") >= 14  # the lesson's pushes, not a summary

    # ...typed verbatim, in order, in a fresh workspace, with the variables `labcheck env` gives...
    ws = tmp_path / "ws"
    assert labcheck("workspace", "part7", str(ws)).returncode == 0
    docker_config = throwaway_docker_config(tmp_path / "docker-config")  # the learner's plugins (buildx) stay
    exported = labcheck("env", "part7", "--instance", lab.instance)
    shell_env = subprocess.run(
        ["bash", "-c", f"{exported.stdout}\nenv -0"], capture_output=True, check=True, env=dict(os.environ)
    ).stdout.decode()
    env = dict(line.split("=", 1) for line in shell_env.split("\0") if "=" in line)
    env["DOCKER_CONFIG"] = str(docker_config)
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], cwd=ws, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]

    # ...passes every check when graded the way a learner grades: `labcheck run`.
    graded = labcheck("run", "part7", "--instance", lab.instance, "--format", "json", cwd=ws, env=env)
    report = json.loads(graded.stdout)
    not_passed = [
        f"{e['id']}/{c['id']}: {c['message']} {c['hint']}"
        for e in report["exercises"]
        for c in e["checks"]
        if c["status"] != "pass" and e["id"] not in cannot
    ]
    assert not_passed == []
    assert graded.returncode == 0
    skipped = {(e["id"], c["status"]) for e in report["exercises"] if e["id"] in cannot for c in e["checks"]}
    assert skipped == {(ex_id, "skip") for ex_id in cannot}
    reasons = {c["message"] for e in report["exercises"] if e["id"] in cannot for c in e["checks"]}
    assert all("classic image store" in r and '"containerd-snapshotter": true' in r for r in reasons)
    graded_points = sum(ex.max_points for ex in spec.exercises if ex.id not in cannot)
    assert report["score"]["points"] == report["score"]["max_points"] == graded_points

    # ...and what was graded is what the learner's engine pushes.
    with RegistryClient(lab.hosts()["registry"]) as client:
        pushed = client.manifest("my-app", "latest")
        release = client.manifest("my-app", "2.0.0") if containerd_store() else None
    if containerd_store():  # BuildKit (buildx kept in the learner's config) attests: an OCI index
        assert pushed.media_type == media_types.OCI_INDEX
        assert [c.is_attestation for c in pushed.children] == [False, True]
        assert release is not None  # one build for two platforms: an image and an attestation each
        assert [str(c.platform) for c in release.platform_children()] == ["linux/amd64", "linux/arm64"]
        assert len(release.children) == 4
    else:
        assert pushed.media_type == media_types.DOCKER_MANIFEST
