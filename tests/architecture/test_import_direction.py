"""Imports point one way, along the flow spec -> environment -> observations -> checks ->
grading -> reporters, with the application layer (session) and its callers on top.

Every `import` in the package counts, function-local and TYPE_CHECKING ones included: a
local import that dodges a cycle is exactly what this test is for. A module may import its
own package, and packages of lower layers; never one of a higher layer, nor another package of
its own layer. docs/ARCHITECTURE.md draws the same layers.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "checker" / "labcheck"

# Layer of each top-level module or package of labcheck (its first dotted component).
LAYERS: dict[str, int] = {
    # foundation: no labcheck logic of their own beyond their one job
    **dict.fromkeys(
        [
            "labcheck",
            "_version",
            "errors",
            "text",
            "versions",
            "untrusted",
            "http_transport",
            "docker_host",
            "bundled",
            "pause",
            "state_files",
            "safe_git",
            "results",
            "limits",
            "ecr_api",
            "disk_cache",
        ],
        0,
    ),
    "spec": 1,
    "registry": 2,
    "environment": 3,
    "observe": 4,
    "checks": 5,
    "grading": 6,
    "reporters": 7,
    **dict.fromkeys(["session", "workspace", "hints"], 8),  # the application layer
    **dict.fromkeys(["verify", "classroom", "doctor", "docs"], 9),  # its callers
    "cli": 10,  # click, and nothing below imports it
    "__main__": 11,  # `python -m labcheck`: the CLI's entry point
}


def component(module: str) -> str:
    """`labcheck.observe.gather` -> `observe`; `labcheck` -> `labcheck`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path


def imports(path: Path) -> Iterator[tuple[str, int]]:
    """Every labcheck module `path` imports, with the line."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            if name == "labcheck" or name.startswith("labcheck."):
                yield name, node.lineno


def edges() -> list[tuple[str, str, str]]:
    """(importer component, imported component, where) for imports across components."""
    found = []
    for module, path in modules():
        for target, line in imports(path):
            a, b = component(module), component(target)
            if a != b:
                found.append((a, b, f"{path.relative_to(PACKAGE.parent)}:{line} imports {target}"))
    return found


def test_every_component_has_a_layer() -> None:
    components = {component(m) for m, _ in modules()}
    assert sorted(components - set(LAYERS)) == [], "add new modules or packages to LAYERS (and ARCHITECTURE.md)"


def test_imports_point_down_the_layers() -> None:
    wrong = [
        f"{where} (layer {LAYERS[a]} -> {LAYERS[b]})"
        for a, b, where in edges()
        if LAYERS[b] > LAYERS[a] or (LAYERS[b] == LAYERS[a] and LAYERS[a] != 0)
    ]
    assert wrong == []


def test_no_import_cycle_between_components() -> None:
    graph: dict[str, set[str]] = {}
    for a, b, _ in edges():
        graph.setdefault(a, set()).add(b)

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in graph.get(start, ()):
            if nxt == goal or (nxt not in seen and (seen.add(nxt) or reaches(nxt, goal, seen))):
                return True
        return False

    cycles = sorted(a for a in graph if reaches(a, a, set()))
    assert cycles == []


@pytest.mark.parametrize(
    ("source", "flagged"),
    [
        ("def f():\n    from labcheck.checks.catalog import kind_of\n", True),  # a local import counts
        ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from labcheck.checks import base\n", True),
        ("from labcheck.errors import SpecError\n", False),
    ],
)
def test_the_walker_sees_every_kind_of_import(tmp_path: Path, source: str, flagged: bool) -> None:
    """What the direction test reads: a spec module importing checks, written three ways."""
    module = tmp_path / "mod.py"
    module.write_text(source)
    found = [target for target, _ in imports(module)]
    assert any(component(t) == "checks" for t in found) is flagged
