"""A registry that keeps answering 429 (Docker Hub's rate limit): an error saying when to retry."""

from __future__ import annotations

import httpx

from labcheck.observe.model import RepoRef, Unavailable
from labcheck.observe.registry import observe_repository
from labcheck.registry import RegistryClient


def test_rate_limit_is_unavailable_with_the_wait() -> None:
    methods: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        methods.append(request.method)
        return httpx.Response(429, headers={"Retry-After": "42"}, json={"errors": [{"code": "TOOMANYREQUESTS"}]})

    client = RegistryClient("registry.example", transport=httpx.MockTransport(handler), sleep=lambda _: None)
    with client:
        state = observe_repository(client, RepoRef("hub", "registry.example", "alice/my-app"), frozenset())
    assert isinstance(state, Unavailable)
    assert "429" in state.reason
    assert "wait 42 s" in state.reason
    assert "at most 60 s in all" in state.reason
    assert methods == ["GET"] * 2  # waited 42 s once; a second 42 s would overspend the 60 s budget


def test_docker_hub_tags_are_resolved_with_head_on_the_normalised_name() -> None:
    seen: list[tuple[str, str, str]] = []
    digest = "sha256:" + "a" * 64

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.url.host, request.url.path))
        return httpx.Response(200, headers={"Docker-Content-Digest": digest})

    for host in ("docker.io", "index.docker.io", "registry-1.docker.io"):
        with RegistryClient(host, transport=httpx.MockTransport(handler)) as hub:
            assert hub.resolve("busybox", "stable") == digest
    # Docker Hub counts manifest GETs as pulls; a HEAD is free. One API host, library/ added.
    assert set(seen) == {("HEAD", "registry-1.docker.io", "/v2/library/busybox/manifests/stable")}
