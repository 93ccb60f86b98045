"""A small HTTP server on 127.0.0.1 that misbehaves the way real registries and proxies do.

Only for error paths a real registry:2 cannot produce on demand (HTML portals, garbage,
huge bodies, lying digest headers, 10,000 tags). Each server runs in a thread and serves one
"behaviour"; the good parts of the protocol follow the distribution spec closely enough for
labcheck to grade against it.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from labcheck.registry import media_types

CONFIG = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Labels": {}}}).encode()


def _sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": media_types.DOCKER_MANIFEST,
        "config": {"mediaType": media_types.DOCKER_CONFIG, "digest": _sha(CONFIG), "size": len(CONFIG)},
        "layers": [],
    }
).encode()
DIGEST = _sha(MANIFEST)
#: The tags the `promote` exercise grades; a good fake serves them all as one image.
PROMOTE_TAGS = ("1.2.3", "latest", "production", "staging")


class _Handler(BaseHTTPRequestHandler):
    behaviour = "good"
    tags: tuple[str, ...] = PROMOTE_TAGS
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _send(
        self, status: int, body: bytes = b"", ctype: str = "application/json", headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Docker-Distribution-API-Version", "registry/2.0")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _error(self, status: int, code: str) -> None:
        self._send(status, json.dumps({"errors": [{"code": code, "message": code.lower()}]}).encode())

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        b = self.behaviour
        if b == "html":
            return self._send(200, b"<!doctype html><html><body>Sign in to the portal</body></html>", "text/html")
        if b == "tls":  # what Go's net/http answers plain HTTP on a TLS port
            return self._send(400, b"Client sent an HTTP request to an HTTPS server.\n", "text/plain")
        if b == "basic":
            return self._send(401, b"", headers={"WWW-Authenticate": 'Basic realm="private"'})
        if b == "bearer-refused":
            if url.path == "/token":
                return self._send(401, b'{"details":"incorrect username or password"}')
            realm = f"http://127.0.0.1:{self.server.server_address[1]}/token"
            challenge = f'Bearer realm="{realm}",service="fake"'
            return self._send(401, b"", headers={"WWW-Authenticate": challenge})
        if b == "rate-limited":
            return self._send(429, b'{"errors":[{"code":"TOOMANYREQUESTS"}]}', headers={"Retry-After": "0"})
        if url.path == "/v2/":
            return self._send(200, b"{}")
        if url.path.endswith("/tags/list"):
            return self._tags(url.query)
        if "/manifests/" in url.path:
            return self._manifest(url.path.rsplit("/", 1)[1])
        if "/blobs/" in url.path and url.path.endswith(_sha(CONFIG)):
            return self._send(200, CONFIG, "application/octet-stream")
        return self._error(404, "BLOB_UNKNOWN")

    def _tags(self, query: str) -> None:
        b = self.behaviour
        if b == "garbage-json":
            return self._send(200, b'{"name": "myapp", "tags": [1.2.3')
        if b == "huge-body":
            return self._send(200, b" " * (10 * 1024 * 1024))
        if b == "server-error":
            return self._send(500, b"internal server error", "text/plain")
        if b == "no-repo":
            return self._error(404, "NAME_UNKNOWN")
        if b == "tags-not-list":
            return self._send(200, b'{"name": "myapp", "tags": "latest"}')
        if b == "foreign-link":
            return self._send(200, b'{"tags": ["latest"]}', headers={"Link": '<http://evil.example/v2/x>; rel="next"'})
        # paging as registry:2 does it: n and last, Link to the next page
        params = parse_qs(query)
        n = int(params.get("n", ["100"])[0])
        last = params.get("last", [""])[0]
        rest = [t for t in sorted(self.tags) if t > last]
        page, more = rest[:n], len(rest) > n
        headers = {"Link": f'</v2/myapp/tags/list?n={n}&last={page[-1]}>; rel="next"'} if more else {}
        return self._send(200, json.dumps({"name": "myapp", "tags": page}).encode(), headers=headers)

    def _manifest(self, ref: str) -> None:
        b = self.behaviour
        if ref not in self.tags and not ref.startswith("sha256:"):
            return self._error(404, "MANIFEST_UNKNOWN")
        if b == "digest-mismatch":  # the header claims one digest, the bytes hash to another
            wrong = "sha256:" + "0" * 64
            return self._send(200, MANIFEST, media_types.DOCKER_MANIFEST, {"Docker-Content-Digest": wrong})
        if b == "bad-digest-header":
            return self._send(200, MANIFEST, media_types.DOCKER_MANIFEST, {"Docker-Content-Digest": "md5 of it"})
        if b == "not-a-manifest":
            body = b'{"hello": "world"}'
            return self._send(200, body, "application/json", {"Docker-Content-Digest": _sha(body)})
        return self._send(200, MANIFEST, media_types.DOCKER_MANIFEST, {"Docker-Content-Digest": DIGEST})


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # the client hanging up on a 10 MB body is what the test wants, not news


@contextmanager
def fake_registry(behaviour: str = "good", tags: tuple[str, ...] = PROMOTE_TAGS) -> Iterator[str]:
    """Serve `behaviour` on 127.0.0.1:<free port>; yields "127.0.0.1:PORT"."""
    handler = type("Handler", (_Handler,), {"behaviour": behaviour, "tags": tags})
    server = _QuietServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
