"""Bring a lab instance up and down, and list what runs."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from labcheck.environment.docker_client import docker_client
from labcheck.environment.ecr import start_ecr, wait_ecr_ready
from labcheck.environment.host_process import owned_by, stop
from labcheck.environment.placement import Placement, detect, endpoint
from labcheck.environment.processes import process_alive, process_owner, stop_process
from labcheck.environment.services import ensure_image, free_port, remove_instance, start_registry, wait_ready
from labcheck.environment.state import (
    LABEL_INSTANCE,
    LABEL_LAB,
    LABEL_SERVICE,
    LabState,
    ServiceState,
    all_states,
    check_instance_name,
    delete_state,
    load_state,
    save_state,
)
from labcheck.errors import EnvironmentError_, PortInUse, UsageError
from labcheck.pause import pause_point
from labcheck.spec.model import LabSpec

if TYPE_CHECKING:
    from docker.models.containers import Container


#: how many times `up` picks ports again when one it picked itself was taken meanwhile
PORT_ATTEMPTS = 4


@dataclass(frozen=True)
class UpResult:
    state: LabState
    already_running: bool


def up(
    spec: LabSpec,
    *,
    instance: str | None = None,
    ports: Mapping[str, int] | None = None,
    image: str | None = None,
    bind_host: str = "127.0.0.1",
    ephemeral_ports: bool = False,
    only: Collection[str] | None = None,
) -> UpResult:
    """Start the lab's services (or `only` those, with what they depend on); idempotent when
    the instance already runs.

    On any failure or interrupt, the services started so far are removed again.
    """
    instance = check_instance_name(instance or spec.id)
    wanted = needed_services(spec, only)
    ports = dict(ports or {})
    unknown = sorted(set(ports) - set(spec.services))
    if unknown:
        raise UsageError(
            f"--port names unknown service {unknown[0]!r}",
            tip=f"services of {spec.id}: {', '.join(spec.services)}",
        )
    check_distinct_ports(spec, ports)
    client = docker_client()
    existing = load_state(instance)
    found = {
        str(c.id): c
        for c in client.containers.list(
            all=True, filters={"label": f"{LABEL_INSTANCE}={instance}"}, ignore_removed=True
        )
    }
    placement = detect(client)
    if existing is not None and all(
        s.container_id in found and (not s.backend_id or s.backend_id in found) for s in existing.services.values()
    ):
        return UpResult(_restart(existing, found, placement), already_running=True)
    if found and existing is None:
        raise EnvironmentError_(
            f"containers of lab {instance!r} exist, but not the state that holds their passwords",
            tip=f"remove them with `labcheck down {instance}`, then run `labcheck up {instance}` again",
        )
    if existing is not None:
        _stop_processes(existing)  # an ECR API that labcheck 0.x ran on the host
    remove_instance(client, instance)  # a half-removed instance: start afresh

    def port_of(name: str) -> int:
        return ports.get(name) or (free_port(bind_host) if ephemeral_ports else spec.services[name].port)

    def chosen_here(*names: str | None) -> bool:
        """True when labcheck, not the user or the spec, picked one of these services' ports."""
        return ephemeral_ports and any(name is not None and name not in ports for name in names)

    # An ECR API and the registry that takes its logins start together (environment/ecr.py).
    apis = [name for name in wanted if spec.services[name].kind == "ecr-api"]
    fronted = {api: next((n for n in wanted if spec.services[n].token_from == api), None) for api in apis}
    registries = {
        name: spec.services[name]
        for name in wanted
        if spec.services[name].kind == "registry" and name not in fronted.values()
    }
    images = {name: image or svc.image or spec.registry_image for name, svc in registries.items()}
    store_image = image or spec.registry_image
    for img in sorted(
        {*images.values(), *(spec.services[a].api_image for a in apis), *([store_image] if apis else [])}
    ):
        ensure_image(client, img)
    pause_point("images-ready", instance)
    # The services start concurrently (each mostly waits for Docker and for its server to
    # answer). On a failure or Ctrl-C the main thread waits for every start already under
    # way, so that the cleanup below sees, and removes, every container this call created.
    pool = ThreadPoolExecutor(max_workers=max(1, len(registries) + len(apis)), thread_name_prefix="labcheck-up")

    def start_once(name: str) -> dict[str, ServiceState]:
        if name in fronted:
            registry = fronted[name]
            return start_ecr(
                (name, spec.services[name]),
                (registry, spec.services[registry]) if registry else None,
                lab=spec.id,
                instance=instance,
                api_image=spec.services[name].api_image,
                store_image=store_image,
                bind_host=bind_host,
                api_port=port_of(name),
                registry_port=port_of(registry) if registry else None,
                placement=placement,
            )
        return {
            name: start_registry(
                name,
                registries[name],
                lab=spec.id,
                instance=instance,
                image=images[name],
                bind_host=bind_host,
                port=port_of(name),
                placement=placement,
            )
        }

    def start_with_retries(name: str) -> dict[str, ServiceState]:
        # A port labcheck picked was free when the kernel offered it, but any process may
        # take it before Docker binds it: an outgoing connection's local port comes from the
        # same range (a busy `verify` makes hundreds). That is labcheck's problem, never the
        # user's: pick again. A port the user or the spec chose fails at once, naming it.
        attempt = 1
        while True:
            try:
                return start_once(name)
            except PortInUse:
                if attempt == PORT_ATTEMPTS or not chosen_here(name, fronted.get(name)):
                    raise
                attempt += 1

    def start(name: str) -> Future[dict[str, ServiceState]]:
        return pool.submit(start_with_retries, name)

    try:
        futures = [start(name) for name in [*registries, *apis]]
        pause_point("registries-starting", instance)  # the main thread, while workers start them
        started: dict[str, ServiceState] = {}
        for future in futures:
            started.update(future.result())
        pause_point("registries-started", instance)
        state = LabState(lab=spec.id, instance=instance, services={n: started[n] for n in wanted})
        save_state(state)
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        remove_instance(client, instance)
        delete_state(instance)
        raise
    finally:
        pool.shutdown(wait=True)
    return UpResult(state, already_running=False)


def check_distinct_ports(spec: LabSpec, ports: Mapping[str, int]) -> None:
    """UsageError when two services would get one port (a --port repeating another's)."""
    chosen = {name: ports.get(name, svc.port) for name, svc in spec.services.items()}
    for name, port in chosen.items():
        others = [other for other, p in chosen.items() if p == port and other != name]
        if others:
            raise UsageError(
                f"services {name!r} and {others[0]!r} would both use port {port}",
                tip="give each service its own port: --port SERVICE=PORT",
            )


def needed_services(spec: LabSpec, only: Collection[str] | None) -> list[str]:
    """The services to start, in spec order: `only` (default all) and what they depend on."""
    if only is None:
        return list(spec.services)
    unknown = sorted(set(only) - set(spec.services))
    if unknown:
        raise UsageError(f"unknown service {unknown[0]!r} (services of {spec.id}: {', '.join(spec.services)})")
    wanted = set(only)
    for name in only:
        if dependency := spec.services[name].token_from:
            wanted.add(dependency)
    return [name for name in spec.services if name in wanted]


def _restart(state: LabState, found: Mapping[str, Container], placement: Placement) -> LabState:
    """Start again what stopped (`docker stop`, a reboot); the state, with the addresses at
    which labcheck reaches the containers now (a restart may change them)."""
    services = dict(state.services)
    restarted: set[str] = set()
    for running in state.services.values():
        container = found[running.container_id]
        if running.container_id not in restarted and container.status != "running":
            container.start()
            restarted.add(running.container_id)
    for running in state.services.values():
        if running.backend_id:  # after its front: it joins the front's network namespace
            backend = found[running.backend_id]
            if running.container_id in restarted:
                backend.restart()  # the front's namespace is a new one
            elif backend.status != "running":
                backend.start()
    for name, running in state.services.items():
        container = found[running.container_id]
        reach = endpoint(placement, container, running.host, running.port, running.container_port)
        if reach != running.endpoint:
            services[name] = running = dataclasses.replace(running, endpoint=reach)
        if running.kind == "ecr-api":
            registry = next((s for s in state.services.values() if s.token_from == name), None)
            registry_reach = (
                endpoint(placement, container, registry.host, registry.port, registry.container_port)
                if registry
                else ""
            )
            wait_ecr_ready(running, registry_reach, container)
        elif not running.token_from:
            wait_ready(reach, container)
    if services != state.services:
        state = LabState(lab=state.lab, instance=state.instance, services=services)
        save_state(state)
    return state


def _stop_processes(state: LabState) -> list[str]:
    stopped = []
    for svc in state.services.values():
        if svc.is_process and stop_process(svc):
            stopped.append(f"{svc.name} (pid {svc.pid})")
    return stopped


def down(instance: str) -> list[str]:
    """Stop the instance's host processes, remove its containers, their data and its state
    file; the names of what was removed."""
    state = load_state(instance)
    if state is not None:
        stopped = _stop_processes(state)
    else:  # no state (another LABCHECK_STATE_DIR?): its processes are found by their owner mark
        stopped = [
            f"{' '.join(command[1:3]) or command[0]} (pid {pid})"
            for pid, command in owned_by(process_owner(instance))
            if stop(pid, command)
        ]
    client = docker_client()
    removed = remove_instance(client, instance)
    delete_state(instance)
    return removed + stopped


@dataclass(frozen=True)
class RunningService:
    lab: str
    instance: str
    service: str
    container: str
    status: str
    ports: str


def status() -> list[RunningService]:
    """Every labcheck container Docker knows, running or not."""
    client = docker_client()
    rows = []
    for c in client.containers.list(all=True, filters={"label": LABEL_INSTANCE}, ignore_removed=True):
        bindings = (c.attrs.get("HostConfig") or {}).get("PortBindings") or {}
        ports = ", ".join(
            f"{b.get('HostIp') or '0.0.0.0'}:{b.get('HostPort')}" for binds in bindings.values() for b in binds or ()
        )
        rows.append(
            RunningService(
                lab=c.labels.get(LABEL_LAB, "?"),
                instance=c.labels.get(LABEL_INSTANCE, "?"),
                service=c.labels.get(LABEL_SERVICE, "?"),
                container=str(c.name),
                status=c.status,
                ports=ports,
            )
        )
    for state in all_states():
        rows.extend(
            RunningService(
                lab=state.lab,
                instance=state.instance,
                service=svc.name,
                container=f"pid {svc.pid} (host process)",
                status="running" if process_alive(svc) else "exited",
                ports=f"{svc.host}:{svc.port}",
            )
            for svc in state.services.values()
            if svc.is_process
        )
    return sorted(rows, key=lambda r: (r.instance, r.service))
