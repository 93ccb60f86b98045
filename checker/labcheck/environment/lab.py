"""Bring a lab instance up and down, and list what runs."""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from labcheck.environment.docker_client import docker_client
from labcheck.environment.services import ensure_image, free_port, remove_instance, start_registry, wait_ready
from labcheck.environment.state import (
    LABEL_INSTANCE,
    LABEL_LAB,
    LABEL_SERVICE,
    LabState,
    check_instance_name,
    delete_state,
    load_state,
    save_state,
)
from labcheck.errors import EnvironmentError_, UsageError
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
) -> UpResult:
    """Start every service of the lab; idempotent when the instance already runs.

    On any failure or interrupt, the services started so far are removed again.
    """
    instance = check_instance_name(instance or spec.id)
    ports = dict(ports or {})
    unknown = sorted(set(ports) - set(spec.services))
    if unknown:
        raise UsageError(
            f"--port names unknown service {unknown[0]!r}",
            tip=f"services of {spec.id}: {', '.join(spec.services)}",
        )
    client = docker_client()
    existing = load_state(instance)
    found = {c.id: c for c in client.containers.list(all=True, filters={"label": f"{LABEL_INSTANCE}={instance}"})}
    if existing is not None and all(s.container_id in found for s in existing.services.values()):
        for running in existing.services.values():  # restart after `docker stop` or a reboot
            container = found[running.container_id]
            if container.status != "running":
                container.start()
                wait_ready(running.host, running.port, container)
        return UpResult(existing, already_running=True)
    if found and existing is None:
        raise EnvironmentError_(
            f"containers of lab {instance!r} exist, but not the state that holds their passwords",
            tip=f"remove them with `labcheck down {instance}`, then run `labcheck up {instance}` again",
        )
    remove_instance(client, instance)  # a half-removed instance: start afresh
    images = {name: image or svc.image or spec.registry_image for name, svc in spec.services.items()}
    for img in sorted(set(images.values())):
        ensure_image(client, img)
    # The services start concurrently (each mostly waits for Docker and for /v2/ to answer).
    # On a failure or Ctrl-C the main thread waits for every start already under way, so
    # that the cleanup below sees, and removes, every container this call created.
    pool = ThreadPoolExecutor(max_workers=len(spec.services), thread_name_prefix="labcheck-up")
    try:
        futures = {
            name: pool.submit(
                start_registry,
                name,
                svc,
                lab=spec.id,
                instance=instance,
                image=images[name],
                bind_host=bind_host,
                port=ports.get(name) or (free_port(bind_host) if ephemeral_ports else svc.port),
            )
            for name, svc in spec.services.items()
        }
        started = {name: future.result() for name, future in futures.items()}
        state = LabState(lab=spec.id, instance=instance, services=started)
        save_state(state)
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        remove_instance(client, instance)
        delete_state(instance)
        raise
    finally:
        pool.shutdown(wait=True)
    return UpResult(state, already_running=False)


def down(instance: str) -> list[str]:
    """Remove the instance's containers, their data and its state file; the names removed."""
    client = docker_client()
    removed = remove_instance(client, instance)
    delete_state(instance)
    return removed


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
    for c in client.containers.list(all=True, filters={"label": LABEL_INSTANCE}):
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
    return sorted(rows, key=lambda r: (r.instance, r.service))
