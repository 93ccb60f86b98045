"""The class report's HTTP: never through a proxy, its tokens only to the class registry.

A class on 127.0.0.1 made of fakes (a token server and fake_registry): what is tested is
where labcheck's requests go, not what the registry answers (test_class_docker.py grades a
real class).
"""

from __future__ import annotations

import base64
import json
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from labcheck.classroom.report import ClassTokenTransport, grade_class
from labcheck.classroom.state import ClassLogin, ClassState
from labcheck.session import load_lab
from net_kit import PROXY_VARIABLES, recording_proxy

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "robustness"))
from fake_registry import fake_registry

GRADER = ClassLogin("instructor", "grading-pw-" + "9" * 8)


@contextmanager
def token_server(seen: list[str]) -> Iterator[str]:
    class Tokens(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            expected = base64.b64encode(f"{GRADER.user}:{GRADER.password}".encode()).decode()
            ok = self.headers.get("Authorization") == f"Basic {expected}"
            seen.append(self.path)
            body = json.dumps({"token": "class-token"} if ok else {}).encode()
            self.send_response(200 if ok else 401)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Tokens)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/token"
    finally:
        server.shutdown()
        server.server_close()


def test_the_class_report_never_goes_through_a_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: the token request honoured HTTP_PROXY for 127.0.0.1, and the proxy received
    the instructor's Basic credentials."""
    spec = load_lab("part7")
    token_requests: list[str] = []
    with recording_proxy() as (proxy, seen), token_server(token_requests) as token_url, fake_registry() as address:
        for name in PROXY_VARIABLES:
            monkeypatch.setenv(name, proxy)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        state = ClassState(
            lab="part7",
            instance="class-test",
            service=spec.class_service or "",
            host="127.0.0.1",
            port=int(address.rsplit(":", 1)[1]),
            realm=token_url,
            token_url=token_url,
            container_id="",
            token_pid=0,
            token_command=(),
            grader=GRADER,
            learners=(ClassLogin("alice", "alice-pw"),),
        )
        report = grade_class(spec, state, timeout=5)
    assert seen.requests == [], "the proxy was sent: " + ", ".join(seen.lines())
    assert token_requests and all(p.startswith("/token?") for p in token_requests)
    assert [row.learner for row in report.rows] == ["alice"]


def test_class_tokens_go_to_the_class_registry_only() -> None:
    sent: list[tuple[str, str | None]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append((request.url.host, request.headers.get("Authorization")))
        return httpx.Response(200)

    transport = ClassTokenTransport({"alice/app": "class-token"}, httpx.MockTransport(handler), "localhost:5050")
    with httpx.Client(transport=transport) as http:
        http.get("http://localhost:5050/v2/alice/app/blobs/sha256:" + "0" * 64)
        http.get("https://storage.example/v2/alice/app/blobs/sha256:" + "0" * 64)  # a redirect's target
        http.get("http://localhost:5051/v2/alice/app/tags/list")  # another port is another server
    assert sent == [
        ("localhost", "Bearer class-token"),
        ("storage.example", None),
        ("localhost", None),
    ]
