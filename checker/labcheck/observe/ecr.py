"""Observe an ECR API: its repositories with their settings (DescribeRepositories) and the
lifecycle policies checks ask about (GetLifecyclePolicy), once per run.

The lab's stand-in is asked directly (ecr_api.py, with the lab's own keys); AWS itself, or an
endpoint without given keys, through boto3 and its credential chain.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from labcheck.errors import REINSTALL_TIP
from labcheck.observe.model import EcrRepository, EcrState, Unavailable
from labcheck.text import printable


def observe_ecr(
    endpoint: str | None,
    region: str,
    *,
    access_keys: Mapping[str, str] | None = None,
    lifecycle_of: Collection[str] = (),
) -> EcrState | Unavailable:
    """The repositories of the ECR API at `endpoint` (None: AWS itself, with the caller's
    AWS credentials) and the lifecycle policies of `lifecycle_of`; Unavailable when it
    cannot be asked."""
    if endpoint and access_keys:
        return _observe_with_keys(endpoint, region, access_keys, lifecycle_of)
    try:
        import boto3
        import botocore.config
        import botocore.exceptions
    except ImportError:
        return Unavailable(f"boto3 cannot be imported: {REINSTALL_TIP}")
    keys = access_keys or {}
    client = boto3.client(
        "ecr",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=keys.get("AWS_ACCESS_KEY_ID"),
        aws_secret_access_key=keys.get("AWS_SECRET_ACCESS_KEY"),
        config=botocore.config.Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 2}),
    )
    where = endpoint or f"ECR in {region}"
    repositories: dict[str, EcrRepository] = {}
    policies: dict[str, str | None] = {}
    try:
        for page in client.get_paginator("describe_repositories").paginate():
            for raw in page.get("repositories", []):
                created = raw.get("createdAt")  # boto3 makes it a datetime
                name = printable(str(raw["repositoryName"]))
                repositories[name] = EcrRepository(
                    name,
                    created.timestamp() if created else 0.0,
                    printable(str(raw.get("repositoryUri", ""))),
                    *_settings(raw),
                )
        for name in sorted(set(lifecycle_of) & set(repositories)):
            try:
                policies[name] = client.get_lifecycle_policy(repositoryName=name)["lifecyclePolicyText"]
            except client.exceptions.LifecyclePolicyNotFoundException:
                policies[name] = None
    except botocore.exceptions.EndpointConnectionError:
        return Unavailable(f"cannot reach the ECR API at {where}: is the lab up? (`labcheck status`)")
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        # botocore's messages name the operation and the AWS error code, never a secret
        return Unavailable(f"the ECR API at {where} did not answer: {exc}")
    policies.update((name, None) for name in lifecycle_of if name not in repositories)
    return EcrState(endpoint=where, repositories=repositories, lifecycle_policies=policies)


def _observe_with_keys(
    endpoint: str, region: str, access_keys: Mapping[str, str], lifecycle_of: Collection[str]
) -> EcrState | Unavailable:
    from labcheck.ecr_api import AwsKeys, EcrApiError, describe_repositories, lifecycle_policy

    keys = AwsKeys.from_env(access_keys)
    try:
        listed = describe_repositories(endpoint, region, keys)
        repositories = {r.name: r for r in map(repository, listed) if r is not None}
        policies = {
            name: lifecycle_policy(endpoint, region, keys, name) if name in repositories else None
            for name in sorted(lifecycle_of)
        }
    except EcrApiError as exc:
        return Unavailable(str(exc))
    return EcrState(endpoint=endpoint, repositories=repositories, lifecycle_policies=policies)


def repository(raw: Mapping[str, Any]) -> EcrRepository | None:
    """A repository as the JSON API describes it (createdAt: epoch seconds); names shown escaped.
    None for an entry without a name."""
    if not isinstance(raw.get("repositoryName"), str):
        return None
    created = raw.get("createdAt")
    return EcrRepository(
        printable(str(raw["repositoryName"])),
        float(created) if isinstance(created, int | float) and 0 <= created < 1e11 else 0.0,
        printable(str(raw.get("repositoryUri", ""))),
        *_settings(raw),
    )


def _settings(raw: Mapping[str, Any]) -> tuple[str, bool]:
    """(imageTagMutability, scanOnPush) of a described repository."""
    scanning = raw.get("imageScanningConfiguration")
    scan = bool(scanning.get("scanOnPush")) if isinstance(scanning, Mapping) else False
    return str(raw.get("imageTagMutability") or "MUTABLE"), scan
