"""Reading a registry's answers: its JSON error bodies, Retry-After, Link, HTML from non-registries.

Everything here takes what a server sent and returns plain values; text meant for a message
is made printable (control characters escaped).
"""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime

import httpx

from labcheck.text import printable
from labcheck.untrusted import loads

#: The longest we wait before retrying a 429, whatever Retry-After says.
MAX_RETRY_WAIT = 60.0
#: A tag page's Link is about 100 characters; a longer one is refused before it is parsed.
MAX_LINK_HEADER = 8 * 1024

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
    """(code, message) of each entry of a `{"errors": [...]}` body, printable; [] for anything else."""
    try:
        data = loads(body)
    except ValueError:
        return []
    errors = data.get("errors") if isinstance(data, dict) else None
    if not isinstance(errors, list):
        return []
    return [
        (printable(_text(e.get("code")))[:100], printable(_text(e.get("message")))[:300])
        for e in errors[:10]
        if isinstance(e, dict)
    ]


def _text(value: object) -> str:
    return "" if value is None else value if isinstance(value, str) else str(value)


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
    except (TypeError, ValueError, OverflowError):  # year 99999999999: OverflowError
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return min(max((when - datetime.now(UTC)).total_seconds(), 0.0), MAX_RETRY_WAIT)


def next_link(header: str) -> str | None:
    """The target of the `rel="next"` link of a Link header (RFC 8288), or None.

    One pass over the header: each `<target>` is followed by its `;`-separated parameters up
    to the next `<`; `rel` may list several relation types.
    """
    pos = 0
    while (start := header.find("<", pos)) != -1:
        end = header.find(">", start)
        if end == -1:
            return None
        following = header.find("<", end)
        params = header[end + 1 : following if following != -1 else len(header)]
        for param in params.split(";"):
            key, _, value = param.partition("=")
            if key.strip().lower() == "rel" and "next" in value.strip(' \t,"').lower().split():
                return header[start + 1 : end]
        if following == -1:
            return None
        pos = following
    return None
