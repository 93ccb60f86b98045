"""The reports are pinned: JSON against the shipped report.schema.json, JUnit against Jenkins'
junit-10.xsd, and no report carries a character a terminal would run or XML 1.0 cannot hold."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import xmlschema
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from labcheck.reporters import reporter_for
from labcheck.reporters.schema import NotAReport, parse_report, report_schema
from labcheck.results import CheckResult, ExerciseResult, LabResult, Status

XSD = Path(__file__).parent / "schemas" / "junit-10.xsd"
HOSTILE = "tag \x1b[2J\x1b]0;owned\x07 nul\x00 cr\r del\x7f csi\x9b bad\udcff end\ufffe"
# what no report may hold: C0 controls but \t and \n, DEL and C1, lone surrogates, U+FFFE/U+FFFF
FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


@cache
def junit_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(XSD))


def validate_json(text: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(text)
    Draft202012Validator.check_schema(report_schema())
    errors = [e.message for e in Draft202012Validator(report_schema()).iter_errors(data)]
    assert not errors, errors
    return data


def validate_junit(text: str) -> ET.Element:
    root = ET.fromstring(text.encode())  # well-formed XML 1.0 first
    junit_schema().validate(text)
    return root


def result(message: str = "ok", learner: str | None = None) -> LabResult:
    checks = (
        CheckResult("pushed", "tag pushed", Status.PASS, 1, 1, message, evidence={"localhost:5000/a:1": "sha256:ab"}),
        CheckResult("same", "one image", Status.FAIL, 0, 2, message, hint=message, evidence={message: message}),
        CheckResult("pulled", "pulled", Status.ERROR, 0, 1, message, evidence={"why": message}),
        CheckResult("remote", "remote", Status.SKIP, 0, 0, message),
    )
    return LabResult("part7", "Docker registries", (ExerciseResult("ex", "Ex", "l/", checks),), "h:1", learner)


def test_the_schema_is_a_valid_2020_12_schema_and_pins_every_field() -> None:
    schema = report_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)
    data = json.loads(reporter_for("json").render(result()))
    # every object the reporter writes is closed and lists all its keys as required
    for node, sample in (
        (schema, data),
        (schema["$defs"]["exercise"], data["exercises"][0]),
        (schema["$defs"]["check"], data["exercises"][0]["checks"][0]),
        (schema["properties"]["score"], data["score"]),
    ):
        assert node["additionalProperties"] is False
        assert set(node["required"]) == set(node["properties"]) == set(sample)


@pytest.mark.parametrize("learner", [None, "alice"])
def test_json_report_validates(learner: str | None) -> None:
    data = validate_json(reporter_for("json").render(result(learner=learner)))
    assert data["learner"] == learner


def test_junit_report_validates_against_jenkins_xsd() -> None:
    root = validate_junit(reporter_for("junit").render(result()))
    suite = root.find("testsuite")
    assert suite is not None and suite.get("skipped") == "1"
    assert root.get("skipped") is None  # junit-10.xsd has no skipped on <testsuites>


def test_hostile_text_is_escaped_in_junit_and_text_and_exact_in_json() -> None:
    junit = reporter_for("junit").render(result(HOSTILE))
    validate_junit(junit)
    assert not FORBIDDEN.search(junit)
    assert "tag \\x1b[2J" in junit and "nul\\x00" in junit and "bad\\udcff" in junit
    for color in (False, True):
        text = reporter_for("text", color=color).render(result(HOSTILE))
        assert "\\x1b]0;owned\\x07" in text
        # the only ESC in a coloured report is our own colour codes
        assert not FORBIDDEN.search(re.sub(r"\x1b\[\d+m", "", text))
        text.encode("utf-8")  # printable on any terminal: nothing the encoder refuses
    raw = reporter_for("json").render(result(HOSTILE))
    assert not FORBIDDEN.search(raw)  # JSON escapes them itself (\u001b) ...
    assert validate_json(raw)["exercises"][0]["checks"][0]["message"] == HOSTILE  # ... and keeps the text exact


_text = st.text(max_size=40)
_checks = st.builds(
    CheckResult,
    st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True),
    _text,
    st.sampled_from(list(Status)),
    st.integers(0, 100),
    st.integers(0, 100),
    _text,
    _text,
    st.dictionaries(_text, _text, max_size=3),
)
_results = st.builds(
    LabResult,
    st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True),
    _text,
    st.lists(
        st.builds(
            ExerciseResult,
            st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True),
            _text,
            _text,
            st.lists(_checks, max_size=4).map(tuple),
        ),
        max_size=3,
    ).map(tuple),
    _text,
    st.none() | st.from_regex(r"[a-z0-9]{1,12}", fullmatch=True),
)


@settings(max_examples=60, deadline=None)
@given(_results)
def test_any_result_gives_valid_reports(res: LabResult) -> None:
    data = validate_json(reporter_for("json").render(res))
    assert parse_report(json.dumps(data).encode()) == data  # what we write, we read back
    junit = reporter_for("junit").render(res)
    validate_junit(junit)
    assert not FORBIDDEN.search(junit)
    assert not FORBIDDEN.search(reporter_for("text").render(res))


def _good() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(reporter_for("json").render(result(learner="alice")))
    return data


def _with(path: str, value: Any) -> bytes:
    data = _good()
    *parents, last = path.split("/")
    node: Any = data
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return json.dumps(data).encode()


def _without(path: str) -> bytes:
    data = _good()
    *parents, last = path.split("/")
    node: Any = data
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    del node[last]
    return json.dumps(data).encode()


CHECK = "exercises/0/checks/0"
BAD_REPORTS = {
    "infinity": (_with(f"{CHECK}/points", 0).replace(b'"points": 0', b'"points": Infinity', 1), "Infinity"),
    "nan": (_with("score/points", 0).replace(b'"points": 0', b'"points": NaN', 1), "NaN"),
    "negative": (_with(f"{CHECK}/points", -1), f"{CHECK}/points: -1 is less than the minimum of 0"),
    "big": (_with(f"{CHECK}/max_points", 10**12), f"{CHECK}/max_points: 1000000000000 is greater than the maximum"),
    "huge": (_with(f"{CHECK}/max_points", 10**30), "a number of 31 digits"),
    "5000-digits": (_with(f"{CHECK}/max_points", 7).replace(b": 7", b": " + b"9" * 5000, 1), "a number of 5000 digits"),
    "1e400": (_with(f"{CHECK}/points", 0).replace(b'"points": 0', b'"points": 1e400', 1), "too large"),
    "long-wrong-value": (_with("target", ["x" * 10_000]), "is not of type 'string'"),
    "float": (_with(f"{CHECK}/points", 0.5), f"{CHECK}/points: 0.5 is not of type 'integer'"),
    "bool-points": (_with("score/points", True), "score/points: True is not of type 'integer'"),
    "string-points": (_with("exercises/0/points", "5"), "exercises/0/points: '5' is not of type 'integer'"),
    "status": (_with(f"{CHECK}/status", "passed"), f"{CHECK}/status: 'passed' is not one of"),
    "schema-2": (_with("schema", 2), "schema: 1 was expected"),
    "lab-id": (_with("lab", "../etc"), "lab: '../etc' does not match"),
    "learner-not-an-id": (_with("learner", "Dave Smith"), "learner: 'Dave Smith' does not match"),
    "unknown-key": (_with("grade", "A+"), "Additional properties are not allowed ('grade' was unexpected)"),
    "unknown-check-key": (_with(f"{CHECK}/weight", 3), "('weight' was unexpected)"),
    "missing-target": (_without("target"), "'target' is a required property"),
    "missing-checks": (_without("exercises/0/checks"), "exercises/0: 'checks' is a required property"),
    "exercises-object": (_with("exercises", {"id": "x"}), "exercises: {'id': 'x'} is not of type 'array'"),
    "evidence-nested": (_with(f"{CHECK}/evidence", {"a": {"b": "c"}}), "is not of type 'string'"),
    "deep": (b'{"schema": 1, "lab": "x", "exercises": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested too deeply"),
    "deep-in-evidence": (
        _with(f"{CHECK}/evidence", {"a": "x"}).replace(b'"x"', b"[" * 900 + b"]" * 900),
        f"{CHECK}/evidence/a: ",
    ),
    "duplicate-key": (b'{"learner": "alice", "learner": "dave"}', "the key 'learner' appears twice"),
    "not-json": (b"<html>", "not valid JSON: Expecting value (line 1, column 1)"),
    "not-utf8": (b'{"lab": "\xff"}', "not UTF-8 text (byte 9)"),
    "binary": (bytes(range(256)), "not UTF-8 text"),
    "empty": (b"", "not valid JSON"),
    "list": (b"[]", "the report: [] is not of type 'object'"),
    "too-big": (b" " * (4 << 20) + b"{}", "bytes: a report is at most"),
    "control-chars-in-key": (_with("\x1b[2J", 1), "('\\x1b[2J' was unexpected)"),
}


@pytest.mark.parametrize("name", BAD_REPORTS)
def test_bad_reports_are_refused_with_one_short_reason(name: str) -> None:
    raw, reason = BAD_REPORTS[name]
    with pytest.raises(NotAReport) as info:
        parse_report(raw)
    message = str(info.value)
    assert reason in message, message
    assert "\n" not in message and len(message) < 400
    assert not FORBIDDEN.search(message)
