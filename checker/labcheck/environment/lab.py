"""Bring a lab instance up and down, and list what runs."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from labcheck.environment.docker_client import docker_client
from labcheck.environment.host_process import owned_by, stop
from labcheck.environment.placement import Placement, detect, endpoint
from labcheck.environment.processes import (
    ecr_login_password,
    process_alive,
    process_owner,
    require_ecr_tools,
    start_ecr_api,
    stop_process,
)
from labcheck.environment.services import (
    ensure_image,
    free_port,
    install_login,
    remove_instance,
    start_registry,
    wait_ready,
)
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
from labcheck.errors import EnvironmentError_, UsageError
from labcheck.pause import pause_point
from labcheck.spec.model import LabSpec


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
    if any(spec.services[name].kind == "ecr-api" for name in wanted):
        require_ecr_tools()  # before anything starts: a clear error and nothing to undo
    client = docker_client()
    existing = load_state(instance)
    found = {
        c.id: c
        for c in client.containers.list(
            all=True, filters={"label": f"{LABEL_INSTANCE}={instance}"}, ignore_removed=True
        )
    }
    placement = detect(client)
    if existing is not None and all(s.is_process or s.container_id in found for s in existing.services.values()):
        return UpResult(_restart(spec, existing, found, placement), already_running=True)
    if found and existing is None:
        raise EnvironmentError_(
            f"containers of lab {instance!r} exist, but not the state that holds their passwords",
            tip=f"remove them with `labcheck down {instance}`, then run `labcheck up {instance}` again",
        )
    if existing is not None:
        _stop_processes(existing)
    remove_instance(client, instance)  # a half-removed instance: start afresh
    registries = {name: spec.services[name] for name in wanted if spec.services[name].kind == "registry"}
    images = {name: image or svc.image or spec.registry_image for name, svc in registries.items()}
    for img in sorted(set(images.values())):
        ensure_image(client, img)
    pause_point("images-ready", instance)
    # The services start concurrently (each mostly waits for Docker and for /v2/ to answer).
    # On a failure or Ctrl-C the main thread waits for every start already under way, so
    # that the cleanup below sees, and removes, every container this call created. An ECR
    # data plane's password comes from its ECR API stand-in (a host process): it starts with
    # the others, refusing every login, and gets its htpasswd once the stand-in answers.
    pool = ThreadPoolExecutor(max_workers=max(1, len(registries)), thread_name_prefix="labcheck-up")
    processes: dict[str, ServiceState] = {}

    def start(name: str) -> Future[ServiceState]:
        return pool.submit(
            start_registry,
            name,
            registries[name],
            lab=spec.id,
            instance=instance,
            image=images[name],
            bind_host=bind_host,
            port=ports.get(name) or (free_port(bind_host) if ephemeral_ports else registries[name].port),
            placement=placement,
        )

    try:
        futures = {name: start(name) for name in registries}
        pause_point("registries-starting", instance)  # the main thread, while workers start them
        for name in wanted:
            svc = spec.services[name]
            if svc.kind == "ecr-api":
                # moto gives anyone who asks the ECR password: it never leaves loopback
                port = ports.get(name) or (free_port() if ephemeral_ports else svc.port)
                processes[name] = start_ecr_api(name, svc, instance=instance, bind_host="127.0.0.1", port=port)
        pause_point("ecr-api-started", instance)
        logins = {n: ecr_login_password(processes[svc.token_from]) for n, svc in registries.items() if svc.token_from}
        started = {**processes, **{name: future.result() for name, future in futures.items()}}
        pause_point("registries-started", instance)
        for name, password in logins.items():
            started[name] = install_login(client, started[name], password)
        state = LabState(lab=spec.id, instance=instance, services={n: started[n] for n in wanted})
        save_state(state)
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        _stop_processes(LabState(spec.id, instance, processes))
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


def _restart(spec: LabSpec, state: LabState, found: Mapping[str, Any], placement: Placement) -> LabState:
    """Start again what stopped (`docker stop`, a reboot); the state, with new pids and the
    addresses at which labcheck reaches the containers now (a restart may change them)."""
    services = dict(state.services)
    for name, running in state.services.items():
        if running.is_process:
            if not process_alive(running):  # its repositories were in memory: they are gone
                stop_process(running)  # reaps it, if this process started it
                services[name] = start_ecr_api(
                    name, spec.services[name], instance=state.instance, bind_host="127.0.0.1", port=running.port
                )
            continue
        container = found[running.container_id]
        if container.status != "running":
            container.start()
        reach = endpoint(placement, container, running.host, running.port)
        wait_ready(reach, container)
        if reach != running.endpoint:
            services[name] = dataclasses.replace(running, endpoint=reach)
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
                container=c.name,
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
