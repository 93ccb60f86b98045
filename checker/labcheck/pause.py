"""Named steps at which a test can hold labcheck, to interrupt it at exactly that moment.

With LABCHECK_PAUSE_AT=<step> and LABCHECK_PAUSE_FILE=<path> in its environment, labcheck
reaching <step> writes its pid to <path> and waits there (up to PAUSE_SECONDS) for the
signal the test sends. Unset, a pause point costs one dictionary lookup.

Steps: save-lab-state (`up` and `verify`: every service started, the state not yet
written), save-class-state (`class up`: token server and registry started).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

PAUSE_SECONDS = 120.0


def pause_point(step: str) -> None:
    """Hold here when the environment asks for `step` (see the module docstring)."""
    if os.environ.get("LABCHECK_PAUSE_AT") != step:
        return
    marker = os.environ.get("LABCHECK_PAUSE_FILE")
    if marker:
        Path(marker).write_text(f"{os.getpid()}\n", encoding="utf-8")
    deadline = time.monotonic() + PAUSE_SECONDS
    while time.monotonic() < deadline:  # a signal's handler raises out of the sleep
        time.sleep(0.05)
