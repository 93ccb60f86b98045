"""One way to reach the Docker daemon, with a clear error when it does not answer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from labcheck.docker_host import export_docker_host, require_socket
from labcheck.errors import DockerUnavailable

if TYPE_CHECKING:
    from docker import DockerClient


def docker_client() -> DockerClient:
    """A docker SDK client that has answered a ping, or DockerUnavailable."""
    import docker

    where = export_docker_host()  # the SDK reads only DOCKER_HOST; the CLI also reads contexts
    require_socket(where)
    client = None
    try:
        client = docker.from_env(timeout=30)
        client.ping()
    except Exception as exc:  # the SDK raises several unrelated types for "no daemon"
        if client is not None:
            client.close()  # its connection pool holds a socket
        raise DockerUnavailable(f"the Docker daemon does not answer at {where}") from exc
    return client
