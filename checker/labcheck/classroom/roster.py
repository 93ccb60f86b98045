"""The instructor's roster: one learner per line, `id[,name][,email]` (CSV).

Blank lines and `#` comments are skipped, and so is a first line `id,name,email`. With two
fields the second is the email when it holds an `@`, else the name. Every problem is a
RosterError naming file:line (exit 2), found before anything starts.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from labcheck.errors import RosterError
from labcheck.spec.learners import LEARNER_ID
from labcheck.text import printable

EMAIL = re.compile(r"^[^@\s,]+@[^@\s,]+\.[^@\s,]+$")
#: Names the class registry keeps for itself (the instructor's grading login).
RESERVED_IDS = frozenset({"instructor", "labcheck"})
MAX_LEARNERS = 1000
MAX_ROSTER_BYTES = 1 << 20  # 1000 learners with long names and emails fit ten times over


@dataclass(frozen=True)
class Learner:
    id: str
    name: str = ""
    email: str = ""

    @property
    def label(self) -> str:
        """`id (Name <email>)` or just the id."""
        extra = " ".join(p for p in (self.name, f"<{self.email}>" if self.email else "") if p)
        return f"{self.id} ({extra})" if extra else self.id


def parse_roster(text: str, source: str = "roster") -> tuple[Learner, ...]:
    """The learners of a roster's text; RosterError at the first bad line."""
    learners: list[Learner] = []
    seen: dict[str, int] = {}
    rows = csv.reader(io.StringIO(text))
    while True:
        try:
            row = next(rows)
        except StopIteration:
            break
        except csv.Error as exc:  # e.g. a field of more than 128 kB: not a roster
            raise RosterError(f"{source}:{rows.line_num}: not a CSV line of a roster ({exc})") from exc
        lineno = rows.line_num
        fields = [f.strip() for f in row]
        if not fields or not any(fields) or fields[0].startswith("#"):
            continue
        if not learners and not seen and [f.lower() for f in fields][:1] == ["id"]:
            continue  # a header line
        where = f"{source}:{lineno}"
        odd = next((f for f in fields if printable(f) != f or "\n" in f or "\t" in f), None)
        if odd is not None:  # names are printed on cards and in terminals
            raise RosterError(f"{where}: control characters in {printable(odd)[:60]!r}")
        if len(fields) > 3:
            raise RosterError(f"{where}: {len(fields)} fields; expected id[,name][,email]")
        learner_id = fields[0]
        if not LEARNER_ID.fullmatch(learner_id) or ".." in learner_id or "__" in learner_id:
            raise RosterError(
                f"{where}: learner id {learner_id!r} is not valid: use 1 to 40 lower-case letters, "
                "digits, '.', '_' or '-' (it becomes a registry namespace)"
            )
        if learner_id in RESERVED_IDS:
            raise RosterError(f"{where}: learner id {learner_id!r} is reserved for the instructor's login")
        if learner_id in seen:
            raise RosterError(f"{where}: learner id {learner_id!r} is already on line {seen[learner_id]}")
        name, email = "", ""
        if len(fields) == 2:
            name, email = ("", fields[1]) if "@" in fields[1] else (fields[1], "")
        elif len(fields) == 3:
            name, email = fields[1], fields[2]
        if email and not EMAIL.fullmatch(email):
            raise RosterError(f"{where}: {email!r} is not an email address")
        seen[learner_id] = lineno
        learners.append(Learner(learner_id, name, email))
    if not learners:
        raise RosterError(f"{source}: no learners (one per line: id[,name][,email])")
    if len(learners) > MAX_LEARNERS:
        raise RosterError(f"{source}: {len(learners)} learners; a class holds at most {MAX_LEARNERS}")
    return tuple(learners)


def read_roster(path: Path) -> tuple[Learner, ...]:
    """The learners of a roster file."""
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_ROSTER_BYTES + 1)
    except OSError as exc:
        raise RosterError(f"{path}: cannot read: {exc.strerror}") from exc
    if len(raw) > MAX_ROSTER_BYTES:
        raise RosterError(f"{path}: more than {MAX_ROSTER_BYTES} bytes: not a roster")
    if b"\0" in raw:
        raise RosterError(f"{path}: binary data (a NUL byte at {raw.index(0)}), not a CSV roster")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RosterError(f"{path}: not UTF-8 text") from exc
    return parse_roster(text, str(path))
