"""RegistryClient against httpx.MockTransport: protocol, auth, errors (no Docker needed)."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from labcheck.errors import (
    RateLimited,
    RegistryAuthError,
    RegistryProtocolError,
    RegistryUnreachable,
    UsageError,
)
from labcheck.limits import RetryBudget, run_limits
from labcheck.registry import Credentials, Manifest, RegistryClient, media_types
from labcheck.registry.auth import token_ttl
from labcheck.registry.responses import next_link

Handler = Callable[[httpx.Request], httpx.Response]

MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": media_types.DOCKER_MANIFEST,
        "config": {
            "mediaType": media_types.DOCKER_CONFIG,
            "digest": "sha256:" + "c" * 64,
            "size": 3,
        },
        "layers": [],
    }
).encode()
MANIFEST_DIGEST = "sha256:" + hashlib.sha256(MANIFEST).hexdigest()
OTHER_DIGEST = "sha256:" + "0" * 64


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def error_body(code: str, message: str = "") -> dict[str, Any]:
    return {"errors": [{"code": code, "message": message or code.lower()}]}


class Recorder:
    """Wraps a handler and keeps every request it saw."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.handler(request)

    @property
    def methods(self) -> list[str]:
        return [r.method for r in self.requests]


def make_client(
    handler: Handler, host: str = "localhost:5000", **kwargs: Any
) -> tuple[RegistryClient, Recorder, list[float]]:
    recorder = Recorder(handler)
    sleeps: list[float] = []
    client = RegistryClient(host, transport=httpx.MockTransport(recorder), sleep=sleeps.append, **kwargs)
    return client, recorder, sleeps


def manifest_handler(*, head_digest: str | None, get_digest: str | None, body: bytes = MANIFEST) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        headers = {"Content-Type": media_types.DOCKER_MANIFEST}
        digest = head_digest if request.method == "HEAD" else get_digest
        if digest is not None:
            headers["Docker-Content-Digest"] = digest
        return httpx.Response(200, headers=headers, content=b"" if request.method == "HEAD" else body)

    return handler


# -- connection setup ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "insecure", "base_url"),
    [
        ("localhost:5000", None, "http://localhost:5000"),
        ("127.0.0.1:5001", None, "http://127.0.0.1:5001"),
        ("127.3.4.5:5001", None, "http://127.3.4.5:5001"),
        ("[::1]:5000", None, "http://[::1]:5000"),
        ("ghcr.io", None, "https://ghcr.io"),
        ("10.0.0.1:5000", None, "https://10.0.0.1:5000"),
        ("ghcr.io", True, "http://ghcr.io"),
        ("localhost:5000", False, "https://localhost:5000"),
        ("docker.io", None, "https://registry-1.docker.io"),
        ("index.docker.io", None, "https://registry-1.docker.io"),
    ],
)
def test_scheme_and_host(host: str, insecure: bool | None, base_url: str) -> None:
    with RegistryClient(host, insecure=insecure) as client:
        assert str(client.base_url).rstrip("/") == base_url


@pytest.mark.parametrize("host", ["http://localhost:5000", "localhost:5000/v2", ""])
def test_bad_host_is_a_usage_error(host: str) -> None:
    with pytest.raises(UsageError):
        RegistryClient(host)


@pytest.mark.parametrize("name", ["../etc", "UPPER", "a//b", "a:b"])
def test_bad_repository_name_is_refused_before_any_request(name: str) -> None:
    client, recorder, _ = make_client(lambda r: httpx.Response(200))
    with pytest.raises(UsageError):
        client.resolve(name, "latest")
    assert recorder.requests == []


def test_docker_hub_one_segment_names_get_library() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"name": "x", "tags": ["1"]})

    client, recorder, _ = make_client(handler, host="docker.io")
    assert client.list_tags("busybox") == ["1"]
    assert client.list_tags("someone/app") == ["1"]
    paths = [r.url.path for r in recorder.requests]
    assert paths == ["/v2/library/busybox/tags/list", "/v2/someone/app/tags/list"]
    assert recorder.requests[0].url.host == "registry-1.docker.io"


# -- resolve and manifests -----------------------------------------------------------------------


def test_resolve_uses_head_and_the_digest_header() -> None:
    client, recorder, _ = make_client(manifest_handler(head_digest=MANIFEST_DIGEST, get_digest=None))
    assert client.resolve("x", "1") == MANIFEST_DIGEST
    assert recorder.methods == ["HEAD"]
    assert recorder.requests[0].url.path == "/v2/x/manifests/1"


def test_every_manifest_request_sends_the_full_accept_list() -> None:
    client, recorder, _ = make_client(manifest_handler(head_digest=None, get_digest=None))
    client.resolve("x", "1")
    client.manifest("x", "1")
    assert recorder.methods == ["HEAD", "GET", "GET"]
    expected = [
        media_types.OCI_INDEX,
        media_types.OCI_MANIFEST,
        media_types.DOCKER_MANIFEST_LIST,
        media_types.DOCKER_MANIFEST,
    ]
    for request in recorder.requests:
        assert [t.strip() for t in request.headers["Accept"].split(",")] == expected


def test_where_pulls_are_free_a_tag_is_resolved_by_one_get_kept_for_its_manifest() -> None:
    """A lab's own registry counts no pulls: GET the tag's manifest once (its digest hashed and
    checked against the header) instead of HEAD, then GET by digest."""
    client, recorder, _ = make_client(manifest_handler(head_digest=None, get_digest=MANIFEST_DIGEST), free_pulls=True)
    assert client.resolve("x", "1") == MANIFEST_DIGEST
    assert client.manifest("x", MANIFEST_DIGEST).raw == MANIFEST  # kept: no request
    assert recorder.methods == ["GET"]
    assert recorder.requests[0].url.path == "/v2/x/manifests/1"
    client.manifest("x", MANIFEST_DIGEST)  # kept once: asked again, it is read again
    assert recorder.methods == ["GET", "GET"]
    assert client.resolve("x", MANIFEST_DIGEST) == MANIFEST_DIGEST  # a digest: HEAD, as ever
    assert recorder.methods[2] == "HEAD"  # (then GET: this registry sends no digest on HEAD)


def test_where_pulls_are_free_a_lying_digest_header_is_still_caught() -> None:
    client, _, _ = make_client(manifest_handler(head_digest=None, get_digest=OTHER_DIGEST), free_pulls=True)
    with pytest.raises(RegistryProtocolError, match=OTHER_DIGEST):
        client.resolve("x", "1")


def test_where_pulls_are_free_a_missing_tag_is_none() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"errors": [{"code": "MANIFEST_UNKNOWN", "message": "unknown"}]})

    client, recorder, _ = make_client(handler, free_pulls=True)
    assert client.resolve("x", "nope") is None
    assert recorder.methods == ["GET"]


def test_resolve_falls_back_to_get_and_hashes_the_body() -> None:
    client, recorder, _ = make_client(manifest_handler(head_digest=None, get_digest=None))
    assert client.resolve("x", "1") == MANIFEST_DIGEST
    assert recorder.methods == ["HEAD", "GET"]


def test_resolve_get_fallback_flags_a_lying_header() -> None:
    client, _, _ = make_client(manifest_handler(head_digest=None, get_digest=OTHER_DIGEST))
    with pytest.raises(RegistryProtocolError) as info:
        client.resolve("x", "1")
    assert OTHER_DIGEST in str(info.value)
    assert MANIFEST_DIGEST in str(info.value)


def test_manifest_by_digest_must_hash_to_that_digest() -> None:
    client, _, _ = make_client(manifest_handler(head_digest=None, get_digest=None))
    assert client.manifest("x", MANIFEST_DIGEST).digest == MANIFEST_DIGEST
    with pytest.raises(RegistryProtocolError, match="asked for"):
        client.manifest("x", OTHER_DIGEST)


def test_manifest_fields() -> None:
    client, _, _ = make_client(manifest_handler(head_digest=None, get_digest=MANIFEST_DIGEST))
    manifest = client.manifest("x", "1")
    assert manifest.media_type == media_types.DOCKER_MANIFEST
    assert manifest.raw == MANIFEST
    assert not manifest.is_index
    assert manifest.config_digest == "sha256:" + "c" * 64
    assert manifest.children == []


@pytest.mark.parametrize("method", ["resolve", "manifest"])
def test_missing_manifest(method: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json=error_body("MANIFEST_UNKNOWN"))

    client, _, _ = make_client(handler)
    if method == "resolve":
        assert client.resolve("x", "nope") is None
    else:
        with pytest.raises(Exception, match="no manifest for nope"):
            client.manifest("x", "nope")


def test_manifest_body_is_bounded_while_streaming() -> None:
    produced = []

    def chunks() -> Iterator[bytes]:
        for _ in range(100):
            produced.append(1)
            yield b" " * (1024 * 1024)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=chunks())  # chunked: no Content-Length to trust

    client, _, _ = make_client(handler)
    with pytest.raises(RegistryProtocolError, match="more than"):
        client.manifest("x", "1")
    assert len(produced) <= 6


def test_manifest_with_large_content_length_is_refused() -> None:
    client, _, _ = make_client(lambda r: httpx.Response(200, content=b" " * (5 * 1024 * 1024)))
    with pytest.raises(RegistryProtocolError, match="allowed"):
        client.manifest("x", "1")


@pytest.mark.parametrize("body", [b"{not json", b"<html><body>hello</body></html>", b"[1, 2]", b'{"hello": 1}'])
def test_manifest_that_is_not_a_manifest(body: bytes) -> None:
    client, _, _ = make_client(lambda r: httpx.Response(200, content=body))
    with pytest.raises(RegistryProtocolError):
        client.manifest("x", "1")


def test_index_helpers_skip_attestations() -> None:
    def child(digest: str, os: str, arch: str, **annotations: str) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "mediaType": media_types.OCI_MANIFEST,
            "digest": digest,
            "size": 10,
            "platform": {"os": os, "architecture": arch},
        }
        if annotations:
            entry["annotations"] = annotations
        return entry

    data = {
        "schemaVersion": 2,
        "mediaType": media_types.OCI_INDEX,
        "manifests": [
            child("sha256:" + "1" * 64, "linux", "amd64"),
            child("sha256:" + "2" * 64, "linux", "arm64"),
            child("sha256:" + "3" * 64, "unknown", "unknown"),
            child(
                "sha256:" + "4" * 64,
                "linux",
                "amd64",
                **{"vnd.docker.reference.type": "attestation-manifest"},
            ),
        ],
    }
    raw = json.dumps(data).encode()
    index = Manifest(media_types.OCI_INDEX, sha(raw), raw, data)
    assert index.is_index
    assert index.config_digest is None
    assert len(index.children) == 4
    assert [str(c.platform) for c in index.platform_children()] == ["linux/amd64", "linux/arm64"]


# -- tags ---------------------------------------------------------------------------------------


def paged_tags(pages: dict[str, tuple[list[str], str | None]]) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        key = request.url.params.get("last", "")
        tags, link = pages[key]
        headers = {"Link": link} if link else {}
        return httpx.Response(200, json={"name": "x", "tags": tags}, headers=headers)

    return handler


def test_list_tags_follows_link_headers() -> None:
    client, recorder, _ = make_client(
        paged_tags(
            {
                "": (["a", "b"], '</v2/x/tags/list?last=b&n=2>; rel="next"'),
                "b": (["c", "d"], '<http://localhost:5000/v2/x/tags/list?last=d&n=2>; rel="next"'),
                "d": (["e"], None),
            }
        )
    )
    assert client.list_tags("x") == ["a", "b", "c", "d", "e"]
    assert len(recorder.requests) == 3
    assert recorder.requests[0].url.params["n"] == "1000"


def test_list_tags_refuses_a_link_to_another_host() -> None:
    client, recorder, _ = make_client(
        paged_tags({"": (["a"], '<http://evil.example/v2/x/tags/list?last=a>; rel="next"')})
    )
    with pytest.raises(RegistryProtocolError, match="another host"):
        client.list_tags("x")
    assert all(r.url.host == "localhost" for r in recorder.requests)


def test_list_tags_stops_on_a_link_loop() -> None:
    client, recorder, _ = make_client(
        paged_tags(
            {
                "": (["a"], '</v2/x/tags/list?last=a>; rel="next"'),
                "a": (["b"], '</v2/x/tags/list?last=a>; rel="next"'),
            }
        )
    )
    assert client.list_tags("x") == ["a", "b"]
    assert len(recorder.requests) == 2


@pytest.mark.parametrize(
    ("header", "target"),
    [
        ('</v2/x/tags/list?n=2&last=b>; rel="next"', "/v2/x/tags/list?n=2&last=b"),
        ("</v2/x/tags/list?last=b>;rel=next", "/v2/x/tags/list?last=b"),
        ('</a>; rel="prev", </b>; rel="next"', "/b"),
        ('</a,b>; rel="prev next"', "/a,b"),
        ('</a>; title="x"; REL="Next"', "/a"),
        ('</a>; rel="prev"', None),
        ("", None),
        ("<unclosed; rel=next", None),
        ("<>;" * 33_333, None),
    ],
)
def test_next_link(header: str, target: str | None) -> None:
    assert next_link(header) == target


def test_a_link_header_built_to_backtrack_is_parsed_in_linear_time() -> None:
    """Before: a regex took 155 s of CPU on a 100 KB header; now one pass, and a cap."""
    for header in ("<>;" * 33_333, "<" * 100_000, "<a>;" * 25_000 + " rel=nex"):
        started = time.process_time()
        next_link(header)
        assert time.process_time() - started < 0.5
    client, _, _ = make_client(lambda r: httpx.Response(200, json={"tags": ["a"]}, headers={"Link": "<>;" * 3000}))
    with pytest.raises(RegistryProtocolError, match="9000 characters is no page link"):
        client.list_tags("x")


def test_a_tag_page_link_that_is_not_a_url_is_a_protocol_error() -> None:
    client, _, _ = make_client(
        lambda r: httpx.Response(200, json={"tags": ["a"]}, headers={"Link": '<http://[::1>; rel="next"'})
    )
    with pytest.raises(RegistryProtocolError, match="not a URL"):
        client.list_tags("x")


@pytest.mark.parametrize("tag", ["bad tag", "ünïcode", "-leading-dash", "x" * 129, 5, None, "a\x1b[2J"])
def test_a_listed_tag_that_is_not_a_tag_is_a_protocol_error_not_a_usage_error(tag: object) -> None:
    client, _, _ = make_client(lambda r: httpx.Response(200, json={"tags": ["ok", tag]}))
    with pytest.raises(RegistryProtocolError, match="which is not a tag"):
        client.list_tags("x")


def test_list_tags_asks_for_the_page_size_given() -> None:
    client, recorder, _ = make_client(lambda r: httpx.Response(200, json={"tags": []}), page_size=50)
    client.list_tags("x")
    assert recorder.requests[0].url.params["n"] == "50"


def test_list_tags_of_a_missing_repository_is_none() -> None:
    client, _, _ = make_client(lambda r: httpx.Response(404, json=error_body("NAME_UNKNOWN")))
    assert client.list_tags("nope") is None


def test_list_tags_null_tags_is_empty() -> None:
    client, _, _ = make_client(lambda r: httpx.Response(200, json={"name": "x", "tags": None}))
    assert client.list_tags("x") == []


# -- retries and errors ------------------------------------------------------------------------


def test_429_is_retried_honouring_retry_after() -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    answers = iter(
        [
            httpx.Response(429, headers={"Retry-After": "2"}),
            httpx.Response(429, headers={"Retry-After": later}),
            httpx.Response(429, headers={"Retry-After": "3600"}),
            httpx.Response(200, json={"name": "x", "tags": ["1"]}),
        ]
    )
    client, recorder, sleeps = make_client(lambda r: next(answers), retry_budget=RetryBudget(1000))
    assert client.list_tags("x") == ["1"]
    assert len(recorder.requests) == 4
    assert sleeps[0] == 2.0
    assert 25 <= sleeps[1] <= 30
    assert sleeps[2] == 60.0  # capped


def test_429_waits_come_out_of_one_budget_per_run() -> None:
    """Before: 3 retries x 60 s per request, so a run of many requests could wait for hours."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": "25"}, json=error_body("TOOMANYREQUESTS"))

    with run_limits(timeout=None):
        first, _, sleeps_a = make_client(handler)
        second, _, sleeps_b = make_client(handler)
        with pytest.raises(RateLimited, match="at most 60 s in all for rate limits") as info:
            first.list_tags("x")
        with pytest.raises(RateLimited, match="asks to wait 25 s"):
            second.list_tags("x")
    assert sleeps_a + sleeps_b == [25.0, 25.0]  # 50 of the run's 60 s: a third 25 s would overspend
    assert info.value.retry_after == 25.0


def test_429_forever_is_rate_limited() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": "7"}, json=error_body("TOOMANYREQUESTS"))

    client, recorder, sleeps = make_client(handler, max_retries=2)
    with pytest.raises(RateLimited) as info:
        client.resolve("x", "1")
    assert info.value.retry_after == 7.0
    assert sleeps == [7.0, 7.0]
    assert len(recorder.requests) == 3


@pytest.mark.parametrize(
    ("status", "body", "error", "words"),
    [
        (
            403,
            error_body("DENIED", "requested access to the resource is denied"),
            RegistryAuthError,
            "access denied",
        ),
        (
            400,
            error_body("NAME_INVALID", "invalid repository name"),
            RegistryProtocolError,
            "NAME_INVALID",
        ),
        (500, {"errors": []}, RegistryProtocolError, "HTTP 500"),
        (503, error_body("UNAVAILABLE", "maintenance"), RegistryUnreachable, "maintenance"),
        (404, error_body("UNSUPPORTED"), RegistryProtocolError, "operation not supported"),
    ],
)
def test_error_bodies_become_clear_errors(
    status: int, body: dict[str, Any], error: type[Exception], words: str
) -> None:
    client, _, _ = make_client(lambda r: httpx.Response(status, json=body))
    with pytest.raises(error) as info:
        client.list_tags("x")
    assert words in str(info.value)
    assert "localhost:5000" in str(info.value)


def test_html_answer_is_a_protocol_error() -> None:
    page = b"<!doctype html><html><body>Welcome to nginx</body></html>"
    client, _, _ = make_client(lambda r: httpx.Response(200, content=page, headers={"Content-Type": "text/html"}))
    with pytest.raises(RegistryProtocolError, match="HTML"):
        client.ping()
    with pytest.raises(RegistryProtocolError, match="HTML"):
        client.list_tags("x")


def test_ping_accepts_a_registry_and_refuses_a_404() -> None:
    client, _, _ = make_client(
        lambda r: httpx.Response(200, json={}, headers={"Docker-Distribution-API-Version": "registry/2.0"})
    )
    client.ping()
    client, _, _ = make_client(lambda r: httpx.Response(404, text="not found"))
    with pytest.raises(RegistryProtocolError, match="does not serve the registry API"):
        client.ping()


@pytest.mark.parametrize("exc", [httpx.ConnectError("Connection refused"), httpx.ReadTimeout("read timed out")])
def test_transport_errors_are_unreachable(exc: httpx.TransportError) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    client, _, _ = make_client(handler)
    with pytest.raises(RegistryUnreachable, match="cannot reach registry localhost:5000") as info:
        client.ping()
    assert info.value.__cause__ is exc


# -- blobs -------------------------------------------------------------------------------------


def test_blob_is_verified_bounded_and_follows_redirects() -> None:
    content = b"layer bytes"
    digest = sha(content)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "storage.example":
            return httpx.Response(200, content=content)
        return httpx.Response(307, headers={"Location": "https://storage.example/blob?sig=1"})

    client, recorder, _ = make_client(handler)
    assert client.blob("x", digest) == content
    assert [r.url.host for r in recorder.requests] == ["localhost", "storage.example"]
    with pytest.raises(RegistryProtocolError, match="allowed"):
        client.blob("x", digest, max_bytes=4)
    with pytest.raises(RegistryProtocolError, match=digest):
        client.blob("x", OTHER_DIGEST)


# -- auth --------------------------------------------------------------------------------------


class TokenRegistry:
    """A registry behind a token service, like Docker Hub or registry:2 with token auth."""

    realm = "https://auth.example/token"

    def __init__(self, *, users: dict[str, str] | None = None, wider_scope: bool = False) -> None:
        self.users = users
        self.wider_scope = wider_scope
        self.token_requests: list[httpx.Request] = []

    def scope_for(self, request: httpx.Request) -> str:
        name = request.url.path.split("/")[2]
        return f"repository:{name}:pull" + (",push" if self.wider_scope and name == "b" else "")

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "auth.example":
            self.token_requests.append(request)
            if self.users is not None:
                sent = request.headers.get("Authorization", "")
                expected = ["Basic " + base64.b64encode(f"{u}:{p}".encode()).decode() for u, p in self.users.items()]
                if sent not in expected:
                    return httpx.Response(401, json={"details": "incorrect username or password"})
            scope = " ".join(request.url.params.get_list("scope"))
            return httpx.Response(200, json={"token": f"tok[{scope}]", "expires_in": 300})
        scope = self.scope_for(request)
        if request.headers.get("Authorization") == f"Bearer tok[{scope}]":
            return httpx.Response(200, json={"name": "x", "tags": ["1"]})
        challenge = f'Bearer realm="{self.realm}",service="reg.example",scope="{scope}"'
        return httpx.Response(401, headers={"WWW-Authenticate": challenge}, json=error_body("UNAUTHORIZED"))


def test_bearer_anonymous_flow_reuses_and_renews_tokens() -> None:
    registry = TokenRegistry()
    client, recorder, _ = make_client(registry, host="reg.example")
    assert client.list_tags("a") == ["1"]
    assert len(registry.token_requests) == 1
    token_request = registry.token_requests[0]
    assert "Authorization" not in token_request.headers
    assert token_request.url.params["service"] == "reg.example"
    assert token_request.url.params["scope"] == "repository:a:pull"
    # Same repository: the cached token is sent straight away, no new 401 and no new token.
    before = len(recorder.requests)
    assert client.list_tags("a") == ["1"]
    assert len(registry.token_requests) == 1
    assert len(recorder.requests) == before + 1
    # Another repository needs another scope, hence another token.
    assert client.list_tags("c") == ["1"]
    assert [r.url.params["scope"] for r in registry.token_requests] == [
        "repository:a:pull",
        "repository:c:pull",
    ]


def test_bearer_with_credentials_sends_basic_to_the_token_service() -> None:
    registry = TokenRegistry(users={"alice": "pw-alice"})
    client, _, _ = make_client(registry, host="reg.example", credentials=Credentials("alice", "pw-alice"))
    assert client.list_tags("a") == ["1"]
    sent = registry.token_requests[0].headers["Authorization"]
    assert base64.b64decode(sent.removeprefix("Basic ")) == b"alice:pw-alice"


def test_bearer_with_wrong_credentials_is_an_auth_error_without_secrets() -> None:
    registry = TokenRegistry(users={"alice": "pw-alice"})
    client, _, _ = make_client(registry, host="reg.example", credentials=Credentials("alice", "wrong-pw"))
    with pytest.raises(RegistryAuthError) as info:
        client.list_tags("a")
    assert "wrong-pw" not in str(info.value)
    assert "alice" in str(info.value)
    assert "wrong-pw" not in repr(client)


def test_bearer_new_401_with_wider_scope_fetches_a_new_token() -> None:
    registry = TokenRegistry(wider_scope=True)
    client, _, _ = make_client(registry, host="reg.example")
    assert client.list_tags("a") == ["1"]
    # Knowing the realm, the client asks for a pull token for b first; the registry's 401
    # then names a wider scope, which needs a new token.
    assert client.list_tags("b") == ["1"]
    scopes = [r.url.params["scope"] for r in registry.token_requests]
    assert scopes == ["repository:a:pull", "repository:b:pull", "repository:b:pull,push"]


def test_refused_token_is_an_auth_error_without_the_token() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "auth.example":
            return httpx.Response(200, json={"access_token": "secret-token-123"})
        challenge = 'Bearer realm="https://auth.example/token",service="s",scope="repository:a:pull"'
        return httpx.Response(401, headers={"WWW-Authenticate": challenge}, json=error_body("UNAUTHORIZED"))

    client, recorder, _ = make_client(handler, host="reg.example")
    with pytest.raises(RegistryAuthError) as info:
        client.list_tags("a")
    assert "secret-token-123" not in str(info.value)
    assert "secret-token-123" not in repr(info.value)
    # The access_token spelling was read and sent.
    assert recorder.requests[-1].headers["Authorization"] == "Bearer secret-token-123"
    assert len(recorder.requests) < 10


def basic_registry(user: str, password: str) -> Handler:
    expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers.get("Authorization") == expected:
            return httpx.Response(200, json={"name": "x", "tags": ["1"]})
        return httpx.Response(
            401,
            headers={"WWW-Authenticate": 'Basic realm="Registry Realm"'},
            json=error_body("UNAUTHORIZED"),
        )

    return handler


def test_basic_auth_without_credentials_needs_credentials() -> None:
    client, recorder, _ = make_client(basic_registry("bob", "pw-bob"))
    with pytest.raises(RegistryAuthError, match="requires credentials"):
        client.list_tags("x")
    assert len(recorder.requests) == 1


def test_basic_auth_with_credentials() -> None:
    client, recorder, _ = make_client(basic_registry("bob", "pw-bob"), credentials=Credentials("bob", "pw-bob"))
    assert client.list_tags("x") == ["1"]
    assert client.list_tags("y") == ["1"]
    # After the first challenge, credentials go along with every request.
    assert [r.headers.get("Authorization") is not None for r in recorder.requests] == [
        False,
        True,
        True,
    ]


def test_basic_auth_with_wrong_password_hides_it() -> None:
    client, _, _ = make_client(basic_registry("bob", "pw-bob"), credentials=Credentials("bob", "hunter2"))
    with pytest.raises(RegistryAuthError) as info:
        client.list_tags("x")
    assert "hunter2" not in str(info.value)
    assert "hunter2" not in repr(info.value)
    assert "hunter2" not in repr(client)


def test_an_aws_login_is_never_sent_to_a_token_realm_on_another_host() -> None:
    registry = TokenRegistry(users={"AWS": "aws-token"})  # realm https://auth.example/token
    client, _, _ = make_client(
        registry, host="localhost:5002", credentials=Credentials("AWS", "aws-token", registry_only=True)
    )
    with pytest.raises(RegistryAuthError, match="an AWS ECR login goes to the registry itself only"):
        client.list_tags("a")
    assert registry.token_requests == []


def test_a_docker_login_goes_to_the_realm_as_docker_sends_it() -> None:
    registry = TokenRegistry(users={"alice": "pw-alice"})
    client, _, _ = make_client(registry, host="reg.example", credentials=Credentials("alice", "pw-alice"))
    client.list_tags("a")
    assert [r.headers["Authorization"].split()[0] for r in registry.token_requests] == ["Basic"]


@pytest.mark.parametrize("realm", ["http://[::1", "ftp://auth.example/token", "http:///token", "auth.example/token"])
def test_a_realm_that_is_not_an_http_url_is_a_protocol_error(realm: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, headers={"WWW-Authenticate": f'Bearer realm="{realm}"'})

    client, _, _ = make_client(handler)
    with pytest.raises(RegistryProtocolError, match="realm"):
        client.list_tags("a")


@pytest.mark.parametrize(
    ("expires_in", "ttl"),
    [
        (300, 300.0),
        (5, 60.0),
        (-1, 60.0),
        (float("inf"), 86400.0),
        (float("nan"), 60.0),
        (10**400, 86400.0),
        (True, 60.0),
        ("300", 60.0),
        (None, 60.0),
    ],
)
def test_token_lifetimes_stay_within_bounds(expires_in: object, ttl: float) -> None:
    assert token_ttl(expires_in) == ttl


def test_an_index_entry_whose_digest_is_not_one_is_a_protocol_error() -> None:
    index = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": media_types.OCI_INDEX,
            "manifests": [
                {
                    "mediaType": media_types.OCI_MANIFEST,
                    "digest": "sha256:../../etc",
                    "size": 1,
                    "platform": {"os": "linux", "architecture": "amd64"},
                }
            ],
        }
    ).encode()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=index, headers={"Content-Type": media_types.OCI_INDEX})

    client, _, _ = make_client(handler)
    with pytest.raises(RegistryProtocolError, match="has a digest that is not one"):
        client.image_config("x", "1")


def test_credentials_are_not_sent_to_a_plain_http_realm() -> None:
    registry = TokenRegistry(users={"alice": "pw-alice"})
    registry.realm = "http://auth.example/token"
    client, _, _ = make_client(registry, host="reg.example", credentials=Credentials("alice", "pw-alice"))
    with pytest.raises(RegistryAuthError, match="plain http"):
        client.list_tags("a")
    assert registry.token_requests == []
