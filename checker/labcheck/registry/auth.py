"""Registry credentials, WWW-Authenticate challenges and bearer tokens.

Secrets (passwords, identity tokens, bearer tokens) never appear in a repr, a log line or an
exception message: errors name the user and the realm, never what was sent.
"""

from __future__ import annotations

import base64
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from labcheck.errors import (
    RegistryAuthError,
    RegistryProtocolError,
    RegistryUnreachable,
)

DOCKER_HUB_HOSTS = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
DOCKER_HUB_CONFIG_KEY = "https://index.docker.io/v1/"
DOCKER_HUB_API_HOST = "registry-1.docker.io"

#: Tokens are treated as valid at least this long, whatever `expires_in` says (token spec).
MIN_TOKEN_TTL = 60.0
_MAX_TOKEN_RESPONSE = 1024 * 1024


@dataclass(frozen=True, repr=False)
class Credentials:
    """A username and password (or an identity token) for one registry."""

    username: str
    password: str
    #: An OAuth2 refresh token (`docker login` with SSO stores one); it wins over the password.
    identity_token: str | None = None

    def __repr__(self) -> str:
        secret = "identity token" if self.identity_token else "password"
        return f"Credentials(username={self.username!r}, {secret}=<hidden>)"

    __str__ = __repr__


@dataclass(frozen=True)
class Challenge:
    """One parsed `WWW-Authenticate` challenge: `Basic` or `Bearer` plus its parameters."""

    scheme: str
    params: Mapping[str, str] = field(default_factory=dict)

    @property
    def realm(self) -> str | None:
        return self.params.get("realm")

    @property
    def service(self) -> str | None:
        return self.params.get("service")

    @property
    def scope(self) -> str | None:
        return self.params.get("scope")


_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_PARAM = re.compile(rf"\s*(?P<key>{_TOKEN})\s*=\s*(?:\"(?P<quoted>(?:[^\"\\]|\\.)*)\"|(?P<bare>[^\s,]*))\s*")
_SCHEME = re.compile(rf"\s*(?P<scheme>{_TOKEN})(?:\s+|$)")
_KNOWN_SCHEMES = {"basic": "Basic", "bearer": "Bearer"}


def parse_challenge(header: str) -> Challenge:
    """Parse the first challenge of a `WWW-Authenticate` header.

    Scheme and parameter names are case-insensitive (scheme comes back as `Basic`/`Bearer`,
    names lower-case); values may be quoted (with commas and backslash escapes inside) or bare.
    A second challenge after the first (`Bearer ..., Basic ...`) is ignored.
    """
    match = _SCHEME.match(header)
    if match is None:
        raise RegistryProtocolError(f"unreadable WWW-Authenticate header: {header[:200]!r}")
    raw_scheme = match.group("scheme")
    scheme = _KNOWN_SCHEMES.get(raw_scheme.lower(), raw_scheme)
    params: dict[str, str] = {}
    pos = match.end()
    while pos < len(header):
        param = _PARAM.match(header, pos)
        if param is None:
            break  # the start of another challenge, or junk: keep what we have
        quoted = param.group("quoted")
        value = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else param.group("bare")
        params.setdefault(param.group("key").lower(), value)
        pos = param.end()
        if pos < len(header):
            if header[pos] != ",":
                break
            pos += 1
    return Challenge(scheme=scheme, params=params)


def basic_auth_header(credentials: Credentials) -> str:
    """The `Authorization` value for HTTP Basic with `credentials`."""
    pair = f"{credentials.username}:{credentials.password}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")


class TokenCache:
    """Bearer tokens per (realm, service, scope), kept for max(expires_in, 60) seconds."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._tokens: dict[tuple[str, str, str], tuple[str, float]] = {}

    def get(self, key: tuple[str, str, str]) -> str | None:
        """The cached token for `key`, or None when absent or expired."""
        entry = self._tokens.get(key)
        if entry is None or entry[1] <= self._clock():
            return None
        return entry[0]

    def put(self, key: tuple[str, str, str], token: str, expires_in: float) -> None:
        """Remember `token` for `key`."""
        self._tokens[key] = (token, self._clock() + max(expires_in, MIN_TOKEN_TTL))


def cache_key(challenge: Challenge, scope: str | None) -> tuple[str, str, str]:
    """The TokenCache key for a token from `challenge`'s realm covering `scope`."""
    return (challenge.realm or "", challenge.service or "", scope or "")


def fetch_token(
    http: httpx.Client,
    challenge: Challenge,
    scope: str | None,
    credentials: Credentials | None,
) -> tuple[str, float]:
    """Ask the challenge's realm for a token covering `scope`; return (token, expires_in).

    Anonymous unless `credentials` are given: Basic credentials go in a GET, an identity
    token goes in the OAuth2 refresh-token POST, as the Docker CLI does.
    """
    realm = challenge.realm
    if not realm or not realm.startswith(("https://", "http://")):
        raise RegistryProtocolError(f"Bearer challenge without a usable realm: {realm!r}")
    realm_host = httpx.URL(realm).host
    query: list[tuple[str, str | int | float | bool | None]] = []
    if challenge.service:
        query.append(("service", challenge.service))
    # A scope may list several space-separated grants; the token spec repeats `scope`.
    query.extend(("scope", part) for part in (scope or "").split() if part)
    try:
        if credentials is not None and credentials.identity_token:
            form = {key: str(value) for key, value in query}
            form.update(
                grant_type="refresh_token",
                refresh_token=credentials.identity_token,
                client_id="labcheck",
            )
            if scope:
                form["scope"] = scope
            response = http.post(realm, data=form)
        else:
            auth = httpx.BasicAuth(credentials.username, credentials.password) if credentials is not None else None
            response = http.get(realm, params=query, auth=auth)
    except httpx.TransportError as exc:
        raise RegistryUnreachable(f"cannot reach token service {realm_host}: {exc or type(exc).__name__}") from exc
    if response.status_code in (401, 403):
        who = f"user {credentials.username!r}" if credentials else "anonymous access"
        raise RegistryAuthError(
            f"token service {realm_host} refused {who} for scope {scope or '(none)'} (HTTP {response.status_code})"
        )
    if response.status_code != 200 or len(response.content) > _MAX_TOKEN_RESPONSE:
        raise RegistryProtocolError(f"token service {realm_host} answered HTTP {response.status_code}, not a token")
    try:
        body: Any = response.json()
    except ValueError as exc:
        raise RegistryProtocolError(f"token service {realm_host} answered something that is not JSON") from exc
    token = (body.get("token") or body.get("access_token")) if isinstance(body, dict) else None
    if not isinstance(token, str):
        raise RegistryProtocolError(f"token service {realm_host} answered JSON without a token")
    expires_in = body.get("expires_in")
    ttl = float(expires_in) if isinstance(expires_in, int | float) else MIN_TOKEN_TTL
    return token, ttl


def credentials_for(host: str, docker_config_dir: str | None = None) -> Credentials | None:
    """The credentials the Docker CLI would use for `host`, or None when none are stored.

    Reads `<docker_config_dir>/config.json`, else `$DOCKER_CONFIG/config.json`, else
    `~/.docker/config.json`, through the docker SDK (credHelpers, credsStore, auths and
    identity tokens). A missing config file is not an error.
    """
    import docker.auth  # imported late: the SDK is slow to import and only needed here
    import docker.errors

    if docker_config_dir is None:
        docker_config_dir = os.environ.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")
    config_path = os.path.join(docker_config_dir, "config.json")
    # Checked here because the SDK would otherwise fall back to other files.
    if not os.path.isfile(config_path):
        return None
    key = DOCKER_HUB_CONFIG_KEY if host.lower() in DOCKER_HUB_HOSTS else host
    try:
        config = docker.auth.load_config(config_path=config_path)
        entry = docker.auth.resolve_authconfig(config, registry=key)
    except docker.errors.DockerException as exc:
        # Only the helper's name and its complaint: the SDK never puts secrets in these.
        raise RegistryAuthError(f"cannot read Docker credentials for {host}: {exc}") from exc
    if not entry:
        return None
    lowered = {str(k).lower(): v for k, v in entry.items()}
    identity_token = lowered.get("identitytoken")
    if identity_token:
        return Credentials(
            username=str(lowered.get("username") or "<token>"),
            password="",
            identity_token=str(identity_token),
        )
    username, password = lowered.get("username"), lowered.get("password")
    if not username or password is None:
        return None  # an empty `auths` entry: the CLI logged in through a store we lack
    return Credentials(username=str(username), password=str(password))
