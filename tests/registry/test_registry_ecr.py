"""ECR registry hosts and the ECR login from AWS (boto3 stubbed or without credentials: no network).

boto3 is the `ecr` extra's: it is imported by the tests that use it, so that the suite is
collected without it (those tests then fail, saying why).
"""

from __future__ import annotations

import base64
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from labcheck.errors import EcrLoginError, RegistryAuthError, RegistryUnreachable, ToolMissing, UsageError
from labcheck.registry.ecr import EcrHost, ecr_login, ecr_region, is_region_name, parse_ecr_host

if TYPE_CHECKING:
    from botocore.stub import Stubber

SECRET = "eyJwYXlsb2FkIjoic2VjcmV0LXRva2VuIn0-not-a-real-password"


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com", EcrHost("123456789012", "us-east-1")),
        ("123456789012.dkr.ecr.ap-south-1.amazonaws.com", EcrHost("123456789012", "ap-south-1")),
        ("000000000001.dkr.ecr.ap-southeast-2.amazonaws.com:443", EcrHost("000000000001", "ap-southeast-2")),
        ("123456789012.DKR.ECR.EU-WEST-3.AmazonAWS.com", EcrHost("123456789012", "eu-west-3")),  # DNS: any case
        ("123456789012.dkr.ecr.us-gov-west-1.amazonaws.com", EcrHost("123456789012", "us-gov-west-1")),
        ("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", EcrHost("123456789012", "cn-north-1")),
        ("123456789012.dkr.ecr.cn-northwest-1.amazonaws.com.cn", EcrHost("123456789012", "cn-northwest-1")),
        ("123456789012.dkr.ecr-fips.us-east-1.amazonaws.com", EcrHost("123456789012", "us-east-1", fips=True)),
    ],
)
def test_ecr_hosts_give_account_and_region(host: str, expected: EcrHost) -> None:
    assert parse_ecr_host(host) == expected


@pytest.mark.parametrize(
    "host",
    [
        "docker.io",
        "ghcr.io",
        "localhost:5002",
        "public.ecr.aws",  # ECR Public: another login (ecr-public), not graded as an ECR registry
        "12345678901.dkr.ecr.us-east-1.amazonaws.com",  # 11 digits
        "1234567890123.dkr.ecr.us-east-1.amazonaws.com",  # 13 digits
        "12345678901a.dkr.ecr.us-east-1.amazonaws.com",
        "123456789012.dkr.ecr.amazonaws.com",  # no region
        "123456789012.dkr.ecr.useast1.amazonaws.com",  # not a region's shape
        "123456789012.ecr.us-east-1.amazonaws.com",  # no dkr
        "123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.example",
        "evil.example/123456789012.dkr.ecr.us-east-1.amazonaws.com",
        "x123456789012.dkr.ecr.us-east-1.amazonaws.com",
        "123456789012.dkr.ecr.us-east-1.amazonaws.com:5000",  # ECR listens on 443 only
        "123456789012.dkr.ecr.us-east-1.amazonaws.com.cn",  # .cn is for the China regions
        "123456789012.dkr.ecr.cn-north-1.amazonaws.com",  # ... and they are only under .cn
        "https://123456789012.dkr.ecr.us-east-1.amazonaws.com",
        "",
    ],
)
def test_other_hosts_are_not_ecr(host: str) -> None:
    assert parse_ecr_host(host) is None


def test_region_names() -> None:
    assert all(is_region_name(r) for r in ("us-east-1", "eu-central-2", "ap-southeast-5", "us-gov-east-1"))
    assert not any(is_region_name(r) for r in ("us-east", "east-1", "US-EAST-1", "us_east_1", "", "us-east-1 "))


def test_the_registry_or_the_option_says_it_is_an_ecr() -> None:
    host = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
    assert ecr_region(host, None) == "eu-west-1"
    assert ecr_region(host, "eu-west-1") == "eu-west-1"
    assert ecr_region("localhost:5002", None) is None
    assert ecr_region("localhost:5002", "us-east-1") == "us-east-1"
    with pytest.raises(UsageError, match="does not match the region"):
        ecr_region(host, "us-east-1")
    with pytest.raises(UsageError, match="not an AWS region name"):
        ecr_region("localhost:5002", "mars")
    assert ecr_region("127.0.0.1:5002", "us-east-1") == "us-east-1"
    assert ecr_region("[::1]:5002", "us-east-1") == "us-east-1"


@pytest.mark.parametrize(
    "host",
    ["evil.example", "evil.example:443", "10.0.0.5:5000", "localhost.evil.example", "amazonaws.com.evil.example"],
)
def test_an_ecr_region_for_a_host_that_is_not_an_ecr_is_refused_before_any_token(host: str) -> None:
    """Before: `--registry evil.example --ecr-region us-east-1` answered a Basic challenge with
    the 12-hour AWS token."""
    with pytest.raises(UsageError, match="is not an AWS ECR registry") as info:
        ecr_region(host, "us-east-1")
    assert info.value.exit_code == 2


@pytest.fixture
def no_aws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No AWS credentials anywhere boto3 looks, and no instance metadata to ask."""
    import os

    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def stubbed(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    """boto3.client("ecr", ...) answers what the test adds to this stubber."""
    import boto3
    from botocore.stub import Stubber

    client = boto3.client("ecr", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s")
    seen: list[dict[str, Any]] = []

    def fake_client(service: str, **kwargs: Any) -> Any:
        assert service == "ecr"
        seen.append(kwargs)
        return client

    monkeypatch.setattr(boto3, "client", fake_client)
    with Stubber(client) as stubber:
        yield stubber
    stubber.assert_no_pending_responses()
    assert all(kw["region_name"] == "us-east-1" for kw in seen)


def _token(user: str, password: str, account: str = "123456789012") -> dict[str, Any]:
    encoded = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {
        "authorizationData": [
            {"authorizationToken": encoded, "proxyEndpoint": f"https://{account}.dkr.ecr.us-east-1.amazonaws.com"}
        ]
    }


def test_the_login_is_user_aws_and_the_tokens_password(stubbed: Stubber) -> None:
    stubbed.add_response("get_authorization_token", _token("AWS", SECRET), {})
    creds = ecr_login("us-east-1", account="123456789012")
    assert (creds.username, creds.password) == ("AWS", SECRET)
    assert creds.registry_only  # never sent to a token realm on another host
    assert SECRET not in repr(creds) and SECRET not in str(creds)


def test_a_token_of_another_account_is_refused(stubbed: Stubber) -> None:
    stubbed.add_response("get_authorization_token", _token("AWS", SECRET, account="999999999999"), {})
    with pytest.raises(EcrLoginError, match="account 999999999999, the registry is account 123456789012") as info:
        ecr_login("us-east-1", account="123456789012")
    assert SECRET not in str(info.value) + info.value.tip


def test_access_denied_is_one_line_without_a_secret(stubbed: Stubber) -> None:
    stubbed.add_client_error(
        "get_authorization_token",
        service_error_code="AccessDeniedException",
        service_message="User: arn:aws:iam::123456789012:user/alice is not authorized to perform: "
        "ecr:GetAuthorizationToken",
        http_status_code=400,
    )
    with pytest.raises(EcrLoginError) as info:
        ecr_login("us-east-1")
    message = str(info.value)
    assert "AccessDeniedException" in message and "ecr:GetAuthorizationToken" in message
    assert "\n" not in message
    assert isinstance(info.value, RegistryAuthError) and info.value.exit_code == 3
    assert "aws sts get-caller-identity" in info.value.tip


def test_a_token_without_a_password_is_an_error(stubbed: Stubber) -> None:
    stubbed.add_response("get_authorization_token", _token("AWS", ""), {})
    with pytest.raises(EcrLoginError, match="without a user and password"):
        ecr_login("us-east-1")


def test_no_aws_credentials(no_aws: None) -> None:
    with pytest.raises(EcrLoginError, match="no AWS credentials to ask ECR in us-east-1") as info:
        ecr_login("us-east-1")
    assert info.value.exit_code == 3


class _Unreachable:
    def get_authorization_token(self) -> dict[str, Any]:
        import botocore.exceptions

        raise botocore.exceptions.EndpointConnectionError(endpoint_url="https://api.ecr.somewhere.amazonaws.com/")


def test_an_unknown_region_and_an_unreachable_api(monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    monkeypatch.setattr(boto3, "client", lambda *a, **k: _Unreachable())
    with pytest.raises(EcrLoginError, match="xx-nowhere-9 is not an AWS region"):
        ecr_login("xx-nowhere-9")
    with pytest.raises(RegistryUnreachable, match="cannot reach ECR in eu-west-1"):
        ecr_login("eu-west-1")


def test_without_boto3_the_tip_is_the_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)  # import boto3 -> ImportError
    with pytest.raises(ToolMissing, match="needs boto3") as info:
        ecr_login("us-east-1")
    assert "reinstall labcheck" in info.value.tip
    assert info.value.exit_code == 3
