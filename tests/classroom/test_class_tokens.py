"""Token auth: the namespace policy, the JWT the registry verifies, the token endpoint."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from http.server import ThreadingHTTPServer

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from labcheck.classroom.token_server import Login, ServerConfig, make_handler, token_response
from labcheck.classroom.tokens import (
    ISSUER,
    SERVICE,
    Access,
    TokenSigner,
    decode_unverified,
    grant,
    hash_password,
    libtrust_kid,
    new_signing_key,
    parse_scope,
)

SIGNING = new_signing_key()


def test_scopes() -> None:
    assert parse_scope("repository:alice/web-app:pull,push") == Access("repository", "alice/web-app", ("pull", "push"))
    assert parse_scope("repository:localhost:5000/x:pull") == Access("repository", "localhost:5000/x", ("pull",))
    assert parse_scope("garbage") is None


def test_learners_get_their_own_namespace_only() -> None:
    wanted = [
        Access("repository", "alice/web-app", ("pull", "push")),
        Access("repository", "bob/web-app", ("pull", "push")),
        Access("repository", "alice", ("pull",)),  # a repository named alice is not in alice/
        Access("repository", "alice/web-app", ("delete", "*")),
        Access("registry", "catalog", ("*",)),
    ]
    assert grant("alice", grader=False, requested=wanted) == [Access("repository", "alice/web-app", ("pull", "push"))]
    assert grant("alicex", grader=False, requested=wanted) == []


def test_the_grader_only_pulls() -> None:
    wanted = [Access("repository", "alice/web-app", ("pull", "push")), Access("repository", "bob/x", ("pull",))]
    assert grant("instructor", grader=True, requested=wanted) == [
        Access("repository", "alice/web-app", ("pull",)),
        Access("repository", "bob/x", ("pull",)),
    ]


def test_the_jwt_identifies_and_proves_its_key() -> None:
    signer = TokenSigner(SIGNING)
    claims = signer.claims("alice", [Access("repository", "alice/app", ("pull",))], now=1_800_000_000)
    token = signer.sign(claims)
    header, body = decode_unverified(token)
    assert header["alg"] == "RS256" and header["typ"] == "JWT"
    cert = x509.load_pem_x509_certificate(SIGNING.cert_pem)
    x5c = header["x5c"]
    assert isinstance(x5c, list)
    assert base64.b64decode(x5c[0]) == cert.public_bytes(serialization.Encoding.DER)
    public = cert.public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    # libtrust: base32(sha256(DER SPKI)[:30]) in 12 groups of 4, as registry 2.8 looks keys up
    spki = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    expected = base64.b32encode(hashlib.sha256(spki).digest()[:30]).decode()
    assert header["kid"] == libtrust_kid(public) == ":".join(expected[i : i + 4] for i in range(0, 48, 4))
    assert body == claims
    assert (body["iss"], body["aud"], body["sub"]) == (ISSUER, SERVICE, "alice")
    assert body["exp"] == 1_800_000_900 and body["nbf"] == 1_800_000_000 - 5
    assert body["access"] == [{"type": "repository", "name": "alice/app", "actions": ["pull"]}]
    signing_input, _, signature = token.rpartition(".")
    raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    public.verify(raw, signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())  # raises if forged


def _config() -> ServerConfig:
    salt, digest = hash_password("alice-secret")
    gsalt, gdigest = hash_password("grader-secret")
    logins = {"alice": Login(salt, digest), "instructor": Login(gsalt, gdigest, grader=True)}
    return ServerConfig("127.0.0.1", 0, TokenSigner(SIGNING), logins)


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_token_endpoint() -> None:
    config = _config()
    path = f"/token?service={SERVICE}&scope=repository:alice/app:pull,push&scope=repository:bob/app:pull"
    status, body = token_response(config, path, _basic("alice", "alice-secret"))
    assert status == 200 and body["token"] == body["access_token"] and body["expires_in"] == 900
    assert str(body["issued_at"]).endswith("Z")  # RFC 3339: docker refuses a number
    _, claims = decode_unverified(str(body["token"]))
    assert claims["access"] == [{"type": "repository", "name": "alice/app", "actions": ["pull", "push"]}]
    # docker login asks with no scope: a valid login gets an empty token
    status, body = token_response(config, f"/token?service={SERVICE}&account=alice", _basic("alice", "alice-secret"))
    assert status == 200 and decode_unverified(str(body["token"]))[1]["access"] == []


@pytest.mark.parametrize(
    ("path", "auth", "status"),
    [
        (f"/token?service={SERVICE}", None, 401),
        (f"/token?service={SERVICE}", _basic("alice", "wrong"), 401),
        (f"/token?service={SERVICE}", _basic("mallory", "alice-secret"), 401),
        (f"/token?service={SERVICE}", "Basic !!!notbase64", 401),
        ("/token?service=another", _basic("alice", "alice-secret"), 400),
        ("/other", _basic("alice", "alice-secret"), 404),
        ("/healthz", None, 200),
    ],
)
def test_token_endpoint_refusals(path: str, auth: str | None, status: int) -> None:
    got, body = token_response(_config(), path, auth)
    assert got == status
    assert "alice-secret" not in json.dumps(body)


def test_oauth2_posts_get_the_404_that_sends_clients_to_get() -> None:
    """containerd's resolver (the containerd image store's push) posts an OAuth2 password grant
    first and falls back to GET only on a 404 (or 400/401/405): a 501 failed every push."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(_config()))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    form = {"grant_type": "password", "username": "alice", "password": "alice-secret", "client_id": "containerd-client"}
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{server.server_address[1]}", timeout=10) as http:
            posted = http.post("/token", data={**form, "service": SERVICE, "scope": "repository:alice/app:push,pull"})
            assert posted.status_code == 404
            assert "alice-secret" not in posted.text
            # the same kept-alive connection then serves the GET the client falls back to
            got = http.get(
                "/token",
                params={"service": SERVICE, "scope": "repository:alice/app:push,pull"},
                headers={"Authorization": _basic("alice", "alice-secret")},
            )
            assert got.status_code == 200 and got.json()["access_token"]
            assert http.post("/token", content=b"x" * 100_000).status_code == 404  # too big to read: closed after
    finally:
        server.shutdown()
        server.server_close()


def test_signing_key_repr_hides_the_key() -> None:
    assert "PRIVATE" not in repr(SIGNING)
