"""Grade a whole class against the class registry, concurrently, and merge submitted reports.

From the instructor's machine only the class registry can be observed: a learner's Docker
daemon, Docker config and workspace are on their laptop. Checks that read those (or a
service other than the shared one) are reported as SKIP "not graded here" (neither pass
nor fail) unless the learner submitted their own `labcheck run --format json` report, whose
verdict is then taken for exactly those checks.

One RegistryClient (one HTTP connection pool) reads every learner's repositories
concurrently. Its requests carry class tokens fetched up front, each granting the grading
login pull on 25 repositories, instead of one token request per repository.
Manifests and config blobs are content-addressed, so each digest is fetched once for the
whole class even when many learners pushed the same image.

One learner never costs the room its report: whatever goes wrong grading a learner (a bug
included) or reading their submitted file is shown in their row, and the others are graded.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
import traceback
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx

from labcheck.checks.catalog import kind_of
from labcheck.classroom.state import ClassState
from labcheck.classroom.submitted import Refused, Submissions
from labcheck.classroom.tokens import SERVICE
from labcheck.errors import RegistryAuthError, RegistryProtocolError, RegistryUnreachable
from labcheck.grading import evaluate
from labcheck.http_transport import SchemeTransport, http_client
from labcheck.observe.model import Observations, RepoRef, RepoState, Unavailable
from labcheck.observe.registry import observe_repository
from labcheck.registry import Credentials, Manifest, RegistryClient
from labcheck.registry.auth import basic_auth_header
from labcheck.results import CheckResult, ExerciseResult, LabResult, Status
from labcheck.session import prepare
from labcheck.spec.model import CheckSpec, ExerciseSpec, LabSpec
from labcheck.text import printable
from labcheck.untrusted import BodyTooLarge, loads, read_capped

#: Check kinds whose verdict (not only their hint) comes from the learner's own Docker daemon.
DAEMON_KINDS = frozenset({"pulled_from_registry", "logged_out"})
NOT_GRADED = "not graded here: it reads the learner's own machine (submit `labcheck run --format json`)"
WORKERS = 12  # measured: 8-16 beat 32 (less GIL contention), 4 is too few
SCOPES_PER_TOKEN = 25  # big tokens cost the registry a parse per request; 25 measured best
_MAX_TOKEN_ANSWER = 1024 * 1024
_REPO_PATH = re.compile(r"^/v2/(.+?)/(?:tags|manifests|blobs)/")


def class_tokens(http: httpx.Client, state: ClassState, repositories: Sequence[str]) -> dict[str, str]:
    """Bearer tokens for the grading login, by repository: one token request per SCOPES_PER_TOKEN."""
    tokens: dict[str, str] = {}
    names = sorted(set(repositories))
    for i in range(0, len(names), SCOPES_PER_TOKEN):
        batch = names[i : i + SCOPES_PER_TOKEN]
        params: list[tuple[str, str | int | float | bool | None]] = [("service", SERVICE)]
        params += [("scope", f"repository:{n}:pull") for n in batch]
        request = http.build_request("GET", state.token_url, params=params)
        request.headers["Authorization"] = basic_auth_header(Credentials(state.grader.user, state.grader.password))
        try:
            response = http.send(request, stream=True)
            body = read_capped(response, _MAX_TOKEN_ANSWER)
        except httpx.HTTPError as exc:
            raise RegistryUnreachable(f"the class token server {state.token_url} did not answer: {exc}") from exc
        except BodyTooLarge as exc:
            raise RegistryProtocolError(f"the class token server answered {exc}, not a token") from exc
        if response.status_code != 200:
            raise RegistryAuthError(f"the class token server refused the grading login ({response.status_code})")
        try:
            data = loads(body)
        except ValueError:
            data = None
        token = data.get("token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not (token.isascii() and token.isprintable() and " " not in token):
            raise RegistryProtocolError("the class token server answered without a token fit for a header")
        tokens.update(dict.fromkeys(batch, token))
    return tokens


class ClassTokenTransport(httpx.BaseTransport):
    """Adds the class token of the repository a request to the class registry names, so the
    registry never asks. A request to any other host (a redirect) gets no token."""

    def __init__(self, tokens: Mapping[str, str], inner: httpx.BaseTransport, registry: str) -> None:
        self._tokens = tokens
        self._inner = inner
        url = httpx.URL(f"http://{registry}")  # `registry` is host:port
        self._registry = (url.host, url.port)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        match = _REPO_PATH.match(request.url.path)
        ours = (request.url.host, request.url.port) == self._registry
        token = self._tokens.get(match[1]) if match and ours else None
        if token is not None and "Authorization" not in request.headers:
            request.headers["Authorization"] = f"Bearer {token}"
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


class CachingClient(RegistryClient):
    """A RegistryClient that fetches each manifest and blob digest once for all repositories.
    A class registry counts no pulls: a tag is resolved by one GET (`free_pulls`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, free_pulls=True, **kwargs)
        self._lock = threading.Lock()
        self._manifests: dict[str, Manifest] = {}
        self._blobs: dict[str, bytes] = {}

    def manifest(self, repository: str, reference: str) -> Manifest:
        if not reference.startswith("sha256:"):
            return super().manifest(repository, reference)
        kept = self._take_resolved(self._name(repository), reference)  # taken either way: none left behind
        with self._lock:
            cached = self._manifests.setdefault(reference, kept) if kept else self._manifests.get(reference)
        if cached is None:
            cached = super().manifest(repository, reference)
            with self._lock:
                self._manifests[reference] = cached
        return cached

    def blob(self, repository: str, digest: str, *, max_bytes: int = 1 << 26) -> bytes:
        with self._lock:
            cached = self._blobs.get(digest)
        if cached is None:
            cached = super().blob(repository, digest, max_bytes=max_bytes)
            with self._lock:
                self._blobs[digest] = cached
        if len(cached) > max_bytes:
            return super().blob(repository, digest, max_bytes=max_bytes)  # raises the size error
        return cached


@dataclass(frozen=True)
class LearnerRow:
    """One learner's grade: every check, SKIP where it could not be graded here."""

    learner: str
    name: str
    result: LabResult
    submitted: bool = False  # a submitted report filled in checks not graded here
    problems: tuple[str, ...] = ()  # why the row is incomplete: a refused report, an internal error
    trace: str = ""  # the traceback of a bug met grading this learner (LABCHECK_DEBUG=1 shows it)

    @property
    def internal_error(self) -> bool:
        return bool(self.trace)


@dataclass(frozen=True)
class ClassReport:
    lab: str
    title: str
    registry: str
    generated: str  # ISO 8601, UTC
    seconds: float
    exercises: tuple[tuple[str, str], ...]  # (id, title)
    rows: tuple[LearnerRow, ...]
    refused: tuple[Refused, ...] = ()  # submitted files not used (also in their learner's row)


@dataclass(frozen=True)
class _Bug:
    """An exception met grading one learner: a bug in labcheck, shown in that learner's row."""

    reason: str
    trace: str

    @classmethod
    def of(cls, exc: BaseException, doing: str) -> _Bug:
        what = printable(f"{type(exc).__name__}: {exc}").replace("\n", " ")
        what = what if len(what) <= 300 else what[:300] + "..."
        return cls(
            f"internal error {doing} (a bug in labcheck, please report it): {what}",
            "".join(traceback.format_exception(exc)),
        )


def class_gradable(ex: ExerciseSpec, check: CheckSpec, service: str) -> bool:
    """Can the check be graded from the class registry alone?"""
    kind = kind_of(check)
    needs = kind.needs(kind.parse(check.args))
    return (
        check.kind not in DAEMON_KINDS
        and needs.workspace_files is None
        and not needs.ecr_apis
        and not needs.push_logs
        and bool(needs.repos)
        and all(svc == service for svc, _ in needs.repos)
    )


def learner_lab(spec: LabSpec, state: ClassState, learner: str) -> LabSpec:
    """The lab as this learner sees it: the class registry, their login as namespace, their values."""
    shared = {state.service: state.address}
    return prepare(spec, learner=learner, addresses=shared, users={state.service: learner}).rendered


def _observe_all(
    client: RegistryClient, state: ClassState, wanted: Mapping[str, frozenset[str]]
) -> dict[str, RepoState | Unavailable | _Bug]:
    def one(repository: str) -> RepoState | Unavailable | _Bug:
        ref = RepoRef(state.service, state.address, repository)
        try:
            return observe_repository(client, ref, wanted[repository], workers=1)
        except Exception as exc:  # the repository's learner gets the error, the others their grade
            return _Bug.of(exc, f"reading {state.address}/{repository}")

    names = sorted(wanted)
    with ThreadPoolExecutor(max_workers=max(1, min(WORKERS, len(names))), thread_name_prefix="class-report") as pool:
        return dict(zip(names, pool.map(one, names), strict=True))


def _repos_of(lab: LabSpec, service: str) -> dict[str, frozenset[str]]:
    """The repositories (and files in them) the class-gradable checks of a learner's lab read."""
    wanted: dict[str, frozenset[str]] = {}
    for ex in lab.exercises:
        for c in ex.checks:
            if class_gradable(ex, c, service):
                for (_, repo), files in kind_of(c).needs(kind_of(c).parse(c.args)).repos.items():
                    wanted[repo] = wanted.get(repo, frozenset()) | files
    return wanted


def _not_graded(spec: LabSpec, reason: str) -> LabResult:
    """A learner's result when nothing could be graded: every check ERROR (never a fail)."""
    return LabResult(
        spec.id,
        spec.title,
        tuple(
            ExerciseResult(
                ex.id,
                ex.title,
                ex.lesson,
                tuple(
                    CheckResult(c.id, c.title, Status.ERROR, 0, c.points, f"not graded: {reason}") for c in ex.checks
                ),
            )
            for ex in spec.exercises
        ),
    )


def _grade_one(
    lab: LabSpec, state: ClassState, repos: Mapping[str, RepoState | Unavailable], submitted: LabResult | None
) -> tuple[LabResult, bool]:
    """The learner's result from their repositories, merged with their submitted report."""
    exercises = [
        ex.model_copy(update={"checks": tuple(c for c in ex.checks if class_gradable(ex, c, state.service))})
        for ex in lab.exercises
    ]
    needed = {
        (svc, repo): repos[repo]
        for ex in exercises
        for c in ex.checks
        for svc, repo in kind_of(c).needs(kind_of(c).parse(c.args)).repos
    }
    obs = Observations(repos=needed, docker=Unavailable("the learner's Docker daemon is on their own machine"))
    graded = evaluate(lab, exercises, obs, {state.service: state.address}, state.address)
    theirs = {(e.id, c.id): c for e in submitted.exercises for c in e.checks} if submitted else {}
    used_submitted = False
    merged = []
    for ex, done in zip(lab.exercises, graded.exercises, strict=True):
        by_id = {c.id: c for c in done.checks}
        checks = []
        for c in ex.checks:
            if c.id in by_id:
                checks.append(by_id[c.id])
                continue
            own = theirs.get((ex.id, c.id))
            if own is not None and own.status is not Status.SKIP:
                used_submitted = True
                points = min(own.points, c.points) if own.status is Status.PASS else 0
                checks.append(
                    CheckResult(c.id, c.title, own.status, points, c.points, f"(submitted) {own.message}", own.hint)
                )
            else:
                checks.append(CheckResult(c.id, c.title, Status.SKIP, 0, 0, NOT_GRADED))
        merged.append(ExerciseResult(ex.id, ex.title, ex.lesson, tuple(checks)))
    return LabResult(lab.id, lab.title, tuple(merged), state.address), used_submitted


def grade_class(
    spec: LabSpec,
    state: ClassState,
    *,
    submitted: Submissions | None = None,
    timeout: float = 10.0,
    client: RegistryClient | None = None,
) -> ClassReport:
    """Grade every learner of the class: their repositories read concurrently over one client.

    A learner whose grading raises (a bug) gets a row of ERROR checks saying so; a refused
    submitted file is named in its learner's row. Neither stops the others' grading.
    """
    started = time.monotonic()
    submitted = submitted or Submissions()
    labs: dict[str, LabSpec] = {}
    needs: dict[str, dict[str, frozenset[str]]] = {}
    bugs: dict[str, _Bug] = {}
    for lg in state.learners:
        try:
            labs[lg.user] = learner_lab(spec, state, lg.user)
            needs[lg.user] = _repos_of(labs[lg.user], state.service)
        except Exception as exc:
            bugs[lg.user] = _Bug.of(exc, "preparing this learner's lab")
    wanted: dict[str, frozenset[str]] = {}
    for repos_files in needs.values():
        for repo, files in repos_files.items():
            wanted[repo] = wanted.get(repo, frozenset()) | files
    own = client is None
    if client is None:
        with http_client(timeout=timeout) as http:  # loopback: never through a proxy
            tokens = class_tokens(http, state, list(wanted))
        limits = httpx.Limits(max_connections=WORKERS, max_keepalive_connections=WORKERS)
        client = CachingClient(
            state.address,
            credentials=Credentials(state.grader.user, state.grader.password),  # should a token expire
            timeout=timeout,
            transport=ClassTokenTransport(tokens, SchemeTransport(limits=limits), state.address),
        )
    try:
        observed = _observe_all(client, state, wanted)
    finally:
        if own:
            client.close()
    refused: dict[str, list[str]] = {}
    for r in submitted.refused:
        if r.learner:
            refused.setdefault(r.learner, []).append(f"{r.path} not used: {r.reason}")
    rows = []
    for lg in state.learners:
        problems = refused.get(lg.user, [])
        bug = bugs.get(lg.user) or next(
            (seen for repo in needs.get(lg.user, {}) if isinstance(seen := observed[repo], _Bug)), None
        )
        if bug is None:
            try:
                repos = {r: o for r in needs[lg.user] if not isinstance(o := observed[r], _Bug)}
                result, used = _grade_one(labs[lg.user], state, repos, submitted.reports.get(lg.user))
                rows.append(LearnerRow(lg.user, lg.name, result, used, tuple(problems)))
                continue
            except Exception as exc:
                bug = _Bug.of(exc, "grading this learner")
        rows.append(
            LearnerRow(lg.user, lg.name, _not_graded(spec, bug.reason), False, (bug.reason, *problems), bug.trace)
        )
    return ClassReport(
        lab=spec.id,
        title=spec.title,
        registry=state.address,
        generated=dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        seconds=time.monotonic() - started,
        exercises=tuple((ex.id, ex.title) for ex in spec.exercises),
        rows=tuple(rows),
        refused=submitted.refused,
    )
