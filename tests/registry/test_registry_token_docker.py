"""Bearer-token auth as Docker Hub does it, against a real registry:2 configured for token auth.

The registry trusts a certificate the test generates (REGISTRY_AUTH_TOKEN_ROOTCERTBUNDLE) and
points clients at a token server the test runs on 127.0.0.1 (REGISTRY_AUTH_TOKEN_REALM). The
registry never calls the token server: clients do. registry 2.8 finds the signing key from
the JWT header: `x5c` (the certificate chain, checked against the root bundle) as used here,
a `jwk`, or a `kid` in libtrust's fingerprint format (distribution's registry/auth/token).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from labcheck.errors import RegistryAuthError
from labcheck.registry import Credentials, RegistryClient
from registry_kit import credential_helper, push_index, running_registry

pytestmark = pytest.mark.docker

SERVICE = "labcheck-test-registry"
ISSUER = "labcheck-test-token-issuer"
USERS = {"alice": "alice-" + secrets.token_hex(8)}
#: OAuth2 refresh tokens, as `docker login` stores them (`identitytoken`) after an SSO login.
IDENTITY_TOKENS = {"refresh-" + secrets.token_hex(8): "alice"}


def _key_and_cert() -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ISSUER)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return key, cert


@dataclass
class TokenServer:
    """Docker Hub's token flow in miniature: anonymous pull on public/*, alice may do anything."""

    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate
    port: int = 0
    requests: list[tuple[str | None, tuple[str, ...]]] = field(default_factory=list)
    refreshes: list[tuple[str | None, tuple[str, ...]]] = field(default_factory=list)  # the OAuth2 POSTs

    def mint(self, user: str | None, scopes: list[str]) -> str:
        access = []
        for scope in scopes:
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            wanted = actions.split(",")
            public = [a for a in wanted if a == "pull" and name.startswith("public/")]
            granted = wanted if user is not None else public
            access.append({"type": kind, "name": name, "actions": granted})
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "sub": user or "",
            "aud": SERVICE,
            "exp": now + 300,
            "nbf": now - 10,
            "iat": now,
            "jti": secrets.token_hex(8),
            "access": access,
        }
        der = self.cert.public_bytes(serialization.Encoding.DER)
        return jwt.encode(claims, self.key, algorithm="ES256", headers={"x5c": [base64.b64encode(der).decode()]})

    def handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = parse_qs(urlparse(self.path).query)
                user = None
                header = self.headers.get("Authorization", "")
                if header.startswith("Basic "):
                    name, _, password = base64.b64decode(header[6:]).decode().partition(":")
                    if USERS.get(name) != password:
                        self.send_response(401)
                        self.end_headers()
                        return
                    user = name
                scopes = query.get("scope", [])
                server.requests.append((user, tuple(scopes)))
                body = json.dumps({"token": server.mint(user, scopes), "expires_in": 300}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                """The OAuth2 refresh-token grant: an identity token in, an access token out."""
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode())
                user = IDENTITY_TOKENS.get(form.get("refresh_token", [""])[0])
                scopes = [s for raw in form.get("scope", []) for s in raw.split()]
                server.refreshes.append((user, tuple(scopes)))
                if form.get("grant_type") != ["refresh_token"] or user is None:
                    self.send_response(401)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = json.dumps({"access_token": server.mint(user, scopes), "expires_in": 300}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

        return Handler


@pytest.fixture(scope="module")
def token_registry() -> Iterator[tuple[int, TokenServer]]:
    key, cert = _key_and_cert()
    tokens = TokenServer(key, cert)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), tokens.handler())
    tokens.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    env = {
        "REGISTRY_AUTH": "token",
        "REGISTRY_AUTH_TOKEN_REALM": f"http://127.0.0.1:{tokens.port}/token",
        "REGISTRY_AUTH_TOKEN_SERVICE": SERVICE,
        "REGISTRY_AUTH_TOKEN_ISSUER": ISSUER,
        "REGISTRY_AUTH_TOKEN_ROOTCERTBUNDLE": "/certs/root.pem",
    }
    try:
        with running_registry(env, {"/certs/root.pem": cert.public_bytes(serialization.Encoding.PEM)}) as port:
            for name, tag in (("public/app", "v1"), ("private/app", "v1"), ("alice/my-app", "latest")):
                token = tokens.mint("alice", [f"repository:{name}:pull,push"])
                with httpx.Client(
                    base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"}
                ) as http:
                    push_index(http, name, tag)
            yield port, tokens
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_the_registry_asks_for_a_bearer_token(token_registry: tuple[int, TokenServer]) -> None:
    port, tokens = token_registry
    answer = httpx.get(f"http://127.0.0.1:{port}/v2/public/app/tags/list")
    assert answer.status_code == 401
    challenge = answer.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ")
    assert f'realm="http://127.0.0.1:{tokens.port}/token"' in challenge
    assert 'scope="repository:public/app:pull"' in challenge


def test_anonymous_pull_token_for_a_public_repository(token_registry: tuple[int, TokenServer]) -> None:
    port, tokens = token_registry
    tokens.requests.clear()
    with RegistryClient(f"127.0.0.1:{port}") as client:
        assert client.list_tags("public/app") == ["v1"]
        digest = client.resolve("public/app", "v1")
        assert digest is not None
        assert client.manifest("public/app", digest).is_index
    assert tokens.requests == [(None, ("repository:public/app:pull",))]  # one token, reused


def test_anonymous_access_to_a_private_repository_is_refused(token_registry: tuple[int, TokenServer]) -> None:
    port, _ = token_registry
    with RegistryClient(f"127.0.0.1:{port}") as client, pytest.raises(RegistryAuthError) as info:
        client.list_tags("private/app")
    assert "anonymous" in info.value.message


def test_credentialed_tokens_are_reused_and_renewed_on_a_scope_change(token_registry: tuple[int, TokenServer]) -> None:
    port, tokens = token_registry
    tokens.requests.clear()
    with RegistryClient(f"127.0.0.1:{port}", credentials=Credentials("alice", USERS["alice"])) as client:
        assert client.list_tags("private/app") == ["v1"]
        digest = client.resolve("private/app", "v1")
        assert digest is not None
        index = client.manifest("private/app", digest)
        client.image_config("private/app", index.digest)
        assert tokens.requests == [("alice", ("repository:private/app:pull",))]
        assert client.list_tags("public/app") == ["v1"]  # another repository: another scope
        assert client.list_tags("private/app") == ["v1"]  # back again: the cached token
    assert tokens.requests == [
        ("alice", ("repository:private/app:pull",)),
        ("alice", ("repository:public/app:pull",)),
    ]


def test_refused_credentials_are_an_auth_error_without_the_password(token_registry: tuple[int, TokenServer]) -> None:
    port, _ = token_registry
    wrong = "not-" + USERS["alice"]
    client = RegistryClient(f"127.0.0.1:{port}", credentials=Credentials("alice", wrong))
    with client, pytest.raises(RegistryAuthError) as info:
        client.list_tags("private/app")
    assert "alice" in info.value.message
    assert wrong not in info.value.message and wrong not in repr(info.value)


def _run_remote(
    port: int, tmp_path: Path, password: str, config_json: dict[str, Any] | None = None, path: Path | None = None
) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "docker-config"
    config.mkdir(exist_ok=True)
    auth = base64.b64encode(f"alice:{password}".encode()).decode()
    config_json = config_json or {"auths": {f"127.0.0.1:{port}": {"auth": auth}}}
    (config / "config.json").write_text(json.dumps(config_json))
    env = {**os.environ, "DOCKER_CONFIG": str(config), "LABCHECK_STATE_DIR": str(tmp_path / "state"), "NO_COLOR": "1"}
    if path is not None:
        env["PATH"] = f"{path}{os.pathsep}{env.get('PATH', '')}"
    command = [sys.executable, "-m", "labcheck", "run", "part7", "hub-publish", "semver-latest"]
    command += ["--registry", f"127.0.0.1:{port}", "--namespace", "alice", "--format", "text"]
    workspace = tmp_path / "workspace"  # the learner's git repository (no_inline_password reads it)
    workspace.mkdir(exist_ok=True)
    subprocess.run(["git", "init", "-q", str(workspace)], check=True)
    git_user = ["-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run(["git", "-C", str(workspace), *git_user, "commit", "-q", "--allow-empty", "-m", "start"], check=True)
    return subprocess.run(command, env=env, cwd=workspace, capture_output=True, text=True, timeout=120, check=False)


def test_labcheck_run_grades_a_token_auth_registry_with_the_docker_credentials(
    token_registry: tuple[int, TokenServer], tmp_path: Path
) -> None:
    port, _ = token_registry
    done = _run_remote(port, tmp_path, USERS["alice"])
    out = done.stdout + done.stderr
    assert done.returncode == 1, out  # alice/my-app:latest is there, the versions are not
    assert "PASS  latest-pushed" in out
    assert "FAIL  version-pushed" in out
    assert "SKIP  logged-out: not graded on a remote registry" in out
    assert USERS["alice"] not in out


def test_labcheck_run_with_refused_credentials_exits_3(token_registry: tuple[int, TokenServer], tmp_path: Path) -> None:
    port, _ = token_registry
    wrong = "wrong-" + secrets.token_hex(6)
    done = _run_remote(port, tmp_path, wrong)
    out = done.stdout + done.stderr
    assert done.returncode == 3, out
    assert "refused user 'alice'" in out
    assert "FAIL" not in out
    assert wrong not in out


def test_an_identity_token_is_exchanged_for_access_tokens(
    token_registry: tuple[int, TokenServer], tmp_path: Path
) -> None:
    """`docker login` with SSO stores an identitytoken: it goes in an OAuth2 refresh-token POST."""
    port, tokens = token_registry
    tokens.refreshes.clear()
    identity = next(iter(IDENTITY_TOKENS))
    config = {"auths": {f"127.0.0.1:{port}": {"auth": "", "identitytoken": identity}}}
    done = _run_remote(port, tmp_path, "", config)
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "PASS  latest-pushed" in out and "FAIL  version-pushed" in out
    assert ("alice", ("repository:alice/my-app:pull",)) in tokens.refreshes
    assert identity not in out


def test_an_identity_token_from_a_credential_helper(token_registry: tuple[int, TokenServer], tmp_path: Path) -> None:
    """A helper answering user `<token>` hands over an identity token, not a password."""
    port, tokens = token_registry
    tokens.refreshes.clear()
    identity = next(iter(IDENTITY_TOKENS))
    host = f"127.0.0.1:{port}"
    credential_helper(tmp_path / "bin", "sso", {host: ("<token>", identity)}, tmp_path / "helper.log")
    done = _run_remote(port, tmp_path, "", {"credHelpers": {host: "sso"}}, tmp_path / "bin")
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "PASS  latest-pushed" in out
    assert tokens.refreshes and all(user == "alice" for user, _ in tokens.refreshes)
    assert identity not in out


def test_a_refused_identity_token_exits_3_without_showing_it(
    token_registry: tuple[int, TokenServer], tmp_path: Path
) -> None:
    port, _ = token_registry
    stale = "refresh-" + secrets.token_hex(8)
    done = _run_remote(port, tmp_path, "", {"auths": {f"127.0.0.1:{port}": {"identitytoken": stale}}})
    out = done.stdout + done.stderr
    assert done.returncode == 3, out
    assert "refused user '<token>'" in out
    assert "FAIL" not in out and stale not in out
