"""When moto cannot be imported (a broken install), `labcheck up` says so (exit 3) before starting anything."""

from __future__ import annotations

import importlib.util

import pytest

from labcheck.cli import main
from labcheck.environment import processes


def test_up_without_moto_is_one_line_with_the_pip_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(processes.importlib.util, "find_spec", lambda n, *a: None if n == "moto" else real(n, *a))

    def no_docker() -> None:
        raise AssertionError("nothing may start before the tools are checked")

    monkeypatch.setattr("labcheck.environment.lab.docker_client", no_docker)
    with pytest.raises(SystemExit) as exit_info:
        main(["up", "part7"])
    assert exit_info.value.code == 3
    err = capsys.readouterr().err
    assert "labcheck: error: the lab's ECR stand-in needs moto, which is not installed" in err
    assert "reinstall labcheck" in err
    assert "Traceback" not in err
