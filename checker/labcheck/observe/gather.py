"""Gather, once per run, every observation the selected checks need."""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from labcheck.docker_host import docker_config_dir
from labcheck.ecr_api import AwsKeys, EcrApiError, login_password
from labcheck.errors import LabcheckError
from labcheck.observe.docker import observe_docker
from labcheck.observe.ecr import observe_ecr
from labcheck.observe.engine import observe_engine
from labcheck.observe.engine_api import EngineApi
from labcheck.observe.model import (
    DockerState,
    EcrState,
    EngineState,
    Observations,
    PushLog,
    RepoRef,
    RepoState,
    Unavailable,
    WorkspaceState,
)
from labcheck.observe.needs import Needs
from labcheck.observe.pushlog import observe_push_log
from labcheck.observe.registry import observe_repository
from labcheck.observe.workspace import is_git_repository, observe_workspace
from labcheck.registry import Credentials, RegistryClient
from labcheck.spec.model import ECR_USER

if TYPE_CHECKING:
    from labcheck.environment.state import LabState


@dataclass(frozen=True)
class Target:
    """Where a service's repositories are read, and with which login."""

    host: str  # the name Docker and the learner use (localhost:5000): reports and evidence say it
    credentials: Credentials | None = None
    insecure: bool | None = None
    container_id: str | None = None  # a lab registry: its log shows who pushed
    region: str | None = None  # an ECR API: its region (host is then the endpoint's host:port)
    aws: bool = False  # an ECR API: AWS itself, through boto3's default chain (host is only a name)
    endpoint: str | None = None  # a lab service: where labcheck reads it, when not at `host`
    #: the ECR stand-in's registry: the ECR API (host:port, in `region`) to ask for a login
    login_from: str | None = None
    free_pulls: bool = False  # the lab's own registry: no pull is counted (RegistryClient)

    @property
    def url_host(self) -> str:
        """host:port that requests go to."""
        return self.endpoint or self.host


def lab_targets(state: LabState) -> dict[str, Target]:
    """Where each service of a running lab is read, with the lab's own logins."""
    targets = {}
    for name, svc in state.services.items():
        api = state.services.get(svc.token_from) if svc.token_from else None
        targets[name] = Target(
            svc.address,
            Credentials(svc.username, svc.password) if svc.username and svc.password else None,
            insecure=True,  # lab services speak plain HTTP, wherever labcheck reads them
            container_id=svc.container_id or None,
            region=api.region if api else svc.region,
            endpoint=svc.reach,
            login_from=api.reach if api else None,
            free_pulls=True,
        )
    return targets


def gather(
    needs: Needs,
    targets: Mapping[str, Target],
    *,
    workspace: Path | None,
    docker_config: str | None = None,
    timeout: float = 10.0,
) -> Observations:
    """Observations for `needs`, all gathered at once: registries, daemon, workspace, ECR, logs."""
    logins = {t.login_from: _ecr_login(t) for service, _ in needs.repos if (t := targets[service]).login_from}
    by_host: dict[Target, list[tuple[str, str]]] = {}
    refused: dict[tuple[str, str], Unavailable] = {}
    for service, repository in needs.repos:
        target = targets[service]
        if target.login_from:
            login = logins[target.login_from]
            if isinstance(login, Unavailable):
                refused[(service, repository)] = login
                continue
            target = replace(target, credentials=login, login_from=None)
        by_host.setdefault(target, []).append((service, repository))
    clients = {
        t: RegistryClient(
            t.url_host, credentials=t.credentials, insecure=t.insecure, timeout=timeout, free_pulls=t.free_pulls
        )
        for t in by_host
    }
    engine = _engine() if needs.docker or needs.push_logs or needs.engine else None  # one daemon connection
    # Every source is independent and mostly waits on I/O (HTTP, the Docker socket, git, the
    # ECR API): one pool overlaps them, so a run costs its slowest source.
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            repo_jobs = {
                key: pool.submit(_observe, clients[t], RepoRef(key[0], t.host, key[1]), needs)
                for t, keys in by_host.items()
                for key in keys
            }
            docker_job = pool.submit(_docker, engine, docker_config) if engine is not None and needs.docker else None
            ws_job = (
                pool.submit(_workspace, workspace, needs.workspace_files) if needs.workspace_files is not None else None
            )
            ecr_jobs = {
                service: pool.submit(_ecr, targets[service], {r for s, r in needs.ecr_policies if s == service})
                for service in sorted(needs.ecr_apis | {s for s, _ in needs.ecr_policies})
            }
            logs = {service: targets[service] for service in needs.push_logs}
            logs_job = pool.submit(_push_logs, engine, logs) if engine is not None and logs else None
            engine_job = pool.submit(_engine_state, engine) if engine is not None and needs.engine else None
            return Observations(
                repos={**refused, **{key: job.result() for key, job in repo_jobs.items()}},
                docker=docker_job.result() if docker_job else None,
                workspace=ws_job.result() if ws_job else None,
                ecr={service: job.result() for service, job in ecr_jobs.items()},
                push_logs=logs_job.result() if logs_job else {},
                engine=engine_job.result() if engine_job else None,
            )
    finally:
        for client in clients.values():
            client.close()
        if isinstance(engine, EngineApi):
            engine.close()


def _workspace(workspace: Path | None, files: frozenset[str]) -> WorkspaceState | Unavailable:
    path = workspace or Path.cwd()
    if not is_git_repository(path):
        return Unavailable(f"{path} is not a git repository: run labcheck in your lab workspace or pass --workspace")
    return observe_workspace(path, files)


def _ecr(target: Target, lifecycle_of: set[str]) -> EcrState | Unavailable:
    from labcheck.environment.state import DUMMY_AWS_KEYS

    region = target.region or "us-east-1"
    if target.aws:  # the learner's own AWS credentials; boto3 honours AWS_ENDPOINT_URL
        return observe_ecr(None, region, lifecycle_of=lifecycle_of)
    return observe_ecr(f"http://{target.url_host}", region, access_keys=DUMMY_AWS_KEYS, lifecycle_of=lifecycle_of)


def _ecr_login(target: Target) -> Credentials | Unavailable:
    """A fresh login for the ECR stand-in's registry, from its ECR API (its tokens expire)."""
    from labcheck.environment.state import DUMMY_AWS_KEYS

    region = target.region or "us-east-1"
    try:
        password = login_password(f"http://{target.login_from}", region, AwsKeys.from_env(DUMMY_AWS_KEYS))
    except EcrApiError as exc:  # names the endpoint and the AWS error, never a secret
        return Unavailable(f"no login for {target.host}: {exc}")
    return Credentials(ECR_USER, password)


def _engine() -> EngineApi | Unavailable:
    try:
        return EngineApi()
    except LabcheckError as exc:
        return Unavailable(exc.message)


def _push_logs(engine: EngineApi | Unavailable, targets: Mapping[str, Target]) -> dict[str, PushLog | Unavailable]:
    if isinstance(engine, Unavailable):
        return dict.fromkeys(targets, engine)
    return {
        s: observe_push_log(engine, t.container_id, t.host, t.credentials.username if t.credentials else None)
        for s, t in sorted(targets.items())
    }


def _observe(client: RegistryClient, ref: RepoRef, needs: Needs) -> RepoState | Unavailable:
    key = (ref.service, ref.repository)
    return observe_repository(client, ref, needs.repos[key], needs.tags.get(key, frozenset()))


def _engine_state(engine: EngineApi | Unavailable) -> EngineState | Unavailable:
    return engine if isinstance(engine, Unavailable) else observe_engine(engine)


def _docker(engine: EngineApi | Unavailable, config: str | None) -> DockerState | Unavailable:
    return (
        engine
        if isinstance(engine, Unavailable)
        else observe_docker(engine, Path(config) if config else docker_config_dir())
    )
