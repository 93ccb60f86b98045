"""Registry credentials, WWW-Authenticate challenges and bearer tokens.

Secrets (passwords, identity tokens, bearer tokens) never appear in a repr, a log line or an
exception message: errors name the user and the realm, never what was sent.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import os
import re
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from labcheck.docker_host import docker_config_dir as default_docker_config_dir
from labcheck.errors import (
    RegistryAuthError,
    RegistryProtocolError,
    RegistryUnreachable,
)
from labcheck.untrusted import BodyTooLarge, loads, read_capped

DOCKER_HUB_HOSTS = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
DOCKER_HUB_CONFIG_KEY = "https://index.docker.io/v1/"
DOCKER_HUB_API_HOST = "registry-1.docker.io"

#: Tokens are treated as valid at least this long, whatever `expires_in` says (token spec).
MIN_TOKEN_TTL = 60.0
#: ... and at most this long (a run is shorter; `expires_in: 1e400` is not forever).
MAX_TOKEN_TTL = 24 * 3600.0
_MAX_TOKEN_RESPONSE = 1024 * 1024


@dataclass(frozen=True, repr=False)
class Credentials:
    """A username and password (or an identity token) for one registry."""

    username: str
    password: str
    #: An OAuth2 refresh token (`docker login` with SSO stores one); it wins over the password.
    identity_token: str | None = None
    #: Sent to the registry itself only, never to a token realm elsewhere: an AWS ECR login
    #: token is for its registry alone (Docker's own logins go to the realm, as docker does).
    registry_only: bool = False

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
    Empty list elements (`, Bearer realm="..",,service=".."`) are skipped, as RFC 9110 asks.
    A second challenge after the first (`Bearer ..., Basic ...`) is ignored.
    """
    match = _SCHEME.match(header, _skip_empty(header, 0))
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
            pos = _skip_empty(header, pos)
    return Challenge(scheme=scheme, params=params)


def _skip_empty(header: str, pos: int) -> int:
    """The position after any commas and blanks at `pos` (empty elements of a header list)."""
    while pos < len(header) and header[pos] in ", \t":
        pos += 1
    return pos


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


def realm_url(challenge: Challenge) -> httpx.URL:
    """The Bearer challenge's realm as an http(s) URL; RegistryProtocolError for anything else."""
    realm = challenge.realm
    try:
        url = httpx.URL(realm or "")
    except httpx.InvalidURL as exc:
        raise RegistryProtocolError(f"Bearer challenge whose realm is not a URL: {realm!r}") from exc
    if url.scheme not in ("http", "https") or not url.host:
        raise RegistryProtocolError(f"Bearer challenge without a usable realm: {realm!r}")
    return url


def fetch_token(
    http: httpx.Client,
    realm: httpx.URL,
    challenge: Challenge,
    scope: str | None,
    credentials: Credentials | None,
) -> tuple[str, float]:
    """Ask `realm` (the challenge's) for a token covering `scope`; return (token, expires_in).

    Anonymous unless `credentials` are given: Basic credentials go in a GET, an identity
    token goes in the OAuth2 refresh-token POST, as the Docker CLI does. The answer is read
    up to 1 MiB; its token must be fit for a header, its lifetime is kept within bounds.
    """
    query: list[tuple[str, str | int | float | bool | None]] = []
    if challenge.service:
        query.append(("service", challenge.service))
    # A scope may list several space-separated grants; the token spec repeats `scope`.
    query.extend(("scope", part) for part in (scope or "").split() if part)
    if credentials is not None and credentials.identity_token:
        form = {key: str(value) for key, value in query}
        form.update(grant_type="refresh_token", refresh_token=credentials.identity_token, client_id="labcheck")
        if scope:
            form["scope"] = scope
        request = http.build_request("POST", realm, data=form)
    else:
        request = http.build_request("GET", realm, params=query)
        if credentials is not None:
            request.headers["Authorization"] = basic_auth_header(credentials)
    where = f"token service {realm.host}"
    status = 0
    try:
        response = http.send(request, stream=True)
        status = response.status_code
        body = read_capped(response, _MAX_TOKEN_RESPONSE)
    except httpx.TransportError as exc:
        raise RegistryUnreachable(f"cannot reach {where}: {exc or type(exc).__name__}") from exc
    except (httpx.DecodingError, BodyTooLarge) as exc:
        raise RegistryProtocolError(f"{where} answered HTTP {status}, not a token ({exc})") from exc
    if status in (401, 403):
        who = f"user {credentials.username!r}" if credentials else "anonymous access"
        raise RegistryAuthError(f"{where} refused {who} for scope {scope or '(none)'} (HTTP {status})")
    if status != 200:
        raise RegistryProtocolError(f"{where} answered HTTP {status}, not a token")
    try:
        data: Any = loads(body)
    except ValueError as exc:
        raise RegistryProtocolError(f"{where} answered something that is not JSON") from exc
    token = (data.get("token") or data.get("access_token")) if isinstance(data, dict) else None
    if not isinstance(token, str):
        raise RegistryProtocolError(f"{where} answered JSON without a token")
    if not (token.isascii() and token.isprintable() and " " not in token):
        # It goes into a header: CR/LF would forge headers, and the error would quote it.
        raise RegistryProtocolError(f"{where} answered a token that cannot be sent in a header")
    return token, token_ttl(data.get("expires_in"))


def token_ttl(expires_in: object) -> float:
    """A token's lifetime from `expires_in`: MIN_TOKEN_TTL to MAX_TOKEN_TTL; MIN for nonsense."""
    if isinstance(expires_in, bool) or not isinstance(expires_in, int | float):
        return MIN_TOKEN_TTL
    if isinstance(expires_in, float) and not math.isfinite(expires_in):
        return MIN_TOKEN_TTL if math.isnan(expires_in) or expires_in < 0 else MAX_TOKEN_TTL
    if expires_in >= MAX_TOKEN_TTL:  # compared before float(): float(10**400) overflows
        return MAX_TOKEN_TTL
    return max(float(expires_in), MIN_TOKEN_TTL)


def credentials_for(host: str, docker_config_dir: str | None = None) -> Credentials | None:
    """The credentials the Docker CLI would use for `host`, or None when none are stored.

    Reads `<docker_config_dir>/config.json`, else `$DOCKER_CONFIG/config.json`, else
    `~/.docker/config.json`, checks its shape (RegistryAuthError naming the entry that is
    broken), then resolves it through the docker SDK (credHelpers, credsStore, auths and
    identity tokens). A missing config file is not an error.
    """
    import docker.auth  # imported late: the SDK is slow to import and only needed here
    import docker.errors

    if docker_config_dir is None:
        docker_config_dir = str(default_docker_config_dir())
    config_path = os.path.join(docker_config_dir, "config.json")
    # Checked here because the SDK would otherwise fall back to other files.
    if not os.path.isfile(config_path):
        return None
    checked = _checked_config(config_path)
    if not checked:
        return None  # no login of any kind (the SDK, given nothing, would go looking elsewhere)
    key = DOCKER_HUB_CONFIG_KEY if host.lower() in DOCKER_HUB_HOSTS else host
    try:
        with warnings.catch_warnings():  # a helper missing from PATH is the error below, not a warning
            warnings.simplefilter("ignore")
            config = docker.auth.load_config(config_dict=dict(checked))  # it pops what it reads
            entry = docker.auth.resolve_authconfig(config, registry=key)
    except docker.errors.DockerException as exc:
        # Only the helper's name and its complaint: the SDK never puts secrets in these.
        raise RegistryAuthError(f"cannot read Docker credentials for {host}: {exc}") from exc
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        # The helper's answer is not `{"Username": ..., "Secret": ...}`; what it said may be a secret.
        helper = checked.get("credHelpers", {}).get(key) or checked.get("credsStore", "?")
        raise RegistryAuthError(
            f"the credential helper docker-credential-{helper} answered something that is not a login for {host}",
            tip=f"check `echo {key} | docker-credential-{helper} get`, or run `docker login {host}` again",
        ) from exc
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


def _checked_config(path: str) -> dict[str, Any]:
    """The login sections of the Docker config at `path`, each of the shape the docker CLI
    writes; RegistryAuthError naming the first entry that is not (never what it holds)."""

    def broken(where: str, what: str, key: str | None = None) -> RegistryAuthError:
        tip = f"run `docker login {key}` again, or remove that entry" if key else "fix or remove that entry"
        return RegistryAuthError(f"the Docker config {path}: {where} {what}", tip=tip)

    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError) as exc:  # JSON errors give a position, never the content
        raise RegistryAuthError(f"cannot read the Docker config {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise broken("the file", "is not a JSON object")
    checked: dict[str, Any] = {}
    auths = data.get("auths")
    if auths is not None:
        if not isinstance(auths, dict):
            raise broken("`auths`", "is not an object of logins")
        checked["auths"] = {str(key): _checked_login(str(key), entry, broken) for key, entry in auths.items()}
    store = data.get("credsStore")
    if store is not None and not isinstance(store, str):
        raise broken("`credsStore`", "is not the name of a credential helper")
    if store:
        checked["credsStore"] = store
    helpers = data.get("credHelpers")
    if helpers is not None:
        if not isinstance(helpers, dict) or not all(isinstance(v, str) for v in helpers.values()):
            raise broken("`credHelpers`", "is not an object of registry: helper name")
        checked["credHelpers"] = {str(key): value for key, value in helpers.items()}
    return {k: v for k, v in checked.items() if v}


def _checked_login(key: str, entry: object, broken: Callable[..., RegistryAuthError]) -> dict[str, Any]:
    where = f"auths[{key!r}]"
    if not isinstance(entry, dict):
        raise broken(where, "is not an object", key)
    login = {k: v for k, v in entry.items() if v is not None and v != ""}  # null and "": absent, as in docker
    token = login.get("identitytoken")
    if token is not None and not isinstance(token, str):
        raise broken(f"{where}.identitytoken", "is not a string", key)
    auth = login.get("auth")
    if auth is None:
        return login
    if not isinstance(auth, str):
        raise broken(f"{where}.auth", "is not a string", key)
    try:
        pair = base64.b64decode(auth.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise broken(f"{where}.auth", "is not base64 of user:password", key) from None
    if ":" not in pair:
        raise broken(f"{where}.auth", "is not base64 of user:password (no colon)", key)
    return login
