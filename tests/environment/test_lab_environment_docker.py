"""The lab environment on a real Docker engine: up, idempotence, ports, auth, down."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from labcheck.environment.docker_client import docker_client
from labcheck.environment.lab import down, status, up
from labcheck.environment.services import free_port
from labcheck.environment.state import LABEL_INSTANCE, load_state
from labcheck.errors import PortInUse
from labcheck.session import load_lab
from net_kit import PortPicks, listening_port

pytestmark = pytest.mark.docker


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LABCHECK_STATE_DIR", str(tmp_path / "state"))
    return tmp_path / "state"


@pytest.fixture
def instance(state_dir: Path) -> Iterator[str]:
    name = f"test-{free_port()}"
    yield name
    down(name)


def containers(instance: str) -> list[object]:
    client = docker_client()
    try:
        return list(client.containers.list(all=True, filters={"label": f"{LABEL_INSTANCE}={instance}"}))
    finally:
        client.close()


def test_up_starts_registries_on_loopback_and_down_removes_everything(instance: str, state_dir: Path) -> None:
    spec = load_lab("part7")
    result = up(spec, instance=instance, ephemeral_ports=True)
    assert not result.already_running
    reg, hub = result.state.services["registry"], result.state.services["hub"]
    assert reg.address == f"localhost:{reg.port}"
    assert httpx.get(f"http://127.0.0.1:{reg.port}/v2/").status_code == 200
    # the hub stands in for a private Docker Hub repository: anonymous access is refused
    assert httpx.get(f"http://127.0.0.1:{hub.port}/v2/").status_code == 401
    assert hub.password and hub.username == "learner"
    assert httpx.get(f"http://127.0.0.1:{hub.port}/v2/", auth=(hub.username, hub.password)).status_code == 200
    # published on 127.0.0.1 only
    published = {}
    for c in containers(instance):
        for port, bindings in (c.attrs["HostConfig"]["PortBindings"] or {}).items():  # type: ignore[attr-defined]
            published[(c.name, port)] = [b["HostIp"] for b in bindings]  # type: ignore[attr-defined]
    assert published and set(map(tuple, published.values())) == {("127.0.0.1",)}, published
    assert (f"labcheck-{instance}-registry", "5000/tcp") in published
    # the password file is private
    assert (state_dir / f"{instance}.json").stat().st_mode & 0o077 == 0
    env = result.state.env()
    assert env["REGISTRY"] == reg.address
    assert env["HUB_REGISTRY"] == hub.address
    assert env["HUB_PASSWORD"] == hub.password
    assert {r.service for r in status() if r.instance == instance} == {"registry", "hub", "ecr", "ecr-api"}

    again = up(spec, instance=instance, ephemeral_ports=True)
    assert again.already_running
    assert again.state == result.state

    removed = down(instance)
    assert sorted(removed) == sorted(f"labcheck-{instance}-{s}" for s in ("registry", "hub", "ecr", "ecr-api"))
    assert containers(instance) == []
    assert load_state(instance) is None
    assert down(instance) == []  # twice is fine


def test_two_labs_get_different_passwords(instance: str) -> None:
    spec = load_lab("part7")
    first = up(spec, instance=instance, ephemeral_ports=True).state
    other = f"{instance}-b"
    try:
        second = up(spec, instance=other, ephemeral_ports=True).state
        assert first.services["hub"].password != second.services["hub"].password
    finally:
        down(other)


def test_a_port_in_use_names_the_port_and_the_option(instance: str) -> None:
    spec = load_lab("part7")
    with listening_port() as port, pytest.raises(PortInUse) as info:
        up(spec, instance=instance, ports={"hub": port}, ephemeral_ports=True)
    assert str(port) in info.value.message
    assert "--port hub=" in info.value.tip
    # the registry started before the hub failed is gone again
    assert containers(instance) == []
    assert load_state(instance) is None


@pytest.mark.parametrize("when", ["before the check", "after the check"])
def test_a_port_labcheck_picked_and_lost_is_picked_again(
    instance: str, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    """Taken before labcheck's own check, or between it and Docker's bind (Docker refuses:
    the path a real race takes), the port is labcheck's choice: never an error for the user."""
    spec = load_lab("part7")
    with listening_port() as taken:
        picks = PortPicks(taken)
        monkeypatch.setattr("labcheck.environment.lab.free_port", picks)
        if when == "after the check":
            monkeypatch.setattr("labcheck.environment.services.require_free_port", lambda *args: None)
        state = up(spec, instance=instance, ephemeral_ports=True, only=["registry"]).state
    assert picks.given[0] == taken
    assert state.services["registry"].port == picks.given[-1] != taken
    assert httpx.get(f"http://{state.services['registry'].reach}/v2/").status_code == 200
    assert len(containers(instance)) == 1  # the refused container is gone


UP_IN_A_FRESH_INTERPRETER = """
import sys, threading
imported = []
def hook(event, args):
    if event == "import" and threading.current_thread() is not threading.main_thread():
        imported.append(args[0])
sys.addaudithook(hook)
from labcheck.environment.lab import down, up
from labcheck.environment.services import free_port
from labcheck.session import load_lab
spec = load_lab("part7")
try:
    up(spec, instance=sys.argv[1], ports={name: free_port() for name in spec.services})
finally:
    down(sys.argv[1])
print(sorted(set(imported)))
"""


def test_up_imports_nothing_in_its_worker_threads(instance: str, state_dir: Path) -> None:
    """A Ctrl-C inside an import can leave Python's import lock held by the main thread; a
    worker that imports afterwards hangs `up` and its cleanup for good (seen in CI)."""
    env = {**os.environ, "LABCHECK_STATE_DIR": str(state_dir)}
    done = subprocess.run(
        [sys.executable, "-c", UP_IN_A_FRESH_INTERPRETER, instance], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"


def test_expose_publishes_the_registries_and_keeps_the_ecr_api_on_loopback(tmp_path: Path) -> None:
    """`--host 0.0.0.0 --expose`: the registries on every address, with a warning naming them; moto on 127.0.0.1."""
    instance = f"expose-{free_port()}"
    env = {**os.environ, "LABCHECK_STATE_DIR": str(tmp_path / "state")}
    labcheck = [sys.executable, "-m", "labcheck"]
    ports = [f"--port={name}={free_port()}" for name in ("registry", "hub", "ecr-api", "ecr")]
    up_exposed = [*labcheck, "up", "part7", "--instance", instance, "--host", "0.0.0.0", "--expose", *ports]
    try:
        done = subprocess.run(up_exposed, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        assert "warning: --expose: on 0.0.0.0 other machines reach registry (no login, deletes allowed)" in done.stderr
        assert "hub (login required)" in done.stderr and "the ECR API stays on 127.0.0.1" in done.stderr
        status = subprocess.run([*labcheck, "status", "--instance", instance], env=env, capture_output=True, text=True)
        rows = {line.split()[1]: line for line in status.stdout.splitlines()[1:]}
        assert "0.0.0.0:" in rows["registry"] and "0.0.0.0:" in rows["hub"]
        assert "127.0.0.1:" in rows["ecr-api"]
    finally:
        subprocess.run([*labcheck, "down", "part7", "--instance", instance], env=env, timeout=120)
