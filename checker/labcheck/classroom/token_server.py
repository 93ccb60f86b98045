"""The class registry's token endpoint: `python -m labcheck.classroom.token_server CONFIG`.

`labcheck class up` starts it as a detached host process (no Python image can be pulled
to run it in a container). CONFIG is a JSON file (mode 0600) naming the address to listen
on, the signing key and certificate files, and each login's salted password hash. It
answers `GET /token?service=...&scope=...` with Basic credentials (the token flow of the
distribution spec) and `GET /healthz`. It never logs credentials, tokens or query strings.

OAuth2 (`POST /token`, distribution's oauth.md) is not served: its 404 is how that spec
tells a client to use GET instead. containerd's resolver, which pushes for the containerd
image store (Docker Desktop 4.34+, Engine 29), posts first and falls back on a 404; any
other refusal (HTTP servers answer 501 to an unknown method) fails the learner's push.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import sys
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from labcheck.classroom.tokens import (
    TOKEN_TTL,
    SigningKey,
    TokenSigner,
    grant,
    parse_scope,
    password_matches,
)

MAX_FORM = 64 * 1024  # an OAuth2 form is a few hundred bytes


@dataclass(frozen=True)
class Login:
    salt: str
    digest: str
    grader: bool = False


@dataclass(frozen=True)
class ServerConfig:
    host: str
    port: int
    signer: TokenSigner
    logins: dict[str, Login]

    @classmethod
    def load(cls, path: Path) -> ServerConfig:
        data = json.loads(path.read_text(encoding="utf-8"))
        signing = SigningKey(Path(data["key_file"]).read_bytes(), Path(data["cert_file"]).read_bytes())
        logins = {user: Login(v["salt"], v["hash"], bool(v.get("grader"))) for user, v in data["logins"].items()}
        signer = TokenSigner(signing, issuer=data["issuer"], service=data["service"])
        return cls(host=data["host"], port=int(data["port"]), signer=signer, logins=logins)


def basic_user(header: str | None, logins: dict[str, Login]) -> tuple[str, Login] | None:
    """The login named by a valid `Authorization: Basic` header, or None."""
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        user, sep, password = base64.b64decode(header[6:].strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    login = logins.get(user)
    if not sep or login is None or not password_matches(password, login.salt, login.digest):
        return None
    return user, login


def token_response(
    config: ServerConfig, path: str, authorization: str | None, method: str = "GET"
) -> tuple[int, dict[str, Any]]:
    """(HTTP status, JSON body) for one request: pure, so unit tests need no socket."""
    url = urlsplit(path)
    if method != "GET":
        return 404, {"errors": [{"code": "NOT_FOUND", "message": "no OAuth2 here: GET /token with Basic credentials"}]}
    if url.path == "/healthz":
        return 200, {"ok": True}
    if url.path != "/token":
        return 404, {"errors": [{"code": "NOT_FOUND", "message": "only /token is served here"}]}
    query = parse_qs(url.query)
    if query.get("service", [config.signer.service])[0] != config.signer.service:
        return 400, {"errors": [{"code": "UNSUPPORTED", "message": "unknown service"}]}
    who = basic_user(authorization, config.logins)
    if who is None:
        return 401, {"errors": [{"code": "UNAUTHORIZED", "message": "a valid class login is required"}]}
    user, login = who
    requested = [a for raw in query.get("scope", []) for s in raw.split(" ") if (a := parse_scope(s))]
    access = grant(user, grader=login.grader, requested=requested)
    claims = config.signer.claims(user, access)
    token = config.signer.sign(claims)
    issued = dt.datetime.fromtimestamp(float(str(claims["iat"])), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return 200, {"token": token, "access_token": token, "expires_in": TOKEN_TTL, "issued_at": issued}


def make_handler(config: ServerConfig) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body are two writes: with Nagle on, the client's delayed ACK adds 40 ms a token.
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            self.answer(*token_response(config, self.path, self.headers.get("Authorization")))

        def do_POST(self) -> None:
            # The form carries a password: read past it (the connection is kept alive), never keep it.
            length = self.headers.get("Content-Length") or "0"
            if length.isdigit() and int(length) <= MAX_FORM:
                self.rfile.read(int(length))
            else:
                self.close_connection = True
            self.answer(*token_response(config, self.path, None, method="POST"))

        def answer(self, status: int, body: dict[str, Any]) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            if status == 401:
                self.send_header("WWW-Authenticate", 'Basic realm="labcheck class"')
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # request lines carry account names and scopes: nothing worth a log

    return Handler


def serve(config: ServerConfig) -> None:
    server = ThreadingHTTPServer((config.host, config.port), make_handler(config))
    server.daemon_threads = True
    try:
        server.serve_forever()
    finally:
        server.server_close()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m labcheck.classroom.token_server CONFIG", file=sys.stderr)
        return 2
    try:
        serve(ServerConfig.load(Path(args[0])))
    except KeyboardInterrupt:
        return 0
    except OSError as exc:
        print(f"token server: cannot listen: {exc.strerror}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
