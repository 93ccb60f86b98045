"""Grading a remote registry: checks that need the lab's own services are skipped, not failed."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from labcheck.grading import ECR_SKIP, REMOTE_SKIP, evaluate, graded
from labcheck.observe.model import (
    EcrRepository,
    EcrState,
    Observations,
    RepoRef,
    RepoState,
    TagInfo,
    Unavailable,
)
from labcheck.reporters import reporter_for
from labcheck.results import Status
from labcheck.session import load_lab
from labcheck.spec.render import render_lab, template_context


def _remote_result():  # type: ignore[no-untyped-def]
    spec = load_lab("part7")
    hosts = dict.fromkeys(spec.services, "ghcr.io")
    rendered = render_lab(spec, template_context(spec, hosts, {"hub": "alice"}))
    # nothing pushed to ghcr.io/alice/my-app yet
    obs = Observations(repos={("hub", "alice/my-app"): RepoState(RepoRef("hub", "ghcr.io", "alice/my-app"), False)})
    exercises = [rendered.exercise(e) for e in ("hub-publish", "ecr")]
    return evaluate(rendered, [e for e in exercises if e], obs, hosts, "ghcr.io", remote=True)


def test_only_checks_marked_remote_are_graded_on_a_remote_registry() -> None:
    spec = load_lab("part7")
    remote = {(ex.id, c.id) for ex in spec.exercises for c in ex.checks if graded(ex, c, remote=True)}
    assert ("hub-publish", "version-pushed") in remote
    assert ("semver-latest", "latest-moved") in remote
    assert ("hub-publish", "logged-out") not in remote  # the learner's login is what grades it
    assert ("local-registry", "pulled-back") in remote  # a self-hosted registry of your own
    assert not {e for e, _ in remote} & {"ecr", "ecr-lifecycle"}  # AWS ECR registries only
    on_ecr = {(ex.id, c.id) for ex in spec.exercises for c in ex.checks if graded(ex, c, remote=True, ecr=True)}
    # an AWS ECR registry: the ECR API and the registry, not the lab's log nor the workspace
    assert on_ecr - remote == {
        ("ecr", "repository-created"),
        ("ecr", "pushed"),
        ("ecr-lifecycle", "immutable"),
        ("ecr-lifecycle", "scan-on-push"),
        ("ecr-lifecycle", "lifecycle"),
        ("ecr-lifecycle", "releases-pushed"),
    }
    every = {(ex.id, c.id) for ex in spec.exercises for c in ex.checks if graded(ex, c, remote=False)}
    assert every == {(ex.id, c.id) for ex in spec.exercises for c in ex.checks}


def test_a_skip_is_neither_a_fail_nor_counted() -> None:
    result = _remote_result()
    hub, ecr = result.exercises
    assert ecr.skipped and ecr.passed and ecr.max_points == 0
    assert {c.status for c in ecr.checks} == {Status.SKIP}
    logged_out = next(c for c in hub.checks if c.id == "logged-out")
    assert logged_out.status is Status.SKIP
    assert "remote registry" in logged_out.message
    assert hub.max_points == sum(c.max_points for c in hub.checks if c.status is not Status.SKIP)
    assert result.exit_code == 1  # the graded checks fail: nothing was pushed


def test_on_a_registry_that_is_not_ecr_the_ecr_checks_say_why_they_skip() -> None:
    ecr = _remote_result().exercises[1]
    reasons = {c.id: c.message for c in ecr.checks}
    assert reasons == {
        "repository-created": ECR_SKIP,
        "pushed": ECR_SKIP,
        "pushed-as-aws": REMOTE_SKIP,
        "password-stdin": REMOTE_SKIP,
    }
    assert "<account>.dkr.ecr.<region>.amazonaws.com" in ECR_SKIP and "--ecr-region" in ECR_SKIP


ECR_HOST = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"


def _ecr_result(repositories: dict[str, EcrRepository], tags: dict[str, TagInfo]):  # type: ignore[no-untyped-def]
    spec = load_lab("part7")
    hosts = dict.fromkeys(spec.services, ECR_HOST)
    rendered = render_lab(spec, template_context(spec, hosts, {"hub": "learner"}))
    obs = Observations(
        repos={("ecr", "my-app"): RepoState(RepoRef("ecr", ECR_HOST, "my-app"), bool(tags), tags)},
        ecr={"ecr-api": EcrState("ECR in eu-west-1", repositories)},
        push_logs={"ecr": Unavailable("only the lab's own registries can show who pushed")},
    )
    ex = rendered.exercise("ecr")
    assert ex is not None
    return evaluate(rendered, [ex], obs, hosts, ECR_HOST, remote=True, ecr=True).exercises[0]


def test_on_an_ecr_registry_the_repository_and_the_tag_are_graded() -> None:
    tag = TagInfo("1.0.0", "sha256:" + "a" * 64, "application/vnd.oci.image.manifest.v1+json", frozenset())
    done = _ecr_result({"my-app": EcrRepository("my-app", 1.0)}, {"1.0.0": tag})
    statuses = {c.id: c.status for c in done.checks}
    assert statuses == {
        "repository-created": Status.PASS,
        "pushed": Status.PASS,
        "pushed-as-aws": Status.SKIP,
        "password-stdin": Status.SKIP,
    }
    assert done.passed and done.max_points == 2
    nothing = _ecr_result({}, {})
    assert {c.id: c.status for c in nothing.checks if c.status is not Status.SKIP} == {
        "repository-created": Status.FAIL,
        "pushed": Status.FAIL,
    }


def test_reporters_show_skips() -> None:
    result = _remote_result()
    text = reporter_for("text", color=False).render(result)
    assert "SKIP  repository-created: not graded on a remote registry" in text
    assert "skipped (not graded here: each SKIP says why)" in text
    assert REMOTE_SKIP in text
    data = json.loads(reporter_for("json", color=False).render(result))
    statuses = {c["status"] for ex in data["exercises"] for c in ex["checks"]}
    assert "skip" in statuses
    suites = ET.fromstring(reporter_for("junit", color=False).render(result))
    # counted per testsuite: Jenkins' junit-10.xsd has no `skipped` on <testsuites>
    assert sum(int(s.get("skipped", "0")) for s in suites.iter("testsuite")) == result.count(Status.SKIP) > 0
    assert suites.find(".//testcase/skipped") is not None


def test_docker_hub_references_are_named_as_docker_names_them_locally() -> None:
    assert RepoRef("hub", "docker.io", "alice/my-app").ref("v1.0.0") == "alice/my-app:v1.0.0"
    assert RepoRef("hub", "index.docker.io", "library/busybox").familiar == "busybox"
    assert RepoRef("hub", "ghcr.io", "alice/my-app").ref("v1") == "ghcr.io/alice/my-app:v1"
