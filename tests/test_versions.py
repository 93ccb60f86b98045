"""Semantic-version precedence, per semver.org 2.0.0 section 11, with the spec's own examples."""

from __future__ import annotations

import random

import pytest

from labcheck.versions import VERSIONISH, semver_key

# semver.org, 11.2 and 11.4.4: each is lower than the next
SPEC_ORDER = [
    "1.0.0-alpha",
    "1.0.0-alpha.1",
    "1.0.0-alpha.beta",
    "1.0.0-beta",
    "1.0.0-beta.2",
    "1.0.0-beta.11",
    "1.0.0-rc.1",
    "1.0.0",
    "2.0.0",
    "2.1.0",
    "2.1.1",
]


def test_the_specs_examples_sort_in_the_specs_order() -> None:
    shuffled = SPEC_ORDER[:]
    random.Random(7).shuffle(shuffled)
    assert sorted(shuffled, key=lambda t: semver_key(t)) == SPEC_ORDER  # type: ignore[arg-type, return-value]


def test_a_pre_release_is_older_than_its_release() -> None:
    rc, release = semver_key("v1.1.0-rc1"), semver_key("v1.0.0")
    assert rc is not None and release is not None and rc > release  # 1.1.0-rc1 is after 1.0.0...
    final = semver_key("v1.1.0")
    assert final is not None and rc < final  # ...and before 1.1.0


def test_build_metadata_does_not_count() -> None:
    assert semver_key("1.0.0+build.1") == semver_key("1.0.0+build.2") == semver_key("v1.0.0")


@pytest.mark.parametrize("tag", ["1.0", "v1", "01.0.0", "1.0.0-", "latest", "1.0.0-rc..1"])
def test_not_semantic_versions(tag: str) -> None:
    assert semver_key(tag) is None


@pytest.mark.parametrize("tag", ["v1", "1.0", "v1.0.0-rc1", "1.0.0+build", "2.0.0"])
def test_version_like_tags(tag: str) -> None:
    assert VERSIONISH.match(tag)
