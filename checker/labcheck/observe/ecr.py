"""Observe an ECR API: its repositories (DescribeRepositories), once per run.

The lab's stand-in is asked directly (ecr_api.py, with the lab's own keys); AWS itself, or an
endpoint without given keys, through boto3 and its credential chain.
"""

from __future__ import annotations

from typing import Any

from labcheck.errors import REINSTALL_TIP
from labcheck.observe.model import EcrRepository, EcrState, Unavailable
from labcheck.text import printable


def observe_ecr(
    endpoint: str | None, region: str, *, access_keys: dict[str, str] | None = None
) -> EcrState | Unavailable:
    """The repositories of the ECR API at `endpoint` (None: AWS itself, with the caller's
    AWS credentials); Unavailable when it cannot be asked."""
    if endpoint and access_keys:
        return _observe_with_keys(endpoint, region, access_keys)
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
    try:
        for page in client.get_paginator("describe_repositories").paginate():
            for repo in page.get("repositories", []):
                created = repo.get("createdAt")
                name = printable(str(repo["repositoryName"]))
                repositories[name] = EcrRepository(
                    name=name,
                    created=created.timestamp() if created is not None else 0.0,
                    uri=printable(str(repo.get("repositoryUri", ""))),
                )
    except botocore.exceptions.EndpointConnectionError:
        return Unavailable(f"cannot reach the ECR API at {where}: is the lab up? (`labcheck status`)")
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        # botocore's messages name the operation and the AWS error code, never a secret
        return Unavailable(f"the ECR API at {where} did not list repositories: {exc}")
    return EcrState(endpoint=where, repositories=repositories)


def _observe_with_keys(endpoint: str, region: str, access_keys: dict[str, str]) -> EcrState | Unavailable:
    from labcheck.ecr_api import AwsKeys, EcrApiError, describe_repositories

    keys = AwsKeys.from_env(access_keys)
    try:
        listed = describe_repositories(endpoint, region, keys)
        repositories = {r.name: r for r in map(_repository, listed) if isinstance(r, EcrRepository)}
    except EcrApiError as exc:
        return Unavailable(str(exc))
    return EcrState(endpoint=endpoint, repositories=repositories)


def _repository(raw: dict[str, Any]) -> EcrRepository | None:
    """A repository as the JSON API describes it (createdAt: epoch seconds); names shown escaped.
    None for an entry without a name."""
    if not isinstance(raw.get("repositoryName"), str):
        return None
    created = raw.get("createdAt")
    return EcrRepository(
        name=printable(str(raw["repositoryName"])),
        created=float(created) if isinstance(created, int | float) and 0 <= created < 1e11 else 0.0,
        uri=printable(str(raw.get("repositoryUri", ""))),
    )
