"""Text from outside labcheck made safe to show: control characters escaped.

A registry's error message, a header, a label, a tag, a token or a file a learner hands in
can hold escape sequences (OSC 52 writes the terminal's clipboard, CSI rewrites the screen),
CR/LF that forge a second line of output, bidi overrides that reorder what the reader sees,
or characters XML 1.0 cannot hold (NUL, U+FFFE). Every such string goes through `printable`
(one line) or `printable_lines` (a block) before it reaches a terminal, an error or a report.
"""

from __future__ import annotations

import unicodedata

#: Unicode categories shown escaped: controls (C0, DEL, C1), format characters (bidi
#: overrides, zero-width marks), line and paragraph separators, lone surrogates.
_HIDDEN = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
_NONCHARACTERS = frozenset({"\ufffe", "\uffff"})  # not characters in XML 1.0
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: str) -> str:
    """`text` with every control or invisible formatting character written as an escape.

    `\\n`, `\\r` and `\\t` by name, other code points as `\\xHH`, `\\uHHHH` or `\\UHHHHHHHH`
    (as Python's repr writes them); everything else, accented letters included, unchanged.
    """
    if text.isascii() and text.isprintable():
        return text  # the common case, fast
    return "".join(_escape(ch) if unicodedata.category(ch) in _HIDDEN or ch in _NONCHARACTERS else ch for ch in text)


def printable_lines(text: str) -> str:
    """A block of text made printable line by line: its newlines kept, everything else escaped."""
    return "\n".join(printable(line) for line in text.split("\n"))


def _escape(ch: str) -> str:
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"
