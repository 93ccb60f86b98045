"""`labcheck class ...`: run a workshop: one shared registry, login cards, the class report."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import click

from labcheck.cli.options import check_exposure

_output_dir = click.option(
    "--output-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("labcheck-class"),
    show_default=True,
    help="Where the login cards and the scoreboard files are written.",
)


@click.group("class")
def class_group() -> None:
    """Run a workshop: one shared registry for the room, a login per learner, a live scoreboard.

    \b
    labcheck class up part7 --roster roster.csv [--host ADDR] [--port N]
    labcheck class cards                 the login cards again (passwords included)
    labcheck class report [--watch] [results/*.json]
    labcheck class down
    """


CARDS_TIP = "write the cards into a folder of your own: --output-dir DIR (not writable by others)"


def _write_private(path: Path, text: str) -> None:
    """Write cards.html: mode 0600, atomically, in a folder nobody else may write to."""
    from labcheck.state_files import write_private

    write_private(path, text.encode(), tip=CARDS_TIP)


@class_group.command("up")
@click.argument("lab")
@click.option(
    "--roster", type=click.Path(path_type=Path, dir_okay=False), required=True, help="id[,name][,email] lines."
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address the class registry publishes on; one that is not loopback needs --expose.",
)
@click.option("--expose", is_flag=True, help="Allow --host to be an address other machines reach.")
@click.option(
    "--port", type=click.IntRange(1, 65535), default=5050, show_default=True, help="The class registry's port."
)
@click.option(
    "--token-port", type=click.IntRange(1, 65535), default=None, help="The token server's port (default: free)."
)
@click.option("--realm", default=None, metavar="URL", help="Token URL learners reach (behind a TLS proxy).")
@click.option(
    "--public-address", default="", metavar="HOST[:PORT]", help="Registry address on the cards (a TLS proxy)."
)
@click.option("--image", default=None, help="Registry image (default: the lab's, registry:2).")
@click.option("--quiet", is_flag=True, help="Do not print the cards (they are still written as HTML).")
@_output_dir
def up(
    lab: str,
    roster: Path,
    host: str,
    expose: bool,
    port: int,
    token_port: int | None,
    realm: str | None,
    public_address: str,
    image: str | None,
    quiet: bool,
    output_dir: Path,
) -> None:
    """Start the class registry and its token server; print and write a login card per learner."""
    from labcheck.classroom.cards import card_text, cards, cards_html
    from labcheck.classroom.environment import class_up
    from labcheck.classroom.roster import read_roster
    from labcheck.session import load_lab

    spec = load_lab(lab)
    check_exposure(
        host,
        expose,
        what="the class registry",
        reachable="the class registry (login required)",
        stays="the token server",
        tip="add --expose (with a TLS proxy in front: README, TLS for learners), or leave --host out",
    )
    learners = read_roster(roster)  # a bad roster stops here, before anything starts
    state = class_up(
        spec,
        learners,
        host=host,
        port=port,
        token_port=token_port,
        realm=realm,
        public_address=public_address,
        image=image,
    )
    page = output_dir / "cards.html"
    _write_private(page, cards_html(spec, state))
    if not quiet:
        for card in cards(spec, state):
            click.echo(card_text(card))
    click.echo(f"class {spec.id}: {len(learners)} learners on {state.learner_address} (token server {state.realm})")
    click.echo(f"login cards: {page} (they hold the passwords: hand each learner their own)")
    click.echo("next: labcheck class report --watch")


@class_group.command("cards")
@click.argument("learners", nargs=-1)
@_output_dir
def cards_cmd(learners: tuple[str, ...], output_dir: Path) -> None:
    """Print the login cards again (all, or the LEARNERS named) and rewrite cards.html."""
    from labcheck.classroom.cards import card_text, cards, cards_html
    from labcheck.classroom.state import require_class
    from labcheck.errors import UsageError
    from labcheck.session import load_lab

    state = require_class()
    spec = load_lab(state.lab)
    unknown = [lr for lr in learners if state.learner(lr) is None]
    if unknown:
        raise UsageError(f"{unknown[0]!r} is not on the class roster")
    for card in cards(spec, state):
        if not learners or card.learner in learners:
            click.echo(card_text(card))
    _write_private(output_dir / "cards.html", cards_html(spec, state))


@class_group.command("down")
def down() -> None:
    """Remove the class registry (and its data), the token server and the class state."""
    from labcheck.classroom.environment import class_down

    removed = class_down()
    click.echo(f"removed {', '.join(removed)}" if removed else "no class was running")


@class_group.command("report")
@click.argument("submitted", nargs=-1, type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--watch", is_flag=True, help="Re-grade every --interval seconds until Ctrl-C.")
@click.option("--interval", type=click.FloatRange(1, 3600), default=10.0, show_default=True)
@_output_dir
def report(submitted: tuple[Path, ...], watch: bool, interval: float, output_dir: Path) -> None:
    """Grade every learner against the class registry; print a table, write CSV, JSON and HTML.

    SUBMITTED are learners' own `labcheck run LAB --learner ID --format json` reports, each
    named ID.json: they grade the checks the class registry cannot show. A file that is not
    such a report is not used, and says why in its learner's row.

    \b
    Exit codes (the scoreboard is written in every case):
    0  every learner graded, every submitted report used
    2  a submitted file was not used (it is not that learner's report of this lab)
    3  an internal error (a bug) met grading a learner or reading a file: shown in its row
    """
    from labcheck.classroom.report import grade_class
    from labcheck.classroom.scoreboard import to_csv, to_html, to_json, to_table
    from labcheck.classroom.state import require_class
    from labcheck.classroom.submitted import load_submitted
    from labcheck.session import load_lab

    state = require_class()
    spec = load_lab(state.lab)
    theirs = load_submitted(list(submitted), spec, [lg.user for lg in state.learners])
    for refused in theirs.refused:
        click.echo(f"labcheck: {refused.path} not used: {refused.reason}", err=True)
        _debug_trace(refused.trace)
    clear = watch and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    while True:
        result = grade_class(spec, state, submitted=theirs)
        refresh = max(2, round(interval)) if watch else None
        for name, text in (
            ("scoreboard.csv", to_csv(result)),
            ("scoreboard.json", to_json(result)),
            ("scoreboard.html", to_html(result, refresh)),
        ):
            _write_public(output_dir / name, text)
        if clear:
            click.clear()
        click.echo(to_table(result), nl=False)
        click.echo(f"written: {output_dir}/scoreboard.html, .csv, .json")
        broken = [row for row in result.rows if row.internal_error]
        for row in broken:
            click.echo(f"labcheck: {row.learner}: {row.problems[0]}", err=True)
            _debug_trace(row.trace)
        if not watch:
            bug = broken or any(r.trace for r in theirs.refused)
            sys.exit(3 if bug else 2 if theirs.refused else 0)
        click.echo(f"refreshing every {interval:g} s; Ctrl-C stops")
        time.sleep(interval)


def _write_public(path: Path, text: str) -> None:
    """A scoreboard file: written like the cards (atomically, never through a planted link), readable by all."""
    from labcheck.state_files import write_private

    write_private(path, text.encode(), tip=CARDS_TIP, mode=0o644)


def _debug_trace(trace: str) -> None:
    """With LABCHECK_DEBUG=1, the traceback of a bug met in one learner's row."""
    if trace and os.environ.get("LABCHECK_DEBUG"):
        click.echo(trace, err=True, nl=False)
