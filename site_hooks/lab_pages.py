"""MkDocs hook: generate the lab pages from labs/<lab>/lab.yaml.

The pages are rendered from the spec the grader loads (`labcheck.spec.load_lab`), with the
services on their default ports (`example_context`), so exercise ids, instructions, checks and
points on the site cannot drift from what `labcheck run` grades.

- `on_config` appends one nav entry per exercise under the "Lab" section.
- `on_files` adds `lab/index.md` and `lab/<exercise-id>.md` as generated files (nothing is
  written into docs_dir).
- `on_serve` makes `mkdocs serve` rebuild when lab.yaml or a template changes.

The spec's templates are rendered by labcheck before they reach these pages, and the page
templates only insert those strings as values, so Docker's Go templates in instructions
(`{{.Repository}}`) reach the page untouched.
"""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Any

import jinja2
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

from labcheck.errors import LabcheckError
from labcheck.reporters.text import TextReporter
from labcheck.results import CheckResult, ExerciseResult, LabResult, Status
from labcheck.spec import LabSpec, load_lab
from labcheck.spec.loader import lab_path
from labcheck.spec.render import example_context, render_lab

LAB_ID = "part7"
LAB_DIR = "lab"  # inside docs_dir
NAV_SECTION = "Lab"
TEMPLATES = Path(__file__).parent / "templates"

_jinja = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    undefined=jinja2.StrictUndefined,
    autoescape=False,  # the output is Markdown, not HTML
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
)
_jinja.filters["cell"] = lambda text: str(text).replace("|", "\\|").replace("\n", " ")


def _lab() -> tuple[LabSpec, dict[str, str]]:
    try:
        spec = load_lab(LAB_ID)
        context = example_context(spec)
        return render_lab(spec, context), context
    except LabcheckError as exc:
        raise PluginError(f"lab pages: cannot load lab {LAB_ID!r}: {exc}") from exc


def exercise_page(exercise_id: str) -> str:
    """The docs_dir path of an exercise's page."""
    return f"{LAB_DIR}/{exercise_id}.md"


def lesson_link(lesson: str, from_page: str) -> str:
    """A Markdown link target for an exercise's `lesson` ("lessons/x/") from a docs page."""
    target = lesson.strip("/")
    if not target.endswith(".md"):
        target += ".md"
    return posixpath.relpath(target, posixpath.dirname(from_page))


def sample_report(spec: LabSpec) -> str:
    """`labcheck run` text output for a learner who did only half of the first exercise.

    Rendered by the real text reporter, so the layout on the page is the CLI's; the outcome
    messages are illustrations (the real ones come from the registries).
    """
    first = spec.exercises[0]
    checks = tuple(
        CheckResult(
            id=c.id,
            title=c.title,
            status=Status.PASS if n == 0 else Status.FAIL,
            points=c.points if n == 0 else 0,
            max_points=c.points,
            message=c.title if n == 0 else f"not yet: {c.title}",
            hint="" if n == 0 else (c.hint or f"see labcheck hint {spec.id} {first.id}"),
        )
        for n, c in enumerate(first.checks)
    )
    others = tuple(
        ExerciseResult(
            id=ex.id,
            title=ex.title,
            lesson=ex.lesson,
            checks=tuple(
                CheckResult(
                    id=c.id,
                    title=c.title,
                    status=Status.FAIL,
                    points=0,
                    max_points=c.points,
                    message=f"not yet: {c.title}",
                )
                for c in ex.checks
            ),
        )
        for ex in spec.exercises[1:]
    )
    result = LabResult(
        lab=spec.id,
        title=spec.title,
        exercises=(ExerciseResult(first.id, first.title, first.lesson, checks), *others),
    )
    text = TextReporter(color=False).render(result)
    # Keep the first exercise and the score: the rest of the lab is more of the same.
    lines = text.splitlines()
    second = next(i for i, ln in enumerate(lines) if ln.startswith(f"{spec.exercises[1].id} "))
    return "\n".join([*lines[:second], "...", "", *lines[-1:]]) + "\n"


def render_pages(spec: LabSpec, context: dict[str, str]) -> dict[str, str]:
    """Every generated page, docs_dir path -> Markdown."""
    exercises = [
        {
            "spec": ex,
            "number": n,
            "page": posixpath.basename(exercise_page(ex.id)),
            "lesson_link": lesson_link(ex.lesson, exercise_page(ex.id)) if ex.lesson else "",
        }
        for n, ex in enumerate(spec.exercises, start=1)
    ]
    services = [
        {"name": name, "spec": svc, "address": context[name.replace("-", "_")]} for name, svc in spec.services.items()
    ]
    common: dict[str, Any] = {
        "lab": spec,
        "services": services,
        "exercises": exercises,
        "sample_report": sample_report(spec),
    }
    pages = {f"{LAB_DIR}/index.md": _jinja.get_template("lab_index.md.j2").render(common)}
    for item in exercises:
        pages[exercise_page(item["spec"].id)] = _jinja.get_template("exercise.md.j2").render(common, exercise=item)
    return pages


def on_config(config: Any) -> Any:
    """Append one nav entry per exercise to the "Lab" section."""
    spec, _ = _lab()
    for entry in config.nav or []:
        if isinstance(entry, dict) and NAV_SECTION in entry:
            section = entry[NAV_SECTION]
            for n, ex in enumerate(spec.exercises, start=1):
                section.append({f"{n}. {ex.title}": exercise_page(ex.id)})
            return config
    raise PluginError(f"lab pages: mkdocs.yml nav has no {NAV_SECTION!r} section")


def on_files(files: Files, config: Any) -> Files:
    """Add the generated lab pages; a hand-written file at the same path is an error."""
    spec, context = _lab()
    for ex in spec.exercises:
        if ex.lesson and files.get_file_from_path(lesson_link(ex.lesson, "x.md")) is None:
            raise PluginError(f"lab pages: exercise {ex.id!r} links to a missing lesson {ex.lesson!r}")
    for path, markdown in render_pages(spec, context).items():
        if files.get_file_from_path(path) is not None:
            raise PluginError(f"lab pages: {path} is generated; remove the file from docs_dir")
        files.append(File.generated(config, path, content=markdown))
    return files


def on_serve(server: Any, config: Any, builder: Any) -> Any:
    """Rebuild on changes to the lab spec and the page templates."""
    server.watch(str(lab_path(LAB_ID)))
    server.watch(str(TEMPLATES))
    return server
