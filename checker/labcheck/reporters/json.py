"""The versioned JSON report that CI systems and the class report parse.

Pinned by report.schema.json (JSON Schema 2020-12, shipped in this package):
{"schema": 1, "lab", "learner", "target", "passed", "score": {"points", "max_points"},
 "exercises": [{"id", "title", "lesson", "passed", "points", "max_points", "checks": [{"id",
 "title", "status", "points", "max_points", "message", "hint", "evidence"}]}]}
"""

from __future__ import annotations

import json
from typing import Any

from labcheck.reporters.base import Reporter
from labcheck.results import LabResult

SCHEMA = 1


def to_dict(result: LabResult) -> dict[str, Any]:
    """The report as plain data."""
    return {
        "schema": SCHEMA,
        "lab": result.lab,
        "learner": result.learner,
        "target": result.target,
        "passed": result.passed,
        "score": {"points": result.points, "max_points": result.max_points},
        "exercises": [
            {
                "id": ex.id,
                "title": ex.title,
                "lesson": ex.lesson,
                "passed": ex.passed,
                "points": ex.points,
                "max_points": ex.max_points,
                "checks": [
                    {
                        "id": c.id,
                        "title": c.title,
                        "status": c.status.value,
                        "points": c.points,
                        "max_points": c.max_points,
                        "message": c.message,
                        "hint": c.hint,
                        "evidence": dict(c.evidence),
                    }
                    for c in ex.checks
                ],
            }
            for ex in result.exercises
        ],
    }


class JsonReporter(Reporter):
    def render(self, result: LabResult) -> str:
        # json escapes every control character itself (\u001b): the data stays exact
        return json.dumps(to_dict(result), indent=2, allow_nan=False) + "\n"
