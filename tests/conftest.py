"""Shared fixtures: hand-made observations for unit tests, real Docker for marked tests.

`--engine modern` (or LABCHECK_TEST_ENGINE=modern) points the whole session, and every
docker command the tests run, at the second engine of `scripts/modern-engine` (Docker 26,
containerd image store, buildx): `make test` runs the `engine`-marked tests on it too.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
from pathlib import Path

import pytest

from ci_skips import pytest_configure as skip_guard

os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")

ROOT = Path(__file__).resolve().parents[1]
ENGINES = ("classic", "modern")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--engine",
        default=os.environ.get("LABCHECK_TEST_ENGINE") or "classic",
        help="the Docker engine of the docker tests: classic (the engine DOCKER_HOST or the default "
        "socket names) or modern (scripts/modern-engine's, which must be running); "
        "default: $LABCHECK_TEST_ENGINE, else classic",
    )


def modern_engine_env() -> dict[str, str]:
    """DOCKER_HOST and DOCKER_CONFIG of the running modern engine; UsageError when it is not running."""
    done = subprocess.run(
        [str(ROOT / "scripts" / "modern-engine"), "env"], capture_output=True, text=True, timeout=60, check=False
    )
    if done.returncode != 0:
        raise pytest.UsageError(f"--engine modern: {done.stderr.strip() or done.stdout.strip()}")
    words = shlex.split(done.stdout)
    assert words[0] == "export", done.stdout
    return dict(word.split("=", 1) for word in words[1:])


def pytest_configure(config: pytest.Config) -> None:
    skip_guard(config)  # the CI skip guard (tests/ci_skips.py)
    # Started in the background by a shell without job control (`make test &`, nohup), pytest
    # inherits SIGINT ignored, and so would every labcheck the tests start: Python installs no
    # KeyboardInterrupt handler then, and the Ctrl-C tests would test nothing. A handler of our
    # own is reset to the default in each child, as a learner's terminal has it.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    engine = config.getoption("--engine")
    if engine not in ENGINES:
        raise pytest.UsageError(f"--engine {engine!r}: choose one of {', '.join(ENGINES)}")
    if engine == "modern":
        os.environ.update(modern_engine_env())  # before anything reads DOCKER_HOST


def pytest_report_header(config: pytest.Config) -> str:
    where = os.environ.get("DOCKER_HOST", "the default socket")
    return f"docker engine: {config.getoption('--engine')} ({where})"
