"""The terminal report: a line per check, the score, hints under failures."""

from __future__ import annotations

import textwrap

from labcheck.reporters.base import Reporter, printable_result
from labcheck.results import LabResult, Status

_MARK = {Status.PASS: "PASS", Status.FAIL: "FAIL", Status.ERROR: "ERROR", Status.SKIP: "SKIP"}
_COLOR = {Status.PASS: "32", Status.FAIL: "31", Status.ERROR: "33", Status.SKIP: "36"}


class TextReporter(Reporter):
    def __init__(self, *, color: bool = False, width: int = 88) -> None:
        self.color = color
        self.width = width

    def _paint(self, status: Status, text: str) -> str:
        return f"\033[{_COLOR[status]}m{text}\033[0m" if self.color else text

    def render(self, result: LabResult) -> str:
        result = printable_result(result)  # messages quote registries and git: no terminal controls
        lines = [f"labcheck {result.lab}: {result.title}" + (f"  [{result.target}]" if result.target else "")]
        for ex in result.exercises:
            head = "skipped" if ex.skipped else "passed" if ex.passed else "not yet"
            lines.append("")
            lines.append(f"{ex.id}  {ex.title}  ({ex.points}/{ex.max_points} points, {head})")
            for c in ex.checks:
                mark = self._paint(c.status, f"{_MARK[c.status]:<5}")
                lines.append(f"  {mark} {c.id}: {c.message}")
                if c.hint:
                    lines.extend(
                        textwrap.wrap(
                            f"hint: {c.hint}",
                            width=self.width,
                            initial_indent="        ",
                            subsequent_indent="              ",
                            break_on_hyphens=False,
                        )
                    )
        passed = result.count(Status.PASS)
        total = len(result.checks()) - result.count(Status.SKIP)
        lines.append("")
        summary = (
            f"Score: {result.points}/{result.max_points} points; {passed}/{total} checks passed, "
            f"{result.count(Status.FAIL)} failed, {result.count(Status.ERROR)} could not be graded"
        )
        if result.count(Status.SKIP):
            summary += f"; {result.count(Status.SKIP)} skipped (not graded here: each SKIP says why)"
        lines.append(summary)
        if result.count(Status.ERROR):
            lines.append("Checks marked ERROR were not graded (not your fault): fix the cause and run again.")
        return "\n".join(lines) + "\n"
