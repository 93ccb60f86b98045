"""Challenges, credentials and the Docker config lookup (no Docker needed)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from labcheck.errors import RegistryAuthError, RegistryProtocolError
from labcheck.registry import Credentials, credentials_for, parse_challenge
from labcheck.registry.auth import TokenCache, basic_auth_header


@pytest.mark.parametrize(
    ("header", "scheme", "params"),
    [
        (
            'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
            'scope="repository:library/busybox:pull"',
            "Bearer",
            {
                "realm": "https://auth.docker.io/token",
                "service": "registry.docker.io",
                "scope": "repository:library/busybox:pull",
            },
        ),
        ('bearer realm="https://a/t"', "Bearer", {"realm": "https://a/t"}),
        ('BEARER Realm="r", SERVICE="s"', "Bearer", {"realm": "r", "service": "s"}),
        (
            "Bearer realm=https://a/token,service=reg",
            "Bearer",
            {"realm": "https://a/token", "service": "reg"},
        ),
        (
            'Bearer realm="https://a/t",scope="repository:a:pull,push",service="s"',
            "Bearer",
            {"realm": "https://a/t", "scope": "repository:a:pull,push", "service": "s"},
        ),
        ('Bearer  realm = "r" ,  service = "s" ', "Bearer", {"realm": "r", "service": "s"}),
        ('Basic realm="my \\"quoted\\" realm"', "Basic", {"realm": 'my "quoted" realm'}),
        ('Basic realm="Registry Realm"', "Basic", {"realm": "Registry Realm"}),
        ('basic realm="x"', "Basic", {"realm": "x"}),
        ("Basic", "Basic", {}),
        # A second challenge is ignored and cannot overwrite the first one's realm.
        ('Bearer realm="r",service="s", Basic realm="b"', "Bearer", {"realm": "r", "service": "s"}),
        ('Bearer realm="",service="s"', "Bearer", {"realm": "", "service": "s"}),
        # Empty list elements are legal (RFC 9110, 5.6.1) and skipped.
        (', Bearer realm="r",,service="s",', "Bearer", {"realm": "r", "service": "s"}),
        ('Bearer realm="r", , ,service="s"', "Bearer", {"realm": "r", "service": "s"}),
    ],
)
def test_parse_challenge(header: str, scheme: str, params: dict[str, str]) -> None:
    challenge = parse_challenge(header)
    assert challenge.scheme == scheme
    assert dict(challenge.params) == params


def test_parse_challenge_properties() -> None:
    challenge = parse_challenge('Bearer realm="r",service="s",scope="x"')
    assert (challenge.realm, challenge.service, challenge.scope) == ("r", "s", "x")


@pytest.mark.parametrize("header", ["", "   ", '"quoted"'])
def test_parse_challenge_rejects_garbage(header: str) -> None:
    with pytest.raises(RegistryProtocolError):
        parse_challenge(header)


def test_credentials_never_show_the_password() -> None:
    creds = Credentials("alice", "s3cret-pw")
    for text in (repr(creds), str(creds), f"{creds}", repr([creds])):
        assert "s3cret-pw" not in text
        assert "alice" in text
    token_creds = Credentials("<token>", "", identity_token="refresh-xyz")
    assert "refresh-xyz" not in repr(token_creds)
    assert "refresh-xyz" not in str(token_creds)


def test_basic_auth_header() -> None:
    header = basic_auth_header(Credentials("alice", "pw:with:colons"))
    assert base64.b64decode(header.removeprefix("Basic ")) == b"alice:pw:with:colons"


def test_token_cache_keeps_tokens_at_least_60_seconds() -> None:
    now = [1000.0]
    cache = TokenCache(clock=lambda: now[0])
    cache.put(("r", "s", "a"), "short", 5)
    cache.put(("r", "s", "b"), "long", 300)
    now[0] += 59
    assert cache.get(("r", "s", "a")) == "short"
    now[0] += 2
    assert cache.get(("r", "s", "a")) is None
    assert cache.get(("r", "s", "b")) == "long"
    now[0] += 300
    assert cache.get(("r", "s", "b")) is None
    assert cache.get(("r", "s", "never")) is None


def _write_config(directory: Path, config: dict[str, object]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.json").write_text(json.dumps(config))
    return directory


def _auth(user: str, password: str) -> dict[str, str]:
    return {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_credentials_for_reads_auths(tmp_path: Path) -> None:
    config_dir = _write_config(
        tmp_path / "docker",
        {
            "auths": {
                "localhost:5000": _auth("alice", "pw1"),
                "https://registry.example.com": _auth("bob", "pw2"),
                "ghcr.io": {},
            }
        },
    )
    assert credentials_for("localhost:5000", str(config_dir)) == Credentials("alice", "pw1")
    # Legacy URL keys are matched on their host name, as the Docker CLI does.
    assert credentials_for("registry.example.com", str(config_dir)) == Credentials("bob", "pw2")
    assert credentials_for("localhost:5001", str(config_dir)) is None
    assert credentials_for("ghcr.io", str(config_dir)) is None  # empty entry: nothing stored


@pytest.mark.parametrize("host", ["docker.io", "index.docker.io", "registry-1.docker.io"])
def test_credentials_for_docker_hub_key(tmp_path: Path, host: str) -> None:
    config_dir = _write_config(tmp_path, {"auths": {"https://index.docker.io/v1/": _auth("hubuser", "hubpw")}})
    assert credentials_for(host, str(config_dir)) == Credentials("hubuser", "hubpw")


def test_credentials_for_identity_token(tmp_path: Path) -> None:
    config_dir = _write_config(tmp_path, {"auths": {"myreg.example": {"auth": "", "identitytoken": "refresh-1"}}})
    creds = credentials_for("myreg.example", str(config_dir))
    assert creds is not None
    assert creds.identity_token == "refresh-1"


def test_credentials_for_uses_docker_config_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config_dir = _write_config(tmp_path / "env", {"auths": {"localhost:5000": _auth("u", "p")}})
    monkeypatch.setenv("DOCKER_CONFIG", str(config_dir))
    assert credentials_for("localhost:5000") == Credentials("u", "p")


def test_credentials_for_without_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A config elsewhere (home) must not be picked up when the given dir has none.
    monkeypatch.setenv("HOME", str(_write_config(tmp_path / "home" / ".docker", {}).parent))
    _write_config(tmp_path / "home" / ".docker", {"auths": {"localhost:5000": _auth("u", "p")}})
    assert credentials_for("localhost:5000", str(tmp_path / "missing")) is None
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "also-missing"))
    assert credentials_for("localhost:5000") is None


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    ("config", "error"),
    [
        (
            {"auths": {"localhost:5000": {"auth": _b64("userpass")}}},
            "auths['localhost:5000'].auth is not base64 of user:password (no colon)",
        ),
        ({"auths": {"localhost:5000": {"auth": "%%%not base64"}}}, ".auth is not base64 of user:password"),
        ({"auths": {"localhost:5000": {"auth": base64.b64encode(b"\xff:\xfe").decode()}}}, ".auth is not base64"),
        ({"auths": {"localhost:5000": {"auth": 42}}}, ".auth is not a string"),
        ({"auths": {"localhost:5000": {"identitytoken": ["x"]}}}, ".identitytoken is not a string"),
        ({"auths": {"localhost:5000": ["x"]}}, "auths['localhost:5000'] is not an object"),
        ({"auths": ["localhost:5000"]}, "`auths` is not an object of logins"),
        ({"credHelpers": ["x"]}, "`credHelpers` is not an object"),
        ({"credHelpers": {"localhost:5000": 1}}, "`credHelpers` is not an object"),
        ({"credsStore": {"x": 1}}, "`credsStore` is not the name of a credential helper"),
        ([1, 2], "the file is not a JSON object"),
        # a broken login for another registry is still a broken file, as docker reads it
        ({"auths": {"other.example": {"auth": "%%"}, "localhost:5000": _auth("u", "p")}}, "auths['other.example']"),
    ],
)
def test_a_docker_config_docker_would_not_write_is_one_clear_error(tmp_path: Path, config: object, error: str) -> None:
    """Before: ValueError, binascii.Error, TypeError or AttributeError from the docker SDK."""
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(RegistryAuthError) as info:
        credentials_for("localhost:5000", str(tmp_path))
    assert error in info.value.message
    assert str(tmp_path / "config.json") in info.value.message
    assert "docker login" in info.value.tip or "fix or remove" in info.value.tip


def test_a_docker_config_that_is_not_json_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text('{"auths": ')
    with pytest.raises(RegistryAuthError, match="cannot read the Docker config"):
        credentials_for("localhost:5000", str(tmp_path))


@pytest.mark.parametrize("entry", [{"auth": None}, {"auth": ""}, {}])
def test_an_empty_or_null_auth_is_no_login(tmp_path: Path, entry: dict[str, object]) -> None:
    config_dir = _write_config(tmp_path, {"auths": {"localhost:5000": entry}})
    assert credentials_for("localhost:5000", str(config_dir)) is None


def test_a_config_without_logins_never_sends_the_sdk_looking_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "DOCKER_CONFIG", str(_write_config(tmp_path / "elsewhere", {"auths": {"localhost:5000": _auth("u", "p")}}))
    )
    assert credentials_for("localhost:5000", str(_write_config(tmp_path / "mine", {"currentContext": "x"}))) is None
