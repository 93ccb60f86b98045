"""Shared fixtures: hand-made observations for unit tests, real Docker for marked tests."""

from __future__ import annotations

import os

os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
