"""The labcheck under test, as a learner runs it.

`make test` (and CI) builds the wheel, installs it with pipx into a clean virtual environment
(no extras, nothing editable) and sets LABCHECK_BIN to that `labcheck`: the tests of what
learners do (the walkthrough, verify, the CLI on a real engine) then run the installed
product, with its packaged labs and solutions. Without LABCHECK_BIN they run this checkout's.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"


def labcheck_argv() -> list[str]:
    """The command that runs labcheck: the installed wheel's when LABCHECK_BIN is set."""
    installed = os.environ.get("LABCHECK_BIN")
    return [installed] if installed else [sys.executable, "-m", "labcheck"]


def labcheck_bin_dir() -> Path:
    """The folder of the labcheck under test (its `aws` CLI is beside it)."""
    installed = os.environ.get("LABCHECK_BIN")
    return Path(installed).resolve().parent if installed else Path(sys.executable).parent
