"""One way to reach the Docker daemon, with a clear error when it does not answer."""

from __future__ import annotations

import os
from typing import Any

from labcheck.errors import DockerUnavailable


def docker_client() -> Any:
    """A docker SDK client that has answered a ping, or DockerUnavailable."""
    import docker

    try:
        client = docker.from_env(timeout=30)
        client.ping()
    except Exception as exc:  # the SDK raises several unrelated types for "no daemon"
        where = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
        raise DockerUnavailable(f"the Docker daemon does not answer at {where}") from exc
    return client
