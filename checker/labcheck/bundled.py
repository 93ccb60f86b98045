"""Executables installed with labcheck: the aws CLI the ECR lesson uses comes with it.

pipx puts only `labcheck` on the learner's PATH; the `aws` installed beside it (awscli, a
dependency) stays in labcheck's own environment. `labcheck env` appends that folder to PATH
when no other `aws` is found (appended, so the learner's own python and pip keep winning).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path


def bundled_bin() -> Path:
    """The folder of labcheck's own executables (its Python environment's bin/ or Scripts/)."""
    return Path(sys.executable).parent


def bundled_aws() -> Path | None:
    """labcheck's own aws CLI, when it was installed with it."""
    for name in ("aws", "aws.cmd"):
        if (bundled_bin() / name).exists():
            return bundled_bin() / name
    return None


def path_for_aws(path: str | None = None) -> str | None:
    """PATH with labcheck's folder appended when `aws` is otherwise missing; None when no change is needed."""
    path = os.environ.get("PATH", "") if path is None else path
    if shutil.which("aws", path=path) or bundled_aws() is None:
        return None
    return os.pathsep.join(filter(None, [path, str(bundled_bin())]))
