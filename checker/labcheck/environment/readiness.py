"""Waiting for a service that was just started: one loop for every kind of service.

A registry, the ECR stand-in and the workshop's token server each answer a probe of their
own when ready; each can also die while starting, which must be said at once (with the last
line it wrote) rather than after the whole timeout.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import httpx

from labcheck.errors import EnvironmentError_
from labcheck.http_transport import http_client

if TYPE_CHECKING:
    from docker.models.containers import Container

READY_TIMEOUT = 30.0
REACH_TIP = "`labcheck doctor` says how labcheck reaches lab containers from where it runs"


def wait_until_ready(
    what: str,
    probe: Callable[[httpx.Client], bool],
    exited: Callable[[], str | None],
    *,
    timeout: float = READY_TIMEOUT,
    tip: str = REACH_TIP,
    error: type[EnvironmentError_] = EnvironmentError_,
) -> None:
    """Probe `what` until `probe` says it is ready; `error` when `exited` names why it stopped,
    or when it has not answered within `timeout` seconds. A probe's HTTP error means "not yet"."""
    deadline = time.monotonic() + timeout
    with http_client(timeout=2.0, deadline=2.0) as http:  # one client for every probe; no proxy
        while time.monotonic() < deadline:
            try:
                if probe(http):
                    return
            except httpx.HTTPError:
                pass
            why = exited()
            if why is not None:
                raise error(f"{what} exited: {why}", tip=tip)
            time.sleep(0.05)
    raise error(f"{what} did not answer within {timeout:.0f} s", tip=tip)


def container_exited(container: Container) -> Callable[[], str | None]:
    """For wait_until_ready: the last line of a container's log once it has exited."""

    def why() -> str | None:
        container.reload()
        if container.status != "exited":
            return None
        logs = container.logs(tail=3).decode(errors="replace").strip()
        return logs.splitlines()[-1] if logs else "?"

    return why
