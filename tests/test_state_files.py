"""Files holding passwords: the lab state, the class state and cards.html.

Each test plants what an attacker sharing the machine (or a stale earlier run) could leave
in the folder, and checks that the password never reaches it and the file stays 0600.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labcheck.classroom.state import ClassLogin, ClassState, class_dir, load_class, save_class
from labcheck.cli import main
from labcheck.environment.state import LabState, ServiceState, load_state, save_state
from labcheck.errors import UnsafeDirectory
from labcheck.state_files import write_private

SECRET = "s3cret-hub-password"
NOBODY = 65534


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "state"
    monkeypatch.setenv("LABCHECK_STATE_DIR", str(folder))
    monkeypatch.delenv("LABCHECK_DEBUG", raising=False)
    yield folder


def lab_state() -> LabState:
    hub = ServiceState("hub", "HUB_REGISTRY", "127.0.0.1", 5001, "c1", "learner", SECRET, auth="htpasswd")
    return LabState("part7", "part7", {"hub": hub})


def class_state() -> ClassState:
    return ClassState(
        lab="part7",
        instance="class-part7-abcd",
        service="hub",
        host="127.0.0.1",
        port=5050,
        realm="http://127.0.0.1:5051/token",
        token_url="http://127.0.0.1:5051/token",
        container_id="c2",
        token_pid=0,
        token_command=("python",),
        grader=ClassLogin("instructor", "grader-password"),
        learners=(ClassLogin("alice", SECRET, "Alice"),),
    )


def cli(args: list[str]) -> int:
    """labcheck's exit code for `args`."""
    try:
        main(args)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def no_temp_files(folder: Path) -> bool:
    return not [p for p in folder.iterdir() if p.name.endswith(".tmp") and p.name.startswith(".")]


def test_a_stale_world_readable_temp_file_does_not_make_the_state_readable(state_dir: Path) -> None:
    state_dir.mkdir(mode=0o700)
    stale = state_dir / "part7.tmp"  # the fixed name labcheck used to write through
    stale.write_text("left by a crashed run")
    stale.chmod(0o644)
    save_state(lab_state())
    assert mode(state_dir / "part7.json") == 0o600
    assert SECRET in (state_dir / "part7.json").read_text()
    assert stale.read_text() == "left by a crashed run"
    assert no_temp_files(state_dir)


@pytest.mark.parametrize("planted", ["part7.tmp", "part7.json"])
def test_a_planted_symlink_never_receives_the_password(state_dir: Path, tmp_path: Path, planted: str) -> None:
    state_dir.mkdir(mode=0o700)
    victim = tmp_path / "victim"
    victim.write_text("victim\n")
    (state_dir / planted).symlink_to(victim)
    save_state(lab_state())
    assert victim.read_text() == "victim\n"
    assert not (state_dir / "part7.json").is_symlink() and mode(state_dir / "part7.json") == 0o600
    assert load_state("part7") == lab_state()


def test_the_class_state_and_its_keys_are_written_the_same_way(state_dir: Path, tmp_path: Path) -> None:
    class_dir().mkdir(parents=True, mode=0o700)
    victim = tmp_path / "victim"
    victim.write_text("victim\n")
    (class_dir() / "state.json.tmp").symlink_to(victim)
    stale = class_dir() / "state.json"
    stale.write_text("{}")
    stale.chmod(0o644)
    save_class(class_state())
    assert victim.read_text() == "victim\n"
    assert mode(class_dir() / "state.json") == 0o600
    assert load_class() == class_state()


def test_cards_html_is_0600_and_never_written_through_a_link(state_dir: Path, tmp_path: Path) -> None:
    save_class(class_state())
    out = tmp_path / "cards"
    out.mkdir()
    victim = tmp_path / "victim"
    victim.write_text("victim\n")
    (out / "cards.html.tmp").symlink_to(victim)
    (out / "cards.html").write_text("old cards")
    (out / "cards.html").chmod(0o644)
    assert cli(["class", "cards", "--output-dir", str(out)]) == 0
    assert victim.read_text() == "victim\n"
    assert mode(out / "cards.html") == 0o600 and SECRET in (out / "cards.html").read_text()


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="giving a folder to another user needs root")


@needs_root
def test_a_state_dir_of_another_user_is_refused(state_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state_dir.mkdir(mode=0o700)
    save_state(lab_state())
    os.chown(state_dir, NOBODY, NOBODY)
    with pytest.raises(UnsafeDirectory, match=f"belongs to user id {NOBODY}, not to you"):
        save_state(lab_state())
    assert cli(["env", "part7"]) == 3
    err = capsys.readouterr().err
    first = f"labcheck: error: {state_dir} belongs to user id {NOBODY}, not to you: labcheck keeps passwords there"
    assert err.splitlines()[0] == first
    assert err.splitlines()[1].startswith("tip: keep labcheck's state in a folder of your own")
    assert SECRET not in err


@pytest.mark.parametrize("folder_mode", [0o777, 0o1777, 0o770])
def test_a_state_dir_others_may_write_is_refused(
    state_dir: Path, folder_mode: int, capsys: pytest.CaptureFixture[str]
) -> None:
    state_dir.mkdir()
    state_dir.chmod(folder_mode)
    with pytest.raises(UnsafeDirectory, match="may be written by others"):
        save_state(lab_state())
    assert list(state_dir.iterdir()) == []
    for args in (["status"], ["class", "report"], ["run", "part7"]):
        assert cli(args) == 3, args
        assert "may be written by others" in capsys.readouterr().err


def test_cards_are_not_written_into_a_folder_others_may_write(state_dir: Path, tmp_path: Path) -> None:
    save_class(class_state())
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    assert cli(["class", "cards", "--output-dir", str(shared)]) == 3
    assert list(shared.iterdir()) == []


def test_concurrent_writers_leave_one_whole_file_and_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "f.json"
    versions = [bytes([65 + i]) * 200_000 for i in range(8)]
    threads = [threading.Thread(target=write_private, args=(target, v), kwargs={"tip": ""}) for v in versions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert target.read_bytes() in versions
    assert no_temp_files(tmp_path)


def test_a_failed_write_keeps_the_old_file_and_removes_its_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "f.json"
    write_private(target, b"old", tip="")

    def full_disk(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space left"):
        write_private(target, b"new", tip="")
    assert target.read_bytes() == b"old"
    assert no_temp_files(tmp_path)


@pytest.mark.docker
def test_down_removes_a_lab_whose_state_file_is_damaged(tmp_path: Path) -> None:
    """`services: []` in a running lab's state: every command says so in one line (exit 3),
    and `down` still removes the lab's containers, the ECR stand-in's included."""
    from labcheck.environment.services import free_port

    env = {**os.environ, "LABCHECK_STATE_DIR": str(tmp_path / "state"), "NO_COLOR": "1"}
    instance = f"hc-damaged-{free_port()}"
    ports = [f"--port={name}={free_port()}" for name in ("registry", "hub", "ecr", "ecr-api")]

    def lc(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "labcheck", *args], env=env, capture_output=True, text=True, timeout=300
        )

    def leftovers() -> str:
        found = subprocess.run(
            ["docker", "ps", "-aq", "--filter", f"label=io.labcheck.instance={instance}"],
            capture_output=True,
            text=True,
        )
        return found.stdout.strip()

    try:
        up = lc("up", "part7", "--instance", instance, *ports)
        assert up.returncode == 0, up.stdout + up.stderr
        state = json.loads((tmp_path / "state" / f"{instance}.json").read_text())
        (tmp_path / "state" / f"{instance}.json").write_text(json.dumps({**state, "services": []}))
        env_cmd = lc("env", "part7", "--instance", instance)
        assert env_cmd.returncode == 3
        assert env_cmd.stderr.splitlines()[0].endswith("is damaged: services: Input should be a valid dictionary")
        down = lc("down", "part7", "--instance", instance)
        assert down.returncode == 0, down.stdout + down.stderr
        assert "removing the lab without it" in down.stderr and "removed" in down.stdout
        assert leftovers() == ""
        assert not (tmp_path / "state" / f"{instance}.json").exists()
    finally:
        if leftovers():
            (tmp_path / "state" / f"{instance}.json").unlink(missing_ok=True)
            lc("down", "part7", "--instance", instance)


# -- reading back: what labcheck wrote needs no validator, anything else gets pydantic's verdict --

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def _class_state() -> ClassState:
    grader = ClassLogin("grader", SECRET)
    learners = (ClassLogin("ada", "pw-ada", "Ada L.", "ada@example.invalid"), ClassLogin("bob", "pw-bob"))
    return ClassState(
        "part7",
        "part7-class",
        "hub",
        "127.0.0.1",
        5001,
        "http://127.0.0.1:5002/token",
        "http://127.0.0.1:5002/token",
        "c0ffee",
        4242,
        ("python", "-m", "x"),
        grader,
        learners,
    )


def _index(key: object, n: int) -> int:
    return (key if isinstance(key, int) else sum(map(ord, str(key)))) % n  # reproducible, unlike hash()


def _mutated(data: object, path: list[object], value: object) -> object:
    """`data` with the value at `path` (keys and indexes, as far as they go) replaced."""
    if not path:
        return value
    key, rest = path[0], path[1:]
    if isinstance(data, dict) and data:
        chosen = key if isinstance(key, str) and key in data else list(data)[_index(key, len(data))]
        return {**data, chosen: _mutated(data[chosen], rest, value)}
    if isinstance(data, list) and data:
        i = _index(key, len(data))
        return [*data[:i], _mutated(data[i], rest, value), *data[i + 1 :]]
    return value


@pytest.mark.parametrize("kind, written", [(LabState, lab_state), (ClassState, _class_state)])
@settings(max_examples=300, deadline=None)
@given(path=st.lists(st.text(max_size=3) | st.integers(0, 5), max_size=4), value=_JSON, drop=st.booleans())
def test_the_fast_reader_agrees_with_pydantic_on_any_damage(
    kind: type, written: Callable[[], object], path: list[object], value: object, drop: bool
) -> None:
    """Whatever a file holds, read_state's answer is pydantic's: the fast path takes only what
    pydantic would read the same way, and leaves everything else (errors too) to pydantic."""
    from pydantic import TypeAdapter, ValidationError

    from labcheck.state_files import _NOT_EXACT, _exactly

    data = json.loads(json.dumps(asdict(written())))  # type: ignore[call-overload]
    assert _exactly(kind, data) == written()  # what labcheck wrote: read without pydantic
    damaged = _mutated(data, path, value)
    if drop and isinstance(damaged, dict) and damaged:
        damaged.pop(sorted(damaged)[0])
    fast = _exactly(kind, damaged)
    try:
        slow = TypeAdapter(kind).validate_python(damaged)
    except ValidationError:
        assert fast is _NOT_EXACT
    else:
        assert fast is _NOT_EXACT or fast == slow


def test_a_written_state_is_read_back_without_building_a_validator(state_dir: Path) -> None:
    """A run reads the lab state it wrote without pydantic (~90 ms of a run), in a fresh interpreter."""
    save_state(lab_state())
    probe = (
        "import sys; from labcheck.environment.state import load_state; s = load_state('part7'); "
        "print(s.services['hub'].port, 'pydantic.plugin._loader' in sys.modules, 'pydantic' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["5001", "False", "False"]
