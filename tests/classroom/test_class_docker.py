"""A real class: registry:2 with our token server, 30 learners, real docker logins and pushes.

Three learners run the shipped reference solution (docker login --password-stdin, build,
push) with their own login and values; the other 27 push the same finished work through the
registry API with their own tokens. The class report must then show 30 x every
registry-gradable check passed, and a push into another learner's namespace must fail.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from jsonschema import Draft202012Validator

from engine_kit import containerd_store
from installed import SOLUTIONS
from labcheck.classroom import process
from labcheck.classroom.environment import class_down, class_up
from labcheck.classroom.report import grade_class
from labcheck.classroom.roster import parse_roster
from labcheck.classroom.state import ClassState, load_class
from labcheck.classroom.synthetic import Image, Pusher, build_image, learner_values, push_finished_work
from labcheck.docker_host import throwaway_docker_config
from labcheck.environment.services import free_port
from labcheck.errors import ClassError
from labcheck.reporters.schema import report_schema
from labcheck.results import Status
from labcheck.session import load_lab
from labcheck.spec.model import LabSpec
from labcheck.workspace import create_workspace
from net_kit import PROXY_VARIABLES, recording_proxy

pytestmark = pytest.mark.docker

#: What the class registry alone can grade in part7 (the rest reads the learner's machine).
GRADABLE = {
    "hub-publish": {"latest-pushed", "version-pushed", "one-image", "lab-app"},
    "semver-latest": {"first-version", "second-version", "versions-differ", "latest-moved"},
    "pull-by-version": {"different"},
}


@pytest.fixture(scope="module")
def spec() -> LabSpec:
    return load_lab("part7")


@pytest.fixture(scope="module")
def klass(spec: LabSpec, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClassState]:
    state_dir = tmp_path_factory.mktemp("class-state")
    old = os.environ.get("LABCHECK_STATE_DIR")
    os.environ["LABCHECK_STATE_DIR"] = str(state_dir)
    roster = "id,name,email\n" + "".join(f"learner-{i:02d},Learner {i},l{i}@example.org\n" for i in range(1, 31))
    try:
        state = class_up(spec, parse_roster(roster), port=free_port())
        yield state
    finally:
        class_down()
        if old is None:
            os.environ.pop("LABCHECK_STATE_DIR", None)
        else:
            os.environ["LABCHECK_STATE_DIR"] = old


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _docker(config: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DOCKER_CONFIG": str(config)}
    return subprocess.run(["docker", *args], input=stdin, env=env, capture_output=True, text=True, timeout=120)


def _untag(prefix: str) -> None:
    tags = subprocess.run(["docker", "images", "--format", "{{.Repository}}:{{.Tag}}"], capture_output=True, text=True)
    mine = [t for t in tags.stdout.split() if t.startswith(prefix)]
    if mine:
        subprocess.run(["docker", "rmi", "-f", *mine], capture_output=True, check=False)


@pytest.mark.engine
def test_thirty_learners_all_registry_gradable_checks_pass(spec: LabSpec, klass: ClassState, tmp_path: Path) -> None:
    # One engine stands in for the learners' machines. With the containerd image store,
    # containerd before 2.1 (Docker 26, 27) tries a cross-repository mount from another
    # repository on the same host name (any port) that got the layer, and aborts the push when
    # the learner's token may not read it (containerd#12163): only learners who share an engine
    # meet that. There one learner pushes with docker, at 127.0.0.1 (no other test pushes to
    # that name), and the others through the API.
    if containerd_store():
        by_docker, address = klass.learners[:1], f"127.0.0.1:{klass.port}"
    else:
        by_docker, address = klass.learners[:3], klass.address
    try:
        for login in by_docker:
            values = learner_values(spec, klass, login.user)
            ws = create_workspace(spec.id, tmp_path / login.user / "workspace")
            config = throwaway_docker_config(tmp_path / login.user / "docker-config")
            env = {
                **os.environ,
                "DOCKER_CONFIG": str(config),
                "HUB_REGISTRY": address,
                "HUB_USERNAME": login.user,
                "HUB_PASSWORD": login.password,
                "LAB_APP": values["app"],
                "LAB_VERSION": values["version"],
                "LAB_NEXT_VERSION": values["next_version"],
            }
            script = SOLUTIONS / "part7" / "reference" / "semver-latest.sh"
            done = subprocess.run(
                ["bash", "-euo", "pipefail", str(script)], cwd=ws, env=env, capture_output=True, text=True, timeout=300
            )
            assert done.returncode == 0, (done.stdout + done.stderr).replace(login.password, "****")[-2000:]
    finally:
        _untag(f"{address}/")
    assert push_finished_work(spec, klass, klass.learners[len(by_docker) :]) == 30 - len(by_docker)

    report = grade_class(spec, klass)
    assert len(report.rows) == 30
    for row in report.rows:
        graded = {
            ex.id: {c.id for c in ex.checks if c.status is not Status.SKIP}
            for ex in row.result.exercises
            if any(c.status is not Status.SKIP for c in ex.checks)
        }
        assert graded == GRADABLE, row.learner
        failed = [
            (ex.id, c.id, c.message)
            for ex in row.result.exercises
            for c in ex.checks
            if c.status not in (Status.PASS, Status.SKIP)
        ]
        assert not failed, (row.learner, failed)
        assert row.result.points == row.result.max_points == 9

    # The CLI writes the scoreboard files and prints the table.
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "labcheck", "class", "report", "--output-dir", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
    )
    assert done.returncode == 0, done.stderr
    assert "30 learners, 30 with every graded check passed" in done.stdout
    assert done.stderr == ""
    assert {p.name for p in out.iterdir()} == {"scoreboard.csv", "scoreboard.json", "scoreboard.html"}
    for login in klass.learners:  # no password in the report files
        assert login.password not in (out / "scoreboard.json").read_text()


@pytest.mark.engine
def test_a_push_into_another_learners_namespace_is_refused(spec: LabSpec, klass: ClassState, tmp_path: Path) -> None:
    alice, bob = klass.learners[10], klass.learners[11]
    config = throwaway_docker_config(tmp_path / "docker-config")
    ref = f"{klass.address}/{bob.user}/stolen:v1.0.0"
    try:
        login = _docker(config, "login", klass.address, "-u", alice.user, "--password-stdin", stdin=alice.password)
        assert login.returncode == 0, login.stderr
        assert _docker(config, "tag", "busybox:stable", ref).returncode == 0
        push = _docker(config, "push", ref)
        assert push.returncode != 0
        if containerd_store():  # containerd's resolver names the token's missing scope
            assert "insufficient_scope" in push.stderr, push.stderr
        else:
            assert "denied" in push.stderr or "unauthorized" in push.stderr, push.stderr
        wrong = _docker(config, "login", klass.address, "-u", alice.user, "--password-stdin", stdin="not-her-password")
        assert wrong.returncode != 0
    finally:
        _untag(f"{klass.address}/")
    # Through the API as well: alice's token for bob's repository grants nothing.
    with httpx.Client(timeout=10) as http:
        pusher = Pusher(klass, http)
        token = pusher.token(alice, f"{bob.user}/stolen")
        with pytest.raises(httpx.HTTPStatusError) as info:
            pusher.push(
                token, f"{bob.user}/stolen", build_image("part7", "stolen", "v1", "2026-01-01T00:00:00Z"), ["v1"]
            )
        assert info.value.response.status_code in (401, 403)


def test_the_class_report_ignores_the_proxy_variables(
    spec: LabSpec, klass: ClassState, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: the grading login's token request went to HTTP_PROXY, credentials and all."""
    learner = klass.learners[20]
    push_finished_work(spec, klass, [learner])
    with recording_proxy() as (proxy, seen):
        for name in PROXY_VARIABLES:
            monkeypatch.setenv(name, proxy)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        report = grade_class(spec, klass)
    assert seen.requests == [], seen.lines()
    row = next(r for r in report.rows if r.learner == learner.user)
    graded = [c for c in row.result.checks() if c.status is not Status.SKIP]
    assert graded and all(c.status is Status.PASS for c in graded), [(c.id, c.message) for c in graded]


def test_one_class_at_a_time_and_down_removes_everything(spec: LabSpec, tmp_path: Path) -> None:
    old = os.environ.get("LABCHECK_STATE_DIR")
    os.environ["LABCHECK_STATE_DIR"] = str(tmp_path / "state")
    try:
        state = class_up(spec, parse_roster("solo\n"), port=free_port())
        with pytest.raises(ClassError, match="already running"):
            class_up(spec, parse_roster("solo\n"), port=free_port())
        assert process.alive(state.token_pid, state.token_command)
        # `down` from another state dir knows no class: it must not touch this one
        os.environ["LABCHECK_STATE_DIR"] = str(tmp_path / "other")
        assert class_down() == []
        os.environ["LABCHECK_STATE_DIR"] = str(tmp_path / "state")
        assert process.alive(state.token_pid, state.token_command)
        removed = class_down()
        assert any("token server" in r for r in removed)
        assert not process.alive(state.token_pid, state.token_command)
        assert load_class() is None and not (tmp_path / "state" / "class").exists()
        left = subprocess.run(
            ["docker", "ps", "-aq", "--filter", f"label=io.labcheck.instance={state.instance}"],
            capture_output=True,
            text=True,
        )
        assert left.stdout.strip() == ""
    finally:
        with contextlib.suppress(Exception):
            class_down()
        if old is None:
            os.environ.pop("LABCHECK_STATE_DIR", None)
        else:
            os.environ["LABCHECK_STATE_DIR"] = old


@pytest.mark.engine
def test_verify_with_learner_seeds(tmp_path: Path) -> None:
    """`verify --seeds`: the reference and a mistake grade as declared with other learners' values."""
    env = {**os.environ, "LABCHECK_STATE_DIR": str(tmp_path / "state")}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "labcheck",
            "verify",
            "part7",
            "--seeds",
            "2",
            "--solution",
            "hub-publish",
            "--solution",
            "short-version",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 passed, 0 failed" in done.stdout
    assert "hub-publish@learner-02" in done.stdout


def _lc(env: dict[str, str], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "labcheck", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300
    )


def test_reports_of_a_real_labcheck_run_fill_their_learners_rows_and_only_theirs(
    spec: LabSpec, klass: ClassState, tmp_path: Path
) -> None:
    """learner-01 grades their own lab with `labcheck run --learner learner-01 --format json`;
    the class report takes that file for learner-01, and refuses a copy named learner-02.json."""
    first, second = klass.learners[0].user, klass.learners[1].user
    env = {
        **os.environ,
        "LABCHECK_STATE_DIR": str(tmp_path / "own-state"),  # the learner's laptop: their own lab
        "DOCKER_CONFIG": str(tmp_path / "docker-config"),
        "NO_COLOR": "1",
    }
    (tmp_path / "docker-config").mkdir()
    ws = create_workspace(spec.id, tmp_path / "workspace")
    instance = f"hc-own-{free_port()}"
    ports = [f"--port={name}={free_port()}" for name in ("registry", "hub", "ecr", "ecr-api")]
    results = tmp_path / "results"
    try:
        up = _lc(env, "up", "part7", "--instance", instance, *ports)
        assert up.returncode == 0, up.stdout + up.stderr
        own = results / f"{first}.json"
        run = _lc(
            env, "run", "part7", "--instance", instance, "--learner", first, "--format", "json", "--output", str(own),
            cwd=ws,
        )  # fmt: skip
        assert run.returncode == 1, run.stdout + run.stderr  # nothing pushed: checks fail
    finally:
        _lc(env, "down", "part7", "--instance", instance)
    data = json.loads(own.read_text())
    Draft202012Validator(report_schema()).validate(data)
    assert data["learner"] == first
    # on the learner's own (empty) lab every check fails, logged-out included: the class
    # registry cannot grade that one, the submitted report does; an exercise that needs what
    # this engine lacks (multi-platform on the classic image store) is skipped, not failed
    needy = {e.id for e in spec.exercises if e.requires}
    assert {c["status"] for ex in data["exercises"] if ex["id"] not in needy for c in ex["checks"]} == {"fail"}
    assert {c["status"] for ex in data["exercises"] if ex["id"] in needy for c in ex["checks"]} <= {"fail", "skip"}
    (results / "other").mkdir()
    (results / "other" / f"{second}.json").write_text(own.read_text())  # learner-01's report, as learner-02's

    out = tmp_path / "out"
    done = _lc(
        {**os.environ, "NO_COLOR": "1"},
        "class", "report", str(own), str(results / "other" / f"{second}.json"), "--output-dir", str(out),
    )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr  # one file was not used; the report is written
    assert done.stderr.splitlines() == [
        f"labcheck: {results}/other/{second}.json not used: the report is {first}'s (its learner field), not {second}'s"
    ]
    board = json.loads((out / "scoreboard.json").read_text())
    rows = {x["id"]: x for x in board["learners"]}

    def logged_out(learner: str) -> str:
        hub = next(ex for ex in rows[learner]["exercises"] if ex["id"] == "hub-publish")
        return str(next(c["status"] for c in hub["checks"] if c["id"] == "logged-out"))

    assert rows[first]["submitted"] and logged_out(first) == "fail"  # taken from the submitted report
    assert not rows[second]["submitted"] and logged_out(second) == "skip"  # not graded here
    assert rows[first]["points"] == rows[second]["points"] == 9
    # every check is graded for learner-01: 9 here, the others by their report, but for those
    # their own engine could not do (skipped in their report, so not counted)
    status = {(ex["id"], c["id"]): c["status"] for ex in data["exercises"] for c in ex["checks"]}
    skipped = sum(c.points for e in spec.exercises for c in e.checks if status[(e.id, c.id)] == "skip")
    assert (rows[first]["max_points"], rows[second]["max_points"]) == (spec.max_points - skipped, 9)
    assert rows[second]["problems"] == [done.stderr.splitlines()[0].removeprefix("labcheck: ")]
    assert all(not x["problems"] for lid, x in rows.items() if lid != second)


def test_a_garbage_config_blob_in_one_repository_spoils_only_that_row(
    spec: LabSpec, klass: ClassState, tmp_path: Path
) -> None:
    """A real registry:2 takes a config blob that is not JSON; the class report grades the
    other 29 learners and shows the error in the one row (an ERROR, never a fail)."""
    victim = klass.learners[-1]
    values = learner_values(spec, klass, victim.user)
    repository = f"{values['namespace']}/{values['app']}"
    image = build_image(spec.id, values["app"], values["next_version"], "2026-01-01T11:00:00Z")
    garbage = b"\x00\x01 not an image config"
    manifest = json.loads(image.manifest)
    manifest["config"] = {"mediaType": manifest["config"]["mediaType"], "size": len(garbage), "digest": sha(garbage)}
    broken = Image(json.dumps(manifest).encode(), (garbage, *image.blobs[1:]))
    with httpx.Client(timeout=30) as http:
        pusher = Pusher(klass, http)
        pusher.push(pusher.token(victim, repository), repository, broken, ["latest"])
    done = _lc({**os.environ, "NO_COLOR": "1"}, "class", "report", "--output-dir", str(tmp_path / "out"))
    assert done.returncode in (0, 3), done.stdout + done.stderr  # 3: labelled an internal error in the row
    report = grade_class(spec, klass)
    assert len(report.rows) == 30
    for row in report.rows:
        graded = [c.status for c in row.result.checks() if c.status is not Status.SKIP]
        if row.learner == victim.user:
            assert Status.ERROR in graded and Status.FAIL not in graded, row
        else:
            assert graded == [Status.PASS] * 9, row.learner
            assert not row.problems
