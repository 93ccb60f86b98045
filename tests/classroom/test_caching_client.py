"""The class report's client: one GET per tag, each digest once for the class, nothing kept over."""

from __future__ import annotations

import hashlib
import json

import httpx

from labcheck.classroom.report import CachingClient
from labcheck.registry import media_types

MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": media_types.DOCKER_MANIFEST,
        "config": {"mediaType": media_types.DOCKER_CONFIG, "size": 2, "digest": "sha256:" + "c" * 64},
        "layers": [],
    }
).encode()
DIGEST = "sha256:" + hashlib.sha256(MANIFEST).hexdigest()


def test_learners_who_pushed_the_same_image_cost_one_get_per_tag_and_leave_nothing_behind() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        headers = {"Content-Type": media_types.DOCKER_MANIFEST, "Docker-Content-Digest": DIGEST}
        return httpx.Response(200, headers=headers, content=MANIFEST)

    client = CachingClient("127.0.0.1:5000", transport=httpx.MockTransport(handler))
    for learner in ("ada", "bob"):
        assert client.resolve(f"{learner}/app", "v1") == DIGEST
        assert client.manifest(f"{learner}/app", DIGEST).raw == MANIFEST
    assert client.manifest("cy/app", DIGEST).raw == MANIFEST  # an index's child: shared, not asked
    assert seen == ["GET /v2/ada/app/manifests/v1", "GET /v2/bob/app/manifests/v1"]
    assert client._resolved == {}  # each learner's kept manifest was taken, none left for the report's life
