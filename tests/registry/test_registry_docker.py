"""RegistryClient against the real registry:2, checked against `docker push` and skopeo."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import bcrypt
import httpx
import pytest

from labcheck.errors import RegistryAuthError
from labcheck.registry import Credentials, RegistryClient, media_types

pytestmark = pytest.mark.docker

REGISTRY_IMAGE = "registry:2"
BUSYBOX = "busybox:stable"


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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


@contextmanager
def running_registry(env: dict[str, str] | None = None, files: dict[str, bytes] | None = None) -> Iterator[int]:
    """Start a registry:2 on 127.0.0.1:<free port>; always removed afterwards."""
    os.environ["TESTCONTAINERS_RYUK_DISABLED"] = "true"  # no reaper image offline
    from testcontainers.core.container import DockerContainer

    port = free_port()
    container = DockerContainer(REGISTRY_IMAGE)
    # The docker SDK takes (ip, port); testcontainers' annotation only knows a port.
    container.ports["5000/tcp"] = ("127.0.0.1", port)  # type: ignore[assignment]
    for key, value in (env or {}).items():
        container.with_env(key, value)
    for path, content in (files or {}).items():
        container.with_copy_into_container(content, path)
    try:
        container.start()
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/v2/", timeout=2).status_code in (200, 401):
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"registry:2 did not answer /v2/ within 30 s: {container.get_logs()}")
            time.sleep(0.2)
        yield port
    finally:
        wrapped = container.get_wrapped_container()
        if wrapped is not None:
            wrapped.remove(force=True, v=True)


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
    assert manifest.media_type == media_types.DOCKER_MANIFEST  # Engine 20.10 pushes schema2
    assert len(manifest.layers) >= 1
    assert config.digest == manifest.config_digest
    assert (config.os, config.architecture) == ("linux", "amd64")


def test_tags_and_missing_things(registry_port: int, pushed_busybox: tuple[str, str]) -> None:
    with RegistryClient(f"127.0.0.1:{registry_port}") as client:
        assert client.list_tags("x") == ["1"]
        assert client.list_tags("does-not-exist") is None
        assert client.resolve("x", "no-such-tag") is None
        assert client.resolve("does-not-exist", "1") is None


# -- an OCI index built through the registry API --------------------------------------------


def upload_blob(http: httpx.Client, name: str, content: bytes) -> dict[str, Any]:
    started = http.post(f"/v2/{name}/blobs/uploads/")
    assert started.status_code == 202, started.text
    # The Location carries the upload's state in its query: add the digest, keep the rest.
    location = httpx.URL(started.headers["Location"]).copy_add_param("digest", sha(content))
    done = http.put(
        location,
        content=content,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert done.status_code == 201, done.text
    return {"digest": sha(content), "size": len(content)}


def put_manifest(http: httpx.Client, name: str, ref: str, media_type: str, body: bytes) -> None:
    answer = http.put(f"/v2/{name}/manifests/{ref}", content=body, headers={"Content-Type": media_type})
    assert answer.status_code == 201, answer.text


def push_image(http: httpx.Client, name: str, arch: str, label: str) -> dict[str, Any]:
    """Push a tiny single-platform OCI image; return its index entry."""
    config = json.dumps(
        {
            "architecture": arch,
            "os": "linux",
            "created": "2026-01-01T00:00:00Z",
            "config": {"Labels": {"which": label}},
            "rootfs": {"type": "layers", "diff_ids": []},
        }
    ).encode()
    layer = f"layer for {arch} {uuid.uuid4()}".encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": media_types.OCI_MANIFEST,
            "config": {"mediaType": media_types.OCI_CONFIG, **upload_blob(http, name, config)},
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    **upload_blob(http, name, layer),
                }
            ],
        }
    ).encode()
    put_manifest(http, name, sha(manifest), media_types.OCI_MANIFEST, manifest)
    return {"mediaType": media_types.OCI_MANIFEST, "digest": sha(manifest), "size": len(manifest)}


def push_index(http: httpx.Client, name: str, tag: str) -> tuple[bytes, dict[str, str]]:
    arm = push_image(http, name, "arm64", "arm")
    amd = push_image(http, name, "amd64", "amd")
    attestation = push_image(http, name, "unknown", "attestation")
    index = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": media_types.OCI_INDEX,
            "manifests": [
                # arm64 first so that picking linux/amd64 is a choice, not luck.
                {**arm, "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
                {**amd, "platform": {"os": "linux", "architecture": "amd64"}},
                {
                    **attestation,
                    "platform": {"os": "unknown", "architecture": "unknown"},
                    "annotations": {
                        "vnd.docker.reference.type": "attestation-manifest",
                        "vnd.docker.reference.digest": amd["digest"],
                    },
                },
            ],
        }
    ).encode()
    put_manifest(http, name, tag, media_types.OCI_INDEX, index)
    return index, {"arm": arm["digest"], "amd": amd["digest"]}


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
