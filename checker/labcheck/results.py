"""What grading produces: frozen results that reporters render and the JSON report carries."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Status(StrEnum):
    """A check's outcome. ERROR means we could not grade: it never counts as a fail.
    SKIP means the check does not apply to this target (a remote registry): not counted."""

    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"
    SKIP = "skip"


@dataclass(frozen=True)
class Outcome:
    """What a check kind decides from observations, before points are attached."""

    status: Status
    message: str
    hint: str = ""
    evidence: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def passed(cls, message: str, evidence: Mapping[str, str] | None = None) -> Outcome:
        return cls(Status.PASS, message, "", dict(evidence or {}))

    @classmethod
    def failed(cls, message: str, hint: str, evidence: Mapping[str, str] | None = None) -> Outcome:
        return cls(Status.FAIL, message, hint, dict(evidence or {}))

    @classmethod
    def errored(cls, message: str, evidence: Mapping[str, str] | None = None) -> Outcome:
        return cls(Status.ERROR, message, "", dict(evidence or {}))


@dataclass(frozen=True)
class CheckResult:
    """One graded check."""

    id: str
    title: str
    status: Status
    points: int
    max_points: int
    message: str
    hint: str = ""
    evidence: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ExerciseResult:
    """An exercise's checks; passed only when every check passed."""

    id: str
    title: str
    lesson: str
    checks: tuple[CheckResult, ...]

    @property
    def passed(self) -> bool:
        return all(c.status in (Status.PASS, Status.SKIP) for c in self.checks)

    @property
    def skipped(self) -> bool:
        """Every check was skipped: the exercise does not apply to this target."""
        return all(c.status is Status.SKIP for c in self.checks)

    @property
    def points(self) -> int:
        return sum(c.points for c in self.checks)

    @property
    def max_points(self) -> int:
        return sum(c.max_points for c in self.checks)


@dataclass(frozen=True)
class LabResult:
    """A whole run: the lab, the registry graded, and every exercise."""

    lab: str
    title: str
    exercises: tuple[ExerciseResult, ...]
    target: str = ""  # e.g. "localhost:5000" or "docker.io/alice"
    learner: str | None = None  # graded with this workshop learner's values (--learner), else the defaults

    def checks(self) -> list[CheckResult]:
        return [c for e in self.exercises for c in e.checks]

    @property
    def passed(self) -> bool:
        return all(e.passed for e in self.exercises)

    @property
    def points(self) -> int:
        return sum(e.points for e in self.exercises)

    @property
    def max_points(self) -> int:
        return sum(e.max_points for e in self.exercises)

    def count(self, status: Status) -> int:
        return sum(1 for c in self.checks() if c.status is status)

    @property
    def exit_code(self) -> int:
        """0 every check passed; 3 something could not be graded; 1 a check failed."""
        if self.count(Status.ERROR):
            return 3
        if self.count(Status.FAIL):
            return 1
        return 0
