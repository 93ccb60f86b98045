"""The one ECR API call a lab run makes (DescribeRepositories), signed with AWS Signature V4.

Grading the lab's ECR stand-in asks one question with keys labcheck itself chose (the lab's
dummy keys). boto3 answers it too, but importing and building its client costs ~0.5 s of
every `labcheck run`; this module sends the same JSON request over httpx instead. Grading a
real ECR (`--registry <account>.dkr.ecr.<region>.amazonaws.com`) goes through boto3, which
owns the AWS credential chain (profiles, SSO, instance roles).
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from labcheck.http_transport import SchemeTransport

_TARGET = "AmazonEC2ContainerRegistry_V20150921"
_CONTENT_TYPE = "application/x-amz-json-1.1"
_MAX_PAGES = 100


class EcrApiError(Exception):
    """The ECR API could not be asked, or refused: the message says which and never holds a key."""


@dataclass(frozen=True)
class AwsKeys:
    """An access key pair (and session token); the secret never appears in a repr."""

    access_key_id: str
    secret_access_key: str
    session_token: str | None = None

    def __repr__(self) -> str:
        return f"AwsKeys(access_key_id={self.access_key_id!r}, secret_access_key=<hidden>)"


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
    query = "&".join(
        sorted(f"{_quote(k)}={_quote(v)}" for k, v in httpx.QueryParams(url.query.decode("ascii")).multi_items())
    )
    canonical = "\n".join(
        [
            method,
            _quote(url.path or "/", safe="/~"),
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
    out = {k: v for k, v in headers.items()}
    out["X-Amz-Date"] = amz_date
    if keys.session_token:
        out["X-Amz-Security-Token"] = keys.session_token
    out["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={keys.access_key_id}/{scope}, "
        f"SignedHeaders={';'.join(names)}, Signature={signature}"
    )
    return out


def _quote(value: str, safe: str = "~") -> str:
    return quote(value, safe=safe)


def describe_repositories(
    endpoint: str, region: str, keys: AwsKeys, *, timeout: float = 10.0
) -> Iterator[dict[str, Any]]:
    """Every repository DescribeRepositories lists at `endpoint`, page by page."""
    url = httpx.URL(endpoint.rstrip("/") + "/")
    with httpx.Client(timeout=timeout, transport=SchemeTransport(retries=1)) as http:
        token: str | None = None
        for _ in range(_MAX_PAGES):
            body = json.dumps({"maxResults": 1000, **({"nextToken": token} if token else {})}).encode()
            headers = sign_v4(
                "POST",
                url,
                {"Content-Type": _CONTENT_TYPE, "X-Amz-Target": f"{_TARGET}.DescribeRepositories"},
                body,
                keys=keys,
                region=region,
                service="ecr",
                now=datetime.datetime.now(datetime.UTC),
            )
            try:
                response = http.post(url, content=body, headers=headers)
            except httpx.TransportError as exc:
                raise EcrApiError(
                    f"cannot reach the ECR API at {endpoint}: is the lab up? (`labcheck status`)"
                ) from exc
            try:
                data = response.json()
            except ValueError:
                data = None
            if not isinstance(data, dict):
                raise EcrApiError(f"the ECR API at {endpoint} answered HTTP {response.status_code} without JSON")
            if response.status_code != 200:
                # AWS JSON errors: {"__type": "...#RepositoryNotFoundException", "message": "..."}
                code = str(data.get("__type", "")).rsplit("#", 1)[-1] or f"HTTP {response.status_code}"
                detail = f"{code}: {data['message']}" if data.get("message") else code
                raise EcrApiError(f"the ECR API at {endpoint} did not list repositories: {detail}")
            yield from (r for r in data.get("repositories") or () if isinstance(r, dict))
            token = data.get("nextToken")
            if not token:
                return
        raise EcrApiError(f"the ECR API at {endpoint} kept paging past {_MAX_PAGES} pages")
