"""Progressive hints: levels in order, the solution last, and no hint that gives the solution away."""

from __future__ import annotations

import pytest

from labcheck.errors import UsageError
from labcheck.hints import hint_for, levels, terminal_text
from labcheck.session import load_lab
from labcheck.spec.model import CheckSpec, ExerciseSpec
from labcheck.spec.render import example_context, render_lab

CHECK = CheckSpec(id="c", title="t", kind="tag_exists")


def exercise(**fields: object) -> ExerciseSpec:
    return ExerciseSpec.model_validate({"id": "ex", "title": "T", "summary": "S", "checks": [CHECK], **fields})


def test_the_levels_are_the_hints_then_the_solution() -> None:
    ex = exercise(hints=["read", "shape"], instructions="do")
    assert levels(ex) == ("read", "shape", "do")
    first = hint_for(ex)
    assert (first.level, first.levels, first.text, first.is_solution, first.next_level) == (1, 3, "read", False, 2)
    assert hint_for(ex, 2).next_level == 3
    last = hint_for(ex, solution=True)
    assert (last.level, last.text, last.is_solution, last.next_level) == (3, "do", True, None)


def test_without_hints_the_solution_is_the_only_level() -> None:
    only = hint_for(exercise(instructions="do"))
    assert (only.level, only.levels, only.is_solution) == (1, 1, True)


@pytest.mark.parametrize(
    ("fields", "level", "solution", "message"),
    [
        ({"hints": ["a"], "instructions": "b"}, 3, False, r"has 2 hint level\(s\); there is no level 3"),
        ({"hints": ["a"]}, None, True, "has no solution to show"),
        ({}, None, False, "has no hints"),
    ],
)
def test_levels_that_do_not_exist_are_usage_errors(
    fields: dict[str, object], level: int | None, solution: bool, message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        hint_for(exercise(**fields), level, solution=solution)


def test_terminal_text_drops_fences_and_indents_code() -> None:
    text = "Run:\n\n```bash\ndocker push x\n\necho done\n```\nThen grade."
    assert terminal_text(text) == "Run:\n\n    docker push x\n\n    echo done\nThen grade."


def test_at_most_five_hint_levels() -> None:
    with pytest.raises(ValueError, match="at most 5"):
        exercise(hints=["h"] * 6)


@pytest.mark.parametrize("learner", [None, "alice", "learner-07"])
def test_part7_is_a_challenge_every_hint_short_of_the_solution(learner: str | None) -> None:
    spec = load_lab("part7")
    for ex in render_lab(spec, example_context(spec, learner)).exercises:
        assert ex.goal.strip() and ex.minutes, f"{ex.id}: a goal and a time estimate"
        assert len(ex.hints) == 2, f"{ex.id}: level 1 (where to read) and level 2 (the shape of the commands)"
        assert "lesson" in ex.hints[0].lower()
        # the docker and aws commands, with the learner's names in them, are what a learner works out
        commands = [ln.strip() for ln in ex.instructions.splitlines() if ln.startswith(("docker ", "aws "))]
        assert len(commands) >= 3, ex.id
        for text in (ex.goal, *ex.hints):
            given = [c for c in commands if c in text]
            assert not given, f"{ex.id}: a hint or the goal gives away {given}"
