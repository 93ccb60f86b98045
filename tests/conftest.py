"""Shared fixtures: hand-made observations for unit tests, real Docker for marked tests."""

from __future__ import annotations

import os

from ci_skips import pytest_configure

os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")

__all__ = ["pytest_configure"]  # the CI skip guard (tests/ci_skips.py)
