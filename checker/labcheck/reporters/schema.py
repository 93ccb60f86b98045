"""The JSON report's schema (report.schema.json), and reading a report back against it.

The class report reads learners' reports with `read_report`: any file a learner hands in
is either a report this version of labcheck writes, or one short reason why it is not.
"""

from __future__ import annotations

import json
import math
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from labcheck.text import printable

#: A real report of part7 is about 15 kB; this leaves room for long hints and evidence.
MAX_REPORT_BYTES = 4 << 20
SCHEMA_FILE = "report.schema.json"


class NotAReport(ValueError):
    """A file that is not a report of the schema: one short reason, safe to print."""


@cache
def report_schema() -> dict[str, Any]:
    """The shipped JSON Schema of `labcheck run --format json`."""
    text = resources.files("labcheck.reporters").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def _reject_constant(name: str) -> Any:
    raise NotAReport(f"not valid JSON: {name} is not a number JSON allows")


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > 20:  # also spares int() its 4300-digit ValueError
        raise NotAReport(f"a number of {len(text)} digits: no count in a report is that large")
    return int(text)


def _real(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise NotAReport(f"a number too large for a report: {text[:20]}")
    return value


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise NotAReport(f"not valid JSON for a report: the key {printable(key)!r} appears twice")
        out[key] = value
    return out


def parse_report(raw: bytes) -> dict[str, Any]:
    """A report's data, checked against the schema; NotAReport says why it is not one."""
    if len(raw) > MAX_REPORT_BYTES:
        raise NotAReport(f"{len(raw)} bytes: a report is at most {MAX_REPORT_BYTES}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotAReport(f"not UTF-8 text (byte {exc.start})") from exc
    try:
        data = json.loads(
            text,
            parse_constant=_reject_constant,
            parse_int=_integer,
            parse_float=_real,
            object_pairs_hook=_no_duplicates,
        )
    except json.JSONDecodeError as exc:
        raise NotAReport(f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from exc
    except RecursionError as exc:
        raise NotAReport("not a report: nested too deeply") from exc
    validate_report(data)
    return data  # type: ignore[no-any-return]  # the schema says it is an object


def validate_report(data: Any) -> None:
    """NotAReport with the first place `data` breaks the schema, e.g. `exercises/0/points: ...`."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    error = best_match(Draft202012Validator(report_schema()).iter_errors(data))
    if error is None:
        return
    where = "/".join(str(p) for p in error.absolute_path) or "the report"
    message = error.message  # quotes the value: keep its start and the verdict at its end
    if len(message) > 200:
        message = f"{message[:120]} ... {message[-70:]}"
    raise NotAReport(printable(f"{where}: {message}").replace("\n", " "))


def read_report(path: Path) -> dict[str, Any]:
    """The report in file `path`; NotAReport says why it is not one (unreadable included)."""
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_REPORT_BYTES + 1)
    except OSError as exc:
        raise NotAReport(f"cannot read it: {exc.strerror or exc}") from exc
    return parse_report(raw)
