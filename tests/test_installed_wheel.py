"""What a learner installs: the wheel carries the whole product, and its `labcheck` works
from anywhere, with no checkout and no extras (LABCHECK_BIN, set by `make test`)."""

from __future__ import annotations

import json
import os
import subprocess
import zipfile
from pathlib import Path

import pytest
import yaml

from installed import ROOT
from labcheck.environment.services import free_port


@pytest.fixture(scope="module")
def installed() -> Path:
    path = os.environ.get("LABCHECK_BIN")
    if not path:
        pytest.skip("LABCHECK_BIN is not set: `make test` installs the wheel with pipx and sets it")
    return Path(path)


def run(installed: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LABCHECK_")}
    env["LABCHECK_STATE_DIR"] = str(cwd / "state")
    return subprocess.run([str(installed), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_the_wheel_holds_the_labs_solutions_and_templates() -> None:
    wheel = os.environ.get("LABCHECK_WHEEL")
    if not wheel:
        pytest.skip("LABCHECK_WHEEL is not set: `make test` builds the wheel and sets it")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {
        f"labcheck/_data/{p.relative_to(ROOT).as_posix()}"
        for folder in ("labs/part7", "solutions/part7")
        for p in (ROOT / folder).rglob("*")
        if p.is_file()
    }
    assert shipped <= names, sorted(shipped - names)
    assert {"labcheck/py.typed", "labcheck/_version.py", "labcheck/classroom/templates/cards.html.j2"} <= names
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    requires = zipfile.ZipFile(wheel).read(metadata).decode()
    for needed in ("boto3", "awscli"):  # the ECR lesson's tools need no extra
        assert f"Requires-Dist: {needed}==" in requires
    moto = [ln for ln in requires.splitlines() if ln.startswith("Requires-Dist: moto")]
    assert moto and all("extra ==" in ln for ln in moto)  # the ECR stand-in runs moto in its own container


def test_the_installed_labcheck_works_outside_the_checkout(installed: Path, tmp_path: Path) -> None:
    version = run(installed, tmp_path, "--version")
    assert version.returncode == 0, version.stderr
    lab_version = yaml.safe_load((ROOT / "labs" / "part7" / "lab.yaml").read_text(encoding="utf-8"))["version"]
    assert version.stdout.startswith("labcheck ") and f"\nlab part7 {lab_version}\n" in version.stdout
    listed = run(installed, tmp_path, "list")
    assert listed.returncode == 0 and listed.stdout.startswith("part7  Docker registries")
    hint = run(installed, tmp_path, "hint", "part7", "hub-publish")
    assert hint.returncode == 0 and "docker login" in hint.stdout
    ws = run(installed, tmp_path, "workspace", "part7", str(tmp_path / "ws"))
    assert ws.returncode == 0 and (tmp_path / "ws" / "Dockerfile").is_file()
    assert (installed.resolve().parent / "aws").exists()  # pipx keeps the aws CLI in labcheck's own venv


@pytest.mark.docker
def test_the_installed_doctor_says_the_machine_is_ready(installed: Path, tmp_path: Path) -> None:
    ports = [f"--port={name}={free_port()}" for name in ("registry", "hub", "ecr-api", "ecr")]
    done = run(installed, tmp_path, "doctor", "part7", *ports, "--format", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    checks = {c["id"]: c for c in json.loads(done.stdout)["checks"]}
    assert checks["aws-cli"]["status"] == "ok"
    assert checks["image:registry:2"]["status"] == "ok"
