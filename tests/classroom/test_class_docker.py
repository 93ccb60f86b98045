"""A real class: registry:2 with our token server, 30 learners, real docker logins and pushes.

Three learners run the shipped reference solution (docker login --password-stdin, build,
push) with their own login and values; the other 27 push the same finished work through the
registry API with their own tokens. The class report must then show 30 x every
registry-gradable check passed, and a push into another learner's namespace must fail.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from engine_kit import containerd_store
from labcheck.classroom import process
from labcheck.classroom.environment import class_down, class_up
from labcheck.classroom.report import grade_class, load_submitted
from labcheck.classroom.roster import parse_roster
from labcheck.classroom.state import ClassState, load_class
from labcheck.classroom.synthetic import Pusher, build_image, learner_values, push_finished_work
from labcheck.docker_host import throwaway_docker_config
from labcheck.environment.services import free_port
from labcheck.errors import ClassError
from labcheck.results import Status
from labcheck.spec import load_lab
from labcheck.spec.loader import repo_root
from labcheck.spec.model import LabSpec
from labcheck.workspace import create_workspace

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
            script = repo_root() / "solutions" / "part7" / "reference" / "semver-latest.sh"
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

    # A learner's submitted report grades what the class registry cannot see.
    reports = tmp_path / "results"
    reports.mkdir()
    first = klass.learners[0].user
    (reports / f"{first}.json").write_text(
        '{"schema": 1, "lab": "part7", "target": "localhost:5000", "exercises": [{"id": "hub-publish", "checks": '
        '[{"id": "logged-out", "status": "pass", "points": 1, "max_points": 1, "message": "logged out"}]}]}'
    )
    merged = grade_class(spec, klass, submitted=load_submitted([reports / f"{first}.json"], "part7", [first]))
    row = next(r for r in merged.rows if r.learner == first)
    assert row.submitted and row.result.points == row.result.max_points == 10

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
