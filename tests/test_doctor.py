"""`labcheck doctor` without an engine: each finding's verdict and fix, and the exit codes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from cli_kit import call
from labcheck.bundled import path_for_aws
from labcheck.doctor import Level, check_image_store, check_port, lab_images
from labcheck.environment.placement import Placement
from labcheck.session import load_lab

HOST = Placement(in_container=False)


def test_port_5000_on_macos_names_the_airplay_receiver_and_the_port_to_use() -> None:
    spec = load_lab("part7")
    found = check_port(spec, "registry", 5000, HOST, {}, platform="darwin", is_free=lambda host, port: False)
    assert found.level is Level.FAIL
    assert "AirPlay Receiver" in found.detail
    assert "labcheck up part7 --port registry=5050" in found.fix


def test_a_port_held_by_a_container_names_it() -> None:
    spec = load_lab("part7")
    found = check_port(spec, "hub", 5001, HOST, {5001: "container old-lab"}, platform="linux")
    assert (found.level, found.detail) == (Level.FAIL, "in use by container old-lab")
    assert "--port hub=5051" in found.fix
    free = check_port(spec, "hub", 5001, HOST, {}, platform="linux", is_free=lambda host, port: True)
    assert (free.level, free.detail) == (Level.OK, "free")


def test_in_a_bridge_container_only_dockers_ports_can_be_checked() -> None:
    spec = load_lab("part7")
    bridged = Placement(in_container=True, container="dev", network_mode="bridge", join="bridge")
    found = check_port(spec, "registry", 5000, bridged, {}, is_free=lambda host, port: False)
    assert found.level is Level.OK and "only Docker's own containers" in found.detail
    # the ECR stand-in is a container too: its ports are the engine host's
    api = check_port(spec, "ecr-api", 5003, bridged, {}, is_free=lambda host, port: False)
    assert api.level is Level.OK and "only Docker's own containers" in api.detail


@pytest.mark.parametrize(
    ("status", "level", "words"),
    [
        ([["driver-type", "io.containerd.snapshotter.v1"]], Level.OK, "containerd image store"),
        ([["Backing Filesystem", "extfs"]], Level.WARN, "classic image store"),
    ],
)
def test_the_image_store(status: list[list[str]], level: Level, words: str) -> None:
    found = check_image_store({"Driver": "overlayfs", "DriverStatus": status})
    assert found.level is level and words in found.detail
    if level is Level.WARN:
        assert "containerd-snapshotter" in found.fix


def test_the_lab_needs_its_registry_image_the_ecr_stand_ins_and_its_apps_base_image() -> None:
    assert lab_images(load_lab("part7")) == ["registry:2", "motoserver/moto:5.2.5", "busybox:stable"]


def test_no_engine_fails_with_which_daemon_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-daemon.sock")
    monkeypatch.setenv("LABCHECK_STATE_DIR", str(tmp_path / "state"))
    code, out, err = call(capsys, "doctor", "part7", "--format", "json")
    assert code == 1, err
    report = json.loads(out)
    assert report["schema"] == 1 and report["lab"] == "part7" and report["ready"] is False
    engine = next(c for c in report["checks"] if c["id"] == "docker-engine")
    assert engine["status"] == "fail"
    assert "no-daemon.sock" in engine["detail"] and "chosen by DOCKER_HOST" in engine["detail"]
    assert "systemctl start docker" in engine["fix"]
    code, out, _ = call(capsys, "doctor")
    assert code == 1
    assert "  FAIL  Docker engine" in out
    assert out.rstrip().endswith("not ready: 1 problem(s) to fix first (Docker engine)")


def test_doctor_refuses_an_unknown_service_port(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = call(capsys, "doctor", "part7", "--port", "nope=1234")
    assert code == 2 and "unknown service 'nope'" in err


def test_env_appends_labchecks_aws_only_when_no_other_is_on_path(tmp_path: Path) -> None:
    empty = str(tmp_path)
    extended = path_for_aws(empty)
    assert extended is not None and extended.startswith(empty + os.pathsep)  # appended, never first
    own = tmp_path / "own"
    own.mkdir()
    (own / "aws").write_text("#!/bin/sh\n")
    (own / "aws").chmod(0o755)
    assert path_for_aws(str(own)) is None  # the learner's own aws wins


def test_two_services_on_one_port_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = call(capsys, "doctor", "part7", "--port", "registry=5001")
    assert code == 2 and "services 'registry' and 'hub' would both use port 5001" in err


def test_free_port_never_hands_out_a_port_twice() -> None:
    from labcheck.environment.services import free_port

    ports = [free_port() for _ in range(200)]
    assert len(set(ports)) == 200
