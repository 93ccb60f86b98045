"""The ECR API call made without boto3: its SigV4 signature, its answers and its errors."""

from __future__ import annotations

import base64
import datetime
import json
import re
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from labcheck.ecr_api import AwsKeys, EcrApiError, describe_repositories, login_password, sign_v4
from labcheck.http_transport import http_client
from labcheck.observe.ecr import observe_ecr
from labcheck.observe.model import EcrState, Unavailable

KEYS = AwsKeys("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
NOW = datetime.datetime(2026, 11, 27, 12, 36, 0, tzinfo=datetime.UTC)


@pytest.mark.parametrize("keys", [KEYS, AwsKeys(KEYS.access_key_id, KEYS.secret_access_key, "session-token")])
@pytest.mark.parametrize("url", ["http://localhost:5003/", "https://api.ecr.eu-west-1.amazonaws.com/?b=2&a=x%20y"])
def test_signature_is_the_one_botocore_computes(keys: AwsKeys, url: str) -> None:
    botocore_auth = pytest.importorskip("botocore.auth")
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    body = b'{"maxResults": 1000}'
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "X.DescribeRepositories"}
    ours = sign_v4("POST", httpx.URL(url), headers, body, keys=keys, region="eu-west-1", service="ecr", now=NOW)

    request = AWSRequest(method="POST", url=url, data=body, headers={**headers, "X-Amz-Date": ours["X-Amz-Date"]})
    if keys.session_token:
        request.headers["X-Amz-Security-Token"] = keys.session_token
    request.context["timestamp"] = ours["X-Amz-Date"]
    signer = botocore_auth.SigV4Auth(
        Credentials(keys.access_key_id, keys.secret_access_key, keys.session_token), "ecr", "eu-west-1"
    )
    expected = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
    assert ours["Authorization"].endswith(f"Signature={expected}")
    assert ours["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261127/eu-west-1/ecr/")
    assert ours["X-Amz-Date"] == "20261127T123600Z"
    assert KEYS.secret_access_key not in repr(keys)


@dataclass
class Canned:
    """ECR API answers handed out one per request, and the requests that asked."""

    answers: list[httpx.Response] = field(default_factory=list)
    seen: list[httpx.Request] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        return self.answers.pop(0)


LAB_KEYS = {"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"}


@pytest.fixture
def canned(monkeypatch: pytest.MonkeyPatch) -> Canned:
    canned = Canned()
    real = http_client

    def client(**kwargs: Any) -> httpx.Client:
        return real(**{**kwargs, "transport": httpx.MockTransport(canned.handle)})

    monkeypatch.setattr("labcheck.ecr_api.http_client", client)
    return canned


def test_pages_are_followed_and_every_request_is_signed(canned: Canned) -> None:
    canned.answers.append(httpx.Response(200, json={"repositories": [{"repositoryName": "a"}], "nextToken": "t1"}))
    canned.answers.append(httpx.Response(200, json={"repositories": [{"repositoryName": "b", "createdAt": 1.7e9}]}))
    state = observe_ecr("http://localhost:5003", "us-east-1", access_keys=LAB_KEYS)
    assert isinstance(state, EcrState)
    assert sorted(state.repositories) == ["a", "b"]
    assert state.repositories["b"].created == 1.7e9
    sent = canned.seen
    assert [json.loads(r.content).get("nextToken") for r in sent] == [None, "t1"]
    assert all(r.headers["X-Amz-Target"].endswith(".DescribeRepositories") for r in sent)
    assert all(r.headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=k/") for r in sent)


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (
            httpx.Response(400, json={"__type": "com.amazonaws#UnrecognizedClientException", "message": "bad key"}),
            "refused DescribeRepositories: UnrecognizedClientException: bad key",
        ),
        (httpx.Response(500, text="<html>oops</html>"), "answered DescribeRepositories with HTTP 500, not JSON"),
        (httpx.Response(403, json={}), "refused DescribeRepositories: HTTP 403"),
    ],
)
def test_refusals_are_unavailable_not_a_fail(canned: Canned, answer: httpx.Response, message: str) -> None:
    canned.answers.append(answer)
    state = observe_ecr("http://localhost:5003", "us-east-1", access_keys=LAB_KEYS)
    assert isinstance(state, Unavailable)
    assert message in state.reason


def test_a_closed_endpoint_says_to_check_the_lab() -> None:
    with pytest.raises(EcrApiError, match=re.escape("cannot reach the ECR API at http://127.0.0.1:9")):
        list(describe_repositories("http://127.0.0.1:9", "us-east-1", KEYS, timeout=2))


def test_login_password_is_the_password_in_the_token(canned: Canned) -> None:
    token = base64.b64encode(b"AWS:the-password").decode()
    canned.answers.append(httpx.Response(200, json={"authorizationData": [{"authorizationToken": token}]}))
    assert login_password("http://localhost:5003", "us-east-1", KEYS) == "the-password"
    assert canned.seen[0].headers["X-Amz-Target"].endswith(".GetAuthorizationToken")


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({"authorizationData": []}, "without a readable login token"),
        ({"authorizationData": [{"authorizationToken": "not base64!"}]}, "without a readable login token"),
        (
            {"authorizationData": [{"authorizationToken": base64.b64encode(b"AWS:").decode()}]},
            "without a user and password",
        ),
    ],
)
def test_login_password_refuses_a_token_without_one(canned: Canned, answer: dict[str, Any], message: str) -> None:
    canned.answers.append(httpx.Response(200, json=answer))
    with pytest.raises(EcrApiError, match=message):
        login_password("http://localhost:5003", "us-east-1", KEYS)
