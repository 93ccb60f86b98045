"""`labcheck doctor` on a real engine: ready when it is, and a port a container holds is named."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path

import pytest

from installed import labcheck_argv
from labcheck.environment.services import free_port

pytestmark = pytest.mark.docker


def doctor(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LABCHECK_STATE_DIR": str(tmp_path / "state")}
    return subprocess.run(
        [*labcheck_argv(), "doctor", "part7", *args], env=env, capture_output=True, text=True, timeout=120
    )


def ports(*taken: int) -> list[str]:
    chosen = iter([*taken, *(free_port() for _ in range(4))])
    return [f"--port={name}={next(chosen)}" for name in ("registry", "hub", "ecr-api", "ecr")]


def test_a_machine_that_can_run_the_lab_is_ready(tmp_path: Path) -> None:
    done = doctor(tmp_path, *ports(), "--format", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    status = {c["id"]: c["status"] for c in report["checks"]}
    assert status["docker-cli"] == status["git"] == status["image:registry:2"] == status["image:busybox:stable"] == "ok"
    assert status["docker-engine"] in ("ok", "warn")  # warn: Debian 12's 20.10 is old
    assert all(status[f"port:{s}"] == "ok" for s in ("registry", "hub", "ecr-api", "ecr"))


def test_a_port_in_use_fails_with_the_port_option_to_use(tmp_path: Path) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        taken = blocker.getsockname()[1]
        done = doctor(tmp_path, *ports(taken))
    assert done.returncode == 1, done.stdout + done.stderr
    line = next(ln for ln in done.stdout.splitlines() if f"port {taken} (registry)" in ln)
    assert line.lstrip().startswith("FAIL") and "in use by another program" in line
    assert f"labcheck up part7 --port registry={taken + 50}" in done.stdout
    assert "not ready: 1 problem(s)" in done.stdout
