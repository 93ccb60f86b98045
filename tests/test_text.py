"""printable(): what a server sends is shown, never obeyed by the terminal."""

from __future__ import annotations

import pytest

from labcheck.errors import RegistryAuthError
from labcheck.observe.model import Unavailable
from labcheck.text import printable


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain text: 1.2.3", "plain text: 1.2.3"),
        ("\x1b]52;c;cHduZWQ=\x07", "\\x1b]52;c;cHduZWQ=\\x07"),  # OSC 52: write the clipboard
        ("\x1b[2J\x1b[H", "\\x1b[2J\\x1b[H"),  # CSI: clear the screen
        ("token\r\nX-Evil: 1", "token\\r\\nX-Evil: 1"),
        ("tab\there", "tab\\there"),
        ("del\x7f c1\x9b", "del\\x7f c1\\x9b"),
        ("abc\u202edcba", "abc\\u202edcba"),  # a bidi override reorders what is read
        ("zero\u200bwidth", "zero\\u200bwidth"),
        ("line\u2028sep", "line\\u2028sep"),
        ("lone \udcff surrogate", "lone \\udcff surrogate"),  # would crash the terminal's encoder
        ("é, ✔, 日本, emoji 🐳", "é, ✔, 日本, emoji 🐳"),
    ],
)
def test_printable(raw: str, shown: str) -> None:
    assert printable(raw) == shown
    assert printable(shown) == shown  # escaping is stable
    assert printable(raw).isprintable()


def test_every_error_message_and_observation_is_printable() -> None:
    error = RegistryAuthError("registry says \x1b]52;c;x\x07", tip="tip\r\nforged line")
    assert "\x1b" not in error.message and "\x1b" not in str(error)
    assert error.tip == "tip\\r\\nforged line"
    assert Unavailable("could not read: \x1b[31mred").reason == "could not read: \\x1b[31mred"
