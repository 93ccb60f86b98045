"""Every runnable command on the course site, replayed in order against a real lab, and what
each prints compared with the page's output blocks (after normalising digests, IDs, dates,
sizes). The way container.training replays its slides: a block that no longer works, or
prints something else than the page shows, fails the build.

The runner starts a lab of its own on free ports (`--own-lab`), so the lab's fixed ports
5000-5003 may be in use. `--engine modern` runs it on the containerd image store.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.docker, pytest.mark.engine]
ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "site-commands"
LABCHECK = shutil.which("labcheck") or str(ROOT / ".venv" / "bin" / "labcheck")
#: the share of the site's bash blocks that must run, on each engine the tests run on
MINIMUM_SHARE = 95.0
#: buildx of scripts/modern-engine's tree: the first engine's client (Debian's 20.10) has none,
#: and builds with the legacy builder where learners' Docker (Engine 23+) uses BuildKit
MODERN_PLUGINS = (
    Path(os.environ.get("LABCHECK_MODERN_DIR", "/var/lib/labcheck")) / "modern-engine.docker" / "cli-plugins"
)


def _has_buildx() -> bool:
    return subprocess.run(["docker", "buildx", "version"], capture_output=True, check=False).returncode == 0


def _plugin_args() -> list[str]:
    """--cli-plugins with the modern engine's buildx when this client has none."""
    if _has_buildx() or not (MODERN_PLUGINS / "docker-buildx").exists():
        return []
    return ["--cli-plugins", str(MODERN_PLUGINS)]


def _engine() -> str:
    info = subprocess.run(
        ["docker", "info", "--format", "{{json .DriverStatus}}"], capture_output=True, text=True, check=True
    )
    return "containerd" if "io.containerd.snapshotter" in info.stdout else "classic"


def _share_run(store: str) -> float:
    listing = subprocess.run([sys.executable, str(SCRIPT), "--list"], capture_output=True, text=True, check=True)
    shares = {
        (m["store"], m["buildx"]): float(m["share"])
        for m in re.finditer(
            r"run on the (?P<store>\w+) image store, (?P<buildx>with|without) buildx: "
            r"\d+ of \d+ \((?P<share>[\d.]+) %\)",
            listing.stdout,
        )
    }
    buildx = _has_buildx() or bool(_plugin_args())
    return shares[(store, "with" if buildx else "without")]


@pytest.fixture(scope="module")
def built_site_for_labcheck_docs() -> None:
    """`labcheck docs`, in an editable install, serves public/: the instructors' page runs it."""
    if not (ROOT / "public" / "index.html").is_file():
        subprocess.run(
            [sys.executable, "-m", "mkdocs", "build", "--strict"],
            cwd=ROOT,
            env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
            capture_output=True,
            check=True,
            timeout=300,
        )


def test_enough_of_the_site_runs_on_this_engine() -> None:
    share = _share_run(_engine())
    assert share >= MINIMUM_SHARE, f"only {share} % of the site's bash blocks run on this engine" + (
        "" if _has_buildx() or _plugin_args() else " (no buildx: scripts/modern-engine prepare gives the tests one)"
    )


def test_every_runnable_block_on_the_site_passes_and_prints_what_the_page_shows(
    built_site_for_labcheck_docs: None,
) -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--own-lab", "--keep-going", *_plugin_args()],
        env={**os.environ, "LABCHECK": LABCHECK},
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert "FAILED" not in done.stdout and "DRIFTED" not in done.stdout
    assert "every block passed, every output matched" in done.stdout
