"""Running labcheck's CLI in a test: in this process (main()) or in its own."""

from __future__ import annotations

import subprocess
import sys

import pytest

from labcheck.cli import main


def call(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """labcheck ARGS in this process: its exit code, stdout and stderr."""
    with pytest.raises(SystemExit) as info:
        main(list(args))
        raise SystemExit(0)
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str], *, own_process: bool) -> tuple[int, str, str]:
    """labcheck ARGS, in a process of its own or in this one (where no stray exit code is 0)."""
    if own_process:
        child = subprocess.run(
            [sys.executable, "-m", "labcheck", *args], capture_output=True, text=True, timeout=120, check=False
        )
        return child.returncode, child.stdout, child.stderr
    with pytest.raises(SystemExit) as info:
        main(args)
    out, err = capsys.readouterr()
    return int(info.value.code) if isinstance(info.value.code, int) else 1, out, err
