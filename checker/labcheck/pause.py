"""Named steps at which a test can hold labcheck, to interrupt it at exactly that moment.

With LABCHECK_PAUSE_AT=<step> and LABCHECK_PAUSE_FILE=<path> in its environment, labcheck
reaching <step> writes "<its pid> <what it works on>" to <path> and waits there (up to
PAUSE_SECONDS) for the signal the test sends. Unset, a pause point costs one lookup.

Steps (the subject is the lab or class instance; all in the main thread):
- `up` (and each lab `verify` starts): images-ready (nothing started yet), registries-starting
  (their containers, the ECR stand-in's too, starting in worker threads), registries-started,
  save-lab-state (every service running, the state not yet written);
- `verify`: verify-workspace-ready (lab up, workspace made), verify-script-done (the solution ran);
- `class up`: token-server-started, save-class-state (token server and registry running);
- `watch`: watch-graded (after each grade; the subject is the lab id).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

PAUSE_SECONDS = 120.0


def pause_point(step: str, subject: str) -> None:
    """Hold here when the environment asks for `step` (see the module docstring)."""
    if os.environ.get("LABCHECK_PAUSE_AT") != step:
        return
    if marker := os.environ.get("LABCHECK_PAUSE_FILE"):
        tmp = Path(f"{marker}.{os.getpid()}")
        tmp.write_text(f"{os.getpid()} {subject}\n", encoding="utf-8")
        tmp.replace(marker)  # the test never reads half a line
    deadline = time.monotonic() + PAUSE_SECONDS
    while time.monotonic() < deadline:  # the signal's handler raises out of the sleep
        time.sleep(0.05)
