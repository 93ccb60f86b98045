"""`labcheck doctor`: can this machine run a lab? One finding per prerequisite, with the fix.

Each check looks at one thing a learner needs (the docker CLI, a reachable engine, the
images, free ports, git, the aws CLI, ...) and says what it found and, when that is a
problem, what to do. A `fail` means the lab cannot run; a `warn` means part of it will
not work as the lessons describe (the fix says which part).
"""

from __future__ import annotations

import enum
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from labcheck.bundled import bundled_aws
from labcheck.docker_host import which_daemon
from labcheck.environment.placement import Placement, in_container
from labcheck.environment.services import port_is_free
from labcheck.environment.state import load_state, state_dir
from labcheck.errors import LabcheckError
from labcheck.observe.engine import ENABLE_CONTAINERD_STORE, engine_state
from labcheck.observe.engine_api import EngineApi, EngineApiError
from labcheck.spec.model import LabSpec

TOOL_TIMEOUT = 15.0
#: Docker Engine releases older than this lack what today's lessons show (BuildKit by default).
MODERN_ENGINE = 23


class Level(enum.Enum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Finding:
    """What one prerequisite check found."""

    id: str
    title: str
    level: Level
    detail: str
    fix: str = ""


@dataclass(frozen=True)
class Diagnosis:
    """Every finding for a lab; the lab can run when none failed."""

    lab: str
    findings: tuple[Finding, ...]

    @property
    def ready(self) -> bool:
        return all(f.level is not Level.FAIL for f in self.findings)

    @property
    def exit_code(self) -> int:
        return 0 if self.ready else 1


def _run(command: list[str]) -> tuple[int, str]:
    """Exit code and first output line of a tool; 127 when it is not on PATH."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=TOOL_TIMEOUT, check=False)
    except FileNotFoundError:
        return 127, ""
    except subprocess.TimeoutExpired:
        return 124, f"{command[0]} did not answer within {TOOL_TIMEOUT:.0f} s"
    out = (done.stdout.strip() or done.stderr.strip()).splitlines()
    return done.returncode, out[0] if out else ""


def check_docker_cli() -> Finding:
    code, out = _run(["docker", "version", "--format", "{{.Client.Version}}"])
    if code == 127:
        return Finding(
            "docker-cli",
            "docker CLI",
            Level.FAIL,
            "the docker command is not installed",
            "install Docker Desktop (macOS, Windows) or Docker Engine (Linux): https://docs.docker.com/get-docker/",
        )
    version = out if re.fullmatch(r"[\w.+-]+", out) else "installed"
    return Finding("docker-cli", "docker CLI", Level.OK, f"docker {version}")


def check_engine(engine: EngineApi | None, problem: str, where: str) -> Finding:
    if engine is None:
        return Finding(
            "docker-engine",
            "Docker engine",
            Level.FAIL,
            f"{problem} (chosen by {where})",
            "start Docker Desktop or the Docker service (sudo systemctl start docker); "
            "`docker context ls` shows which daemon the CLI uses",
        )
    version = engine.version()
    release = str(version.get("Version") or "?")
    detail = (
        f"Docker Engine {release} (API {version.get('ApiVersion', '?')}, {version.get('Os', '?')}/"
        f"{version.get('Arch', '?')}) at {engine.host}, chosen by {where}"
    )
    major = re.match(r"(\d+)\.", release)
    if major and int(major.group(1)) < MODERN_ENGINE:
        return Finding(
            "docker-engine",
            "Docker engine",
            Level.WARN,
            detail,
            f"Docker {release} is old: every exercise works, but builds and pushes differ from what the lessons "
            "show; Docker Desktop or Docker Engine 29 is what the course describes",
        )
    return Finding("docker-engine", "Docker engine", Level.OK, detail)


def check_image_store(info: Mapping[str, Any]) -> Finding:
    engine = engine_state(info)
    if engine.containerd_store:
        return Finding(
            "image-store",
            "image store",
            Level.OK,
            f"containerd image store ({engine.driver}): pushes send OCI image indexes, multi-platform builds work",
        )
    return Finding(
        "image-store",
        "image store",
        Level.WARN,
        f"classic image store ({engine.driver}): the lab works; multi-platform builds do not",
        f"to build for several platforms, {ENABLE_CONTAINERD_STORE}",
    )


def check_buildx() -> Finding:
    code, out = _run(["docker", "buildx", "version"])
    if code == 0:
        return Finding("buildx", "buildx", Level.OK, out)
    return Finding(
        "buildx",
        "buildx",
        Level.WARN,
        "docker buildx is not installed: `docker build` uses the legacy builder",
        "install the buildx plugin (Docker Desktop has it; Debian/Ubuntu: the docker-buildx package)",
    )


def _base_images(spec: LabSpec) -> list[str]:
    """The images the lab app's Dockerfile builds FROM."""
    try:
        dockerfile = (spec.folder / "app" / "Dockerfile").read_text(encoding="utf-8")
    except (OSError, LabcheckError):
        return []
    found = re.findall(r"(?im)^\s*FROM\s+(?:--platform=\S+\s+)?(\S+)", dockerfile)
    return [image for image in found if image.lower() != "scratch" and "$" not in image]


def lab_images(spec: LabSpec) -> list[str]:
    """The images a lab needs: its services' registry image(s), its ECR stand-in's image and
    its app's base image(s)."""
    services = [
        svc.api_image if svc.kind == "ecr-api" else svc.image or spec.registry_image for svc in spec.services.values()
    ]
    return list(dict.fromkeys([*services, *_base_images(spec)]))


def check_image(engine: EngineApi, image: str) -> Finding:
    if engine.image(image) is not None:
        return Finding(f"image:{image}", f"image {image}", Level.OK, "present")
    try:
        engine.distribution(image)
    except (EngineApiError, LabcheckError) as exc:
        return Finding(
            f"image:{image}",
            f"image {image}",
            Level.FAIL,
            f"not present, and the daemon cannot pull it ({str(exc)[:160]})",
            f"connect to the internet and run `docker pull {image}`; offline, `docker load` it from a saved "
            "archive (or build it with the offline image kit: scripts/offline-images in labcheck's repository)",
        )
    return Finding(f"image:{image}", f"image {image}", Level.OK, "not present yet; the daemon can pull it")


def check_port(
    spec: LabSpec,
    service: str,
    port: int,
    placement: Placement,
    published: Mapping[int, str],
    *,
    platform: str = sys.platform,
    is_free: Callable[[str, int], bool] = port_is_free,
) -> Finding:
    """Whether `service` can publish on 127.0.0.1:port."""
    title = f"port {port} ({service})"
    # every service publishes on the engine host's loopback: from a bridge network, only the
    # ports Docker's own containers hold can be seen
    here = placement.join is None
    owner = published.get(port)
    if owner is None and here and not is_free("127.0.0.1", port):
        owner = "another program"
    if owner is None:
        checked = "" if here else " (only Docker's own containers could be checked from here)"
        return Finding(f"port:{service}", title, Level.OK, f"free{checked}")
    fix = f"stop {owner}, or start the lab on another port: labcheck up {spec.id} --port {service}={_spare(port)}"
    detail = f"in use by {owner}"
    if platform == "darwin" and port == 5000:
        detail += "; on macOS that is usually the AirPlay Receiver"
        fix = (
            "turn off System Settings > General > AirDrop & Handoff > AirPlay Receiver, or start the lab on another "
            f"port: labcheck up {spec.id} --port {service}={_spare(port)} (labcheck instructions then use it)"
        )
    return Finding(f"port:{service}", title, Level.FAIL, detail, fix)


def _spare(port: int) -> int:
    return port + 50 if port + 50 <= 65535 else port - 50


def published_ports(engine: EngineApi) -> dict[int, str]:
    """Host ports Docker containers publish on loopback or all addresses, with who holds them."""
    try:
        containers = engine.containers()
    except (EngineApiError, LabcheckError):
        return {}
    held: dict[int, str] = {}
    for container in containers:
        name = str((container.get("Names") or ["?"])[0]).lstrip("/")
        for binding in container.get("Ports") or []:
            if binding.get("PublicPort") and binding.get("IP") in (None, "", "0.0.0.0", "::", "127.0.0.1"):
                held[int(binding["PublicPort"])] = f"container {name}"
    return held


def check_git() -> Finding:
    code, out = _run(["git", "--version"])
    if code == 127:
        return Finding(
            "git",
            "git",
            Level.FAIL,
            "git is not installed (the lab workspace is a git repository)",
            "install git: https://git-scm.com/downloads (Debian/Ubuntu: apt install git)",
        )
    return Finding("git", "git", Level.OK, out)


def check_aws_cli() -> Finding:
    on_path = shutil.which("aws")
    if on_path:
        _, out = _run([on_path, "--version"])
        return Finding("aws-cli", "aws CLI", Level.OK, f"{out or 'installed'} ({on_path})")
    bundled = bundled_aws()
    if bundled is not None:
        return Finding(
            "aws-cli",
            "aws CLI",
            Level.OK,
            f'installed with labcheck ({bundled}); `eval "$(labcheck env part7)"` puts it on your PATH',
        )
    return Finding(
        "aws-cli",
        "aws CLI",
        Level.WARN,
        "the aws command is not installed: the ECR exercise needs it",
        "install the AWS CLI (https://aws.amazon.com/cli/) or reinstall labcheck, which brings one",
    )


def check_placement(placement: Placement) -> Finding:
    if placement.in_container and placement.container is None and not placement.engine_beside:
        return Finding(
            "container",
            "where labcheck runs",
            Level.WARN,
            placement.describe(),
            "run labcheck on the engine's host, or in a container started with the host's Docker socket "
            "(-v /var/run/docker.sock:/var/run/docker.sock), so labcheck can reach the lab's containers",
        )
    return Finding("container", "where labcheck runs", Level.OK, placement.describe())


def check_state_dir() -> Finding:
    folder = state_dir()
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if os.access(probe, os.W_OK):
        return Finding("state", "state directory", Level.OK, f"{folder} (passwords are kept here, mode 0600)")
    return Finding(
        "state",
        "state directory",
        Level.FAIL,
        f"{folder} cannot be written",
        "set LABCHECK_STATE_DIR to a directory of yours",
    )


def diagnose(spec: LabSpec, ports: Mapping[str, int] | None = None, instance: str | None = None) -> Diagnosis:
    """Every prerequisite of `spec` on this machine (`ports`: the ones `labcheck up --port` would use)."""
    findings = [check_docker_cli()]
    try:
        host, where = which_daemon()
    except LabcheckError as exc:
        host, where = "?", exc.message
    engine: EngineApi | None = None
    problem = f"no Docker daemon answers at {host}"
    try:
        engine = EngineApi(timeout=10.0)
        info = engine.info()
    except LabcheckError as exc:
        problem = exc.message
        engine = None
    except EngineApiError as exc:
        problem = f"the Docker daemon at {host} answered with an error: {exc}"
        engine = None
    try:
        findings.append(check_engine(engine, problem, where))
        placement = _placement(engine)
        if engine is not None:
            findings.append(check_image_store(info))
            findings.append(check_buildx())
            findings.extend(check_image(engine, image) for image in lab_images(spec))
        findings.append(check_placement(placement))
        findings.extend(_ports(spec, ports or {}, placement, engine, instance))
    finally:
        if engine is not None:
            engine.close()
    findings += [check_git(), check_aws_cli(), check_state_dir()]
    return Diagnosis(spec.id, tuple(findings))


def _placement(engine: EngineApi | None) -> Placement:
    if not in_container() or engine is None:
        return Placement(in_container=in_container())
    from labcheck.environment.docker_client import docker_client
    from labcheck.environment.placement import detect

    try:
        client = docker_client()
    except LabcheckError:
        return Placement(in_container=True)
    try:
        return detect(client)
    finally:
        client.close()


def _ports(
    spec: LabSpec, ports: Mapping[str, int], placement: Placement, engine: EngineApi | None, instance: str | None
) -> list[Finding]:
    state = load_state(instance or spec.id)
    if state is not None:
        return [
            Finding(f"port:{name}", f"port {svc.port} ({name})", Level.OK, f"the running lab {state.instance} uses it")
            for name, svc in state.services.items()
        ]
    published = published_ports(engine) if engine is not None else {}
    return [
        check_port(spec, name, ports.get(name, svc.port), placement, published) for name, svc in spec.services.items()
    ]
