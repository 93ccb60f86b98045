"""Check kinds about single tags: is it there, is it a semantic version."""

from __future__ import annotations

from pydantic import field_validator

from labcheck.checks.base import (
    CheckKind,
    Context,
    RepoArgs,
    docker_state,
    repo_state,
    see,
)
from labcheck.observe.model import Observations, RepoState
from labcheck.observe.needs import Needs
from labcheck.results import Outcome
from labcheck.versions import SEMVER, VERSIONISH


class TagArgs(RepoArgs):
    tag: str


def missing_tag_hint(state: RepoState, tag: str, obs: Observations, ctx: Context) -> str:
    """Why a tag is not in the registry, from what the learner has locally and remotely."""
    ref = state.ref
    wanted = ref.ref(tag)
    docker = docker_state(obs)
    if not isinstance(docker, Outcome):
        if docker.tagged(wanted):
            return f"{wanted} exists locally but was not pushed: run `docker push {wanted}`{see(ctx)}"
        hostless = [t for t in docker.tags_named(f"{ref.repository}:{tag}") if not _has_host(t)]
        if hostless:
            elsewhere = hostless
            return (
                f"you tagged {elsewhere[0]} without the registry host {ref.host}, so a push would "
                f"go to Docker Hub: `docker tag {elsewhere[0]} {wanted}` and push that{see(ctx)}"
            )
    if state.tags or state.unresolved:
        shown = sorted(state.tags)[:_LISTED_IN_HINTS]
        more = len(state.tags) + state.unresolved - len(shown)
        pushed = ", ".join(f":{t}" for t in shown) + (f" and {more} more" if more else "")
        return f"you pushed {pushed} but not :{tag}: tag the image as {wanted} and push it{see(ctx)}"
    return f"nothing is in {ref.host}/{ref.repository} yet: `docker tag` the image as {wanted} and push it{see(ctx)}"


_LISTED_IN_HINTS = 10  # tags named in a "you pushed ..." hint; the rest are counted


def _has_host(reference: str) -> bool:
    """Does a reference start with a registry host (has '.' or ':' or is localhost), as Docker decides?"""
    first, sep, _ = reference.partition("/")
    return bool(sep) and ("." in first or ":" in first or first == "localhost")


def _repo_needs(args: RepoArgs, docker: bool = True) -> Needs:
    return Needs(repos={(args.service, args.repository): frozenset()}, docker=docker)


class TagExists(CheckKind[TagArgs]):
    """The tag is in the registry."""

    name = "tag_exists"
    args_model = TagArgs

    def needs(self, args: TagArgs) -> Needs:
        return _repo_needs(args)

    def evaluate(self, args: TagArgs, obs: Observations, ctx: Context) -> Outcome:
        state = repo_state(obs, ctx, args.service, args.repository)
        if isinstance(state, Outcome):
            return state
        wanted = state.ref.ref(args.tag)
        info = state.tags.get(args.tag)
        if info is None:
            return Outcome.failed(f"{wanted} is not in the registry", missing_tag_hint(state, args.tag, obs, ctx))
        return Outcome.passed(f"{wanted} is in the registry", {wanted: info.digest})


class SemverTagArgs(TagArgs):
    @field_validator("tag")
    @classmethod
    def _is_semver(cls, tag: str) -> str:
        if not SEMVER.match(tag):
            raise ValueError(f"{tag!r} is not a semantic version (MAJOR.MINOR.PATCH)")
        return tag


class SemverTag(CheckKind[SemverTagArgs]):
    """A semantic-version tag is in the registry; near misses such as v1.0 get a hint."""

    name = "semver_tag"
    args_model = SemverTagArgs

    def needs(self, args: SemverTagArgs) -> Needs:
        return _repo_needs(args)

    def evaluate(self, args: SemverTagArgs, obs: Observations, ctx: Context) -> Outcome:
        state = repo_state(obs, ctx, args.service, args.repository)
        if isinstance(state, Outcome):
            return state
        wanted = state.ref.ref(args.tag)
        info = state.tags.get(args.tag)
        if info is not None:
            return Outcome.passed(f"{wanted} is a semantic version in the registry", {wanted: info.digest})
        near = _near_misses(state, args.tag)
        if near:
            hint = (
                f"you pushed {', '.join(':' + t for t in near)}: a semantic version has three "
                f"numbers, MAJOR.MINOR.PATCH; tag and push :{args.tag}{see(ctx)}"
            )
        else:
            hint = missing_tag_hint(state, args.tag, obs, ctx)
        return Outcome.failed(f"{wanted} is not in the registry", hint)


def _near_misses(state: RepoState, wanted: str) -> list[str]:
    """Version-like tags that are not full semantic versions but start the wanted one (v1.0)."""
    core = wanted.lstrip("v")
    return sorted(
        t for t in state.tags if not SEMVER.match(t) and VERSIONISH.match(t) and core.startswith(t.lstrip("v"))
    )
