"""The lab's ECR stand-in on a real engine: moto_server as a host process, a registry:2 data plane."""

from __future__ import annotations

import base64
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from labcheck.environment.lab import down, status, up
from labcheck.environment.processes import process_alive
from labcheck.environment.services import free_port
from labcheck.environment.state import load_state
from labcheck.errors import PortInUse
from labcheck.spec import load_lab

pytestmark = pytest.mark.docker


@pytest.fixture
def instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("LABCHECK_STATE_DIR", str(tmp_path / "state"))
    name = f"ecr-{free_port()}"
    yield name
    down(name)


def _moto_processes(port: int) -> list[int]:
    """Pids whose command line is a moto server on this port."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"moto.server" in cmd and str(port).encode() in cmd:
            found.append(int(entry.name))
    return found


def test_up_starts_the_ecr_api_and_a_registry_that_takes_its_login(instance: str) -> None:
    spec = load_lab("part7")
    state = up(spec, instance=instance, ephemeral_ports=True).state
    api, ecr = state.services["ecr-api"], state.services["ecr"]
    assert api.pid is not None and process_alive(api)
    assert api.host == "127.0.0.1"  # loopback only, like the registries
    env = state.env()
    assert env["AWS_ENDPOINT_URL"] == f"http://localhost:{api.port}"
    assert env["ECR_REGISTRY"] == f"localhost:{ecr.port}"
    assert {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"} <= set(env)
    assert "ECR_PASSWORD" not in env  # the learner asks `aws ecr get-login-password`
    # the password moto hands out is the one the data plane's htpasswd holds, for user AWS
    answer = httpx.post(
        f"http://127.0.0.1:{api.port}/",
        headers={
            "X-Amz-Target": "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken",
            "Content-Type": "application/x-amz-json-1.1",
            "Authorization": "AWS4-HMAC-SHA256 Credential=k/20260101/us-east-1/ecr/aws4_request, "
            "SignedHeaders=host, Signature=0",
        },
        content=b"{}",
    )
    token = answer.json()["authorizationData"][0]["authorizationToken"]
    user, _, password = base64.b64decode(token).decode().partition(":")
    assert user == "AWS"
    registry = f"http://127.0.0.1:{ecr.port}/v2/"
    assert httpx.get(registry).status_code == 401
    assert httpx.get(registry, auth=("AWS", password)).status_code == 200
    assert httpx.get(registry, auth=("AWS", password + "x")).status_code == 401
    rows = {r.service: r for r in status() if r.instance == instance}
    assert rows["ecr-api"].status == "running" and f"pid {api.pid}" in rows["ecr-api"].container

    # the stand-in died (a reboot): `up` starts it again on its port, the registries stay
    os.killpg(api.pid, 15)
    deadline = time.monotonic() + 10
    while process_alive(api) and time.monotonic() < deadline:
        time.sleep(0.05)
    again = up(spec, instance=instance, ephemeral_ports=True)
    assert again.already_running
    restarted = again.state.services["ecr-api"]
    assert restarted.port == api.port and restarted.pid != api.pid and process_alive(restarted)

    removed = down(instance)
    assert any("ecr-api" in r for r in removed)
    assert not process_alive(restarted)
    assert _moto_processes(api.port) == []
    assert load_state(instance) is None
    assert not [r for r in status() if r.instance == instance]


def test_a_failing_up_stops_the_ecr_api_again(instance: str) -> None:
    spec = load_lab("part7")
    api_port = free_port()
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        with pytest.raises(PortInUse):
            up(
                spec,
                instance=instance,
                ports={"ecr": blocker.getsockname()[1], "ecr-api": api_port},
                ephemeral_ports=True,
            )
    assert _moto_processes(api_port) == []
    assert load_state(instance) is None


def test_the_ecr_registry_refuses_everyone_until_its_login_arrives(instance: str) -> None:
    """`up` starts the data plane before moto answers: no login may work in between."""
    from labcheck.environment.docker_client import docker_client
    from labcheck.environment.placement import Placement
    from labcheck.environment.services import install_login, remove_instance, start_registry

    spec = load_lab("part7")
    port = free_port()
    svc = start_registry(
        "ecr",
        spec.services["ecr"],
        lab="part7",
        instance=instance,
        image="registry:2",
        bind_host="127.0.0.1",
        port=port,
        placement=Placement(in_container=False),
    )
    client = docker_client()
    try:
        url = f"http://127.0.0.1:{port}/v2/"
        assert svc.username == "AWS" and svc.password is None
        assert httpx.get(url).status_code == 401
        assert httpx.get(url, auth=("AWS", "")).status_code == 401
        assert httpx.get(url, auth=("AWS", "anything")).status_code == 401
        ready = install_login(client, svc, "the-password")
        assert ready.password == "the-password"
        assert httpx.get(url, auth=("AWS", "the-password")).status_code == 200
        assert httpx.get(url, auth=("AWS", "the-password-not")).status_code == 401
        assert httpx.get(url).status_code == 401
    finally:
        remove_instance(client, instance)
        client.close()


def test_down_without_the_state_file_still_stops_the_ecr_api(
    instance: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`labcheck down` run with another LABCHECK_STATE_DIR (or after it was deleted)."""
    state = up(load_lab("part7"), instance=instance, ephemeral_ports=True, only=["ecr"]).state
    port = state.services["ecr-api"].port
    assert _moto_processes(port)
    monkeypatch.setenv("LABCHECK_STATE_DIR", str(tmp_path / "elsewhere"))
    removed = down(instance)
    assert f"labcheck-{instance}-ecr" in removed
    assert any("moto.server" in item for item in removed)
    deadline = time.monotonic() + 10
    while _moto_processes(port) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _moto_processes(port)
