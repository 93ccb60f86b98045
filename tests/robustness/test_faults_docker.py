"""Faults and security on a real engine: killed registries, signals, two labs, secrets, injection.

Every lab here is its own instance on free ports with a private state dir and Docker config;
containers, volumes and image tags made here are removed here.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from labcheck.docker_host import throwaway_docker_config
from labcheck.environment.services import free_port
from labcheck.environment.state import LABEL_INSTANCE
from labcheck.session import load_lab

pytestmark = pytest.mark.docker
docker = pytest.importorskip("docker")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    throwaway_docker_config(tmp_path / "docker-config")
    return {
        **os.environ,
        "LABCHECK_STATE_DIR": str(tmp_path / "state"),
        "DOCKER_CONFIG": str(tmp_path / "docker-config"),
        "NO_COLOR": "1",
    }


@pytest.fixture
def instance(env: dict[str, str]) -> Iterator[str]:
    name = f"lc-test-{secrets.token_hex(3)}"
    yield name
    lc(env, "down", "part7", "--instance", name)


def lc(env: dict[str, str], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "labcheck", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300
    )


def port_args() -> list[str]:
    """--port SERVICE=PORT for every service of part7, each on a free port."""
    return [arg for name in load_lab("part7").services for arg in ("--port", f"{name}={free_port()}")]


def up(env: dict[str, str], instance: str, *extra: str) -> tuple[int, int, subprocess.CompletedProcess[str]]:
    ports = port_args()
    done = lc(env, "up", "part7", "--instance", instance, *ports, *extra)
    assert done.returncode == 0, done.stdout + done.stderr
    chosen = dict(p.split("=") for p in ports[1::2])
    return int(chosen["registry"]), int(chosen["hub"]), done


def leftovers(instances: set[str] | None = None) -> dict[str, set[str]]:
    """labcheck's containers (by label) and the volumes and networks they use, by name."""
    client = docker.from_env()
    try:
        found: dict[str, set[str]] = {"containers": set(), "volumes": set(), "networks": set()}
        # ignore_removed: a container labcheck is removing right now may vanish between the
        # listing and its inspection, which is the point of these tests, not an error
        for c in client.containers.list(all=True, filters={"label": LABEL_INSTANCE}, ignore_removed=True):
            if instances is not None and c.labels.get(LABEL_INSTANCE) not in instances:
                continue
            found["containers"].add(c.name)
            found["volumes"] |= {m["Name"] for m in c.attrs.get("Mounts", []) if m.get("Type") == "volume"}
            found["networks"] |= set((c.attrs.get("NetworkSettings") or {}).get("Networks") or {})
        found["networks"] |= {n.name for n in client.networks.list(filters={"label": LABEL_INSTANCE})}
        return found
    finally:
        client.close()


def volumes_exist(names: set[str]) -> set[str]:
    client = docker.from_env()
    try:
        return {v.name for v in client.volumes.list()} & names
    finally:
        client.close()


def sh(cmd: str, env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", cmd], env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


# --- faults --------------------------------------------------------------------------------


class _KillingProxy(BaseHTTPRequestHandler):
    """Forwards to the registry; before request number `kill_at`, kills the registry's container."""

    upstream = ""
    container = ""
    kill_at = 3
    count = 0
    lock = threading.Lock()
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _forward(self) -> None:
        cls = type(self)
        with cls.lock:
            cls.count += 1
            if cls.count == cls.kill_at:
                subprocess.run(["docker", "kill", cls.container], capture_output=True, check=False)
        try:
            answer = httpx.request(
                self.command,
                f"http://{cls.upstream}{self.path}",
                headers={k: v for k, v in self.headers.items() if k.lower() != "host"},
                timeout=5,
            )
        except httpx.HTTPError:
            self.close_connection = True  # the registry is gone: hang up, as a dead host does
            return
        self.send_response(answer.status_code)
        for key, value in answer.headers.items():
            if key.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding"):
                self.send_header(key, value)
        body = b"" if self.command == "HEAD" else answer.content
        self.send_header("Content-Length", answer.headers.get("Content-Length", str(len(body))))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_HEAD = _forward


@pytest.mark.engine
def test_registry_killed_during_run_is_an_error_never_a_fail(env: dict[str, str], instance: str) -> None:
    reg, _, _ = up(env, instance)
    tags = [f"localhost:{reg}/myapp:{t}" for t in ("1.2.3", "latest", "staging", "production")]
    try:
        pushed = sh(" && ".join(f"docker tag busybox:stable {t} && docker push -q {t}" for t in tags), env)
        assert pushed.returncode == 0, pushed.stderr
        # probe, tag list and one HEAD get through; then the registry dies
        handler = type("Proxy", (_KillingProxy,), {"upstream": f"127.0.0.1:{reg}", "container": "", "count": 0})
        handler.container = f"labcheck-{instance}-registry"
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            address = f"localhost:{server.server_address[1]}"
            done = lc(env, "run", "part7", "promote", "--registry", address, "--format", "json")
        finally:
            server.shutdown()
            server.server_close()
    finally:
        sh(f"docker rmi {' '.join(tags)}", env)
    assert handler.count >= handler.kill_at, "the registry was not killed during the run"
    assert done.returncode == 3, done.stdout + done.stderr
    report = json.loads(done.stdout)
    statuses = {c["status"] for ex in report["exercises"] for c in ex["checks"]}
    assert statuses == {"error"}, statuses
    assert "Traceback" not in done.stderr


def host_processes(state_dir: Path, instances: set[str], exclude: int = 0) -> list[str]:
    """Command lines of live processes a labcheck run started on the host: the token server
    (its config is in the state dir) and any marked LABCHECK_OWNER=lab:<instance>."""
    marks = {f"LABCHECK_OWNER=lab:{i}".encode() for i in instances}
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == exclude:
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            environ = set((entry / "environ").read_bytes().split(b"\0"))
            state = (entry / "stat").read_text().rpartition(")")[2].split()[:1]
        except OSError:
            continue
        if state != ["Z"] and (str(state_dir) in cmd or marks & environ):
            found.append(cmd)
    return found


def wait_for_pause(marker: Path, proc: subprocess.Popen[str], timeout: float = 120) -> str:
    """The subject labcheck names once it holds at its pause point (see labcheck/pause.py)."""
    deadline = time.monotonic() + timeout
    while not marker.exists():
        assert proc.poll() is None, f"labcheck exited ({proc.returncode}) before its pause point"
        assert time.monotonic() < deadline, "labcheck never reached its pause point"
        time.sleep(0.02)
    pid, subject = marker.read_text().split()
    assert int(pid) == proc.pid
    return subject


# Where a signal lands (labcheck/pause.py's steps), and what must be running there for the
# case to test anything: containers "yes", "maybe" (still starting in worker threads) or "no";
# whether a host process (the class token server) runs.
SIGNAL_CASES = [
    ("up", "images-ready", signal.SIGINT, "no", False),
    ("up", "images-ready", signal.SIGTERM, "no", False),
    ("up", "registries-starting", signal.SIGINT, "maybe", False),
    ("up", "registries-starting", signal.SIGTERM, "maybe", False),
    ("up", "registries-starting", signal.SIGHUP, "maybe", False),
    ("up", "registries-started", signal.SIGINT, "yes", False),
    ("up", "registries-started", signal.SIGHUP, "yes", False),
    ("up", "save-lab-state", signal.SIGINT, "yes", False),
    ("up", "save-lab-state", signal.SIGTERM, "yes", False),
    ("up", "save-lab-state", signal.SIGHUP, "yes", False),
    ("verify", "registries-starting", signal.SIGTERM, "maybe", False),
    ("verify", "save-lab-state", signal.SIGINT, "yes", False),
    ("verify", "verify-workspace-ready", signal.SIGINT, "yes", False),
    ("verify", "verify-workspace-ready", signal.SIGTERM, "yes", False),
    ("verify", "verify-script-done", signal.SIGINT, "yes", False),
    ("verify", "verify-script-done", signal.SIGHUP, "yes", False),
    ("class-up", "token-server-started", signal.SIGINT, "no", True),
    ("class-up", "token-server-started", signal.SIGHUP, "no", True),
    ("class-up", "save-class-state", signal.SIGINT, "yes", True),
    ("class-up", "save-class-state", signal.SIGTERM, "yes", True),
    ("class-up", "save-class-state", signal.SIGHUP, "yes", True),
]


@pytest.mark.parametrize(
    ("command", "step", "sig", "containers", "process"),
    SIGNAL_CASES,
    ids=[f"{c}-{step}-{sig.name}" for c, step, sig, _, _ in SIGNAL_CASES],
)
def test_signal_leaves_nothing_behind(
    env: dict[str, str],
    tmp_path: Path,
    command: str,
    step: str,
    sig: signal.Signals,
    containers: str,
    process: bool,
) -> None:
    """labcheck is held at a named step and signalled there: it must exit 130 and leave
    nothing: no container, volume, network, host process or state file."""
    name = f"lc-sig-{secrets.token_hex(3)}"
    roster = tmp_path / "roster.txt"
    roster.write_text("".join(f"learner{i:02d}\n" for i in range(5)))
    args = {
        "up": ["up", "part7", "--instance", name, *port_args()],
        "verify": ["verify", "part7", "--solution", "local-registry"],
        "class-up": ["class", "up", "part7", "--roster", str(roster), "--port", str(free_port()), "--quiet"],
    }[command]
    state_dir = Path(env["LABCHECK_STATE_DIR"])
    marker = tmp_path / "paused"
    held = {**env, "LABCHECK_PAUSE_AT": step, "LABCHECK_PAUSE_FILE": str(marker)}
    instances = {name}
    with subprocess.Popen(
        [sys.executable, "-m", "labcheck", *args],
        env=held,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        try:
            instances.add(wait_for_pause(marker, proc))
            seen = leftovers(instances)
            processes = host_processes(state_dir, instances, exclude=proc.pid)
        finally:
            proc.send_signal(sig)
            _, err = proc.communicate(timeout=120)
    try:
        if containers == "yes":
            assert seen["containers"], "nothing was running at the pause point: nothing was tested"
        elif containers == "no":
            assert not seen["containers"], seen
        if process:
            assert processes, "no host process (token server, ECR API) was running at the pause point"
        assert proc.returncode == 130, err
        assert "interrupted" in err
        assert "Traceback" not in err
        after = leftovers(instances)
        assert after == {"containers": set(), "volumes": set(), "networks": set()}, after
        assert not volumes_exist(seen["volumes"]), "anonymous volumes of the lab's registries were left behind"
        assert not host_processes(state_dir, instances), host_processes(state_dir, instances)
        assert not list(state_dir.glob("*.json")) and not (state_dir / "class" / "state.json").exists()
    finally:  # whatever happened, leave nothing for the next test
        lc(env, "class", "down")
        for instance in instances:
            lc(env, "down", "part7", "--instance", instance)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGHUP], ids=["SIGINT", "SIGHUP"])
def test_a_signal_stops_watch_and_leaves_the_lab_alone(
    env: dict[str, str], instance: str, tmp_path: Path, sig: signal.Signals
) -> None:
    """watch owns nothing: interrupted after a grade, it exits 130 and the lab keeps running."""
    up(env, instance)
    before = leftovers({instance})["containers"]
    marker = tmp_path / "paused"
    held = {**env, "LABCHECK_PAUSE_AT": "watch-graded", "LABCHECK_PAUSE_FILE": str(marker)}
    with subprocess.Popen(
        [sys.executable, "-m", "labcheck", "watch", "part7", "--instance", instance],
        env=held,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        try:
            wait_for_pause(marker, proc)
        finally:
            proc.send_signal(sig)
            _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert leftovers({instance})["containers"] == before != set()


@pytest.mark.engine
def test_up_twice_down_twice_and_two_labs_side_by_side(env: dict[str, str], instance: str) -> None:
    other = f"{instance}-b"
    reg_a, _, first = up(env, instance)
    assert "started" in first.stdout
    again = lc(env, "up", "part7", "--instance", instance)
    assert again.returncode == 0 and "already running" in again.stdout, again.stdout + again.stderr
    try:
        reg_b, _, _ = up(env, other)
        assert reg_a != reg_b
        tag = f"localhost:{reg_a}/my-app:latest"
        assert sh(f"docker tag busybox:stable {tag} && docker push -q {tag}", env).returncode == 0
        graded_a = lc(env, "run", "part7", "local-registry", "--instance", instance, "--format", "json")
        graded_b = lc(env, "run", "part7", "local-registry", "--instance", other, "--format", "json")
        pushed = {
            name: next(c["status"] for c in json.loads(done.stdout)["exercises"][0]["checks"] if c["id"] == "pushed")
            for name, done in (("a", graded_a), ("b", graded_b))
        }
        assert pushed == {"a": "pass", "b": "fail"}, "one lab saw the other's registry"
        env_b = lc(env, "env", "part7", "--instance", other).stdout
        assert f"REGISTRY=localhost:{reg_b}" in env_b
        listed = lc(env, "status", "--instance", other).stdout
        assert f"labcheck-{other}-registry" in listed and f"labcheck-{other}-hub" in listed
    finally:
        sh(f"docker rmi localhost:{reg_a}/my-app:latest", env)
        first_down = lc(env, "down", "part7", "--instance", other)
        second_down = lc(env, "down", "part7", "--instance", other)
    assert first_down.returncode == 0 and "removed" in first_down.stdout
    assert second_down.returncode == 0 and "was not running" in second_down.stdout
    assert leftovers({other})["containers"] == set()
    assert f"labcheck-{instance}-registry" in lc(env, "status", "--instance", instance).stdout  # A untouched


# --- security ------------------------------------------------------------------------------


def test_services_publish_on_loopback_unless_asked(env: dict[str, str], instance: str) -> None:
    def host_ips(name: str) -> dict[str, set[str]]:
        """The addresses each port is published on: the registries', and the ECR API's apart."""
        client = docker.from_env()
        try:
            found = client.containers.list(all=True, filters={"label": f"{LABEL_INSTANCE}={name}"})
            # (the ECR stand-in's store publishes nothing: it lives in its front's network namespace)
            ips: dict[str, set[str]] = {"registries": set(), "ecr-api": set()}
            for c in found:
                api = c.labels.get("io.labcheck.service") == "ecr-api"
                for port, binds in (c.attrs["HostConfig"]["PortBindings"] or {}).items():
                    key = "ecr-api" if api and port == "5003/tcp" else "registries"
                    ips[key] |= {b["HostIp"] for b in binds}
            return ips
        finally:
            client.close()

    up(env, instance)
    assert host_ips(instance) == {"registries": {"127.0.0.1"}, "ecr-api": {"127.0.0.1"}}
    other = f"{instance}-h"
    try:
        _, _, done = up(env, other, "--host", "127.0.0.2")  # another address, still not the network
        # the ECR API hands logins to anyone who asks: it stays on 127.0.0.1 whatever --host says
        assert host_ips(other) == {"registries": {"127.0.0.2"}, "ecr-api": {"127.0.0.1"}}
        assert "127.0.0.2:" in done.stdout
    finally:
        lc(env, "down", "part7", "--instance", other)


@pytest.mark.engine
def test_hub_refuses_anonymous_push_and_pull(env: dict[str, str], instance: str, tmp_path: Path) -> None:
    _, hub, _ = up(env, instance)
    password = next(
        line.split("=", 1)[1]
        for line in lc(env, "env", "part7", "--instance", instance).stdout.splitlines()
        if line.startswith("export HUB_PASSWORD=")
    )
    tag = f"localhost:{hub}/learner/anon:1"
    logged_in = {**env, "DOCKER_CONFIG": str(tmp_path / "logged-in")}
    try:
        anon_push = sh(f"docker tag busybox:stable {tag} && docker push {tag}", env)
        assert anon_push.returncode != 0
        assert "no basic auth credentials" in anon_push.stderr or "unauthorized" in anon_push.stderr.lower()
        login = sh(f"docker login -u learner --password-stdin localhost:{hub} <<< {password}", logged_in)
        assert login.returncode == 0, login.stderr
        assert sh(f"docker push -q {tag}", logged_in).returncode == 0  # the same push with a login works
        sh(f"docker rmi {tag}", env)
        anon_pull = sh(f"docker pull {tag}", env)
        assert anon_pull.returncode != 0
        assert "no basic auth credentials" in anon_pull.stderr or "unauthorized" in anon_pull.stderr.lower()
        assert sh(f"docker pull -q {tag}", logged_in).returncode == 0
    finally:
        sh(f"docker rmi {tag}", env)


@pytest.mark.engine
def test_no_command_prints_the_hub_password(env: dict[str, str], instance: str, tmp_path: Path) -> None:
    _reg, hub, started = up(env, instance)
    exports = lc(env, "env", "part7", "--instance", instance).stdout  # the one command that may show it
    password = next(line.split("=", 1)[1] for line in exports.splitlines() if "HUB_PASSWORD=" in line)
    assert len(password) >= 16
    ws = tmp_path / "ws"
    outputs = [started]
    outputs.append(lc(env, "workspace", "part7", str(ws)))
    # a learner who did everything wrong: --password on the command line in a script, still logged in
    (ws / "release.sh").write_text(f"docker login -u learner -p {password} localhost:{hub}\n")
    login = sh(f"docker login -u learner --password-stdin localhost:{hub} <<< {password}", env)
    assert login.returncode == 0, login.stderr
    reports = []
    for fmt in ("text", "json", "junit"):
        report = tmp_path / f"report.{fmt}"
        outputs.append(
            lc(env, "run", "part7", "--instance", instance, "--format", fmt, "--output", str(report), cwd=ws)
        )
        outputs.append(lc(env, "run", "part7", "--instance", instance, "--format", fmt, cwd=ws))
        reports.append(report.read_text())
    outputs.append(lc(env, "status"))
    outputs.append(lc(env, "hint", "part7", "hub-publish", "--instance", instance))
    # error paths: a wrong exercise, a refused --registry, the hub stopped in the middle
    outputs.append(lc(env, "run", "part7", "nope", "--instance", instance))
    outputs.append(lc(env, "run", "part7", "hub-publish", "--registry", f"localhost:{hub}"))
    subprocess.run(["docker", "stop", f"labcheck-{instance}-hub"], capture_output=True, check=True)
    outputs.append(lc(env, "run", "part7", "--instance", instance, cwd=ws))
    outputs.append(lc(env, "up", "part7", "--instance", instance))  # restarts it
    # a solution script that prints every variable it was given: verify must not pass that on
    solutions = tmp_path / "solutions" / "part7"
    solutions.mkdir(parents=True)
    (solutions / "leak.sh").write_text('echo "hub password is $HUB_PASSWORD"\nexit 1\n')
    (solutions / "solutions.yaml").write_text(
        "schema_version: 1\nlab: part7\nsolutions:\n"
        "  - {name: leak, script: leak.sh, kind: reference, exercises: [hub-publish]}\n"
    )
    leaky = lc({**env, "LABCHECK_SOLUTIONS_DIR": str(tmp_path / "solutions")}, "verify", "part7")
    assert "hub password is ****" in leaky.stdout, leaky.stdout + leaky.stderr
    outputs.append(leaky)
    outputs.append(lc(env, "down", "part7", "--instance", instance))
    sh(f"docker logout localhost:{hub}", env)
    texts = [o.stdout + o.stderr for o in outputs] + reports
    assert all(texts)
    leaked = [t[:200] for t in texts if password in t]
    assert not leaked, f"the hub password appeared in: {leaked}"
    assert password not in exports.replace(f"HUB_PASSWORD={password}", "")  # only on its own line


@pytest.mark.parametrize(
    "payload",
    ["$(touch {marker})", "`touch {marker}`", "x; touch {marker}", "x && touch {marker} #", '\'"$(touch {marker})"'],
)
def test_spec_values_are_never_executed(env: dict[str, str], tmp_path: Path, payload: str) -> None:
    marker = tmp_path / "pwned"
    text = payload.format(marker=marker)
    lab = (Path(__file__).parents[2] / "labs" / "part7" / "lab.yaml").read_text()
    lab_dir = tmp_path / "labs" / "part7"
    lab_dir.mkdir(parents=True)
    # a parameter and an exercise summary carrying shell: rendered as text wherever they go
    quoted = json.dumps(text)
    assert "\nparameters:\n" in lab
    lab = lab.replace("\nparameters:\n", f"\nparameters:\n  note: {quoted}\n", 1)
    lab = lab.replace("  - id: local-registry\n", f"  - id: local-registry\n    # {text}\n", 1)
    summary = "\n    summary: Push "
    assert summary in lab
    (lab_dir / "lab.yaml").write_text(lab.replace(summary, f"{summary}{{{{ note }}}} ", 1))
    subprocess.run(["cp", "-r", str(Path(__file__).parents[2] / "labs" / "part7" / "app"), str(lab_dir)], check=True)
    lab_env = {**env, "LABCHECK_LABS": str(tmp_path / "labs")}
    shown = lc(lab_env, "hint", "part7", "local-registry")
    assert shown.returncode == 0, shown.stderr
    assert text in shown.stdout
    assert lc(lab_env, "run", "part7", "local-registry", "--registry", "localhost:1").returncode == 3
    assert lc(lab_env, "workspace", "part7", str(tmp_path / text.replace("/", "_"))).returncode == 0
    assert lc(lab_env, "up", "part7", "--instance", text).returncode == 2  # not a name: refused
    assert not marker.exists(), "a value from the spec was executed"
