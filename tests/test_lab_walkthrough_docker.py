"""A learner who types every exercise's commands verbatim, in order, passes every check.

The commands are the lab's own instructions (labs/part7/lab.yaml, the same text the site's
lab pages and `labcheck hint` show), run against a fresh lab on free ports.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine_kit import containerd_store
from labcheck.docker_host import throwaway_docker_config
from labcheck.environment.lab import down, up
from labcheck.environment.services import free_port
from labcheck.environment.state import LabState
from labcheck.registry import RegistryClient, media_types
from labcheck.spec import load_lab
from labcheck.verify import local_tags, remove_new_tags
from labcheck.workspace import create_workspace

pytestmark = [pytest.mark.docker, pytest.mark.engine]
Completed = subprocess.CompletedProcess[str]
BASH_BLOCK = re.compile(r"```bash\n(.*?)```", re.S)


@pytest.fixture
def lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LabState]:
    monkeypatch.setenv("LABCHECK_STATE_DIR", str(tmp_path / "state"))
    instance = f"walk-{free_port()}"
    before = local_tags()
    state = up(load_lab("part7"), instance=instance, ephemeral_ports=True).state
    try:
        yield state
    finally:
        remove_new_tags(state, before)
        down(instance)


def labcheck(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "labcheck", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def test_the_instructions_verbatim_pass_every_check(lab: LabState, tmp_path: Path) -> None:
    # What a learner is told (`labcheck instructions`, the same text as the site's lab pages)...
    shown = labcheck("instructions", "part7", "--instance", lab.instance)
    assert shown.returncode == 0, shown.stderr
    script = "\n".join(BASH_BLOCK.findall(shown.stdout))
    assert script.count("docker push") >= 14  # the lesson's pushes, not a summary

    # ...typed verbatim, in order, in a fresh workspace...
    ws = create_workspace("part7", tmp_path / "ws")
    docker_config = throwaway_docker_config(tmp_path / "docker-config")  # the learner's plugins (buildx) stay
    env = {**os.environ, **lab.env(), "DOCKER_CONFIG": str(docker_config)}
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
        if c["status"] != "pass"
    ]
    assert not_passed == []
    assert graded.returncode == 0
    assert report["score"]["points"] == report["score"]["max_points"] == load_lab("part7").max_points

    # ...and what was graded is what the learner's engine pushes.
    with RegistryClient(lab.hosts()["registry"]) as client:
        pushed = client.manifest("my-app", "latest")
    if containerd_store():  # BuildKit (buildx kept in the learner's config) attests: an OCI index
        assert pushed.media_type == media_types.OCI_INDEX
        assert [c.is_attestation for c in pushed.children] == [False, True]
    else:
        assert pushed.media_type == media_types.DOCKER_MANIFEST
