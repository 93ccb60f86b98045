"""Which Docker daemon to talk to, chosen as the Docker CLI chooses it.

DOCKER_HOST first; else the docker context named by DOCKER_CONTEXT or by `currentContext`
in the Docker config (`docker context use ...`: Docker Desktop and rootless Docker set one);
else the default socket. The docker SDK (and so testcontainers) reads only DOCKER_HOST, so
`export_docker_host` hands it the same answer: labcheck's containers and its grading then
use the daemon the learner's `docker` commands use. Learners' commands that labcheck runs
itself get a throwaway Docker config that keeps the user's CLI plugins.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
from collections.abc import Mapping
from pathlib import Path

from labcheck.errors import DockerUnavailable

DEFAULT_HOST = "unix:///var/run/docker.sock"


def docker_config_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """$DOCKER_CONFIG, else ~/.docker."""
    return Path(environ.get("DOCKER_CONFIG") or Path.home() / ".docker")


def throwaway_docker_config(path: Path, environ: Mapping[str, str] = os.environ) -> Path:
    """A new, empty Docker config directory at `path` that keeps the user's CLI plugins.

    A learner's commands run with a throwaway DOCKER_CONFIG so that their logins stay out of
    the user's own. The CLI finds plugins (buildx, compose) in `<config dir>/cli-plugins`,
    then in the config's `cliPluginsExtraDirs` (Docker Desktop, Homebrew), then in the system
    directories (/usr/local/lib/docker/cli-plugins, /usr/libexec/docker/cli-plugins, ...).
    An empty config loses the first two: `docker build` would then fall back to the legacy
    builder where the learner has BuildKit, and build other images than they do.
    """
    path.mkdir(parents=True)
    real = docker_config_dir(environ)
    plugins = real / "cli-plugins"
    if plugins.is_dir():
        (path / "cli-plugins").symlink_to(plugins.resolve(), target_is_directory=True)
    try:
        config = json.loads((real / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        config = None
    extra = config.get("cliPluginsExtraDirs") if isinstance(config, dict) else None
    if isinstance(extra, list) and extra and all(isinstance(d, str) for d in extra):
        (path / "config.json").write_text(json.dumps({"cliPluginsExtraDirs": extra}) + "\n", encoding="utf-8")
    return path


def current_context(environ: Mapping[str, str] = os.environ) -> str:
    """The docker context in use: DOCKER_CONTEXT, else the config's currentContext, else "default"."""
    if environ.get("DOCKER_CONTEXT"):
        return environ["DOCKER_CONTEXT"]
    try:
        config = json.loads((docker_config_dir(environ) / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):  # the CLI, too, ignores a config it cannot read
        return "default"
    name = config.get("currentContext") if isinstance(config, dict) else None
    return name if isinstance(name, str) and name else "default"


def docker_host(environ: Mapping[str, str] = os.environ) -> str:
    """The daemon's address, e.g. unix:///var/run/docker.sock; DockerUnavailable when the
    context in use cannot be read."""
    return which_daemon(environ)[0]


def which_daemon(environ: Mapping[str, str] = os.environ) -> tuple[str, str]:
    """The daemon's address and what chose it: "DOCKER_HOST", "docker context NAME" or
    "the default socket"."""
    if environ.get("DOCKER_HOST"):
        return environ["DOCKER_HOST"], "DOCKER_HOST"
    name = current_context(environ)
    if name == "default":
        return DEFAULT_HOST, "the default socket"
    # The CLI keeps a context's endpoints in contexts/meta/<sha256 of its name>/meta.json.
    meta = docker_config_dir(environ) / "contexts" / "meta" / hashlib.sha256(name.encode()).hexdigest() / "meta.json"
    try:
        host = json.loads(meta.read_text(encoding="utf-8"))["Endpoints"]["docker"]["Host"]
    except (OSError, ValueError, KeyError, TypeError, RecursionError) as exc:
        raise DockerUnavailable(
            f"the docker context {name!r} in use has no readable endpoint ({meta})",
            tip="`docker context use default`, or set DOCKER_HOST",
        ) from exc
    if not isinstance(host, str) or not host:
        raise DockerUnavailable(f"the docker context {name!r} names no daemon", tip="`docker context use default`")
    return host, f"docker context {name}"


def require_socket(host: str) -> None:
    """DockerUnavailable unless `host`, when a unix:// socket, accepts a connection.

    Asked before any client connects: neither the docker SDK nor httpcore closes its socket
    when connecting to a daemon that is gone fails (a ResourceWarning, a leaked descriptor).
    """
    if not host.startswith("unix://"):
        return
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(host.removeprefix("unix://"))
        except OSError as exc:
            raise DockerUnavailable(f"the Docker daemon does not answer at {host}") from exc


def export_docker_host() -> str:
    """Set DOCKER_HOST for the docker SDK when the CLI would use another daemon; that address."""
    host = docker_host()
    if host != DEFAULT_HOST:
        os.environ.setdefault("DOCKER_HOST", host)
    return host
