"""Read the Docker Engine API over its socket: local images and a container's log.

Grading only reads two things from the daemon, so it asks for them directly over the
socket with httpx (already loaded for the registries) instead of importing the docker SDK,
which costs ~0.2 s of every `labcheck run`. Starting and removing containers (`labcheck
up`, `down`, `verify`) keeps using the SDK through testcontainers.

The daemon is the one the Docker CLI would use (DOCKER_HOST, the current docker context,
the default socket: see docker_host.py) when it is `unix://PATH` or `tcp://HOST:PORT` (with
TLS and client certificates from DOCKER_CERT_PATH when DOCKER_TLS_VERIFY is set). Other
schemes (ssh://) are refused with one clear line.
"""

from __future__ import annotations

import os
import ssl
import struct
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from labcheck.docker_host import docker_host, require_socket
from labcheck.errors import DockerUnavailable
from labcheck.http_transport import SchemeTransport, http_client, request_deadline, unix_socket_transport
from labcheck.text import printable
from labcheck.untrusted import BodyTooLarge, loads, read_capped

_FRAME = struct.Struct(">BxxxL")  # stream type, 3 zero bytes, big-endian payload length
_MAX_LOG_BYTES = 64 * 1024 * 1024  # a log's beginning, streamed: the rest is never read
_MAX_IMAGE_LIST = 64 * 1024 * 1024
_MAX_ERROR_BODY = 64 * 1024

#: pauses before asking for the image list again after a 404
_LIST_PAUSES = (0.1, 0.3, 1.0)


class EngineApiError(Exception):
    """The daemon answered, but not with what we asked for (e.g. 404 for a removed container)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status  # the HTTP status of the daemon's answer, when it was not 200


class EngineApi:
    """A read-only connection to the Docker daemon at `host` (default: the Docker CLI's)."""

    def __init__(self, host: str | None = None, *, timeout: float = 30.0) -> None:
        self.host = host or docker_host()
        if self.host.startswith("unix://"):
            require_socket(self.host)
            transport = unix_socket_transport(self.host.removeprefix("unix://"))
            base = "http://docker"
        elif self.host.startswith("tcp://"):
            address = self.host.removeprefix("tcp://").rstrip("/")
            try:
                tls = _tls_from_env()
            except (OSError, ssl.SSLError) as exc:
                raise DockerUnavailable(
                    f"cannot use the Docker TLS certificates in DOCKER_CERT_PATH: {exc}",
                    tip="check DOCKER_CERT_PATH holds ca.pem, cert.pem and key.pem, or unset DOCKER_TLS_VERIFY",
                ) from exc
            transport = SchemeTransport(ssl_context=tls, proxies=False)  # the daemon is never proxied
            base = f"{'https' if tls else 'http'}://{address}"
        else:
            raise DockerUnavailable(
                f"DOCKER_HOST={self.host} is not supported for grading",
                tip="use a unix:// or tcp:// DOCKER_HOST (or `docker context use default`)",
            )
        self._timeout = timeout
        self._http = http_client(base_url=base, transport=transport, timeout=timeout, deadline=2 * timeout)

    def close(self) -> None:
        """Close the connection."""
        self._http.close()

    def __enter__(self) -> EngineApi:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def version(self) -> dict[str, Any]:
        """`GET /version`: the engine's version, API version, OS and architecture."""
        return self._object("/version")

    def info(self) -> dict[str, Any]:
        """`GET /info`: the daemon's configuration (storage driver, image store, ...)."""
        return self._object("/info")

    def image(self, name: str) -> dict[str, Any] | None:
        """`GET /images/NAME/json`, or None when the daemon has no such image."""
        try:
            return self._object(f"/images/{name}/json")
        except EngineApiError as exc:
            if exc.status == 404:
                return None
            raise

    def distribution(self, name: str) -> dict[str, Any]:
        """`GET /distribution/NAME/json`: the daemon asks the image's registry for its manifest
        (so `docker pull NAME` would work) without pulling it; EngineApiError when it cannot."""
        return self._object(f"/distribution/{name}/json")

    def containers(self) -> list[dict[str, Any]]:
        """`GET /containers/json`: the running containers, with their published ports."""
        data = self._json("/containers/json")
        if not isinstance(data, list):
            raise EngineApiError("the daemon's container list is not a list")
        return [item for item in data if isinstance(item, dict)]

    def _json(self, path: str) -> Any:
        try:
            return loads(self._get(path, limit=_MAX_IMAGE_LIST))
        except ValueError as exc:
            raise EngineApiError(f"{path}: the daemon's answer is not JSON ({exc})") from exc

    def _object(self, path: str) -> dict[str, Any]:
        data = self._json(path)
        if not isinstance(data, dict):
            raise EngineApiError(f"{path}: the daemon's answer is not an object")
        return data

    def images(self) -> list[dict[str, Any]]:
        """`GET /images/json`: the tagged and dangling top-level images, as `docker images` lists them.

        The containerd image store answers the list with a 404 (`content digest sha256:...:
        not found`) when an image is removed while it lists them (a `docker rmi` in another
        terminal, or another verify job): that is a moment, not the daemon's answer, so the
        list is asked again, a few times."""
        for pause in (*_LIST_PAUSES, None):
            try:
                data = self._json("/images/json")
                break
            except EngineApiError as exc:
                if exc.status != 404 or pause is None:
                    raise
                time.sleep(pause)
        if not isinstance(data, list):
            raise EngineApiError("the daemon's image list is not a list")
        return [item for item in data if isinstance(item, dict)]

    def container_log(self, container: str) -> str:
        """A container's stdout and stderr, interleaved as the daemon stored them (its first 64 MiB)."""
        params = {"stdout": "1", "stderr": "1"}
        raw = self._get(f"/containers/{container}/logs", params=params, limit=_MAX_LOG_BYTES, truncate=True)
        return demultiplex(raw).decode(errors="replace")

    def _get(self, path: str, *, limit: int, params: dict[str, str] | None = None, truncate: bool = False) -> bytes:
        """The body of GET `path`, streamed and capped at `limit` bytes, within the client's deadline."""
        # A log of 64 MiB over a slow socket needs longer than one request's usual deadline.
        with request_deadline(self._timeout * 6):
            try:
                response = self._http.send(self._http.build_request("GET", path, params=params), stream=True)
                status = response.status_code
                body = read_capped(response, limit if status == 200 else _MAX_ERROR_BODY, truncate=truncate)
            except httpx.TransportError as exc:
                raise DockerUnavailable(f"the Docker daemon does not answer at {self.host}") from exc
            except (httpx.DecodingError, BodyTooLarge) as exc:
                raise EngineApiError(f"{path}: the daemon's answer is unreadable ({exc})") from exc
        if status != 200:
            try:
                data = loads(body)
                message = str(data.get("message") or "") if isinstance(data, dict) else ""
            except ValueError:
                message = ""
            raise EngineApiError(f"{path}: HTTP {status} {printable(message)[:300]}".rstrip(), status)
        return body


def demultiplex(raw: bytes) -> bytes:
    """The payload of a multiplexed log stream (8-byte frame headers); a TTY's raw log as is."""
    out = bytearray()
    offset = 0
    while offset < len(raw):
        if len(raw) - offset < _FRAME.size:
            return raw  # not frames after all: a container with a TTY logs raw bytes
        stream, size = _FRAME.unpack_from(raw, offset)
        if stream not in (0, 1, 2) or raw[offset + 1 : offset + 4] != b"\0\0\0":
            return raw
        offset += _FRAME.size
        out += raw[offset : offset + size]
        offset += size
    return bytes(out)


def _tls_from_env() -> ssl.SSLContext | None:
    """The TLS settings DOCKER_TLS_VERIFY and DOCKER_CERT_PATH ask for, as the Docker CLI reads them."""
    if not os.environ.get("DOCKER_TLS_VERIFY"):
        return None
    certs = Path(os.environ.get("DOCKER_CERT_PATH") or Path.home() / ".docker")
    context = ssl.create_default_context(cafile=str(certs / "ca.pem"))
    context.load_cert_chain(str(certs / "cert.pem"), str(certs / "key.pem"))
    return context
