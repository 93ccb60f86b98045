"""Roster parsing: what a class accepts, and one-line errors naming file:line (exit 2)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from labcheck.classroom.roster import Learner, parse_roster, read_roster
from labcheck.cli import cli
from labcheck.errors import RosterError


def test_ids_names_emails_header_and_comments() -> None:
    text = (
        "id,name,email\n# the morning group\n\n"
        "alice,Alice Liddell,alice@example.org\nbob\ncarol,carol@example.org\ndan,Dan\n"
    )
    assert parse_roster(text) == (
        Learner("alice", "Alice Liddell", "alice@example.org"),
        Learner("bob"),
        Learner("carol", "", "carol@example.org"),
        Learner("dan", "Dan"),
    )


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("alice\nAlice Smith\n", "roster.csv:2: learner id 'Alice Smith' is not valid"),
        ("alice\nbob\nalice\n", "roster.csv:3: learner id 'alice' is already on line 1"),
        ("alice,Alice,not-an-email\n", "roster.csv:1: 'not-an-email' is not an email address"),
        ("alice,a,b@c.de,extra\n", "roster.csv:1: 4 fields; expected id[,name][,email]"),
        ("instructor\n", "roster.csv:1: learner id 'instructor' is reserved"),
        ("a..b\n", "roster.csv:1: learner id 'a..b' is not valid"),
        ("-alice\n", "roster.csv:1: learner id '-alice' is not valid"),
        ("# nobody yet\n", "roster.csv: no learners"),
    ],
)
def test_bad_rows_name_file_and_line(text: str, error: str) -> None:
    with pytest.raises(RosterError) as info:
        parse_roster(text, "roster.csv")
    assert str(info.value).startswith(error)
    assert info.value.exit_code == 2


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(RosterError, match="cannot read"):
        read_roster(tmp_path / "missing.csv")


def test_class_up_with_a_bad_roster_exits_2_before_starting_anything(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("alice\nbob smith\n")
    env = {**os.environ, "LABCHECK_STATE_DIR": str(tmp_path), "DOCKER_HOST": "unix:///nonexistent.sock"}
    done = subprocess.run(
        [sys.executable, "-m", "labcheck", "class", "up", "part7", "--roster", str(roster)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    first = done.stderr.splitlines()[0]
    assert first.startswith(f"labcheck: error: {roster}:2: learner id 'bob smith' is not valid: use 1 to 40")
    assert len(done.stderr.splitlines()) == 2  # the error and its tip
    assert not (tmp_path / "class").exists()


def test_class_commands_are_registered() -> None:
    result = CliRunner().invoke(cli, ["class", "--help"])
    assert result.exit_code == 0
    for command in ("up", "down", "cards", "report"):
        assert command in result.output
