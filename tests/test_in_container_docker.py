"""labcheck inside a container that uses the host's engine through its socket, as in a VS Code
dev container (docker-outside-of-docker) or a CI job container: on the host's network and on
a bridge network, the installed wheel runs the whole lab walkthrough and every check passes.

The container is labcheck-test/devcontainer (scripts/devcontainer-image): Debian 12, its
Python, git, the docker CLI and labcheck installed from the wheel `make test` builds
(LABCHECK_WHEEL). Lab containers publish on the host's loopback; from the bridge network
labcheck reaches them where they join its network (environment/placement.py).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine_kit import containerd_store
from installed import ROOT
from labcheck.docker_host import docker_host
from labcheck.environment.services import free_port
from labcheck.session import load_lab

pytestmark = pytest.mark.docker
IMAGE = "labcheck-test/devcontainer"
SCRIPT = ROOT / "tests" / "container" / "walkthrough.sh"


def docker(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check, timeout=600)


@pytest.fixture(scope="module")
def image() -> str:
    """The dev container image, with the wheel under test installed in it."""
    wheel = os.environ.get("LABCHECK_WHEEL")
    if not wheel:
        pytest.skip("LABCHECK_WHEEL is not set: `make test` builds the wheel and sets it")
    built = subprocess.run(
        [str(ROOT / "scripts" / "devcontainer-image"), wheel, IMAGE], capture_output=True, text=True, timeout=1200
    )
    assert built.returncode == 0, built.stderr
    return IMAGE


@pytest.fixture
def instance() -> Iterator[str]:
    name = f"incontainer-{secrets.token_hex(3)}"
    yield name
    leftovers = docker("ps", "-aq", "--filter", f"label=io.labcheck.instance={name}").stdout.split()
    for container in leftovers:
        docker("rm", "-f", "-v", container, check=False)
    assert leftovers == [], "the walkthrough left lab containers behind"


@pytest.mark.parametrize("network", ["host", "bridge"])
def test_the_walkthrough_passes_inside_a_container(image: str, instance: str, network: str, tmp_path: Path) -> None:
    socket_path = docker_host().removeprefix("unix://")
    ports = {name: free_port() for name in ("registry", "hub", "ecr-api", "ecr")}
    out = tmp_path / "out"
    out.mkdir()
    try:
        done = docker(
            "run", "--rm", "--network", network,
            "-v", f"{socket_path}:/var/run/docker.sock",
            "-v", f"{SCRIPT}:/walkthrough.sh:ro",
            "-v", f"{out}:/out",
            "-e", f"INSTANCE={instance}",
            "-e", "PORTS=" + " ".join(f"{n}={p}" for n, p in ports.items()),
            image, "bash", "/walkthrough.sh",
            check=False,
        )  # fmt: skip
        logs = {p.name: p.read_text(errors="replace")[-2500:] for p in out.iterdir() if p.suffix in (".txt", ".log")}
        assert done.returncode == 0, f"{done.stderr}\n{json.dumps(logs, indent=1)}"
        placement = next(ln for ln in (out / "doctor.txt").read_text().splitlines() if "where labcheck runs" in ln)
        if network == "host":
            assert "on the host's network: lab services are read on 127.0.0.1" in placement
        else:
            assert "on network 'bridge': lab services join it" in placement
        report = json.loads((out / "report.json").read_text())
        # what the host's engine cannot do (a multi-platform build on the classic store) is skipped
        cannot = set() if containerd_store() else {ex.id for ex in load_lab("part7").exercises if ex.requires}
        not_passed = [
            f"{e['id']}/{c['id']}: {c['message']}" for e in report["exercises"] for c in e["checks"]
            if c["status"] != ("skip" if e["id"] in cannot else "pass")
        ]  # fmt: skip
        assert not_passed == []
        assert report["score"]["points"] == report["score"]["max_points"]
        assert "removed labcheck-" in (out / "down.txt").read_text()
    finally:
        tags = docker("images", "--format", "{{.Repository}}:{{.Tag}}").stdout.split()
        ours = [t for t in tags if any(t.startswith(f"localhost:{p}/") for p in ports.values())]
        if ours:
            docker("rmi", "-f", *ours, check=False)
