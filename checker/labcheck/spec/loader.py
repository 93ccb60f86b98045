"""Read and validate lab specs and solution manifests (found through spec/sources.py).

Validation happens before anything runs: a broken spec raises SpecError naming the file,
the key path and what was expected.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from labcheck.errors import SpecError, UsageError
from labcheck.spec.model import LabSpec, SolutionsManifest
from labcheck.spec.render import compile_templates
from labcheck.spec.sources import LAB_FILE, LABS_ENV, SOLUTIONS_FILE, all_labs, find_lab, solutions_folder

M = TypeVar("M", bound=BaseModel)


def available_labs() -> list[str]:
    """Ids of the labs every source offers, sorted (see spec/sources.py)."""
    return [location.id for location in all_labs()]


def read_text(path: Path) -> str:
    """A spec file's text; SpecError naming the file when it cannot be read or is not UTF-8."""
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"{path}: cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise SpecError(f"{path}: not UTF-8 text (byte {exc.start})") from exc


def _parse_yaml(text: str, path: Path) -> Any:
    import yaml  # only when a spec is parsed, not when a prepared one comes from the cache

    try:
        # libyaml's loader when PyYAML was built with it: ~10 times faster than pure Python
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except ValueError as exc:  # a scalar YAML resolves but cannot build, e.g. the date 2026-13-45
        raise SpecError(f"{path}: invalid YAML: {exc}") from exc
    except RecursionError as exc:
        raise SpecError(f"{path}: invalid YAML: nested too deeply") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "malformed YAML"
        raise SpecError(f"{path}{where}: invalid YAML: {problem}") from exc


def _read_yaml(path: Path) -> Any:
    return _parse_yaml(read_text(path), path)


def _validate(model: type[M], data: Any, path: Path) -> M:
    if not isinstance(data, dict):
        raise SpecError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
        more = f" (and {exc.error_count() - 1} more problems)" if exc.error_count() > 1 else ""
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        elif err["type"] == "missing":
            msg = "required key is missing"
        raise SpecError(f"{path}: {loc}: {msg}{more}") from exc


def lab_path(lab: str) -> Path:
    """The lab.yaml for a lab id, or for a path to a lab directory or file."""
    candidate = Path(lab)
    if candidate.suffix in (".yaml", ".yml") and candidate.is_file():
        return candidate
    if (candidate / LAB_FILE).is_file() and (os.sep in lab or lab.startswith(".")):
        return candidate / LAB_FILE
    location = find_lab(lab)
    if location is None:
        known = ", ".join(available_labs())
        if not known:
            raise UsageError(
                "no labs found: labcheck's own labs are missing and no labs directory is configured",
                tip=f"reinstall labcheck (pipx reinstall labcheck), or name labs with --labs-dir DIR or {LABS_ENV}",
            )
        raise UsageError(f"unknown lab {lab!r} (labs: {known})", tip="`labcheck list` shows the labs")
    return location.spec_file


def read_lab(lab: str) -> tuple[LabSpec, LabSpec]:
    """A lab spec by id (or path) and its rendering with example values; SpecError naming the
    file, key path and problem when its structure or a template is wrong. (The application
    layer, labcheck.session.load_lab, also checks each check's kind and arguments.)"""
    path = lab_path(lab)
    return parse_lab(lab, path, read_text(path))


def parse_lab(lab: str, path: Path, text: str) -> tuple[LabSpec, LabSpec]:
    """read_lab() of the text read from `path` (found for `lab`)."""
    spec = _validate(LabSpec, _parse_yaml(text, path), path)
    if path.parent.name == lab and spec.id != lab:  # found by id: the folder names the lab
        raise SpecError(f"{path}: id: {spec.id!r} differs from the lab's folder name")
    rendered = compile_templates(spec, path)
    spec._folder = path.parent
    return spec, rendered


def load_solutions(spec: LabSpec) -> tuple[Path, SolutionsManifest]:
    """The lab's solutions manifest, validated against the lab's exercises and checks."""
    folder = solutions_folder(spec.id, spec.folder)
    path = folder / SOLUTIONS_FILE
    if not path.is_file():
        raise SpecError(f"{path}: no solutions manifest for lab {spec.id!r}")
    manifest = _validate(SolutionsManifest, _read_yaml(path), path)
    if manifest.lab != spec.id:
        raise SpecError(f"{path}: lab: {manifest.lab!r} is not {spec.id!r}")
    names = [s.name for s in manifest.solutions]
    for i, sol in enumerate(manifest.solutions):
        where = f"{path}: solutions.{i}"
        if names.count(sol.name) > 1:
            raise SpecError(f"{where}.name: {sol.name!r} is used twice")
        if not (folder / sol.script).resolve().is_relative_to(folder.resolve()):
            # verify runs the script: it must be one of the lab's own, not any file on the machine
            raise SpecError(f"{where}.script: {sol.script!r} is outside {folder}")
        if not (folder / sol.script).is_file():
            raise SpecError(f"{where}.script: {sol.script!r} does not exist in {folder}")
        for ex_id in sol.exercises:
            if spec.exercise(ex_id) is None:
                raise SpecError(f"{where}.exercises: unknown exercise {ex_id!r}")
        for key in sol.fails:
            ex_id, check_id = key.split("/")
            ex = spec.exercise(ex_id)
            if ex is None or ex_id not in sol.exercises:
                raise SpecError(f"{where}.fails: {key!r} is not in the solution's exercises")
            if check_id not in {c.id for c in ex.checks}:
                raise SpecError(f"{where}.fails: unknown check {key!r}")
    return folder, manifest
