"""Reading what a server sent: bodies up to a cap, JSON only when it is shallow.

A body is streamed and counted, never read whole before its size is known to be fine (a
400 MiB answer must not cost 400 MiB of memory). JSON is measured before json.loads sees
it: the parser recurses, and 5000 nested brackets would raise RecursionError, not
ValueError. Callers turn BodyTooLarge and ValueError into their own one-line errors.
"""

from __future__ import annotations

import encodings.utf_8_sig  # noqa: F401  loaded now: a codec looked up first in a worker thread imports there
import json
import re
from typing import Any

import httpx

#: Deeper than any manifest, config, token or error body (they nest 4 or 5 levels).
MAX_JSON_DEPTH = 64

# A JSON string, skipped whole (brackets inside it do not nest). Possessive, and an
# unterminated string runs to the end: one linear pass whatever the input.
_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)', re.DOTALL)
_OPEN_CLOSE = bytes.maketrans(b"[{]}", b"(())")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


class BodyTooLarge(ValueError):
    """A body is longer than the caller allows; `.size` is what is known of its length."""

    def __init__(self, limit: int, size: int | None = None) -> None:
        super().__init__(f"more than the {limit} bytes allowed" if size is None else f"{size} bytes, over {limit}")
        self.limit = limit
        self.size = size


def read_capped(response: httpx.Response, limit: int, *, truncate: bool = False) -> bytes:
    """The body of the streaming `response`, at most `limit` bytes, then the response is closed.

    BodyTooLarge when Content-Length already says more (nothing is read) or when more
    arrives; with `truncate`, the first `limit` bytes instead (a log's beginning). httpx's
    TransportError and DecodingError pass through to the caller.
    """
    try:
        length = response.headers.get("Content-Length", "")
        big = length.isascii() and length.isdigit() and int(length) > limit
        if big and not truncate and response.request.method != "HEAD":
            raise BodyTooLarge(limit, int(length))
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            if size + len(chunk) > limit:
                if not truncate:
                    raise BodyTooLarge(limit)
                chunks.append(chunk[: limit - size])
                break
            size += len(chunk)
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        response.close()


def too_deep(raw: bytes, max_depth: int = MAX_JSON_DEPTH) -> bool:
    """True when arrays and objects in `raw` may nest deeper than `max_depth`.

    Strings removed, brackets kept as `(` and `)`: each pass removes the innermost pairs,
    so after k passes every pair of height k is gone. Brackets that pair with nothing
    (invalid JSON, but json.loads would still recurse into them) count in full. Every
    step runs in C; a run of more than `max_depth` openers (the usual deep input) ends it
    at once, and a body within the callers' caps costs well under a second in any case.
    """
    shape = _STRING.sub(b"", raw).translate(_OPEN_CLOSE, _NOT_BRACKETS)
    run = b"(" * (max_depth + 1)
    passes = 0
    while b"()" in shape:
        if passes == max_depth or run in shape:
            return True
        shape = shape.replace(b"()", b"")
        passes += 1
    return passes + shape.count(b"(") > max_depth


def loads(raw: bytes, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """json.loads for a server's bytes (UTF-8); ValueError for anything that is not shallow JSON."""
    if too_deep(raw, max_depth):
        raise ValueError(f"JSON nested deeper than {max_depth} levels")
    return json.loads(raw.decode("utf-8-sig"))  # UnicodeDecodeError is a ValueError
