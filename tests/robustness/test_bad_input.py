"""Bad input through the real CLI: one clear line, the right exit code, no traceback, nothing lost.

Each row is what a learner, an author or a CI job can really hand labcheck: broken specs and
solution manifests, unknown names, registries that are closed, not registries, or lying,
no Docker daemon, no git workspace. Errors of the command line or the spec exit 2 with one
`labcheck: error:` line (plus a tip); "could not grade" exits 3, either as that one line or
as a report whose checks are ERROR (never FAIL: the learner is not at fault).
"""

from __future__ import annotations

import hashlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fake_registry import PROMOTE_TAGS, fake_registry
from hostile_registry import SECRET_TOKEN, hostile_registry

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
        if case.own_process:
            child = subprocess.run(
                [sys.executable, "-m", "labcheck", *args], capture_output=True, text=True, timeout=120, check=False
            )
            code, out, err = child.returncode, child.stdout, child.stderr
        else:
            with pytest.raises(SystemExit) as info:
                main(args)
            code = info.value.code
            out, err = capsys.readouterr()
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
        if case.own_process:
            child = subprocess.run(
                [sys.executable, "-m", "labcheck", *args], capture_output=True, text=True, timeout=120, check=False
            )
            code, out, err = child.returncode, child.stdout, child.stderr
        else:
            with pytest.raises(SystemExit) as info:
                main(args)
            code = info.value.code
            out, err = capsys.readouterr()
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
