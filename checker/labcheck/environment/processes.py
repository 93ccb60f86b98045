"""Host processes of labs started by labcheck 0.x, which ran the ECR API stand-in (moto_server)
on the host. The stand-in is a container now (environment/ecr.py); `up`, `down` and `status`
still recognise such a process in an old state file, and stop it, so that an upgrade leaves
nothing running.
"""

from __future__ import annotations

from labcheck.environment.host_process import alive, stop
from labcheck.environment.state import ServiceState


def process_owner(instance: str) -> str:
    """The owner mark of a lab instance's host processes (see host_process.owned_by)."""
    return f"lab:{instance}"


def process_alive(state: ServiceState) -> bool:
    """True when the service's pid runs the command line it was started with."""
    return alive(state.pid, state.command)


def stop_process(state: ServiceState) -> bool:
    """Stop the service's process group if its pid still runs our command; True if stopped."""
    return stop(state.pid, state.command)
