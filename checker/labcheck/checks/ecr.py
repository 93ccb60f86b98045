"""Check kinds about AWS ECR: the repository exists in the ECR API, pushes came from the ECR login."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import Field

from labcheck.checks.base import Args, CheckKind, Context, Needs, RepoArgs, ecr_state, push_log, see
from labcheck.observe.model import Observations
from labcheck.results import Outcome


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%H:%M:%S UTC")


class EcrRepositoryArgs(Args):
    service: str  # the ecr-api service
    registry: str  # the registry service images are pushed to (its log dates the first push)
    repository: str = Field(pattern=r"^[a-z0-9]+([._/-][a-z0-9]+)*$")


class EcrRepository(CheckKind[EcrRepositoryArgs]):
    """The ECR API has the repository, and had it before the first push to it.

    Real ECR refuses a push to a repository that does not exist ("name unknown"); the lab's
    registry:2 stand-in accepts it, so the order is read from the registry's own log. On AWS
    itself (`labcheck run --registry <account>.dkr.ecr...`) the repository existing is enough.
    """

    name = "ecr_repository"
    args_model = EcrRepositoryArgs

    def needs(self, args: EcrRepositoryArgs) -> Needs:
        return Needs(ecr_apis=frozenset([args.service]), push_logs=frozenset([args.registry]))

    def evaluate(self, args: EcrRepositoryArgs, obs: Observations, ctx: Context) -> Outcome:
        ecr = ecr_state(obs, args.service)
        if isinstance(ecr, Outcome):
            return ecr
        create = f"`aws ecr create-repository --repository-name {args.repository}`"
        repo = ecr.repositories.get(args.repository)
        if repo is None:
            known = ", ".join(sorted(ecr.repositories)) or "none"
            return Outcome.failed(
                f"the ECR API has no repository {args.repository} (repositories: {known})",
                f"ECR refuses pushes to a repository that does not exist (`name unknown`): create it "
                f"first with {create}{see(ctx)}",
            )
        evidence = {"created": _when(repo.created)}
        if ecr.aws:  # real ECR refused any push before this; its registry log is not ours to read
            return Outcome.passed(f"the ECR repository {args.repository} exists in {ecr.endpoint}", evidence)
        log = push_log(obs, args.registry)
        if isinstance(log, Outcome):
            return log
        pushes = log.of(args.repository)
        if pushes:
            evidence["first push"] = _when(pushes[0].time)
        if pushes and pushes[0].time < repo.created:
            return Outcome.failed(
                f"{args.repository} was pushed at {_when(pushes[0].time)}, before the repository was "
                f"created at {_when(repo.created)}",
                f"you pushed before creating the repository: real ECR refuses that push with `name unknown` "
                f"(the lab's stand-in let it through); run {create} before the first push{see(ctx)}",
                evidence,
            )
        return Outcome.passed(f"the ECR repository {args.repository} exists", evidence)


class PushedByArgs(RepoArgs):
    tag: str
    user: str


class PushedBy(CheckKind[PushedByArgs]):
    """The registry's log shows the tag's push authenticated as `user`."""

    name = "pushed_by"
    args_model = PushedByArgs

    def needs(self, args: PushedByArgs) -> Needs:
        return Needs(push_logs=frozenset([args.service]))

    def evaluate(self, args: PushedByArgs, obs: Observations, ctx: Context) -> Outcome:
        log = push_log(obs, args.service)
        if isinstance(log, Outcome):
            return log
        ref = f"{ctx.hosts[args.service]}/{args.repository}:{args.tag}"
        pushes = log.of(args.repository, args.tag)
        if not pushes:
            return Outcome.failed(
                f"the registry's log shows no push of {ref}",
                f"log in with `--username {args.user} --password-stdin`, then `docker push {ref}`{see(ctx)}",
            )
        last = pushes[-1]
        evidence = {"pushed by": last.user or "(anonymous)", "at": _when(last.time)}
        if last.user != args.user:
            return Outcome.failed(
                f"{ref} was pushed as {last.user or 'an anonymous user'}, not {args.user}",
                f"log Docker in as {args.user} before pushing{see(ctx)}",
                evidence,
            )
        return Outcome.passed(f"{ref} was pushed by user {args.user}", evidence)
