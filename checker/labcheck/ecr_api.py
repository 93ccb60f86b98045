"""The ECR API calls labcheck makes to its own ECR stand-in, signed with AWS Signature V4.

`labcheck run` lists the stand-in's repositories (DescribeRepositories) and their lifecycle
policies (GetLifecyclePolicy), and asks it for a login (GetAuthorizationToken) to read its
registry, `labcheck up` for one to see that it is ready; all with keys labcheck chose itself
(the lab's dummy keys). boto3 does that too, but importing it and building its client costs
~0.5 s each time; this module sends the same JSON requests over httpx instead. A real ECR
(`--registry <account>.dkr.ecr.<region>.amazonaws.com`) goes through boto3, which owns the
AWS credential chain (profiles, SSO, instance roles).
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from labcheck.http_transport import http_client
from labcheck.text import printable
from labcheck.untrusted import BodyTooLarge, loads, read_capped

_TARGET = "AmazonEC2ContainerRegistry_V20150921"
_CONTENT_TYPE = "application/x-amz-json-1.1"
_MAX_PAGES = 100
_MAX_ANSWER = 16 * 1024 * 1024  # a page of 1000 repositories is a few hundred KiB


class EcrApiError(Exception):
    """The ECR API could not be asked, or refused: the message says which and never holds a key.

    `code` is the AWS error code of a refusal (`RepositoryNotFoundException`), else empty.
    """

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class AwsKeys:
    """An access key pair (and session token); the secret never appears in a repr."""

    access_key_id: str
    secret_access_key: str
    session_token: str | None = None

    def __repr__(self) -> str:
        return f"AwsKeys(access_key_id={self.access_key_id!r}, secret_access_key=<hidden>)"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> AwsKeys:
        """The keys in AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) of `env`."""
        return cls(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], env.get("AWS_SESSION_TOKEN"))


def sign_v4(
    method: str,
    url: httpx.URL,
    headers: Mapping[str, str],
    body: bytes,
    *,
    keys: AwsKeys,
    region: str,
    service: str,
    now: datetime.datetime,
) -> dict[str, str]:
    """`headers` plus X-Amz-Date (and the session token) and the SigV4 Authorization for them."""
    amz_date = now.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    signed = {k.lower(): " ".join(v.split()) for k, v in headers.items()}
    signed["host"] = url.netloc.decode("ascii")
    signed["x-amz-date"] = amz_date
    if keys.session_token:
        signed["x-amz-security-token"] = keys.session_token
    names = sorted(signed)
    params = httpx.QueryParams(url.query.decode("ascii")).multi_items()
    query = "&".join(sorted(f"{quote(k, safe='~')}={quote(v, safe='~')}" for k, v in params))
    canonical = "\n".join(
        [
            method,
            quote(url.path or "/", safe="/~"),
            query,
            "".join(f"{n}:{signed[n]}\n" for n in names),
            ";".join(names),
            hashlib.sha256(body).hexdigest(),
        ]
    )
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = f"AWS4{keys.secret_access_key}".encode()
    for part in (amz_date[:8], region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    out = dict(headers)
    out["X-Amz-Date"] = amz_date
    if keys.session_token:
        out["X-Amz-Security-Token"] = keys.session_token
    out["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={keys.access_key_id}/{scope}, "
        f"SignedHeaders={';'.join(names)}, Signature={signature}"
    )
    return out


def call(
    http: httpx.Client, endpoint: str, region: str, keys: AwsKeys, operation: str, payload: dict[str, Any]
) -> dict[str, Any]:
    """One ECR API operation (JSON protocol, SigV4-signed); its answer, or EcrApiError."""
    url = httpx.URL(endpoint.rstrip("/") + "/")
    body = json.dumps(payload).encode()
    headers = sign_v4(
        "POST",
        url,
        {"Content-Type": _CONTENT_TYPE, "X-Amz-Target": f"{_TARGET}.{operation}"},
        body,
        keys=keys,
        region=region,
        service="ecr",
        now=datetime.datetime.now(datetime.UTC),
    )
    try:
        response = http.send(http.build_request("POST", url, content=body, headers=headers), stream=True)
        status = response.status_code
        answer = read_capped(response, _MAX_ANSWER)
    except httpx.TransportError as exc:
        raise EcrApiError(f"cannot reach the ECR API at {endpoint}: is the lab up? (`labcheck status`)") from exc
    except (httpx.DecodingError, BodyTooLarge) as exc:
        raise EcrApiError(f"the ECR API at {endpoint} answered {operation} with something unreadable ({exc})") from exc
    try:
        data = loads(answer)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise EcrApiError(f"the ECR API at {endpoint} answered {operation} with HTTP {status}, not JSON")
    if status != 200:
        # AWS JSON errors: {"__type": "...#RepositoryNotFoundException", "message": "..."}
        code = printable(str(data.get("__type", "")).rsplit("#", 1)[-1])[:100] or f"HTTP {status}"
        message = printable(str(data.get("message") or ""))[:300]
        detail = f"{code}: {message}" if message else code
        raise EcrApiError(f"the ECR API at {endpoint} refused {operation}: {detail}", code)
    return data


def client(timeout: float = 10.0) -> httpx.Client:
    """An HTTP client for call(): one connection retry, TLS only for an https endpoint."""
    return http_client(timeout=timeout, deadline=6 * timeout, retries=1)


def describe_repositories(
    endpoint: str, region: str, keys: AwsKeys, *, timeout: float = 10.0
) -> Iterator[dict[str, Any]]:
    """Every repository DescribeRepositories lists at `endpoint`, page by page."""
    with client(timeout) as http:
        token: str | None = None
        for _ in range(_MAX_PAGES):
            payload: dict[str, Any] = {"maxResults": 1000, **({"nextToken": token} if token else {})}
            data = call(http, endpoint, region, keys, "DescribeRepositories", payload)
            yield from (r for r in data.get("repositories") or () if isinstance(r, dict))
            token = data.get("nextToken")
            if not token:
                return
        raise EcrApiError(f"the ECR API at {endpoint} kept paging past {_MAX_PAGES} pages")


#: GetLifecyclePolicy's answer for a repository that has none.
NO_LIFECYCLE_POLICY = "LifecyclePolicyNotFoundException"


def lifecycle_policy(
    endpoint: str, region: str, keys: AwsKeys, repository: str, *, timeout: float = 10.0
) -> str | None:
    """The repository's lifecycle policy text (GetLifecyclePolicy), None when it has none."""
    with client(timeout) as http:
        try:
            answer = call(http, endpoint, region, keys, "GetLifecyclePolicy", {"repositoryName": repository})
        except EcrApiError as exc:
            if exc.code in (NO_LIFECYCLE_POLICY, "RepositoryNotFoundException"):
                return None
            raise
    text = answer.get("lifecyclePolicyText")
    return text if isinstance(text, str) else None


def token_login(answer: Mapping[str, Any]) -> tuple[str, str]:
    """(user, password) of a GetAuthorizationToken answer, whose token is base64 `AWS:<password>`.

    ValueError says what is wrong with it (never what it holds).
    """
    try:
        token = answer["authorizationData"][0]["authorizationToken"]
        user, _, password = base64.b64decode(token, validate=True).decode().partition(":")
    except (KeyError, IndexError, TypeError, ValueError) as exc:  # binascii.Error is a ValueError
        raise ValueError("without a readable login token") from exc
    if not user or not password:
        raise ValueError("a login token without a user and password")
    return user, password


def login_password(endpoint: str, region: str, keys: AwsKeys, *, timeout: float = 10.0) -> str:
    """The password `aws ecr get-login-password` prints for this ECR API."""
    with client(timeout) as http:
        answer = call(http, endpoint, region, keys, "GetAuthorizationToken", {})
    try:
        return token_login(answer)[1]
    except ValueError as exc:
        raise EcrApiError(f"the ECR API at {endpoint} answered GetAuthorizationToken {exc}") from None
