"""One learner never costs the room its class report, and nobody fills in another's row.

The class registry is an httpx.MockTransport here: it serves each learner's finished hub work
as the reference solution pushes it, and for some learners what a real registry:2 cannot be
made to hold on demand (a tag that is not a string). The garbage config blob is also tested
against a real registry:2 in test_class_docker.py. A bug is simulated where only a bug can
produce it: a function of labcheck raising.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labcheck.classroom import report as class_report
from labcheck.classroom.report import ClassReport, grade_class
from labcheck.classroom.scoreboard import to_csv, to_html, to_json, to_table
from labcheck.classroom.state import ClassLogin, ClassState
from labcheck.classroom.submitted import Submissions, load_submitted
from labcheck.classroom.synthetic import CONFIG_V1, MANIFEST_V2, build_image, learner_values
from labcheck.registry import RegistryClient
from labcheck.reporters import reporter_for
from labcheck.results import CheckResult, ExerciseResult, LabResult, Status
from labcheck.session import load_lab
from labcheck.spec.model import LabSpec

SPEC = load_lab("part7")
GRADABLE = 9  # checks of part7 the class registry alone can grade


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def klass(*learners: str) -> ClassState:
    return ClassState(
        lab="part7",
        instance="class-part7-test",
        service=SPEC.class_service or "hub",
        host="127.0.0.1",
        port=5050,
        realm="http://127.0.0.1:5051/token",
        token_url="http://127.0.0.1:5051/token",
        container_id="c",
        token_pid=0,
        token_command=("python",),
        grader=ClassLogin("instructor", "grader"),
        learners=tuple(ClassLogin(lr, f"pw-{lr}", lr.title()) for lr in learners),
    )


class Registry:
    """Repositories as the class registry would hold them: tags -> manifest, blobs by digest."""

    def __init__(self) -> None:
        self.tags: dict[str, dict[str, bytes]] = {}
        self.blobs: dict[str, bytes] = {}
        self.tag_lists: dict[str, bytes] = {}  # a raw tags/list answer, overriding `tags`

    def finished_work(self, state: ClassState, learner: str, *, config: bytes | None = None) -> str:
        values = learner_values(SPEC, state, learner)
        repo = f"{values['namespace']}/{values['app']}"
        first = build_image(SPEC.id, values["app"], values["version"], "2026-01-01T10:00:00Z")
        second = build_image(SPEC.id, values["app"], values["next_version"], "2026-01-01T11:00:00Z")
        images = [(first, [values["version"]]), (second, [values["next_version"], "latest"])]
        for image, tags in images:
            manifest, blobs = image.manifest, image.blobs
            if config is not None:  # the same image, its config blob replaced
                data = json.loads(manifest)
                data["config"] = {"mediaType": CONFIG_V1, "size": len(config), "digest": sha(config)}
                manifest, blobs = json.dumps(data).encode(), (config, *blobs[1:])
            for blob in blobs:
                self.blobs[sha(blob)] = blob
            for tag in tags:
                self.tags.setdefault(repo, {})[tag] = manifest
        return repo

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/v2/":
            return httpx.Response(200, json={})
        match = re.match(r"^/v2/(.+?)/(tags/list|manifests|blobs)/?(.*)$", path)
        assert match, path
        repo, what, ref = match.groups()
        if repo not in self.tags:
            return httpx.Response(404, json={"errors": [{"code": "NAME_UNKNOWN"}]})
        if what == "tags/list":
            raw = self.tag_lists.get(repo) or json.dumps({"name": repo, "tags": sorted(self.tags[repo])}).encode()
            return httpx.Response(200, content=raw, headers={"Content-Type": "application/json"})
        if what == "manifests":
            manifests = {sha(m): m for m in self.tags[repo].values()}
            body = self.tags[repo].get(ref) or manifests.get(ref)
            if body is None:
                return httpx.Response(404, json={"errors": [{"code": "MANIFEST_UNKNOWN"}]})
            headers = {"Content-Type": MANIFEST_V2, "Docker-Content-Digest": sha(body)}
            return httpx.Response(200, content=b"" if request.method == "HEAD" else body, headers=headers)
        blob = self.blobs.get(ref)
        return httpx.Response(200, content=blob) if blob else httpx.Response(404, json={"errors": []})

    def client(self) -> RegistryClient:
        return RegistryClient("localhost:5050", transport=httpx.MockTransport(self.handle))


def graded(state: ClassState, registry: Registry, submitted: Submissions | None = None) -> ClassReport:
    return grade_class(SPEC, state, client=registry.client(), submitted=submitted)


def row(report: ClassReport, learner: str) -> class_report.LearnerRow:
    return next(r for r in report.rows if r.learner == learner)


def statuses(report: ClassReport, learner: str) -> list[Status]:
    return [c.status for c in row(report, learner).result.checks() if c.status is not Status.SKIP]


def assert_fully_graded(report: ClassReport, learner: str) -> None:
    r = row(report, learner)
    assert not r.problems and not r.internal_error, r.problems
    assert statuses(report, learner) == [Status.PASS] * GRADABLE


def assert_not_graded_and_says_so(report: ClassReport, learner: str) -> None:
    """The row shows an error: never a pass, never a fail counted against the learner."""
    r = row(report, learner)
    assert Status.ERROR in statuses(report, learner)
    assert Status.FAIL not in statuses(report, learner)
    if r.internal_error:  # a bug must be visible as one, in the row
        assert r.problems[0].startswith("internal error")
        assert "a bug in labcheck" in r.problems[0] and "Traceback" in r.trace


def test_everyone_is_graded_on_a_healthy_registry() -> None:
    state = klass("alice", "bob")
    registry = Registry()
    for learner in ("alice", "bob"):
        registry.finished_work(state, learner)
    report = graded(state, registry)
    assert_fully_graded(report, "alice")
    assert_fully_graded(report, "bob")


@pytest.mark.parametrize(
    "config",
    [b"\x00not json", b"[1, 2]", b'{"config": "labels?"}', b'{"config": {"Labels": ["a", "b"]}}', b"{" * 50_000],
    ids=["garbage", "list", "config-not-object", "labels-list", "deep"],
)
def test_a_bad_config_blob_spoils_only_its_learners_row(config: bytes) -> None:
    state = klass("alice", "bob", "carol")
    registry = Registry()
    registry.finished_work(state, "alice", config=config)
    registry.finished_work(state, "bob")
    registry.finished_work(state, "carol")
    report = graded(state, registry)
    assert_not_graded_and_says_so(report, "alice")
    assert_fully_graded(report, "bob")
    assert_fully_graded(report, "carol")
    for render in (to_table, to_csv, to_json, to_html):
        render(report)  # every rendering copes with the broken row


@pytest.mark.parametrize(
    "tags",
    [b'{"tags": [null, 5, {"x": 1}]}', b'{"tags": ["v1.0.0", ["nested"]]}', b'{"tags": "latest"}', b"\xff\xfe"],
    ids=["not-strings", "nested", "not-a-list", "not-utf8"],
)
def test_a_bad_tag_list_spoils_only_its_learners_row(tags: bytes) -> None:
    state = klass("alice", "bob")
    registry = Registry()
    registry.tag_lists[registry.finished_work(state, "alice")] = tags
    registry.finished_work(state, "bob")
    report = graded(state, registry)
    assert_not_graded_and_says_so(report, "alice")
    assert_fully_graded(report, "bob")


def _raise_for_alice(real: Callable[..., object], is_alices: Callable[..., bool]) -> Callable[..., object]:
    def maybe(*args: object, **kwargs: object) -> object:
        if is_alices(*args):
            raise RuntimeError("boom \x1b[31m")
        return real(*args, **kwargs)

    return maybe


#: For each function of the class report, how to tell a call about alice from its arguments.
ALICES = {
    "learner_lab": lambda spec, state, learner: learner == "alice",
    "observe_repository": lambda client, ref, *rest: ref.repository.startswith("alice/"),
    "_grade_one": lambda lab, *rest: "alice/" in lab.model_dump_json(),
}


@pytest.mark.parametrize("where", list(ALICES))
def test_any_exception_grading_one_learner_is_labelled_an_internal_error_in_their_row(
    where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = klass("alice", "bob")
    registry = Registry()
    registry.finished_work(state, "alice")
    registry.finished_work(state, "bob")
    monkeypatch.setattr(class_report, where, _raise_for_alice(getattr(class_report, where), ALICES[where]))
    report = graded(state, registry)
    alice = row(report, "alice")
    assert alice.internal_error
    assert alice.problems[0].startswith("internal error")
    assert "RuntimeError: boom \\x1b[31m" in alice.problems[0] and "\x1b" not in alice.problems[0]
    assert set(statuses(report, "alice")) == {Status.ERROR}
    assert alice.result.points == 0 and alice.result.max_points == SPEC.max_points
    assert_fully_graded(report, "bob")
    table = to_table(report)
    assert "! internal error" in table and "\x1b" not in table
    data = json.loads(to_json(report))
    assert [x["internal_error"] for x in data["learners"]] == [True, False]


# --- submitted reports ----------------------------------------------------------------


def own_report(state: ClassState, learner: str | None, *, logged_out: Status = Status.PASS) -> dict[str, object]:
    """What `labcheck run part7 --learner LEARNER --format json` writes: hub-publish's
    logged-out check (the class registry cannot see it) graded on the learner's machine."""
    check = CheckResult("logged-out", "logged out", logged_out, int(logged_out is Status.PASS), 1, "logged out")
    result = LabResult("part7", SPEC.title, (ExerciseResult("hub-publish", "Hub", "l/", (check,)),), "h:1", learner)
    data: dict[str, object] = json.loads(reporter_for("json").render(result))
    return data


def write(folder: Path, name: str, data: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data if isinstance(data, bytes) else json.dumps(data).encode())
    return path


def test_a_learners_report_fills_their_row_and_a_spoofed_one_fills_nobodys(tmp_path: Path) -> None:
    state = klass("alice", "bob", "dave")
    registry = Registry()
    for learner in ("alice", "bob", "dave"):
        registry.finished_work(state, learner)
    files = [
        write(tmp_path, "alice.json", own_report(state, "alice")),
        write(tmp_path, "dave.json", own_report(state, "alice")),  # alice's report under dave's name
    ]
    submitted = load_submitted(files, SPEC, ["alice", "bob", "dave"])
    assert set(submitted.reports) == {"alice"}
    assert [(r.learner, r.reason) for r in submitted.refused] == [
        ("dave", "the report is alice's (its learner field), not dave's")
    ]
    report = graded(state, registry, submitted)
    assert row(report, "alice").submitted and row(report, "alice").result.points == GRADABLE + 1
    dave = row(report, "dave")
    assert not dave.submitted and dave.result.points == GRADABLE
    assert dave.problems == (f"{tmp_path}/dave.json not used: the report is alice's (its learner field), not dave's",)
    assert not dave.internal_error
    assert_fully_graded(report, "bob")


def _bad(state: ClassState) -> dict[str, tuple[str, object, str]]:
    good = own_report(state, "alice")

    def changed(**kw: object) -> dict[str, object]:
        return {**good, **kw}

    exercises: list[dict[str, object]] = good["exercises"]  # type: ignore[assignment]
    check = dict(exercises[0]["checks"][0])  # type: ignore[index]
    return {
        "infinity": ("alice.json", json.dumps(good).replace('"points": 1', '"points": Infinity', 1), "Infinity"),
        "nan": ("alice.json", json.dumps(good).replace('"points": 1', '"points": NaN', 1), "NaN"),
        "negative": ("alice.json", changed(score={"points": -5, "max_points": 1}), "less than the minimum"),
        "huge": ("alice.json", changed(score={"points": 10**400, "max_points": 1}), "a number of 401 digits"),
        "big": ("alice.json", changed(score={"points": 10**12, "max_points": 1}), "greater than the maximum"),
        "1e400": ("alice.json", json.dumps(good).replace('"points": 1', '"points": 1e400', 1), "too large"),
        "wrong-type": ("alice.json", changed(passed="yes"), "passed: 'yes' is not of type 'boolean'"),
        "deep": ("alice.json", b"[" * 200_000 + b"]" * 200_000, "nested too deeply"),
        "unknown-exercise": (
            "alice.json",
            changed(exercises=[{**exercises[0], "id": "hack-the-planet"}]),
            "exercise 'hack-the-planet' is not in lab part7",
        ),
        "unknown-check": (
            "alice.json",
            changed(exercises=[{**exercises[0], "checks": [{**check, "id": "bonus"}]}]),
            "check hub-publish/bonus is not in lab part7",
        ),
        "twice": (
            "alice.json",
            changed(exercises=[{**exercises[0], "checks": [check, check]}]),
            "check hub-publish/logged-out appears twice",
        ),
        "more-than-max": (
            "alice.json",
            changed(exercises=[{**exercises[0], "checks": [{**check, "points": 2}]}]),
            "hub-publish/logged-out: 2 points of 1",
        ),
        "other-lab": ("alice.json", changed(lab="part8"), "a report of lab part8, not of part7"),
        "no-learner": ("alice.json", changed(learner=None), "graded with the lab's default values, not alice's"),
        "not-json": ("alice.json", b"\x00\x01binary", "not valid JSON"),
        "not-on-roster": ("zed.json", good, "not named after a learner on the roster"),
        "not-json-name": ("alice.txt", good, "not named after a learner on the roster"),
    }


@pytest.mark.parametrize("case", list(_bad(klass("alice"))))
def test_a_bad_submitted_file_is_refused_alone_and_the_room_is_graded(case: str, tmp_path: Path) -> None:
    state = klass("alice", "bob")
    registry = Registry()
    registry.finished_work(state, "alice")
    registry.finished_work(state, "bob")
    name, data, reason = _bad(state)[case]
    bobs = write(tmp_path / "bob", "bob.json", own_report(state, "bob"))
    path = write(tmp_path / "x", name, data.encode() if isinstance(data, str) else data)
    submitted = load_submitted([path, bobs], SPEC, ["alice", "bob"])
    assert set(submitted.reports) == {"bob"}
    (refused,) = submitted.refused
    assert reason in refused.reason, refused.reason
    assert len(refused.reason) < 400 and "\n" not in refused.reason
    report = graded(state, registry, submitted)
    assert row(report, "bob").submitted and row(report, "bob").result.points == GRADABLE + 1
    alice = row(report, "alice")
    assert alice.result.points == GRADABLE and not alice.submitted and not alice.internal_error
    if refused.learner:
        assert alice.problems == (f"{path} not used: {refused.reason}",)
    else:
        assert not alice.problems and f"not used: {path}" in to_table(report)


def test_one_learner_handing_in_twice_keeps_the_first(tmp_path: Path) -> None:
    state = klass("alice")
    first = write(tmp_path / "a", "alice.json", own_report(state, "alice"))
    second = write(tmp_path / "b", "alice.json", own_report(state, "alice", logged_out=Status.FAIL))
    submitted = load_submitted([first, second], SPEC, ["alice"])
    assert submitted.reports["alice"].checks()[0].status is Status.PASS
    assert [r.reason for r in submitted.refused] == [f"alice already handed in {first}"]


def test_a_bug_reading_one_file_is_labelled_and_spoils_nothing_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from labcheck.classroom import submitted as submitted_module

    state = klass("alice", "bob")
    real = submitted_module._report_of

    def buggy(data: dict[str, object], spec: LabSpec, learner: str) -> LabResult:
        if learner == "alice":
            raise KeyError("oops")
        return real(data, spec, learner)

    monkeypatch.setattr(submitted_module, "_report_of", buggy)
    files = [write(tmp_path, f"{lr}.json", own_report(state, lr)) for lr in ("alice", "bob")]
    got = load_submitted(files, SPEC, ["alice", "bob"])
    assert set(got.reports) == {"bob"}
    assert got.refused[0].reason == "internal error (a bug in labcheck, please report it): KeyError: 'oops'"
    assert "Traceback" in got.refused[0].trace


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)


def _paths(node: object, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _paths(value, (*prefix, i))
    return found


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_any_value_anywhere_in_a_report_is_refused_cleanly_or_used(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    """Replace any value of a real report with any JSON: never an internal error."""
    report = own_report(klass("alice"), "alice")
    paths = _paths(report)[1:]
    where = data.draw(st.sampled_from(paths))
    node: Any = report
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = data.draw(_json)
    folder = tmp_path_factory.mktemp("fuzz")
    got = load_submitted([write(folder, "alice.json", report)], SPEC, ["alice"])
    assert all("internal error" not in r.reason for r in got.refused), got.refused
    assert len(got.reports) + len(got.refused) == 1
