"""The lab commands: list, up, down, status, env, workspace, run, hint, verify.

Heavy imports happen inside commands so `labcheck --help` stays fast.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from labcheck import __version__
from labcheck.cli.deadline import DEFAULT_RUN_TIMEOUT, time_limit
from labcheck.cli.options import check_exposure, instance_option, learner_option, parse_ports, port_option

if TYPE_CHECKING:
    pass


#: verify's solutions mostly wait on Docker and registries: a few at a time use two cores well
DEFAULT_VERIFY_JOBS = 3


def _show_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    """`labcheck --version`: labcheck's version and each lab's."""
    if not value or ctx.resilient_parsing:
        return
    from labcheck.errors import LabcheckError
    from labcheck.session import load_lab
    from labcheck.spec.sources import BUILTIN, all_labs

    click.echo(f"labcheck {__version__} (Python {sys.version.split()[0]})")
    try:
        locations = all_labs()
    except LabcheckError as exc:
        locations = []
        click.echo(f"labs: {exc.message}")
    for location in locations:
        where = "" if location.source.origin == BUILTIN else f"  ({location.folder})"
        try:
            click.echo(f"lab {location.id} {load_lab(str(location.spec_file)).version}{where}")
        except LabcheckError as exc:
            click.echo(f"lab {location.id}: cannot be loaded: {exc.message}")
    ctx.exit()


def _add_labs_dirs(ctx: click.Context, param: click.Parameter, value: tuple[Path, ...]) -> None:
    """--labs-dir DIR: looked up before LABCHECK_LABS (so child processes see them too)."""
    from labcheck.spec.sources import LABS_ENV

    if value:
        dirs = [str(p.resolve()) for p in value]
        os.environ[LABS_ENV] = os.pathsep.join([*dirs, *filter(None, [os.environ.get(LABS_ENV)])])


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_show_version,
    help="Show labcheck's version and each lab's, then exit.",
)
@click.option(
    "--labs-dir",
    multiple=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    expose_value=False,
    is_eager=True,
    callback=_add_labs_dirs,
    metavar="DIR",
    help="Also find labs in DIR (<lab>/lab.yaml folders), before labcheck's own; or set LABCHECK_LABS.",
)
def cli() -> None:
    """Hands-on labs for "Docker registries", graded from the real registries' state.

    \b
    labcheck doctor                   check that this machine can run the lab
    labcheck up part7                 start the lab's registries
    eval "$(labcheck env part7)"      export REGISTRY, HUB_REGISTRY, HUB_USERNAME, HUB_PASSWORD
    labcheck workspace part7 DIR      a git repo with the lab's app to build
    labcheck run part7                grade your work (exit 0 passed, 1 failed, 3 not graded)
    labcheck down part7               remove the lab and its data
    """


@cli.command("list")
def list_cmd() -> None:
    """List the labs and their exercises."""
    from labcheck.session import load_lab
    from labcheck.spec.loader import available_labs, lab_path

    labs = available_labs()
    if not labs:
        lab_path("part7")  # the "no labs found" error, with its tip
    for lab_id in labs:
        spec = load_lab(lab_id)
        click.echo(f"{spec.id}  {spec.title}  ({len(spec.exercises)} exercises, {spec.max_points} points)")
        for ex in spec.exercises:
            click.echo(f"  {ex.id:<18} {ex.title}")


@cli.command()
@click.argument("lab")
@port_option
@click.option("--image", default=None, help="Registry image (default: the lab's, registry:2).")
@click.option(
    "--host",
    "bind_host",
    default="127.0.0.1",
    show_default=True,
    help="Address the registries publish on; one that is not loopback needs --expose.",
)
@click.option(
    "--expose",
    is_flag=True,
    help="Allow --host to be an address other machines reach (the registries, not the ECR API).",
)
@instance_option
def up(lab: str, ports: tuple[str, ...], image: str | None, bind_host: str, expose: bool, instance: str | None) -> None:
    """Start the lab's services (they run until `labcheck down`)."""
    from labcheck.environment.lab import up as lab_up
    from labcheck.http_transport import is_loopback
    from labcheck.session import load_lab

    spec = load_lab(lab)
    reachable = [
        f"{name} ({'no login, deletes allowed' if svc.auth == 'none' else 'login required'})"
        for name, svc in spec.services.items()
        if svc.kind == "registry"
    ]
    check_exposure(
        bind_host,
        expose,
        what="the lab's registries",
        reachable=", ".join(reachable),
        stays="the ECR API",
        tip="add --expose if that is what you want, or leave --host out (127.0.0.1)",
    )
    result = lab_up(spec, instance=instance, ports=parse_ports(ports), image=image, bind_host=bind_host)
    name_opt = _instance_arg(spec.id, result.state.instance)
    verb = "already running" if result.already_running else "started"
    click.echo(f"lab {result.state.instance} {verb}:")
    for name, svc in result.state.services.items():
        login = f"  login: {svc.username} (password: labcheck env {spec.id}{name_opt})" if svc.username else ""
        if svc.auth == "ecr-token":
            login = f"  login: {svc.username} (password: aws ecr get-login-password)"
        where = svc.address if is_loopback(svc.host) else f"{svc.address} (published on {svc.host})"
        click.echo(f"  {name:<10} {where:<16} {spec.services[name].description}{login}")
    click.echo(f'next: eval "$(labcheck env {spec.id}{name_opt})"')


def _instance_arg(lab_id: str, instance: str) -> str:
    """` --instance NAME` to repeat in a suggested command, or nothing for the default."""
    return "" if instance == lab_id else f" --instance {instance}"


@cli.command()
@click.argument("lab")
@instance_option
def down(lab: str, instance: str | None) -> None:
    """Remove the lab's services and their data."""
    from labcheck.environment.lab import down as lab_down
    from labcheck.environment.state import delete_state
    from labcheck.errors import StateDamaged
    from labcheck.text import printable

    try:
        removed = lab_down(instance or lab)
    except StateDamaged as exc:
        # its pids and container ids cannot be trusted: without the file, down finds the lab's
        # processes and containers by their marks and labels
        click.echo(f"labcheck: {printable(exc.message)}: removing the lab without it", err=True)
        delete_state(instance or lab)
        removed = lab_down(instance or lab)
    click.echo(f"removed {', '.join(removed)}" if removed else f"lab {instance or lab} was not running")


@cli.command()
@click.option("--instance", default=None, metavar="NAME", help="Only this lab instance.")
def status(instance: str | None) -> None:
    """List the lab services that exist."""
    from labcheck.environment.lab import status as lab_status

    rows = [r for r in lab_status() if instance is None or r.instance == instance]
    if not rows:
        click.echo("no lab is running" if instance is None else f"lab {instance} is not running")
        return
    click.echo(f"{'LAB':<12} {'SERVICE':<10} {'STATUS':<9} {'PORTS':<22} CONTAINER")
    for r in rows:
        click.echo(f"{r.instance:<12} {r.service:<10} {r.status:<9} {r.ports:<22} {r.container}")


@cli.command()
@click.argument("lab")
@instance_option
@learner_option
def env(lab: str, instance: str | None, learner: str | None) -> None:
    """Print `export` lines for the lab: eval "$(labcheck env LAB)". Includes the password."""
    from labcheck.bundled import bundled_bin, path_for_aws
    from labcheck.environment.state import require_state
    from labcheck.session import open_lab

    state = require_state(instance or lab)  # LAB may name the instance: its state says which lab it runs
    prepared = open_lab(state.lab, instance=state.instance, learner=learner)
    assert prepared.state is not None  # a running lab
    for name, value in {**prepared.state.env(), **prepared.exports()}.items():
        click.echo(f"export {name}={shlex.quote(value)}")
    if path_for_aws() is not None:  # the aws CLI installed with labcheck, for the ECR exercise
        click.echo(f'export PATH="$PATH"{shlex.quote(os.pathsep + str(bundled_bin()))}')


@cli.command()
@click.argument("lab")
@click.argument("directory", type=click.Path(path_type=Path))
def workspace(lab: str, directory: Path) -> None:
    """Create DIRECTORY: a git repository holding the lab's app."""
    from labcheck.session import load_lab
    from labcheck.workspace import create_workspace

    spec = load_lab(lab)
    path = create_workspace(spec.id, directory)
    click.echo(f"workspace ready: {path} (a git repository with the {spec.id} app); cd {shlex.quote(str(path))}")


@cli.command()
@click.argument("lab")
@click.argument("exercises", nargs=-1)
@click.option(
    "--registry",
    default=None,
    metavar="HOST[:PORT]",
    help="Grade this registry instead of the lab's.",
)
@click.option("--namespace", default=None, help="Your namespace there (e.g. your Docker Hub user).")
@click.option("--insecure", is_flag=True, help="Plain HTTP to --registry (only for hosts you trust).")
@click.option(
    "--ecr-region",
    default=None,
    metavar="REGION",
    help="--registry is an AWS ECR in REGION (implied by <account>.dkr.ecr.<region>.amazonaws.com): "
    "log in and read its repositories with your AWS credentials.",
)
@click.option(
    "--workspace",
    "workspace_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Your lab workspace (default: the current directory).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "junit"]),
    default="text",
    show_default=True,
)
@click.option(
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write the report here.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=DEFAULT_RUN_TIMEOUT,
    show_default=True,
    metavar="SECONDS",
    help="Give up (exit 3) when grading takes longer than this, e.g. on a registry that barely answers.",
)
@instance_option
@learner_option
def run(
    lab: str,
    exercises: tuple[str, ...],
    registry: str | None,
    namespace: str | None,
    insecure: bool,
    ecr_region: str | None,
    workspace_path: Path | None,
    fmt: str,
    output: Path | None,
    timeout: float,
    instance: str | None,
    learner: str | None,
) -> None:
    """Grade the lab (or only the EXERCISES named)."""
    from labcheck.errors import UsageError, WorkspaceError
    from labcheck.grading import select
    from labcheck.observe.workspace import is_git_repository
    from labcheck.reporters import reporter_for
    from labcheck.session import load_lab, open_lab, open_remote

    spec = load_lab(lab)
    select(spec, exercises)  # unknown exercise ids are usage errors, before any I/O
    if workspace_path is not None and not (workspace_path.is_dir() and is_git_repository(workspace_path)):
        raise WorkspaceError(f"--workspace {workspace_path} is not a git repository")
    if ecr_region is not None and not registry:
        raise UsageError("--ecr-region needs --registry: the ECR registry to grade")
    with time_limit(timeout, "labcheck run"):
        if registry:
            prepared = open_remote(
                spec, registry, namespace=namespace, insecure=insecure, ecr_region=ecr_region, learner=learner
            )
        else:
            prepared = open_lab(spec, instance=instance, learner=learner)
        result = prepared.grade(exercises, workspace=workspace_path)
    color = output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    report = reporter_for(fmt, color=color).render(result)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(report, encoding="utf-8")
        click.echo(f"report written to {output}: {result.points}/{result.max_points} points", err=True)
    else:
        click.echo(report, nl=False)
    sys.exit(result.exit_code)


@cli.command()
@click.argument("lab")
@click.argument("exercise")
@click.option(
    "--level",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="How much help: 1 where to read (the default), 2 the shape of the commands, ...",
)
@click.option("--solution", is_flag=True, help="Show the commands that solve the exercise.")
@instance_option
@learner_option
def hint(lab: str, exercise: str, level: int | None, solution: bool, instance: str | None, learner: str | None) -> None:
    """Show an exercise's goal and what is graded, with one level of help.

    \b
    labcheck hint part7 hub-publish             where to read, what to look up
    labcheck hint part7 hub-publish --level 2   the shape of the commands
    labcheck hint part7 hub-publish --solution  the commands themselves
    """
    from labcheck.errors import UsageError
    from labcheck.hints import hint_for, terminal_text
    from labcheck.session import load_lab, open_lab

    if solution and level is not None:
        raise UsageError("--level and --solution do not go together", tip="ask for one of them")
    spec = load_lab(lab)
    ex = open_lab(spec, instance=instance, learner=learner, running=False).exercises([exercise])[0]
    shown = hint_for(ex, level, solution=solution)
    click.echo(f"{ex.id}: {ex.title}\n\n{ex.summary.strip()}\n")
    if ex.goal.strip():
        click.echo(f"Goal:\n{terminal_text(ex.goal)}\n")
    click.echo("Graded:")
    for c in ex.checks:
        click.echo(f"  - {c.title} ({c.points} point{'s' if c.points != 1 else ''})")
    name = "solution" if shown.is_solution else "hint"
    click.echo(f"\n{name.capitalize()} ({shown.level} of {shown.levels}):\n{terminal_text(shown.text)}")
    again = f"labcheck hint {spec.id} {ex.id}{_instance_arg(spec.id, instance or spec.id)}"
    again += f" --learner {learner}" if learner else ""
    if shown.next_level is not None:
        more = "--solution" if shown.next_level == shown.levels else f"--level {shown.next_level}"
        click.echo(f"\nMore help: {again} {more}")
    if ex.lesson:
        click.echo(f"Lesson: {ex.lesson} on the course site (labcheck docs serves it)")


@cli.command()
@click.argument("lab")
@click.option("--solution", "only", multiple=True, help="Verify only this solution (repeatable).")
@click.option(
    "--seeds",
    type=click.IntRange(1, 500),
    default=None,
    metavar="N",
    help="Verify with N learners' values (learner-01 ... learner-N) instead of the defaults.",
)
@click.option(
    "--jobs",
    type=click.IntRange(1, 16),
    default=DEFAULT_VERIFY_JOBS,
    show_default=True,
    metavar="N",
    help="Solutions verified side by side, each in a lab of its own.",
)
def verify(lab: str, only: tuple[str, ...], seeds: int | None, jobs: int) -> None:
    """Self-test: every check fails on an empty lab, passes on the reference, fails on each mistake."""
    from labcheck.errors import EnvironmentError_, VerifyError
    from labcheck.session import load_lab
    from labcheck.text import printable_lines
    from labcheck.verify import seed_learners, verify_lab

    spec = load_lab(lab)

    def progress(line: str) -> None:
        click.echo(printable_lines(line))  # problems quote check messages, registries' and git's text

    learners: list[str | None] = list(seed_learners(seeds)) if seeds else [None]
    outcomes = verify_lab(spec, only=only, progress=progress, learners=learners, jobs=jobs)
    bad = [o for o in outcomes if not o.ok]
    skipped = [o for o in outcomes if o.skipped]
    summary = f"{len(outcomes) - len(bad) - len(skipped)} passed, {len(bad)} failed"
    click.echo(summary + (f", {len(skipped)} skipped (not run on this engine)" if skipped else ""))
    if bad and all(o.lab_failed for o in bad):  # twice, the lab failed them: nothing was proven either way
        raise EnvironmentError_(
            f"the lab's registry failed under {', '.join(o.name for o in bad)}, twice: they could not be verified",
            tip="its answers are quoted above; run verify again, and check the engine's disk and memory",
        )
    if bad:
        raise VerifyError(f"{len(bad)} solution(s) did not grade as declared: {', '.join(o.name for o in bad)}")


def _register_more() -> None:
    """The workshop commands (`class ...`), the learner's `instructions`, `watch` and `docs`, `doctor`."""
    from labcheck.cli.classroom import class_group
    from labcheck.cli.docs import docs
    from labcheck.cli.doctor import doctor
    from labcheck.cli.learner import instructions, watch

    cli.add_command(class_group)
    cli.add_command(docs)
    cli.add_command(doctor)
    cli.add_command(instructions)
    cli.add_command(watch)


_register_more()
