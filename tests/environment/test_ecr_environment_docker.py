"""The lab's ECR stand-in on a real engine, driven by the real docker CLI and aws CLI.

It refuses what ECR refuses, with the message the docker CLI prints for ECR (a push to a
repository the ECR API does not have, an overwritten tag in an IMMUTABLE repository, an
expired login), and its ECR API sees what was pushed, both ways.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from labcheck.bundled import bundled_bin
from labcheck.ecr_api import AwsKeys, login_password
from labcheck.environment.docker_client import docker_client
from labcheck.environment.lab import down, status, up
from labcheck.environment.services import free_port
from labcheck.environment.state import DUMMY_AWS_KEYS, LabState, load_state
from labcheck.errors import PortInUse
from labcheck.session import load_lab
from labcheck.spec.model import LabSpec
from labcheck.verify import local_tags, remove_new_tags
from net_kit import PortPicks, listening_port

pytestmark = pytest.mark.docker
ACCOUNT = "123456789012"


def part7(token_lifetime: int | None = None) -> LabSpec:
    spec = load_lab("part7")
    if token_lifetime is None:
        return spec
    services = dict(spec.services)
    services["ecr-api"] = services["ecr-api"].model_copy(update={"token_lifetime": token_lifetime})
    return spec.model_copy(update={"services": services})


@pytest.fixture
def instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("LABCHECK_STATE_DIR", str(tmp_path / "state"))
    name = f"ecr-{free_port()}"
    before = local_tags()
    yield name
    remove_new_tags(load_state(name), before)
    down(name)


class Learner:
    """A shell with the lab's variables, the aws CLI installed with labcheck and its own Docker config."""

    def __init__(self, state: LabState, home: Path) -> None:
        home.mkdir(exist_ok=True)
        self.registry = state.services["ecr"].address
        self.env = {
            **os.environ,
            **state.env(),
            "DOCKER_CONFIG": str(home),
            "PATH": os.pathsep.join([str(bundled_bin()), os.environ.get("PATH", "")]),
        }

    def sh(self, command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["bash", "-c", command], env=self.env, capture_output=True, text=True, timeout=120)

    def ok(self, command: str) -> str:
        done = self.sh(command)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def refused(self, command: str) -> str:
        done = self.sh(command)
        assert done.returncode != 0, f"{command} was accepted: {done.stdout}"
        return done.stderr

    def aws(self, command: str) -> dict[str, object]:
        return dict(json.loads(self.ok(f"aws ecr {command} --output json") or "{}"))

    def login(self) -> None:
        self.ok(f"aws ecr get-login-password | docker login --username AWS --password-stdin {self.registry}")

    def push(self, repository: str, tag: str, base: str = "busybox:stable") -> subprocess.CompletedProcess[str]:
        ref = f"{self.registry}/{repository}:{tag}"
        return self.sh(f"docker tag {base} {ref} && docker push {ref}")


def pushed_digest(done: subprocess.CompletedProcess[str]) -> str:
    found = re.search(r"digest: (sha256:[0-9a-f]{64})", done.stdout)
    assert found, done.stdout + done.stderr
    return found.group(1)


def test_up_starts_the_stand_in_in_two_containers_that_down_removes(instance: str) -> None:
    spec = part7()
    state = up(spec, instance=instance, ephemeral_ports=True, only=["ecr"]).state
    api, ecr = state.services["ecr-api"], state.services["ecr"]
    env = state.env()
    assert env["AWS_ENDPOINT_URL"] == f"http://localhost:{api.port}"
    assert env["ECR_REGISTRY"] == f"localhost:{ecr.port}"
    assert {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"} <= set(env)
    assert "ECR_PASSWORD" not in env and state.secrets() == []  # the learner asks `aws ecr get-login-password`
    client = docker_client()
    try:
        front, store = client.containers.get(api.container_id), client.containers.get(ecr.backend_id)
        bindings = front.attrs["HostConfig"]["PortBindings"]
        assert bindings == {
            "5003/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(api.port)}],
            "5000/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(ecr.port)}],
        }
        assert ecr.container_id == front.id  # the front answers for the registry
        assert store.attrs["HostConfig"]["NetworkMode"] == f"container:{front.id}"  # reachable only through it
        assert not store.attrs["HostConfig"]["PortBindings"]
    finally:
        client.close()
    keys = AwsKeys.from_env(DUMMY_AWS_KEYS)
    password = login_password(f"http://127.0.0.1:{api.port}", "us-east-1", keys)
    registry = f"http://127.0.0.1:{ecr.port}/v2/"
    anonymous = httpx.get(registry)
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Basic realm=")
    assert httpx.get(registry, auth=("AWS", password)).status_code == 200
    assert httpx.get(registry, auth=("AWS", password + "x")).status_code == 400  # not a token it issued
    assert httpx.get(registry, auth=("learner", password)).status_code == 401
    rows = {r.service: r for r in status() if r.instance == instance}
    assert rows["ecr-api"].status == "running" and rows["ecr"].status == "running"

    # stopped (a reboot): `up` starts both again; the new front has a new key, so a new login
    subprocess.run(
        ["docker", "stop", "-t", "1", f"labcheck-{instance}-ecr", f"labcheck-{instance}-ecr-api"], check=True
    )
    again = up(spec, instance=instance, ephemeral_ports=True, only=["ecr"])
    assert again.already_running
    assert httpx.get(registry, auth=("AWS", password)).status_code == 400
    fresh = login_password(f"http://127.0.0.1:{api.port}", "us-east-1", keys)
    assert httpx.get(registry, auth=("AWS", fresh)).status_code == 200

    removed = down(instance)
    assert sorted(removed) == sorted([f"labcheck-{instance}-ecr", f"labcheck-{instance}-ecr-api"])
    assert load_state(instance) is None
    assert not [r for r in status() if r.instance == instance]


def test_a_failing_up_removes_the_stand_in_again(instance: str) -> None:
    with listening_port() as taken, pytest.raises(PortInUse):
        up(part7(), instance=instance, ports={"ecr": taken}, ephemeral_ports=True)
    assert not [r for r in status() if r.instance == instance]
    assert load_state(instance) is None


def test_an_ecr_port_labcheck_picked_and_lost_is_picked_again(instance: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The stand-in's registry port taken between free_port and Docker's bind: a real
    refusal from Docker, and `up` starts the stand-in again on other ports."""
    with listening_port() as taken:
        picks = PortPicks(taken, at=1)  # the 2nd pick: the registry's (the API's comes first)
        monkeypatch.setattr("labcheck.environment.lab.free_port", picks)
        monkeypatch.setattr("labcheck.environment.ecr.require_free_port", lambda *args: None)
        state = up(part7(), instance=instance, ephemeral_ports=True, only=["ecr"]).state
    given = picks.given
    assert given[1] == taken
    assert state.services["ecr"].port not in (taken, given[0])
    assert {state.services["ecr"].port, state.services["ecr-api"].port} == set(given[-2:])
    assert len([r for r in status() if r.instance == instance]) == 2


def test_ecr_refusals_as_the_docker_cli_prints_them_and_the_learner_recovers(instance: str, tmp_path: Path) -> None:
    learner = Learner(up(part7(), instance=instance, ephemeral_ports=True, only=["ecr"]).state, tmp_path / "docker")
    learner.login()

    # a push before the repository exists
    refused = learner.push("my-app", "1.0.0")
    assert refused.returncode != 0
    message = f"name unknown: The repository with name 'my-app' does not exist in the registry with id '{ACCOUNT}'"
    assert message in refused.stderr
    assert learner.aws("describe-repositories")["repositories"] == []
    # ... read, understood: create it and push again
    learner.aws("create-repository --repository-name my-app --image-tag-mutability IMMUTABLE")
    done = learner.push("my-app", "1.0.0")
    assert done.returncode == 0, done.stderr
    digest = pushed_digest(done)

    # an existing tag of an IMMUTABLE repository: refused, with any image (even the same one)
    tag_invalid = (
        "tag invalid: The image tag '1.0.0' already exists in the 'my-app' repository and cannot be "
        "overwritten because the repository is immutable."
    )
    assert tag_invalid in learner.refused(f"docker push {learner.registry}/my-app:1.0.0")
    learner.ok(f"docker build -q -t {learner.registry}/my-app:1.0.0 --label release=other - <<<'FROM busybox:stable'")
    assert tag_invalid in learner.refused(f"docker push {learner.registry}/my-app:1.0.0")
    # 1.0.0 is still the first image; a new version is welcome
    images = learner.aws("describe-images --repository-name my-app")["imageDetails"]
    assert [(i["imageTags"], i["imageDigest"]) for i in images] == [(["1.0.0"], digest)]  # type: ignore[index]
    learner.ok(f"docker tag {learner.registry}/my-app:1.0.0 {learner.registry}/my-app:1.0.1")
    assert learner.ok(f"docker push {learner.registry}/my-app:1.0.1")

    # a mutable repository moves its tags, as on AWS
    learner.aws("create-repository --repository-name scratchpad")
    assert learner.push("scratchpad", "latest").returncode == 0
    learner.ok(f"docker tag {learner.registry}/my-app:1.0.1 {learner.registry}/scratchpad:latest")
    moved = learner.sh(f"docker push {learner.registry}/scratchpad:latest")
    assert moved.returncode == 0, moved.stderr


def test_an_expired_login_is_refused_as_ecr_refuses_it(instance: str, tmp_path: Path) -> None:
    learner = Learner(
        up(part7(token_lifetime=3), instance=instance, ephemeral_ports=True, only=["ecr"]).state, tmp_path / "docker"
    )
    learner.aws("create-repository --repository-name my-app")
    learner.login()
    old = learner.ok("aws ecr get-login-password").strip()
    time.sleep(3.5)
    expired = "denied: Your authorization token has expired. Reauthenticate and try again."
    refused = learner.push("my-app", "1.0.0")
    assert refused.returncode != 0 and expired in refused.stderr
    pull = learner.refused(f"docker pull {learner.registry}/my-app:1.0.0")
    assert expired in pull
    login = learner.refused(f"docker login --username AWS --password-stdin {learner.registry} <<<'{old}'")
    assert f"login attempt to http://{learner.registry}/v2/ failed with status: 403 Forbidden" in login
    # the learner logs in again: a fresh token works
    learner.login()
    assert learner.push("my-app", "1.0.0").returncode == 0


def test_the_ecr_api_sees_the_registry_both_ways(instance: str, tmp_path: Path) -> None:
    state = up(part7(), instance=instance, ephemeral_ports=True, only=["ecr"]).state
    learner = Learner(state, tmp_path / "docker")
    learner.aws("create-repository --repository-name my-app")
    learner.login()
    before = time.time()
    first = pushed_digest(learner.push("my-app", "1.0.0"))
    learner.ok(f"docker build -q -t {learner.registry}/my-app:1.1.0 --label release=1.1.0 - <<<'FROM busybox:stable'")
    second = pushed_digest(learner.sh(f"docker push {learner.registry}/my-app:1.1.0"))
    learner.ok(f"docker tag {learner.registry}/my-app:1.1.0 {learner.registry}/my-app:latest")
    learner.ok(f"docker push {learner.registry}/my-app:latest")

    details = {i["imageDigest"]: i for i in learner.aws("describe-images --repository-name my-app")["imageDetails"]}  # type: ignore[attr-defined]
    assert sorted(details[first]["imageTags"]) == ["1.0.0"]
    assert sorted(details[second]["imageTags"]) == ["1.1.0", "latest"]
    assert all(before - 2 <= float(i["imagePushedAt"]) <= time.time() + 2 for i in details.values())
    listed = learner.aws("list-images --repository-name my-app")["imageIds"]
    assert sorted((i["imageTag"], i["imageDigest"]) for i in listed) == [  # type: ignore[index]
        ("1.0.0", first),
        ("1.1.0", second),
        ("latest", second),
    ]
    got = learner.aws("batch-get-image --repository-name my-app --image-ids imageTag=1.0.0")["images"]
    manifest = got[0]["imageManifest"]  # type: ignore[index]
    assert "sha256:" + hashlib.sha256(manifest.encode()).hexdigest() == first  # the bytes docker pushed

    # deleted through the API: gone from the registry too, by tag and by digest
    learner.aws("batch-delete-image --repository-name my-app --image-ids imageTag=1.0.0")
    learner.ok(f"docker rmi {learner.registry}/my-app:1.0.0")
    gone = learner.refused(f"docker pull {learner.registry}/my-app:1.0.0")
    assert "manifest unknown: Requested image not found" in gone
    assert "manifest unknown" in learner.refused(f"docker pull {learner.registry}/my-app@{first}")
    registry = f"http://127.0.0.1:{state.services['ecr'].port}"
    password = login_password(
        f"http://{state.services['ecr-api'].reach}", "us-east-1", AwsKeys.from_env(DUMMY_AWS_KEYS)
    )
    tags = httpx.get(f"{registry}/v2/my-app/tags/list", auth=("AWS", password)).json()
    assert tags == {"name": "my-app", "tags": ["1.1.0", "latest"]}
    learner.ok(f"docker pull {learner.registry}/my-app:latest")

    # the whole repository, forced: the registry says so
    learner.aws("delete-repository --repository-name my-app --force")
    missing = learner.refused(f"docker pull {learner.registry}/my-app:latest")
    assert (
        f"name unknown: The repository with name 'my-app' does not exist in the registry with id '{ACCOUNT}'" in missing
    )
    # re-created, it is empty: nothing old comes back
    learner.aws("create-repository --repository-name my-app")
    assert httpx.get(f"{registry}/v2/my-app/tags/list", auth=("AWS", password)).json()["tags"] == []
    old = httpx.head(f"{registry}/v2/my-app/manifests/{second}", auth=("AWS", password))
    assert old.status_code == 404  # (docker would not ask: the image is still in the local daemon)
