"""A repository with thousands of tags: what is resolved, what checks still see, what hints say."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "checks"))
from obs_factory import CTX, HOSTS, obs, repo

from labcheck.checks.base import named_tags
from labcheck.checks.catalog import KINDS
from labcheck.grading import evaluate
from labcheck.observe.needs import merge
from labcheck.observe.registry import RESOLVE_ALL_UP_TO, tags_to_resolve
from labcheck.results import Status
from labcheck.spec.model import LabSpec

BUILDS = [f"build-{i:05d}" for i in range(10_000)]


def test_a_repository_of_normal_size_is_resolved_whole() -> None:
    tags = ["staging", "nightly", *BUILDS[: RESOLVE_ALL_UP_TO - 2]]
    assert tags_to_resolve(tags, frozenset()) == tags


def test_a_huge_repository_resolves_named_version_and_commit_tags_only() -> None:
    interesting = ["latest", "1.2.3", "v2.0.0-rc.1", "v1", "3f9a2c1", "staging"]
    chosen = tags_to_resolve([*BUILDS, *interesting, "feature-x", "deadbeefcafe-dirty"], frozenset({"staging"}))
    assert chosen == interesting


def test_a_repository_of_100k_version_tags_costs_at_most_the_cap() -> None:
    """Before: past 1000 tags every version-like tag was still resolved: 100k tags, 100k requests."""
    versions = [f"{major}.{minor}.0" for major in range(100) for minor in range(1000)]
    chosen = tags_to_resolve(["latest", *versions, "staging", "deadbeef"], frozenset({"staging"}))
    assert len(chosen) == RESOLVE_ALL_UP_TO
    # the named ones and latest, then the 998 newest versions: 99.999.0 down to 99.2.0
    assert {"latest", "staging", "99.999.0", "99.100.0", "99.2.0"} <= set(chosen)
    assert not {"99.1.0", "98.999.0", "0.0.0", "deadbeef"} & set(chosen)


def test_a_result_says_when_its_repository_was_read_in_part() -> None:
    state = dataclasses.replace(repo("registry", "myapp", {"latest": 1, "1.2.3": 1}), unresolved=99_998)
    spec = LabSpec.model_validate(
        {
            "schema_version": 1,
            "id": "mini",
            "title": "Mini",
            "services": {"registry": {"description": "r", "port": 5999, "env_var": "REGISTRY"}},
            "exercises": [
                {
                    "id": "push",
                    "title": "Push",
                    "summary": "Push it.",
                    "checks": [
                        {
                            "id": "pushed",
                            "title": "pushed",
                            "kind": "tag_exists",
                            "args": {"service": "registry", "repository": "myapp", "tag": "1.2.3"},
                        }
                    ],
                }
            ],
        }
    )
    result = evaluate(spec, spec.exercises, obs(state), HOSTS)
    (check,) = result.checks()
    assert check.status is Status.PASS
    assert "localhost:5000/myapp has 100000 tags: labcheck read 2, at most 1000 a repository" in check.message


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
