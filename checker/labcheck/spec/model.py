"""The lab spec's shape (schema_version 1), validated by pydantic at the YAML boundary.

Every model is frozen and forbids unknown keys, so a typo in a spec is an error that names
the key path instead of a setting that silently does nothing.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

Ident = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]*$", max_length=64)]
EnvName = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_]*$", max_length=64)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=False)


class ServiceSpec(_Frozen):
    """A container the lab starts: a registry, optionally with htpasswd auth."""

    kind: Literal["registry"] = "registry"
    description: str
    port: int = Field(ge=1, le=65535)
    env_var: EnvName
    auth: Literal["none", "htpasswd"] = "none"
    username: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]*$")] | None = None
    image: str | None = None  # default: the lab-wide registry image (registry:2)

    @model_validator(mode="after")
    def _auth_needs_user(self) -> ServiceSpec:
        if self.auth == "htpasswd" and not self.username:
            raise ValueError("a service with auth: htpasswd needs a username")
        if self.auth == "none" and self.username:
            raise ValueError("username is only meaningful with auth: htpasswd")
        return self


class CheckSpec(_Frozen):
    """One graded check: a check kind applied to rendered arguments."""

    id: Ident
    title: str
    kind: str
    points: int = Field(default=1, ge=0, le=100)
    args: dict[str, Any] = Field(default_factory=dict)
    hint: str = ""


class ExerciseSpec(_Frozen):
    """An exercise of the lesson: instructions for the learner and the checks that grade it."""

    id: Ident
    title: str
    lesson: str = ""  # the site page that explains it, e.g. "lessons/tagging/"
    summary: str
    instructions: str = ""
    checks: tuple[CheckSpec, ...] = Field(min_length=1)

    @property
    def max_points(self) -> int:
        return sum(c.points for c in self.checks)


class LabSpec(_Frozen):
    """A whole lab: services to start, parameters for Jinja, exercises with checks."""

    schema_version: Literal[1]
    id: Ident
    title: str
    description: str = ""
    registry_image: str = "registry:2"
    parameters: dict[str, str] = Field(default_factory=dict)
    services: dict[Ident, ServiceSpec] = Field(min_length=1)
    exercises: tuple[ExerciseSpec, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> LabSpec:
        seen: set[str] = set()
        for ex in self.exercises:
            if ex.id in seen:
                raise ValueError(f"exercise id {ex.id!r} is used twice")
            seen.add(ex.id)
            check_ids = [c.id for c in ex.checks]
            for cid in check_ids:
                if check_ids.count(cid) > 1:
                    raise ValueError(f"check id {cid!r} is used twice in exercise {ex.id!r}")
        ports = [s.port for s in self.services.values()]
        if len(set(ports)) != len(ports):
            raise ValueError("two services use the same port")
        for name in self.parameters:
            if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
                raise ValueError(f"parameter name {name!r} must be a lower-case identifier")
        return self

    def exercise(self, exercise_id: str) -> ExerciseSpec | None:
        """The exercise with this id, or None."""
        return next((e for e in self.exercises if e.id == exercise_id), None)

    @property
    def max_points(self) -> int:
        return sum(e.max_points for e in self.exercises)


class SolutionSpec(_Frozen):
    """A script in solutions/<lab>/ and the grade it must get from `labcheck verify`.

    A reference solution passes every check of its exercises. A mistake fails exactly the
    checks in `fails` (as "exercise/check"), each hint containing the given text, and passes
    the other checks of its exercises.
    """

    name: Ident
    script: str
    kind: Literal["reference", "mistake"]
    exercises: tuple[Ident, ...] = Field(min_length=1)
    description: str = ""
    fails: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _fails_only_for_mistakes(self) -> SolutionSpec:
        if self.kind == "reference" and self.fails:
            raise ValueError("a reference solution cannot declare failing checks")
        if self.kind == "mistake" and not self.fails:
            raise ValueError("a mistake must name the checks it fails (fails:)")
        for key in self.fails:
            if not re.fullmatch(r"[a-z][a-z0-9-]*/[a-z][a-z0-9-]*", key):
                raise ValueError(f"fails key {key!r} must look like exercise-id/check-id")
        return self


class SolutionsManifest(_Frozen):
    """solutions/<lab>/solutions.yaml."""

    schema_version: Literal[1]
    lab: Ident
    solutions: tuple[SolutionSpec, ...] = Field(min_length=1)
