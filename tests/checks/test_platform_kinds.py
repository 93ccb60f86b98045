"""The multi-platform check kinds on hand-made observations: one index holding every platform,
and the hints for one platform only and for one tag per platform."""

from __future__ import annotations

from typing import Any

import pytest
from obs_factory import CTX, HOSTS, digest, obs
from pydantic import ValidationError

from labcheck.checks.catalog import KINDS
from labcheck.observe.model import Observations, PlatformImage, RepoRef, RepoState, TagInfo, Unavailable
from labcheck.registry import media_types
from labcheck.results import Outcome, Status

ARGS = {"service": "registry", "repository": "my-app", "tag": "2.0.0", "platforms": ["linux/amd64", "linux/arm64"]}
REF = "localhost:5000/my-app:2.0.0"
BUILD = f"`docker buildx build --platform linux/amd64,linux/arm64 -t {REF} --push .`"


def run(kind: str, observations: Observations, **args: Any) -> Outcome:
    k = KINDS[kind]
    return k.evaluate(k.parse({**ARGS, **args}), observations, CTX)


def image(platform: str, n: int, *, config: str | None = None, listed: bool = True) -> PlatformImage:
    """An image for `platform`, as an index lists it (unless not `listed`); its config says
    `config` (default: the same platform)."""
    os_, arch = (config or platform).split("/")[:2]
    return PlatformImage(platform if listed else None, os_, arch, digest(2000 + n))


def index(tag: str, n: int, *images: PlatformImage) -> TagInfo:
    ids = frozenset(i.config_digest for i in images)
    return TagInfo(tag, digest(n), media_types.OCI_INDEX, ids, is_index=True, platforms=images)


def single(tag: str, n: int, platform: str = "linux/amd64") -> TagInfo:
    one = image(platform, n, listed=False)
    return TagInfo(tag, digest(n), media_types.DOCKER_MANIFEST, frozenset({one.config_digest}), platforms=(one,))


def pushed(*tags: TagInfo) -> Observations:
    ref = RepoRef("registry", HOSTS["registry"], "my-app")
    return obs(RepoState(ref, exists=bool(tags), tags={t.tag: t for t in tags}))


BOTH = index("2.0.0", 1, image("linux/amd64", 1), image("linux/arm64", 2))
EARLIER = single("latest", 9)  # an earlier exercise's push of the same repository


@pytest.mark.parametrize("kind", ["image_index", "image_platforms"])
def test_one_index_of_both_platforms_passes(kind: str) -> None:
    out = run(kind, pushed(BOTH, EARLIER))
    assert out.status is Status.PASS, out.hint
    assert "linux/amd64, linux/arm64" in out.message
    assert out.evidence[REF] == digest(1)


def test_platforms_cite_each_platform_config_as_evidence() -> None:
    out = run("image_platforms", pushed(BOTH))
    assert out.evidence == {REF: digest(1), "linux/amd64 config": digest(2001), "linux/arm64 config": digest(2002)}


def test_an_arm64_variant_is_arm64() -> None:
    v8 = index("2.0.0", 1, image("linux/amd64", 1), image("linux/arm64/v8", 2))
    assert run("image_platforms", pushed(v8)).status is Status.PASS
    assert run("image_platforms", pushed(v8), platforms=["linux/arm64/v8"]).status is Status.PASS
    v6 = index("2.0.0", 1, image("linux/arm/v6", 1))
    out = run("image_platforms", pushed(v6), platforms=["linux/arm/v7"])
    assert out.status is Status.FAIL
    assert "lacks linux/arm/v7" in out.message


def test_one_platform_only_is_an_index_without_arm64() -> None:
    # what `docker buildx build --platform linux/amd64 --push` sends from the containerd image store
    amd64 = index("2.0.0", 1, image("linux/amd64", 1))
    assert run("image_index", pushed(amd64, EARLIER)).status is Status.PASS
    out = run("image_platforms", pushed(amd64, EARLIER))
    assert out.status is Status.FAIL
    assert out.message == f"{REF} lacks linux/arm64"
    assert out.hint.startswith(f"{REF} holds linux/amd64 only: linux/arm64 was not built. Build every platform")
    assert BUILD in out.hint
    assert ":latest" not in out.hint  # an amd64 image is no excuse: it is not the missing platform
    assert "lessons/test/" in out.hint


def test_a_single_image_is_not_an_index() -> None:
    # a classic store's `docker push`, or a build with one platform and no attestation
    out = run("image_index", pushed(single("2.0.0", 1)))
    assert out.status is Status.FAIL
    assert out.message == f"{REF} is a single image (linux/amd64), not an index"
    assert "a push of one build for one platform sends a single image" in out.hint
    assert BUILD in out.hint
    assert out.evidence["media type"] == media_types.DOCKER_MANIFEST
    assert run("image_platforms", pushed(single("2.0.0", 1))).status is Status.FAIL


def test_one_tag_per_platform_names_the_tags_that_were_pushed_instead() -> None:
    split = pushed(EARLIER, single("2.0.0-amd64", 3), index("2.0.0-arm64", 4, image("linux/arm64", 4)))
    for kind in ("image_index", "image_platforms"):
        out = run(kind, split)
        assert out.status is Status.FAIL
        assert out.message == f"{REF} is not in the registry"
        assert out.hint.startswith(
            "you pushed :2.0.0-amd64 (linux/amd64) and :2.0.0-arm64 (linux/arm64), one platform per tag, "
            "but no :2.0.0: one tag names one index."
        )
        assert ":latest" not in out.hint  # an amd64 image, but not one named for a platform or the release
        assert BUILD in out.hint


def test_tags_named_after_an_architecture_count_as_one_per_platform() -> None:
    out = run("image_index", pushed(single("amd64", 3), single("arm64", 4, "linux/arm64")))
    assert "you pushed :amd64 (linux/amd64) and :arm64 (linux/arm64), one platform per tag" in out.hint


def test_the_other_platform_under_a_tag_of_its_own() -> None:
    beside = pushed(index("2.0.0", 1, image("linux/amd64", 1)), index("2.0.0-arm64", 4, image("linux/arm64", 4)))
    assert run("image_index", beside).status is Status.PASS
    out = run("image_platforms", beside)
    assert out.status is Status.FAIL
    assert out.hint.startswith(
        f"{REF} holds linux/amd64 only; :2.0.0-arm64 (linux/arm64) is a tag of its own, which "
        f"`docker pull {REF}` never finds. Build every platform"
    )
    assert BUILD in out.hint
    # next to a single image, the image_index hint says the same
    single_beside = pushed(single("2.0.0", 1), single("arm", 4, "linux/arm64"), single("x86", 5))
    hint = run("image_index", single_beside).hint
    assert f"{REF} is one image for linux/amd64; :arm (linux/arm64) is a tag of its own:" in hint
    assert ":x86" not in hint


def test_several_tags_beside_are_listed() -> None:
    three = pushed(
        index("2.0.0", 1, image("linux/amd64", 1)),
        single("2.0.0-arm64", 2, "linux/arm64"),
        single("2.0.0-ppc", 3, "linux/ppc64le"),
        single("2.0.0-pi", 4, "linux/arm64"),
    )
    hint = run("image_platforms", three, platforms=["linux/amd64", "linux/arm64", "linux/ppc64le"]).hint
    assert (
        "; :2.0.0-arm64 (linux/arm64), :2.0.0-pi (linux/arm64) and :2.0.0-ppc (linux/ppc64le) are tags of their own"
    ) in hint


def test_an_index_that_names_the_wrong_platform() -> None:
    # put together by hand: the arm64 entry is an amd64 image
    wrong = index("2.0.0", 1, image("linux/amd64", 1), image("linux/arm64", 2, config="linux/amd64"))
    assert run("image_index", pushed(wrong)).status is Status.PASS
    out = run("image_platforms", pushed(wrong))
    assert out.status is Status.FAIL
    assert out.message == f"{REF} lists linux/arm64 for an image whose config says linux/amd64"
    assert "an index put together by hand names the wrong platform" in out.hint
    assert BUILD in out.hint


def test_nothing_pushed_or_other_tags_only() -> None:
    out = run("image_platforms", pushed())
    assert out.hint.startswith("nothing is in localhost:5000/my-app yet. Build every platform at once")
    out = run("image_index", pushed(EARLIER, single("1.0.0", 2)))
    assert out.hint.startswith("you pushed :1.0.0, :latest but not :2.0.0. Build every platform at once")


def test_a_registry_that_could_not_be_read_is_an_error_not_a_fail() -> None:
    down = obs(("registry", "my-app", Unavailable("could not read localhost:5000/my-app: refused")))
    for kind in ("image_index", "image_platforms"):
        out = run(kind, down)
        assert out.status is Status.ERROR
        assert "refused" in out.message


@pytest.mark.parametrize("bad", [[], ["amd64"], ["linux/amd64/v1/x"], ["Linux/AMD64"]])
def test_platforms_must_be_os_slash_architecture(bad: list[str]) -> None:
    with pytest.raises(ValidationError):
        KINDS["image_platforms"].parse({**ARGS, "platforms": bad})


def test_config_agrees_compares_os_and_architecture_only() -> None:
    assert PlatformImage("linux/arm64/v8", "linux", "arm64", digest(1)).config_agrees
    assert PlatformImage(None, "linux", "amd64", digest(1)).config_agrees  # no index: nothing to disagree with
    assert not PlatformImage("linux/arm64", "linux", "amd64", digest(1)).config_agrees
