"""MkDocs hook: generate the lab pages from labs/<lab>/lab.yaml.

The pages are rendered from the spec the grader loads (`labcheck.spec.load_lab`), with the
services on their default ports (`labcheck.session.prepare`), so exercise ids, goals, hints, solutions,
checks and points on the site cannot drift from what `labcheck hint` shows and `labcheck run`
grades.

- `on_config` puts each exercise into the nav right after its lesson (in the lesson's section),
  and refuses a lab whose exercise order does not follow the lessons: the learner's path is
  lesson 1, its exercises, lesson 2, ...
- `on_files` adds `lab/index.md` (the finish page) and `lab/<exercise-id>.md` as generated
  files (nothing is written into docs_dir).
- `on_page_markdown` fills the `<!-- lab:services -->` marker of a hand-written page with the
  lab's services.
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
import jinja2.meta
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

from labcheck.errors import LabcheckError
from labcheck.reporters.text import TextReporter
from labcheck.results import CheckResult, ExerciseResult, LabResult, Status
from labcheck.session import load_lab, prepare
from labcheck.spec.loader import lab_path
from labcheck.spec.model import ExerciseSpec, LabSpec
from labcheck.spec.render import exports

LAB_ID = "part7"
LAB_DIR = "lab"  # inside docs_dir
FINISH_PAGE = f"{LAB_DIR}/index.md"
SERVICES_MARKER = "<!-- lab:services -->"
TEMPLATES = Path(__file__).parent / "templates"

_jinja = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    undefined=jinja2.StrictUndefined,
    autoescape=False,  # the output is Markdown, not HTML
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
)
# A table cell: no newline, and `|` escaped (inside a code span too: the tables extension splits first).
_jinja.filters["cell"] = lambda text: str(text).replace("|", "\\|").replace("\n", " ")
# A list item or a paragraph: one line, nothing escaped (an escaped `\|` would show on the page).
_jinja.filters["oneline"] = lambda text: " ".join(str(text).split())
_template_source = jinja2.Environment()


def _lab() -> tuple[LabSpec, dict[str, str]]:
    try:
        prepared = prepare(load_lab(LAB_ID))  # on the default ports, as the lessons name them
        return prepared.rendered, dict(prepared.context)
    except LabcheckError as exc:
        raise PluginError(f"lab pages: cannot load lab {LAB_ID!r}: {exc}") from exc


def exercise_page(exercise_id: str) -> str:
    """The docs_dir path of an exercise's page."""
    return f"{LAB_DIR}/{exercise_id}.md"


def lesson_file(lesson: str) -> str:
    """The docs_dir path of an exercise's `lesson` ("lessons/x/" -> "lessons/x.md")."""
    target = lesson.strip("/")
    return target if target.endswith(".md") else f"{target}.md"


def lesson_link(lesson: str, from_page: str) -> str:
    """A Markdown link target for an exercise's `lesson` ("lessons/x/") from a docs page."""
    return posixpath.relpath(lesson_file(lesson), posixpath.dirname(from_page))


def page_title(markdown: str) -> str:
    """The first `# ` heading of a page."""
    return next((ln[2:].strip() for ln in markdown.splitlines() if ln.startswith("# ")), "")


def exercise_title(number: int, exercise: ExerciseSpec) -> str:
    """An exercise's title in the nav and on its page: "Exercise 2: Publish on ..."."""
    return f"Exercise {number}: {exercise.title}"


def _names(text: str) -> set[str]:
    """The template variables a spec string uses."""
    if "{" not in text:
        return set()
    return set(jinja2.meta.find_undeclared_variables(_template_source.parse(text)))


def exercise_variables(raw: LabSpec, exercise_id: str, context: dict[str, str]) -> list[tuple[str, str]]:
    """The `labcheck env` variables an exercise's values come from, with their values here.

    Read from the unrendered spec: the template names its texts and checks use (through the
    lab's parameters: `namespace` is the hub's username), and the services its checks read.
    """
    ex = raw.exercise(exercise_id)
    assert ex is not None
    used: set[str] = set()
    for text in (ex.summary, ex.goal, *ex.hints, ex.instructions):
        used |= _names(text)
    for check in ex.checks:
        used |= _names(check.title) | _names(str(check.args))
        used |= {str(check.args[k]).replace("-", "_") for k in ("service", "registry") if k in check.args}
    pending = list(used)
    while pending:  # a parameter stands for the names its own template uses
        name = pending.pop()
        for inner in _names(raw.parameters.get(name, "")) - used:
            used.add(inner)
            pending.append(inner)
    variables: list[tuple[str, str]] = []
    for name, svc in raw.services.items():
        key = name.replace("-", "_")
        if key not in used:
            continue
        address = context[key]
        variables.append((svc.env_var, f"http://{address}" if svc.kind == "ecr-api" else address))
        if svc.auth == "htpasswd":  # the exercise logs in
            prefix = svc.env_var.removesuffix("_REGISTRY")
            variables.append((f"{prefix}_USERNAME", context[f"{key}_username"]))
            variables.append((f"{prefix}_PASSWORD", "generated when the lab starts"))
    values = exports(raw, context)
    for env_name, template in raw.exports.items():
        if _names(template) & used:
            variables.append((env_name, values[env_name]))
    return variables


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


def render_pages(
    spec: LabSpec, context: dict[str, str], lesson_titles: dict[str, str], raw: LabSpec | None = None
) -> dict[str, str]:
    """Every generated page, docs_dir path -> Markdown. `lesson_titles`: lesson file -> its title."""
    raw = raw or load_lab(spec.id)
    exercises = [
        {
            "spec": ex,
            "number": n,
            "title": exercise_title(n, ex),
            "page": posixpath.basename(exercise_page(ex.id)),
            "lesson_link": lesson_link(ex.lesson, exercise_page(ex.id)) if ex.lesson else "",
            "lesson_title": lesson_titles.get(lesson_file(ex.lesson), "") if ex.lesson else "",
            "variables": exercise_variables(raw, ex.id, context),
        }
        for n, ex in enumerate(spec.exercises, start=1)
    ]
    common: dict[str, Any] = {
        "lab": spec,
        "exercises": exercises,
        "sample_report": sample_report(spec),
        "minutes": sum(ex.minutes or 0 for ex in spec.exercises),
    }
    pages = {FINISH_PAGE: _jinja.get_template("lab_index.md.j2").render(common)}
    for item in exercises:
        pages[exercise_page(item["spec"].id)] = _jinja.get_template("exercise.md.j2").render(common, exercise=item)
    return pages


def services_markdown(spec: LabSpec, context: dict[str, str]) -> str:
    """The lab's services as a Markdown list, for the `<!-- lab:services -->` marker."""
    services = [
        {"name": name, "spec": svc, "address": context[name.replace("-", "_")]} for name, svc in spec.services.items()
    ]
    return _jinja.get_template("services.md.j2").render(lab=spec, services=services)


def _lesson_sections(nav: list[Any]) -> dict[str, list[Any]]:
    """Lesson file -> the nav list (section) holding it."""
    sections: dict[str, list[Any]] = {}
    for entry in nav:
        if isinstance(entry, dict):
            for value in entry.values():
                if isinstance(value, list):
                    for item in value:
                        target = next(iter(item.values())) if isinstance(item, dict) else item
                        if isinstance(target, str) and target.startswith("lessons/"):
                            sections[target] = value
                    sections.update(_lesson_sections(value))
    return sections


def on_config(config: Any) -> Any:
    """Put each exercise into the nav right after its lesson; their order must be the lessons'."""
    spec, _ = _lab()
    nav = config.nav or []
    sections = _lesson_sections(nav)
    flat = list(sections)  # lesson files in nav order
    position = -1
    for n, ex in enumerate(spec.exercises, start=1):
        lesson = lesson_file(ex.lesson) if ex.lesson else ""
        if lesson not in sections:
            raise PluginError(f"lab pages: exercise {ex.id!r} practises {ex.lesson!r}, which is not in the nav")
        if flat.index(lesson) < position:
            raise PluginError(
                f"lab pages: exercise {ex.id!r} (lesson {lesson}) comes after an exercise of a later lesson: "
                "order the exercises in lab.yaml as the lessons are ordered"
            )
        position = flat.index(lesson)
        sections[lesson].append({exercise_title(n, ex): exercise_page(ex.id)})
    return config


def on_files(files: Files, config: Any) -> Files:
    """Add the generated lab pages; a hand-written file at the same path is an error."""
    spec, context = _lab()
    titles: dict[str, str] = {}
    for ex in spec.exercises:
        lesson = files.get_file_from_path(lesson_file(ex.lesson)) if ex.lesson else None
        if ex.lesson and lesson is None:
            raise PluginError(f"lab pages: exercise {ex.id!r} links to a missing lesson {ex.lesson!r}")
        if lesson is not None:
            titles[lesson.src_uri] = page_title(lesson.content_string)
    for path, markdown in render_pages(spec, context, titles).items():
        if files.get_file_from_path(path) is not None:
            raise PluginError(f"lab pages: {path} is generated; remove the file from docs_dir")
        files.append(File.generated(config, path, content=markdown))
    return files


def on_page_markdown(markdown: str, page: Page, config: Any, files: Files) -> str:
    """Fill the services marker of hand-written pages."""
    if SERVICES_MARKER not in markdown:
        return markdown
    spec, context = _lab()
    return markdown.replace(SERVICES_MARKER, services_markdown(spec, context).rstrip("\n"))


def on_serve(server: Any, config: Any, builder: Any) -> Any:
    """Rebuild on changes to the lab spec and the page templates."""
    server.watch(str(lab_path(LAB_ID)))
    server.watch(str(TEMPLATES))
    return server
