"""Labs are found, not assumed: labcheck's own, --labs-dir / LABCHECK_LABS, entry points."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from cli_kit import call
from labcheck.errors import SpecError, UsageError
from labcheck.session import load_lab
from labcheck.spec.loader import available_labs, lab_path, load_solutions
from labcheck.spec.sources import BUILTIN, LABS_ENV, all_labs, builtin_root, find_lab

PART7 = lab_path("part7").parent


def a_lab(root: Path, lab_id: str, *, with_solutions: bool = False) -> Path:
    """A copy of part7 under another id in `root`."""
    folder = root / lab_id
    shutil.copytree(PART7 / "app", folder / "app")
    text = (PART7 / "lab.yaml").read_text(encoding="utf-8").replace("id: part7\n", f"id: {lab_id}\n", 1)
    (folder / "lab.yaml").write_text(text, encoding="utf-8")
    if with_solutions:
        shutil.copytree(PART7.parent.parent / "solutions" / "part7", folder / "solutions")
        manifest = folder / "solutions" / "solutions.yaml"
        manifest.write_text(manifest.read_text().replace("lab: part7", f"lab: {lab_id}"))
    return folder


def test_the_builtin_lab_is_found_with_its_solutions() -> None:
    location = find_lab("part7")
    assert location is not None and location.source.origin == BUILTIN
    assert location.folder == builtin_root() / "part7"
    folder, manifest = load_solutions(load_lab("part7"))
    assert (folder / "solutions.yaml").is_file() and manifest.lab == "part7"


def test_labcheck_labs_adds_an_instructors_labs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a_lab(tmp_path, "part7b", with_solutions=True)
    monkeypatch.setenv(LABS_ENV, str(tmp_path))
    assert available_labs() == ["part7", "part7b"]
    spec = load_lab("part7b")
    assert spec.folder == tmp_path / "part7b"
    folder, _ = load_solutions(spec)
    assert folder == tmp_path / "part7b" / "solutions"  # solutions inside the lab's own folder


def test_an_instructors_lab_shadows_the_builtin_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = a_lab(tmp_path, "part7")
    monkeypatch.setenv(LABS_ENV, str(tmp_path))
    assert load_lab("part7").folder == folder
    assert [loc.id for loc in all_labs()] == ["part7"]


def test_labs_dir_option_lists_the_labs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(LABS_ENV, "")  # restored afterwards: --labs-dir writes it for child processes
    a_lab(tmp_path, "mylab")
    code, out, _ = call(capsys, "--labs-dir", str(tmp_path), "list")
    assert code == 0
    assert "\nmylab  Docker registries" in "\n" + out
    code, out, _ = call(capsys, "--labs-dir", str(tmp_path), "--version")
    assert code == 0
    assert f"lab mylab 2.1.0  ({tmp_path / 'mylab'})" in out
    assert "lab part7 2.1.0\n" in out


def test_a_missing_labs_directory_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LABS_ENV, str(tmp_path / "nope"))
    with pytest.raises(UsageError, match=r"labs directory .*nope.* does not exist"):
        available_labs()


def test_no_labs_at_all_is_an_error_with_a_tip(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("labcheck.spec.sources.builtin_root", lambda: tmp_path / "empty")
    code, out, err = call(capsys, "list")
    assert code == 2
    assert out == ""
    assert "labcheck: error: no labs found" in err
    assert "--labs-dir" in err and "reinstall labcheck" in err
    code, _, err = call(capsys, "hint", "part7", "hub-publish")
    assert code == 2 and "no labs found" in err


def test_an_entry_point_ships_labs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A package declaring `labcheck.labs = "mycourse.labs"`, installed the way pip installs it."""
    package = tmp_path / "site" / "mycourse" / "labs"
    package.mkdir(parents=True)
    (package.parent / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    a_lab(package, "course-lab")
    dist = tmp_path / "site" / "mycourse-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: mycourse\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[labcheck.labs]\nmycourse = mycourse.labs\n")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    location = find_lab("course-lab")
    assert location is not None
    assert location.source.origin == "entry point mycourse (mycourse)"
    assert load_lab("course-lab").folder == package / "course-lab"
    assert "course-lab" in available_labs()


def test_a_broken_entry_point_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dist = tmp_path / "broken-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[labcheck.labs]\nbroken = no_such_module_here\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert find_lab("part7") is not None  # labcheck's own labs do not need the plugin
    with pytest.raises(SpecError, match=r"entry point broken \(broken\): cannot load 'no_such_module_here'"):
        find_lab("not-a-lab")
    assert "no_such_module_here" not in sys.modules
