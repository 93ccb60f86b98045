"""MkDocs hook: the learner's path through the course, and a time estimate on every page.

The path is the nav in order, up to the "Instructors" section: Home, Before you start, each
lesson followed by its exercises (placed there by lab_pages.py, which runs first), Finish.
Every page of the nav declares `minutes: N` in its front matter (the generated pages too); a
page without it fails the build.

- Under each page's title: "Lesson 2 of 7 · about 25 minutes" (or "Exercise 3 of 8", "Step
  2 of 19"); instructors' pages get their reading time only.
- `<!-- course:path -->` on a page becomes a table of the whole path with each step's time.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Any

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

PATH_MARKER = "<!-- course:path -->"
OFF_PATH = "Instructors"  # the nav section (and everything after it) outside the learner's path


@dataclass(frozen=True)
class Step:
    """A page in the nav: its docs path, and whether the learner's path holds it."""

    path: str
    on_path: bool


_steps: list[Step] = []
_titles: dict[str, str] = {}
_minutes: dict[str, int] = {}


def _walk(nav: list[Any], on_path: bool) -> list[Step]:
    """The nav's pages in order; from the OFF_PATH section on, off the learner's path."""
    steps: list[Step] = []
    for entry in nav:
        if isinstance(entry, str):
            steps.append(Step(entry, on_path))
            continue
        for title, value in entry.items():
            on_path = on_path and title != OFF_PATH
            if isinstance(value, list):
                steps.extend(_walk(value, on_path))
            elif isinstance(value, str) and value.endswith(".md"):
                steps.append(Step(value, on_path))
    return steps


def _kind(step: Step) -> str:
    if step.path.startswith("lessons/"):
        return "Lesson"
    if step.path.startswith("lab/") and not step.path.endswith("index.md"):
        return "Exercise"
    return ""


def page_title(markdown: str) -> str:
    """The first `# ` heading of a page."""
    return next((ln[2:].strip() for ln in markdown.splitlines() if ln.startswith("# ")), "")


def _front_matter_minutes(markdown: str) -> int | None:
    """`minutes:` of a page's front matter, read before MkDocs parses it (for other pages' tables)."""
    if not markdown.startswith("---\n"):
        return None
    head = markdown[4:].split("\n---", 1)[0]
    for line in head.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "minutes" and value.strip().isdigit():
            return int(value.strip())
    return None


def on_config(config: Any) -> Any:
    """Read the path from the nav (lab_pages.py has put the exercises in already)."""
    _steps[:] = _walk(config.nav or [], True)
    _titles.clear()  # `mkdocs serve` rebuilds in the same process
    _minutes.clear()
    return config


def on_files(files: Files, config: Any) -> Files:
    """Each nav page's title and minutes, for the path table; a page without minutes is an error."""
    missing: list[str] = []
    for step in _steps:
        file = files.get_file_from_path(step.path)
        if file is None:
            raise PluginError(f"course path: {step.path} is in the nav but not in docs_dir")
        content = file.content_string
        _titles[step.path] = page_title(content)
        minutes = _front_matter_minutes(content)
        if minutes is None:
            missing.append(step.path)
        else:
            _minutes[step.path] = minutes
    if missing:
        raise PluginError(f"course path: give every page a time estimate (front matter `minutes: N`): {missing}")
    return files


def _position(path: str) -> str:
    step = next(s for s in _steps if s.path == path)
    if not step.on_path:
        return ""
    kind = _kind(step)
    if kind:
        same = [s for s in _steps if s.on_path and _kind(s) == kind]
        return f"{kind} {[s.path for s in same].index(path) + 1} of {len(same)}"
    path_steps = [s for s in _steps if s.on_path]
    return f"Step {[s.path for s in path_steps].index(path) + 1} of {len(path_steps)}"


def time_line(path: str) -> str:
    """The line under a page's title: its place in the path and its time."""
    where = _position(path)
    if not where:  # off the path: an instructor's page
        return f"about {_minutes[path]} minutes to read"
    return f"{where} · about {_minutes[path]} minutes"


def path_table(from_page: str) -> str:
    """The learner's path as a Markdown table, links relative to `from_page`."""
    rows = ["| Step | Page | Minutes |", "|-----:|------|--------:|"]
    on_path = [s for s in _steps if s.on_path]
    for n, step in enumerate(on_path, start=1):
        link = posixpath.relpath(step.path, posixpath.dirname(from_page))
        kind = _kind(step)
        label = f"{kind} {_position(step.path).split()[1]}: " if kind == "Lesson" else ""
        title = _titles[step.path].replace("|", "\\|")
        here = " (this page)" if step.path == from_page else ""
        rows.append(f"| {n} | {label}[{title}]({link}){here} | {_minutes[step.path]} |")
    total = sum(_minutes[s.path] for s in on_path)
    rows.append(f"| | **In all** | **{total}** |")
    return "\n".join(rows)


def on_page_markdown(markdown: str, page: Page, config: Any, files: Files) -> str:
    """Put the time line under the title; fill the path marker."""
    path = page.file.src_uri
    if path not in _minutes:
        return markdown  # not in the nav (404 page)
    if PATH_MARKER in markdown:
        markdown = markdown.replace(PATH_MARKER, path_table(path))
    lines = markdown.split("\n")
    title = next((i for i, ln in enumerate(lines) if ln.startswith("# ")), None)
    if title is None:
        raise PluginError(f"course path: {path} has no `# Title` line")
    lines[title + 1 : title + 1] = ["", time_line(path), "{ .lc-time }", ""]
    return "\n".join(lines)
