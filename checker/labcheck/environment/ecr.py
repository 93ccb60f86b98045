"""Start the lab's ECR stand-in: the ECR API and its registry, as ECR behaves, in two containers.

- The front container (the `ecr-api` service's image, `motoserver/moto`) runs ecr_front.py:
  moto's ECR API, its API front (published as the `ecr-api` port) and the registry front
  (published as the `ecr` registry's port). Everything `docker push` and the `aws` CLI talk
  to is in this container, on 127.0.0.1 of the engine's host: the daemon reaches it on Docker
  Desktop too, and labcheck reaches it wherever it runs (placement.py).
- The store container (registry:2) joins the front's network namespace and listens on its
  127.0.0.1 only: the front is the only way in, so nothing reaches the images without an ECR
  login and the ECR API's consent.

The ECR API keeps its repositories in memory: a restarted front has none (as before, when it
was a host process), and its login tokens are signed with a key it makes at start.
"""

from __future__ import annotations

import contextlib
from importlib import resources
from typing import TYPE_CHECKING, Any

import httpx

from labcheck.ecr_api import AwsKeys, EcrApiError, login_password
from labcheck.environment.placement import Placement, endpoint
from labcheck.environment.readiness import container_exited, wait_until_ready
from labcheck.environment.services import LabContainer, require_free_port, start_container
from labcheck.environment.state import DUMMY_AWS_KEYS, ServiceState
from labcheck.spec.model import DEFAULT_TOKEN_LIFETIME, ECR_USER, ServiceSpec

if TYPE_CHECKING:
    from docker.models.containers import Container

READY_TIMEOUT = 60.0  # moto imports much before it answers
#: Ports inside the front container (published on the lab's ports) and on its loopback.
API_PORT = 5003
REGISTRY_PORT = 5000
STORE = "127.0.0.1:5001"
MOTO_PORT = 5010
FRONT = "/labcheck/ecr_front.py"


def front_source() -> bytes:
    """ecr_front.py, as it is copied into the front container."""
    return resources.files("labcheck.environment").joinpath("ecr_front.py").read_bytes()


def start_ecr(
    api: tuple[str, ServiceSpec],
    registry: tuple[str, ServiceSpec] | None,
    *,
    lab: str,
    instance: str,
    api_image: str,
    store_image: str,
    bind_host: str,
    api_port: int,
    registry_port: int | None,
    placement: Placement,
) -> dict[str, ServiceState]:
    """Start the ECR stand-in for the `api` service (and the `registry` that takes its logins);
    the state of each, once the API issues logins and the registry accepts them."""
    api_name, api_spec = api
    # the ECR API hands a login to anyone who asks: it stays on loopback, even with --expose
    api_host = "127.0.0.1"
    require_free_port(api_host, api_port, api_name)
    if registry and registry_port:
        require_free_port(bind_host, registry_port, registry[0])
    ports: dict[int, tuple[str, int]] = {API_PORT: (api_host, api_port)}
    if registry and registry_port:
        ports[REGISTRY_PORT] = (bind_host, registry_port)
    environment = {
        "ECR_REGION": api_spec.region or "us-east-1",
        "ECR_TOKEN_LIFETIME": str(api_spec.token_lifetime or DEFAULT_TOKEN_LIFETIME),
        "ECR_API_PORT": str(API_PORT),
        "ECR_REGISTRY_PORT": str(REGISTRY_PORT) if registry else "",
        "ECR_STORE": STORE,
        "ECR_MOTO_PORT": str(MOTO_PORT),
        "ECR_PUBLIC_REGISTRY": f"localhost:{registry_port}",
        "PYTHONUNBUFFERED": "1",
        **DUMMY_AWS_KEYS,
    }
    created: list[Any] = []
    try:
        front = start_container(
            LabContainer(
                api_name,
                api_image,
                lab,
                instance,
                env=environment,
                ports={port: address for port, address in ports.items()},
                files={FRONT: front_source()},
                network=placement.network,
                entrypoint=["python3", FRONT],
                command=[],
            )
        )
        created.append(front)
        store = None
        if registry:
            store = start_container(
                LabContainer(
                    registry[0],
                    store_image,
                    lab,
                    instance,
                    env={"REGISTRY_HTTP_ADDR": STORE, "REGISTRY_STORAGE_DELETE_ENABLED": "true"},
                    network_mode=f"container:{front.id}",
                )
            )
            created.append(store)
        api_reach = endpoint(placement, front, api_host, api_port, API_PORT)
        registry_reach = endpoint(placement, front, bind_host, registry_port, REGISTRY_PORT) if registry_port else ""
        api_state = ServiceState(
            name=api_name,
            env_var=api_spec.env_var,
            host=api_host,
            port=api_port,
            container_id=str(front.id),
            kind="ecr-api",
            region=api_spec.region,
            endpoint=api_reach,
            container_port=API_PORT,
        )
        wait_ecr_ready(api_state, registry_reach, front)
    except BaseException:
        for container in reversed(created):
            with contextlib.suppress(Exception):  # gone already: nothing to undo
                container.remove(force=True, v=True)
        raise
    states = {api_name: api_state}
    if registry and registry_port and store is not None:
        name, spec = registry
        states[name] = ServiceState(
            name=name,
            env_var=spec.env_var,
            host=bind_host,
            port=registry_port,
            container_id=str(front.id),
            backend_id=str(store.id),
            username=ECR_USER,
            auth="ecr-token",
            endpoint=registry_reach,
            token_from=api_name,
        )
    return states


def wait_ecr_ready(api: ServiceState, registry_reach: str, front: Container) -> None:
    """Wait until the API issues a login and (with a registry) the registry accepts it."""
    keys = AwsKeys.from_env(DUMMY_AWS_KEYS)

    def ready(http: httpx.Client) -> bool:
        try:
            password = login_password(f"http://{api.reach}", api.region or "us-east-1", keys, timeout=2.0)
        except EcrApiError:
            return False
        return (
            not registry_reach or http.get(f"http://{registry_reach}/v2/", auth=(ECR_USER, password)).status_code == 200
        )

    wait_until_ready(f"the ECR stand-in at {api.reach}", ready, container_exited(front), timeout=READY_TIMEOUT)
