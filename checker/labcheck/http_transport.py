"""httpx transports that pay for TLS only when a request is HTTPS.

Building a verifying TLS context loads the CA bundle: ~40 ms of CPU. A lab's services are
plain HTTP on loopback (and the Docker socket is a unix socket), so a run should not pay it
at all, and a run that does talk HTTPS should pay it once.
"""

from __future__ import annotations

import functools
import ssl
import threading

import httpx


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One verifying TLS context per process: loading the CA bundle costs ~40 ms of CPU."""
    return ssl.create_default_context()


class SchemeTransport(httpx.BaseTransport):
    """Plain HTTP and verified HTTPS, each pool made on first use.

    A lab's registries are all plain HTTP on loopback: they never pay for a TLS context.
    HTTPS (a remote registry, or a token realm) always verifies certificates.
    """

    def __init__(self, *, retries: int = 0) -> None:
        self._retries = retries  # connection retries, as httpx.HTTPTransport takes them
        self._pools: dict[str, httpx.HTTPTransport] = {}
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        scheme = request.url.scheme
        with self._lock:
            pool = self._pools.get(scheme)
            if pool is None:
                verify = tls_context() if scheme == "https" else False
                pool = httpx.HTTPTransport(verify=verify, retries=self._retries)
                self._pools[scheme] = pool
        return pool.handle_request(request)

    def close(self) -> None:
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.close()


def unix_socket_transport(path: str) -> httpx.HTTPTransport:
    """A transport over a unix socket (the Docker daemon's): never TLS, so no context is built."""
    return httpx.HTTPTransport(uds=path, verify=False)
