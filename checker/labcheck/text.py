"""Text from outside labcheck made safe to show: control characters escaped.

A registry's error message, a header, a label or a token can hold escape sequences (OSC 52
writes the terminal's clipboard, CSI rewrites the screen), CR/LF that forge a second line
of output, or bidi overrides that reorder what the reader sees. Every string that comes
from a server goes through `printable` before it reaches an error message or a report.
"""

from __future__ import annotations

import unicodedata

#: Unicode categories shown escaped: controls (C0, DEL, C1), format characters (bidi
#: overrides, zero-width marks), line and paragraph separators, lone surrogates.
_HIDDEN = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: str) -> str:
    """`text` with every control or invisible formatting character written as an escape.

    `\\n`, `\\r` and `\\t` by name, other code points as `\\xHH`, `\\uHHHH` or `\\UHHHHHHHH`
    (as Python's repr writes them); everything else, accented letters included, unchanged.
    """
    if text.isascii() and text.isprintable():
        return text  # the common case, fast
    return "".join(_escape(ch) if unicodedata.category(ch) in _HIDDEN else ch for ch in text)


def _escape(ch: str) -> str:
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"
