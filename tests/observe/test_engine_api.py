"""The Docker Engine API reader: log frames, DOCKER_HOST handling, and the real daemon."""

from __future__ import annotations

import contextlib
import http.server
import secrets
import socketserver
import struct
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from labcheck.errors import DockerUnavailable
from labcheck.observe.engine_api import EngineApi, EngineApiError, demultiplex


def frame(stream: int, payload: bytes) -> bytes:
    return struct.pack(">BxxxL", stream, len(payload)) + payload


def test_demultiplex_joins_stdout_and_stderr_frames_in_order() -> None:
    raw = frame(1, b"time=1 msg=a\n") + frame(2, b"time=2 msg=b\n") + frame(1, b"")
    assert demultiplex(raw) == b"time=1 msg=a\ntime=2 msg=b\n"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"", b""),
        (b"time=1 msg=raw tty log\n", b"time=1 msg=raw tty log\n"),  # a TTY container's log is raw bytes
        (b"\x01\x00\x00", b"\x01\x00\x00"),  # too short to be a frame header
        (frame(1, b"abcde")[:-3], b"ab"),  # a log cut inside a frame keeps what arrived
    ],
)
def test_demultiplex_keeps_what_is_not_frames(raw: bytes, expected: bytes) -> None:
    assert demultiplex(raw) == expected


def test_unsupported_docker_host_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "ssh://user@example.invalid")
    with pytest.raises(DockerUnavailable, match="not supported for grading"):
        EngineApi()


def test_dead_socket_is_docker_unavailable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/docker.sock")
    with pytest.raises(DockerUnavailable, match="does not answer"):
        EngineApi()


def test_missing_tls_certificates_are_docker_unavailable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:2376")
    monkeypatch.setenv("DOCKER_TLS_VERIFY", "1")
    monkeypatch.setenv("DOCKER_CERT_PATH", str(tmp_path))
    with pytest.raises(DockerUnavailable, match="DOCKER_CERT_PATH"):
        EngineApi()


@pytest.mark.docker
@pytest.mark.engine
def test_real_daemon_images_and_a_containers_log() -> None:
    name = f"labcheck-test-log-{secrets.token_hex(3)}"
    subprocess.run(
        ["docker", "run", "--name", name, "busybox:latest", "sh", "-c", "echo to-stdout; echo to-stderr >&2"],
        check=True,
        capture_output=True,
    )
    try:
        with EngineApi() as api:
            cli = subprocess.run(
                ["docker", "images", "-q", "--no-trunc"], capture_output=True, text=True, check=True
            ).stdout.split()
            assert {image["Id"] for image in api.images()} == set(cli)
            log = api.container_log(name)
            assert "to-stdout\n" in log and "to-stderr\n" in log
            assert "\x00" not in log  # the frame headers are gone
            with pytest.raises(EngineApiError, match="404"):
                api.container_log(f"{name}-gone")
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)


class _Daemon(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


@contextlib.contextmanager
def fake_daemon(tmp_path: Path, answers: list[tuple[int, bytes]]) -> Iterator[list[str]]:
    """A Docker daemon on a unix socket answering GET /images/json with `answers`, in turn."""
    asked: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            status, body = answers[min(len(asked), len(answers)) - 1]
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def address_string(self) -> str:
            return "unix"

        def log_message(self, *args: object) -> None:
            pass

    path = tmp_path / "docker.sock"
    server = _Daemon(str(path), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield asked
    finally:
        server.shutdown()
        server.server_close()


RACED = (404, b'{"message":"content digest sha256:94fd8986: not found"}')


def test_an_image_removed_while_the_containerd_store_lists_them_is_asked_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Seen in CI: verify's parallel jobs `docker rmi` while another grades, and Docker 26's
    containerd store answers GET /images/json with 404 for the vanished content: an error
    in the learner's report ("cannot read local images") although nothing was wrong."""
    listed = b'[{"Id": "sha256:aa", "RepoTags": ["my-app:latest"]}]'
    with fake_daemon(tmp_path, [RACED, RACED, (200, listed)]) as asked:
        monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/docker.sock")
        with EngineApi() as api:
            assert [i["Id"] for i in api.images()] == ["sha256:aa"]
    assert asked == ["/images/json"] * 3


def test_an_image_list_that_keeps_failing_is_an_error_not_an_empty_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with fake_daemon(tmp_path, [RACED]) as asked:
        monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/docker.sock")
        with EngineApi() as api, pytest.raises(EngineApiError, match="HTTP 404 content digest"):
            api.images()
    assert len(asked) == 4
