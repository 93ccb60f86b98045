"""Progressive help for an exercise: one level at a time, the solution last.

An exercise's levels are its `hints` (level 1: what to read and look up; level 2: the shape
of the commands), then its `instructions`, the solution a learner could type verbatim. An
exercise without hints has one level, the solution. `labcheck hint` and the site's exercise
pages show the same levels, rendered with the learner's values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from labcheck.errors import UsageError
from labcheck.spec.model import ExerciseSpec

_FENCE = re.compile(r"^\s*(```|~~~)")


@dataclass(frozen=True)
class Hint:
    """One level of help for an exercise (Markdown)."""

    exercise: str
    level: int
    levels: int
    text: str

    @property
    def is_solution(self) -> bool:
        """Whether this level is the exercise's solution (its instructions)."""
        return self.level == self.levels

    @property
    def next_level(self) -> int | None:
        """The level to ask for next, or None after the solution."""
        return None if self.is_solution else self.level + 1


def levels(exercise: ExerciseSpec) -> tuple[str, ...]:
    """Every level's text, least detailed first; the solution (if any) is the last."""
    texts = [h for h in exercise.hints if h.strip()]
    if exercise.instructions.strip():
        texts.append(exercise.instructions)
    return tuple(texts)


def hint_for(exercise: ExerciseSpec, level: int | None = None, *, solution: bool = False) -> Hint:
    """The requested level (default 1), or the solution; a level out of range is a usage error."""
    texts = levels(exercise)
    if not texts:
        raise UsageError(f"exercise {exercise.id!r} has no hints", tip="its lesson and the checks are all there is")
    if solution and not exercise.instructions.strip():
        raise UsageError(f"exercise {exercise.id!r} has no solution to show", tip="ask for --level 1")
    chosen = len(texts) if solution else (level or 1)
    if not 1 <= chosen <= len(texts):
        raise UsageError(
            f"exercise {exercise.id!r} has {len(texts)} hint level(s); there is no level {chosen}",
            tip=f"use --level 1 to {len(texts)}, or --solution",
        )
    return Hint(exercise=exercise.id, level=chosen, levels=len(texts), text=texts[chosen - 1])


def terminal_text(markdown: str) -> str:
    """Markdown as a terminal should show it: code fences dropped, code indented by 4 spaces."""
    lines: list[str] = []
    in_code = False
    for line in markdown.rstrip().splitlines():
        if _FENCE.match(line):
            in_code = not in_code
            continue
        lines.append(f"    {line}" if in_code and line.strip() else line)
    return "\n".join(lines)
