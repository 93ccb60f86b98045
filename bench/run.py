#!/usr/bin/env python3
"""Time labcheck's three user-facing waits, as medians over several runs.

    bench/run.py [--runs N]

1. `labcheck --help` (start-up: imports are lazy, so this is the floor of every command);
2. `labcheck up part7` with the images present (then `down`, not timed);
3. `labcheck run part7` on a lab where every exercise was solved (the lab's instructions, typed).

It needs the Docker engine and the offline images, starts its own lab on free ports with a
private state dir, and removes everything at the end. Nothing here asserts a time: these
machines are noisy; read the medians and the spread.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LABCHECK = str(Path(shutil.which("labcheck") or ROOT / ".venv" / "bin" / "labcheck").resolve())


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def report(name: str, samples: list[float]) -> None:
    med, low, high = (statistics.median(samples), min(samples), max(samples))
    print(f"{name:<34} median {med * 1000:8.1f} ms   min {low * 1000:8.1f}   max {high * 1000:8.1f}   n={len(samples)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    # byte-compiled as an installed wheel is (PYTHONDONTWRITEBYTECODE would recompile every run)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "checker" / "labcheck")], check=True)
    tmp = Path(tempfile.mkdtemp(prefix="labcheck-bench-"))
    env = {**os.environ, "LABCHECK_STATE_DIR": str(tmp / "state"), "DOCKER_CONFIG": str(tmp / "docker")}
    (tmp / "docker").mkdir()

    def lc(*a: str, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run([LABCHECK, *a], env=env, cwd=cwd, capture_output=True, text=True, check=check)

    ports = [
        a for i, name in enumerate(("registry", "hub", "ecr", "ecr-api")) for a in ("--port", f"{name}={15000 + i}")
    ]
    try:
        report("labcheck --help", timed(lambda: lc("--help"), args.runs))

        def up_down() -> float:
            start = time.perf_counter()
            lc("up", "part7", *ports)
            elapsed = time.perf_counter() - start
            lc("down", "part7")
            return elapsed

        report("labcheck up part7", [up_down() for _ in range(args.runs)])

        lc("up", "part7", *ports)
        ws = tmp / "ws"
        lc("workspace", "part7", str(ws))
        exports = {
            k: v.strip("'")
            for k, v in (line.removeprefix("export ").split("=", 1) for line in lc("env", "part7").stdout.splitlines())
        }
        solve_env = {**env, **exports}
        # the lab's own instructions, in order, as a learner types them (as `make demo` does)
        instructions = lc("instructions", "part7", "--for-this-engine").stdout
        script = "\n".join(re.findall(r"```bash\n(.*?)```", instructions, re.S))
        subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script], cwd=ws, env=solve_env, capture_output=True, check=True
        )
        graded = lc("run", "part7", cwd=ws, check=False)
        print(f"(graded lab: {graded.stdout.strip().splitlines()[-1]})")
        report("labcheck run part7 (all exercises)", timed(lambda: lc("run", "part7", cwd=ws, check=False), args.runs))
    finally:
        lc("down", "part7", check=False)
        tags = subprocess.run(
            ["docker", "images", "--format", "{{.Repository}}:{{.Tag}}"], capture_output=True, text=True
        )
        stale = [t for t in tags.stdout.split() if t.startswith(tuple(f"localhost:{15000 + i}/" for i in range(4)))]
        if stale:
            subprocess.run(["docker", "rmi", "-f", *stale], capture_output=True, check=False)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
