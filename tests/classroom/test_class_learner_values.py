"""Per-learner values: deterministic, the defaults without a learner, validated in lab.yaml."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from pydantic import ValidationError

from labcheck.cli import cli
from labcheck.errors import UsageError
from labcheck.session import load_lab
from labcheck.spec.learners import check_learner_id, learner_values
from labcheck.spec.loader import lab_path
from labcheck.spec.model import LabSpec
from labcheck.spec.render import example_context, exports, render_lab


def test_no_learner_gives_the_labs_original_values() -> None:
    spec = load_lab("part7")
    context = example_context(spec)
    assert (context["app"], context["version"], context["next_version"]) == ("my-app", "v1.0.0", "v1.1.0")
    assert exports(spec, context) == {"LAB_APP": "my-app", "LAB_VERSION": "v1.0.0", "LAB_NEXT_VERSION": "v1.1.0"}
    hub = render_lab(spec, context).exercise("hub-publish")
    assert hub is not None and "localhost:5001/learner/my-app:v1.0.0" in hub.instructions


def test_values_are_deterministic_and_differ_between_learners() -> None:
    spec = load_lab("part7")
    ids = [f"learner-{i:02d}" for i in range(1, 21)]
    first = [learner_values(spec, i) for i in ids]
    assert first == [learner_values(spec, i) for i in ids]
    combos = {(v["app"], v["major"], v["minor"]) for v in first}
    assert len(combos) >= 18  # 648 combinations: neighbours rarely share all three
    for values in first:
        assert values["app"] in (spec.learner_parameters["app"].choices or ())
        assert 1 <= int(values["major"]) <= 9 and 0 <= int(values["minor"]) <= 8


def test_pinned_derivation() -> None:
    """The hash must not change between releases: a learner's instructions would change under them."""
    spec = load_lab("part7")
    context = example_context(spec, "alice")
    assert (context["app"], context["version"], context["next_version"]) == ("quote-app", "v2.1.0", "v2.2.0")


def test_checks_expect_the_learners_values() -> None:
    spec = load_lab("part7")
    rendered = render_lab(spec, example_context(spec, "alice"))
    semver = rendered.exercise("semver-latest")
    assert semver is not None
    assert semver.checks[0].args == {"service": "hub", "repository": "learner/quote-app", "tag": "v2.1.0"}
    assert semver.checks[3].args["tags"] == ["v2.2.0", "latest"]


def test_instructions_command() -> None:
    runner = CliRunner()
    plain = runner.invoke(cli, ["instructions", "part7"], env={"LABCHECK_STATE_DIR": "/nonexistent"})
    assert plain.exit_code == 0 and "my-app:v1.0.0" in plain.output
    mine = runner.invoke(
        cli, ["instructions", "part7", "--learner", "alice", "--class-registry", "10.0.0.5:5050"], env={}
    )
    assert mine.exit_code == 0, mine.output
    assert "docker push 10.0.0.5:5050/alice/quote-app:v2.1.0" in mine.output
    assert "v1.0.0" not in mine.output


@pytest.mark.parametrize("bad", ["Alice", "a b", "", "x" * 41, "a..b", "-a"])
def test_bad_learner_ids(bad: str) -> None:
    with pytest.raises(UsageError):
        check_learner_id(bad)


def _spec_data() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(lab_path("part7").read_text())
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"app": {"default": "x-app", "choices": ["a-app", "b-app"]}}, "is not one of the choices"),
        ({"major": {"default": "1", "range": [1, 9], "choices": ["1", "2"]}}, "exactly one derivation rule"),
        ({"major": {"default": "0", "range": [1, 9]}}, "not an integer in range"),
        ({"namespace": {"default": "a", "choices": ["a", "b"]}}, "both a parameter and a learner parameter"),
    ],
)
def test_spec_validation(change: dict[str, Any], message: str) -> None:
    data = _spec_data()
    data["learner_parameters"] = {**data["learner_parameters"], **change}
    with pytest.raises(ValidationError, match=message):
        LabSpec.model_validate(data)


def test_learner_parameters_need_a_seed_and_class_service_a_login() -> None:
    data = _spec_data()
    with pytest.raises(ValidationError, match="need a seed"):
        LabSpec.model_validate({**data, "seed": ""})
    with pytest.raises(ValidationError, match="not a registry service with a login"):
        LabSpec.model_validate({**data, "class_service": "registry"})
