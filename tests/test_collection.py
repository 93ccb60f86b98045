"""The suite is collected with the test extra alone: tools of other extras are imported by the
tests that use them, never at module level (a missing one then fails those tests, not collection)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

#: What `pip install -e '.[test]'` does not install: the ecr and site extras.
OTHER_EXTRAS = ("boto3", "botocore", "moto", "awscli", "mkdocs", "material", "playwright")
BLOCKED_COLLECTION = f"""
import sys
for name in {OTHER_EXTRAS!r}:
    sys.modules[name] = None  # `import name` raises ImportError, as if it were not installed
import pytest
sys.exit(pytest.main(["--collect-only", "-q", "-p", "no:cacheprovider", "tests"]))
"""


def test_the_suite_is_collected_without_the_ecr_and_site_extras() -> None:
    root = Path(__file__).parents[1]
    done = subprocess.run(
        [sys.executable, "-c", BLOCKED_COLLECTION], cwd=root, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "error" not in done.stdout.splitlines()[-1], done.stdout[-3000:]
    assert "tests/registry/test_registry_ecr.py::" in done.stdout
    assert "tests/test_ecr_remote_docker.py::" in done.stdout
