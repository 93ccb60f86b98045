"""Check kinds comparing images behind tags: same image, different builds, labels."""

from __future__ import annotations

from pydantic import Field

from labcheck.checks.base import CheckKind, Context, RepoArgs, repo_state, see, short
from labcheck.checks.tags import TagArgs, missing_tag_hint
from labcheck.observe.model import Observations, RepoState
from labcheck.observe.needs import Needs
from labcheck.results import Outcome
from labcheck.versions import semver_key


class TagsArgs(RepoArgs):
    tags: tuple[str, ...] = Field(min_length=2)


def _needs(args: RepoArgs) -> Needs:
    return Needs(repos={(args.service, args.repository): frozenset()}, docker=True)


def _present(args: RepoArgs, tags: tuple[str, ...], obs: Observations, ctx: Context) -> RepoState | Outcome:
    """The repository when every tag is in it; else an error (not observed) or a fail with a hint."""
    state = repo_state(obs, ctx, args.service, args.repository)
    if isinstance(state, Outcome):
        return state
    for tag in tags:
        if tag not in state.tags:
            return Outcome.failed(
                f"{state.ref.ref(tag)} is not in the registry", missing_tag_hint(state, tag, obs, ctx)
            )
    return state


def _evidence(state: RepoState, tags: tuple[str, ...] | list[str]) -> dict[str, str]:
    return {state.ref.ref(t): state.tags[t].digest for t in tags if t in state.tags}


class SameImage(CheckKind[TagsArgs]):
    """The other tags are the first tag's image: promoted by retagging, not rebuilt."""

    name = "same_image"
    args_model = TagsArgs

    def needs(self, args: TagsArgs) -> Needs:
        return _needs(args)

    def evaluate(self, args: TagsArgs, obs: Observations, ctx: Context) -> Outcome:
        state = _present(args, args.tags, obs, ctx)
        if isinstance(state, Outcome):
            return state
        base = args.tags[0]  # the release every other tag must point at
        names = ", ".join(args.tags)
        for tag in args.tags[1:]:
            if state.same_image(tag, base):
                continue
            digest = state.tags[tag].digest
            also = sorted(t for t in state.tags if t not in args.tags and state.tags[t].digest == digest)
            where = f" (the image of :{also[0]})" if also else ""
            hint = (
                f":{tag} is {short(digest)}{where}, :{base} is {short(state.tags[base].digest)}: "
                f"they are different builds. Do not rebuild: `docker tag {state.ref.ref(base)} "
                f"{state.ref.ref(tag)}` and push :{tag}{see(ctx)}"
            )
            if not also:
                hint = f"you rebuilt between the tags; {hint}"
            return Outcome.failed(f":{tag} and :{base} are different images", hint, _evidence(state, args.tags))
        return Outcome.passed(f"{names} are one image", _evidence(state, args.tags))


class DifferentImages(CheckKind[TagsArgs]):
    """The tags are different builds (e.g. two releases)."""

    name = "different_images"
    args_model = TagsArgs

    def needs(self, args: TagsArgs) -> Needs:
        return _needs(args)

    def evaluate(self, args: TagsArgs, obs: Observations, ctx: Context) -> Outcome:
        state = _present(args, args.tags, obs, ctx)
        if isinstance(state, Outcome):
            return state
        for i, a in enumerate(args.tags):
            for b in args.tags[i + 1 :]:
                if state.same_image(a, b):
                    return Outcome.failed(
                        f":{a} and :{b} are the same image ({short(state.tags[a].digest)})",
                        f"change the app (e.g. version.txt), rebuild, and tag the new build; "
                        f":{a} and :{b} must be different releases{see(ctx)}",
                        _evidence(state, args.tags),
                    )
        return Outcome.passed(f"{', '.join(args.tags)} are different images", _evidence(state, args.tags))


class ReleaseArgs(RepoArgs):
    version: str
    latest: str = "latest"


class ReleaseTrackedByLatest(CheckKind[ReleaseArgs]):
    """latest was the release when it was published: latest equals the version, or a newer one.

    A later exercise moving latest on to v1.1.0 must not fail the exercise that released v1.0.0.
    """

    name = "release_tracked_by_latest"
    args_model = ReleaseArgs

    def needs(self, args: ReleaseArgs) -> Needs:
        return _needs(args)

    def evaluate(self, args: ReleaseArgs, obs: Observations, ctx: Context) -> Outcome:
        tags = (args.latest, args.version)
        state = _present(args, tags, obs, ctx)
        if isinstance(state, Outcome):
            return state
        evidence = _evidence(state, tags)
        if state.same_image(args.latest, args.version):
            return Outcome.passed(f":{args.latest} and :{args.version} are one image", evidence)
        floor = semver_key(args.version)
        later = sorted((key, t) for t in state.tags if floor and (key := semver_key(t)) and key > floor)
        newer = [t for _, t in later if state.same_image(args.latest, t)]
        if newer:
            evidence.update(_evidence(state, newer))
            return Outcome.passed(f":{args.latest} has moved on to the newer release :{newer[0]}", evidence)
        latest, version = state.tags[args.latest].digest, state.tags[args.version].digest
        return Outcome.failed(
            f":{args.latest} and :{args.version} are different images",
            f":{args.latest} is {short(latest)}, :{args.version} is {short(version)}: you rebuilt "
            f"between the two tags; tag the same image twice and push both{see(ctx)}",
            evidence,
        )


class LabelArgs(TagArgs):
    label: str
    value: str


class ImageLabel(CheckKind[LabelArgs]):
    """The image behind a tag carries a label (e.g. the lab app's own)."""

    name = "image_label"
    args_model = LabelArgs

    def needs(self, args: LabelArgs) -> Needs:
        return _needs(args)

    def evaluate(self, args: LabelArgs, obs: Observations, ctx: Context) -> Outcome:
        state = _present(args, (args.tag,), obs, ctx)
        if isinstance(state, Outcome):
            return state
        info = state.tags[args.tag]
        found = info.labels.get(args.label)
        evidence = {state.ref.ref(args.tag): info.digest, f"label {args.label}": found or "(none)"}
        if found == args.value:
            return Outcome.passed(f"the image carries {args.label}={args.value}", evidence)
        return Outcome.failed(
            f"the image does not carry {args.label}={args.value}",
            f"build the image from the lab app's Dockerfile (`labcheck workspace` makes a copy), "
            f"it sets {args.label}={args.value}{see(ctx)}",
            evidence,
        )
