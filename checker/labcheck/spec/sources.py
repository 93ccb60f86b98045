"""Where labs are found: an instructor's directories, labcheck's own labs, other packages.

A labs directory holds one folder per lab: `<lab>/lab.yaml`, the app learners build
(`<lab>/app/`) and, for `labcheck verify`, the solutions: `<lab>/solutions/solutions.yaml`,
or `solutions/<lab>/` beside the labs directory (this repository's layout). Sources, in the
order a lab id is looked up (the first that has it wins):

1. `LABCHECK_LABS`: directories separated by the path separator; `labcheck --labs-dir DIR`
   puts DIR in front of them.
2. The labs shipped inside labcheck (`labcheck/_data/labs` in a wheel; `labs/` of a checkout).
3. Packages that declare an entry point in the group `labcheck.labs`, as pytest plugins do:
   `[project.entry-points."labcheck.labs"] mycourse = "mycourse.labs"` names a package (its
   folder is the labs directory), a callable returning a path, or a path.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from labcheck.errors import SpecError, UsageError

LAB_FILE = "lab.yaml"
SOLUTIONS_FILE = "solutions.yaml"
LABS_ENV = "LABCHECK_LABS"
SOLUTIONS_ENV = "LABCHECK_SOLUTIONS_DIR"  # a folder holding <lab>/solutions.yaml (tests, authors)
ENTRY_POINT_GROUP = "labcheck.labs"
BUILTIN = "built-in"

_PACKAGE = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class LabSource:
    """A directory holding `<lab>/lab.yaml` folders, and where it was named."""

    root: Path
    origin: str  # "built-in", "LABCHECK_LABS", or "entry point NAME (DISTRIBUTION)"


@dataclass(frozen=True)
class LabLocation:
    """One lab found in a source."""

    id: str
    folder: Path  # holds lab.yaml and app/
    source: LabSource

    @property
    def spec_file(self) -> Path:
        return self.folder / LAB_FILE


def builtin_root() -> Path:
    """labcheck's own labs: package data in an installed wheel, `labs/` in a checkout."""
    packaged = _PACKAGE / "_data" / "labs"
    return packaged if packaged.is_dir() else _PACKAGE.parents[1] / "labs"


def configured_sources() -> list[LabSource]:
    """The directories of $LABCHECK_LABS, in order; UsageError for one that does not exist."""
    sources = []
    for entry in os.environ.get(LABS_ENV, "").split(os.pathsep):
        if not entry.strip():
            continue
        root = Path(entry).expanduser()
        if not root.is_dir():
            raise UsageError(
                f"labs directory {entry!r} does not exist (from --labs-dir or {LABS_ENV})",
                tip="name a directory that holds <lab>/lab.yaml folders",
            )
        sources.append(LabSource(root, LABS_ENV))
    return sources


def entry_point_sources() -> list[LabSource]:
    """The labs directories other installed packages declare (group `labcheck.labs`)."""
    from importlib.metadata import entry_points

    sources = []
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        dist = ep.dist.name if ep.dist is not None else "?"
        origin = f"entry point {ep.name} ({dist})"
        try:
            root = _as_path(ep.load())
        except Exception as exc:  # a broken plugin is named, never a traceback
            raise SpecError(f"{origin}: cannot load {ep.value!r}: {type(exc).__name__}: {exc}") from exc
        if root is None or not root.is_dir():
            raise SpecError(f"{origin}: {ep.value!r} is not a labs directory")
        sources.append(LabSource(root, origin))
    return sources


def _as_path(value: object) -> Path | None:
    """A package's folder, a callable's result, or a path."""
    if callable(value):
        value = cast(Callable[[], object], value)()
    if isinstance(value, str | os.PathLike):
        return Path(value)
    folders = getattr(value, "__path__", None)  # a package
    return Path(next(iter(folders))) if folders else None


def _labs_in(source: LabSource) -> Iterator[LabLocation]:
    for spec_file in sorted(source.root.glob(f"*/{LAB_FILE}")):
        yield LabLocation(spec_file.parent.name, spec_file.parent, source)


def _local_sources() -> list[LabSource]:
    return [*configured_sources(), LabSource(builtin_root(), BUILTIN)]


def find_lab(lab_id: str) -> LabLocation | None:
    """The first source's lab with this id (entry points are read only when needed)."""
    for sources in (_local_sources, entry_point_sources):
        for source in sources():
            folder = source.root / lab_id
            if (folder / LAB_FILE).is_file():
                return LabLocation(lab_id, folder, source)
    return None


def all_labs() -> list[LabLocation]:
    """Every lab of every source, sorted by id; a lab id shadowed by an earlier source is left out."""
    found: dict[str, LabLocation] = {}
    for source in [*_local_sources(), *entry_point_sources()]:
        for location in _labs_in(source):
            found.setdefault(location.id, location)
    return sorted(found.values(), key=lambda loc: loc.id)


def solutions_folder(lab_id: str, lab_folder: Path) -> Path:
    """Where a lab's solutions live: $LABCHECK_SOLUTIONS_DIR/<lab>, else `<lab>/solutions/`,
    else `solutions/<lab>/` beside the labs directory."""
    if env := os.environ.get(SOLUTIONS_ENV):
        return Path(env) / lab_id
    inside = lab_folder / "solutions"
    return inside if (inside / SOLUTIONS_FILE).is_file() else lab_folder.parent.parent / "solutions" / lab_id
