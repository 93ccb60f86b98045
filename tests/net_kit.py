"""Network helpers for tests, all on 127.0.0.1: a proxy that records what reaches it, a
fault-injecting reverse proxy in front of a real registry, a port someone else took before
labcheck could use it, and a child process's peak memory."""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from labcheck.environment.services import free_port

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


@contextmanager
def listening_port() -> Iterator[int]:
    """A port on 127.0.0.1 that another process listens on, for as long as the block runs."""
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        yield int(blocker.getsockname()[1])


class PortPicks:
    """free_port, except that its answer number `at` (from 0) is `taken`: a port another process
    took between free_port offering it and Docker binding it. This is the race `verify` met in CI,
    when an outgoing connection's local port landed on a port free_port had just offered."""

    def __init__(self, taken: int, at: int = 0) -> None:
        self.taken, self.at = taken, at
        self.given: list[int] = []

    def __call__(self, host: str = "127.0.0.1") -> int:
        self.given.append(self.taken if len(self.given) == self.at else free_port(host))
        return self.given[-1]


@dataclass
class Seen:
    """What a test server was sent: request lines and their headers (names lower-case)."""

    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [line for line, _ in self.requests]


@contextmanager
def _serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def recording_proxy() -> Iterator[tuple[str, Seen]]:
    """An HTTP proxy that records every request (CONNECT included) and forwards none: 502.
    Yields ("http://127.0.0.1:PORT", what it saw)."""
    seen = Seen()

    class Proxy(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _refuse(self) -> None:
            seen.requests.append((self.requestline, {k.lower(): v for k, v in self.headers.items()}))
            self.send_response(502)
            self.send_header("Content-Length", "0")
            self.send_header("Connection", "close")
            self.end_headers()

        do_GET = do_HEAD = do_POST = do_PUT = do_CONNECT = _refuse

        def log_message(self, format: str, *args: object) -> None:
            pass

    with _serve(Proxy) as port:
        yield f"http://127.0.0.1:{port}", seen


@contextmanager
def fault_proxy(upstream_port: int, failures: int, retry_after: str = "1") -> Iterator[tuple[int, Seen]]:
    """A reverse proxy in front of 127.0.0.1:`upstream_port` that answers the first
    `failures` requests with 429 and `Retry-After`, then forwards every request as it is.
    Yields (its port, what it saw)."""
    seen = Seen()
    lock = threading.Lock()

    class Faulty(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _handle(self) -> None:
            with lock:
                seen.requests.append((self.requestline, {k.lower(): v for k, v in self.headers.items()}))
                refuse = len(seen.requests) <= failures
            if refuse:
                body = json.dumps({"errors": [{"code": "TOOMANYREQUESTS", "message": "slow down"}]}).encode()
                self.send_response(429)
                self.send_header("Retry-After", retry_after)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            upstream = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=30)
            length = int(self.headers.get("Content-Length") or 0)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
            upstream.request(self.command, self.path, body=self.rfile.read(length) if length else None, headers=headers)
            answer = upstream.getresponse()
            body = answer.read()
            self.send_response(answer.status)
            for key, value in answer.getheaders():
                if key.lower() not in ("connection", "transfer-encoding", "content-length", "date", "server"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            upstream.close()

        do_GET = do_HEAD = _handle

        def log_message(self, format: str, *args: object) -> None:
            pass

    with _serve(Faulty) as port:
        yield port, seen


def child_peak_rss_mib(code: str, timeout: float = 120) -> tuple[float, str]:
    """Run `code` in a fresh Python; (its peak resident memory in MiB, what it printed)."""
    # VmHWM is this process's own high-water mark; ru_maxrss would also count the parent
    # that forked it (Linux carries it across execve).
    wrapper = (
        f"{code}\nimport sys as _s\n"
        "_hwm = [l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM:')][0]\n"
        "print('PEAK_KIB', _hwm, file=_s.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", wrapper], capture_output=True, text=True, timeout=timeout, check=False)
    peak = [line for line in done.stderr.splitlines() if line.startswith("PEAK_KIB")]
    assert peak, f"the child failed:\n{done.stdout}\n{done.stderr}"
    return int(peak[0].split()[1]) / 1024, done.stdout
