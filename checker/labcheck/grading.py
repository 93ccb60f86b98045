"""Grade a rendered lab: plan the checks, gather observations once, evaluate, collect results."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from labcheck.checks.base import Args, Context
from labcheck.checks.catalog import kind_of
from labcheck.errors import UsageError
from labcheck.observe.engine import lacking
from labcheck.observe.gather import Target, gather
from labcheck.observe.model import EngineState, Observations, RepoState
from labcheck.observe.needs import Needs, merge
from labcheck.observe.registry import RESOLVE_ALL_UP_TO
from labcheck.results import CheckResult, ExerciseResult, LabResult, Outcome, Status
from labcheck.spec.model import CheckSpec, ExerciseSpec, LabSpec


def select(spec: LabSpec, exercise_ids: Sequence[str]) -> list[ExerciseSpec]:
    """The exercises to grade (all when none named); UsageError for an unknown id."""
    if not exercise_ids:
        return list(spec.exercises)
    chosen = []
    for ex_id in exercise_ids:
        ex = spec.exercise(ex_id)
        if ex is None:
            known = ", ".join(e.id for e in spec.exercises)
            raise UsageError(f"unknown exercise {ex_id!r} in lab {spec.id} (exercises: {known})")
        chosen.append(ex)
    return chosen


REMOTE_SKIP = "not graded on a remote registry: it needs the lab's own services"
ECR_SKIP = (
    "not graded on a remote registry that is not AWS ECR: it needs the ECR API "
    "(an ECR registry is <account>.dkr.ecr.<region>.amazonaws.com; --ecr-region REGION says a registry is one)"
)


def skip_reason(exercise: ExerciseSpec, check: CheckSpec, remote: bool, *, ecr: bool = False) -> str | None:
    """Why `check` is not graded here, or None when it is: on the lab every check is graded;
    on --registry those marked `remote`, and those marked `remote: ecr` when it is an ECR."""
    if not remote or exercise.graded_remotely(check, ecr=ecr):
        return None
    return ECR_SKIP if exercise.remote_mode(check) == "ecr" else REMOTE_SKIP


def engine_skip(exercise: ExerciseSpec, obs: Observations) -> str | None:
    """Why the exercise is not graded on the learner's engine (it cannot do what the exercise
    `requires`), or None: it is graded, also when the engine could not be observed."""
    if not exercise.requires or not isinstance(obs.engine, EngineState):
        return None
    reason = lacking(obs.engine, exercise.requires)
    return f"not graded on this engine: {reason}" if reason else None


def graded(exercise: ExerciseSpec, check: CheckSpec, remote: bool, *, ecr: bool = False) -> bool:
    """Whether `check` is graded: every check on the lab, only those marked `remote` on --registry."""
    return skip_reason(exercise, check, remote, ecr=ecr) is None


def evaluate(
    spec: LabSpec,
    exercises: Sequence[ExerciseSpec],
    obs: Observations,
    hosts: Mapping[str, str],
    target: str = "",
    *,
    remote: bool = False,
    ecr: bool = False,
    args: Mapping[tuple[str, str], Args] | None = None,
) -> LabResult:
    """Pure: results of the exercises' checks on these observations.

    With `remote`, checks that only make sense on the lab's own services are skipped (and,
    unless `ecr` says the remote is an AWS ECR, those that need the ECR API): a skip is
    neither a fail nor counted in the score. An exercise whose `requires` the learner's engine
    cannot meet is skipped whole, saying why and how to fix it, unless it passes anyway (built
    elsewhere, or with another builder).
    """
    results = []
    for ex in exercises:
        ctx = Context(hosts=hosts, lesson=ex.lesson)
        checks = []
        for check in ex.checks:
            skipped = skip_reason(ex, check, remote, ecr=ecr)
            if skipped is not None:
                checks.append(CheckResult(check.id, check.title, Status.SKIP, 0, 0, skipped))
                continue
            kind = kind_of(check)
            try:
                parsed = _parsed(ex, check, args)
                outcome = kind.evaluate(parsed, obs, ctx)
                note = _partly_read(kind.needs(parsed).repos, obs)
            except Exception as exc:  # a bug in a check must not read as the learner's fault
                outcome, note = Outcome.errored(f"internal error in check kind {check.kind}: {exc!r}"), ""
            hint = outcome.hint
            if outcome.status is Status.FAIL and check.hint:
                hint = f"{hint} {check.hint}".strip()
            checks.append(
                CheckResult(
                    id=check.id,
                    title=check.title,
                    status=outcome.status,
                    points=check.points if outcome.status is Status.PASS else 0,
                    max_points=check.points,
                    message=f"{outcome.message} ({note})" if note else outcome.message,
                    hint=hint if outcome.status is Status.FAIL else "",
                    evidence=dict(outcome.evidence),
                )
            )
        cannot = engine_skip(ex, obs)
        if cannot is not None and any(c.status in (Status.FAIL, Status.ERROR) for c in checks):
            checks = [c if c.status is Status.SKIP else _skipped(c, cannot) for c in checks]
        results.append(ExerciseResult(id=ex.id, title=ex.title, lesson=ex.lesson, checks=tuple(checks)))
    return LabResult(lab=spec.id, title=spec.title, exercises=tuple(results), target=target)


def _parsed(exercise: ExerciseSpec, check: CheckSpec, args: Mapping[tuple[str, str], Args] | None) -> Args:
    """The check's arguments: parsed already (`args`, by exercise and check id), else now."""
    found = args.get((exercise.id, check.id)) if args else None
    return found if found is not None else kind_of(check).parse(check.args)


def _skipped(check: CheckResult, reason: str) -> CheckResult:
    return CheckResult(check.id, check.title, Status.SKIP, 0, 0, reason)


def _partly_read(repos: Iterable[tuple[str, str]], obs: Observations) -> str:
    """What a result must say when a repository it read had too many tags to read them all."""
    notes = []
    for key in repos:
        state = obs.repos.get(key)
        if isinstance(state, RepoState) and state.unresolved:
            total = len(state.tags) + state.unresolved
            notes.append(
                f"{state.ref.host}/{state.ref.repository} has {total} tags: labcheck read {len(state.tags)}, "
                f"at most {RESOLVE_ALL_UP_TO} a repository (the named ones, latest, the newest versions, commit SHAs)"
            )
    return "; ".join(notes)


def grade(
    spec: LabSpec,
    exercises: Sequence[ExerciseSpec],
    targets: Mapping[str, Target],
    *,
    workspace: Path | None = None,
    docker_config: str | None = None,
    remote: bool = False,
    ecr: bool = False,
    args: Mapping[tuple[str, str], Args] | None = None,
) -> LabResult:
    """Gather what the graded checks need, once, then evaluate them (`ecr`: the remote is an AWS
    ECR; `args`: the checks' arguments parsed already, by exercise and check id)."""
    needs = merge(
        [
            *(
                kind_of(c).observations(_parsed(ex, c, args))
                for ex in exercises
                for c in ex.checks
                if graded(ex, c, remote, ecr=ecr)
            ),
            Needs(engine=any(ex.requires for ex in exercises)),
        ]
    )
    obs = gather(needs, targets, workspace=workspace, docker_config=docker_config)
    hosts = {name: t.host for name, t in targets.items()}
    target = ", ".join(sorted({t.host for t in targets.values()}))
    return evaluate(spec, exercises, obs, hosts, target, remote=remote, ecr=ecr, args=args)
