"""Bad input through the real CLI: one clear line, the right exit code, no traceback, nothing lost.

Each row is what a learner, an author or a CI job can really hand labcheck: broken specs and
solution manifests, unknown names, registries that are closed, not registries, or lying,
no Docker daemon, no git workspace. Errors of the command line or the spec exit 2 with one
`labcheck: error:` line (plus a tip); "could not grade" exits 3, either as that one line or
as a report whose checks are ERROR (never FAIL: the learner is not at fault).
"""

from __future__ import annotations

import hashlib
import json
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from fake_registry import PROMOTE_TAGS, fake_registry
from hostile_registry import SECRET_TOKEN, hostile_registry

from cli_kit import run_cli
from labcheck.cli import main

MINI_LAB = """\
schema_version: 1
id: mini
title: Mini
parameters: {app: my-app}
services:
  registry: {description: a registry, port: 5999, env_var: REGISTRY}
exercises:
  - id: push
    title: Push
    summary: Push it.
    checks:
      - id: pushed
        title: pushed
        kind: tag_exists
        args: {service: registry, repository: "{{ app }}", tag: latest}
"""


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the socket is


@dataclass(frozen=True)
class Case:
    id: str
    args: tuple[str, ...]
    code: int
    message: str  # what the user must read (stderr for errors, the report for ERROR checks)
    lab_yaml: str | None = None  # written as <tmp>/lab/lab.yaml; "{lab}" in args points at it
    solutions_yaml: str | None = None  # written as <tmp>/solutions/mini/solutions.yaml
    server: str | None = None  # a fake registry behaviour; "{registry}" in args is its address
    tags: tuple[str, ...] = PROMOTE_TAGS
    env: dict[str, str] = field(default_factory=dict)
    report: bool = False  # a graded report (exit 3 = ERROR checks), not a one-line error
    cwd_git: bool = True
    own_process: bool = False  # the CLI in a child process (the fake server keeps this one's GIL)


def lab_with(old: str, new: str, base: str = MINI_LAB) -> str:
    assert old in base, old
    return base.replace(old, new)


SOLUTIONS = """\
schema_version: 1
lab: mini
solutions:
  - {name: ref, script: ref.sh, kind: reference, exercises: [push]}
"""

PROMOTE = ("run", "part7", "promote", "--registry", "{registry}", "--insecure")

CASES = [
    # --- the lab spec -------------------------------------------------------------------
    Case("yaml-unclosed", ("run", "{lab}"), 2, "invalid YAML", lab_yaml="id: [mini\n"),
    Case("yaml-tab", ("run", "{lab}"), 2, "invalid YAML", lab_yaml="id: mini\n\tservices: {}\n"),
    Case("yaml-bad-date", ("run", "{lab}"), 2, "invalid YAML", lab_yaml="schema_version: 1\nid: 2026-13-45\n"),
    Case("yaml-not-utf8", ("run", "{lab}"), 2, "not UTF-8", lab_yaml="\udcff\udcfeid: x"),
    Case("yaml-empty", ("run", "{lab}"), 2, "expected a mapping at the top level, got NoneType", lab_yaml=""),
    Case("yaml-list", ("run", "{lab}"), 2, "expected a mapping at the top level, got list", lab_yaml="- a\n"),
    Case("unknown-key-top", ("run", "{lab}"), 2, "colour: unknown key", lab_yaml=MINI_LAB + "colour: blue\n"),
    Case(
        "unknown-key-check",
        ("run", "{lab}"),
        2,
        "exercises.0.checks.0.weight: unknown key",
        lab_yaml=lab_with("        kind: tag_exists\n", "        kind: tag_exists\n        weight: 3\n"),
    ),
    Case(
        "wrong-type-port",
        ("run", "{lab}"),
        2,
        "services.registry.port: Input should be a valid integer",
        lab_yaml=lab_with("port: 5999", "port: high"),
    ),
    Case(
        "wrong-type-exercises",
        ("run", "{lab}"),
        2,
        "exercises: Input should be a valid tuple",
        lab_yaml=MINI_LAB.split("exercises:")[0] + "exercises: push\n",
    ),
    Case(
        "schema-version",
        ("run", "{lab}"),
        2,
        "schema_version: Input should be 1",
        lab_yaml=lab_with("schema_version: 1", "schema_version: 2"),
    ),
    Case(
        "unknown-check-kind",
        ("run", "{lab}"),
        2,
        "tag_exist",
        lab_yaml=lab_with("kind: tag_exists", "kind: tag_exist"),
    ),
    Case(
        "unknown-service",
        ("run", "{lab}"),
        2,
        "hub",
        lab_yaml=lab_with("args: {service: registry,", "args: {service: hub,"),
    ),
    Case(
        "jinja-syntax",
        ("run", "{lab}"),
        2,
        "template error",
        lab_yaml=lab_with('repository: "{{ app }}"', 'repository: "{{ app "'),
    ),
    Case(
        "jinja-undefined",
        ("run", "{lab}"),
        2,
        "'nope' is undefined",
        lab_yaml=lab_with('repository: "{{ app }}"', 'repository: "{{ nope }}"'),
    ),
    Case(
        "jinja-sandbox",
        ("hint", "{lab}", "push"),
        2,
        "template error",
        lab_yaml=lab_with("summary: Push it.", "summary: \"{{ ''.__class__.__mro__[1].__subclasses__() }}\""),
    ),
    Case(
        "duplicate-exercise",
        ("run", "{lab}"),
        2,
        "exercise id 'push' is used twice",
        lab_yaml=MINI_LAB + MINI_LAB.split("exercises:\n")[1].replace("  - id: push", "  - id: push", 1),
    ),
    Case(
        "exercise-id-injection",
        ("run", "{lab}"),
        2,
        "exercises.0.id: String should match pattern",
        lab_yaml=lab_with("  - id: push", "  - id: push;touch /tmp/labcheck-pwned"),
    ),
    # --- the solutions manifest (labcheck verify) ----------------------------------------
    Case(
        "solution-unknown-exercise",
        ("verify", "{lab}"),
        2,
        "solutions.0.exercises: unknown exercise 'pull'",
        lab_yaml=MINI_LAB,
        solutions_yaml=SOLUTIONS.replace("exercises: [push]", "exercises: [pull]"),
    ),
    Case(
        "solution-missing-script",
        ("verify", "{lab}"),
        2,
        "solutions.0.script: 'gone.sh' does not exist",
        lab_yaml=MINI_LAB,
        solutions_yaml=SOLUTIONS.replace("ref.sh", "gone.sh"),
    ),
    Case(
        "solution-script-outside",
        ("verify", "{lab}"),
        2,
        "solutions.0.script: '../outside.sh' is outside",
        lab_yaml=MINI_LAB,
        solutions_yaml=SOLUTIONS.replace("ref.sh", "../outside.sh"),
    ),
    Case(
        "solution-unknown-check",
        ("verify", "{lab}"),
        2,
        "unknown check 'push/nope'",
        lab_yaml=MINI_LAB,
        solutions_yaml=SOLUTIONS.replace("kind: reference,", "kind: mistake, fails: {push/nope: x},"),
    ),
    Case(
        "solution-other-lab",
        ("verify", "{lab}"),
        2,
        "lab: 'part7' is not 'mini'",
        lab_yaml=MINI_LAB,
        solutions_yaml=SOLUTIONS.replace("lab: mini", "lab: part7"),
    ),
    Case(
        "solution-yaml",
        ("verify", "{lab}"),
        2,
        "invalid YAML",
        lab_yaml=MINI_LAB,
        solutions_yaml="solutions: [\n",
    ),
    # --- the command line ---------------------------------------------------------------
    Case("unknown-lab", ("run", "part9"), 2, "unknown lab 'part9'"),
    Case("unknown-lab-up", ("up", "part9"), 2, "unknown lab 'part9'"),
    Case("unknown-exercise", ("run", "part7", "nope"), 2, "unknown exercise 'nope'"),
    Case("unknown-exercise-hint", ("hint", "part7", "nope"), 2, "unknown exercise 'nope'"),
    Case("unknown-solution", ("verify", "part7", "--solution", "nope"), 2, "unknown solution 'nope'"),
    Case("bad-instance", ("env", "part7", "--instance", "../../etc"), 2, "invalid lab instance name"),
    Case("bad-port", ("up", "part7", "--port", "hub=0"), 2, "expected SERVICE=PORT"),
    Case("registry-url", ("run", "part7", "--registry", "http://localhost:5000"), 2, "must be name[:port]"),
    Case("not-running", ("run", "part7"), 3, "lab 'part7' is not running"),
    Case("env-not-running", ("env", "part7"), 3, "lab 'part7' is not running"),
    Case("workspace-not-git", ("run", "part7", "--workspace", "{tmp}"), 2, "is not a git repository"),
    # --- registries that are not what --registry promised --------------------------------
    Case("registry-closed", ("run", "part7", "promote", "--registry", "127.0.0.1:{closed}"), 3, "cannot reach"),
    Case("registry-html", PROMOTE, 3, "HTML page: it is not a registry", server="html"),
    Case("registry-tls", PROMOTE, 3, "speaks HTTPS", server="tls"),
    Case("registry-basic", PROMOTE, 3, "requires credentials", server="basic"),
    Case("registry-token-refused", PROMOTE, 3, "refused anonymous access", server="bearer-refused"),
    Case("registry-429", PROMOTE, 3, "kept answering 429", server="rate-limited"),
    Case("registry-garbage-json", PROMOTE, 3, "not JSON", server="garbage-json", report=True),
    Case("registry-10mb", PROMOTE, 3, "more than the 4194304 allowed", server="huge-body", report=True),
    Case("registry-500", PROMOTE, 3, "HTTP 500", server="server-error", report=True),
    Case("registry-tags-not-list", PROMOTE, 3, "tags of myapp are not a list", server="tags-not-list", report=True),
    Case("registry-foreign-link", PROMOTE, 3, "to another host", server="foreign-link", report=True),
    Case("registry-digest-mismatch", PROMOTE, 3, "hash to", server="digest-mismatch", report=True),
    Case(
        "registry-bad-digest-header",
        PROMOTE,
        3,
        "malformed Docker-Content-Digest",
        server="bad-digest-header",
        report=True,
    ),
    Case("registry-not-a-manifest", PROMOTE, 3, "is not a manifest", server="not-a-manifest", report=True),
    # a repository that does not exist is the learner's to fix: FAIL with a hint, exit 1
    Case("registry-no-repo", PROMOTE, 1, "FAIL", server="no-repo", report=True),
    # 10,000 tags: every page followed, the promote tags found among them
    Case(
        "registry-10000-tags",
        PROMOTE,
        0,
        "Score: 3/3 points",
        server="good",
        tags=PROMOTE_TAGS + tuple(f"build-{i:05d}" for i in range(10_000)),
        report=True,
        own_process=True,
    ),
    # --- no Docker daemon, no git workspace ----------------------------------------------
    Case(
        "docker-socket-closed-up",
        ("up", "part7"),
        3,
        "Docker daemon does not answer",
        env={"DOCKER_HOST": "unix://{sock}"},
    ),
    Case(
        "docker-tcp-closed-status",
        ("status",),
        3,
        "Docker daemon does not answer",
        env={"DOCKER_HOST": "tcp://127.0.0.1:{closed}"},
    ),
    Case(
        "docker-closed-down",
        ("down", "part7"),
        3,
        "Docker daemon does not answer",
        env={"DOCKER_HOST": "unix://{sock}"},
    ),
    Case(
        "docker-closed-run",
        ("run", "part7", "local-registry", "--registry", "{registry}", "--insecure"),
        3,
        "ERROR pulled-back",
        server="good",
        tags=("latest",),
        env={"DOCKER_HOST": "unix://{sock}"},
        report=True,
    ),
    Case(
        "not-a-git-workspace",
        ("run", "part7", "git-sha", *PROMOTE[3:]),
        3,
        "is not a git repository",
        server="good",
        report=True,
        cwd_git=False,
    ),
]


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("LABCHECK_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("LABCHECK_DEBUG", raising=False)
    (tmp_path / "docker-config").mkdir()
    # another lab's state: no bad input may touch it
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "keep.json").write_text('{"lab": "part7", "instance": "keep", "services": {}}')
    yield tmp_path


def _digest(folder: Path) -> str:
    return hashlib.sha256(b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())).hexdigest()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(
    case: Case, sandbox: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    work = sandbox / "cwd"
    work.mkdir()
    if case.cwd_git:
        subprocess.run(["git", "init", "-q", str(work)], check=True)
    monkeypatch.chdir(work)
    subs = {"tmp": str(sandbox / "empty"), "closed": str(closed_port())}
    (sandbox / "empty").mkdir()
    with socket.socket(socket.AF_UNIX) as gone:  # a daemon's socket file, its daemon stopped
        gone.bind(str(sandbox / "docker.sock"))
    subs["sock"] = str(sandbox / "docker.sock")
    if case.lab_yaml is not None:
        lab = sandbox / "lab" / "lab.yaml"
        lab.parent.mkdir()
        lab.write_bytes(case.lab_yaml.encode("utf-8", "surrogateescape"))
        subs["lab"] = str(lab)
    if case.solutions_yaml is not None:
        folder = sandbox / "solutions" / "mini"
        folder.mkdir(parents=True)
        (folder / "solutions.yaml").write_text(case.solutions_yaml)
        (folder / "ref.sh").write_text('touch "$LAB_WORKSPACE/ran"\n')
        (sandbox / "solutions" / "outside.sh").write_text("touch /tmp/labcheck-outside-ran\n")
        monkeypatch.setenv("LABCHECK_SOLUTIONS_DIR", str(sandbox / "solutions"))
    server: AbstractContextManager[str] = (
        fake_registry(case.server, case.tags) if case.server else nullcontext("unused")
    )
    before = _digest(sandbox / "state")
    with server as address:
        subs["registry"] = address
        for key, value in case.env.items():
            monkeypatch.setenv(key, value.format(**subs))
        args = [a.format(**subs) for a in case.args]
        started = time.monotonic()
        code, out, err = run_cli(args, capsys, own_process=case.own_process)
        elapsed = time.monotonic() - started
    assert code == case.code, f"exit {code}\nstdout: {out}\nstderr: {err}"
    assert "Traceback" not in out + err
    assert "internal error" not in out + err
    assert _digest(sandbox / "state") == before, "a bad input changed a lab's state"
    if case.report:
        assert case.message in out, out
        if code == 3:
            assert "ERROR" in out
            assert "FAIL " not in out, "a registry problem was counted against the learner"
    else:
        lines = err.splitlines()
        if lines and lines[0].startswith("Usage: "):  # click's own usage errors: usage, then the error
            lines = [line for line in lines if line.startswith("Error: ")]
        assert lines and lines[0].startswith(("labcheck: error: ", "Error: ")), err
        assert case.message in lines[0], err
        assert len(lines) <= 2 and all(line.startswith("tip: ") for line in lines[1:]), err
        assert out == ""
    assert elapsed < 60  # a hang would be a bug: no case waits for a timeout


def test_the_table_is_big_enough() -> None:
    assert len(CASES) >= 30
    assert not Path("/tmp/labcheck-outside-ran").exists()


# --- files and arguments labcheck reads: lab and class state, rosters, submitted reports, --------
# --- Docker configs, and the command line (FILE_CASES; the network has its own table) ------------
#
# Each case writes the files it names into the sandbox ("{tmp}" in args and contents is the
# sandbox, "{state}" the state directory), runs the real CLI and checks its exit code and the
# one line it prints. `stream` says where that line is: "err" an error line (plus a tip) and
# nothing on stdout; "refused" the class report is still written (the table on stdout) and
# stderr names each file not used; "out" a command that copes and says so on stdout.

SECRET = "s3cret-lab-password"
CLASS_PASSWORD = "class-login-password"


def _lab_state(**change: object) -> bytes:
    hub = {"name": "hub", "env_var": "HUB_REGISTRY", "host": "127.0.0.1", "port": 5001, "username": "learner"}
    data: dict[str, object] = {
        "lab": "part7",
        "instance": "part7",
        "services": {"hub": {**hub, "password": SECRET, "auth": "htpasswd"}},
    }
    data.update(change)
    return json.dumps(data).encode()


def _hub(**change: object) -> dict[str, object]:
    return {"hub": {"name": "hub", "env_var": "HUB_REGISTRY", "host": "127.0.0.1", "port": 5001, **change}}


def _class_state(registry: str = "127.0.0.1:1", token_url: str = "http://127.0.0.1:1/token", **change: object) -> bytes:
    host, _, port = registry.rpartition(":")
    data: dict[str, object] = {
        "lab": "part7",
        "instance": "class-part7-test",
        "service": "hub",
        "host": host,
        "port": int(port),
        "realm": token_url,
        "token_url": token_url,
        "container_id": "c",
        "token_pid": 0,
        "token_command": ["python"],
        "grader": {"user": "instructor", "password": CLASS_PASSWORD, "name": "", "email": ""},
        "learners": [
            {"user": lr, "password": CLASS_PASSWORD, "name": lr.title(), "email": ""} for lr in ("alice", "bob")
        ],
        "public_address": "",
    }
    data.update(change)
    return json.dumps(data).encode()


def _without(data: bytes, key: str) -> bytes:
    loaded = json.loads(data)
    del loaded[key]
    return json.dumps(loaded).encode()


def _report(learner: str | None = "alice", **change: object) -> bytes:
    check = {"id": "logged-out", "title": "t", "status": "pass", "points": 1, "max_points": 1}
    check.update({"message": "m", "hint": "", "evidence": {}})
    exercise = {"id": "hub-publish", "title": "t", "lesson": "", "passed": True, "points": 1, "max_points": 1}
    data: dict[str, object] = {
        "schema": 1,
        "lab": "part7",
        "learner": learner,
        "target": "localhost:5001",
        "passed": True,
        "score": {"points": 1, "max_points": 1},
        "exercises": [{**exercise, "checks": [check]}],
    }
    data.update(change)
    return json.dumps(data).encode()


STATE = "state/part7.json"
CLASS = "state/class/state.json"
ROSTER = ("class", "up", "part7", "--roster", "{tmp}/roster.csv")
CLASS_REPORT = ("class", "report", "--output-dir", "{tmp}/board")
ENDPOINT = {"Endpoints": {"docker": {"Host": ""}}}
GHOST_META = f"docker-config/contexts/meta/{hashlib.sha256(b'ghost').hexdigest()}/meta.json"


@dataclass(frozen=True)
class FileCase:
    id: str
    args: tuple[str, ...]
    code: int
    message: str
    files: dict[str, bytes | None] = field(default_factory=dict)  # sandbox path -> content; None: a folder
    modes: dict[str, int] = field(default_factory=dict)  # sandbox path -> mode
    env: dict[str, str] = field(default_factory=dict)
    klass: bool = False  # a class whose registry and token server answer (fakes) is running
    stream: str = "err"


def _submitted(case_id: str, name: str, content: bytes, message: str) -> FileCase:
    return FileCase(
        case_id,
        (*CLASS_REPORT, f"{{tmp}}/results/{name}"),
        2,
        f"labcheck: {{tmp}}/results/{name} not used: {message}",
        files={f"results/{name}": content},
        klass=True,
        stream="refused",
    )


def _roster(case_id: str, content: bytes, message: str) -> FileCase:
    return FileCase(case_id, ROSTER, 2, message, files={"roster.csv": content})


FILE_CASES = [
    # --- the command line --------------------------------------------------------------------
    FileCase("hint-learner-id", ("hint", "part7", "hub-publish", "--learner", "Bad Id"), 2, "learner id 'Bad Id'"),
    FileCase("instructions-learner-id", ("instructions", "part7", "--learner", "UPPER"), 2, "learner id 'UPPER'"),
    FileCase(
        "instructions-class-no-learner",
        ("instructions", "part7", "--class-registry", "localhost:5050"),
        2,
        "--class-registry needs --learner ID",
    ),
    FileCase("ecr-region-alone", ("run", "part7", "--ecr-region", "us-east-1"), 2, "--ecr-region needs --registry"),
    FileCase("format-xml", ("run", "part7", "--format", "xml"), 2, "Invalid value for '--format'"),
    FileCase("port-not-a-number", ("up", "part7", "--port", "registry=abc"), 2, "expected SERVICE=PORT"),
    FileCase("port-too-big", ("up", "part7", "--port", "registry=70000"), 2, "expected SERVICE=PORT"),
    FileCase("instance-upper", ("down", "part7", "--instance", "Part7"), 2, "invalid lab instance name 'Part7'"),
    FileCase("instance-dots", ("env", "part7", "--instance", "a..b"), 2, "invalid lab instance name 'a..b'"),
    FileCase("registry-path", ("run", "part7", "--registry", "localhost:5000/ns"), 2, "must be name[:port]"),
    FileCase(
        "workspace-not-empty",
        ("workspace", "part7", "{tmp}/full"),
        2,
        "{tmp}/full exists and is not empty",
        files={"full/file": b"x"},
    ),
    FileCase("workspace-unknown-lab", ("workspace", "part9", "{tmp}/ws"), 2, "unknown lab 'part9'"),
    FileCase("verify-seeds-0", ("verify", "part7", "--seeds", "0"), 2, "Invalid value for '--seeds'"),
    FileCase("watch-interval-0", ("watch", "part7", "--interval", "0"), 2, "Invalid value for '--interval'"),
    FileCase("unknown-command", ("frobnicate",), 2, "No such command 'frobnicate'"),
    FileCase("class-report-no-file", (*CLASS_REPORT, "{tmp}/gone.json"), 2, "'{tmp}/gone.json' does not exist"),
    FileCase("class-report-a-folder", (*CLASS_REPORT, "{tmp}/results"), 2, "is a directory", files={"results": None}),
    FileCase("class-report-no-class", CLASS_REPORT, 3, "no class is running"),
    FileCase("class-cards-no-class", ("class", "cards"), 3, "no class is running"),
    FileCase("class-cards-unknown", ("class", "cards", "zed"), 2, "'zed' is not on the class roster", klass=True),
    FileCase("class-up-no-roster", ("class", "up", "part7"), 2, "Missing option '--roster'"),
    FileCase("class-up-unknown-lab", ("class", "up", "part9", "--roster", "{tmp}/r"), 2, "unknown lab 'part9'"),
    FileCase("class-up-port-0", (*ROSTER, "--port", "0"), 2, "Invalid value for '--port'"),
    # --- the lab state file ------------------------------------------------------------------
    FileCase(
        "state-services-list",
        ("env", "part7"),
        3,
        "the lab state {state}/part7.json is damaged: services: Input should be a valid dictionary",
        files={STATE: _lab_state(services=[])},
    ),
    FileCase("state-not-json", ("env", "part7"), 3, "{state}/part7.json is not JSON", files={STATE: b"lab: part7"}),
    FileCase("state-empty", ("run", "part7"), 3, "{state}/part7.json is not JSON", files={STATE: b""}),
    FileCase("state-binary", ("hint", "part7", "hub-publish"), 3, "is not JSON", files={STATE: bytes(range(256))}),
    FileCase("state-deep", ("env", "part7"), 3, "is not JSON", files={STATE: b"[" * 100_000 + b"]" * 100_000}),
    FileCase(
        "state-missing-key",
        ("env", "part7"),
        3,
        "is damaged: instance: Field required",
        files={STATE: _without(_lab_state(), "instance")},
    ),
    FileCase(
        "state-top-list",
        ("instructions", "part7"),
        3,
        "is damaged: the top level: Input should be a dictionary",
        files={STATE: b"[]"},
    ),
    FileCase(
        "state-service-number",
        ("env", "part7"),
        3,
        "is damaged: services.hub: Input should be a dictionary",
        files={STATE: _lab_state(services={"hub": 5})},
    ),
    FileCase(
        "state-port-word",
        ("run", "part7"),
        3,
        "is damaged: services.hub.port: Input should be a valid integer",
        files={STATE: _lab_state(services=_hub(port="high"))},
    ),
    FileCase(
        "state-command-number",
        ("env", "part7"),
        3,
        "is damaged: services.hub.command: Input should be a valid tuple",
        files={STATE: _lab_state(services=_hub(command=5))},
    ),
    FileCase(  # the message names the key, never the value: here it would be a password
        "state-password-number",
        ("env", "part7"),
        3,
        "is damaged: services.hub.password: Input should be a valid string",
        files={STATE: _lab_state(services=_hub(password=271828182845))},
    ),
    FileCase(  # the part7 of an older labcheck, before the ECR stand-in: only two services
        "state-older-labcheck",
        ("env", "part7"),
        3,
        "the lab state {state}/part7.json has no service 'registry' of lab part7: an older labcheck started",
        files={STATE: _lab_state()},
    ),
    FileCase(
        "state-older-labcheck-run",
        ("run", "part7"),
        3,
        "has no service 'registry' of lab part7",
        files={STATE: _lab_state()},
    ),
    FileCase(
        "state-older-labcheck-hint",
        ("hint", "part7", "hub-publish"),
        3,
        "has no service 'registry' of lab part7",
        files={STATE: _lab_state()},
    ),
    FileCase("state-other-lab", ("env", "part7"), 2, "unknown lab 'part8'", files={STATE: _lab_state(lab="part8")}),
    FileCase(
        "state-too-big",
        ("env", "part7"),
        3,
        "is larger than 16777216 bytes",
        files={STATE: b" " * (16 << 20) + b"{}"},
    ),
    FileCase(
        "state-dir-a-file",
        ("env", "part7"),
        3,
        "cannot use {tmp}/a-file: Not a directory",
        files={"a-file": b"x"},
        env={"LABCHECK_STATE_DIR": "{tmp}/a-file"},
    ),
    FileCase(
        "state-dir-shared",
        ("env", "part7"),
        3,
        "{tmp}/shared may be written by others (mode drwxrwxrwx)",
        files={"shared": None},
        modes={"shared": 0o777},
        env={"LABCHECK_STATE_DIR": "{tmp}/shared"},
    ),
    FileCase(
        "state-dir-group",
        ("hint", "part7", "hub-publish"),
        3,
        "may be written by others (mode drwxrwx---)",
        modes={"state": 0o770},
    ),
    # --- the class state ---------------------------------------------------------------------
    FileCase(
        "class-state-no-learners",
        ("class", "cards"),
        3,
        "the class state {state}/class/state.json is damaged: learners: Field required",
        files={CLASS: _without(_class_state(), "learners")},
    ),
    FileCase("class-state-not-json", CLASS_REPORT, 3, "class/state.json is not JSON", files={CLASS: b"{oops"}),
    FileCase(
        "class-state-learners-word",
        ("class", "cards"),
        3,
        "is damaged: learners: Input should be a valid tuple",
        files={CLASS: _class_state(learners="alice")},
    ),
    FileCase(
        "class-state-grader-null",
        CLASS_REPORT,
        3,
        "is damaged: grader: Input should be a dictionary",
        files={CLASS: _class_state(grader=None)},
    ),
    FileCase(
        "class-state-port-word",
        ("class", "cards"),
        3,
        "is damaged: port: Input should be a valid integer",
        files={CLASS: _class_state(port="x")},
    ),
    FileCase(
        "class-down-damaged",
        ("class", "down"),
        0,
        "removed the damaged class state",
        files={CLASS: b"{oops"},
        stream="out",
    ),
    FileCase(
        "class-up-over-damaged",
        ROSTER,
        3,
        "class/state.json is not JSON",
        files={CLASS: b"{oops", "roster.csv": b"alice\n"},
    ),
    # --- rosters -----------------------------------------------------------------------------
    _roster("roster-nul", b"alice\nb\x00b\n", "{tmp}/roster.csv: binary data (a NUL byte at 7), not a CSV roster"),
    _roster("roster-utf16", "alice\n".encode("utf-16"), "{tmp}/roster.csv: binary data (a NUL byte at 3)"),
    _roster("roster-latin1", "zoë\n".encode("latin-1"), "{tmp}/roster.csv: not UTF-8 text"),
    _roster("roster-png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary data (a NUL byte at 8)"),
    _roster("roster-one-huge-field", b"a" * 200_000, "roster.csv:1: not a CSV line of a roster (field larger than"),
    _roster("roster-too-big", b"alice\n" * 200_000, "more than 1048576 bytes: not a roster"),
    _roster("roster-escape", b"alice,Al\x1b[2Jice\n", "roster.csv:1: control characters in 'Al\\\\x1b[2Jice'"),
    _roster("roster-newline", b'alice,"Al\nice"\n', "roster.csv:2: control characters in"),
    _roster("roster-empty", b"", "roster.csv: no learners"),
    _roster("roster-header-only", b"id,name,email\n", "roster.csv: no learners"),
    _roster("roster-1001", b"".join(b"l%04d\n" % i for i in range(1001)), "a class holds at most 1000"),
    _roster("roster-twice", b"alice\nbob\nalice\n", "roster.csv:3: learner id 'alice' is already on line 1"),
    _roster("roster-reserved", b"instructor\n", "learner id 'instructor' is reserved"),
    _roster("roster-email", b"alice,Alice,alice-at-example\n", "'alice-at-example' is not an email address"),
    _roster("roster-fields", b"alice,A,a@b.cd,x\n", "roster.csv:1: 4 fields"),
    _roster("roster-upper", b"Alice\n", "roster.csv:1: learner id 'Alice' is not valid"),
    FileCase("roster-missing", ROSTER, 2, "{tmp}/roster.csv: cannot read: No such file or directory"),
    FileCase("roster-a-folder", ROSTER, 2, "is a directory", files={"roster.csv": None}),
    # --- reports handed to `class report` ---------------------------------------------------
    _submitted(
        "report-infinity",
        "alice.json",
        _report().replace(b'"points": 1', b'"points": Infinity', 1),
        "not valid JSON: Infinity is not a number JSON allows",
    ),
    _submitted(
        "report-nan",
        "alice.json",
        _report().replace(b'"points": 1', b'"points": NaN', 1),
        "not valid JSON: NaN is not a number JSON allows",
    ),
    _submitted(
        "report-negative",
        "alice.json",
        _report(score={"points": -3, "max_points": 1}),
        "score/points: -3 is less than the minimum of 0",
    ),
    _submitted(
        "report-huge", "alice.json", _report(score={"points": 10**100, "max_points": 1}), "a number of 101 digits"
    ),
    _submitted("report-deep", "alice.json", b"[" * 100_000 + b"]" * 100_000, "not a report: nested too deeply"),
    _submitted("report-wrong-type", "alice.json", _report(passed="yes"), "passed: 'yes' is not of type 'boolean'"),
    _submitted(
        "report-unknown-key",
        "alice.json",
        _report(grade="A+"),
        "the report: Additional properties are not allowed ('grade' was unexpected)",
    ),
    _submitted(
        "report-unknown-exercise",
        "alice.json",
        _report().replace(b'"id": "hub-publish"', b'"id": "bonus-round"'),
        "exercise 'bonus-round' is not in lab part7",
    ),
    _submitted("report-spoofed", "bob.json", _report("alice"), "the report is alice's (its learner field), not bob's"),
    _submitted("report-no-learner", "alice.json", _report(None), "graded with the lab's default values, not alice's"),
    _submitted("report-not-on-roster", "zed.json", _report("zed"), "the file is not named after a learner"),
    _submitted("report-other-lab", "alice.json", _report(lab="part8"), "a report of lab part8, not of part7"),
    _submitted("report-binary", "alice.json", bytes(range(256)), "not UTF-8 text (byte 128)"),
    _submitted("report-empty", "alice.json", b"", "not valid JSON: Expecting value (line 1, column 1)"),
    _submitted(
        "report-twice-key",
        "alice.json",
        b'{"learner": "alice", "learner": "bob"}',
        "not valid JSON for a report: the key 'learner' appears twice",
    ),
    _submitted("report-too-big", "alice.json", b" " * (4 << 20) + b"{}", "4194305 bytes: a report is at most 4194304"),
    # --- Docker configs ----------------------------------------------------------------------
    FileCase(
        "docker-context-missing",
        ("status",),
        3,
        "the docker context 'ghost' in use has no readable endpoint",
        files={"docker-config/config.json": b'{"currentContext": "ghost"}'},
    ),
    FileCase(
        "docker-context-env-missing",
        ("down", "part7"),
        3,
        "the docker context 'ghost' in use has no readable endpoint",
        env={"DOCKER_CONTEXT": "ghost"},
    ),
    FileCase(
        "docker-context-meta-garbage",
        ("status",),
        3,
        "the docker context 'ghost' in use has no readable endpoint",
        files={"docker-config/config.json": b'{"currentContext": "ghost"}', GHOST_META: b"\x00garbage"},
    ),
    FileCase(
        "docker-context-meta-deep",
        ("status",),
        3,
        "the docker context 'ghost' in use has no readable endpoint",
        files={"docker-config/config.json": b'{"currentContext": "ghost"}', GHOST_META: b"[" * 100_000},
    ),
    FileCase(
        "docker-context-no-host",
        ("status",),
        3,
        "the docker context 'ghost' names no daemon",
        files={"docker-config/config.json": b'{"currentContext": "ghost"}', GHOST_META: json.dumps(ENDPOINT).encode()},
    ),
    FileCase(
        "docker-config-deep",
        ("down", "part7"),
        3,
        "the docker context 'ghost' in use has no readable endpoint",
        files={"docker-config/config.json": b"[" * 100_000},
        env={"DOCKER_CONTEXT": "ghost"},
    ),
]


class _TokenHandler(BaseHTTPRequestHandler):
    """The class token server, as far as the grading login needs it."""

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        body = b'{"token": "t"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def _token_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _TokenHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/token"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.mark.parametrize("case", FILE_CASES, ids=[c.id for c in FILE_CASES])
def test_bad_file_input(
    case: FileCase, sandbox: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    work = sandbox / "cwd"
    work.mkdir()
    subprocess.run(["git", "init", "-q", str(work)], check=True)
    monkeypatch.chdir(work)
    subs = {"tmp": str(sandbox), "state": str(sandbox / "state")}
    with ExitStack() as running:
        if case.klass:
            registry = running.enter_context(fake_registry("good"))
            token_url = running.enter_context(_token_server())
            (sandbox / "state" / "class").mkdir(mode=0o700)
            (sandbox / "state" / "class" / "state.json").write_bytes(_class_state(registry, token_url))
        for name, content in case.files.items():
            path = sandbox / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if content is None:
                path.mkdir()
            else:
                path.write_bytes(content)
        for name, mode in case.modes.items():
            (sandbox / name).chmod(mode)
        for key, value in case.env.items():
            monkeypatch.setenv(key, value.format(**subs))
        started = time.monotonic()
        try:
            main([a.format(**subs) for a in case.args])
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        elapsed = time.monotonic() - started
    out, err = capsys.readouterr()
    message = case.message.format(**subs)
    assert code == case.code, f"exit {code}\nstdout: {out}\nstderr: {err}"
    assert "Traceback" not in out + err
    assert "internal error" not in out + err
    assert SECRET not in out + err and "271828182845" not in out + err
    assert CLASS_PASSWORD not in err
    lines = err.splitlines()
    if case.stream == "err":
        if lines and lines[0].startswith("Usage: "):  # click's own usage errors: usage, then the error
            lines = [line for line in lines if line.startswith("Error: ")]
        assert lines and lines[0].startswith(("labcheck: error: ", "Error: ")), err
        assert message in lines[0], err
        assert len(lines) <= 2 and all(line.startswith("tip: ") for line in lines[1:]), err
        assert out == ""
    elif case.stream == "refused":
        assert lines and lines[0].startswith(message), err
        assert all(line.startswith("labcheck: ") for line in lines), err
        assert "2 learners" in out  # the room's report is written all the same
        assert {p.name for p in (sandbox / "board").iterdir()} == {
            "scoreboard.csv",
            "scoreboard.json",
            "scoreboard.html",
        }
    else:
        assert message in out, out
    assert elapsed < 30


def test_the_file_table_is_big_enough() -> None:
    assert len(FILE_CASES) >= 60
    assert len({c.id for c in FILE_CASES}) == len(FILE_CASES)


def test_a_bug_grading_one_learner_exits_3_with_the_room_graded(
    sandbox: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No input can produce a bug on purpose: one is injected. The class report is written,
    bob is graded, alice's row and stderr say it is a bug, and the exit code is 3."""
    from labcheck.classroom import report as class_report

    real = class_report.observe_repository

    def buggy(client: object, ref: object, *args: object, **kwargs: object) -> object:
        if str(getattr(ref, "repository", "")).startswith("alice/"):
            raise ZeroDivisionError("a bug")
        return real(client, ref, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(class_report, "observe_repository", buggy)
    monkeypatch.chdir(sandbox)
    with fake_registry("good") as registry, _token_server() as token_url:
        (sandbox / "state" / "class").mkdir(mode=0o700)
        (sandbox / "state" / "class" / "state.json").write_bytes(_class_state(registry, token_url))
        with pytest.raises(SystemExit) as info:
            main([a.format(tmp=sandbox) for a in CLASS_REPORT])
    out, err = capsys.readouterr()
    assert info.value.code == 3, out + err
    assert err.startswith("labcheck: alice: internal error reading ") and "ZeroDivisionError: a bug" in err
    assert "Traceback" not in err  # LABCHECK_DEBUG=1 would print it
    board = json.loads((sandbox / "board" / "scoreboard.json").read_text())
    rows = {x["id"]: x for x in board["learners"]}
    assert rows["alice"]["internal_error"] and not rows["bob"]["internal_error"]
    assert not rows["bob"]["problems"]


# --- the network half of issue 15: what a registry, a token server or a Docker config can send
# Each row reproduced an internal error, a hang, a leak or an injection before the fix.


@dataclass(frozen=True)
class NetCase:
    id: str
    args: tuple[str, ...]
    code: int
    message: str  # in the first stderr line (errors), or in the report (report=True)
    server: str | None = None  # a hostile_registry behaviour; "{registry}" in args is its address
    docker_config: str | None = None  # config.json; "{registry}" is the server's address
    report: bool = False
    tags: tuple[str, ...] = PROMOTE_TAGS
    absent: tuple[str, ...] = ()  # must appear nowhere in the output
    own_process: bool = False


def _auths(entry: str) -> str:
    return '{"auths": {"{registry}": ' + entry + "}}"


NETWORK_CASES = [
    # --- a Docker config that `docker login` would not write, but a hand or a tool might
    NetCase(
        "docker-config-auth-no-colon",
        PROMOTE,
        3,
        "auths['127.0.0.1:",
        server="basic",
        docker_config=_auths('{"auth": "dXNlcnBhc3M="}'),  # base64("userpass")
    ),
    NetCase(
        "docker-config-auth-bad-base64",
        PROMOTE,
        3,
        ".auth is not base64 of user:password",
        server="basic",
        docker_config=_auths('{"auth": "%%%not base64"}'),
    ),
    NetCase(
        "docker-config-auth-null",  # null is no login, as docker reads it
        PROMOTE,
        3,
        "requires credentials",
        server="basic",
        docker_config=_auths('{"auth": null}'),
    ),
    NetCase(
        "docker-config-auths-list",
        PROMOTE,
        3,
        "`auths` is not an object of logins",
        server="basic",
        docker_config='{"auths": ["{registry}"]}',
    ),
    # --- token auth: odd but legal answers
    NetCase("realm-not-a-url", PROMOTE, 3, "realm is not a URL", server="bad-realm"),
    NetCase("expires-in-1e400", PROMOTE, 0, "Score: 3/3 points", server="token-inf", report=True),
    NetCase("expires-in-10-to-the-400", PROMOTE, 0, "Score: 3/3 points", server="token-bigint", report=True),
    NetCase("expires-in-nan", PROMOTE, 0, "Score: 3/3 points", server="token-nan", report=True),
    NetCase(
        "www-authenticate-empty-elements", PROMOTE, 0, "Score: 3/3 points", server="token-empty-elements", report=True
    ),
    NetCase("retry-after-year-99999999999", PROMOTE, 0, "Score: 3/3 points", server="retry-after-far", report=True),
    NetCase(
        "token-with-crlf",
        PROMOTE,
        3,
        "answered a token that cannot be sent in a header",
        server="token-crlf",
        absent=(SECRET_TOKEN,),
    ),
    # --- what the registry serves
    NetCase("config-is-a-list", PROMOTE, 3, "is not a JSON object", server="config-list", report=True),
    NetCase("config-is-a-string", PROMOTE, 3, "config is not an object", server="config-string", report=True),
    NetCase("config-5000-deep", PROMOTE, 3, "JSON nested deeper than 64 levels", server="config-deep", report=True),
    NetCase("tag-with-a-space", PROMOTE, 3, "'bad tag', which is not a tag", server="bad-tag", report=True),
    NetCase(
        "5000-version-tags",  # each was resolved: one request a tag, 100k tags = 100k requests
        PROMOTE,
        0,
        "has 5004 tags: labcheck read 1000",
        server="good",
        tags=PROMOTE_TAGS + tuple(f"0.0.{i}" for i in range(5000)),
        report=True,
        own_process=True,
    ),
    NetCase("link-header-100kb", PROMOTE, 3, "characters is no page link", server="link-bomb", report=True),
    NetCase(
        "one-byte-at-a-time",
        (*PROMOTE, "--timeout", "3"),
        3,
        "labcheck run did not finish within --timeout 3 s",
        server="drip",
    ),
    # --- output injection: a server's words are shown escaped
    NetCase(
        "escape-sequences-in-an-error",
        PROMOTE,
        3,
        "\\x1b]52;c;ZWNobyBwd25lZA==\\x07\\x1b[2J\\r\\nlabcheck: all checks passed",
        server="escape-error",
        absent=("\x1b", "\x07", "\r"),
    ),
    # --- credentials only go where they belong: no AWS token for a host that is not an ECR
    NetCase(
        "ecr-region-on-another-host",
        ("run", "part7", "--registry", "evil.example", "--ecr-region", "us-east-1"),
        2,
        "evil.example is not an AWS ECR registry",
    ),
]


@pytest.mark.parametrize("case", NETWORK_CASES, ids=[c.id for c in NETWORK_CASES])
def test_network_input(
    case: NetCase, sandbox: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    work = sandbox / "cwd"
    work.mkdir()
    subprocess.run(["git", "init", "-q", str(work)], check=True)
    monkeypatch.chdir(work)
    logins: list[str] = []
    monkeypatch.setattr("labcheck.registry.ecr.ecr_login", lambda region, **kw: logins.append(region))
    server: AbstractContextManager[tuple[str, object]] = (
        hostile_registry(case.server, tags=case.tags) if case.server else nullcontext(("unused", None))
    )
    with server as (address, _):
        if case.docker_config is not None:
            (sandbox / "docker-config" / "config.json").write_text(case.docker_config.replace("{registry}", address))
        args = [a.format(registry=address) for a in case.args]
        started = time.monotonic()
        code, out, err = run_cli(args, capsys, own_process=case.own_process)
        elapsed = time.monotonic() - started
    assert code == case.code, f"exit {code}\nstdout: {out}\nstderr: {err}"
    assert "Traceback" not in out + err
    assert "internal error" not in out + err
    assert logins == [], "an AWS login token was asked for"
    for text in case.absent:
        assert text not in out + err, f"{text!r} reached the output"
    if case.report:
        assert case.message in out, out
        if code == 3:
            assert "ERROR" in out
            assert "FAIL " not in out, "a registry problem was counted against the learner"
    else:
        lines = err.splitlines()
        assert lines and lines[0].startswith("labcheck: error: "), err
        assert case.message in lines[0], err
        assert len(lines) <= 2 and all(line.startswith("tip: ") for line in lines[1:]), err
        assert out == ""
    assert elapsed < 30  # bounded: nothing waits for a timeout of its own
