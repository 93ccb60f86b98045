"""An exercise that `requires` what the learner's engine cannot do is skipped, saying why and
how to fix it, never failed; it is graded as usual where the engine can, or when it passes."""

from __future__ import annotations

from labcheck.grading import evaluate
from labcheck.observe.engine import ENABLE_CONTAINERD_STORE, engine_state, lacking, unsupported
from labcheck.observe.model import (
    EngineState,
    Observations,
    PlatformImage,
    RepoRef,
    RepoState,
    TagInfo,
    Unavailable,
)
from labcheck.registry import media_types
from labcheck.reporters import reporter_for
from labcheck.results import LabResult, Status
from labcheck.session import load_lab
from labcheck.spec.render import render_lab, template_context

CLASSIC = EngineState(containerd_store=False, driver="overlay2")
CONTAINERD = EngineState(containerd_store=True, driver="overlayfs")
DIGEST = "sha256:" + "1" * 64


def _grade(tags: dict[str, TagInfo], engine: EngineState | Unavailable | None) -> LabResult:
    spec = load_lab("part7")
    hosts = {name: f"localhost:{svc.port}" for name, svc in spec.services.items()}
    rendered = render_lab(spec, template_context(spec, hosts, {"hub": "learner"}))
    ex = rendered.exercise("multi-platform")
    assert ex is not None and ex.requires == ("multi-platform",)
    ref = RepoRef("registry", hosts["registry"], "my-app")
    obs = Observations(repos={("registry", "my-app"): RepoState(ref, bool(tags), tags)}, engine=engine)
    return evaluate(rendered, [ex], obs, hosts, "localhost:5000")


def _index(*platforms: str) -> dict[str, TagInfo]:
    images = tuple(
        PlatformImage(p, *p.split("/"), config_digest=f"sha256:{n:064x}") for n, p in enumerate(platforms, 1)
    )
    ids = frozenset(i.config_digest for i in images)
    labels = {"io.labcheck.lab": "part7"}
    info = TagInfo("2.0.0", DIGEST, media_types.OCI_INDEX, ids, labels=labels, is_index=True, platforms=images)
    return {"2.0.0": info}


def test_on_the_classic_image_store_a_failing_exercise_is_skipped_with_the_fix() -> None:
    result = _grade(_index("linux/amd64"), CLASSIC)
    ex = result.exercises[0]
    assert {c.status for c in ex.checks} == {Status.SKIP}
    assert ex.skipped and ex.passed and ex.max_points == 0
    assert result.exit_code == 0  # nothing failed: the learner's engine cannot do it
    reason = ex.checks[0].message
    assert reason.startswith("not graded on this engine: this Docker engine keeps its images in the classic image")
    assert "cannot build multi-platform images" in reason
    assert ENABLE_CONTAINERD_STORE in reason and '"containerd-snapshotter": true' in reason
    assert all(c.hint == "" for c in ex.checks)
    text = reporter_for("text", color=False).render(result)
    assert "(0/0 points, skipped)" in text and "SKIP  platforms: not graded on this engine" in text


def test_nothing_pushed_on_the_classic_store_is_skipped_too() -> None:
    assert {c.status for c in _grade({}, CLASSIC).exercises[0].checks} == {Status.SKIP}


def test_on_the_classic_store_an_exercise_done_elsewhere_still_passes() -> None:
    # pushed from another machine, or with a docker-container builder: graded, and it passes
    ex = _grade(_index("linux/amd64", "linux/arm64"), CLASSIC).exercises[0]
    assert {c.status for c in ex.checks} == {Status.PASS}
    assert ex.points == ex.max_points == 3


def test_on_the_containerd_store_a_mistake_fails_with_its_hint() -> None:
    ex = _grade(_index("linux/amd64"), CONTAINERD).exercises[0]
    statuses = {c.id: c.status for c in ex.checks}
    assert statuses == {"index": Status.PASS, "platforms": Status.FAIL, "lab-app": Status.PASS}
    assert "holds linux/amd64 only" in next(c.hint for c in ex.checks if c.id == "platforms")


def test_an_engine_that_could_not_be_asked_grades_as_usual() -> None:
    for engine in (Unavailable("the Docker daemon does not answer"), None):
        ex = _grade(_index("linux/amd64"), engine).exercises[0]
        assert Status.FAIL in {c.status for c in ex.checks}


def test_engine_state_reads_the_image_store_from_info() -> None:
    modern = {"Driver": "overlayfs", "DriverStatus": [["driver-type", "io.containerd.snapshotter.v1"]]}
    classic = {"Driver": "overlay2", "DriverStatus": [["Backing Filesystem", "extfs"], ["Supports d_type", "true"]]}
    assert engine_state(modern) == CONTAINERD
    assert engine_state(classic) == CLASSIC
    assert engine_state({"DriverStatus": None}) == EngineState(containerd_store=False, driver="?")
    assert engine_state({"DriverStatus": [["driver-type"], "junk", 3]}).containerd_store is False


def test_lacking_names_each_capability_once_and_only_on_the_classic_store() -> None:
    assert lacking(CONTAINERD, ["multi-platform"]) is None
    assert lacking(CLASSIC, []) is None
    reason = lacking(CLASSIC, ["multi-platform", "multi-platform"])
    assert reason is not None and reason.count("multi-platform images") == 1


def test_unsupported_names_the_exercises_an_engine_cannot_do() -> None:
    exercises = load_lab("part7").exercises
    assert unsupported(exercises, CONTAINERD) == {}
    left_out = unsupported(exercises, CLASSIC)
    assert list(left_out) == ["multi-platform"]
    assert left_out["multi-platform"] == lacking(CLASSIC, ["multi-platform"])
