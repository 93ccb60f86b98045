"""A repository with thousands of tags: what is resolved, what checks still see, what hints say."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "checks"))
from obs_factory import CTX, obs, repo

from labcheck.checks.base import named_tags
from labcheck.checks.catalog import KINDS
from labcheck.observe.gather import merge
from labcheck.observe.registry import RESOLVE_ALL_UP_TO, tags_to_resolve
from labcheck.results import Status

BUILDS = [f"build-{i:05d}" for i in range(10_000)]


def test_a_repository_of_normal_size_is_resolved_whole() -> None:
    tags = ["staging", "nightly", *BUILDS[: RESOLVE_ALL_UP_TO - 2]]
    assert tags_to_resolve(tags, frozenset()) == tags


def test_a_huge_repository_resolves_named_version_and_commit_tags_only() -> None:
    interesting = ["latest", "1.2.3", "v2.0.0-rc.1", "v1", "3f9a2c1", "staging"]
    chosen = tags_to_resolve([*BUILDS, *interesting, "feature-x", "deadbeefcafe-dirty"], frozenset({"staging"}))
    assert chosen == interesting


def test_checks_say_which_tags_they_name_per_repository() -> None:
    kinds = [
        ("same_image", {"service": "registry", "repository": "myapp", "tags": ["1.2.3", "production"]}),
        ("tag_exists", {"service": "registry", "repository": "myapp", "tag": "staging"}),
        ("release_tracked_by_latest", {"service": "hub", "repository": "learner/my-app", "version": "v1.0.0"}),
    ]
    needs = merge(KINDS[k].observations(KINDS[k].parse(a)) for k, a in kinds)
    assert needs.tags[("registry", "myapp")] == {"1.2.3", "production", "staging"}
    assert needs.tags[("hub", "learner/my-app")] == {"v1.0.0", "latest"}
    assert named_tags(KINDS["tag_exists"].parse(kinds[1][1])) == {"staging"}


def test_a_missing_tag_hint_names_ten_tags_and_counts_the_rest() -> None:
    state = dataclasses.replace(repo("registry", "myapp", {"latest": 1, "1.2.3": 2}), unresolved=9_998)
    out = KINDS["tag_exists"].evaluate(
        KINDS["tag_exists"].parse({"service": "registry", "repository": "myapp", "tag": "1.3.0"}), obs(state), CTX
    )
    assert out.status is Status.FAIL
    assert "you pushed :1.2.3, :latest and 9998 more but not :1.3.0" in out.hint
