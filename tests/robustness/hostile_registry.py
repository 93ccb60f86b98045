"""Registries and token servers that attack the client, on 127.0.0.1 (issue 15, network half).

Only for what a real registry:2 cannot be made to do: odd but legal answers (a realm that is
not a URL, `expires_in: 1e400`, a tag with a space, an image config that is `[]`), hostile
ones (a 100 KB Link header built to make a regex backtrack, a server that drips one byte at
a time, escape sequences in error messages, a token with CR/LF in it, bodies of hundreds of
MiB) and a second host to redirect to. The good parts are fake_registry's.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from fake_registry import CONFIG, PROMOTE_TAGS, _Handler, _QuietServer, _sha

from labcheck.registry import media_types

#: Image configs that are legal JSON but not an image config, or JSON nested 5000 deep.
BAD_CONFIGS = {
    "config-list": b"[]",
    "config-string": b'{"config": "x"}',
    "config-deep": b'{"config": ' + b"[" * 5000 + b"]" * 5000 + b"}",
}
#: A Link header that makes `<([^>]*)>\s*;[^,]*\brel=...` backtrack: 100 KB of `<>;`.
LINK_BOMB = "<>;" * 33_333
FAR_FUTURE = "Wed, 21 Oct 99999999999 07:28:00 GMT"
ESCAPES = "\x1b]52;c;ZWNobyBwd25lZA==\x07\x1b[2J\r\nlabcheck: all checks passed"
SECRET_TOKEN = "secret-token-4f1e"
MIB = 1024 * 1024


def _manifest_for(config: bytes) -> bytes:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": media_types.DOCKER_MANIFEST,
            "config": {"mediaType": media_types.DOCKER_CONFIG, "digest": _sha(config), "size": len(config)},
            "layers": [],
        }
    ).encode()


class _Hostile(_Handler):
    """fake_registry's good registry, with one hostile behaviour on top."""

    huge_mib = 300  # the size of `huge-*` bodies
    redirect_to = ""  # `redirect-blob`: where blobs are sent
    seen: list[tuple[str, str, dict[str, str]]]  # (method, path, headers) of every request
    counter: list[int]

    def _record(self) -> None:
        self.seen.append((self.command, self.path, {k.lower(): v for k, v in self.headers.items()}))

    def _realm(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/token"

    def _stream(self, status: int, mib: int, headers: dict[str, str] | None = None) -> None:
        """`mib` MiB of JSON-ish bytes, chunked (no Content-Length: the client must count)."""
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b" " * MIB
        try:
            for _ in range(mib):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass  # the client stopped reading: what it should do

    def do_POST(self) -> None:
        self._record()
        self._send(404, b"{}")

    def do_GET(self) -> None:
        self._record()
        b = self.behaviour
        path = self.path.split("?")[0]
        if b == "drip":  # one byte every 0.2 s, for as long as the client listens
            try:
                for byte in b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + b"X-Slow: " + b"." * 10_000:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(0.2)
            except OSError:
                pass
            return
        if b == "escape-error":
            body = json.dumps({"errors": [{"code": "DENIED", "message": ESCAPES}]}).encode()
            return self._send(403, body)
        if b == "bad-realm":
            return self._send(401, b"", headers={"WWW-Authenticate": 'Bearer realm="http://[::1",service="fake"'})
        if b.startswith(("token-", "huge-token")):
            return self._token_flow(path)
        if b == "retry-after-far" and not self.counter:
            self.counter.append(1)
            return self._send(429, b'{"errors":[{"code":"TOOMANYREQUESTS"}]}', headers={"Retry-After": FAR_FUTURE})
        if b == "bad-tag" and path.endswith("/tags/list"):
            return self._send(200, json.dumps({"name": "myapp", "tags": [*PROMOTE_TAGS, "bad tag"]}).encode())
        if b == "link-bomb" and path.endswith("/tags/list"):
            return self._send(200, b'{"tags": ["latest"]}', headers={"Link": LINK_BOMB})
        if b in BAD_CONFIGS:
            return self._bad_config(path, BAD_CONFIGS[b])
        if b == "redirect-blob" and "/blobs/" in path:
            return self._send(307, b"", headers={"Location": f"{self.redirect_to}{self.path}"})
        if b == "huge-redirect" and "/blobs/" in path:
            return self._stream(307, self.huge_mib, {"Location": f"{self.redirect_to}{self.path}"})
        if b == "basic-then-redirect":
            if "/blobs/" not in path or not self.headers.get("Authorization", "").startswith("Basic "):
                return self._send(401, b"", headers={"WWW-Authenticate": 'Basic realm="private"'})
            return self._send(307, b"", headers={"Location": f"{self.redirect_to}{self.path}"})
        return super().do_GET()

    def _token_flow(self, path: str) -> None:
        b = self.behaviour
        token = SECRET_TOKEN + ("\r\nX-Evil: 1" if b == "token-crlf" else "")
        if path == "/token":
            if b == "huge-token":
                return self._stream(200, self.huge_mib, {"Content-Type": "application/json"})
            expires = {"token-inf": "1e400", "token-bigint": "1" + "0" * 400, "token-nan": "NaN"}.get(b, "300")
            body = f'{{"token": {json.dumps(token)}, "expires_in": {expires}}}'.encode()
            return self._send(200, body)
        if self.headers.get("Authorization") != f"Bearer {SECRET_TOKEN}":
            challenge = f'Bearer realm="{self._realm()}",service="fake"'
            if b == "token-empty-elements":  # legal: RFC 9110 list elements may be empty
                challenge = f', Bearer realm="{self._realm()}",,service="fake",'
            return self._send(401, b"", headers={"WWW-Authenticate": challenge})
        return super().do_GET()

    def _bad_config(self, path: str, config: bytes) -> None:
        manifest = _manifest_for(config)
        if "/manifests/" in path:
            ref = path.rsplit("/", 1)[1]
            if ref not in self.tags and ref != _sha(manifest):
                return self._error(404, "MANIFEST_UNKNOWN")
            headers = {"Docker-Content-Digest": _sha(manifest)}
            return self._send(200, manifest, media_types.DOCKER_MANIFEST, headers)
        if path.endswith(_sha(config)):
            return self._send(200, config, "application/octet-stream")
        return super().do_GET()


@contextmanager
def hostile_registry(
    behaviour: str,
    *,
    tags: tuple[str, ...] = PROMOTE_TAGS,
    redirect_to: str = "",
    huge_mib: int = 300,
) -> Iterator[tuple[str, list[tuple[str, str, dict[str, str]]]]]:
    """Serve `behaviour` on 127.0.0.1:<free port>; yield ("127.0.0.1:PORT", requests seen)."""
    seen: list[tuple[str, str, dict[str, str]]] = []
    attrs = {
        "behaviour": behaviour,
        "tags": tags,
        "seen": seen,
        "counter": [],
        "redirect_to": redirect_to,
        "huge_mib": huge_mib,
    }
    server = _QuietServer(("127.0.0.1", 0), type("Handler", (_Hostile,), attrs))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


__all__ = ["BAD_CONFIGS", "CONFIG", "ESCAPES", "SECRET_TOKEN", "hostile_registry"]
