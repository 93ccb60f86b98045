"""The one way labcheck makes HTTP clients: `http_client()`.

Every client it makes:

- ignores the proxy variables for loopback and for plain HTTP. A lab's registries, the
  class registry, its token server and the ECR stand-in are all on 127.0.0.1, and plain
  HTTP through a proxy would hand it the `Authorization` header. Only HTTPS to another
  host goes through `HTTPS_PROXY`, else `ALL_PROXY` (minus `NO_PROXY`): the proxy then
  sees a CONNECT to `host:443`, and the credentials travel inside TLS. (httpx's own
  `trust_env` sent even 127.0.0.1 through `HTTP_PROXY`, Basic credentials and all.)
- puts a wall-clock deadline on every request, not only a timeout per socket read: a
  server dripping one byte a second would otherwise keep a request alive forever. Every
  socket operation gets at most the time left (`request_deadline`, and the whole run's
  deadline from labcheck.limits).
- pays for TLS only when a request is HTTPS: building a verifying context loads the CA
  bundle (~40 ms of CPU), which a lab on plain-HTTP loopback never needs.
"""

from __future__ import annotations

import contextvars
import functools
import ipaddress
import os
import ssl
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpcore
import httpx

from labcheck import limits as run_limits

#: The longest any one request may take, connection to last byte, unless the caller says.
DEFAULT_DEADLINE = 120.0

_PROXY_SCHEMES = ("http", "https")
# (monotonic time, seconds) of the innermost request_deadline() of this thread
_deadline: contextvars.ContextVar[tuple[float, float] | None] = contextvars.ContextVar("deadline", default=None)


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One verifying TLS context per process: loading the CA bundle costs ~40 ms of CPU."""
    return ssl.create_default_context()


def is_loopback(host: str) -> bool:
    """True for `localhost` and loopback addresses (127.0.0.0/8, ::1); a name is never resolved."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# -- deadlines -------------------------------------------------------------------------------


@contextmanager
def request_deadline(seconds: float) -> Iterator[None]:
    """Everything sent and read in this thread within the block ends `seconds` from now
    (or sooner, when an enclosing block or the run's deadline says so)."""
    mine = (time.monotonic() + seconds, seconds)
    outer = _deadline.get()
    token = _deadline.set(mine if outer is None or mine[0] < outer[0] else outer)
    try:
        yield
    finally:
        _deadline.reset(token)


def time_left() -> float | None:
    """Seconds until the nearest deadline of this thread (its request's or the run's); None: none."""
    nearest = _nearest()
    return None if nearest is None else nearest[0] - time.monotonic()


def _nearest() -> tuple[float, str] | None:
    """(when, why) of the nearest deadline: the request's, or the run's."""
    nearest: tuple[float, str] | None = None
    request = _deadline.get()
    if request is not None:
        nearest = (request[0], f"no complete answer within {request[1]:.0f} s")
    run = run_limits.current()
    if run is not None and run.deadline is not None and (nearest is None or run.deadline < nearest[0]):
        nearest = (run.deadline, f"the run's time limit ({run.timeout:.0f} s) is spent")
    return nearest


def _bounded(timeout: float | None, error: type[httpcore.TimeoutException]) -> tuple[float | None, str]:
    """(`timeout` shortened to the nearest deadline, the deadline's reason when it is the
    shorter one, else ""); `error` at once when that deadline has passed."""
    nearest = _nearest()
    if nearest is None:
        return timeout, ""
    left = nearest[0] - time.monotonic()
    if left <= 0:
        raise error(nearest[1])
    return (left, nearest[1]) if timeout is None or left < timeout else (timeout, "")


@contextmanager
def _deadline_says(reason: str) -> Iterator[None]:
    """A timeout that the deadline cut short says so, not just "timed out"."""
    try:
        yield
    except httpcore.TimeoutException as exc:
        if reason:
            raise type(exc)(reason) from exc
        raise


class _DeadlineStream(httpcore.NetworkStream):
    """A socket whose every operation waits at most until the nearest deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        bounded, reason = _bounded(timeout, httpcore.ReadTimeout)
        with _deadline_says(reason):
            return self._inner.read(max_bytes, bounded)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        bounded, reason = _bounded(timeout, httpcore.WriteTimeout)
        with _deadline_says(reason):
            self._inner.write(buffer, bounded)

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        bounded, reason = _bounded(timeout, httpcore.ConnectTimeout)
        with _deadline_says(reason):
            return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, bounded))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's sockets, each operation bounded by the nearest deadline."""

    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        bounded, reason = _bounded(timeout, httpcore.ConnectTimeout)
        with _deadline_says(reason):
            return _DeadlineStream(self._inner.connect_tcp(host, port, bounded, local_address, socket_options))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.NetworkStream:
        bounded, reason = _bounded(timeout, httpcore.ConnectTimeout)
        with _deadline_says(reason):
            return _DeadlineStream(self._inner.connect_unix_socket(path, bounded, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


# -- proxies ---------------------------------------------------------------------------------


def _proxy_env(environ: Mapping[str, str]) -> dict[str, str]:
    """https_proxy, all_proxy and no_proxy, lower case first (as curl and Python read them)."""
    out: dict[str, str] = {}
    for name in ("https_proxy", "all_proxy", "no_proxy"):
        value = environ.get(name) or environ.get(name.upper())
        if value:
            out[name] = value.strip()
    return out


def _bypassed(host: str, port: int | None, no_proxy: str) -> bool:
    """NO_PROXY: `*`, host names (`example.org` also covers its subdomains, as does
    `.example.org`), IP addresses and CIDR blocks, each optionally with `:port`."""
    host = host.strip("[]").lower()
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(host)
    except ValueError:
        address = None
    for raw in no_proxy.split(","):
        entry = raw.strip().lower()
        if entry == "*":
            return True
        if not entry:
            continue
        name, sep, entry_port = entry.rpartition(":") if entry.count(":") == 1 else ("", "", "")
        if sep and entry_port.isdigit():
            if port is not None and int(entry_port) != port:
                continue
            entry = name
        entry = entry.strip("[]")
        if address is not None:
            try:
                if address in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                pass
            continue
        domain = entry.lstrip(".")
        if domain and (host == domain or host.endswith("." + domain)):
            return True
    return False


def proxy_for(url: httpx.URL, environ: Mapping[str, str] = os.environ) -> httpx.Proxy | None:
    """The proxy a request to `url` goes through: only HTTPS to a host that is not loopback
    (nor in NO_PROXY), through HTTPS_PROXY, else ALL_PROXY; None means a direct connection."""
    if url.scheme != "https" or is_loopback(url.host):
        return None
    env = _proxy_env(environ)
    chosen = env.get("https_proxy") or env.get("all_proxy")
    if not chosen or _bypassed(url.host, url.port or 443, env.get("no_proxy", "")):
        return None
    if "://" not in chosen:
        chosen = f"http://{chosen}"  # `proxy.example:3128`, as curl takes it
    try:  # never show the URL: it may hold the proxy's password
        proxy = httpx.Proxy(chosen)
    except (ValueError, httpx.InvalidURL):
        raise httpx.ProxyError("HTTPS_PROXY/ALL_PROXY is not a usable proxy URL") from None
    if proxy.url.scheme not in _PROXY_SCHEMES:
        raise httpx.ProxyError(f"HTTPS_PROXY/ALL_PROXY is a {proxy.url.scheme}:// proxy: only http:// and https://")
    return proxy


# -- the transport ---------------------------------------------------------------------------

_EXCEPTIONS: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    # most specific first: the first match is raised
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.ProxyError, httpx.ProxyError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
)


@contextmanager
def _as_httpx_errors() -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        for theirs, ours in _EXCEPTIONS:
            if isinstance(exc, theirs):
                raise ours(str(exc)) from exc
        raise


class _Body(httpx.SyncByteStream):
    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __iter__(self) -> Iterator[bytes]:
        with _as_httpx_errors():
            yield from self._inner

    def close(self) -> None:
        if hasattr(self._inner, "close"):
            self._inner.close()


class _Pool(httpx.BaseTransport):
    """One httpcore connection pool (direct or through a proxy) on the deadline backend."""

    def __init__(self, pool: httpcore.ConnectionPool) -> None:
        self._pool = pool

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        core = httpcore.Request(
            method=request.method,
            url=httpcore.URL(scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _as_httpx_errors():
            response = self._pool.handle_request(core)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_Body(response.stream),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self._pool.close()


class SchemeTransport(httpx.BaseTransport):
    """Plain HTTP, verified HTTPS and HTTPS through a proxy: each pool made on first use.

    Every connection is on the deadline backend. `uds` sends everything over that unix
    socket (the Docker daemon's); `ssl_context` replaces the verifying default (the daemon's
    client certificates); `proxies=False` never uses one.
    """

    def __init__(
        self,
        *,
        retries: int = 0,
        limits: httpx.Limits | None = None,
        uds: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
        proxies: bool = True,
    ) -> None:
        self._retries = retries  # connection retries, as httpx.HTTPTransport takes them
        self._limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=20)
        self._uds = uds
        self._ssl_context = ssl_context
        self._proxies = proxies and uds is None
        self._pools: dict[tuple[str, str], _Pool] = {}
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        scheme = request.url.scheme
        proxy = proxy_for(request.url) if self._proxies else None
        key = (scheme, str(proxy.url) if proxy else "")
        with self._lock:
            pool = self._pools.get(key)
            if pool is None:
                pool = self._pools[key] = self._new_pool(scheme, proxy)
        return pool.handle_request(request)

    def _new_pool(self, scheme: str, proxy: httpx.Proxy | None) -> _Pool:
        context = self._ssl_context or (tls_context() if scheme == "https" else None)
        common: dict[str, Any] = {
            "ssl_context": context,
            "max_connections": self._limits.max_connections,
            "max_keepalive_connections": self._limits.max_keepalive_connections,
            "keepalive_expiry": self._limits.keepalive_expiry,
            "network_backend": _DeadlineBackend(),
        }
        if proxy is None:
            return _Pool(httpcore.ConnectionPool(retries=self._retries, uds=self._uds, **common))
        url = proxy.url
        return _Pool(
            httpcore.HTTPProxy(
                proxy_url=httpcore.URL(scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path),
                proxy_auth=proxy.raw_auth,
                proxy_ssl_context=tls_context() if url.scheme == "https" else None,
                retries=self._retries,
                **common,
            )
        )

    def close(self) -> None:
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.close()


class _Client(httpx.Client):
    """An httpx.Client whose every send() ends within its deadline (a streamed body read
    later is bounded by the caller's own request_deadline)."""

    def __init__(self, *, deadline: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._request_deadline = deadline

    def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        with request_deadline(self._request_deadline):
            return super().send(request, **kwargs)


def http_client(
    *,
    timeout: float = 10.0,
    deadline: float = DEFAULT_DEADLINE,
    base_url: str | httpx.URL = "",
    headers: Mapping[str, str] | None = None,
    transport: httpx.BaseTransport | None = None,
    retries: int = 0,
    limits: httpx.Limits | None = None,
) -> httpx.Client:
    """An httpx.Client that honours no proxy for loopback or plain HTTP, never follows a
    redirect by itself, waits `timeout` per socket operation and `deadline` per request."""
    return _Client(
        deadline=deadline,
        base_url=base_url,
        headers=headers,
        timeout=httpx.Timeout(timeout),
        transport=transport or SchemeTransport(retries=retries, limits=limits),
        trust_env=False,
        follow_redirects=False,
    )


def unix_socket_transport(path: str) -> SchemeTransport:
    """A transport over a unix socket (the Docker daemon's): never TLS, never a proxy."""
    return SchemeTransport(uds=path)
