#!/usr/bin/env python3
"""Time `labcheck verify part7` for several --jobs values, interleaved run by run, as medians.

    PATH=.venv/bin:$PATH bench/verify.py [--jobs 1,3,4] [--runs 3]

Each run verifies every solution the engine can run (each in a lab of its own on free ports)
on the engine DOCKER_HOST names. Nothing is asserted: read the medians and the spread.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LABCHECK = str(Path(shutil.which("labcheck") or ROOT / ".venv" / "bin" / "labcheck").resolve())


def one(jobs: int) -> float:
    with tempfile.TemporaryDirectory(prefix="bench-verify-") as state:
        env = {**os.environ, "LABCHECK_STATE_DIR": state, "TESTCONTAINERS_RYUK_DISABLED": "true"}
        start = time.perf_counter()
        done = subprocess.run(
            [LABCHECK, "verify", "part7", "--jobs", str(jobs)], env=env, capture_output=True, text=True, check=False
        )
        took = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"verify --jobs {jobs} failed ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return took


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", default="1,3,4", help="comma-separated --jobs values (default 1,3,4)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    jobs = [int(j) for j in args.jobs.split(",")]
    from labcheck.observe.engine import engine_state
    from labcheck.observe.engine_api import EngineApi

    with EngineApi() as api:
        version, engine = api.version().get("Version", "?"), engine_state(api.info())
    print(f"engine: Docker {version}, {'containerd' if engine.containerd_store else 'classic'} image store")
    times: dict[int, list[float]] = {j: [] for j in jobs}
    for _ in range(args.runs):
        for j in jobs:
            times[j].append(one(j))
    print(f"| --jobs | median of {args.runs} | min - max |")
    print("| ---: | ---: | ---: |")
    for j in jobs:
        t = times[j]
        print(f"| {j} | {statistics.median(t):.1f} s | {min(t):.1f} - {max(t):.1f} s |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
