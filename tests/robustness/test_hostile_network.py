"""Servers that try to make labcheck hang, eat memory or hand over credentials (issue 15).

Real sockets on 127.0.0.1 (hostile_registry, a fake Docker API on a unix socket); what a
real registry:2 does is tested against registry:2 (tests/registry/*_docker.py). Memory is
measured in a child process: its peak resident size must stay far below the bodies served.
"""

from __future__ import annotations

import socketserver
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import httpx
import pytest
from fake_registry import CONFIG, _sha
from hostile_registry import hostile_registry

from labcheck.errors import RegistryProtocolError, RegistryUnreachable
from labcheck.registry import Credentials, RegistryClient
from net_kit import child_peak_rss_mib

SECRET = "pw-" + "7" * 12
HUGE_MIB = 300


# -- time: a wall-clock deadline, not only a timeout per read --------------------------------------


def test_a_request_ends_at_its_deadline_however_fast_the_bytes_drip() -> None:
    """Each byte comes within the 1 s read timeout: before, the request never ended."""
    with hostile_registry("drip") as (address, _):
        client = RegistryClient(address, timeout=1.0, deadline=2.0)
        started = time.monotonic()
        with client, pytest.raises(RegistryUnreachable, match="no complete answer within 2 s"):
            client.ping()
        assert time.monotonic() - started < 3.5


def test_the_run_deadline_bounds_every_request_and_nested_deadlines_keep_the_nearest() -> None:
    from labcheck.http_transport import http_client, request_deadline  # new in the fix: the rest runs on main too
    from labcheck.limits import run_limits

    with hostile_registry("drip") as (address, _), http_client(timeout=1.0, deadline=60) as http:
        started = time.monotonic()
        with run_limits(timeout=1.5), pytest.raises(httpx.ReadTimeout, match="the run's time limit"):
            http.get(f"http://{address}/v2/")
        assert time.monotonic() - started < 2.5
        started = time.monotonic()
        with request_deadline(1.0), request_deadline(30.0), pytest.raises(httpx.ReadTimeout, match="within 1 s"):
            http.get(f"http://{address}/v2/")
        assert time.monotonic() - started < 2.0


# -- credentials: only to the registry itself ------------------------------------------------------


def test_docker_credentials_are_not_sent_to_the_host_a_blob_redirects_to() -> None:
    with hostile_registry("good") as (storage, at_storage):
        redirecting = hostile_registry("basic-then-redirect", redirect_to=f"http://{storage}")
        with (
            redirecting as (registry, at_registry),
            RegistryClient(registry, credentials=Credentials("alice", SECRET)) as client,
        ):
            assert client.blob("myapp", _sha(CONFIG)) == CONFIG
    assert any(h.get("authorization", "").startswith("Basic ") for _, _, h in at_registry)
    assert [path for _, path, _ in at_storage] == [f"/v2/myapp/blobs/{_sha(CONFIG)}"]
    assert all("authorization" not in headers for _, _, headers in at_storage)


# -- memory: every body is streamed and capped -----------------------------------------------------

_CHILD = """
import sys
sys.path[:0] = {paths!r}
from labcheck.errors import RegistryError
from labcheck.registry import RegistryClient
try:
    with RegistryClient({address!r}) as client:
        {call}
    print("no error")
except RegistryError as exc:
    print(type(exc).__name__, exc.message)
"""


def _paths() -> list[str]:
    import labcheck

    return [str(Path(labcheck.__file__).parents[1])]


def test_a_token_answer_of_300_mib_is_not_read_into_memory() -> None:
    """Before: the token service's answer was read whole, then its size checked."""
    with hostile_registry("huge-token", huge_mib=HUGE_MIB) as (address, _):
        code = _CHILD.format(paths=_paths(), address=address, call='client.list_tags("myapp")')
        peak, said = child_peak_rss_mib(code)
    assert "RegistryProtocolError" in said and "not a token" in said, said
    assert peak < 120, f"peak RSS {peak:.0f} MiB for a {HUGE_MIB} MiB answer"


def test_a_redirect_body_of_300_mib_is_never_read() -> None:
    """Before: httpx read a redirect's whole body before following it."""
    call = f"assert client.blob('myapp', {_sha(CONFIG)!r}) == {CONFIG!r}"
    with hostile_registry("good") as (storage, _):
        redirecting = hostile_registry("huge-redirect", redirect_to=f"http://{storage}", huge_mib=HUGE_MIB)
        with redirecting as (registry, _):
            peak, said = child_peak_rss_mib(_CHILD.format(paths=_paths(), address=registry, call=call))
    assert said.strip() == "no error", said
    assert peak < 120, f"peak RSS {peak:.0f} MiB for a {HUGE_MIB} MiB redirect"


class _UnixHTTPServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


@contextmanager
def _docker_api_with_a_huge_log(socket_path: Path, mib: int) -> Iterator[None]:
    class Api(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/vnd.docker.raw-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b"x" * (1024 * 1024)
            try:
                for _ in range(mib):
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.write(b"0\r\n\r\n")
            except OSError:
                pass

        def log_message(self, format: str, *args: object) -> None:
            pass

        def address_string(self) -> str:
            return "unix"

    server = _UnixHTTPServer(str(socket_path), Api)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_a_container_log_of_1_gib_is_read_up_to_its_cap(tmp_path: Path) -> None:
    """Before: the whole log was read, then cut to 64 MiB."""
    socket_path = tmp_path / "docker.sock"
    code = f"""
import sys
sys.path[:0] = {_paths()!r}
from labcheck.observe.engine_api import EngineApi
with EngineApi("unix://{socket_path}") as api:
    print(len(api.container_log("registry")))
"""
    with _docker_api_with_a_huge_log(socket_path, 1024):
        peak, said = child_peak_rss_mib(code)
    assert said.strip() == str(64 * 1024 * 1024)
    assert peak < 400, f"peak RSS {peak:.0f} MiB for a 1 GiB log"


# -- the protocol: redirects ------------------------------------------------------------------------


def test_a_redirect_from_https_to_plain_http_is_refused() -> None:
    hosts: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        hosts.append(request.url.host)
        if request.url.host == "storage.example":
            return httpx.Response(200, content=CONFIG)
        return httpx.Response(307, headers={"Location": "http://storage.example/blob"})

    client = RegistryClient("registry.example", transport=httpx.MockTransport(handler))
    with client, pytest.raises(RegistryProtocolError, match="refusing a redirect from https to http"):
        client.blob("x", _sha(CONFIG))
    assert hosts == ["registry.example"]
