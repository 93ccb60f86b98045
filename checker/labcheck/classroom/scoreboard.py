"""The class report rendered: a terminal table, CSV, JSON and a self-contained HTML scoreboard."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

from labcheck.classroom.report import ClassReport, LearnerRow
from labcheck.classroom.templating import render_template
from labcheck.results import ExerciseResult, Status


@dataclass(frozen=True)
class Cell:
    """One learner x exercise: points over the points graded, and a state for colour."""

    points: int
    max_points: int
    state: str  # "pass", "partial", "fail", "error" or "skip" (nothing graded here)

    @property
    def text(self) -> str:
        return "-" if self.state == "skip" else f"{self.points}/{self.max_points}"


def cell(ex: ExerciseResult) -> Cell:
    graded = [c for c in ex.checks if c.status is not Status.SKIP]
    if not graded:
        return Cell(0, 0, "skip")
    if any(c.status is Status.ERROR for c in graded):
        state = "error"
    elif all(c.status is Status.PASS for c in graded):
        state = "pass"
    else:
        state = "partial" if any(c.status is Status.PASS for c in graded) else "fail"
    return Cell(ex.points, ex.max_points, state)


def cells(row: LearnerRow) -> list[Cell]:
    return [cell(ex) for ex in row.result.exercises]


def to_table(report: ClassReport) -> str:
    """A fixed-width table: learner x exercise points, '-' where nothing is graded here."""
    ids = [ex_id for ex_id, _ in report.exercises]
    width = max([7, *(len(r.learner) for r in report.rows)])
    head = f"{'LEARNER':<{width}}  " + "  ".join(f"{i[:14]:>14}" for i in ids) + f"  {'TOTAL':>9}"
    lines = [head]
    for row in report.rows:
        values = "  ".join(f"{c.text:>14}" for c in cells(row))
        total = f"{row.result.points}/{row.result.max_points}"
        marks = ("  *" if row.submitted else "") + (f"  ! {'; '.join(row.problems)}" if row.problems else "")
        lines.append(f"{row.learner:<{width}}  {values}  {total:>9}{marks}")
    passed = sum(1 for r in report.rows if r.result.max_points and r.result.points == r.result.max_points)
    legend = "'-': not graded here" + ("; *: with a submitted report" if _any_submitted(report) else "")
    if any(r.problems for r in report.rows):
        legend += "; !: see why"
    lines.extend(f"not used: {r.path}: {r.reason}" for r in report.refused if not r.learner)
    lines.append(
        f"{len(report.rows)} learners, {passed} with every graded check passed; graded from {report.registry} "
        f"in {report.seconds:.2f} s ({legend})"
    )
    return "\n".join(lines) + "\n"


def _any_submitted(report: ClassReport) -> bool:
    return any(r.submitted for r in report.rows)


def to_csv(report: ClassReport) -> str:
    """learner,name,<exercise>...,points,max_points,problems (an empty cell: not graded here)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["learner", "name", *(i for i, _ in report.exercises), "points", "max_points", "problems"])
    for row in report.rows:
        values = ["" if c.state == "skip" else c.points for c in cells(row)]
        problems = "; ".join(row.problems)
        writer.writerow([row.learner, row.name, *values, row.result.points, row.result.max_points, problems])
    return out.getvalue()


def to_dict(report: ClassReport) -> dict[str, Any]:
    return {
        "schema": 1,
        "lab": report.lab,
        "registry": report.registry,
        "generated": report.generated,
        "seconds": round(report.seconds, 3),
        "exercises": [{"id": i, "title": t} for i, t in report.exercises],
        "learners": [
            {
                "id": row.learner,
                "name": row.name,
                "points": row.result.points,
                "max_points": row.result.max_points,
                "submitted": row.submitted,
                "problems": list(row.problems),
                "internal_error": row.internal_error,
                "exercises": [
                    {
                        "id": ex.id,
                        "points": ex.points,
                        "max_points": ex.max_points,
                        "state": cell(ex).state,
                        "checks": [
                            {"id": c.id, "status": c.status.value, "points": c.points, "max_points": c.max_points}
                            for c in ex.checks
                        ],
                    }
                    for ex in row.result.exercises
                ],
            }
            for row in report.rows
        ],
        "refused": [{"file": r.path, "learner": r.learner or None, "reason": r.reason} for r in report.refused],
    }


def to_json(report: ClassReport) -> str:
    return json.dumps(to_dict(report), indent=2) + "\n"


def to_html(report: ClassReport, refresh_seconds: int | None = None) -> str:
    """A self-contained page (inline CSS, no scripts); it reloads itself every `refresh_seconds`."""
    rows = [
        {
            "learner": row.learner,
            "name": row.name,
            "cells": cells(row),
            "points": row.result.points,
            "max_points": row.result.max_points,
            "submitted": row.submitted,
            "problems": row.problems,
            "failing": [
                f"{ex.id}/{c.id}: {c.title}"
                for ex in row.result.exercises
                for c in ex.checks
                if c.status in (Status.FAIL, Status.ERROR)
            ],
        }
        for row in report.rows
    ]
    stuck: dict[str, int] = {}
    for row in report.rows:
        for ex in row.result.exercises:
            if cell(ex).state in ("fail", "partial", "error"):
                stuck[ex.id] = stuck.get(ex.id, 0) + 1
    unclaimed = [r for r in report.refused if not r.learner]
    return render_template(
        "scoreboard.html.j2",
        report=report,
        rows=rows,
        stuck=stuck,
        unclaimed=unclaimed,
        refresh_seconds=refresh_seconds,
    )
