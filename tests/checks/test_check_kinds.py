"""Every check kind on hand-made observations: right and wrong learners, and our own errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
from obs_factory import CTX, digest, image, obs, repo, workspace

from labcheck.checks.catalog import KINDS
from labcheck.observe.model import (
    EcrRepository,
    EcrState,
    InlinePassword,
    LocalImage,
    Observations,
    Push,
    PushLog,
    Unavailable,
)
from labcheck.results import Outcome, Status


def run(kind: str, args: dict[str, Any], observations: Observations) -> Outcome:
    k = KINDS[kind]
    return k.evaluate(k.parse(args), observations, CTX)


APP = {"service": "hub", "repository": "learner/my-app"}
MYAPP = {"service": "registry", "repository": "myapp"}


# tag_exists ----------------------------------------------------------------------------------


def test_tag_exists_passes_with_digest_as_evidence() -> None:
    out = run("tag_exists", {**APP, "tag": "v1.0.0"}, obs(repo("hub", "learner/my-app", {"v1.0.0": 1})))
    assert out.status is Status.PASS
    assert out.evidence == {"localhost:5001/learner/my-app:v1.0.0": digest(1)}


def test_tag_exists_names_what_was_pushed_instead() -> None:
    out = run("tag_exists", {**APP, "tag": "v1.0.0"}, obs(repo("hub", "learner/my-app", {"latest": 1})))
    assert out.status is Status.FAIL
    assert "you pushed :latest but not :v1.0.0" in out.hint
    assert "lessons/test/" in out.hint


def test_tag_exists_spots_a_local_tag_that_was_never_pushed() -> None:
    o = obs(repo("hub", "learner/my-app", None), images=[image("localhost:5001/learner/my-app:v1.0.0")])
    out = run("tag_exists", {**APP, "tag": "v1.0.0"}, o)
    assert out.status is Status.FAIL
    assert "exists locally but was not pushed" in out.hint
    assert "docker push localhost:5001/learner/my-app:v1.0.0" in out.hint


def test_tag_exists_spots_a_tag_without_the_registry_host() -> None:
    o = obs(repo("hub", "learner/my-app", None), images=[image("learner/my-app:v1.0.0")])
    out = run("tag_exists", {**APP, "tag": "v1.0.0"}, o)
    assert "without the registry host localhost:5001" in out.hint
    assert "docker tag learner/my-app:v1.0.0 localhost:5001/learner/my-app:v1.0.0" in out.hint


def test_tag_for_another_registry_is_not_called_hostless() -> None:
    o = obs(repo("hub", "learner/my-app", None), images=[image("localhost:6000/learner/my-app:v1.0.0")])
    out = run("tag_exists", {**APP, "tag": "v1.0.0"}, o)
    assert out.status is Status.FAIL
    assert "without the registry host" not in out.hint
    assert "nothing is in localhost:5001/learner/my-app yet" in out.hint


def test_unreachable_registry_is_an_error_not_a_fail() -> None:
    o = obs(("hub", "learner/my-app", Unavailable("cannot reach registry localhost:5001")))
    out = run("tag_exists", {**APP, "tag": "v1.0.0"}, o)
    assert out.status is Status.ERROR
    assert "cannot reach" in out.message
    assert out.hint == ""


def test_daemon_down_still_grades_registry_checks() -> None:
    o = obs(repo("hub", "learner/my-app", {"v1.0.0": 1}), docker=Unavailable("no daemon"))
    assert run("tag_exists", {**APP, "tag": "v1.0.0"}, o).status is Status.PASS


# semver_tag ------------------------------------------------------------------------------------


def test_semver_tag_hints_at_a_two_part_version() -> None:
    out = run("semver_tag", {**APP, "tag": "v1.0.0"}, obs(repo("hub", "learner/my-app", {"v1.0": 1, "latest": 1})))
    assert out.status is Status.FAIL
    assert "you pushed :v1.0" in out.hint
    assert "MAJOR.MINOR.PATCH" in out.hint


def test_semver_tag_refuses_a_non_semver_argument() -> None:
    with pytest.raises(ValueError, match="not a semantic version"):
        KINDS["semver_tag"].parse({**APP, "tag": "v1.0"})


def test_semver_tag_passes() -> None:
    out = run("semver_tag", {**APP, "tag": "v1.1.0"}, obs(repo("hub", "learner/my-app", {"v1.1.0": 2})))
    assert out.status is Status.PASS


# same_image / different_images ------------------------------------------------------------------


def test_same_image_passes_for_promoted_tags() -> None:
    o = obs(repo("registry", "myapp", {"1.2.3": 1, "staging": 1, "production": 1, "latest": 1}))
    out = run("same_image", {**MYAPP, "tags": ["1.2.3", "staging", "production"]}, o)
    assert out.status is Status.PASS
    assert set(out.evidence) == {f"localhost:5000/myapp:{t}" for t in ("1.2.3", "staging", "production")}


def test_same_image_calls_out_a_rebuild() -> None:
    o = obs(repo("registry", "myapp", {"1.2.3": 1, "staging": 1, "production": 2}))
    out = run("same_image", {**MYAPP, "tags": ["1.2.3", "staging", "production"]}, o)
    assert out.status is Status.FAIL
    assert "you rebuilt" in out.hint
    assert digest(2)[:19] in out.hint


def test_same_image_names_the_tag_production_still_matches() -> None:
    o = obs(repo("registry", "myapp", {"1.2.3": 1, "1.3.0": 2, "production": 2}))
    out = run("same_image", {**MYAPP, "tags": ["1.2.3", "production"]}, o)
    assert out.status is Status.FAIL
    assert "the image of :1.3.0" in out.hint
    assert "docker tag localhost:5000/myapp:1.2.3 localhost:5000/myapp:production" in out.hint


def test_same_image_ignores_attestation_only_differences() -> None:
    # Different top-level digests, same platform image (config digest): one image.
    same_ids = {"image_ids": frozenset({digest(77)})}
    o = obs(repo("registry", "myapp", {"a": 1, "b": 2}, a=same_ids, b=same_ids))
    assert run("same_image", {**MYAPP, "tags": ["a", "b"]}, o).status is Status.PASS
    assert run("different_images", {**MYAPP, "tags": ["a", "b"]}, o).status is Status.FAIL


def test_different_images() -> None:
    o = obs(repo("registry", "myapp", {"1.2.3": 1, "1.3.0": 2, "x": 1}))
    assert run("different_images", {**MYAPP, "tags": ["1.2.3", "1.3.0"]}, o).status is Status.PASS
    out = run("different_images", {**MYAPP, "tags": ["1.2.3", "x"]}, o)
    assert out.status is Status.FAIL
    assert "change the app" in out.hint


def test_missing_tag_fails_comparisons() -> None:
    o = obs(repo("registry", "myapp", {"1.2.3": 1}))
    out = run("different_images", {**MYAPP, "tags": ["1.2.3", "1.3.0"]}, o)
    assert out.status is Status.FAIL
    assert "1.3.0" in out.message


# release_tracked_by_latest -------------------------------------------------


def test_latest_equal_to_release_passes() -> None:
    o = obs(repo("hub", "learner/my-app", {"latest": 1, "v1.0.0": 1}))
    assert run("release_tracked_by_latest", {**APP, "version": "v1.0.0"}, o).status is Status.PASS


def test_latest_moved_to_a_newer_release_still_passes() -> None:
    o = obs(repo("hub", "learner/my-app", {"latest": 2, "v1.0.0": 1, "v1.1.0": 2}))
    out = run("release_tracked_by_latest", {**APP, "version": "v1.0.0"}, o)
    assert out.status is Status.PASS
    assert "v1.1.0" in out.message


def test_latest_rebuilt_apart_from_the_release_fails() -> None:
    o = obs(repo("hub", "learner/my-app", {"latest": 2, "v1.0.0": 1}))
    out = run("release_tracked_by_latest", {**APP, "version": "v1.0.0"}, o)
    assert out.status is Status.FAIL
    assert "you rebuilt between the two tags" in out.hint


def test_latest_on_an_older_version_fails() -> None:
    o = obs(repo("hub", "learner/my-app", {"latest": 0, "v0.9.0": 0, "v1.0.0": 1}))
    assert run("release_tracked_by_latest", {**APP, "version": "v1.0.0"}, o).status is Status.FAIL


# image_label ------------------------------------------------------------------------------------


def test_image_label() -> None:
    labels = {"v1.0.0": {"labels": {"io.labcheck.lab": "part7"}}}
    args = {**APP, "tag": "v1.0.0", "label": "io.labcheck.lab", "value": "part7"}
    assert run("image_label", args, obs(repo("hub", "learner/my-app", {"v1.0.0": 1}, **labels))).status is Status.PASS
    out = run("image_label", args, obs(repo("hub", "learner/my-app", {"v1.0.0": 1})))
    assert out.status is Status.FAIL
    assert out.evidence["label io.labcheck.lab"] == "(none)"


# pulled_from_registry ----------------------------------------------------------------------------


def test_pulled_from_registry() -> None:
    ref = "localhost:5001/learner/my-app:v1.0.0"
    args = {**APP, "tag": "v1.0.0"}
    state = repo("hub", "learner/my-app", {"v1.0.0": 1})
    pulled = image(ref, repo_digests=(f"localhost:5001/learner/my-app@{digest(1)}",))
    assert run("pulled_from_registry", args, obs(state, images=[pulled])).status is Status.PASS
    stale = image(ref, repo_digests=(f"localhost:5001/learner/my-app@{digest(9)}",))
    out = run("pulled_from_registry", args, obs(state, images=[stale]))
    assert out.status is Status.FAIL
    assert "docker pull" in out.hint
    out = run("pulled_from_registry", args, obs(state, images=[]))
    assert out.status is Status.FAIL
    assert f"docker pull {ref}" in out.hint
    built = image(ref)
    assert "never pulled" in run("pulled_from_registry", args, obs(state, images=[built])).hint
    # the containerd image store: the ID is the pushed digest; the list's RepoDigests may name another repository
    containerd = LocalImage(id=digest(1), tags=(ref,), repo_digests=(f"localhost:5001/learner/other@{digest(1)}",))
    assert run("pulled_from_registry", args, obs(state, images=[containerd])).status is Status.PASS
    rebuilt = LocalImage(id=digest(9), tags=(ref,), repo_digests=(f"localhost:5001/learner/other@{digest(9)}",))
    assert run("pulled_from_registry", args, obs(state, images=[rebuilt])).status is Status.FAIL
    assert run("pulled_from_registry", args, obs(state, docker=Unavailable("no daemon"))).status is Status.ERROR


# logged_out / no_inline_password -------------------------------------------------------------------


def test_logged_out_is_graded_only_after_publishing() -> None:
    empty = obs(repo("hub", "learner/my-app", None))
    assert run("logged_out", APP, empty).status is Status.FAIL
    published = repo("hub", "learner/my-app", {"v1.0.0": 1})
    assert run("logged_out", APP, obs(published)).status is Status.PASS
    out = run("logged_out", APP, obs(published, logged_in={"localhost:5001"}))
    assert out.status is Status.FAIL
    assert "docker logout localhost:5001" in out.hint
    # another registry's login is not this exercise's business
    assert run("logged_out", APP, obs(published, logged_in={"localhost:5000"})).status is Status.PASS


def test_no_inline_password() -> None:
    published = repo("hub", "learner/my-app", {"v1.0.0": 1})
    assert run("no_inline_password", APP, obs(published, workspace=workspace())).status is Status.PASS
    ws = workspace(inline=(InlinePassword("publish.sh", 3),))
    out = run("no_inline_password", APP, obs(published, workspace=ws))
    assert out.status is Status.FAIL
    assert "publish.sh line 3" in out.hint
    assert "--password-stdin" in out.hint
    assert run("no_inline_password", APP, obs(repo("hub", "learner/my-app", None), workspace=ws)).status is Status.FAIL
    gone = Unavailable("/x is not a git repository")
    assert run("no_inline_password", APP, obs(published, workspace=gone)).status is Status.ERROR


# commit_tag / latest_is_newest_commit ---------------------------------------------------------------

FILES = {"/app/index.html": "index.html"}
SHA_NEW = "b" * 40
SHA_OLD = "a" * 40
GIT = {"service": "registry", "repository": "my-app", "files": FILES}


def _repo_with_files(tags: dict[str, tuple[int, bytes]]) -> Any:
    extra = {t: {"files": {"/app/index.html": content}} for t, (_, content) in tags.items()}
    return repo("registry", "my-app", {t: n for t, (n, _) in tags.items()}, **extra)


WS = workspace((SHA_NEW, "v2", {"index.html": b"two"}), (SHA_OLD, "v1", {"index.html": b"one"}))


def test_commit_tag_passes_for_an_older_commit_too() -> None:
    o = obs(_repo_with_files({SHA_OLD[:7]: (1, b"one")}), workspace=WS)
    out = run("commit_tag", GIT, o)
    assert out.status is Status.PASS
    assert SHA_OLD[:12] in out.message


def test_commit_tag_detects_a_sha_taken_before_committing() -> None:
    o = obs(_repo_with_files({SHA_OLD[:7]: (2, b"two")}), workspace=WS)
    out = run("commit_tag", GIT, o)
    assert out.status is Status.FAIL
    assert f"built from commit {SHA_NEW[:7]}" in out.hint
    assert "before committing" in out.hint


def test_commit_tag_detects_uncommitted_changes() -> None:
    o = obs(_repo_with_files({SHA_NEW[:7]: (3, b"dirty")}), workspace=WS)
    out = run("commit_tag", GIT, o)
    assert out.status is Status.FAIL
    assert "uncommitted" in out.hint


def test_commit_tag_with_no_sha_tags() -> None:
    o = obs(_repo_with_files({"latest": (1, b"one"), "deadbeef": (1, b"one")}), workspace=WS)
    out = run("commit_tag", GIT, o)
    assert out.status is Status.FAIL
    assert ":deadbeef is not a commit of your workspace" in out.hint


def test_latest_is_newest_commit() -> None:
    both = {SHA_OLD[:7]: (1, b"one"), SHA_NEW[:7]: (2, b"two")}
    good = obs(_repo_with_files({**both, "latest": (2, b"two")}), workspace=WS)
    assert run("latest_is_newest_commit", GIT, good).status is Status.PASS
    stale = obs(_repo_with_files({**both, "latest": (1, b"one")}), workspace=WS)
    out = run("latest_is_newest_commit", GIT, stale)
    assert out.status is Status.FAIL
    assert SHA_NEW[:7] in out.message
    missing = obs(_repo_with_files(both), workspace=WS)
    assert run("latest_is_newest_commit", GIT, missing).status is Status.FAIL
    none = obs(_repo_with_files({"latest": (1, b"one")}), workspace=WS)
    assert run("latest_is_newest_commit", GIT, none).status is Status.FAIL


def test_every_kind_is_covered_here() -> None:
    from pathlib import Path

    source = "".join(p.read_text(encoding="utf-8") for p in Path(__file__).parent.glob("test_*.py"))
    untested = [name for name in KINDS if f'"{name}"' not in source]
    assert untested == []


# --- ECR ---------------------------------------------------------------------------------


def _ecr_obs(created: float | None, pushes: list[Push], *, ecr_down: bool = False) -> Observations:
    repos = {} if created is None else {"my-app": EcrRepository("my-app", created)}
    ecr = Unavailable("cannot reach the ECR API") if ecr_down else EcrState("http://localhost:5003", repos)
    return Observations(ecr={"ecr-api": ecr}, push_logs={"registry": PushLog(tuple(pushes))})


ECR_REPO = {"service": "ecr-api", "repository": "my-app"}


def test_ecr_repository_grades_the_final_state_not_the_order() -> None:
    # a push refused before the repository existed left nothing: created after it is fine
    assert run("ecr_repository", ECR_REPO, _ecr_obs(300.0, [])).status is Status.PASS
    ok = run("ecr_repository", ECR_REPO, _ecr_obs(300.0, [Push("my-app", "1.0.0", "AWS", 200.0)]))
    assert ok.status is Status.PASS
    assert ok.evidence == {"created": "00:05:00 UTC"}
    missing = run("ecr_repository", ECR_REPO, _ecr_obs(None, []))
    assert missing.status is Status.FAIL
    assert "aws ecr create-repository --repository-name my-app" in missing.hint
    assert "name unknown" in missing.hint
    down = run("ecr_repository", ECR_REPO, _ecr_obs(100.0, [], ecr_down=True))
    assert down.status is Status.ERROR


def test_ecr_repository_on_aws_itself() -> None:
    aws = EcrState("ECR in us-east-1", {"my-app": EcrRepository("my-app", 300.0)})
    ok = run("ecr_repository", ECR_REPO, Observations(ecr={"ecr-api": aws}))
    assert ok.status is Status.PASS, ok.message
    assert "ECR in us-east-1" in ok.message
    missing = run("ecr_repository", ECR_REPO, Observations(ecr={"ecr-api": EcrState("ECR in us-east-1", {})}))
    assert missing.status is Status.FAIL


def _settings(**repo: Any) -> Observations:
    state = EcrState("http://localhost:5003", {"my-app": EcrRepository("my-app", 1.0, **repo)})
    return Observations(ecr={"ecr-api": state})


def test_ecr_immutable_tags() -> None:
    assert run("ecr_immutable_tags", ECR_REPO, _settings(tag_mutability="IMMUTABLE")).status is Status.PASS
    mutable = run("ecr_immutable_tags", ECR_REPO, _settings())
    assert mutable.status is Status.FAIL
    assert "MUTABLE" in mutable.message
    assert "put-image-tag-mutability --repository-name my-app --image-tag-mutability IMMUTABLE" in mutable.hint
    assert run("ecr_immutable_tags", ECR_REPO, _ecr_obs(None, [])).status is Status.FAIL


def test_ecr_scan_on_push() -> None:
    assert run("ecr_scan_on_push", ECR_REPO, _settings(scan_on_push=True)).status is Status.PASS
    off = run("ecr_scan_on_push", ECR_REPO, _settings())
    assert off.status is Status.FAIL
    assert "--image-scanning-configuration scanOnPush=true" in off.hint
    down = Observations(ecr={"ecr-api": Unavailable("cannot reach the ECR API")})
    assert run("ecr_scan_on_push", ECR_REPO, down).status is Status.ERROR


def _policy(*rules: dict[str, Any]) -> str:
    return json.dumps({"rules": list(rules)})


def _rule(selection: dict[str, Any], action: str = "expire") -> dict[str, Any]:
    return {"rulePriority": 1, "selection": selection, "action": {"type": action}}


def _lifecycle(policy: str | None, *, observed: bool = True) -> Observations:
    state = EcrState(
        "http://localhost:5003",
        {"my-app": EcrRepository("my-app", 1.0)},
        lifecycle_policies={"my-app": policy} if observed else {},
    )
    return Observations(ecr={"ecr-api": state})


KEEP3 = {**ECR_REPO, "keep": 3}


def test_ecr_lifecycle_policy_keeps_the_last_n_images() -> None:
    from labcheck.checks.ecr import keep_last

    good = run("ecr_lifecycle_policy", KEEP3, _lifecycle(keep_last(3)))
    assert good.status is Status.PASS, good.message
    assert json.loads(keep_last(3))["rules"][0]["selection"]["countNumber"] == 3
    every_tag = _rule(
        {"tagStatus": "tagged", "tagPatternList": ["*"], "countType": "imageCountMoreThan", "countNumber": 3}
    )
    assert run("ecr_lifecycle_policy", KEEP3, _lifecycle(_policy(every_tag))).status is Status.PASS


@pytest.mark.parametrize(
    ("policy", "problem"),
    [
        (None, "no lifecycle policy"),
        (_policy(_rule({"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 10})), "last 10 images"),
        (_policy(_rule({"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 3})), "only some"),
        (
            _policy(
                _rule(
                    {"tagStatus": "tagged", "tagPrefixList": ["v"], "countType": "imageCountMoreThan", "countNumber": 3}
                )
            ),
            "only some",
        ),
        (
            _policy(
                _rule({"tagStatus": "any", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 3})
            ),
            "by age",
        ),
    ],
)
def test_ecr_lifecycle_policy_says_what_is_wrong(policy: str | None, problem: str) -> None:
    out = run("ecr_lifecycle_policy", KEEP3, _lifecycle(policy))
    assert out.status is Status.FAIL
    assert problem in out.message
    assert "aws ecr put-lifecycle-policy --repository-name my-app" in out.hint
    assert '"countNumber":3' in out.hint


def test_ecr_lifecycle_policy_not_observed_is_our_error() -> None:
    assert run("ecr_lifecycle_policy", KEEP3, _lifecycle(None, observed=False)).status is Status.ERROR
    assert KINDS["ecr_lifecycle_policy"].needs(KINDS["ecr_lifecycle_policy"].parse(KEEP3)).ecr_policies == {
        ("ecr-api", "my-app")
    }


def test_pushed_by_reads_the_registry_log() -> None:
    args = {"service": "registry", "repository": "my-app", "tag": "1.0.0", "user": "AWS"}
    assert run("pushed_by", args, _ecr_obs(1.0, [Push("my-app", "1.0.0", "AWS", 2.0)])).status is Status.PASS
    anonymous = run("pushed_by", args, _ecr_obs(1.0, [Push("my-app", "1.0.0", None, 2.0)]))
    assert anonymous.status is Status.FAIL
    assert "anonymous" in anonymous.message
    other_tag = run("pushed_by", args, _ecr_obs(1.0, [Push("my-app", "latest", "AWS", 2.0)]))
    assert other_tag.status is Status.FAIL
    unreadable = Observations(push_logs={"registry": Unavailable("not a lab registry")})
    assert run("pushed_by", args, unreadable).status is Status.ERROR
