"""`labcheck verify`: prove every check fails on an empty lab, then grades each solution right.

For each solution: a fresh lab on free ports, a fresh workspace and Docker config (with the
user's CLI plugins, so that buildx builds as it does for the learner); grade empty (every
check of the solution's exercises must fail: none may pass vacuously, none may error); run
the script as a learner would; grade again and compare with what the solution declares.
The lab and the images tagged for it are removed afterwards, whatever happens. A solution
whose exercises `require` what this engine cannot do (a multi-platform build on the classic
image store) is skipped, saying why: it is neither run nor counted as passed.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from labcheck.bundled import bundled_bin
from labcheck.docker_host import throwaway_docker_config
from labcheck.environment.docker_client import docker_client
from labcheck.environment.lab import down, up
from labcheck.environment.services import server_errors
from labcheck.environment.state import LabState
from labcheck.errors import LabcheckError, UsageError
from labcheck.observe.engine import current_engine, lacking
from labcheck.observe.engine_api import EngineApi
from labcheck.observe.model import EngineState, Unavailable
from labcheck.pause import pause_point
from labcheck.results import LabResult, Status
from labcheck.session import prepare
from labcheck.spec.loader import load_solutions
from labcheck.spec.model import LabSpec, SolutionSpec
from labcheck.spec.render import render_text
from labcheck.workspace import create_workspace

SCRIPT_TIMEOUT = 600


@dataclass(frozen=True)
class SolutionOutcome:
    name: str  # "solution" or "solution@learner" with --seeds
    ok: bool
    problems: tuple[str, ...]
    seconds: float
    skipped: str = ""  # why it was not run: this engine cannot do what its exercises require
    lab_failed: str = ""  # the lab's registry answered 5xx while the script ran: not the solution's doing


def _services_for(spec: LabSpec, sol: SolutionSpec) -> set[str]:
    """The services the solution's exercises grade on: the only ones its lab needs to start."""
    return {
        str(check.args["service"])
        for ex in spec.exercises
        if ex.id in sol.exercises
        for check in ex.checks
        if "service" in check.args
    }


def _weight(spec: LabSpec, sol: SolutionSpec) -> int:
    """How long the solution's lab takes to start and grade, roughly: its services, the ECR
    stand-in (two containers and an API) counting three."""
    return sum(3 if spec.services[name].kind == "ecr-api" else 1 for name in _services_for(spec, sol))


def _compare_empty(result: LabResult) -> list[str]:
    problems = []
    for ex in result.exercises:
        for c in ex.checks:
            if c.status is not Status.FAIL:
                problems.append(f"on the empty lab {ex.id}/{c.id} should fail but is {c.status.value}: {c.message}")
    return problems


def _compare_solved(result: LabResult, fails: Mapping[str, str]) -> list[str]:
    problems = []
    for ex in result.exercises:
        for c in ex.checks:
            key = f"{ex.id}/{c.id}"
            if key in fails:
                expected = fails[key]
                if c.status is not Status.FAIL:
                    problems.append(f"{key} should fail but is {c.status.value}: {c.message}")
                elif expected.lower() not in c.hint.lower():
                    problems.append(f"{key} failed, but its hint lacks {expected!r}: {c.hint}")
            elif c.status is not Status.PASS:
                problems.append(f"{key} should pass but is {c.status.value}: {c.message} {c.hint}".rstrip())
    return problems


def engine_skip(spec: LabSpec, sol: SolutionSpec, engine: EngineState | Unavailable | None) -> str | None:
    """Why the solution cannot run on this engine (its exercises `require` what it lacks), or
    None; an engine we could not ask runs it, and says why itself when it fails."""
    required = [c for ex in spec.exercises if ex.id in sol.exercises for c in ex.requires]
    if not required or not isinstance(engine, EngineState):
        return None
    return lacking(engine, required)


def _engine(spec: LabSpec, solutions: Sequence[SolutionSpec]) -> EngineState | Unavailable | None:
    """The engine's image store, asked once when a solution's exercises require something."""
    if not any(ex.requires for ex in spec.exercises if any(ex.id in s.exercises for s in solutions)):
        return None
    try:
        return current_engine()
    except LabcheckError as exc:
        return Unavailable(exc.message)


def local_tags() -> set[str]:
    """Every tag the local daemon holds (one listing: images removed meanwhile do not matter)."""
    with EngineApi() as engine:
        return {
            tag
            for image in engine.images()
            for tag in image.get("RepoTags") or ()
            if isinstance(tag, str) and tag != "<none>:<none>"
        }


def remove_new_tags(state: LabState | None, before: set[str]) -> None:
    """Untag what the solution tagged for this lab: tags naming its registries (their ports are
    its own), and new host-less tags in its users' namespaces (`learner/my-app:v1.0.0`, a
    known mistake). Other new tags are left alone: the engine may be someone's working copy."""
    if state is None:
        return
    ours = tuple(f"{s.address}/" for s in state.services.values())
    users = tuple(f"{s.username}/" for s in state.services.values() if s.username)
    _untag(
        lambda now: {t for t in now if t.startswith(ours)} | {t for t in now - before if users and t.startswith(users)}
    )


def _new_in(tags: set[str], namespaces: tuple[str, ...]) -> set[str]:
    return {t for t in tags if namespaces and t.startswith(namespaces)}


def _untag(doomed: Callable[[set[str]], set[str]]) -> None:
    client = docker_client()
    try:
        for tag in sorted(doomed(local_tags())):
            with contextlib.suppress(Exception):  # already gone, or in use: nothing to undo
                client.images.remove(tag, force=True)
    finally:
        client.close()


def seed_learners(count: int) -> list[str]:
    """The learner ids `verify --seeds N` tries: learner-01 ... learner-N."""
    return [f"learner-{i:02d}" for i in range(1, count + 1)]


def verify_solution(
    spec: LabSpec,
    folder: Path,
    sol: SolutionSpec,
    progress: Callable[[str], None],
    learner: str | None = None,
    *,
    untag_later: list[LabState] | None = None,
) -> SolutionOutcome:
    """Verify one solution in its own lab, with a learner's values; never leaves the lab running.

    When its script failed because the lab's registry failed (registry:2 logged a 5xx answer
    meanwhile), the solution is not to blame: it runs once more in a fresh lab, and if the
    registry fails again the outcome says so (`lab_failed`).

    Its images are untagged at once, or, with `untag_later`, by verify_lab once every solution
    running beside it is done: removing an image's last tag removes its untagged parents too,
    which a build running beside it may be using as its cache (a classic-builder build then
    fails: "unknown parent image ID"), and one solution cannot tell its new host-less tags
    from another's."""
    started = time.monotonic()
    name = f"{sol.name}@{learner}" if learner else sol.name
    problems, lab_failed = _attempt(spec, folder, sol, learner, untag_later)
    if lab_failed:
        progress(f"again {name}: the lab's registry failed while the script ran ({lab_failed}); once more, afresh")
        problems, lab_failed = _attempt(spec, folder, sol, learner, untag_later)
    outcome = SolutionOutcome(name, not problems, tuple(problems), time.monotonic() - started, lab_failed=lab_failed)
    progress(
        f"{'ok  ' if outcome.ok else 'FAIL'} {name} ({sol.kind}: {', '.join(sol.exercises)}) {outcome.seconds:.1f}s"
    )
    for p in problems:
        progress(f"     - {p}")
    return outcome


def _attempt(
    spec: LabSpec,
    folder: Path,
    sol: SolutionSpec,
    learner: str | None,
    untag_later: list[LabState] | None,
) -> tuple[list[str], str]:
    """One run of verify_solution: its problems, and the lab's registry failures (or "")."""
    instance = f"{spec.id}-verify-{secrets.token_hex(3)}"
    tmp = Path(tempfile.mkdtemp(prefix="labcheck-verify-"))
    state: LabState | None = None
    before = local_tags()
    lab_failed = ""
    try:
        state = up(spec, instance=instance, ephemeral_ports=True, only=_services_for(spec, sol)).state
        ws = create_workspace(spec.id, tmp / "workspace")
        docker_config = throwaway_docker_config(tmp / "docker-config")
        # services this solution's lab did not start keep their nominal address and user
        prepared = prepare(spec, state=state, learner=learner)
        context = prepared.context
        pause_point("verify-workspace-ready", instance)
        problems = _compare_empty(prepared.grade(sol.exercises, workspace=ws, docker_config=str(docker_config)))
        env = {
            **os.environ,
            **state.env(),
            **prepared.exports(),
            "DOCKER_CONFIG": str(docker_config),
            "LAB_WORKSPACE": str(ws),
            # the tools installed with labcheck (its aws CLI) come first: verify proves labcheck's lab
            "PATH": os.pathsep.join([str(bundled_bin()), os.environ.get("PATH", "")]),
        }
        script_started = time.time()
        done = subprocess.run(
            ["bash", "-euo", "pipefail", str((folder / sol.script).resolve())],
            cwd=ws,
            env=env,
            capture_output=True,
            text=True,
            timeout=SCRIPT_TIMEOUT,
            check=False,
        )
        pause_point("verify-script-done", instance)
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-8:])
            failures = _registry_failures(state, script_started)
            if failures:
                lab_failed = "; ".join(failures[:3])
                tail += "\n(the lab's registry logged: " + lab_failed + ")"
            for secret in state.secrets():
                tail = tail.replace(secret, "****")
                lab_failed = lab_failed.replace(secret, "****")
            problems.append(f"the script exited {done.returncode}:\n{tail}")
        else:
            expected = {key: render_text(text, context, f"{sol.name}.fails.{key}") for key, text in sol.fails.items()}
            solved = prepared.grade(sol.exercises, workspace=ws, docker_config=str(docker_config))
            problems += _compare_solved(solved, expected)
    finally:
        if untag_later is None:
            remove_new_tags(state, before)
        elif state is not None:
            untag_later.append(state)
        down(instance)
        shutil.rmtree(tmp, ignore_errors=True)
    return problems, lab_failed


def _registry_failures(state: LabState, since: float) -> list[str]:
    """The 5xx answers the lab's registry containers logged since `since`."""
    ids = [i for svc in state.services.values() for i in (svc.container_id, svc.backend_id) if i]
    client = docker_client()
    try:
        return server_errors(client, list(dict.fromkeys(ids)), since)
    finally:
        client.close()


def verify_lab(
    spec: LabSpec,
    *,
    only: Sequence[str] = (),
    progress: Callable[[str], None] = lambda _: None,
    learners: Sequence[str | None] = (None,),
    jobs: int = 1,
) -> list[SolutionOutcome]:
    """Verify every solution of the lab (or only those named), once per learner's values,
    `jobs` at a time: each in a lab of its own on free ports, so they do not meet."""
    folder, manifest = load_solutions(spec)
    names = {s.name for s in manifest.solutions}
    unknown = [n for n in only if n not in names]
    if unknown:
        raise UsageError(f"unknown solution {unknown[0]!r} (solutions: {', '.join(sorted(names))})")
    chosen = [s for s in manifest.solutions if not only or s.name in only]
    engine = _engine(spec, chosen)
    skips = {sol.name: why for sol in chosen if (why := engine_skip(spec, sol, engine)) is not None}
    skipped = [_skipped(s, learner, skips[s.name], progress) for learner in learners for s in chosen if s.name in skips]
    tasks = [(sol, learner) for learner in learners for sol in chosen if sol.name not in skips]
    if jobs <= 1 or len(tasks) <= 1:
        return [verify_solution(spec, folder, sol, progress, learner) for sol, learner in tasks] + skipped
    before = local_tags()
    labs: list[LabState] = []
    pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="labcheck-verify")
    try:
        # the longest first, so that no long one starts last while the others sit idle
        # (a lab with more services, the ECR stand-in's two containers above all, takes longer)
        order = sorted(range(len(tasks)), key=lambda i: -_weight(spec, tasks[i][0]))
        futures = {
            i: pool.submit(verify_solution, spec, folder, tasks[i][0], progress, tasks[i][1], untag_later=labs)
            for i in order
        }
        return [futures[i].result() for i in range(len(tasks))] + skipped
    finally:  # on Ctrl-C: no new solution starts; those under way clean up after themselves
        pool.shutdown(wait=True, cancel_futures=True)
        ours = tuple(f"{svc.address}/" for state in labs for svc in state.services.values())
        users = tuple({f"{svc.username}/" for state in labs for svc in state.services.values() if svc.username})
        _untag(lambda now: {t for t in now if ours and t.startswith(ours)} | _new_in(now - before, users))


def _skipped(sol: SolutionSpec, learner: str | None, why: str, progress: Callable[[str], None]) -> SolutionOutcome:
    """A solution not run on this engine, and the line that says why."""
    name = f"{sol.name}@{learner}" if learner else sol.name
    progress(f"skip {name} ({sol.kind}: {', '.join(sol.exercises)}): not run on this engine: {why}")
    return SolutionOutcome(name, True, (), 0.0, skipped=why)
