"""AWS ECR registries: recognise their host names, and log in with a token from AWS.

An ECR registry is `<account>.dkr.ecr.<region>.amazonaws.com` (`.amazonaws.com.cn` in the
China regions, `dkr.ecr-fips` for a FIPS endpoint). Its login is the one `aws ecr
get-login-password` makes: `ecr:GetAuthorizationToken` returns base64 `AWS:<password>`,
valid for 12 hours, asked with boto3's default credential chain (environment, profiles,
SSO, roles; `AWS_ENDPOINT_URL` points it elsewhere, as tests do with moto).

The password never leaves the returned Credentials, whose repr hides it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx

from labcheck.ecr_api import token_login
from labcheck.errors import REINSTALL_TIP, EcrLoginError, RegistryUnreachable, ToolMissing, UsageError
from labcheck.http_transport import is_loopback
from labcheck.registry.auth import Credentials

_REGION = r"[a-z]{2}(?:-[a-z]+)+-\d{1,2}"
_HOST = re.compile(
    rf"(?P<account>\d{{12}})\.dkr\.ecr(?P<fips>-fips)?\.(?P<region>{_REGION})"
    r"\.amazonaws\.com(?P<cn>\.cn)?(?::443)?"
)


@dataclass(frozen=True)
class EcrHost:
    """What an ECR registry's host name says: account, region, and whether it is a FIPS endpoint."""

    account: str
    region: str
    fips: bool = False


def parse_ecr_host(host: str) -> EcrHost | None:
    """The account and region of an ECR registry host, or None when `host` is not one.

    `.amazonaws.com.cn` goes with the China regions (`cn-...`) only, and those only with it.
    """
    m = _HOST.fullmatch(host.strip().lower())
    if m is None or (m["cn"] is not None) != m["region"].startswith("cn-"):
        return None
    return EcrHost(account=m["account"], region=m["region"], fips=m["fips"] is not None)


def is_region_name(name: str) -> bool:
    """True when `name` is shaped like an AWS region (`us-east-1`, `ap-southeast-2`, `cn-north-1`)."""
    return re.fullmatch(_REGION, name) is not None


def ecr_region(registry: str, region: str | None) -> str | None:
    """The region of `registry` when it is an ECR registry, else None.

    `region` (`--ecr-region`) says that the registry is an ECR in that region: an ECR host
    name (whose own region it must match) or a registry on this machine (the lab's stand-in,
    `localhost:PORT`). Any other host is refused before a token is asked for: the AWS login
    token would be sent to it.
    """
    host = parse_ecr_host(registry)
    if region is None:
        return host.region if host else None
    if not is_region_name(region):
        raise UsageError(f"--ecr-region {region!r} is not an AWS region name (e.g. us-east-1)")
    if host is not None and host.region != region:
        raise UsageError(f"--ecr-region {region} does not match the region of {registry} ({host.region})")
    if host is None and not is_loopback(_hostname(registry)):
        raise UsageError(
            f"--ecr-region: {registry} is not an AWS ECR registry (<account>.dkr.ecr.<region>.amazonaws.com); "
            "labcheck sends an AWS login token only to ECR, or to a registry on this machine",
            tip="drop --ecr-region to grade it with your Docker login, or name the ECR registry itself",
        )
    return region


def _hostname(registry: str) -> str:
    try:
        return httpx.URL(f"http://{registry.strip()}").host
    except httpx.InvalidURL:
        return ""


def ecr_login(region: str, *, account: str | None = None, fips: bool = False) -> Credentials:
    """The ECR login (user `AWS`, the token's password) for `region`, from AWS through boto3.

    With `account` (from the registry's host name), refuses a token of another account: the
    ECR API would then list that other account's repositories. Raises ToolMissing without
    boto3, EcrLoginError without usable AWS credentials or for an unknown region, and
    RegistryUnreachable when the ECR API does not answer. No message holds a secret.
    """
    try:
        import boto3
        import botocore.config
        import botocore.exceptions
    except ImportError:
        message = "grading an AWS ECR registry needs boto3, which is not installed"
        raise ToolMissing(message, tip=REINSTALL_TIP) from None
    where = f"ECR in {region}"
    try:
        client = boto3.client(
            "ecr",
            region_name=region,
            config=botocore.config.Config(
                connect_timeout=5, read_timeout=10, retries={"max_attempts": 2}, use_fips_endpoint=fips
            ),
        )
        answer: dict[str, Any] = client.get_authorization_token()
    except (botocore.exceptions.NoCredentialsError, botocore.exceptions.PartialCredentialsError):
        raise EcrLoginError(f"no AWS credentials to ask {where} for a login token") from None
    except botocore.exceptions.EndpointConnectionError as exc:
        if not _known_region(boto3, region):
            raise EcrLoginError(
                f"{region} is not an AWS region: the ECR API does not answer there",
                tip="check the region in <account>.dkr.ecr.<region>.amazonaws.com (or --ecr-region)",
            ) from None
        raise RegistryUnreachable(f"cannot reach {where}: {exc}", tip="check your network connection") from None
    except botocore.exceptions.ClientError as exc:
        error = exc.response.get("Error", {})
        code, detail = error.get("Code", "an error"), " ".join(str(error.get("Message", "")).split())[:200]
        raise EcrLoginError(f"AWS refused the ECR login in {region}: {code}{': ' + detail if detail else ''}") from None
    except botocore.exceptions.BotoCoreError as exc:
        # botocore's messages name a profile, a file or a setting, never a secret
        raise EcrLoginError(f"cannot ask {where} for a login token: {exc}") from None
    return _credentials(answer, where, account)


def _credentials(answer: dict[str, Any], where: str, account: str | None) -> Credentials:
    try:
        user, password = token_login(answer)
    except ValueError as exc:
        raise EcrLoginError(f"{where} answered {exc}") from None
    proxy = parse_ecr_host(str(answer["authorizationData"][0].get("proxyEndpoint", "")).removeprefix("https://"))
    if account is not None and proxy is not None and proxy.account != account:
        raise EcrLoginError(
            f"your AWS credentials are for account {proxy.account}, the registry is account {account}: "
            "labcheck reads the repositories of the credentials' own account",
            tip=f"use credentials of account {account} (e.g. AWS_PROFILE=...)",
        )
    return Credentials(username=user, password=password, registry_only=True)


def _known_region(boto3: Any, region: str) -> bool:
    session = boto3.session.Session()
    return any(
        region in session.get_available_regions("ecr", partition_name=p) for p in session.get_available_partitions()
    )
