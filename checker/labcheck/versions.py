"""Version tags: semantic versions (semver.org 2.0.0) and tags that look like versions."""

from __future__ import annotations

import re

SEMVER = re.compile(
    r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-(?P<pre>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$"
)
#: What a learner may have meant as a version: v1, 1.0, v1.0.0-rc1, 1.0.0+build ... (graded
#: tags are resolved when they look like this; a check's hint says when one is not semver).
VERSIONISH = re.compile(r"^v?\d+(\.\d+)*([.+-][\w.+-]*)?$")

# A pre-release identifier: numeric ones sort numerically and before alphanumeric ones.
_Identifier = tuple[int, int, str]
SemverKey = tuple[int, int, int, tuple[int, tuple[_Identifier, ...]]]


def semver_key(tag: str) -> SemverKey | None:
    """A key ordering semantic-version tags by precedence (semver.org section 11), or None.

    A pre-release sorts before its release (1.0.0-rc.1 < 1.0.0); its identifiers compare
    left to right, numbers numerically and below words, a shorter list first when the
    longer one starts with it; build metadata (+...) does not count.
    """
    m = SEMVER.match(tag)
    if m is None:
        return None
    pre = m["pre"]
    if pre is None:
        return int(m[1]), int(m[2]), int(m[3]), (1, ())
    identifiers = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return int(m[1]), int(m[2]), int(m[3]), (0, identifiers)
