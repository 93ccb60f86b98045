"""Check kinds about the learner's machine: pulled images, stored credentials, scripts."""

from __future__ import annotations

from labcheck.checks.base import (
    CheckKind,
    Context,
    RepoArgs,
    docker_state,
    repo_state,
    see,
    short,
    workspace_state,
)
from labcheck.checks.tags import TagArgs, missing_tag_hint
from labcheck.observe.model import Observations
from labcheck.observe.needs import Needs
from labcheck.results import Outcome


class PulledFromRegistry(CheckKind[TagArgs]):
    """The local image for host/repo:tag is the registry's: RepoDigests holds its digest, or
    (containerd image store) its ID is that digest.

    With the containerd image store (Docker Desktop 4.34+, Engine 29) the image ID is the
    digest of the manifest or index that `docker push` sends, and the image list's RepoDigests
    may name only one of an image's repositories (Engine 26 lists one). The classic store's ID
    is a config digest, never a manifest's.
    """

    name = "pulled_from_registry"
    args_model = TagArgs

    def needs(self, args: TagArgs) -> Needs:
        return Needs(repos={(args.service, args.repository): frozenset()}, docker=True)

    def evaluate(self, args: TagArgs, obs: Observations, ctx: Context) -> Outcome:
        state = repo_state(obs, ctx, args.service, args.repository)
        if isinstance(state, Outcome):
            return state
        docker = docker_state(obs)
        if isinstance(docker, Outcome):
            return docker
        ref = state.ref.ref(args.tag)
        info = state.tags.get(args.tag)
        if info is None:
            hint = missing_tag_hint(state, args.tag, obs, ctx)
            return Outcome.failed(f"{ref} is not in the registry, so it cannot be pulled", hint)
        image = docker.tagged(ref)
        if image is None:
            return Outcome.failed(
                f"there is no local image {ref}",
                f"pull it by its tag: `docker pull {ref}`{see(ctx)}",
                {ref: info.digest},
            )
        wanted = f"{state.ref.familiar}@{info.digest}"
        evidence = {
            ref: info.digest,
            "local RepoDigests": ", ".join(image.repo_digests) or "(none)",
        }
        if wanted in image.repo_digests or image.id == info.digest:
            return Outcome.passed(f"the local {ref} is the registry's {short(info.digest)}", evidence)
        if not image.repo_digests:
            hint = (
                f"the local {ref} was built or tagged here, never pulled: `docker rmi {ref}` then `docker pull {ref}`"
            )
        else:
            hint = f"the local {ref} is another image than the registry's: `docker pull {ref}` to update it"
        return Outcome.failed(f"the local {ref} is not the registry's image", hint + see(ctx), evidence)


class PublishedArgs(RepoArgs):
    """A repository the learner publishes to: absence checks are graded only after that."""


def _published(args: PublishedArgs, obs: Observations, ctx: Context) -> Outcome | None:
    """None once the learner has pushed to the repository; else why we cannot credit them yet."""
    state = repo_state(obs, ctx, args.service, args.repository)
    if isinstance(state, Outcome):
        return state
    if not state.tags:
        where = f"{state.ref.host}/{state.ref.repository}"
        return Outcome.failed(f"nothing is published in {where} yet", f"publish to {where} first{see(ctx)}")
    return None


class LoggedOut(CheckKind[PublishedArgs]):
    """After publishing, no credentials for the service remain in the Docker config."""

    name = "logged_out"
    args_model = PublishedArgs

    def needs(self, args: PublishedArgs) -> Needs:
        return Needs(repos={(args.service, args.repository): frozenset()}, docker=True)

    def evaluate(self, args: PublishedArgs, obs: Observations, ctx: Context) -> Outcome:
        if (pending := _published(args, obs, ctx)) is not None:
            return pending
        docker = docker_state(obs)
        if isinstance(docker, Outcome):
            return docker
        host = ctx.hosts[args.service]
        if host in docker.logged_in:
            return Outcome.failed(
                f"the Docker config still holds credentials for {host}",
                f"log out when you are done: `docker logout {host}`{see(ctx)}",
            )
        return Outcome.passed(f"no credentials for {host} are stored")


class NoInlinePassword(CheckKind[PublishedArgs]):
    """After publishing, no workspace file runs `docker login` with the password on its command line."""

    name = "no_inline_password"
    args_model = PublishedArgs

    def needs(self, args: PublishedArgs) -> Needs:
        return Needs(repos={(args.service, args.repository): frozenset()}, workspace_files=frozenset())

    def evaluate(self, args: PublishedArgs, obs: Observations, ctx: Context) -> Outcome:
        if (pending := _published(args, obs, ctx)) is not None:
            return pending
        ws = workspace_state(obs)
        if isinstance(ws, Outcome):
            return ws
        if not ws.inline_passwords:
            return Outcome.passed("no docker login in the workspace passes a password with -p")
        first = ws.inline_passwords[0]
        where = ", ".join(f"{p.path}:{p.line}" for p in ws.inline_passwords)
        return Outcome.failed(
            f"{where}: docker login with the password on the command line",
            f"{first.path} line {first.line} passes the password with -p/--password, where shell "
            f"history and `ps` can see it: pipe it instead, "
            f'`echo "$HUB_PASSWORD" | docker login HOST -u USER --password-stdin`{see(ctx)}',
            {"files": where},
        )
