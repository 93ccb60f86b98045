"""Reporters: the JSON schema CI systems parse, JUnit XML, and the terminal text."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from labcheck.reporters import reporter_for
from labcheck.results import CheckResult, ExerciseResult, LabResult, Status

DIGEST = "sha256:" + "ab" * 32


def result() -> LabResult:
    checks = (
        CheckResult("pushed", "tag pushed", Status.PASS, 1, 1, "ok", evidence={"localhost:5000/a:1": DIGEST}),
        CheckResult("same", "one image", Status.FAIL, 0, 2, "differ", hint="you rebuilt between the two tags"),
        CheckResult("pulled", "pulled", Status.ERROR, 0, 1, "cannot reach registry localhost:5000"),
    )
    return LabResult(lab="part7", title="Docker registries", exercises=(ExerciseResult("ex", "Ex", "l/", checks),))


def test_json_report_has_the_versioned_schema() -> None:
    data = json.loads(reporter_for("json").render(result()))
    assert data["schema"] == 1
    assert data["lab"] == "part7"
    assert data["passed"] is False
    assert data["score"] == {"points": 1, "max_points": 4}
    check = data["exercises"][0]["checks"][0]
    assert set(check) == {"id", "title", "status", "points", "max_points", "message", "hint", "evidence"}
    assert check["evidence"]["localhost:5000/a:1"].startswith("sha256:")
    assert [c["status"] for c in data["exercises"][0]["checks"]] == ["pass", "fail", "error"]


def test_junit_has_a_testcase_per_check_and_keeps_fail_and_error_apart() -> None:
    root = ET.fromstring(reporter_for("junit").render(result()))
    assert root.get("tests") == "3"
    assert root.get("failures") == "1"
    assert root.get("errors") == "1"
    cases = root.findall(".//testcase")
    assert len(cases) == 3
    assert cases[1].find("failure") is not None
    assert "you rebuilt" in (cases[1].find("failure").text or "")  # type: ignore[union-attr]
    assert cases[2].find("error") is not None


def test_text_report_lists_checks_hints_and_score_without_colour() -> None:
    text = reporter_for("text").render(result())
    assert "PASS  pushed: ok" in text
    assert "FAIL  same: differ" in text
    assert "hint: you rebuilt between the two tags" in text
    assert "ERROR pulled:" in text
    assert "Score: 1/4 points" in text
    assert "not your fault" in text
    assert "\033[" not in text


def test_text_report_colours_only_when_asked() -> None:
    assert "\033[32m" in reporter_for("text", color=True).render(result())


def test_exit_code_prefers_could_not_grade_over_fail() -> None:
    assert result().exit_code == 3
    only_fail = LabResult("p", "t", (ExerciseResult("e", "E", "", result().exercises[0].checks[:2]),))
    assert only_fail.exit_code == 1
    only_pass = LabResult("p", "t", (ExerciseResult("e", "E", "", result().exercises[0].checks[:1]),))
    assert only_pass.exit_code == 0
