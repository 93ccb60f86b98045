"""A read-only client for the Docker Registry HTTP API v2 / OCI distribution spec.

It does what the best registry clients (crane, regctl, skopeo) do: the full Accept list on
every manifest request, HEAD for digests (GET where pulls are free: the manifest is read
next anyway, and one request replaces two), sha256 checked against what the registry claims,
Basic and Bearer auth, bounded 429 retries, bounded bodies. Every failure is a
RegistryError; a missing tag or repository is an observation (None), not an error.

What a server can make it do is bounded: every request ends within its deadline (socket
operations included, see http_transport), every body is streamed up to a cap, JSON is
measured before it is parsed, a run waits at most limits.RETRY_WAIT_PER_RUN for rate
limits, and credentials go only to the registry itself (and to its token realm, as the
docker CLI sends them, but never over a downgrade to plain http, and never AWS tokens).
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

import httpx

from labcheck import limits
from labcheck.errors import (
    RateLimited,
    RegistryAuthError,
    RegistryError,
    RegistryProtocolError,
    RegistryUnreachable,
    UsageError,
)
from labcheck.http_transport import DEFAULT_DEADLINE, http_client, is_loopback, request_deadline, time_left
from labcheck.registry import media_types
from labcheck.registry.auth import (
    DOCKER_HUB_API_HOST,
    DOCKER_HUB_HOSTS,
    Challenge,
    Credentials,
    TokenCache,
    basic_auth_header,
    cache_key,
    fetch_token,
    parse_challenge,
    realm_url,
)
from labcheck.registry.manifests import DIGEST, MAX_CONFIG_BYTES, ImageConfig, Manifest
from labcheck.registry.responses import (
    MAX_LINK_HEADER,
    MAX_RETRY_WAIT,
    describe_errors,
    error_codes,
    looks_like_html,
    next_link,
    retry_after,
)
from labcheck.untrusted import BodyTooLarge, loads, read_capped

MAX_MANIFEST_BYTES = 4 * 1024 * 1024
DEFAULT_MAX_BLOB_BYTES = 512 * 1024 * 1024
_MAX_ERROR_BODY = 64 * 1024
_MAX_TAG_PAGES = 1000  # 1000 tags a page: a million tags is beyond any lab
_MAX_AUTH_ROUNDS = 3
_MAX_REDIRECTS = 5


_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_NAME = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")  # the distribution spec's, ASCII only
_HASHES = {"sha256": hashlib.sha256, "sha512": hashlib.sha512}


def _sha(digest: str, content: bytes) -> str:
    """`content`'s digest in the algorithm `digest` uses (sha256 when unsupported)."""
    algorithm = digest.split(":", 1)[0]
    hasher = _HASHES.get(algorithm, hashlib.sha256)
    return f"{hasher().name}:{hasher(content).hexdigest()}"


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return (url.scheme, url.host, url.port)


def probe(host: str, *, credentials: Credentials | None = None, insecure: bool | None = None) -> None:
    """Check once that `host` is a registry that lets us in; the RegistryError saying why not.

    Grading a host that is closed, is a web page or refuses us would only repeat that same
    reason on every check: callers ask first and report it once.
    """
    with RegistryClient(host, credentials=credentials, insecure=insecure) as client:
        client.ping()


class RegistryClient:
    """Read-only access to one registry over one pooled httpx.Client."""

    def __init__(
        self,
        host: str,
        *,
        credentials: Credentials | None = None,
        insecure: bool | None = None,
        timeout: float = 10.0,
        deadline: float = DEFAULT_DEADLINE,
        transport: httpx.BaseTransport | None = None,
        max_retries: int = 3,
        retry_budget: limits.RetryBudget | None = None,
        page_size: int = 1000,
        sleep: Callable[[float], None] = time.sleep,
        free_pulls: bool = False,
    ) -> None:
        """`host` is `name[:port]`; Docker Hub names map to registry-1.docker.io.

        Plain http is used when `insecure` is True, or when it is None and the host is a
        loopback address; otherwise https with certificate verification. `timeout` bounds
        each socket operation, `deadline` each request as a whole. Rate-limit waits come out
        of `retry_budget`, else the run's (labcheck.limits), else one of this client's own.
        `free_pulls`: the registry counts no pulls (a lab's own, the class registry), so
        resolve() GETs a tag's manifest and keeps it for the manifest() call that follows,
        instead of a HEAD (which Docker Hub does not count) and then a GET.
        """
        host = host.strip().rstrip("/")
        if "://" in host or "/" in host or not host:
            raise UsageError(f"registry host must be name[:port], not {host!r}")
        self.is_docker_hub = host.lower() in DOCKER_HUB_HOSTS
        self.host = DOCKER_HUB_API_HOST if self.is_docker_hub else host
        hostname = httpx.URL(f"http://{self.host}").host
        if insecure is None:
            insecure = is_loopback(hostname)
        self.base_url = httpx.URL(f"{'http' if insecure else 'https'}://{self.host}")
        self._credentials = credentials
        self._max_retries = max_retries
        self._retry_budget = retry_budget
        self._own_budget = limits.RetryBudget()
        self._page_size = page_size
        self._deadline = deadline
        self._sleep = sleep
        self._tokens = TokenCache()
        self._challenge: Challenge | None = None  # the registry's latest auth challenge
        self._free_pulls = free_pulls
        self._resolved: dict[tuple[str, str], Manifest] = {}  # (name, digest): read by resolve()
        self._resolved_lock = threading.Lock()
        self._http = http_client(
            base_url=self.base_url,
            timeout=timeout,
            deadline=deadline,
            transport=transport,
            headers={"User-Agent": "labcheck"},
        )

    def __repr__(self) -> str:
        return f"RegistryClient({str(self.base_url)!r}, credentials={self._credentials!r})"

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- public API --------------------------------------------------------------------------

    def ping(self) -> None:
        """Check that the host is a registry we may talk to (GET /v2/)."""
        with self._request("GET", "/v2/") as response:
            body = self._read(response, _MAX_ERROR_BODY, "the /v2/ answer")
        if response.status_code == 400 and b"HTTPS" in body:  # Go's answer to plain HTTP on a TLS port
            raise RegistryProtocolError(
                f"{self.host} speaks HTTPS, not plain HTTP",
                tip="drop --insecure (labcheck uses https except for localhost and --insecure)",
            )
        if response.status_code != 200:
            error = self._error(response, body, "/v2/")
            if isinstance(error, RegistryProtocolError):
                error = RegistryProtocolError(f"{error.message}: {self.host} does not serve the registry API at /v2/")
            raise error
        if looks_like_html(response, body):
            raise RegistryProtocolError(f"{self.host} answers /v2/ with an HTML page: it is not a registry")
        if not response.headers.get("Docker-Distribution-API-Version"):
            self._json(body, "/v2/")  # no API header: at least the body must be JSON

    def list_tags(self, repository: str) -> list[str] | None:
        """Every tag of `repository` in the registry's order; None if it does not exist."""
        name = self._name(repository)
        url = self.base_url.join(f"/v2/{name}/tags/list?n={self._page_size}")
        seen: set[str] = set()
        tags: list[str] = []
        while str(url) not in seen:
            if len(seen) >= _MAX_TAG_PAGES:
                raise RegistryProtocolError(f"{self.host}/{name}: more than {_MAX_TAG_PAGES} pages of tags")
            seen.add(str(url))
            with self._request("GET", url, repository=name) as response:
                body = self._read(response, MAX_MANIFEST_BYTES, "a tag list")
            if response.status_code == 404 and error_codes(body) & {"NAME_UNKNOWN"}:
                return None
            if response.status_code != 200:
                raise self._error(response, body, f"tags of {name}")
            page = self._json(body, f"tags of {name}")
            page_tags = page.get("tags") if isinstance(page, dict) else "missing"
            if not isinstance(page_tags, list | None):
                raise RegistryProtocolError(f"{self.host}: tags of {name} are not a list")
            for tag in page_tags or []:
                if not isinstance(tag, str) or not _TAG.fullmatch(tag):
                    raise RegistryProtocolError(f"{self.host}: the tags of {name} include {tag!r}, which is not a tag")
                tags.append(tag)
            next_url = self._next_link(response, url)
            if next_url is None:
                break
            url = next_url
        return tags

    def resolve(self, repository: str, reference: str) -> str | None:
        """The digest `reference` (a tag or digest) points to; None if there is none.

        Uses HEAD (not counted as a pull on Docker Hub) and falls back to GET, hashing the
        body, when the registry does not send Docker-Content-Digest; where pulls are free,
        GET at once (see __init__).
        """
        name, ref = self._name(repository), self._reference(reference)
        if self._free_pulls and ":" not in ref:
            found = self._get_manifest(name, ref)
            if found is None:
                return None
            with self._resolved_lock:
                self._resolved[(name, found.digest)] = found
            return found.digest
        path = f"/v2/{name}/manifests/{ref}"
        headers = {"Accept": media_types.ACCEPT_HEADER}
        with self._request("HEAD", path, repository=name, headers=headers) as response:
            self._read(response, _MAX_ERROR_BODY, "a HEAD answer")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise self._error(response, b"", f"manifest {name}:{ref}")
        header = self._digest_header(response)
        if header is not None:
            if ":" in ref and header != ref:
                raise RegistryProtocolError(f"{self.host}/{name}: asked for {ref}, registry says {header}")
            return header
        manifest = self._get_manifest(name, ref)
        return None if manifest is None else manifest.digest

    def manifest(self, repository: str, reference: str) -> Manifest:
        """The manifest `reference` points to, its digest checked against its bytes.

        Raises RegistryError when there is none: call resolve() to observe whether it exists.
        """
        name, ref = self._name(repository), self._reference(reference)
        manifest = self._take_resolved(name, ref) or self._get_manifest(name, ref)
        if manifest is None:
            raise RegistryError(f"{self.host}/{name}: no manifest for {ref}")
        return manifest

    def blob(self, repository: str, digest: str, *, max_bytes: int = DEFAULT_MAX_BLOB_BYTES) -> bytes:
        """The blob `digest` of `repository`, verified and at most `max_bytes` long."""
        name, ref = self._name(repository), self._reference(digest)
        if ":" not in ref:
            raise UsageError(f"blob reference must be a digest, not {digest!r}")
        path = f"/v2/{name}/blobs/{ref}"
        with self._request("GET", path, repository=name, follow_redirects=True) as response:
            body = self._read(response, max_bytes, f"blob {ref}")
        if response.status_code != 200:
            raise self._error(response, body, f"blob {name}@{ref}")
        actual = _sha(ref, body)
        if actual != ref:
            raise RegistryProtocolError(f"{self.host}/{name}: blob {ref} has content with digest {actual}")
        return body

    def image_config(self, repository: str, reference: str) -> ImageConfig:
        """The config of the image `reference` names; for an index, its linux/amd64 entry
        (else its first platform entry that is not an attestation)."""
        manifest = self.manifest(repository, reference)
        if manifest.is_index:
            candidates = manifest.platform_children()
            if not candidates:
                raise RegistryProtocolError(f"{self.host}/{repository}: index {manifest.digest} has no platform image")
            chosen = next(
                (c for c in candidates if c.platform and str(c.platform) == "linux/amd64"),
                candidates[0],
            )
            manifest = self.manifest(repository, chosen.digest)
            if manifest.is_index:
                raise RegistryProtocolError(
                    f"{self.host}/{repository}: nested index {manifest.digest} is not supported"
                )
        config_digest = manifest.config_digest
        if config_digest is None:
            raise RegistryProtocolError(f"manifest {manifest.digest} has no config")
        return self.config(repository, config_digest)

    def config(self, repository: str, digest: str) -> ImageConfig:
        """The image config blob `digest`, read through the one validated reader:
        at most MAX_CONFIG_BYTES, shallow JSON, the fields checks read of the right types."""
        raw = self.blob(repository, digest, max_bytes=MAX_CONFIG_BYTES)
        try:
            return ImageConfig.parse(digest, raw)
        except RegistryProtocolError as exc:
            raise RegistryProtocolError(f"{self.host}/{repository}: {exc.message}") from exc

    # -- manifests ---------------------------------------------------------------------------

    def _get_manifest(self, name: str, ref: str) -> Manifest | None:
        path = f"/v2/{name}/manifests/{ref}"
        headers = {"Accept": media_types.ACCEPT_HEADER}
        with self._request("GET", path, repository=name, headers=headers) as response:
            raw = self._read(response, MAX_MANIFEST_BYTES, f"manifest {name}:{ref}")
        if response.status_code == 404:
            if raw and not error_codes(raw) & {"MANIFEST_UNKNOWN", "NAME_UNKNOWN"}:
                raise self._error(response, raw, f"manifest {name}:{ref}")
            return None
        if response.status_code != 200:
            raise self._error(response, raw, f"manifest {name}:{ref}")
        data = self._json(raw, f"manifest {name}:{ref}")
        if not isinstance(data, dict) or "schemaVersion" not in data:
            raise RegistryProtocolError(f"{self.host}/{name}:{ref} is not a manifest")
        header = self._digest_header(response)
        by_digest = ":" in ref
        expected = ref if by_digest else header
        actual = _sha(expected or "sha256:", raw)
        if expected is not None and actual != expected:
            claim = "asked for" if by_digest else "registry says"
            raise RegistryProtocolError(
                f"{self.host}/{name}:{ref}: {claim} {expected}, but the manifest's bytes hash to {actual}"
            )
        if by_digest and header is not None and header != ref:
            raise RegistryProtocolError(f"{self.host}/{name}: asked for {ref}, registry says {header}")
        media_type = data.get("mediaType") or response.headers.get("Content-Type", "")
        return Manifest(
            media_type=str(media_type).split(";")[0].strip(),
            digest=actual,
            raw=raw,
            data=data,
        )

    def _take_resolved(self, name: str, digest: str) -> Manifest | None:
        """The manifest resolve() read for `digest` a moment ago (free pulls), once."""
        with self._resolved_lock:
            return self._resolved.pop((name, digest), None)

    def _digest_header(self, response: httpx.Response) -> str | None:
        header: str | None = response.headers.get("Docker-Content-Digest")
        if header is None:
            return None
        if not DIGEST.fullmatch(header.strip()):
            raise RegistryProtocolError(f"{self.host}: malformed Docker-Content-Digest {header[:100]!r}")
        return header.strip()

    # -- names -------------------------------------------------------------------------------

    def _name(self, repository: str) -> str:
        name = repository.strip("/")
        if not _NAME.fullmatch(name):
            raise UsageError(f"invalid repository name {repository!r}")
        if self.is_docker_hub and "/" not in name:
            name = f"library/{name}"  # Docker Hub's official images live under library/
        return name

    @staticmethod
    def _reference(reference: str) -> str:
        if not (_TAG.fullmatch(reference) or DIGEST.fullmatch(reference)):
            raise UsageError(f"invalid tag or digest {reference!r}")
        return reference

    def _next_link(self, response: httpx.Response, current: httpx.URL) -> httpx.URL | None:
        header = response.headers.get("Link", "")
        if len(header) > MAX_LINK_HEADER:
            raise RegistryProtocolError(f"{self.host}: a Link header of {len(header)} characters is no page link")
        target = next_link(header)
        if target is None:
            return None
        try:
            url = current.join(target)
        except httpx.InvalidURL as exc:
            raise RegistryProtocolError(f"{self.host}: the next tag page's link is not a URL ({exc})") from exc
        if _origin(url) != _origin(current):
            raise RegistryProtocolError(f"{self.host}: refusing to follow a tag-list Link to another host ({url.host})")
        return url

    # -- HTTP --------------------------------------------------------------------------------

    @contextmanager
    def _request(
        self,
        method: str,
        url: str | httpx.URL,
        *,
        repository: str | None = None,
        headers: dict[str, str] | None = None,
        follow_redirects: bool = False,
    ) -> Iterator[httpx.Response]:
        """Send with auth, 429 retries (and redirects when asked); yield the streaming
        response. Everything, the caller's reading of the body included, ends by the deadline."""
        with request_deadline(self._deadline):
            response = self._send(method, self.base_url.join(url), repository, headers, follow_redirects)
            try:
                yield response
            finally:
                response.close()

    def _send(
        self,
        method: str,
        url: httpx.URL,
        repository: str | None,
        headers: dict[str, str] | None,
        follow_redirects: bool,
    ) -> httpx.Response:
        scope = f"repository:{repository}:pull" if repository else None
        auth_rounds = rate_limited = redirects = 0
        while True:
            request = self._http.build_request(method, url, headers=headers)
            ours = _origin(url) == _origin(self.base_url)
            sent = self._authorize(request, scope) if ours else None  # credentials go to the registry only
            try:
                response = self._http.send(request, stream=True)
            except httpx.TransportError as exc:
                raise self._unreachable(exc) from exc
            except httpx.RequestError as exc:  # an undecodable answer
                raise RegistryProtocolError(f"{self.host}: {exc}") from exc
            status = response.status_code
            if follow_redirects and response.has_redirect_location:
                url = self._redirect(response, url, redirects)
                redirects += 1
                continue
            if status == 401 and ours:
                body = self._read(response, _MAX_ERROR_BODY, "a 401 answer")
                challenge = self._challenge_of(response, body)
                wanted = challenge.scope or scope
                # What we sent was refused (as opposed to a new, wider scope being asked for).
                refused = sent is not None and (sent[0] == "Basic" or sent == (challenge.scheme, wanted))
                if refused or auth_rounds >= _MAX_AUTH_ROUNDS:
                    raise self._auth_refused(response, body)
                auth_rounds += 1
                self._prepare_auth(challenge, wanted)
                scope = wanted
                continue
            if status == 429:
                self._wait_for_rate_limit(response, rate_limited)
                rate_limited += 1
                continue
            return response

    def _redirect(self, response: httpx.Response, current: httpx.URL, hops: int) -> httpx.URL:
        """Where a redirect leads; its body is never read. No credentials follow it to
        another host (see _send), and https never leads to plain http."""
        location = response.headers["Location"]
        response.close()
        if hops >= _MAX_REDIRECTS:
            raise RegistryProtocolError(f"{self.host}: more than {_MAX_REDIRECTS} redirects")
        try:
            target = current.join(location)
        except httpx.InvalidURL as exc:
            raise RegistryProtocolError(f"{self.host}: a redirect to something that is not a URL ({exc})") from exc
        if target.scheme not in ("http", "https") or (current.scheme == "https" and target.scheme == "http"):
            raise RegistryProtocolError(f"{self.host}: refusing a redirect from {current.scheme} to {target.scheme}")
        return target

    def _wait_for_rate_limit(self, response: httpx.Response, retries: int) -> None:
        """Sleep as a 429 asks, out of the run's budget; RateLimited when that cannot be."""
        response.close()
        wait = retry_after(response)  # "Retry-After: 0" means now, not "absent"
        if retries >= self._max_retries:
            raise RateLimited(
                f"{self.host} kept answering 429 (too many requests) after {self._max_retries} retries",
                retry_after=wait,
            )
        delay = wait if wait is not None else min(2.0 ** (retries + 1), MAX_RETRY_WAIT)
        run = limits.current()
        budget = self._retry_budget or (run.retry_budget if run is not None else self._own_budget)
        left = time_left()
        if (left is not None and delay >= left) or not budget.take(delay):
            raise RateLimited(
                f"{self.host} answers 429 (too many requests) and asks to wait {delay:.0f} s: labcheck waits "
                f"at most {budget.total:.0f} s in all for rate limits in a run, within its time limits",
                retry_after=wait,
            )
        self._sleep(delay)

    def _authorize(self, request: httpx.Request, scope: str | None) -> tuple[str, str | None] | None:
        """Add the Authorization header the last challenge asks for; return what was sent."""
        challenge = self._challenge
        if challenge is None:
            return None
        if challenge.scheme == "Basic" and self._credentials is not None:
            request.headers["Authorization"] = basic_auth_header(self._credentials)
            return ("Basic", None)
        if challenge.scheme == "Bearer":
            token = self._tokens.get(cache_key(challenge, scope))
            if token is None:  # a new repository: ask before being refused, saving a 401
                token = self._new_token(challenge, scope)
            request.headers["Authorization"] = f"Bearer {token}"
            return ("Bearer", scope)
        return None

    def _prepare_auth(self, challenge: Challenge, scope: str | None) -> None:
        if challenge.scheme == "Basic":
            if self._credentials is None:
                raise RegistryAuthError(f"registry {self.host} requires credentials (Basic auth)")
        elif challenge.scheme == "Bearer":
            self._new_token(challenge, scope)
        else:
            raise RegistryAuthError(f"registry {self.host} asks for unsupported auth scheme {challenge.scheme!r}")
        self._challenge = challenge

    def _new_token(self, challenge: Challenge, scope: str | None) -> str:
        realm = realm_url(challenge)
        credentials = self._credentials
        if credentials is not None and self.base_url.scheme == "https" and realm.scheme == "http":
            # A challenge must not be able to downgrade our credentials to clear text.
            raise RegistryAuthError(
                f"registry {self.host} asks for credentials over plain http ({realm.host}); refused"
            )
        if credentials is not None and credentials.registry_only and _origin(realm) != _origin(self.base_url):
            raise RegistryAuthError(
                f"registry {self.host} asks for its token at {realm.host}: an AWS ECR login goes to the "
                "registry itself only; refused",
                tip="check that --registry names your ECR registry",
            )
        token, expires_in = fetch_token(self._http, realm, challenge, scope, credentials)
        self._tokens.put(cache_key(challenge, scope), token, expires_in)
        return token

    def _challenge_of(self, response: httpx.Response, body: bytes) -> Challenge:
        header = response.headers.get("WWW-Authenticate")
        if not header:
            raise self._auth_refused(response, body)
        return parse_challenge(header)

    def _auth_refused(self, response: httpx.Response, body: bytes) -> RegistryAuthError:
        who = f"user {self._credentials.username!r}" if self._credentials else "anonymous access"
        detail = describe_errors(body) or "unauthorized"
        return RegistryAuthError(f"registry {self.host} refused {who} (HTTP {response.status_code}: {detail})")

    def _unreachable(self, exc: httpx.TransportError) -> RegistryUnreachable:
        reason = str(exc) or type(exc).__name__
        if isinstance(exc, httpx.TimeoutException):
            reason = f"timed out ({reason})"
        return RegistryUnreachable(f"cannot reach registry {self.host}: {reason}")

    def _read(self, response: httpx.Response, limit: int, what: str) -> bytes:
        """Read at most `limit` bytes of body; a longer body is a protocol error."""
        try:
            return read_capped(response, limit)
        except BodyTooLarge as exc:
            if exc.size is not None:
                raise RegistryProtocolError(
                    f"{self.host}: {what} is {exc.size} bytes, more than the {limit} allowed"
                ) from exc
            raise RegistryProtocolError(f"{self.host}: {what} is more than the {limit} bytes allowed") from exc
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from exc
        except httpx.DecodingError as exc:
            raise RegistryProtocolError(f"{self.host}: {what} cannot be decoded: {exc}") from exc

    def _json(self, body: bytes, what: str) -> Any:
        try:
            return loads(body)
        except ValueError as exc:
            kind = "an HTML page" if body.lstrip()[:1] == b"<" else "something that is not JSON"
            raise RegistryProtocolError(f"{self.host} answered {kind} for {what}: is it a registry?") from exc

    def _error(self, response: httpx.Response, body: bytes, what: str) -> RegistryError:
        status = response.status_code
        detail = describe_errors(body)
        if not detail and looks_like_html(response, body):
            detail = "an HTML page, not a registry answer"
        message = f"{self.host}: {what}: HTTP {status}" + (f" ({detail})" if detail else "")
        if status in (401, 403):
            return RegistryAuthError(message)
        if status in (502, 503, 504):
            return RegistryUnreachable(message)
        return RegistryProtocolError(message)
