"""Learners' own `labcheck run --format json` reports, handed to `labcheck class report`.

Each file is read on its own: a file that is not a report, or not this learner's, is refused
with one short reason and the others are still used. The rule that ties a file to a learner:
it is named `<learner-id>.json` after a learner on the roster, and it is a report graded with
that learner's values (`labcheck run LAB --learner <learner-id>`: its `learner` field). So
alice's report copied to dave.json is refused, and so is a report graded without --learner
(the lab's default values are nobody's).
"""

from __future__ import annotations

import traceback
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labcheck.reporters.schema import NotAReport, read_report
from labcheck.results import CheckResult, ExerciseResult, LabResult, Status
from labcheck.spec.model import LabSpec
from labcheck.text import printable


@dataclass(frozen=True)
class Refused:
    """A submitted file that was not used, and why."""

    path: str
    learner: str  # the roster learner the file is named after; "" when it names none
    reason: str  # one printable line
    trace: str = ""  # a bug's traceback (LABCHECK_DEBUG=1 shows it); "" for a bad file


@dataclass(frozen=True)
class Submissions:
    reports: Mapping[str, LabResult] = field(default_factory=dict)  # by learner id
    refused: tuple[Refused, ...] = ()


def load_submitted(paths: Sequence[Path], spec: LabSpec, learners: Iterable[str]) -> Submissions:
    """Every file's report by learner, or why it was refused: one file never spoils another."""
    known = set(learners)
    reports: dict[str, LabResult] = {}
    sources: dict[str, Path] = {}
    refused: list[Refused] = []
    for path in paths:
        learner = path.stem if path.suffix == ".json" and path.stem in known else ""
        try:
            if not learner:
                raise NotAReport(
                    f"the file is not named after a learner on the roster: name it <learner-id>.json "
                    f"(the report of `labcheck run {spec.id} --learner <learner-id> --format json`)"
                )
            if learner in sources:
                raise NotAReport(f"{learner} already handed in {printable(str(sources[learner]))}")
            reports[learner] = _report_of(read_report(path), spec, learner)
            sources[learner] = path
        except NotAReport as exc:
            refused.append(Refused(printable(str(path)), learner, str(exc)))
        except Exception as exc:  # a bug reading one file must not cost the room its report
            what = printable(f"{type(exc).__name__}: {exc}").replace("\n", " ")[:300]
            reason = f"internal error (a bug in labcheck, please report it): {what}"
            refused.append(Refused(printable(str(path)), learner, reason, traceback.format_exc()))
    return Submissions(reports, tuple(refused))


def _report_of(data: Mapping[str, Any], spec: LabSpec, learner: str) -> LabResult:
    """The LabResult of a report already valid against the schema; NotAReport when it is not
    this learner's report of this lab."""
    if data["lab"] != spec.id:
        raise NotAReport(f"a report of lab {data['lab']}, not of {spec.id}")
    if data["learner"] != learner:
        if data["learner"] is None:
            raise NotAReport(
                f"graded with the lab's default values, not {learner}'s: run "
                f"`labcheck run {spec.id} --learner {learner} --format json --output {learner}.json`"
            )
        raise NotAReport(f"the report is {data['learner']}'s (its learner field), not {learner}'s")
    checks_of = {ex.id: {c.id for c in ex.checks} for ex in spec.exercises}
    exercises = []
    seen: set[tuple[str, str]] = set()
    for ex in data["exercises"]:
        if ex["id"] not in checks_of:
            raise NotAReport(f"exercise {ex['id']!r} is not in lab {spec.id}")
        checks = []
        for c in ex["checks"]:
            key = (ex["id"], c["id"])
            if c["id"] not in checks_of[ex["id"]]:
                raise NotAReport(f"check {ex['id']}/{c['id']} is not in lab {spec.id}")
            if key in seen:
                raise NotAReport(f"check {ex['id']}/{c['id']} appears twice")
            if c["points"] > c["max_points"]:
                raise NotAReport(f"check {ex['id']}/{c['id']}: {c['points']} points of {c['max_points']}")
            seen.add(key)
            checks.append(
                CheckResult(
                    c["id"],
                    c["title"],
                    Status(c["status"]),
                    int(c["points"]),  # the schema's integers include 1.0
                    int(c["max_points"]),
                    c["message"],
                    c["hint"],
                    dict(c["evidence"]),
                )
            )
        exercises.append(ExerciseResult(ex["id"], ex["title"], ex["lesson"], tuple(checks)))
    return LabResult(spec.id, spec.title, tuple(exercises), data["target"], learner)
