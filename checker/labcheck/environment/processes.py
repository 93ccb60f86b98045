"""The ECR API stand-in: moto_server as a detached host process on a loopback port.

moto cannot run in a container here (no Python base image can be pulled), so it runs as a
process in its own session: Ctrl-C in the learner's terminal does not reach it, and `down`
stops it by pid after checking that the pid still runs our command line (pids are reused).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from labcheck.environment.host_process import alive, last_line, spawn, stop
from labcheck.environment.state import DUMMY_AWS_KEYS, ServiceState, log_path
from labcheck.errors import REINSTALL_TIP, EnvironmentError_, ToolMissing
from labcheck.http_transport import http_client
from labcheck.spec.model import ServiceSpec

READY_TIMEOUT = 30.0


def require_ecr_tools() -> None:
    """ToolMissing (exit 3, with the pip command) unless moto and boto3 can be imported."""
    missing = [m for m in ("moto", "boto3", "flask") if importlib.util.find_spec(m) is None]
    if missing:
        raise ToolMissing(
            f"the lab's ECR stand-in needs {', '.join(missing)}, which is not installed", tip=REINSTALL_TIP
        )


def start_ecr_api(name: str, spec: ServiceSpec, *, instance: str, bind_host: str, port: int) -> ServiceState:
    """Start moto_server on bind_host:port, detached, and wait until it answers."""
    require_ecr_tools()
    command = (sys.executable, "-m", "moto.server", "-H", bind_host, "-p", str(port))
    log = log_path(instance, name)
    proc = spawn(command, log, env={**os.environ, **DUMMY_AWS_KEYS}, owner=process_owner(instance))
    state = ServiceState(
        name=name,
        env_var=spec.env_var,
        host=bind_host,
        port=port,
        kind="ecr-api",
        pid=proc.pid,
        command=command,
        region=spec.region,
    )
    try:
        _wait_ready(state, proc, log)
    except BaseException:
        stop_process(state)
        raise
    return state


def _wait_ready(state: ServiceState, proc: subprocess.Popen[bytes], log: Path) -> None:
    url = f"http://{state.reach}/moto-api/"
    deadline = time.monotonic() + READY_TIMEOUT
    with http_client(timeout=2.0, deadline=2.0) as http:  # one client for every probe; no proxy
        while time.monotonic() < deadline:
            # poll(), not the command line: right after the fork it is still labcheck's own
            if proc.poll() is not None:
                raise EnvironmentError_(
                    f"the ECR API stand-in on port {state.port} exited: {last_line(log)}",
                    tip=f"its output is in {log}",
                )
            try:
                http.get(url)
                return
            except httpx.HTTPError:
                time.sleep(0.05)
    raise EnvironmentError_(f"the ECR API stand-in on port {state.port} did not answer within {READY_TIMEOUT:.0f} s")


def process_owner(instance: str) -> str:
    """The owner mark of a lab instance's host processes (see host_process.owned_by)."""
    return f"lab:{instance}"


def process_alive(state: ServiceState) -> bool:
    """True when the service's pid runs the command line it was started with."""
    return alive(state.pid, state.command)


def stop_process(state: ServiceState) -> bool:
    """Stop the service's process group if its pid still runs our command; True if stopped."""
    return stop(state.pid, state.command)


def ecr_login_password(state: ServiceState) -> str:
    """The password `aws ecr get-login-password` prints for this ECR API."""
    from labcheck.ecr_api import AwsKeys, EcrApiError, login_password

    try:
        return login_password(f"http://{state.address}", state.region or "us-east-1", AwsKeys.from_env(DUMMY_AWS_KEYS))
    except EcrApiError as exc:  # the message names the endpoint and the AWS error, never a secret
        raise EnvironmentError_(f"the ECR API stand-in gave no login token: {exc}") from exc
