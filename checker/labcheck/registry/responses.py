"""Reading a registry's answers: its JSON error bodies, Retry-After, HTML from non-registries."""

from __future__ import annotations

import email.utils
import json
from datetime import UTC, datetime

import httpx

#: The longest we wait before retrying a 429, whatever Retry-After says.
MAX_RETRY_WAIT = 60.0

#: Registry error codes, put into words a learner can act on.
ERROR_CODES = {
    "UNAUTHORIZED": "authentication required",
    "DENIED": "access denied",
    "NAME_UNKNOWN": "repository not found",
    "NAME_INVALID": "invalid repository name",
    "MANIFEST_UNKNOWN": "manifest not found",
    "MANIFEST_INVALID": "invalid manifest",
    "BLOB_UNKNOWN": "blob not found",
    "TAG_INVALID": "invalid tag",
    "TOOMANYREQUESTS": "too many requests",
    "UNSUPPORTED": "operation not supported",
}


def error_entries(body: bytes) -> list[tuple[str, str]]:
    """(code, message) of each entry of a `{"errors": [...]}` body; [] for anything else."""
    try:
        data = json.loads(body)
    except ValueError:
        return []
    errors = data.get("errors") if isinstance(data, dict) else None
    if not isinstance(errors, list):
        return []
    return [(str(e.get("code", "")), str(e.get("message", ""))) for e in errors if isinstance(e, dict)]


def error_codes(body: bytes) -> set[str]:
    """The error codes of a registry error body."""
    return {code for code, _ in error_entries(body)}


def describe_errors(body: bytes) -> str:
    """A registry error body in words, e.g. `DENIED: access denied (requested access ...)`."""
    parts = []
    for code, message in error_entries(body):
        words = ERROR_CODES.get(code, message or code.lower())
        parts.append(f"{code}: {words}" + (f" ({message})" if message != words else ""))
    return "; ".join(parts)


def looks_like_html(response: httpx.Response, body: bytes) -> bool:
    """True when the answer is a web page: a proxy, a login portal, not a registry."""
    content_type = response.headers.get("Content-Type", "").lower()
    return "html" in content_type or body.lstrip()[:1] == b"<"


def retry_after(response: httpx.Response) -> float | None:
    """Retry-After in seconds (delta or HTTP date), capped at 60 s; None when absent."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isascii() and value.isdigit():  # str.isdigit() also takes '²' and other digits
        return min(float(value), MAX_RETRY_WAIT)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return min(max((when - datetime.now(UTC)).total_seconds(), 0.0), MAX_RETRY_WAIT)
