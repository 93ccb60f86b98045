"""The versioned JSON report that CI systems and the class report parse.

{"schema": 1, "lab", "passed", "score": {"points", "max_points"},
 "exercises": [{"id", "title", "passed", "checks": [{"id", "title", "status", "points",
 "max_points", "message", "hint", "evidence"}]}]}
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
        return json.dumps(to_dict(result), indent=2) + "\n"
