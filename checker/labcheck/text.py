"""Text from outside (registries, git, files learners hand in) made safe to show.

A registry's error body or a tag can hold ESC sequences, which a terminal executes, and
characters XML 1.0 cannot hold at all (NUL and the other C0 controls). Reporters and error
lines pass such text through `printable` before it reaches a terminal or a report file.
"""

from __future__ import annotations

import re

# C0 and C1 controls and DEL except \t and \n; lone surrogates (undecodable bytes read with
# surrogateescape: no encoder takes them) and U+FFFE/U+FFFF (not characters in XML 1.0).
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match[0])
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` with control characters other than \\n and \\t shown as \\xNN escapes.

    ESC (\\x1b), NUL (\\x00), CR (\\x0d), DEL and the C1 controls (which some terminals also
    execute) become visible escapes; so do lone surrogates and U+FFFE/U+FFFF (\\uNNNN), which
    cannot be encoded or written to XML. Everything else, other scripts included, is kept.
    """
    return _UNPRINTABLE.sub(_escape, text)
