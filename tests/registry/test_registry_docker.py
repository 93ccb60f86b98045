"""RegistryClient against the real registry:2, checked against `docker push` and skopeo."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import bcrypt
import httpx
import pytest

from engine_kit import containerd_store
from labcheck.errors import RegistryAuthError
from labcheck.registry import Credentials, RegistryClient, media_types
from registry_kit import BUSYBOX, REGISTRY_IMAGE, push_index, running_registry, sha

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def docker_engine() -> Any:
    import docker
    import docker.errors

    try:
        engine = docker.from_env()
        engine.ping()
    except docker.errors.DockerException as exc:
        pytest.skip(f"no Docker engine answers: {exc}")
    try:
        engine.images.get(REGISTRY_IMAGE)
    except docker.errors.ImageNotFound:
        pytest.skip(f"{REGISTRY_IMAGE} is not present locally and cannot be pulled")
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def registry_port(docker_engine: Any) -> Iterator[int]:
    with running_registry() as port:
        yield port


@pytest.fixture(scope="module")
def pushed_busybox(docker_engine: Any, registry_port: int) -> Iterator[tuple[str, str]]:
    """Push busybox:stable as localhost:PORT/x:1; yield (reference, digest docker printed)."""
    import docker.errors

    if shutil.which("docker") is None:
        pytest.skip("the docker CLI is not installed")
    try:
        docker_engine.images.get(BUSYBOX)
    except docker.errors.ImageNotFound:
        pytest.skip(f"{BUSYBOX} is not present locally and cannot be pulled")
    reference = f"localhost:{registry_port}/x:1"
    subprocess.run(["docker", "tag", BUSYBOX, reference], check=True)
    try:
        pushed = subprocess.run(["docker", "push", reference], check=True, capture_output=True, text=True)
        match = re.search(r"digest: (sha256:[0-9a-f]{64})", pushed.stdout)
        assert match, f"no digest in docker push output: {pushed.stdout}"
        yield reference, match.group(1)
    finally:
        subprocess.run(["docker", "rmi", reference], check=False, capture_output=True)


@pytest.mark.engine
def test_resolve_equals_docker_push_and_skopeo(registry_port: int, pushed_busybox: tuple[str, str]) -> None:
    reference, pushed_digest = pushed_busybox
    if not os.path.exists("/usr/bin/skopeo"):
        pytest.skip("skopeo is not installed")
    raw = subprocess.run(
        ["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{reference}"],
        check=True,
        capture_output=True,
    ).stdout
    with RegistryClient(f"localhost:{registry_port}") as client:
        client.ping()
        digest = client.resolve("x", "1")
        manifest = client.manifest("x", "1")
        by_digest = client.manifest("x", pushed_digest)
        config = client.image_config("x", "1")
    assert digest == pushed_digest
    assert digest == sha(raw)
    assert manifest.digest == by_digest.digest == pushed_digest
    assert manifest.raw == raw
    # busybox:stable of scripts/offline-images: one schema2 image on the classic store, a list of
    # linux/amd64 and linux/arm64 on the containerd store (the multi-platform exercise builds on
    # it); both image stores push it as it is
    if containerd_store():
        assert manifest.media_type == media_types.DOCKER_MANIFEST_LIST
        assert sorted(str(c.platform) for c in manifest.platform_children()) == ["linux/amd64", "linux/arm64"]
    else:
        assert manifest.media_type == media_types.DOCKER_MANIFEST
        assert len(manifest.layers) >= 1
        assert config.digest == manifest.config_digest
    assert (config.os, config.architecture) == ("linux", "amd64")


@pytest.mark.engine
def test_tags_and_missing_things(registry_port: int, pushed_busybox: tuple[str, str]) -> None:
    with RegistryClient(f"127.0.0.1:{registry_port}") as client:
        assert client.list_tags("x") == ["1"]
        assert client.list_tags("does-not-exist") is None
        assert client.resolve("x", "no-such-tag") is None
        assert client.resolve("does-not-exist", "1") is None


# -- an OCI index built through the registry API --------------------------------------------


def test_oci_index_with_attestation(registry_port: int) -> None:
    with httpx.Client(base_url=f"http://127.0.0.1:{registry_port}", timeout=10) as http:
        index_raw, children = push_index(http, "multi/app", "v1")
    with RegistryClient(f"localhost:{registry_port}") as client:
        digest = client.resolve("multi/app", "v1")
        index = client.manifest("multi/app", "v1")
        config = client.image_config("multi/app", "v1")
        child = client.manifest("multi/app", children["arm"])
    assert digest == sha(index_raw) == index.digest
    assert index.is_index
    assert index.media_type == media_types.OCI_INDEX
    assert len(index.children) == 3
    platform = [(c.digest, str(c.platform)) for c in index.platform_children()]
    assert platform == [(children["arm"], "linux/arm64/v8"), (children["amd"], "linux/amd64")]
    assert config.labels == {"which": "amd"}
    assert (config.os, config.architecture, config.created) == (
        "linux",
        "amd64",
        "2026-01-01T00:00:00Z",
    )
    assert not child.is_index and child.digest == children["arm"]


# -- Basic auth (htpasswd) -------------------------------------------------------------------


def test_htpasswd_registry(docker_engine: Any) -> None:
    password = f"pw-{uuid.uuid4().hex}"
    line = b"learner:" + bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=5)) + b"\n"
    env = {
        "REGISTRY_AUTH": "htpasswd",
        "REGISTRY_AUTH_HTPASSWD_REALM": "x",
        "REGISTRY_AUTH_HTPASSWD_PATH": "/auth/htpasswd",
    }
    with running_registry(env, {"/auth/htpasswd": line}) as port:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", auth=("learner", password), timeout=10) as http:
            index_raw, _ = push_index(http, "secret/app", "v1")
        with RegistryClient(f"localhost:{port}") as anonymous:
            with pytest.raises(RegistryAuthError, match="requires credentials"):
                anonymous.ping()
            with pytest.raises(RegistryAuthError, match="requires credentials"):
                anonymous.resolve("secret/app", "v1")
        wrong = Credentials("learner", "not-the-password")
        with RegistryClient(f"localhost:{port}", credentials=wrong) as client:
            with pytest.raises(RegistryAuthError) as info:
                client.list_tags("secret/app")
            assert "not-the-password" not in str(info.value)
        good = Credentials("learner", password)
        with RegistryClient(f"localhost:{port}", credentials=good) as client:
            client.ping()
            assert client.list_tags("secret/app") == ["v1"]
            assert client.resolve("secret/app", "v1") == sha(index_raw)
            assert client.image_config("secret/app", "v1").labels == {"which": "amd"}
