"""Which daemon labcheck talks to: DOCKER_HOST, the docker context in use, the default socket;
and the throwaway Docker configs of learners' commands, which keep the user's CLI plugins."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from labcheck.docker_host import DEFAULT_HOST, current_context, docker_host, throwaway_docker_config
from labcheck.errors import DockerUnavailable
from labcheck.observe.engine_api import EngineApi


def context_dir(config: Path, name: str, host: str) -> None:
    """A context as `docker context create NAME --docker host=HOST` stores it."""
    meta = config / "contexts" / "meta" / hashlib.sha256(name.encode()).hexdigest()
    meta.mkdir(parents=True)
    (meta / "meta.json").write_text(json.dumps({"Name": name, "Endpoints": {"docker": {"Host": host}}}))


def test_docker_host_wins_over_any_context(tmp_path: Path) -> None:
    context_dir(tmp_path, "desktop", "unix:///home/me/.docker/desktop/docker.sock")
    env = {"DOCKER_HOST": "tcp://127.0.0.1:2375", "DOCKER_CONTEXT": "desktop", "DOCKER_CONFIG": str(tmp_path)}
    assert docker_host(env) == "tcp://127.0.0.1:2375"


def test_the_current_context_of_the_config_is_used(tmp_path: Path) -> None:
    context_dir(tmp_path, "desktop-linux", "unix:///home/me/.docker/desktop/docker.sock")
    (tmp_path / "config.json").write_text(json.dumps({"auths": {}, "currentContext": "desktop-linux"}))
    env = {"DOCKER_CONFIG": str(tmp_path)}
    assert current_context(env) == "desktop-linux"
    assert docker_host(env) == "unix:///home/me/.docker/desktop/docker.sock"
    # DOCKER_CONTEXT overrides the config, as `docker --context` does
    assert docker_host({**env, "DOCKER_CONTEXT": "default"}) == DEFAULT_HOST


@pytest.mark.parametrize("config", [None, "{}", '{"currentContext": ""}', "not json", '{"currentContext": "default"}'])
def test_no_context_means_the_default_socket(tmp_path: Path, config: str | None) -> None:
    if config is not None:
        (tmp_path / "config.json").write_text(config)
    assert docker_host({"DOCKER_CONFIG": str(tmp_path)}) == DEFAULT_HOST


def test_a_context_that_cannot_be_read_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"currentContext": "gone"}))
    with pytest.raises(DockerUnavailable, match="docker context 'gone' in use has no readable endpoint"):
        docker_host({"DOCKER_CONFIG": str(tmp_path)})


@pytest.mark.docker
def test_a_context_made_by_the_docker_cli_is_followed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real CLI writes the context; labcheck reads the daemon through it."""
    config = tmp_path / "config"
    socket_link = tmp_path / "elsewhere.sock"  # the daemon, under another path (as Desktop's is)
    socket_link.symlink_to(docker_host({}).removeprefix("unix://"))
    env = {**os.environ, "DOCKER_CONFIG": str(config)}
    env.pop("DOCKER_HOST", None)
    for args in (["create", "lab-test", "--docker", f"host=unix://{socket_link}"], ["use", "lab-test"]):
        subprocess.run(["docker", "context", *args], env=env, capture_output=True, check=True)
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    assert docker_host() == f"unix://{socket_link}"
    cli = subprocess.run(["docker", "images", "-q", "--no-trunc"], env=env, capture_output=True, text=True, check=True)
    with EngineApi() as api:
        assert {image["Id"] for image in api.images()} == set(cli.stdout.split())


def cli_plugin(folder: Path, name: str) -> None:
    """A docker CLI plugin `docker NAME` that prints `ran NAME`."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / f"docker-{name}"
    metadata = '{"SchemaVersion": "0.1.0", "Vendor": "labcheck tests", "Version": "1", "ShortDescription": "probe"}'
    script.write_text(
        f'#!/bin/sh\n[ "$1" = docker-cli-plugin-metadata ] && {{ echo \'{metadata}\'; exit 0; }}\necho "ran $1"\n'
    )
    script.chmod(0o755)


def run_plugin(config: Path, name: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DOCKER_CONFIG": str(config)}
    return subprocess.run(["docker", name], env=env, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.skipif(shutil.which("docker") is None, reason="the docker CLI is not installed")
def test_a_throwaway_config_keeps_the_users_cli_plugins(tmp_path: Path) -> None:
    """The CLI finds plugins in <config>/cli-plugins and in cliPluginsExtraDirs (Docker Desktop,
    Homebrew): a plain empty config loses both, and `docker build` then loses buildx."""
    real = tmp_path / "real"
    cli_plugin(real / "cli-plugins", "lcprobe")
    cli_plugin(tmp_path / "desktop", "lcextra")
    extra = [str(tmp_path / "desktop")]
    (real / "config.json").write_text(json.dumps({"cliPluginsExtraDirs": extra, "auths": {"h": {"auth": "dTpw"}}}))
    plain = tmp_path / "plain"
    plain.mkdir()
    assert run_plugin(plain, "lcprobe").returncode != 0  # what learners' commands got before

    fresh = throwaway_docker_config(tmp_path / "fresh", {"DOCKER_CONFIG": str(real)})
    for name in ("lcprobe", "lcextra"):
        done = run_plugin(fresh, name)
        assert done.stdout == f"ran {name}\n", done.stderr
    assert json.loads((fresh / "config.json").read_text()) == {"cliPluginsExtraDirs": extra}  # no logins


def test_a_throwaway_config_of_a_user_without_plugins_is_empty(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "config.json").write_text('{"auths": {}, "cliPluginsExtraDirs": "not a list"}')
    fresh = throwaway_docker_config(tmp_path / "fresh", {"DOCKER_CONFIG": str(tmp_path / "real")})
    assert list(fresh.iterdir()) == []
    assert list(throwaway_docker_config(tmp_path / "none", {"DOCKER_CONFIG": str(tmp_path / "absent")}).iterdir()) == []
