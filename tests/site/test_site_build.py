"""The site builds strictly, and the generated lab pages say what the grader grades."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from labcheck.spec import load_lab
from labcheck.spec.render import example_context, render_lab

LESSONS = [
    "what-is-a-registry",
    "docker-hub",
    "tagging-strategies",
    "aws-ecr",
    "self-hosted-registry",
    "inspecting-images",
    "ci-cd-credentials",
]


def page_text(built: Path, page: str) -> str:
    """A built page's visible text: tags dropped (highlighting splits code into spans)."""
    raw = (built / page / "index.html").read_text(encoding="utf-8")
    return html.unescape(re.sub(r"<[^>]+>", "", raw))


def test_home_and_every_lesson_is_built(built_site: Path) -> None:
    assert (built_site / "index.html").is_file()
    for lesson in LESSONS:
        text = page_text(built_site, f"lessons/{lesson}")
        for section in ("Objectives", "Troubleshooting", "Takeaway", "What's next"):
            assert section in text, f"lessons/{lesson} has no {section!r} section"


def test_lab_pages_show_every_exercise_and_check(built_site: Path) -> None:
    spec = load_lab("part7")
    rendered = render_lab(spec, example_context(spec))
    index = page_text(built_site, "lab")
    assert "labcheck up part7" in index
    assert f"{spec.max_points} points" in index
    for ex in rendered.exercises:
        assert ex.id in index
        text = page_text(built_site, f"lab/{ex.id}")
        assert ex.id in text and ex.title in text
        assert f"labcheck run part7 {ex.id}" in text
        for check in ex.checks:
            assert check.id in text
            assert check.title in text, f"lab/{ex.id} lacks check title {check.title!r}"


@pytest.mark.parametrize("exercise_id", ["local-registry", "hub-publish", "promote"])
def test_lab_pages_link_to_their_lesson(built_site: Path, exercise_id: str) -> None:
    spec = load_lab("part7")
    ex = spec.exercise(exercise_id)
    assert ex is not None and ex.lesson
    raw = (built_site / "lab" / exercise_id / "index.html").read_text(encoding="utf-8")
    assert f'href="../../{ex.lesson}"' in raw


def test_go_templates_survive_the_build(built_site: Path) -> None:
    text = page_text(built_site, "lessons/inspecting-images")
    assert 'docker images --format "table {{.Repository}} {{.Tag}} {{.Size}}"' in text


def test_solutions_are_collapsed_details(built_site: Path) -> None:
    raw = (built_site / "lessons" / "tagging-strategies" / "index.html").read_text(encoding="utf-8")
    assert re.search(r'<details class="success">\s*<summary>Solution</summary>', raw)
