"""Real registries for tests: start registry:2 with testcontainers, push content through its API."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from labcheck.environment.services import free_port
from labcheck.registry import media_types

REGISTRY_IMAGE = "registry:2"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
BUSYBOX = "busybox:stable"


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@contextmanager
def running_registry(
    env: dict[str, str] | None = None, files: dict[str, bytes] | None = None, name: str | None = None
) -> Iterator[int]:
    """Start a registry:2 on 127.0.0.1:<free port> (named `name`-<random> if given); always removed afterwards."""
    os.environ["TESTCONTAINERS_RYUK_DISABLED"] = "true"  # no reaper image offline
    from testcontainers.core.container import DockerContainer

    port = free_port()
    container = DockerContainer(REGISTRY_IMAGE)
    if name:
        container.with_name(f"{name}-{uuid.uuid4().hex[:8]}")
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
            "config": {"mediaType": OCI_CONFIG, **upload_blob(http, name, config)},
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


def credential_helper(bin_dir: Path, name: str, logins: dict[str, tuple[str, str]], log: Path) -> Path:
    """Write `docker-credential-<name>` into `bin_dir`: a real executable speaking the
    credential-helper protocol (`get`: the server on stdin, JSON on stdout; not found: exit 1
    with "credentials not found in native keychain"). It answers `logins` (server: (user,
    secret); user `<token>` makes the secret an identity token) and logs each call to `log`."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    path = bin_dir / f"docker-credential-{name}"
    path.write_text(
        f"#!{sys.executable}\n"
        "import json, sys\n"
        f"LOGINS = {logins!r}\n"
        "action, server = sys.argv[1], sys.stdin.read().strip()\n"
        f"with open({str(log)!r}, 'a') as f:\n"
        "    f.write(f'{action} {server}\\n')\n"
        "if action != 'get' or server not in LOGINS:\n"
        "    print('credentials not found in native keychain')\n"
        "    sys.exit(1)\n"
        "user, secret = LOGINS[server]\n"
        "print(json.dumps({'ServerURL': server, 'Username': user, 'Secret': secret}))\n"
    )
    path.chmod(0o755)
    return path
