"""The application layer keeps what depends only on a spec's bytes and the context: never stale."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from labcheck.environment.state import LabState, ServiceState, save_state
from labcheck.errors import SpecError
from labcheck.session import load_lab, open_lab, prepare
from labcheck.spec.loader import lab_path

PART7 = lab_path("part7").parent


@pytest.fixture
def cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private cache and state dir, and a copy of part7 to edit."""
    monkeypatch.setenv("LABCHECK_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("LABCHECK_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("LABCHECK_NO_CACHE", raising=False)
    lab = tmp_path / "labs" / "part7"
    shutil.copytree(PART7, lab)
    return lab / "lab.yaml"


def test_a_spec_from_the_cache_equals_one_read_afresh(cached: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = prepare(load_lab(str(cached)), keep=True)
    assert len(list((cached.parents[2] / "cache").iterdir())) == 2  # the spec, and its rendering
    again = prepare(load_lab(str(cached)), keep=True)
    monkeypatch.setenv("LABCHECK_NO_CACHE", "1")
    fresh = prepare(load_lab(str(cached)), keep=True)
    for made in (again, first):
        assert made.spec == fresh.spec and made.spec.folder == fresh.spec.folder
        assert made.rendered == fresh.rendered
        assert made.context == fresh.context
        assert made.args == fresh.args
    assert len(fresh.args) == sum(len(ex.checks) for ex in fresh.rendered.exercises)


def test_an_edited_spec_is_read_again(cached: Path) -> None:
    assert load_lab(str(cached)).title != "Edited"
    text = cached.read_text(encoding="utf-8")
    cached.write_text(text.replace("\ntitle: ", "\ntitle: Edited\n_was: ", 1), encoding="utf-8")
    with pytest.raises(SpecError, match="_was: unknown key"):  # validated again: no stale hit
        load_lab(str(cached))
    cached.write_text(text.replace("\ntitle: ", "\ntitle: Edited\n#", 1), encoding="utf-8")
    assert load_lab(str(cached)).title == "Edited"


def test_each_place_and_learner_gets_its_own_rendering(cached: Path) -> None:
    spec = load_lab(str(cached))
    hub = ServiceState("hub", "HUB_REGISTRY", "127.0.0.1", 25001, "c1", "learner", "pw", auth="htpasswd")
    services = {
        n: hub if n == "hub" else ServiceState(n, "X", "127.0.0.1", 25002 + i, f"c{i}")
        for i, n in enumerate(spec.services)
    }
    save_state(LabState("part7", "part7", services))
    running = open_lab(str(cached))
    default = prepare(spec)
    ada = prepare(spec, learner="ada")
    assert running.context["hub"] == "localhost:25001" and default.context["hub"] != "localhost:25001"
    assert ada.context != default.context
    assert prepare(spec, learner="ada", keep=True).rendered == ada.rendered
    assert prepare(spec, learner="ada", keep=True).rendered == ada.rendered  # from the cache, the same


def test_a_class_of_learners_leaves_no_renderings_behind(cached: Path) -> None:
    """A class report renders each learner's lab once per report: caching those would write
    hundreds of entries never read again (and evict the ones that are)."""
    spec = load_lab(str(cached))
    for learner in ("ada", "bob", "cy"):
        prepare(spec, learner=learner, addresses={"hub": "127.0.0.1:5999"}, users={"hub": learner})
    assert len(list((cached.parents[2] / "cache").iterdir())) == 1  # the spec only


def test_a_graded_run_imports_neither_yaml_nor_jinja_once_cached(cached: Path) -> None:
    """What a grade pays for is the grading: the second run of a spec does not parse YAML,
    render templates or build a pydantic validator (issue 16)."""
    probe = (
        "import sys; from labcheck.session import open_lab; "
        f"lab = open_lab({str(cached)!r}, running=False); "
        "print(len(lab.args), *(m in sys.modules for m in ('yaml', 'jinja2', 'pydantic.plugin._loader')))"
    )
    runs = [subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True) for _ in "12"]
    first, second = (r.stdout.split() for r in runs)
    assert first[1:] == ["True", "True", "True"]  # the first reads and validates
    assert second[0] == first[0] and second[1:] == ["False", "False", "False"]


def test_the_lab_s_own_registries_are_read_without_counting_pulls(cached: Path) -> None:
    """Only a lab's own services resolve tags by GET (`free_pulls`); a remote registry such as
    Docker Hub, where a manifest GET is a pull, keeps HEAD (open_remote's targets)."""
    from labcheck.observe.gather import Target

    spec = load_lab(str(cached))
    services = {n: ServiceState(n, "X", "127.0.0.1", 26000 + i, f"c{i}") for i, n in enumerate(spec.services)}
    save_state(LabState("part7", "part7", services))
    targets = open_lab(str(cached)).targets
    assert targets and all(t.free_pulls for t in targets.values())
    assert Target("docker.io").free_pulls is False
