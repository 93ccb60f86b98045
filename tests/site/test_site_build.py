"""The site builds strictly, and the generated lab pages say what the grader grades."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from labcheck.session import load_lab
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


def test_exercise_pages_are_challenges_with_collapsed_help(built_site: Path) -> None:
    spec = load_lab("part7")
    rendered = render_lab(spec, example_context(spec))
    for ex in rendered.exercises:
        raw = (built_site / "lab" / ex.id / "index.html").read_text(encoding="utf-8")
        text = page_text(built_site, f"lab/{ex.id}")
        assert "Your goal" in text and "Your values" in text and "What is graded" in text
        assert f"about {ex.minutes} minutes" in text
        # every hint level and the solution are there, each in a closed <details>
        summaries = re.findall(r"<details class=\"(\w+)\">\s*<summary>([^<]*)</summary>", raw)
        assert [s for _, s in summaries[:3]] == [
            "Hint 1: where to read",
            "Hint 2: the shape of the commands",
            "Solution: the commands",
        ], ex.id
        assert "<details open" not in raw
        solution = raw[raw.index("Solution: the commands") :]
        before = html.unescape(re.sub(r"<[^>]+>", "", raw[: raw.index("Hint 1: where to read")]))
        commands = [ln for ln in ex.instructions.splitlines() if ln.startswith(("docker ", "aws "))]
        assert commands and all(c not in before for c in commands), f"{ex.id} shows a solution line before its hints"
        assert html.unescape(re.sub(r"<[^>]+>", "", solution)).count(commands[-1]) >= 1


def test_a_pipe_in_a_check_hint_is_not_escaped(built_site: Path) -> None:
    text = page_text(built_site, "lab/ecr")
    assert "aws ecr get-login-password | docker login --username AWS --password-stdin localhost:5002" in text
    assert "\\|" not in text


def test_semver_latest_writes_the_learners_next_version(built_site: Path) -> None:
    text = page_text(built_site, "lab/semver-latest")
    assert 'echo "1.1.0" > version.txt' in text  # the default learner's next version, v1.1.0, without the v
    spec = load_lab("part7")
    alice = render_lab(spec, example_context(spec, "alice")).exercise("semver-latest")
    assert alice is not None
    version = example_context(spec, "alice")["next_version"].removeprefix("v")
    assert f'echo "{version}" > version.txt' in alice.instructions and version != "1.1.0"


def test_lessons_never_push_the_graded_repositories() -> None:
    """The lab is where learners apply what they read: no lesson command does an exercise for them."""
    spec = load_lab("part7")
    context = example_context(spec)
    graded = {"localhost:5000/my-app", "localhost:5000/myapp", "localhost:5001/learner/my-app", "localhost:5002/my-app"}
    graded |= {f"$REGISTRY/{context['app']}", f"$HUB_REGISTRY/$HUB_USERNAME/{context['app']}"}
    graded |= {f'"$ECR_REGISTRY/{context["app"]}', "--repository-name my-app"}
    for path in sorted((Path(__file__).parents[2] / "site" / "lessons").glob("*.md")):
        commands = [
            line
            for block in re.findall(r"```bash\n(.*?)```", path.read_text(encoding="utf-8"), re.S)
            for line in block.splitlines()
        ]
        found = [c for c in commands for name in graded if name in c]
        assert not found, f"{path.name} runs {found}"


def test_the_path_puts_each_exercise_after_its_lesson_with_a_time(built_site: Path) -> None:
    nav = (built_site / "index.html").read_text(encoding="utf-8")
    order = re.findall(r'href="(?:\./)?((?:lessons|lab)/[\w-]+/)"', nav[nav.index('class="md-nav md-nav--primary"') :])
    seen = list(dict.fromkeys(order))
    spec = load_lab("part7")
    for ex in spec.exercises:
        assert seen.index(f"lab/{ex.id}/") > seen.index(ex.lesson), ex.id
    exercise_positions = [seen.index(f"lab/{ex.id}/") for ex in spec.exercises]
    assert exercise_positions == sorted(exercise_positions)
    home = page_text(built_site, "")
    assert "Your path" in home and "In all" in home
    for lesson in LESSONS:
        assert re.search(r"Lesson \d of 7 · about \d+ minutes", page_text(built_site, f"lessons/{lesson}"))


def test_nothing_is_loaded_from_another_host(built_site: Path) -> None:
    for page in built_site.rglob("*.html"):
        raw = page.read_text(encoding="utf-8")
        # what a browser fetches by itself: scripts, images, stylesheets, preconnects (not links, canonical)
        external = re.findall(r'<(?:script|img)[^>]+src="((?:https?:)?//[^"]+)"', raw)
        external += re.findall(
            r'<link[^>]+rel="(?:stylesheet|preconnect|preload|prefetch)"[^>]+href="((?:https?:)?//[^"]+)"', raw
        )
        assert not external, f"{page}: {external}"
        assert "fonts.googleapis.com" not in raw and "fonts.gstatic.com" not in raw
    sitemap = (built_site / "sitemap.xml").read_text(encoding="utf-8")
    assert sitemap.count("<loc>") >= 20 and "<loc>None" not in sitemap
