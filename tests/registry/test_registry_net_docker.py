"""The registry client against a real registry:2: pages of tags, 429s, credential helpers.

Pagination is registry:2's own (`n` and `last`, a Link header). Rate limits come from a
small fault-injecting proxy on loopback in front of the real registry (registry:2 has no
rate limit of its own). Credentials come from real `docker-credential-*` executables,
named by `credHelpers` and `credsStore` in a real Docker config, run by the docker SDK.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import bcrypt
import httpx
import pytest

from labcheck.errors import RateLimited
from labcheck.limits import run_limits
from labcheck.registry import RegistryClient, media_types
from net_kit import fault_proxy
from registry_kit import credential_helper, push_image, push_index, put_manifest, running_registry

pytestmark = pytest.mark.docker

TAGS = [f"build-{i:03d}" for i in range(250)]
PASSWORD = f"pw-{uuid.uuid4().hex}"


@pytest.fixture(scope="module")
def plain_registry() -> Iterator[int]:
    """A registry:2 without auth holding many/app with 250 tags (and 1.0.0, latest)."""
    with running_registry(name="hardening-net") as port:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            entry = push_image(http, "many/app", "amd64", "one")
            manifest = http.get(
                f"/v2/many/app/manifests/{entry['digest']}", headers={"Accept": media_types.OCI_MANIFEST}
            ).content
            for tag in [*TAGS, "1.0.0", "latest"]:
                put_manifest(http, "many/app", tag, media_types.OCI_MANIFEST, manifest)
        yield port


@pytest.fixture(scope="module")
def login_registry() -> Iterator[int]:
    """A registry:2 with htpasswd auth (alice) holding alice/my-app:latest."""
    line = b"alice:" + bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=5)) + b"\n"
    env = {
        "REGISTRY_AUTH": "htpasswd",
        "REGISTRY_AUTH_HTPASSWD_REALM": "x",
        "REGISTRY_AUTH_HTPASSWD_PATH": "/auth/htpasswd",
    }
    with running_registry(env, {"/auth/htpasswd": line}, name="hardening-net") as port:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", auth=("alice", PASSWORD), timeout=30) as http:
            push_index(http, "alice/my-app", "latest")
        yield port


# -- pagination -----------------------------------------------------------------------------------


def test_tags_of_a_real_registry_are_read_whole_whatever_n_asks(plain_registry: int) -> None:
    """registry:2 (distribution 2.8) ignores `n` and `last` on tags/list: it answers every tag,
    unsorted, without a Link (distribution#1936; pagination came with v3, distribution#3143).
    labcheck asks for pages of 100 and must still read all 252 tags, in one request, without
    assuming an order. Following Links over many pages is tested against fake_registry
    (10,000 tags) in test_bad_input.py and against MockTransport in test_registry_client.py."""
    everything = sorted([*TAGS, "1.0.0", "latest"])
    with httpx.Client(base_url=f"http://127.0.0.1:{plain_registry}") as http:
        raw = http.get("/v2/many/app/tags/list", params={"n": 100})
    assert "Link" not in raw.headers and len(raw.json()["tags"]) == 252  # what registry:2 does
    with fault_proxy(plain_registry, failures=0) as (port, seen):
        client = RegistryClient(f"127.0.0.1:{port}", page_size=100)
        with client:
            tags = client.list_tags("many/app")
    assert tags is not None and sorted(tags) == everything
    assert [httpx.URL(line.split()[1]).params["n"] for line in seen.lines()] == ["100"]


# -- rate limits ----------------------------------------------------------------------------------


def test_429s_are_waited_out_as_retry_after_asks(plain_registry: int) -> None:
    sleeps: list[float] = []
    with fault_proxy(plain_registry, failures=2, retry_after="3") as (port, seen):
        client = RegistryClient(f"127.0.0.1:{port}", sleep=sleeps.append)
        with client:
            assert client.resolve("many/app", "1.0.0") is not None
    assert sleeps == [3.0, 3.0]
    assert [line.split()[0] for line in seen.lines()] == ["HEAD", "HEAD", "HEAD"]


def test_a_run_waits_at_most_its_budget_for_rate_limits_whatever_the_number_of_requests(plain_registry: int) -> None:
    """Before: 3 waits of up to 60 s for each request; a run of 20 requests could wait an hour."""
    sleeps: list[float] = []
    with fault_proxy(plain_registry, failures=1000, retry_after="25") as (port, seen), run_limits(timeout=None):
        client = RegistryClient(f"127.0.0.1:{port}", sleep=sleeps.append)
        with client:
            for tag in ("1.0.0", "latest", "build-001"):
                with pytest.raises(RateLimited, match="at most 60 s in all for rate limits") as info:
                    client.resolve("many/app", tag)
                assert info.value.retry_after == 25.0
    assert sleeps == [25.0, 25.0]  # a third 25 s would pass the run's 60 s: every request then fails at once
    assert len(seen.requests) == 5


# -- credential helpers ---------------------------------------------------------------------------


def _run(
    port: int, tmp_path: Path, config: dict[str, object], path_dirs: list[Path]
) -> subprocess.CompletedProcess[str]:
    docker_config = tmp_path / "docker-config"
    docker_config.mkdir(exist_ok=True)
    (docker_config / "config.json").write_text(json.dumps(config))
    env = {
        **os.environ,
        "DOCKER_CONFIG": str(docker_config),
        "LABCHECK_STATE_DIR": str(tmp_path / "state"),
        "NO_COLOR": "1",
        "PATH": os.pathsep.join([*map(str, path_dirs), os.environ.get("PATH", "")]),
    }
    workspace = tmp_path / "workspace"  # the learner's git repository (no_inline_password reads it)
    if not workspace.exists():
        workspace.mkdir()
        subprocess.run(["git", "init", "-q", str(workspace)], check=True)
        git_user = ["-c", "user.name=t", "-c", "user.email=t@example.invalid"]
        subprocess.run(
            ["git", "-C", str(workspace), *git_user, "commit", "-q", "--allow-empty", "-m", "start"], check=True
        )
    command = [sys.executable, "-m", "labcheck", "run", "part7", "hub-publish"]
    command += ["--registry", f"127.0.0.1:{port}", "--namespace", "alice", "--format", "text"]
    return subprocess.run(command, env=env, cwd=workspace, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize("how", ["credHelpers", "credsStore"])
def test_a_real_credential_helper_gives_the_login(login_registry: int, tmp_path: Path, how: str) -> None:
    host = f"127.0.0.1:{login_registry}"
    log = tmp_path / "helper.log"
    credential_helper(tmp_path / "bin", "labtest", {host: ("alice", PASSWORD)}, log)
    config: dict[str, object] = (
        {"credHelpers": {host: "labtest"}} if how == "credHelpers" else {"credsStore": "labtest", "auths": {host: {}}}
    )
    done = _run(login_registry, tmp_path, config, [tmp_path / "bin"])
    out = done.stdout + done.stderr
    assert done.returncode == 1, out  # latest is there, the version tags are not
    assert "PASS  latest-pushed" in out
    assert "FAIL  version-pushed" in out
    assert log.read_text().splitlines() == [f"get {host}"]
    assert PASSWORD not in out


def test_a_helper_without_the_login_leaves_the_run_anonymous(login_registry: int, tmp_path: Path) -> None:
    credential_helper(tmp_path / "bin", "labtest", {"other.example": ("bob", "x")}, tmp_path / "helper.log")
    done = _run(login_registry, tmp_path, {"credsStore": "labtest"}, [tmp_path / "bin"])
    assert done.returncode == 3, done.stdout + done.stderr
    assert done.stderr.splitlines()[0].endswith("requires credentials (Basic auth)")


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ("not json at all", "answered something that is not a login"),
        ('{"Username": "alice"}', "answered something that is not a login"),
        ("[1, 2]", "answered something that is not a login"),
    ],
)
def test_a_helper_that_answers_garbage_is_one_clear_error(
    login_registry: int, tmp_path: Path, answer: str, message: str
) -> None:
    """Before: the docker SDK's json.loads/KeyError/TypeError escaped as an internal error."""
    helper = tmp_path / "bin" / "docker-credential-broken"
    helper.parent.mkdir()
    helper.write_text(f"#!/bin/sh\ncat >/dev/null\necho '{answer}'\n")
    helper.chmod(0o755)
    done = _run(login_registry, tmp_path, {"credsStore": "broken"}, [tmp_path / "bin"])
    assert done.returncode == 3, done.stdout + done.stderr
    lines = done.stderr.splitlines()
    assert message in lines[0] and "docker-credential-broken" in lines[0], done.stderr
    assert len(lines) == 2 and lines[1].startswith("tip: ")


def test_a_helper_missing_from_path_is_one_line_without_a_warning(login_registry: int, tmp_path: Path) -> None:
    done = _run(login_registry, tmp_path, {"credsStore": "nowhere"}, [])
    assert done.returncode == 3, done.stdout + done.stderr
    assert done.stderr.splitlines()[0].startswith("labcheck: error: cannot read Docker credentials")
    assert "Warning" not in done.stderr and len(done.stderr.splitlines()) == 2
