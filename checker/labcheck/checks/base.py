"""The interface every check kind implements, and what it may ask observations for.

A check kind is pure: `needs()` says which observations it reads, `evaluate()` turns them
into an Outcome. It never talks to the network, so a run makes each request once and
every kind is unit-testable with hand-made observations.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from labcheck.observe.model import (
    DockerState,
    EcrState,
    Observations,
    PushLog,
    RepoRef,
    RepoState,
    Unavailable,
    WorkspaceState,
)
from labcheck.observe.needs import Needs
from labcheck.results import Outcome


class Args(BaseModel):
    """Base of every kind's arguments: frozen, unknown keys refused."""

    # built on first validation: a run whose arguments come parsed from the cache never does
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class RepoArgs(Args):
    """Arguments naming a repository on one of the lab's services."""

    service: str
    repository: str = Field(pattern=r"^[a-z0-9]+([._/-][a-z0-9]+)*$")


#: The args fields that name tags, by convention across kinds (`tag: latest`, `tags: [...]`).
TAG_FIELDS = ("tag", "tags", "latest", "version")


def named_tags(args: Args) -> frozenset[str]:
    """The tags a check's args name."""
    named: set[str] = set()
    for name in TAG_FIELDS:
        value = getattr(args, name, None)
        if isinstance(value, str):
            named.add(value)
        elif isinstance(value, tuple | list):
            named.update(v for v in value if isinstance(v, str))
    return frozenset(named)


@dataclass(frozen=True)
class Context:
    """What a kind may know besides observations: where services are, where lessons live."""

    hosts: Mapping[str, str]  # service -> host:port
    lesson: str = ""

    def ref(self, service: str, repository: str) -> RepoRef:
        return RepoRef(service, self.hosts[service], repository)


A = TypeVar("A", bound=Args)


class CheckKind(ABC, Generic[A]):
    """A kind of check: a name for lab.yaml, an Args model, needs and a pure evaluation."""

    name: ClassVar[str]
    args_model: type[A]

    def parse(self, raw: Mapping[str, Any]) -> A:
        return self.args_model.model_validate(dict(raw))

    @abstractmethod
    def needs(self, args: A) -> Needs:
        """The observations evaluate() reads."""

    def observations(self, args: A) -> Needs:
        """needs(), with the tags the args name marked on each repository read."""
        needs = self.needs(args)
        tags = named_tags(args)
        return replace(needs, tags={repo: tags for repo in needs.repos}) if tags else needs

    @abstractmethod
    def evaluate(self, args: A, obs: Observations, ctx: Context) -> Outcome:
        """Pass, fail (with a hint from what the learner did) or error."""


Obs = TypeVar("Obs")


def _observed(value: Obs | Unavailable | None, what: str) -> Obs | Outcome:
    """An observation, or the error Outcome saying why there is none (never the learner's fault)."""
    if value is None:
        return Outcome.errored(f"{what} was not observed (a labcheck bug)")
    if isinstance(value, Unavailable):
        return Outcome.errored(value.reason)
    return value


def repo_state(obs: Observations, ctx: Context, service: str, repository: str) -> RepoState | Outcome:
    """The repository's observed state, or an error Outcome when it could not be observed."""
    return _observed(obs.repos.get((service, repository)), f"{ctx.hosts[service]}/{repository}")


def ecr_state(obs: Observations, service: str) -> EcrState | Outcome:
    """The ECR API's observed repositories, or an error Outcome."""
    return _observed(obs.ecr.get(service), f"the ECR API {service!r}")


def push_log(obs: Observations, service: str) -> PushLog | Outcome:
    """A lab registry's push log, or an error Outcome."""
    return _observed(obs.push_logs.get(service), f"the log of service {service!r}")


def docker_state(obs: Observations) -> DockerState | Outcome:
    """The local daemon's state, or an error Outcome."""
    return _observed(obs.docker, "the Docker daemon")


def workspace_state(obs: Observations) -> WorkspaceState | Outcome:
    """The learner's workspace, or an error Outcome."""
    return _observed(obs.workspace, "the workspace")


def short(digest: str) -> str:
    """sha256:0123456789ab… for messages; evidence keeps the full digest."""
    return digest[:19] + "…" if len(digest) > 19 else digest


def see(ctx: Context) -> str:
    """A pointer to the lesson that explains the fix."""
    return f" (see {ctx.lesson} on the course site)" if ctx.lesson else ""
