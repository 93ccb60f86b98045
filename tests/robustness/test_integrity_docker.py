"""The digest labcheck reports is the one `docker push` printed and skopeo computes, for all kinds.

Docker v2 manifests come from a real `docker push`; OCI manifests and OCI indexes (two
platforms plus an attestation manifest) are pushed through the registry API, since no
image can be pulled or built multi-platform here.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from labcheck.observe.model import RepoRef
from labcheck.observe.registry import observe_repository
from labcheck.registry import RegistryClient, media_types
from registry_kit import BUSYBOX, push_image, push_index, put_manifest, running_registry

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    with running_registry() as p:
        yield p


def skopeo_digest(port: int, ref: str) -> str:
    if not shutil.which("skopeo"):
        pytest.skip("skopeo is not installed")
    raw = subprocess.run(
        ["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://localhost:{port}/{ref}"],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def observed(port: int, repository: str) -> dict[str, str]:
    with RegistryClient(f"localhost:{port}") as client:
        state = observe_repository(client, RepoRef("registry", f"localhost:{port}", repository), frozenset())
    assert not hasattr(state, "reason"), state
    return {tag: info.digest for tag, info in state.tags.items()}  # type: ignore[union-attr]


@pytest.mark.engine
def test_docker_v2_manifest_digest(port: int) -> None:
    tag = f"localhost:{port}/integrity/v2:1"
    subprocess.run(["docker", "tag", BUSYBOX, tag], check=True)
    try:
        pushed = subprocess.run(["docker", "push", tag], capture_output=True, text=True, check=True).stdout
        printed = re.search(r"digest: (sha256:[0-9a-f]{64})", pushed)
        assert printed, pushed
    finally:
        subprocess.run(["docker", "rmi", tag], capture_output=True, check=False)
    digest = printed.group(1)
    assert observed(port, "integrity/v2") == {"1": digest}
    assert skopeo_digest(port, "integrity/v2:1") == digest


@pytest.mark.engine
def test_docker_push_digest_is_the_json_evidence(port: int, tmp_path: os.PathLike[str]) -> None:
    tags = [f"localhost:{port}/myapp:{t}" for t in ("1.2.3", "staging", "production")]
    digests = []
    try:
        for tag in tags:
            subprocess.run(["docker", "tag", BUSYBOX, tag], check=True)
            out = subprocess.run(["docker", "push", tag], capture_output=True, text=True, check=True).stdout
            digests.append(re.search(r"digest: (sha256:[0-9a-f]{64})", out).group(1))  # type: ignore[union-attr]
        env = {**os.environ, "DOCKER_CONFIG": str(tmp_path), "NO_COLOR": "1"}
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "labcheck",
                "run",
                "part7",
                "promote",
                "--registry",
                f"localhost:{port}",
                "--format",
                "json",
            ],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        subprocess.run(["docker", "rmi", *tags], capture_output=True, check=False)
    report = json.loads(done.stdout)
    promoted = next(c for ex in report["exercises"] for c in ex["checks"] if c["id"] == "promoted")
    assert promoted["status"] == "pass", promoted
    assert promoted["evidence"] == dict.fromkeys(tags, digests[0])
    assert set(digests) == {digests[0]}
    assert skopeo_digest(port, "myapp:staging") == digests[0]


def test_oci_manifest_and_index_digests(port: int) -> None:
    with httpx.Client(base_url=f"http://127.0.0.1:{port}") as http:
        single = push_image(http, "integrity/oci", "amd64", "single")
        manifest = http.get(
            f"/v2/integrity/oci/manifests/{single['digest']}", headers={"Accept": media_types.OCI_MANIFEST}
        ).content
        put_manifest(http, "integrity/oci", "single", media_types.OCI_MANIFEST, manifest)
        index, _ = push_index(http, "integrity/oci", "multi")
    index_digest = "sha256:" + hashlib.sha256(index).hexdigest()
    assert observed(port, "integrity/oci") == {"single": single["digest"], "multi": index_digest}
    assert skopeo_digest(port, "integrity/oci:single") == single["digest"]
    assert skopeo_digest(port, "integrity/oci:multi") == index_digest


def test_attestation_only_differences_are_the_same_image(port: int) -> None:
    with httpx.Client(base_url=f"http://127.0.0.1:{port}") as http:
        first, _ = push_index(http, "integrity/att", "first")
        data = json.loads(first)
        # the same platform images, another attestation (e.g. a rebuild's provenance timestamp)
        other = push_image(http, "integrity/att", "unknown", "attestation of another build")
        data["manifests"][2] = {**data["manifests"][2], **other}
        second = json.dumps(data).encode()
        put_manifest(http, "integrity/att", "second", media_types.OCI_INDEX, second)
        # and a real rebuild: a new amd64 image
        rebuilt = push_image(http, "integrity/att", "amd64", "rebuilt")
        data["manifests"][1] = {**data["manifests"][1], **rebuilt}
        put_manifest(http, "integrity/att", "rebuilt", media_types.OCI_INDEX, json.dumps(data).encode())
    with RegistryClient(f"localhost:{port}") as client:
        state = observe_repository(client, RepoRef("registry", f"localhost:{port}", "integrity/att"), frozenset())
    assert not hasattr(state, "reason"), state
    assert state.tags["first"].digest != state.tags["second"].digest  # type: ignore[union-attr]
    assert state.same_image("first", "second")  # type: ignore[union-attr]
    assert not state.same_image("first", "rebuilt")  # type: ignore[union-attr]
    assert len(state.tags["first"].image_ids) == 2  # type: ignore[union-attr] # arm64 and amd64, no attestation
