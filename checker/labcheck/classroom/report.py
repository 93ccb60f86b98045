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
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from labcheck.checks.catalog import kind_of
from labcheck.classroom.state import ClassState
from labcheck.classroom.tokens import SERVICE
from labcheck.errors import RegistryAuthError, RegistryProtocolError, RegistryUnreachable, UsageError
from labcheck.grading import evaluate
from labcheck.http_transport import SchemeTransport, http_client
from labcheck.observe.model import Observations, RepoRef, RepoState, Unavailable
from labcheck.observe.registry import observe_repository
from labcheck.registry import Credentials, Manifest, RegistryClient
from labcheck.registry.auth import basic_auth_header
from labcheck.results import CheckResult, ExerciseResult, LabResult, Status
from labcheck.spec.model import CheckSpec, ExerciseSpec, LabSpec
from labcheck.spec.render import render_lab, template_context
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
    """A RegistryClient that fetches each manifest and blob digest once for all repositories."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lock = threading.Lock()
        self._manifests: dict[str, Manifest] = {}
        self._blobs: dict[str, bytes] = {}
        self.fetches = 0

    def resolve(self, repository: str, reference: str) -> str | None:
        """One GET per tag instead of HEAD then GET: the manifest is read anyway, and a class
        registry counts no pulls. The manifest is kept for the manifest() call that follows."""
        if reference.startswith("sha256:"):
            return super().resolve(repository, reference)
        found = self._get_manifest(self._name(repository), self._reference(reference))
        if found is None:
            return None
        with self._lock:
            self._manifests.setdefault(found.digest, found)
        return found.digest

    def manifest(self, repository: str, reference: str) -> Manifest:
        if not reference.startswith("sha256:"):
            return super().manifest(repository, reference)
        with self._lock:
            cached = self._manifests.get(reference)
        if cached is None:
            cached = super().manifest(repository, reference)
            with self._lock:
                self._manifests[reference] = cached
                self.fetches += 1
        return cached

    def blob(self, repository: str, digest: str, *, max_bytes: int = 1 << 26) -> bytes:
        with self._lock:
            cached = self._blobs.get(digest)
        if cached is None:
            cached = super().blob(repository, digest, max_bytes=max_bytes)
            with self._lock:
                self._blobs[digest] = cached
                self.fetches += 1
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


@dataclass(frozen=True)
class ClassReport:
    lab: str
    title: str
    registry: str
    generated: str  # ISO 8601, UTC
    seconds: float
    exercises: tuple[tuple[str, str], ...]  # (id, title)
    rows: tuple[LearnerRow, ...]


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
    addresses = {name: f"localhost:{svc.port}" for name, svc in spec.services.items()}
    addresses[state.service] = state.address
    users = {name: user for name, svc in spec.services.items() if (user := svc.login_user)}
    users[state.service] = learner
    return render_lab(spec, template_context(spec, addresses, users, learner))


def _observe_all(
    client: RegistryClient, state: ClassState, wanted: Mapping[str, frozenset[str]]
) -> dict[str, RepoState | Unavailable]:
    def one(repository: str) -> RepoState | Unavailable:
        ref = RepoRef(state.service, state.address, repository)
        return observe_repository(client, ref, wanted[repository], workers=1)

    names = sorted(wanted)
    with ThreadPoolExecutor(max_workers=max(1, min(WORKERS, len(names))), thread_name_prefix="class-report") as pool:
        return dict(zip(names, pool.map(one, names), strict=True))


def _grade_one(
    lab: LabSpec, state: ClassState, repos: Mapping[str, RepoState | Unavailable], submitted: LabResult | None
) -> tuple[LabResult, bool]:
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
    submitted: Mapping[str, LabResult] | None = None,
    timeout: float = 10.0,
    client: RegistryClient | None = None,
) -> ClassReport:
    """Grade every learner of the class: their repositories read concurrently over one client."""
    started = time.monotonic()
    submitted = submitted or {}
    labs = {lg.user: learner_lab(spec, state, lg.user) for lg in state.learners}
    wanted: dict[str, frozenset[str]] = {}
    for lab in labs.values():
        for ex in lab.exercises:
            for c in ex.checks:
                if class_gradable(ex, c, state.service):
                    for (_, repo), files in kind_of(c).needs(kind_of(c).parse(c.args)).repos.items():
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
        repos = _observe_all(client, state, wanted)
    finally:
        if own:
            client.close()
    rows = []
    for lg in state.learners:
        result, used = _grade_one(labs[lg.user], state, repos, submitted.get(lg.user))
        rows.append(LearnerRow(lg.user, lg.name, result, used))
    return ClassReport(
        lab=spec.id,
        title=spec.title,
        registry=state.address,
        generated=dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        seconds=time.monotonic() - started,
        exercises=tuple((ex.id, ex.title) for ex in spec.exercises),
        rows=tuple(rows),
    )


def load_submitted(paths: Sequence[Path], lab: str, learners: Sequence[str]) -> dict[str, LabResult]:
    """Learners' own JSON reports, keyed by learner: the report's `learner`, else the file name.

    `results/alice.json` is alice's report. A file that is not a schema-1 report of this lab,
    or names no learner of the class, is a usage error naming the file.
    """
    known = set(learners)
    out: dict[str, LabResult] = {}
    for path in paths:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UsageError(f"{path}: not a readable JSON report: {exc}") from exc
        if not isinstance(data, dict) or data.get("schema") != 1 or data.get("lab") != lab:
            raise UsageError(f"{path}: not a schema-1 JSON report of lab {lab} (`labcheck run {lab} --format json`)")
        learner = str(data.get("learner") or path.stem)
        if learner not in known:
            raise UsageError(f"{path}: learner {learner!r} is not on the class roster", tip="name it <learner-id>.json")
        out[learner] = _result_from_json(data, path)
    return out


def _result_from_json(data: dict[str, Any], path: Path) -> LabResult:
    try:
        exercises = tuple(
            ExerciseResult(
                str(ex["id"]),
                str(ex.get("title", "")),
                str(ex.get("lesson", "")),
                tuple(
                    CheckResult(
                        str(c["id"]),
                        str(c.get("title", "")),
                        Status(c["status"]),
                        int(c.get("points", 0)),
                        int(c.get("max_points", 0)),
                        str(c.get("message", "")),
                        str(c.get("hint", "")),
                    )
                    for c in ex["checks"]
                ),
            )
            for ex in data["exercises"]
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise UsageError(f"{path}: malformed report: {exc}") from exc
    return LabResult(str(data["lab"]), "", exercises, str(data.get("target", "")))
