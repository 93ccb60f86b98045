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

EMAIL = re.compile(r"^[^@\s,]+@[^@\s,]+\.[^@\s,]+$")
#: Names the class registry keeps for itself (the instructor's grading login).
RESERVED_IDS = frozenset({"instructor", "labcheck"})
MAX_LEARNERS = 1000


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
    for lineno, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        fields = [f.strip() for f in row]
        if not fields or not any(fields) or fields[0].startswith("#"):
            continue
        if not learners and not seen and [f.lower() for f in fields][:1] == ["id"]:
            continue  # a header line
        where = f"{source}:{lineno}"
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
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise RosterError(f"{path}: cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise RosterError(f"{path}: not UTF-8 text") from exc
    return parse_roster(text, str(path))
