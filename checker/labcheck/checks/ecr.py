"""Check kinds about AWS ECR, graded from the ECR API (and who pushed, from the lab registry's log).

The lab's stand-in refuses what ECR refuses (a push before the repository exists, an
overwritten tag in an IMMUTABLE repository): a refused push left nothing behind, so these
kinds grade the final state, as they would on AWS.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pydantic import Field

from labcheck.checks.base import Args, CheckKind, Context, RepoArgs, ecr_state, push_log, see
from labcheck.observe.model import EcrRepository as Repository
from labcheck.observe.model import EcrState, Observations
from labcheck.observe.needs import Needs
from labcheck.results import Outcome


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%H:%M:%S UTC")


class EcrRepositoryArgs(Args):
    service: str  # the ecr-api service
    repository: str = Field(pattern=r"^[a-z0-9]+([._/-][a-z0-9]+)*$")


def _repository(obs: Observations, args: EcrRepositoryArgs, ctx: Context) -> tuple[EcrState, Repository] | Outcome:
    """The ECR API's state and the repository, or the Outcome saying why not: an error when the
    API could not be read, a fail with how to create the repository when it does not exist."""
    ecr = ecr_state(obs, args.service)
    if isinstance(ecr, Outcome):
        return ecr
    repo = ecr.repositories.get(args.repository)
    if repo is not None:
        return ecr, repo
    known = ", ".join(sorted(ecr.repositories)) or "none"
    return Outcome.failed(
        f"the ECR API has no repository {args.repository} (repositories: {known})",
        f"create it with `aws ecr create-repository --repository-name {args.repository}`: ECR refuses every push "
        f"to a repository that does not exist (`name unknown`), then takes the same push again{see(ctx)}",
    )


class _RepositorySetting(CheckKind[EcrRepositoryArgs]):
    """A kind about one repository as the ECR API describes it."""

    args_model = EcrRepositoryArgs

    def needs(self, args: EcrRepositoryArgs) -> Needs:
        return Needs(ecr_apis=frozenset([args.service]))


class EcrRepository(_RepositorySetting):
    """The ECR API has the repository."""

    name = "ecr_repository"

    def evaluate(self, args: EcrRepositoryArgs, obs: Observations, ctx: Context) -> Outcome:
        found = _repository(obs, args, ctx)
        if isinstance(found, Outcome):
            return found
        ecr, repo = found
        evidence = {"created": _when(repo.created)}
        return Outcome.passed(f"the ECR repository {args.repository} exists in {ecr.endpoint}", evidence)


class EcrImmutableTags(_RepositorySetting):
    """The repository's tags are immutable: a pushed version can never be overwritten."""

    name = "ecr_immutable_tags"

    def evaluate(self, args: EcrRepositoryArgs, obs: Observations, ctx: Context) -> Outcome:
        found = _repository(obs, args, ctx)
        if isinstance(found, Outcome):
            return found
        _ecr, repo = found
        evidence = {"imageTagMutability": repo.tag_mutability}
        if repo.tag_mutability == "IMMUTABLE":
            return Outcome.passed(f"{args.repository}'s tags are immutable", evidence)
        return Outcome.failed(
            f"{args.repository}'s tags are {repo.tag_mutability}: a push can move any tag to another image",
            f"make them immutable: `aws ecr put-image-tag-mutability --repository-name {args.repository} "
            f"--image-tag-mutability IMMUTABLE` (or create the repository with `--image-tag-mutability "
            f"IMMUTABLE`){see(ctx)}",
            evidence,
        )


class EcrScanOnPush(_RepositorySetting):
    """ECR scans every image pushed to the repository."""

    name = "ecr_scan_on_push"

    def evaluate(self, args: EcrRepositoryArgs, obs: Observations, ctx: Context) -> Outcome:
        found = _repository(obs, args, ctx)
        if isinstance(found, Outcome):
            return found
        _ecr, repo = found
        evidence = {"scanOnPush": str(repo.scan_on_push).lower()}
        if repo.scan_on_push:
            return Outcome.passed(f"{args.repository} scans images on push", evidence)
        return Outcome.failed(
            f"{args.repository} does not scan images on push",
            f"turn it on: `aws ecr put-image-scanning-configuration --repository-name {args.repository} "
            f"--image-scanning-configuration scanOnPush=true` (or create the repository with "
            f"`--image-scanning-configuration scanOnPush=true`){see(ctx)}",
            evidence,
        )


class EcrLifecycleArgs(EcrRepositoryArgs):
    keep: int = Field(ge=1)  # the number of images the policy keeps


def keep_last(count: int) -> str:
    """The lifecycle policy (JSON, one line) that keeps the last `count` images of a repository."""
    rule = {
        "rulePriority": 1,
        "description": f"keep the last {count} images",
        "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": count},
        "action": {"type": "expire"},
    }
    return json.dumps({"rules": [rule]}, separators=(",", ":"))


def _covers_all(selection: dict[str, Any]) -> bool:
    """Whether a rule's selection takes every image: tagStatus any, or every tag (`*`)."""
    status = str(selection.get("tagStatus", "")).lower()
    return status == "any" or (status == "tagged" and selection.get("tagPatternList") == ["*"])


def _count(selection: dict[str, Any]) -> int:
    number = selection.get("countNumber")
    return number if isinstance(number, int) else 0


class EcrLifecyclePolicy(CheckKind[EcrLifecycleArgs]):
    """The repository's lifecycle policy expires all but the last `keep` images."""

    name = "ecr_lifecycle_policy"
    args_model = EcrLifecycleArgs

    def needs(self, args: EcrLifecycleArgs) -> Needs:
        return Needs(ecr_policies=frozenset([(args.service, args.repository)]))

    def evaluate(self, args: EcrLifecycleArgs, obs: Observations, ctx: Context) -> Outcome:
        found = _repository(obs, args, ctx)
        if isinstance(found, Outcome):
            return found
        ecr, _repo = found
        if args.repository not in ecr.lifecycle_policies:
            return Outcome.errored(f"the lifecycle policy of {args.repository} was not observed (a labcheck bug)")
        put = (
            f"`aws ecr put-lifecycle-policy --repository-name {args.repository} "
            f"--lifecycle-policy-text '{keep_last(args.keep)}'`{see(ctx)}"
        )
        text = ecr.lifecycle_policies[args.repository]
        if text is None:
            return Outcome.failed(f"{args.repository} has no lifecycle policy: its images pile up", f"set one: {put}")
        try:
            rules = [r for r in json.loads(text).get("rules") or () if isinstance(r, dict)]
        except (ValueError, AttributeError):
            rules = []
        expiring = [r for r in rules if (r.get("action") or {}).get("type") == "expire"]
        by_count = [r for r in expiring if (r.get("selection") or {}).get("countType") == "imageCountMoreThan"]
        every = [r for r in by_count if _covers_all(r.get("selection") or {})]
        kept = sorted({_count(r.get("selection") or {}) for r in every})
        evidence = {"lifecycle policy": text}
        if args.keep in kept:
            return Outcome.passed(f"{args.repository}'s lifecycle policy keeps the last {args.keep} images", evidence)
        if kept:
            problem = f"its lifecycle policy keeps the last {' or '.join(map(str, kept))} images, not {args.keep}"
        elif by_count:
            problem = "its count rule selects only some images (untagged, or some tags): the others pile up"
        elif expiring:
            problem = "its lifecycle policy expires images by age (sinceImagePushed), not by count"
        else:
            problem = "its lifecycle policy expires no image"
        return Outcome.failed(f"{args.repository}: {problem}", f"keep the last {args.keep} images: {put}", evidence)


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
