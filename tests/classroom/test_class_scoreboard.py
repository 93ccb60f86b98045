"""The class report's renderings and what the class registry can grade, without Docker."""

from __future__ import annotations

import csv
import io
import json

from labcheck.classroom.report import ClassReport, LearnerRow, class_gradable
from labcheck.classroom.scoreboard import cell, to_csv, to_html, to_json, to_table
from labcheck.results import CheckResult, ExerciseResult, LabResult, Status
from labcheck.session import load_lab
from labcheck.spec.render import example_context, render_lab


def _ex(ex_id: str, *statuses: Status) -> ExerciseResult:
    checks = tuple(
        CheckResult(f"c{i}", f"check {i}", s, int(s is Status.PASS), 0 if s is Status.SKIP else 1, "msg")
        for i, s in enumerate(statuses)
    )
    return ExerciseResult(ex_id, ex_id.title(), "", checks)


def _report() -> ClassReport:
    rows = (
        LearnerRow(
            "alice",
            "Alice <b>",
            LabResult("part7", "T", (_ex("hub", Status.PASS, Status.PASS), _ex("local", Status.SKIP))),
        ),
        LearnerRow(
            "bob", "", LabResult("part7", "T", (_ex("hub", Status.PASS, Status.FAIL), _ex("local", Status.SKIP))), True
        ),
        LearnerRow(
            "carol", "", LabResult("part7", "T", (_ex("hub", Status.ERROR, Status.FAIL), _ex("local", Status.SKIP)))
        ),
    )
    return ClassReport(
        "part7",
        "Docker registries",
        "localhost:5050",
        "2026-11-27T10:00:00Z",
        0.5,
        (("hub", "Hub"), ("local", "Local")),
        rows,
    )


def test_cells() -> None:
    assert cell(_ex("x", Status.PASS, Status.PASS)).state == "pass"
    assert cell(_ex("x", Status.PASS, Status.FAIL)).state == "partial"
    assert cell(_ex("x", Status.FAIL)).state == "fail"
    assert cell(_ex("x", Status.ERROR, Status.PASS)).state == "error"
    skipped = cell(_ex("x", Status.SKIP))
    assert (skipped.state, skipped.text) == ("skip", "-")


def test_table() -> None:
    lines = to_table(_report()).splitlines()
    assert lines[0].split() == ["LEARNER", "hub", "local", "TOTAL"]
    assert lines[1].split() == ["alice", "2/2", "-", "2/2"]
    assert lines[2].split() == ["bob", "1/2", "-", "1/2", "*"]
    assert lines[-1].startswith("3 learners, 1 with every graded check passed; graded from localhost:5050")


def test_csv_and_json() -> None:
    rows = list(csv.reader(io.StringIO(to_csv(_report()))))
    assert rows[0] == ["learner", "name", "hub", "local", "points", "max_points", "problems"]
    assert rows[1] == ["alice", "Alice <b>", "2", "", "2", "2", ""]
    data = json.loads(to_json(_report()))
    assert data["schema"] == 1 and data["registry"] == "localhost:5050"
    assert [x["id"] for x in data["learners"]] == ["alice", "bob", "carol"]
    assert data["learners"][1]["exercises"][0]["state"] == "partial"
    assert data["learners"][0]["exercises"][1]["checks"][0]["status"] == "skip"


def test_html_is_self_contained_escaped_and_refreshes() -> None:
    page = to_html(_report(), refresh_seconds=10)
    assert '<meta http-equiv="refresh" content="10">' in page
    assert "Alice &lt;b&gt;" in page and "Alice <b>" not in page
    assert "<script" not in page and "src=" not in page and "http://" not in page and "https://" not in page
    assert 'class="partial">1/2' in page and 'class="skip">-' in page
    assert "hub: 2" in page  # two learners stuck on hub
    assert "http-equiv" not in to_html(_report())


def test_what_the_class_registry_can_grade() -> None:
    spec = load_lab("part7")
    lab = render_lab(spec, example_context(spec))
    gradable = {
        f"{ex.id}/{c.id}" for ex in lab.exercises for c in ex.checks if class_gradable(ex, c, spec.class_service or "")
    }
    assert gradable == {
        "hub-publish/latest-pushed",
        "hub-publish/version-pushed",
        "hub-publish/one-image",
        "hub-publish/lab-app",
        "semver-latest/first-version",
        "semver-latest/second-version",
        "semver-latest/versions-differ",
        "semver-latest/latest-moved",
        "pull-by-version/different",
    }
