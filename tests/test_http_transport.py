"""The one HTTP client factory: no proxy for loopback or plain HTTP; HTTPS elsewhere tunnelled.

Deadlines are tested against a hostile server in tests/robustness/test_hostile_network.py."""

from __future__ import annotations

import httpx
import pytest

from labcheck.errors import RegistryUnreachable
from labcheck.http_transport import http_client, proxy_for
from labcheck.registry import Credentials, RegistryClient
from net_kit import PROXY_VARIABLES, recording_proxy

SECRET = "s3cret-password"


@pytest.fixture(autouse=True)
def _no_proxy_from_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*PROXY_VARIABLES, "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(
    ("url", "env", "proxy"),
    [
        ("http://127.0.0.1:5000/v2/", {"HTTP_PROXY": "http://p:3128", "ALL_PROXY": "http://p:3128"}, None),
        ("https://localhost:5000/v2/", {"HTTPS_PROXY": "http://p:3128"}, None),
        ("https://[::1]:5000/v2/", {"HTTPS_PROXY": "http://p:3128"}, None),
        ("https://127.8.9.10/v2/", {"HTTPS_PROXY": "http://p:3128"}, None),
        ("http://registry.example/v2/", {"HTTP_PROXY": "http://p:3128", "ALL_PROXY": "http://p:3128"}, None),
        ("https://registry.example/v2/", {"HTTPS_PROXY": "http://p:3128"}, "http://p:3128"),
        ("https://registry.example/v2/", {"ALL_PROXY": "p:3128"}, "http://p:3128"),
        ("https://registry.example/v2/", {"https_proxy": "http://low:1", "HTTPS_PROXY": "http://up:2"}, "http://low:1"),
        ("https://registry.example/v2/", {"HTTPS_PROXY": "http://p:3128", "NO_PROXY": "example"}, None),
        ("https://registry.example/v2/", {"HTTPS_PROXY": "http://p:3128", "NO_PROXY": ".registry.example"}, None),
        ("https://registry.example/v2/", {"HTTPS_PROXY": "http://p:3128", "NO_PROXY": "other.example,*"}, None),
        (
            "https://registry.example/v2/",
            {"HTTPS_PROXY": "http://p:3128", "NO_PROXY": "registry.example:8443"},
            "http://p:3128",
        ),
        ("https://registry.example/v2/", {"HTTPS_PROXY": "http://p:3128", "NO_PROXY": "registry.example:443"}, None),
        (
            "https://notregistry.example/v2/",
            {"HTTPS_PROXY": "http://p:3128", "NO_PROXY": "registry.example"},
            "http://p:3128",
        ),
        ("https://10.1.2.3/v2/", {"HTTPS_PROXY": "http://p:3128", "NO_PROXY": "10.0.0.0/8"}, None),
    ],
)
def test_which_requests_go_through_a_proxy(url: str, env: dict[str, str], proxy: str | None) -> None:
    chosen = proxy_for(httpx.URL(url), env)
    assert (str(chosen.url).rstrip("/") if chosen else None) == proxy


def test_a_socks_proxy_is_a_clear_error_that_never_shows_its_password() -> None:
    with pytest.raises(httpx.ProxyError, match="socks5") as info:
        proxy_for(httpx.URL("https://registry.example/"), {"HTTPS_PROXY": f"socks5://user:{SECRET}@p:1080"})
    assert SECRET not in str(info.value)


def test_loopback_and_plain_http_never_reach_the_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """httpx.Client() honours HTTP_PROXY for 127.0.0.1: the class report's token request
    went to the proxy with the instructor's Basic credentials."""
    with recording_proxy() as (proxy, seen), recording_proxy() as (target, reached):
        for name in PROXY_VARIABLES:
            monkeypatch.setenv(name, proxy)
        with http_client() as http:
            answer = http.get(f"{target}/token", auth=("instructor", SECRET))
        assert answer.status_code == 502  # the target's own answer (it refuses everything)
    assert seen.requests == []
    assert [line for line, _ in reached.requests] == ["GET /token HTTP/1.1"]


def test_https_to_a_remote_host_is_tunnelled_and_the_proxy_never_sees_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with recording_proxy() as (proxy, seen):
        monkeypatch.setenv("HTTPS_PROXY", proxy)
        client = RegistryClient("registry.example.invalid", credentials=Credentials("alice", SECRET))
        with client, pytest.raises(RegistryUnreachable):
            client.ping()
    assert seen.lines() == ["CONNECT registry.example.invalid:443 HTTP/1.1"]
    assert all("authorization" not in headers and SECRET not in str(headers) for _, headers in seen.requests)
