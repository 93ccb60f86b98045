"""The `labcheck` command line: a thin click layer over spec, environment, grading, reports.

Exit codes: 0 every check passed; 1 a check failed; 2 usage or lab-spec error;
3 could not grade (Docker, registry or credentials); 130 interrupted.
This package is the only place that imports click or prints.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import click

from labcheck.cli.commands import cli

ISSUES_URL = "the project's issue tracker (README: Reporting bugs)"

__all__ = ["cli", "main"]


def _raise_interrupt(signum: int, frame: Any) -> NoReturn:
    raise KeyboardInterrupt


def one_line(text: str) -> str:
    """`text` as one printable line: an error is one line, whatever a registry or a file said."""
    from labcheck.text import printable

    return printable(text).replace("\n", "\\n")


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: one place turns known errors into one line, a tip and an exit code."""
    from labcheck.errors import LabcheckError

    signal.signal(signal.SIGTERM, _raise_interrupt)  # SIGTERM cleans up like Ctrl-C
    if hasattr(signal, "SIGHUP"):  # a closed terminal too: nothing may be left running
        signal.signal(signal.SIGHUP, _raise_interrupt)
    try:
        cli.main(args=argv, prog_name="labcheck", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2)
    except click.exceptions.Abort:
        click.echo("labcheck: interrupted", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        click.echo("labcheck: interrupted; nothing was left running", err=True)
        sys.exit(130)
    except LabcheckError as exc:
        # messages quote registries, files and git: their control characters are shown, not run
        click.echo(f"labcheck: error: {one_line(exc.message)}", err=True)
        if exc.tip:
            click.echo(f"tip: {one_line(exc.tip)}", err=True)
        sys.exit(exc.exit_code)
    except Exception as exc:
        if os.environ.get("LABCHECK_DEBUG"):
            raise
        click.echo(f"labcheck: internal error: {one_line(f'{type(exc).__name__}: {exc}')}", err=True)
        click.echo(
            f"this is a bug in labcheck: please report it to {ISSUES_URL} (LABCHECK_DEBUG=1 shows where)",
            err=True,
        )
        sys.exit(3)
