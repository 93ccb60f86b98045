"""`labcheck run part7 ecr --registry HOST --ecr-region REGION`: an ECR graded with a login from AWS.

The lab's own ECR stand-in plays AWS: its ECR API (reached through AWS_ENDPOINT_URL,
which boto3 honours, with placeholder keys) and its registry, which takes user AWS with
a token from that API. labcheck is told only the registry and the region, as with a
real `<account>.dkr.ecr.<region>.amazonaws.com`.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from labcheck.environment.services import free_port
from registry_kit import push_index

pytestmark = pytest.mark.docker
LABCHECK = shutil.which("labcheck") or str(Path(__file__).parents[1] / ".venv" / "bin" / "labcheck")
KEYS = {"AWS_ACCESS_KEY_ID": "test-key-id", "AWS_SECRET_ACCESS_KEY": "test-secret-key"}


@dataclass(frozen=True)
class Lab:
    env: dict[str, str]  # labcheck's environment, without any AWS setting
    instance: str
    registry: int  # the lab's plain registry (no login)
    ecr: int  # the ECR stand-in's registry
    api: str  # the ECR API's endpoint URL


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        LABCHECK_STATE_DIR=str(tmp_path / "state"),
        DOCKER_CONFIG=str(tmp_path / "docker-config"),
        NO_COLOR="1",
        AWS_CONFIG_FILE=str(tmp_path / "no-aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-aws-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
    )
    (tmp_path / "docker-config").mkdir()
    ports = {name: free_port() for name in ("registry", "hub", "ecr", "ecr-api")}
    instance = f"ecr-remote-{ports['ecr']}"
    try:
        up = lc(env, "up", "part7", "--instance", instance, *(f"--port={n}={p}" for n, p in ports.items()))
        assert up.returncode == 0, up.stdout + up.stderr
        yield Lab(env, instance, ports["registry"], ports["ecr"], f"http://localhost:{ports['ecr-api']}")
    finally:
        down = lc(env, "down", "part7", "--instance", instance)
        assert down.returncode == 0, down.stderr


def lc(env: dict[str, str], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([LABCHECK, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)


def _checks(report: Path) -> dict[str, str]:
    data = json.loads(report.read_text())
    (ecr,) = data["exercises"]
    return {c["id"]: c["status"] for c in ecr["checks"]}


def test_an_ecr_is_graded_with_a_login_from_aws(lab: Lab, tmp_path: Path) -> None:
    import boto3  # imported here: the suite is collected even where boto3 is broken

    aws_env = {**lab.env, **KEYS, "AWS_ENDPOINT_URL": lab.api}
    ecr_api = boto3.client("ecr", region_name="us-east-1", endpoint_url=lab.api, **_boto_keys())
    token = ecr_api.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    user, _, password = base64.b64decode(token).decode().partition(":")
    assert user == "AWS" and password
    registry = f"localhost:{lab.ecr}"
    grade = ("run", "part7", "ecr", "--registry", registry, "--ecr-region", "us-east-1", "--format", "json")
    outputs: list[str] = []

    def run(name: str, env: dict[str, str], *extra: str) -> tuple[subprocess.CompletedProcess[str], Path]:
        report = tmp_path / f"{name}.json"
        done = lc(env, *grade, "--output", str(report), *extra, cwd=tmp_path)
        outputs.extend([done.stdout, done.stderr, report.read_text() if report.exists() else ""])
        return done, report

    # nothing done yet: both remotely gradable checks fail; the lab-only ones are skipped
    empty, report = run("empty", aws_env)
    assert empty.returncode == 1, empty.stdout + empty.stderr
    assert _checks(report) == {
        "repository-created": "fail",
        "pushed": "fail",
        "pushed-as-aws": "skip",
        "password-stdin": "skip",
    }

    # a push before the repository exists is refused, as real ECR refuses it
    with httpx.Client(base_url=f"http://127.0.0.1:{lab.ecr}", auth=("AWS", password), timeout=30) as http:
        refused = http.post("/v2/my-app/blobs/uploads/")
        assert refused.status_code == 404 and "NAME_UNKNOWN" in refused.text, refused.text
        assert "The repository with name 'my-app' does not exist in the registry with id '123456789012'" in refused.text
        ecr_api.create_repository(repositoryName="my-app")
        push_index(http, "my-app", "1.0.0")
    passed, report = run("passed", aws_env)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert _checks(report) == {
        "repository-created": "pass",
        "pushed": "pass",
        "pushed-as-aws": "skip",
        "password-stdin": "skip",
    }
    assert json.loads(report.read_text())["score"] == {"points": 2, "max_points": 2}
    text = lc(aws_env, *grade[:-2], cwd=tmp_path)
    outputs.extend([text.stdout, text.stderr])
    assert text.returncode == 0 and "Score: 2/2 points" in text.stdout, text.stdout + text.stderr

    # the same ECR with no AWS credentials at all: not graded, one line, exit 3
    no_keys, report = run("no-keys", {**lab.env, "AWS_ENDPOINT_URL": lab.api})
    assert no_keys.returncode == 3, no_keys.stdout + no_keys.stderr
    assert no_keys.stderr.startswith("labcheck: error: no AWS credentials to ask ECR in us-east-1")
    assert "Traceback" not in no_keys.stderr and not report.exists()

    # a registry that is not an ECR: the ECR checks are skipped and say why, AWS is never asked
    plain = lc(lab.env, "run", "part7", "ecr", "--registry", f"localhost:{lab.registry}", cwd=tmp_path)
    outputs.extend([plain.stdout, plain.stderr])
    assert plain.returncode == 0, plain.stdout + plain.stderr
    assert "SKIP  repository-created: not graded on a remote registry that is not AWS ECR" in plain.stdout
    assert "FAIL" not in plain.stdout and "ERROR" not in plain.stdout

    assert [o for o in outputs if password in o] == [], "the ECR password leaked into an output"
    assert [o for o in outputs if token in o] == [], "the ECR token leaked into an output"


def _boto_keys() -> dict[str, str]:
    return {"aws_access_key_id": KEYS["AWS_ACCESS_KEY_ID"], "aws_secret_access_key": KEYS["AWS_SECRET_ACCESS_KEY"]}
