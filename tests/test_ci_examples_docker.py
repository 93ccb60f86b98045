"""The CI examples a learner copies (examples/ci/) work: their shell steps, run in order in a
learner's repository, install labcheck, start the lab, run the learner's solution and write a
JUnit report in which every check passed.

GitHub and GitLab cannot be reached from here, so their runners are played by this machine:
each `run:` step (GitHub) or `script:`/`after_script:` line (GitLab) runs in its own bash, as
the runners do, with the job's variables. What only prepares the runner's image (GitLab's
`before_script`: apk add) and the `uses:` actions are not run. LABCHECK_PACKAGE is the wheel
under test, installed with pipx into a fresh PIPX_HOME.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

from installed import ROOT, labcheck_argv

pytestmark = pytest.mark.docker
EXAMPLES = ROOT / "examples" / "ci"


def github_steps() -> tuple[dict[str, str], list[tuple[str, bool]]]:
    job = yaml.safe_load((EXAMPLES / "github-actions.yml").read_text())["jobs"]["grade"]
    steps = [(s["run"], s.get("if") == "always()") for s in job["steps"] if "run" in s]
    return dict(job.get("env") or {}), steps


def gitlab_steps() -> tuple[dict[str, str], list[tuple[str, bool]]]:
    job = yaml.safe_load((EXAMPLES / "gitlab-ci.yml").read_text())["grade"]
    steps = [(line, False) for line in job["script"]]
    # after_script runs whatever happened, in a fresh shell: its PATH line comes first
    steps.append(("\n".join(job["after_script"]), True))
    return dict(job.get("variables") or {}), steps


@pytest.fixture
def learner_repo(tmp_path: Path) -> Path:
    """A learner's repository: the lab workspace plus solution.sh, the lab's commands typed in advance."""
    env = {**os.environ, "LABCHECK_STATE_DIR": str(tmp_path / "nothing-running")}
    repo = tmp_path / "repo"
    subprocess.run([*labcheck_argv(), "workspace", "part7", str(repo)], env=env, check=True, capture_output=True)
    shown = subprocess.run(
        [*labcheck_argv(), "instructions", "part7", "--for-this-engine"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    blocks = [b.split("```", 1)[0] for b in shown.split("```bash\n")[1:]]
    (repo / "solution.sh").write_text("\n".join(blocks))
    return repo


@pytest.mark.parametrize("example", ["github", "gitlab"])
def test_the_ci_example_grades_a_learners_solution(example: str, learner_repo: Path, tmp_path: Path) -> None:
    wheel = os.environ.get("LABCHECK_WHEEL")
    if not wheel:
        pytest.skip("LABCHECK_WHEEL is not set: `make test` builds the wheel and sets it")
    variables, steps = github_steps() if example == "github" else gitlab_steps()
    home = tmp_path / "home"
    env: dict[str, Any] = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("LABCHECK_", "DOCKER_CONFIG"))},
        **variables,
        "LABCHECK_PACKAGE": wheel,
        "HOME": str(home),
        # the runner's own pip cache (a CI runner keeps one too): the install needs no new downloads
        "PIP_CACHE_DIR": os.environ.get("PIP_CACHE_DIR") or str(Path.home() / ".cache" / "pip"),
        "PIPX_HOME": str(tmp_path / "pipx"),
        "PIPX_BIN_DIR": str(home / ".local" / "bin"),  # where pipx puts labcheck on a runner
        # the runners have pipx: this test's is beside its Python
        "PATH": os.pathsep.join([str(home / ".local" / "bin"), os.environ["PATH"], str(Path(sys.executable).parent)]),
        "DOCKER_CONFIG": str(tmp_path / "docker-config"),
    }
    failed: str | None = None
    log = []
    for script, always in steps:
        if failed and not always:
            continue
        done = subprocess.run(
            ["bash", "-eo", "pipefail", "-c", script],
            cwd=learner_repo,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        log.append(f"$ {script}\n{done.stdout[-1500:]}{done.stderr[-1500:]}")
        if done.returncode != 0 and failed is None:
            failed = script
    assert failed is None, "\n".join(log)
    suite = ET.parse(learner_repo / "report.xml").getroot()
    cases = suite.findall(".//testcase")
    assert len(cases) >= 20
    assert [c.get("name") for c in cases if c.find("failure") is not None or c.find("error") is not None] == []
    leftovers = subprocess.run(
        ["docker", "ps", "-aq", "--filter", "label=io.labcheck.instance=part7"], capture_output=True, text=True
    ).stdout.split()
    assert leftovers == [], "the example's last step did not stop the lab"
