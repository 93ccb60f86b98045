"""The ECR API stand-in: moto_server as a detached host process on a loopback port.

moto cannot run in a container here (no Python base image can be pulled), so it runs as a
process in its own session: Ctrl-C in the learner's terminal does not reach it, and `down`
stops it by pid after checking that the pid still runs our command line (pids are reused).
"""

from __future__ import annotations

import base64
import contextlib
import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from labcheck.environment.state import DUMMY_AWS_KEYS, ServiceState, log_path
from labcheck.errors import EnvironmentError_, ToolMissing
from labcheck.spec.model import ServiceSpec

READY_TIMEOUT = 30.0
STOP_TIMEOUT = 5.0
ECR_EXTRA_TIP = "install the ECR stand-in's tools: pip install 'labcheck[ecr]' (moto, boto3, awscli)"

# Popen objects of the processes this process started, so that they are reaped when stopped
# (and never garbage-collected while running, which would warn).
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


def require_ecr_tools() -> None:
    """ToolMissing (exit 3, with the pip command) unless moto and boto3 can be imported."""
    missing = [m for m in ("moto", "boto3", "flask") if importlib.util.find_spec(m) is None]
    if missing:
        raise ToolMissing(
            f"the lab's ECR stand-in needs {', '.join(missing)}, which is not installed", tip=ECR_EXTRA_TIP
        )


def start_ecr_api(name: str, spec: ServiceSpec, *, instance: str, bind_host: str, port: int) -> ServiceState:
    """Start moto_server on bind_host:port, detached, and wait until it answers."""
    require_ecr_tools()
    command = (sys.executable, "-m", "moto.server", "-H", bind_host, "-p", str(port))
    log = log_path(instance, name)
    log.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own session: a Ctrl-C meant for labcheck is not for it
            env={**os.environ, **DUMMY_AWS_KEYS},
        )
    _CHILDREN[proc.pid] = proc
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
        _wait_ready(state, log)
    except BaseException:
        stop_process(state)
        raise
    return state


def _wait_ready(state: ServiceState, log: Path) -> None:
    probe = "127.0.0.1" if state.host in ("0.0.0.0", "localhost") else state.host
    url = f"http://{probe}:{state.port}/moto-api/"
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        proc = _CHILDREN.get(state.pid or 0)
        # poll(), not the command line: right after the fork it is still labcheck's own
        if proc is not None and proc.poll() is not None:
            lines = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
            raise EnvironmentError_(
                f"the ECR API stand-in on port {state.port} exited: {lines[-1] if lines else '?'}",
                tip=f"its output is in {log}",
            )
        try:
            httpx.get(url, timeout=2.0)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise EnvironmentError_(f"the ECR API stand-in on port {state.port} did not answer within {READY_TIMEOUT:.0f} s")


def _cmdline(pid: int) -> tuple[str, ...] | None:
    """The pid's command line, or None when no such (live) process exists."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        status = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    if status.rpartition(")")[2].split()[:1] == ["Z"]:
        return None  # a zombie has finished
    return tuple(part.decode(errors="replace") for part in raw.split(b"\0") if part)


def process_alive(state: ServiceState) -> bool:
    """True when the service's pid runs the command line it was started with."""
    return state.pid is not None and _cmdline(state.pid) == state.command


def stop_process(state: ServiceState) -> bool:
    """Stop the service's process group if its pid still runs our command; True if stopped."""
    pid = state.pid
    if pid is None or not process_alive(state):
        _reap(pid)
        return False
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)  # its own session: the group id is its pid
    deadline = time.monotonic() + STOP_TIMEOUT
    while time.monotonic() < deadline and process_alive(state):
        _reap(pid)
        time.sleep(0.05)
    if process_alive(state):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
    _reap(pid)
    return True


def _reap(pid: int | None) -> None:
    proc = _CHILDREN.pop(pid, None) if pid is not None else None
    if proc is not None:
        try:
            proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            _CHILDREN[proc.pid] = proc  # still running: try again later


def ecr_login_password(state: ServiceState) -> str:
    """The password `aws ecr get-login-password` prints for this ECR API (boto3)."""
    import boto3

    client = boto3.client(
        "ecr",
        endpoint_url=f"http://{state.address}",
        region_name=state.region or "us-east-1",
        aws_access_key_id=DUMMY_AWS_KEYS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=DUMMY_AWS_KEYS["AWS_SECRET_ACCESS_KEY"],
    )
    try:
        data = client.get_authorization_token()["authorizationData"][0]
    except Exception as exc:  # botocore raises many types; none carries a secret
        raise EnvironmentError_(f"the ECR API stand-in gave no login token: {type(exc).__name__}") from exc
    user, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
    if not password:
        raise EnvironmentError_(f"the ECR API stand-in's login token has no password for user {user!r}")
    return password
