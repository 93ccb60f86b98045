"""Bodies are read up to a cap while they stream; JSON is measured before it is parsed."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from labcheck.untrusted import BodyTooLarge, loads, read_capped, too_deep

MIB = 1024 * 1024


def _endless(counter: list[int]) -> Iterator[bytes]:
    while True:
        counter.append(1)
        yield b" " * MIB


def _response(stream: httpx.SyncByteStream | Iterator[bytes], headers: dict[str, str] | None = None) -> httpx.Response:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=headers, content=stream)  # type: ignore[arg-type]

    client = httpx.Client(transport=httpx.MockTransport(handler))
    return client.send(client.build_request("GET", "http://server.example/"), stream=True)


def test_an_endless_body_is_read_only_up_to_the_cap() -> None:
    chunks: list[int] = []
    with pytest.raises(BodyTooLarge):
        read_capped(_response(_endless(chunks)), 4 * MIB)
    assert len(chunks) <= 5  # stopped at the cap, not at the end (there is none)


def test_a_declared_length_over_the_cap_is_refused_before_reading() -> None:
    chunks: list[int] = []
    with pytest.raises(BodyTooLarge) as info:
        read_capped(_response(_endless(chunks), {"Content-Length": str(400 * MIB)}), 4 * MIB)
    assert info.value.size == 400 * MIB
    assert chunks == []


def test_truncate_keeps_the_beginning() -> None:
    chunks: list[int] = []
    body = read_capped(_response(_endless(chunks)), 3 * MIB + 5, truncate=True)
    assert len(body) == 3 * MIB + 5
    assert len(chunks) == 4


@pytest.mark.parametrize(
    ("raw", "deep"),
    [
        (b"[]", False),
        (b'{"config": {"Labels": {"a": "[[[[[[[["}}}', False),  # brackets in strings do not nest
        (b"[" * 64 + b"]" * 64, False),
        (b"[" * 65 + b"]" * 65, True),
        (b'{"config": ' + b"[" * 5000 + b"]" * 5000 + b"}", True),
        (b"[" * 5000, True),  # unclosed: json.loads would still recurse into them
        (b"[{" * 40 + b"}]" * 40, True),
        (b'["unterminated \\"string [[[[', False),
    ],
)
def test_too_deep(raw: bytes, deep: bool) -> None:
    assert too_deep(raw) is deep


def test_deep_json_is_a_value_error_not_a_recursion_error() -> None:
    with pytest.raises(ValueError, match="deeper than 64"):
        loads(b"[" * 100_000 + b"]" * 100_000)
    with pytest.raises(ValueError):
        loads(b"\xff\xfe not utf-8")
    assert loads(b'\xef\xbb\xbf{"a": [1, 2]}') == {"a": [1, 2]}  # a UTF-8 BOM is tolerated


@pytest.mark.parametrize(
    "raw",
    [
        b"[]" * 4_000_000,  # 8 MB, shallow
        b"[" * 4_000_000 + b"]" * 4_000_000,  # 8 MB, deep
        b'"\\"' * 1_000_000,  # escapes that would make a naive string pattern backtrack
        b"[[]" * 2_000_000,  # deep without a long run of openers: one pass exposes it
    ],
)
def test_measuring_is_linear(raw: bytes) -> None:
    started = time.process_time()
    too_deep(raw)
    assert time.process_time() - started < 1.0
