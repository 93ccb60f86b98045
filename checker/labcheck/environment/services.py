"""Start and remove the lab's registry containers (testcontainers, labelled, loopback only)."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import socket
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import bcrypt

from labcheck.environment.placement import Placement, endpoint
from labcheck.environment.readiness import container_exited, wait_until_ready
from labcheck.environment.state import LABEL_INSTANCE, LABEL_LAB, LABEL_SERVICE, ServiceState
from labcheck.errors import EnvironmentError_, ImageMissing, PortInUse
from labcheck.spec.model import ServiceSpec

# The reaper container (testcontainers/ryuk) cannot be pulled offline, and lab services must
# outlive the command anyway: labcheck removes its containers itself, by label.
os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")

# Imported here, by the thread that imports this module, never lazily in the threads that
# start registries concurrently: a Ctrl-C landing inside an import can leave Python's global
# import lock held by the main thread, and a worker importing anything afterwards (and the
# cleanup that joins it) then waits forever. Seen in CI with `labcheck up` and SIGINT.
from testcontainers.core.container import DockerContainer

if TYPE_CHECKING:
    from docker import DockerClient
    from docker.models.containers import Container

HTPASSWD = "/auth/htpasswd"


def port_is_free(host: str, port: int) -> bool:
    """True when nothing listens on host:port (checked by binding it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Connections in TIME_WAIT from a lab just removed must not read as "in use":
        # with SO_REUSEADDR only a live listener makes the bind fail, as it would for Docker.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


_GIVEN: set[int] = set()  # ports free_port handed out: never twice in one process
_GIVEN_LOCK = threading.Lock()


def require_free_port(host: str, port: int, service: str) -> None:
    """PortInUse, with a port to use instead, unless `port` is free on `host`."""
    if not port_is_free(host, port):
        raise PortInUse(
            f"port {port} for service {service!r} is already in use on {host}",
            tip=f"stop what uses it, or choose another port: --port {service}={port + 100}",
        )


def free_port(host: str = "127.0.0.1") -> int:
    """A port the kernel says is free now, and not one this process was given before.

    The kernel may offer the same ephemeral port to two binds in a row once the first socket
    is closed: a lab on ephemeral ports would then give two services one port.
    """
    with _GIVEN_LOCK:
        while True:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                sock.bind((host, 0))
                port = int(sock.getsockname()[1])
            if port not in _GIVEN:
                _GIVEN.add(port)
                return port


def ensure_image(client: DockerClient, image: str) -> None:
    """The image is present, or pulled; ImageMissing when neither works (offline machines)."""
    import docker.errors

    try:
        client.images.get(image)
        return
    except docker.errors.ImageNotFound:
        pass
    try:
        client.images.pull(image)
    except docker.errors.DockerException as exc:
        raise ImageMissing(f"image {image} is not present and cannot be pulled") from exc


@dataclass(frozen=True)
class LabContainer:
    """One container of a lab (or a class): labelled so that `status` and `down` find it."""

    service: str
    image: str
    lab: str
    instance: str
    env: Mapping[str, str] = field(default_factory=dict)
    ports: Mapping[int, tuple[str, int]] = field(default_factory=dict)  # container port: (host address, port)
    files: Mapping[str, bytes] = field(default_factory=dict)  # path in the container: content
    network: str | None = None  # the network it is created on; or
    network_mode: str | None = None  # e.g. container:ID, to share another container's network
    entrypoint: Sequence[str] | None = None
    command: Sequence[str] | None = None  # None: the image's

    @property
    def name(self) -> str:
        return f"labcheck-{self.instance}-{self.service}"


def start_container(spec: LabContainer) -> Container:
    """Create, fill and start one lab container (the docker SDK's Container); removed again
    when any of it fails, with PortInUse or EnvironmentError_ saying why."""
    container = DockerContainer(spec.image).with_name(spec.name)
    kwargs: dict[str, Any] = {
        "labels": {LABEL_LAB: spec.lab, LABEL_INSTANCE: spec.instance, LABEL_SERVICE: spec.service},
    }
    # The network is always named, None included: with no `network` key at all, testcontainers
    # guesses one (inside a container: that container's, e.g. host), which overrides network_mode.
    kwargs["network"] = None if spec.network_mode else spec.network
    if spec.network_mode:
        kwargs["network_mode"] = spec.network_mode
    if spec.entrypoint is not None:
        kwargs["entrypoint"] = list(spec.entrypoint)
    container.with_kwargs(**kwargs)
    if spec.command is not None:
        container.with_command(list(spec.command))
    for inside, (address, port) in spec.ports.items():
        # (ip, port) binds to that address only; testcontainers' own helper binds 0.0.0.0
        container.ports[f"{inside}/tcp"] = (address, port)  # type: ignore[assignment]
    for key, value in spec.env.items():
        container.with_env(key, value)
    for path, content in spec.files.items():
        container.with_copy_into_container(content, path)
    try:
        container.start()
    except Exception as exc:
        _remove_quietly(container)
        first_port = next(iter(spec.ports.values()), ("", 0))[1]
        raise start_failure(exc, spec.service, first_port) from exc
    return container.get_wrapped_container()


def start_registry(
    name: str,
    spec: ServiceSpec,
    *,
    lab: str,
    instance: str,
    image: str,
    bind_host: str,
    port: int,
    placement: Placement,
) -> ServiceState:
    """Start one registry container and wait until it answers /v2/.

    It publishes its port on `bind_host` of the engine's host and is created on the network
    `placement` chooses, so that labcheck reaches it wherever labcheck runs.

    With `auth: htpasswd` the password is generated. (A registry with `auth: ecr-token` is
    the ECR stand-in's, started with its API by environment/ecr.py.)
    """
    require_free_port(bind_host, port, name)
    env = {"REGISTRY_STORAGE_DELETE_ENABLED": "true"}
    files = {}
    username = password = None
    if spec.auth == "htpasswd" and spec.username:
        username, password = spec.username, secrets.token_urlsafe(18)
        files[HTPASSWD] = htpasswd_line(username, password)
        env |= {
            "REGISTRY_AUTH": "htpasswd",
            "REGISTRY_AUTH_HTPASSWD_REALM": f"labcheck {name}",
            "REGISTRY_AUTH_HTPASSWD_PATH": HTPASSWD,
        }
    wrapped = start_container(
        LabContainer(
            name,
            image,
            lab,
            instance,
            env=env,
            ports={5000: (bind_host, port)},
            files=files,
            network=placement.network,
        )
    )
    try:
        reach = endpoint(placement, wrapped, bind_host, port)
        wait_ready(reach, wrapped)
    except BaseException:
        with contextlib.suppress(Exception):
            wrapped.remove(force=True, v=True)
        raise
    return ServiceState(
        name=name,
        env_var=spec.env_var,
        host=bind_host,
        port=port,
        endpoint=reach,
        container_id=str(wrapped.id),
        username=username,
        password=password,
        auth=spec.auth,
    )


def htpasswd_line(username: str, password: str) -> bytes:
    """An htpasswd entry for registry:2 (bcrypt)."""
    # The registry checks the bcrypt hash on every request, so the cost factor is paid per
    # manifest and blob. The password is a fresh 144-bit random token on a loopback port:
    # a low cost loses nothing against guessing and makes grading several times faster.
    return f"{username}:{bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=5)).decode()}\n".encode()


def start_failure(exc: Exception, name: str, port: int) -> EnvironmentError_:
    """The error to raise when Docker could not start service `name`'s container."""
    if "port is already allocated" in str(exc) or "address already in use" in str(exc):
        return PortInUse(
            f"port {port} for service {name!r} is already in use",
            tip=f"choose another port: --port {name}={port + 100}",
        )
    return EnvironmentError_(f"could not start service {name!r}: {str(exc).splitlines()[0]}")


def _remove_quietly(container: Any) -> None:
    try:
        wrapped = container.get_wrapped_container()
        if wrapped is not None:
            wrapped.remove(force=True, v=True)
    except Exception:
        pass


def wait_ready(reach: str, container: Container) -> None:
    """Wait until the registry at `reach` (host:port) answers /v2/ (200, or 401 when it wants a login)."""
    wait_until_ready(
        f"the registry at {reach}",
        lambda http: http.get(f"http://{reach}/v2/").status_code in (200, 401),
        container_exited(container),
    )


_LOG_FIELD = re.compile(r'([\w.]+)=("(?:[^"\\]|\\.)*"|\S+)')


def server_errors(client: DockerClient, container_ids: Sequence[str], since: float) -> list[str]:
    """The 5xx answers registry:2 logged in these containers since `since` (a Unix time), each
    as `METHOD URI: STATUS DETAIL`: a failure of the lab's registry, not of what was sent to it.

    A container that is gone or whose log cannot be read adds nothing."""
    import docker.errors

    found: list[str] = []
    for container_id in container_ids:
        try:
            raw = client.containers.get(container_id).logs(since=int(since), stdout=True, stderr=True)
        except docker.errors.DockerException:
            continue
        for line in raw.decode(errors="replace").splitlines():
            fields = {key: value.strip('"') for key, value in _LOG_FIELD.findall(line)}
            status = fields.get("http.response.status", "")
            if len(status) == 3 and status.startswith("5"):
                method, uri = fields.get("http.request.method", "?"), fields.get("http.request.uri", "?")
                found.append(f"{method} {uri}: {status} {fields.get('err.detail', '')}".rstrip())
    return found


def remove_instance(client: DockerClient, instance: str) -> list[str]:
    """Remove every container (and its volumes) of a lab instance; their names."""
    import docker.errors

    removed = []
    # ignore_removed / NotFound: another `down` (or Docker itself) may be removing one already
    for container in client.containers.list(
        all=True, filters={"label": f"{LABEL_INSTANCE}={instance}"}, ignore_removed=True
    ):
        with contextlib.suppress(docker.errors.NotFound):
            container.remove(force=True, v=True)
            removed.append(str(container.name))
    return removed
