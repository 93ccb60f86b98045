"""A learner who types every exercise's commands verbatim, in order, passes every check.

The commands are the lab's own instructions (labs/part7/lab.yaml, the same text the site's
lab pages and `labcheck hint` show), run against a fresh lab on free ports.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from labcheck.environment.lab import down, up
from labcheck.environment.services import free_port
from labcheck.environment.state import LabState
from labcheck.grading import grade
from labcheck.observe.gather import lab_targets
from labcheck.results import Status
from labcheck.spec import load_lab
from labcheck.spec.render import render_lab, template_context
from labcheck.verify import local_tags, remove_new_tags
from labcheck.workspace import create_workspace

pytestmark = pytest.mark.docker
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


def test_the_instructions_verbatim_pass_every_check(lab: LabState, tmp_path: Path) -> None:
    spec = load_lab("part7")
    users = {n: s.username for n, s in lab.services.items() if s.username}
    rendered = render_lab(spec, template_context(spec, lab.hosts(), users))
    script = "\n".join(block for ex in rendered.exercises for block in BASH_BLOCK.findall(ex.instructions))
    assert script.count("docker push") >= 14  # the lesson's pushes, not a summary

    ws = create_workspace("part7", tmp_path / "ws")
    docker_config = tmp_path / "docker-config"
    docker_config.mkdir()
    env = {**os.environ, **lab.env(), "DOCKER_CONFIG": str(docker_config)}
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], cwd=ws, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]

    targets = lab_targets(lab)  # the lab's logins, and the ECR registry's log
    result = grade(rendered, rendered.exercises, targets, workspace=ws, docker_config=str(docker_config))
    not_passed = [
        f"{e.id}/{c.id}: {c.message} {c.hint}"
        for e in result.exercises
        for c in e.checks
        if c.status is not Status.PASS
    ]
    assert not_passed == []
    assert result.points == result.max_points == spec.max_points
