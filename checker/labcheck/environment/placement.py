"""Where labcheck runs relative to the Docker engine, and so how it reaches the lab's containers.

Lab registries publish their ports on the engine host's loopback (127.0.0.1:5000): that is
where `docker push localhost:5000/...` goes, since the daemon does the pushing. labcheck
itself reads them over HTTP, and from where it runs that loopback is not always reachable:

- on the engine's host (Linux, rootless Docker, Docker Desktop's forwarded ports) and in a
  container on the host's network (`--network host`): 127.0.0.1:PORT works;
- in a container on a bridge or user-defined network that talks to the host's engine
  through its socket (a VS Code dev container with docker-outside-of-docker, a CI job
  container): its loopback is its own. The lab's containers then join that container's
  network too, and labcheck reads them at their address on it (IP:5000).

The network is chosen here, explicitly: testcontainers, left to guess, attaches containers
to the network of the container it runs in, even `host`, which cannot publish ports.
"""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from labcheck.environment.state import local_address

if TYPE_CHECKING:
    from docker import DockerClient
    from docker.models.containers import Container

DEFAULT_NETWORK = "bridge"
_CONTAINER_ID = re.compile(r"/containers/([0-9a-f]{64})/")
_MARKERS = (Path("/.dockerenv"), Path("/run/.containerenv"))  # Docker, Podman


@dataclass(frozen=True)
class Placement:
    """Where labcheck runs, as far as reaching lab containers goes."""

    in_container: bool
    container: str | None = None  # our own container's name, when the engine knows it
    engine_beside: bool = False  # in a container that runs its own engine (a sandbox, Docker-in-Docker)
    network_mode: str | None = None  # its network mode: host, bridge, a network's name, container:ID
    join: str | None = None  # the network lab containers join so that labcheck reaches them there

    @property
    def network(self) -> str:
        """The network lab containers are created on."""
        return self.join or DEFAULT_NETWORK

    def describe(self) -> str:
        """One line for `labcheck doctor`."""
        if not self.in_container:
            return "on the engine's host: lab services are read on 127.0.0.1"
        if self.engine_beside:
            return "inside a container that runs the engine itself: lab services are read on 127.0.0.1"
        if self.container is None:
            return (
                "inside a container the engine does not know (another engine, or a remote one): "
                "lab services are read on 127.0.0.1, which works only if this container shares the engine's network"
            )
        if self.join is None:
            return f"inside container {self.container} on the host's network: lab services are read on 127.0.0.1"
        return (
            f"inside container {self.container} on network {self.join!r}: lab services join it "
            "and are read at their address there"
        )


def in_container() -> bool:
    """True when this process runs in a container (Docker's or Podman's marker file)."""
    return any(marker.exists() for marker in _MARKERS)


def own_container_id() -> str | None:
    """This container's id, from the bind mounts Docker makes of its files (/etc/hostname, ...)."""
    try:
        found = _CONTAINER_ID.search(Path("/proc/self/mountinfo").read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return None
    return found.group(1) if found else None


def detect(client: DockerClient) -> Placement:
    """Where this process runs relative to the engine `client` talks to."""
    import docker.errors

    if not in_container():
        return Placement(in_container=False)
    own = None
    for candidate in filter(None, (own_container_id(), _hostname())):
        try:
            own = client.containers.get(candidate)
            break
        except docker.errors.NotFound:
            continue
        except docker.errors.APIError:
            break
    if own is None:
        # The engine does not know this container: either it runs here too (its host name is
        # ours: a sandbox, Docker-in-Docker) and shares our loopback, or it is elsewhere.
        try:
            beside = str(client.info().get("Name") or "") == socket.gethostname()
        except docker.errors.DockerException:
            beside = False
        return Placement(in_container=True, engine_beside=beside)
    mode = str((own.attrs.get("HostConfig") or {}).get("NetworkMode") or "default")
    if mode.startswith("container:"):  # sharing another container's network: that one decides
        try:
            own = client.containers.get(mode.removeprefix("container:"))
        except docker.errors.DockerException:
            return Placement(in_container=True, container=own.name, network_mode=mode)
        mode = str((own.attrs.get("HostConfig") or {}).get("NetworkMode") or "default")
    if mode == "host":
        return Placement(in_container=True, container=own.name, network_mode=mode)
    networks = list(((own.attrs.get("NetworkSettings") or {}).get("Networks") or {}).keys())
    join = mode if mode in networks else (networks[0] if networks else None)
    if mode == "default" and DEFAULT_NETWORK in networks:
        join = DEFAULT_NETWORK
    return Placement(in_container=True, container=own.name, network_mode=mode, join=join)


def _hostname() -> str | None:
    try:
        return Path("/etc/hostname").read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def endpoint(placement: Placement, container: Container, bind_host: str, port: int, container_port: int = 5000) -> str:
    """host:port where labcheck reads a lab container that publishes `container_port` on bind_host:port."""
    if placement.join is None:
        return f"{local_address(bind_host)}:{port}"
    container.reload()
    networks = (container.attrs.get("NetworkSettings") or {}).get("Networks") or {}
    address = (networks.get(placement.join) or {}).get("IPAddress")
    return f"{address}:{container_port}" if address else f"{local_address(bind_host)}:{port}"
