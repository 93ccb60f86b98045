"""The application layer: a lab prepared once, for the CLI, `verify`, the classroom and the site.

Preparing a lab means: load and validate its spec (check kinds included), find the running
instance when there is one, render the templates with that instance's addresses and logins
and the learner's values, and say where each service is read (its targets). Every caller
gets the same `PreparedLab`, so none of them repeats those steps:

    spec -> environment (state) -> context and rendered spec -> targets -> grade -> results

What depends only on the spec file and the context (the validated spec, its rendering and
every check's parsed arguments) is kept in labcheck.disk_cache between runs: a grade pays
for it once per spec and per running instance, not every time.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from labcheck import disk_cache
from labcheck.checks.base import Args
from labcheck.checks.catalog import parsed_args, validate_check
from labcheck.environment.state import LabState, check_services, load_state, require_state
from labcheck.errors import UsageError
from labcheck.grading import grade, select
from labcheck.observe.gather import Target, lab_targets
from labcheck.results import LabResult
from labcheck.spec.loader import lab_path, parse_lab, read_text
from labcheck.spec.model import ExerciseSpec, LabSpec
from labcheck.spec.render import exports, render_lab, template_context


def load_lab(lab: str) -> LabSpec:
    """A lab spec by id (or path), validated: its structure, templates, and each check's kind
    and arguments (the check kinds live above the spec layer, so they are checked here).

    A spec validated before, from the same bytes by the same labcheck, comes from the cache."""
    path = lab_path(lab)
    text = read_text(path)
    key = disk_cache.cache_key("lab", lab, str(path.resolve()), text)
    cached = disk_cache.load(key)
    if isinstance(cached, LabSpec):
        return cached
    spec, rendered = parse_lab(lab, path, text)
    where = spec.folder / "lab.yaml"
    for i, ex in enumerate(rendered.exercises):
        for j, check in enumerate(ex.checks):
            validate_check(check, spec, f"{where}: exercises.{i}.checks.{j}")
    spec._source_key = key
    disk_cache.store(key, spec)
    return spec


def lab_context(
    spec: LabSpec,
    *,
    state: LabState | None = None,
    learner: str | None = None,
    addresses: Mapping[str, str] | None = None,
    users: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The names templates use: each service's address and login user and the learner's values.

    A service is named where it runs (the instance's `state`), else on its default port;
    `addresses` and `users` override both (a remote registry, a workshop's shared one).
    """
    hosts, logins = _where(spec, state, addresses, users)
    return template_context(spec, hosts, logins, learner)


def _where(
    spec: LabSpec, state: LabState | None, addresses: Mapping[str, str] | None, users: Mapping[str, str] | None
) -> tuple[dict[str, str], dict[str, str]]:
    """Each service's address and login user (see lab_context)."""
    hosts = {name: f"localhost:{svc.port}" for name, svc in spec.services.items()}
    logins = {name: user for name, svc in spec.services.items() if (user := svc.login_user)}
    if state is not None:
        hosts.update(state.hosts())
        logins.update(state.usernames())
    hosts.update(addresses or {})
    logins.update(users or {})
    return hosts, logins


@dataclass(frozen=True)
class _Rendered:
    """What rendering a spec for one place and learner makes (kept in the cache)."""

    context: dict[str, str]
    spec: LabSpec
    args: dict[tuple[str, str], Args]


def _render(
    spec: LabSpec, hosts: dict[str, str], logins: dict[str, str], learner: str | None, *, keep: bool
) -> _Rendered:
    """The context for these addresses, logins and learner, the spec rendered in it and each
    check's parsed arguments (catalog.parsed_args); with `keep`, from the cache when this spec
    (read by load_lab) was rendered for them before, else kept there for the next time."""
    key = None
    if keep and spec.source_key is not None:
        where = json.dumps([hosts, logins, learner], sort_keys=True)
        key = disk_cache.cache_key("rendered", spec.source_key, where)
        cached = disk_cache.load(key)
        if isinstance(cached, _Rendered):
            return cached
    context = template_context(spec, hosts, logins, learner)
    rendered = render_lab(spec, context)
    made = _Rendered(context, rendered, parsed_args(rendered))
    if key is not None:
        disk_cache.store(key, made)
    return made


def lab_state(spec: LabSpec, instance: str | None, *, required: bool) -> LabState | None:
    """The state of the instance (default: the lab's id) running `spec`: None, or LabNotRunning
    when `required`, if it has none; a UsageError if it runs another lab; StateDamaged if it
    lacks one of the lab's services."""
    name = instance or spec.id
    state = require_state(name) if required else load_state(name)
    if state is None:
        return None
    if state.lab != spec.id:
        raise UsageError(f"instance {state.instance!r} runs lab {state.lab!r}, not {spec.id!r}")
    return check_services(state, spec.services)


@dataclass(frozen=True)
class PreparedLab:
    """A lab ready to show or grade: its spec rendered in one context, and its targets."""

    spec: LabSpec  # as written (validated)
    rendered: LabSpec  # templates rendered in `context`
    context: Mapping[str, str]
    targets: Mapping[str, Target] = field(default_factory=dict)
    state: LabState | None = None
    learner: str | None = None  # a workshop learner's id: their own values
    remote: bool = False  # graded on --registry: only the checks marked `remote`
    ecr: bool = False  # that registry is an AWS ECR
    args: Mapping[tuple[str, str], Args] = field(default_factory=dict)  # parsed, by exercise and check id

    def exercises(self, ids: Sequence[str] = ()) -> list[ExerciseSpec]:
        """The rendered exercises named (all when none); UsageError for an unknown id."""
        return select(self.rendered, ids)

    def exports(self) -> dict[str, str]:
        """The lab's `exports` (LAB_APP, LAB_VERSION, ...) with this context's values."""
        return exports(self.spec, self.context)

    def grade(
        self, ids: Sequence[str] = (), *, workspace: Path | None = None, docker_config: str | None = None
    ) -> LabResult:
        """Grade the exercises named (all when none) against the targets."""
        result = grade(
            self.rendered,
            self.exercises(ids),
            self.targets,
            workspace=workspace,
            docker_config=docker_config,
            remote=self.remote,
            ecr=self.ecr,
            args=self.args,
        )
        return replace(result, learner=self.learner)  # the report says whose values it graded


def prepare(
    spec: LabSpec,
    *,
    state: LabState | None = None,
    learner: str | None = None,
    addresses: Mapping[str, str] | None = None,
    users: Mapping[str, str] | None = None,
    targets: Mapping[str, Target] | None = None,
    remote: bool = False,
    ecr: bool = False,
    keep: bool = False,
) -> PreparedLab:
    """`spec` rendered for `state` (or its default ports) and `learner`; its targets are the
    running lab's unless given (a remote registry), none without a lab (the site, hints).
    `keep`: the rendering is worth caching (a lab graded again and again, not one of a class's
    hundreds of learners, whose renderings would each be written once and read never)."""
    hosts, logins = _where(spec, state, addresses, users)
    made = _render(spec, hosts, logins, learner, keep=keep)
    if targets is None:
        targets = lab_targets(state) if state is not None else {}
    return PreparedLab(spec, made.spec, made.context, dict(targets), state, learner, remote, ecr, made.args)


def open_lab(
    lab: str | LabSpec,
    *,
    instance: str | None = None,
    learner: str | None = None,
    running: bool = True,
    addresses: Mapping[str, str] | None = None,
    users: Mapping[str, str] | None = None,
) -> PreparedLab:
    """The lab as its running instance has it; with `running=False` also when it is not up
    (then on its default ports, with no targets: for hints and instructions)."""
    spec = load_lab(lab) if isinstance(lab, str) else lab
    state = lab_state(spec, instance, required=running)
    return prepare(spec, state=state, learner=learner, addresses=addresses, users=users, keep=True)


def open_remote(
    lab: str | LabSpec,
    registry: str,
    *,
    namespace: str | None = None,
    insecure: bool = False,
    ecr_region: str | None = None,
    learner: str | None = None,
) -> PreparedLab:
    """The lab graded on another registry (Docker Hub, GHCR, Harbor, an AWS ECR), with the
    Docker login for it, or a login from AWS when it is an ECR (whose API is then AWS's in its
    region). The registry is asked once first, so a closed one is one clear error, not N."""
    from labcheck.registry import Credentials, credentials_for, probe
    from labcheck.registry.ecr import ecr_login, parse_ecr_host
    from labcheck.registry.ecr import ecr_region as region_of

    spec = load_lab(lab) if isinstance(lab, str) else lab
    region = region_of(registry, ecr_region)
    creds: Credentials | None
    if region is not None:
        host = parse_ecr_host(registry)
        account, fips = (host.account, host.fips) if host else (None, False)
        creds = ecr_login(region, account=account, fips=fips)
    else:
        creds = credentials_for(registry)
    probe(registry, credentials=creds, insecure=True if insecure else None)
    on_registry = Target(registry, creds, True if insecure else None)
    aws = Target(registry, region=region, aws=True)
    targets = {n: aws if s.kind == "ecr-api" and region else on_registry for n, s in spec.services.items()}
    users = {n: user for n, s in spec.services.items() if (user := namespace or s.username)}
    return prepare(
        spec,
        learner=learner,
        addresses=dict.fromkeys(spec.services, registry),
        users=users,
        targets=targets,
        remote=True,
        ecr=region is not None,
    )
