"""Check kinds about multi-platform images: one tag naming one index that holds every platform.

A multi-platform build (`docker buildx build --platform linux/amd64,linux/arm64 --push`)
pushes an image per platform and an index listing them under one tag. The known mistakes are
a build for one platform only, and one tag per platform: the hints say which, from the
platforms each tag of the repository holds. Attestation manifests are not platforms (the
observation leaves them out).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from pydantic import Field, StringConstraints

from labcheck.checks.base import CheckKind, Context, RepoArgs, repo_state, see, short
from labcheck.observe.model import Observations, PlatformImage, RepoState, TagInfo
from labcheck.observe.needs import Needs
from labcheck.results import Outcome

#: os/architecture[/variant], as `docker buildx build --platform` takes it: linux/arm64/v8.
Platform = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+/[a-z0-9_]+(/[a-z0-9]+)?$")]


class PlatformArgs(RepoArgs):
    tag: str
    #: The platforms the tag's index must hold, e.g. [linux/amd64, linux/arm64] (hints name them).
    platforms: tuple[Platform, ...] = Field(min_length=1)


def matches(image: PlatformImage, wanted: str) -> bool:
    """Whether the image is for `wanted` (os/architecture[/variant]; arm64's v8 is its default)."""
    os_, arch, *variant = wanted.split("/")
    got_os, got_arch, *got_variant = image.platform.split("/")
    if (os_, arch) != (got_os, got_arch):
        return False
    default = ["v8"] if arch == "arm64" else []
    return not variant or (got_variant or default) == variant


def _missing(info: TagInfo, platforms: Sequence[str]) -> list[str]:
    return [p for p in platforms if not any(matches(image, p) for image in info.platforms)]


def _held(info: TagInfo) -> str:
    return ", ".join(info.platform_names()) or "no runnable image"


def _build(ref: str, platforms: Sequence[str]) -> str:
    return f"`docker buildx build --platform {','.join(platforms)} -t {ref} --push .`"


def _one_per_tag(state: RepoState, tag: str, platforms: Sequence[str], present: bool) -> list[str]:
    """The other tags that hold a wanted platform on their own: `:2.0.0-arm64 (linux/arm64)`.

    Next to a tag that exists, any tag holding a platform it lacks; when the tag is missing,
    the tags named after it or after an architecture (2.0.0-amd64, arm64) holding a wanted one.
    """
    wanted = _missing(state.tags[tag], platforms) if present else list(platforms)
    arches = {p.split("/")[1] for p in platforms}
    found = []
    for name, info in sorted(state.tags.items()):
        holds = [p for p in wanted if not _missing(info, [p])]
        named = name.startswith(tag) or any(arch in name for arch in arches)
        if name != tag and holds and (present or named):
            found.append(f":{name} ({', '.join(holds)})")
    return found


def _listing(items: Sequence[str]) -> str:
    """`a`, `a and b`, `a, b and c`."""
    return " and ".join([", ".join(items[:-1]), items[-1]] if len(items) > 1 else items)


def _elsewhere(split: Sequence[str]) -> str:
    """`; :2.0.0-arm64 (linux/arm64) is a tag of its own`, or nothing."""
    if not split:
        return ""
    return f"; {_listing(split)} {'is a tag of its' if len(split) == 1 else 'are tags of their'} own"


def _missing_tag(state: RepoState, tag: str, platforms: Sequence[str], ctx: Context) -> Outcome:
    wanted = state.ref.ref(tag)
    build = f"Build every platform at once, into one index: {_build(wanted, platforms)}{see(ctx)}"
    split = _one_per_tag(state, tag, platforms, present=False)
    if split:
        hint = f"you pushed {_listing(split)}, one platform per tag, but no :{tag}: one tag names one index. {build}"
    elif state.tags:
        shown = ", ".join(f":{t}" for t in sorted(state.tags)[:10])
        hint = f"you pushed {shown}{' and more' if len(state.tags) > 10 else ''} but not :{tag}. {build}"
    else:
        hint = f"nothing is in {state.ref.host}/{state.ref.repository} yet. {build}"
    return Outcome.failed(f"{wanted} is not in the registry", hint)


def _needs(args: PlatformArgs) -> Needs:
    return Needs(repos={(args.service, args.repository): frozenset()})


class ImageIndex(CheckKind[PlatformArgs]):
    """The tag names an image index (an OCI index or a Docker manifest list), not one image."""

    name = "image_index"
    args_model = PlatformArgs

    def needs(self, args: PlatformArgs) -> Needs:
        return _needs(args)

    def evaluate(self, args: PlatformArgs, obs: Observations, ctx: Context) -> Outcome:
        state = repo_state(obs, ctx, args.service, args.repository)
        if isinstance(state, Outcome):
            return state
        info = state.tags.get(args.tag)
        if info is None:
            return _missing_tag(state, args.tag, args.platforms, ctx)
        wanted = state.ref.ref(args.tag)
        evidence = {wanted: info.digest, "media type": info.media_type or "(none)", "platforms": _held(info)}
        if info.is_index:
            return Outcome.passed(f"{wanted} is an image index ({_held(info)})", evidence)
        elsewhere = _elsewhere(_one_per_tag(state, args.tag, args.platforms, present=True))
        return Outcome.failed(
            f"{wanted} is a single image ({_held(info)}), not an index",
            f"{wanted} is one image for {_held(info)}{elsewhere}: a push of one build for one platform sends a "
            f"single image. Build every platform at once, which pushes one index: "
            f"{_build(wanted, args.platforms)}{see(ctx)}",
            evidence,
        )


class ImagePlatforms(CheckKind[PlatformArgs]):
    """The tag holds an image for each platform, and each image's config says that platform."""

    name = "image_platforms"
    args_model = PlatformArgs

    def needs(self, args: PlatformArgs) -> Needs:
        return _needs(args)

    def evaluate(self, args: PlatformArgs, obs: Observations, ctx: Context) -> Outcome:
        state = repo_state(obs, ctx, args.service, args.repository)
        if isinstance(state, Outcome):
            return state
        info = state.tags.get(args.tag)
        if info is None:
            return _missing_tag(state, args.tag, args.platforms, ctx)
        wanted = state.ref.ref(args.tag)
        evidence = {wanted: info.digest, **{f"{p.platform} config": p.config_digest for p in info.platforms}}
        missing = _missing(info, args.platforms)
        if missing:
            split = _one_per_tag(state, args.tag, args.platforms, present=True)
            why = (
                f"{_elsewhere(split)}, which `docker pull {wanted}` never finds"
                if split
                else f": {', '.join(missing)} {'was' if len(missing) == 1 else 'were'} not built"
            )
            return Outcome.failed(
                f"{wanted} lacks {', '.join(missing)}",
                f"{wanted} holds {_held(info)} only{why}. Build every platform at once, into one index: "
                f"{_build(wanted, args.platforms)}{see(ctx)}",
                evidence,
            )
        wrong = [p for p in info.platforms if not p.config_agrees]
        if wrong:
            first = wrong[0]
            return Outcome.failed(
                f"{wanted} lists {first.platform} for an image whose config says {first.os}/{first.architecture}",
                f"the index of {wanted} lists {first.platform} for {short(first.config_digest)}, an image built for "
                f"{first.os}/{first.architecture}: an index put together by hand names the wrong platform. Let the "
                f"builder make the index: {_build(wanted, args.platforms)}{see(ctx)}",
                evidence,
            )
        return Outcome.passed(f"{wanted} holds {_held(info)}, each config saying its platform", evidence)
