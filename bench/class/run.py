#!/usr/bin/env python3
"""Time the class report for 10, 50, 200 and 500 learners, every exercise pushed.

    bench/class/run.py [--sizes 10,50,200,500] [--runs 3]

Starts a class of max(sizes) learners (registry:2 + token server on free ports, private
state dir), pushes each learner's finished hub work through the registry API with their own
token (the same small blobs for all: `labcheck.classroom.synthetic`), then grades the first
N learners with a cold client per run (tokens, tags, digests, manifests, configs: what
`labcheck class report` does) and prints the median per size, then one end-to-end
`labcheck class report` for the whole class. Everything is removed at the end. Times are
printed, never asserted. Beside each median: the CPU the grader (this process) and the
registry:2 container (read from /proc, when the engine runs on this machine) spent on it.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def container_cpu(container_id: str) -> float | None:
    """CPU seconds (user + system) of the container's main process so far; None when its
    process is not visible here (a remote or virtualised engine)."""
    pid = subprocess.run(
        ["docker", "inspect", "-f", "{{.State.Pid}}", container_id], capture_output=True, text=True
    ).stdout.strip()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,50,200,500")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    tmp = Path(tempfile.mkdtemp(prefix="labcheck-bench-class-"))
    os.environ["LABCHECK_STATE_DIR"] = str(tmp / "state")
    os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")

    from labcheck.classroom.environment import class_down, class_up
    from labcheck.classroom.report import grade_class
    from labcheck.classroom.roster import Learner
    from labcheck.classroom.scoreboard import to_csv, to_html, to_json, to_table
    from labcheck.classroom.synthetic import push_finished_work
    from labcheck.environment.services import free_port
    from labcheck.session import load_lab

    spec = load_lab("part7")
    learners = [Learner(f"learner-{i:03d}") for i in range(1, max(sizes) + 1)]
    try:
        start = time.perf_counter()
        state = class_up(spec, learners, port=free_port())
        print(f"class up, {len(learners)} learners: {time.perf_counter() - start:.2f} s")
        start = time.perf_counter()
        push_finished_work(spec, state, workers=16)
        print(f"pushed every learner's hub work through the API: {time.perf_counter() - start:.2f} s")
        print(
            f"{'learners':>8}  {'median':>8}  {'min':>7}  {'max':>7}  {'per learner':>11}  all passed"
            "  grader cpu  registry cpu (medians)"
        )
        for size in sizes:
            sub = dataclasses.replace(state, learners=state.learners[:size])
            times, grader, registry, ok = [], [], [], True
            for _ in range(args.runs):
                t0, c0, r0 = time.perf_counter(), own_cpu(), container_cpu(state.container_id)
                report = grade_class(spec, sub)
                to_table(report), to_csv(report), to_json(report), to_html(report, 10)
                times.append(time.perf_counter() - t0)
                grader.append(own_cpu() - c0)
                r1 = container_cpu(state.container_id)
                if r0 is not None and r1 is not None:
                    registry.append(r1 - r0)
                ok = ok and all(r.result.points == r.result.max_points > 0 for r in report.rows)
            med = statistics.median(times)
            spread = f"{min(times):>6.2f}s  {max(times):>6.2f}s"
            reg = f"{statistics.median(registry):>9.2f}s" if registry else "      n/a"
            print(
                f"{size:>8}  {med:>7.2f}s  {spread}  {1000 * med / size:>9.1f}ms  {ok!s:>10}"
                f"  {statistics.median(grader):>9.2f}s  {reg}"
            )
        labcheck = shutil.which("labcheck") or str(ROOT / ".venv" / "bin" / "labcheck")
        t0 = time.perf_counter()
        subprocess.run([labcheck, "class", "report", "--output-dir", str(tmp / "out")], check=True, capture_output=True)
        print(f"`labcheck class report` end to end, {len(learners)} learners: {time.perf_counter() - t0:.2f} s")
    finally:
        class_down()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
