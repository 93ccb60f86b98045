"""The CLI end to end on a real engine, as a learner uses it: up, push, run, stop, down."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from labcheck.docker_host import throwaway_docker_config
from labcheck.environment.services import free_port

pytestmark = pytest.mark.docker
LABCHECK = shutil.which("labcheck") or str(Path(__file__).parents[1] / ".venv" / "bin" / "labcheck")


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    e = {
        **os.environ,
        "LABCHECK_STATE_DIR": str(tmp_path / "state"),
        "DOCKER_CONFIG": str(tmp_path / "docker-config"),
        "NO_COLOR": "1",
    }
    throwaway_docker_config(tmp_path / "docker-config")
    yield e
    subprocess.run([LABCHECK, "down", "part7"], env=e, capture_output=True, check=False)


def lc(env: dict[str, str], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([LABCHECK, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)


def sh(cmd: str, env: dict[str, str], cwd: Path | None = None) -> str:
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", cmd], env=env, cwd=cwd, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def labelled_containers() -> list[str]:
    """The containers of this test's lab (the default instance, part7), running or not."""
    out = subprocess.run(
        ["docker", "ps", "-aq", "--filter", "label=io.labcheck.instance=part7"],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.split()


@pytest.mark.engine
def test_learner_flow_pass_fail_error_and_down(env: dict[str, str], tmp_path: Path) -> None:
    reg, hub = free_port(), free_port()
    others = [a for name in ("ecr", "ecr-api") for a in ("--port", f"{name}={free_port()}")]
    before = set(labelled_containers())
    up = lc(env, "up", "part7", "--port", f"registry={reg}", "--port", f"hub={hub}", *others)
    assert up.returncode == 0, up.stderr
    assert f"localhost:{reg}" in up.stdout
    exports = lc(env, "env", "part7").stdout
    password = next(line.split("=", 1)[1] for line in exports.splitlines() if "HUB_PASSWORD" in line)
    assert len(password) >= 16
    assert f"export REGISTRY=localhost:{reg}" in exports

    ws = tmp_path / "ws"
    assert lc(env, "workspace", "part7", str(ws)).returncode == 0

    # nothing pushed yet: a fail with a hint, exit 1
    empty = lc(env, "run", "part7", "local-registry", cwd=ws)
    assert empty.returncode == 1, empty.stdout + empty.stderr
    assert "FAIL  pushed" in empty.stdout
    assert "hint:" in empty.stdout

    image = f"localhost:{reg}/my-app:latest"
    sh(f"docker build -q -t my-app . && docker tag my-app:latest {image} && docker push {image}", env, ws)
    try:
        passed = lc(env, "run", "part7", "local-registry", cwd=ws)
        assert passed.returncode == 0, passed.stdout + passed.stderr
        assert "Score: 2/2 points" in passed.stdout

        junit = tmp_path / "report.xml"
        assert (
            lc(env, "run", "part7", "local-registry", "--format", "junit", "--output", str(junit), cwd=ws).returncode
            == 0
        )
        assert "<testcase" in junit.read_text()

        # the registry stops: we could not grade, exit 3, never a fail
        subprocess.run(["docker", "stop", "labcheck-part7-registry"], capture_output=True, check=True)
        stopped = lc(env, "run", "part7", "local-registry", cwd=ws)
        assert stopped.returncode == 3, stopped.stdout
        assert "ERROR pushed" in stopped.stdout
        assert "FAIL" not in stopped.stdout

        outputs = [up.stdout, up.stderr, empty.stdout, passed.stdout, stopped.stdout, junit.read_text()]
        outputs.append(lc(env, "status").stdout)
        assert not [o for o in outputs if password in o], "the hub password leaked into an output"
    finally:
        subprocess.run(["docker", "rmi", "-f", image], capture_output=True, check=False)

    down = lc(env, "down", "part7")
    assert down.returncode == 0
    assert set(labelled_containers()) == before
    assert "was not running" in lc(env, "down", "part7").stdout


def test_interrupted_up_leaves_nothing_behind(env: dict[str, str], tmp_path: Path) -> None:
    """Ctrl-C while `up` holds at its last step (every service running, the state not saved)."""
    before = set(labelled_containers())
    marker = tmp_path / "paused"
    proc = subprocess.Popen(
        [
            LABCHECK,
            "up",
            "part7",
            *(a for name in ("registry", "hub", "ecr", "ecr-api") for a in ("--port", f"{name}={free_port()}")),
        ],
        env={**env, "LABCHECK_PAUSE_AT": "save-lab-state", "LABCHECK_PAUSE_FILE": str(marker)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert marker.read_text().split() == [str(proc.pid), "part7"], "labcheck up never reached its pause point"
    assert len(set(labelled_containers()) - before) == 4  # registry, hub, the ECR front and its registry
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err
    assert "Traceback" not in err
    assert set(labelled_containers()) == before
    assert not (tmp_path / "state" / "part7.json").exists()
