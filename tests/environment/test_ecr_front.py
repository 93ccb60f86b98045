"""The ECR stand-in's front in-process (moto in this venv): its logins and its API front.

The registry front and everything the docker CLI sees are tested on a real engine
(test_ecr_environment_docker.py); these are the parts that need no registry.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Iterator

import httpx
import pytest

from labcheck.ecr_api import AwsKeys, EcrApiError, call, login_password
from labcheck.environment.ecr_front import Config, Front, Tokens, serve, start_moto
from labcheck.environment.services import free_port

KEYS = AwsKeys("k", "s")


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_token_is_valid_for_its_lifetime_then_expired() -> None:
    clock = Clock()
    tokens = Tokens(3600, clock)
    password, expires = tokens.issue()
    assert expires == clock.now + 3600
    assert tokens.check(password) == "valid"
    clock.now += 3599
    assert tokens.check(password) == "valid"
    clock.now += 2
    assert tokens.check(password) == "expired"


@pytest.mark.parametrize(
    "mangle", [lambda p: p + "0", lambda p: "x" + p, lambda p: "", lambda p: "no-dot", lambda p: "a.b"]
)
def test_a_token_it_did_not_issue_is_invalid(mangle: object) -> None:
    tokens = Tokens(3600)
    password, _ = tokens.issue()
    assert tokens.check(mangle(password)) == "invalid"  # type: ignore[operator]
    assert Tokens(3600).check(password) == "invalid"  # another front's key (a restarted one)


@pytest.fixture
def front() -> Iterator[tuple[str, Front]]:
    config = Config(
        region="us-east-1",
        account="123456789012",
        token_lifetime=43200,
        api_port=free_port(),
        registry_port=None,
        store="127.0.0.1:1",
        moto_port=free_port(),
        public_registry="localhost:5002",
        bind="127.0.0.1",
    )
    the_front = Front(config)
    servers = serve(the_front)
    moto = start_moto(config.moto_port)
    the_front.ecr.ready.set()
    try:
        yield f"http://127.0.0.1:{config.api_port}", the_front
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
        moto.stop()


def test_the_api_front_issues_its_own_expiring_logins(front: tuple[str, Front]) -> None:
    endpoint, the_front = front
    before = time.time()
    with httpx.Client() as http:
        answer = call(http, endpoint, "us-east-1", KEYS, "GetAuthorizationToken", {})
    data = answer["authorizationData"][0]
    user, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
    assert user == "AWS"
    assert the_front.tokens.check(password) == "valid"
    assert before + 43200 - 5 <= data["expiresAt"] <= time.time() + 43200
    assert data["proxyEndpoint"] == "http://localhost:5002"
    assert login_password(endpoint, "us-east-1", KEYS) != password  # a new token each time


def test_the_api_front_passes_the_rest_to_moto_and_gives_put_image_the_real_digest(front: tuple[str, Front]) -> None:
    endpoint, _ = front
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": 2,
                "digest": "sha256:" + "1" * 64,
            },
            "layers": [],
        },
        indent=3,
    )
    with httpx.Client() as http:
        call(http, endpoint, "us-east-1", KEYS, "CreateRepository", {"repositoryName": "my-app"})
        put = call(
            http,
            endpoint,
            "us-east-1",
            KEYS,
            "PutImage",
            {"repositoryName": "my-app", "imageManifest": manifest, "imageTag": "1.0.0"},
        )
        assert put["image"]["imageId"]["imageDigest"] == "sha256:" + hashlib.sha256(manifest.encode()).hexdigest()
        with pytest.raises(EcrApiError) as refused:
            call(http, endpoint, "us-east-1", KEYS, "DescribeRepositories", {"repositoryNames": ["other"]})
    assert refused.value.code == "RepositoryNotFoundException"
