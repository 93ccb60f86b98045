"""Every platform of a tag, read from a real registry:2: the platform its index lists and the
os/architecture its config says; attestation manifests are not platforms."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from labcheck.checks.base import Context
from labcheck.checks.catalog import KINDS
from labcheck.observe.model import Observations, PlatformImage, RepoRef, RepoState
from labcheck.observe.registry import observe_repository
from labcheck.registry import RegistryClient, media_types
from labcheck.results import Status
from registry_kit import push_image, push_index, put_manifest, running_registry, sha

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    with running_registry() as p:
        yield p


def observe(port: int, repository: str) -> RepoState:
    with RegistryClient(f"localhost:{port}") as client:
        state = observe_repository(client, RepoRef("registry", f"localhost:{port}", repository), frozenset())
    assert isinstance(state, RepoState), state
    return state


def config_of(http: httpx.Client, name: str, manifest: dict[str, Any]) -> str:
    body = http.get(f"/v2/{name}/manifests/{manifest['digest']}", headers={"Accept": media_types.OCI_MANIFEST}).json()
    return str(body["config"]["digest"])


def test_every_platform_of_an_index_with_its_config(port: int) -> None:
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
        push_index(http, "multi/app", "2.0.0")  # arm64/v8, amd64 and an attestation for amd64
        single = push_image(http, "multi/app", "amd64", "single")
        single_body = http.get(f"/v2/multi/app/manifests/{single['digest']}", headers={"Accept": single["mediaType"]})
        put_manifest(http, "multi/app", "1.0.0", single["mediaType"], single_body.content)
        index = http.get("/v2/multi/app/manifests/2.0.0", headers={"Accept": media_types.OCI_INDEX}).json()
        arm, amd = (config_of(http, "multi/app", m) for m in index["manifests"][:2])
        single_config = config_of(http, "multi/app", single)
    state = observe(port, "multi/app")
    release, older = state.tags["2.0.0"], state.tags["1.0.0"]
    assert release.is_index and release.media_type == media_types.OCI_INDEX
    assert release.platforms == (
        PlatformImage("linux/arm64/v8", "linux", "arm64", arm),
        PlatformImage("linux/amd64", "linux", "amd64", amd),
    )
    assert release.image_ids == {arm, amd}
    assert release.labels == {"which": "amd"}  # the platform graded for labels and files: linux/amd64
    assert not older.is_index
    assert older.platforms == (PlatformImage(None, "linux", "amd64", single_config),)
    assert older.platform_names() == ["linux/amd64"]


def test_an_index_that_lists_the_wrong_platform_is_seen_and_failed(port: int) -> None:
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
        amd = push_image(http, "wrong/app", "amd64", "amd")
        also_amd = push_image(http, "wrong/app", "amd64", "posing as arm64")
        listed = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": media_types.DOCKER_MANIFEST_LIST,
                "manifests": [
                    {**amd, "platform": {"os": "linux", "architecture": "amd64"}},
                    {**also_amd, "platform": {"os": "linux", "architecture": "arm64"}},
                ],
            }
        ).encode()
        put_manifest(http, "wrong/app", "2.0.0", media_types.DOCKER_MANIFEST_LIST, listed)
    state = observe(port, "wrong/app")
    info = state.tags["2.0.0"]
    assert info.digest == sha(listed) and info.is_index
    assert [(p.platform, p.config_agrees) for p in info.platforms] == [("linux/amd64", True), ("linux/arm64", False)]
    kind = KINDS["image_platforms"]
    args = kind.parse(
        {"service": "registry", "repository": "wrong/app", "tag": "2.0.0", "platforms": ["linux/amd64", "linux/arm64"]}
    )
    out = kind.evaluate(args, Observations(repos={("registry", "wrong/app"): state}), Context({"registry": "x"}))
    assert out.status is Status.FAIL
    assert out.message.endswith("lists linux/arm64 for an image whose config says linux/amd64")
