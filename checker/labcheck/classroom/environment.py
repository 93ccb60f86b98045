"""`labcheck class up` / `down`: the token server process and the shared registry:2 container.

The registry uses distribution's token auth (REGISTRY_AUTH=token): it trusts our
certificate, and sends clients to the token server, which knows each learner's login and
grants push/pull in their own namespace only.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from labcheck.classroom import process
from labcheck.classroom.roster import Learner
from labcheck.classroom.state import (
    CLASS_TIP,
    ClassLogin,
    ClassState,
    class_dir,
    delete_class_files,
    load_class,
    save_class,
)
from labcheck.classroom.tokens import ISSUER, SERVICE, hash_password, new_signing_key
from labcheck.environment.docker_client import docker_client
from labcheck.environment.placement import DEFAULT_NETWORK
from labcheck.environment.services import (
    LabContainer,
    ensure_image,
    free_port,
    remove_instance,
    start_container,
    wait_ready,
)
from labcheck.environment.state import local_address
from labcheck.errors import ClassError, StateDamaged, UsageError
from labcheck.pause import pause_point
from labcheck.spec.model import LabSpec
from labcheck.state_files import write_private

GRADER_USER = "instructor"
DEFAULT_PORT = 5050


def _new_login(learner: Learner) -> ClassLogin:
    return ClassLogin(learner.id, secrets.token_urlsafe(18), learner.name, learner.email)


@dataclass(frozen=True)
class _Files:
    config: str
    key: str
    cert: str
    log: str


def _write_token_config(host: str, port: int, logins: Sequence[ClassLogin], grader: ClassLogin) -> tuple[_Files, bytes]:
    folder = class_dir()
    files = _Files(*(str(folder / n) for n in ("token-server.json", "token.key", "token.crt", "token-server.log")))
    signing = new_signing_key()
    write_private(folder / "token.key", signing.key_pem, tip=CLASS_TIP)
    write_private(folder / "token.crt", signing.cert_pem, tip=CLASS_TIP)
    table = {}
    for login in [*logins, grader]:
        salt, digest = hash_password(login.password)
        table[login.user] = {"salt": salt, "hash": digest, "grader": login is grader}
    config = {
        "host": host,
        "port": port,
        "issuer": ISSUER,
        "service": SERVICE,
        "key_file": files.key,
        "cert_file": files.cert,
        "logins": table,
    }
    write_private(folder / "token-server.json", json.dumps(config, indent=1).encode(), tip=CLASS_TIP)
    return files, signing.cert_pem


def class_up(
    spec: LabSpec,
    learners: Sequence[Learner],
    *,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    token_port: int | None = None,
    realm: str | None = None,
    public_address: str = "",
    image: str | None = None,
) -> ClassState:
    """Start the token server and the class registry; everything is removed again on failure."""
    if spec.class_service is None:
        raise UsageError(f"lab {spec.id} has no class_service: it cannot be run as a class")
    if load_class() is not None:
        raise ClassError("a class is already running", tip="`labcheck class down` removes it first")
    instance = f"class-{spec.id}-{secrets.token_hex(2)}"
    # The token server always listens on loopback: learners on other machines reach it
    # through the TLS proxy that fronts the registry too (README: TLS for learners).
    token_port = token_port or free_port()
    token_url = f"http://127.0.0.1:{token_port}/token"
    realm = realm or token_url
    logins = tuple(_new_login(lr) for lr in learners)
    grader = ClassLogin(GRADER_USER, secrets.token_urlsafe(24), "grading login")
    client = docker_client()
    pid, command = 0, tuple[str, ...]()
    try:
        image = image or spec.services[spec.class_service].image or spec.registry_image
        ensure_image(client, image)
        files, cert_pem = _write_token_config("127.0.0.1", token_port, logins, grader)
        pid, command = process.start_token_server(
            Path(files.config), Path(files.log), f"http://127.0.0.1:{token_port}/healthz"
        )
        pause_point("token-server-started", instance)
        container_id = _start_registry(spec, instance, image, host, port, realm, cert_pem)
        state = ClassState(
            lab=spec.id,
            instance=instance,
            service=spec.class_service,
            host=host,
            port=port,
            realm=realm,
            token_url=token_url,
            container_id=container_id,
            token_pid=pid,
            token_command=command,
            grader=grader,
            learners=logins,
            public_address=public_address,
        )
        save_class(state)
        return state
    except BaseException:
        if pid:
            process.stop(pid, command)
        remove_instance(client, instance)
        delete_class_files()
        raise
    finally:
        client.close()


def _start_registry(spec: LabSpec, instance: str, image: str, host: str, port: int, realm: str, cert: bytes) -> str:
    env = {
        "REGISTRY_STORAGE_DELETE_ENABLED": "true",
        "REGISTRY_AUTH": "token",
        "REGISTRY_AUTH_TOKEN_REALM": realm,
        "REGISTRY_AUTH_TOKEN_SERVICE": SERVICE,
        "REGISTRY_AUTH_TOKEN_ISSUER": ISSUER,
        "REGISTRY_AUTH_TOKEN_ROOTCERTBUNDLE": "/auth/token.crt",
    }
    service = spec.class_service or "hub"
    wrapped = start_container(
        LabContainer(
            service,
            image,
            spec.id,
            instance,
            env=env,
            ports={5000: (host, port)},
            files={"/auth/token.crt": cert},
            network=DEFAULT_NETWORK,  # the class runs on the instructor's host
        )
    )
    wait_ready(f"{local_address(host)}:{port}", wrapped)
    return str(wrapped.id)


def class_down() -> list[str]:
    """Remove the class: its containers and volumes, the token server, the state; what was removed."""
    try:
        state = load_class()
    except StateDamaged:
        # What the state held cannot be trusted: its token server is found by its owner mark;
        # its registry container, if any, is left (`labcheck status` lists it, as below).
        stopped = process.stop_orphans(class_dir())
        delete_class_files()
        return [*stopped, "the damaged class state"]
    if state is None:
        # Without our state we cannot tell this class's containers from another state dir's
        # (a bench, a test): leave them; `labcheck status` lists them, `docker rm` removes them.
        delete_class_files()
        return []
    removed: list[str] = []
    if process.stop(state.token_pid, state.token_command):
        removed.append(f"token server (pid {state.token_pid})")
    client = docker_client()
    try:
        removed += remove_instance(client, state.instance)
    finally:
        client.close()
    delete_class_files()
    return removed
