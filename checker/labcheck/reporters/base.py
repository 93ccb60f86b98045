"""The reporter interface, and the text every reporter shows only once it is printable."""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod

from labcheck.results import CheckResult, ExerciseResult, LabResult
from labcheck.text import printable


class Reporter(ABC):
    """Turns a LabResult into the text of one report."""

    @abstractmethod
    def render(self, result: LabResult) -> str:
        """The whole report, ending with a newline."""


def _check(c: CheckResult) -> CheckResult:
    return dataclasses.replace(
        c,
        id=printable(c.id),
        title=printable(c.title),
        message=printable(c.message),
        hint=printable(c.hint),
        evidence={printable(k): printable(v) for k, v in c.evidence.items()},
    )


def printable_result(result: LabResult) -> LabResult:
    """`result` with every string passed through `printable`: messages and evidence quote
    registries, tags and git, and a terminal or an XML file must get none of their controls."""
    exercises = tuple(
        ExerciseResult(printable(ex.id), printable(ex.title), printable(ex.lesson), tuple(map(_check, ex.checks)))
        for ex in result.exercises
    )
    return dataclasses.replace(
        result,
        lab=printable(result.lab),
        title=printable(result.title),
        target=printable(result.target),
        learner=None if result.learner is None else printable(result.learner),
        exercises=exercises,
    )
