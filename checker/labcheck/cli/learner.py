"""A learner's commands beyond grading: `instructions` (their own values) and `watch`."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from labcheck.cli.options import instance_option, learner_option

if TYPE_CHECKING:
    from labcheck.results import LabResult


@click.command()
@click.argument("lab")
@learner_option
@click.option(
    "--class-registry",
    default=None,
    metavar="HOST:PORT",
    help="The workshop's shared registry (from your login card); your user there is your learner id.",
)
@click.option(
    "--for-this-engine",
    is_flag=True,
    help="Leave out the commands of exercises your Docker engine cannot do (a multi-platform build on the "
    "classic image store), saying why.",
)
@instance_option
def instructions(
    lab: str, learner: str | None, class_registry: str | None, for_this_engine: bool, instance: str | None
) -> None:
    """Print every exercise's solution (its commands), with your values (--learner) and addresses."""
    from labcheck.errors import UsageError
    from labcheck.observe.engine import current_engine, unsupported
    from labcheck.session import load_lab, open_lab

    spec = load_lab(lab)
    addresses, users = {}, {}
    if class_registry:
        if not learner or not spec.class_service:
            raise UsageError("--class-registry needs --learner ID (and a lab with a class_service)")
        addresses, users = {spec.class_service: class_registry}, {spec.class_service: learner}
    prepared = open_lab(spec, instance=instance, learner=learner, running=False, addresses=addresses, users=users)
    rendered = prepared.rendered
    left_out = unsupported(rendered.exercises, current_engine()) if for_this_engine else {}
    who = f" for {learner}" if learner else ""
    click.echo(f"# {spec.title}{who}\n")
    for ex in rendered.exercises:
        click.echo(f"## {ex.id}: {ex.title}\n\n{ex.summary.strip()}\n")
        if ex.id in left_out:
            click.echo(f"Left out: not on this engine: {left_out[ex.id]}\n")
        elif ex.instructions:
            click.echo(ex.instructions.rstrip() + "\n")


def _bar(points: int, total: int, width: int = 30) -> str:
    filled = round(width * points / total) if total else width
    return f"[{'#' * filled}{'-' * (width - filled)}] {points}/{total} points"


@click.command()
@click.argument("lab")
@click.argument("exercises", nargs=-1)
@learner_option
@click.option(
    "--interval", type=click.FloatRange(0.5, 600), default=3.0, show_default=True, help="Seconds between grades."
)
@click.option(
    "--workspace", "workspace_path", type=click.Path(path_type=Path), default=None, help="Your lab workspace."
)
@click.option("--once", is_flag=True, help="Grade once and stop (for scripts).")
@instance_option
def watch(
    lab: str,
    exercises: tuple[str, ...],
    learner: str | None,
    interval: float,
    workspace_path: Path | None,
    once: bool,
    instance: str | None,
) -> None:
    """Re-grade as you work: checks turn green, with a progress bar. Ctrl-C stops."""
    from labcheck.pause import pause_point
    from labcheck.session import open_lab

    prepared = open_lab(lab, instance=instance, learner=learner)
    spec = prepared.spec
    prepared.exercises(exercises)  # unknown exercise ids are usage errors, before any I/O
    color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
    while True:
        result = prepared.grade(exercises, workspace=workspace_path)
        pause_point("watch-graded", spec.id)
        lines = watch_lines(f"{spec.id}{f' ({learner})' if learner else ''}", result, color=color)
        if color and not once:
            click.clear()
        click.echo("\n".join(lines))
        if once or result.passed:
            if result.passed:
                click.echo("\nevery check passed")
            sys.exit(result.exit_code)
        click.echo(f"\nre-grading every {interval:g} s; Ctrl-C stops")
        time.sleep(interval)


def watch_lines(title: str, result: LabResult, *, color: bool) -> list[str]:
    """One screen of `labcheck watch`: the progress bar, each exercise and its checks."""
    from labcheck.results import Status

    marks = {
        Status.PASS: ("✔", "green"),
        Status.FAIL: ("✘", "red"),
        Status.ERROR: ("?", "yellow"),
        Status.SKIP: ("-", "cyan"),
    }
    lines = [f"{title}  {_bar(result.points, result.max_points)}", ""]
    for ex in result.exercises:
        if ex.skipped:  # not graded on this engine or target: say why, once
            why = ex.checks[0].message if ex.checks else ""
            lines.append(f"- {ex.id} skipped{f': {why}' if why else ''}")
            continue
        lines.append(f"{'✔' if ex.passed else ' '} {ex.id} {ex.points}/{ex.max_points}")
        for c in ex.checks:
            mark, fg = marks[c.status]
            lines.append(f"    {click.style(mark, fg=fg) if color else mark} {c.title}")
    return lines
