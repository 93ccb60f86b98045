"""The lab spec's shape (schema_version 1), validated by pydantic at the YAML boundary.

Every model is frozen and forbids unknown keys, so a typo in a spec is an error that names
the key path instead of a setting that silently does nothing.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, StringConstraints, model_validator

from labcheck.errors import SpecError

Ident = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]*$", max_length=64)]
EnvName = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_]*$", max_length=64)]


class _Frozen(BaseModel):
    # defer_build: a model's validator is built when it first validates, not at import; a
    # run whose spec comes validated from the cache (labcheck.session) never builds one
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=False, defer_build=True)


#: The user name ECR logins use, whatever the account: `docker login --username AWS`.
ECR_USER = "AWS"
#: How long a login token from `aws ecr get-login-password` is valid on AWS: 12 hours.
DEFAULT_TOKEN_LIFETIME = 12 * 3600
#: The image of an ecr-api service (moto's own), when its spec names none.
DEFAULT_ECR_API_IMAGE = "motoserver/moto:5.2.5"

#: Where a check is graded besides the lab (`labcheck run --registry HOST`): on every remote
#: registry (true), on none (false), or only on an AWS ECR registry (ecr).
Remote = bool | Literal["ecr"]
#: What an exercise may need of the learner's Docker engine beyond building and pushing one
#: image: `multi-platform`, a builder that makes image indexes (the containerd image store).
Capability = Literal["multi-platform"]


class ServiceSpec(_Frozen):
    """A service the lab starts.

    `kind: registry` is a registry:2 container, optionally with htpasswd auth. `kind: ecr-api`
    is the ECR stand-in: moto's ECR API in a container of `image` (moto's own), whose login
    tokens expire after `token_lifetime` seconds (12 hours, as on AWS). A registry with
    `auth: ecr-token` is that stand-in's registry (`token_from` names the ecr-api service):
    it takes the API's logins and refuses what ECR refuses (environment/ecr_front.py).
    """

    kind: Literal["registry", "ecr-api"] = "registry"
    description: str
    port: int = Field(ge=1, le=65535)
    env_var: EnvName
    auth: Literal["none", "htpasswd", "ecr-token"] = "none"
    username: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]*$")] | None = None
    token_from: Ident | None = None  # auth: ecr-token: the ecr-api service that issues the password
    image: str | None = None  # default: the lab-wide registry image (registry:2)
    region: Annotated[str, StringConstraints(pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")] | None = None  # ecr-api only
    token_lifetime: int | None = Field(default=None, ge=1)  # ecr-api only: seconds a login is valid

    @model_validator(mode="after")
    def _consistent(self) -> ServiceSpec:
        if self.kind == "ecr-api":
            for key in ("token_from", "username"):
                if getattr(self, key) is not None:
                    raise ValueError(f"{key} is not meaningful for kind: ecr-api")
            if self.auth != "none":
                raise ValueError("auth is not meaningful for kind: ecr-api")
            if self.region is None:
                raise ValueError("a service of kind: ecr-api needs a region (e.g. us-east-1)")
            return self
        for key in ("region", "token_lifetime"):
            if getattr(self, key) is not None:
                raise ValueError(f"{key} is only meaningful for kind: ecr-api")
        if self.auth == "htpasswd" and not self.username:
            raise ValueError("a service with auth: htpasswd needs a username")
        if self.auth != "htpasswd" and self.username:
            raise ValueError("username is only meaningful with auth: htpasswd")
        if (self.auth == "ecr-token") != (self.token_from is not None):
            raise ValueError("auth: ecr-token and token_from (an ecr-api service) go together")
        return self

    @property
    def api_image(self) -> str:
        """An ecr-api service's image."""
        return self.image or DEFAULT_ECR_API_IMAGE

    @property
    def login_user(self) -> str | None:
        """The user name of the service's login, if it has one."""
        return ECR_USER if self.auth == "ecr-token" else self.username


class CheckSpec(_Frozen):
    """One graded check: a check kind applied to rendered arguments."""

    id: Ident
    title: str
    kind: str
    points: int = Field(default=1, ge=0, le=100)
    args: dict[str, Any] = Field(default_factory=dict)
    hint: str = ""
    #: Graded by `labcheck run --registry HOST`? None: as its exercise says.
    remote: Remote | None = None


class ExerciseSpec(_Frozen):
    """An exercise of the lesson: what to achieve, hints of growing detail, and the checks.

    A learner meets it as a challenge: the `goal` (what to achieve, with their own values) and
    the checks; then, on request, the `hints` one level at a time (`labcheck hint LAB EX
    --level N`: where to read, then the shape of the commands) and last the `instructions`,
    which are the full solution (`--solution`).
    """

    id: Ident
    title: str
    lesson: str = ""  # the site page that explains it, e.g. "lessons/tagging/"
    summary: str
    goal: str = ""  # Markdown: what to achieve; the summary stands in when empty
    hints: tuple[str, ...] = Field(default=(), max_length=5)  # Markdown, least detailed first
    minutes: int | None = Field(default=None, ge=1, le=600)  # how long it takes a learner
    instructions: str = ""  # the solution: commands a learner could type verbatim
    #: Does the exercise make sense on a remote registry (`labcheck run --registry HOST`)?
    #: `ecr`: only when that registry is an AWS ECR. A check may say otherwise with its own `remote`.
    remote: Remote = False
    #: What the learner's engine must be able to do. Where it cannot, the exercise is skipped
    #: with the reason and the fix (unless its checks pass anyway), never failed.
    requires: tuple[Capability, ...] = ()
    checks: tuple[CheckSpec, ...] = Field(min_length=1)

    @property
    def max_points(self) -> int:
        return sum(c.points for c in self.checks)

    def remote_mode(self, check: CheckSpec) -> Remote:
        """Where `check` is graded besides the lab: its own `remote`, else the exercise's."""
        return self.remote if check.remote is None else check.remote

    def graded_remotely(self, check: CheckSpec, *, ecr: bool = False) -> bool:
        """Whether `check` is graded when the target is a remote registry (`ecr`: an AWS ECR one)."""
        mode = self.remote_mode(check)
        return mode == "ecr" and ecr if isinstance(mode, str) else mode


class LearnerParameter(_Frozen):
    """A value that differs per learner: `default` without a learner, else derived.

    Derived by hashing the lab's seed, the learner id and the parameter's name, then
    picking one of `choices` or an integer in `range` (both ends included).
    """

    default: str
    choices: tuple[str, ...] | None = Field(default=None, min_length=2)
    range: tuple[int, int] | None = None

    @model_validator(mode="after")
    def _one_rule(self) -> LearnerParameter:
        if (self.choices is None) == (self.range is None):
            raise ValueError("give exactly one derivation rule: choices or range")
        if self.choices is not None and self.default not in self.choices:
            raise ValueError(f"default {self.default!r} is not one of the choices")
        if self.range is not None:
            low, high = self.range
            if low > high:
                raise ValueError(f"range [{low}, {high}] is empty")
            if not (self.default.lstrip("-").isdigit() and low <= int(self.default) <= high):
                raise ValueError(f"default {self.default!r} is not an integer in range [{low}, {high}]")
        return self


class LabSpec(_Frozen):
    """A whole lab: services to start, parameters for Jinja, exercises with checks.

    `learner_parameters` (with `seed`) give each learner their own values; `exports` are the
    environment variables `labcheck env` prints for them (templates, e.g. `"{{ version }}"`);
    `class_service` is the service a workshop shares (`labcheck class up`).
    """

    schema_version: Literal[1]
    id: Ident
    # the lab's own version (semantic versioning): `labcheck --version` shows it
    version: Annotated[str, StringConstraints(pattern=r"^\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$")] = "0.0.0"
    title: str
    description: str = ""
    registry_image: str = "registry:2"
    parameters: dict[str, str] = Field(default_factory=dict)
    seed: str = ""
    learner_parameters: dict[str, LearnerParameter] = Field(default_factory=dict)
    exports: dict[EnvName, str] = Field(default_factory=dict)
    class_service: Ident | None = None
    services: dict[Ident, ServiceSpec] = Field(min_length=1)
    exercises: tuple[ExerciseSpec, ...] = Field(min_length=1)
    # the folder lab.yaml was read from (its app/ and solutions); set by the loader, not by YAML
    _folder: Path | None = PrivateAttr(None)
    # what the spec was made from (file, bytes, code: disk_cache.cache_key), for caching what
    # is made from it in turn; set by labcheck.session, None for a spec made otherwise
    _source_key: str | None = PrivateAttr(None)

    @property
    def source_key(self) -> str | None:
        return self._source_key

    @property
    def folder(self) -> Path:
        """The lab's folder (lab.yaml, app/); only a spec read from a file has one."""
        if self._folder is None:
            raise SpecError(f"lab {self.id!r} was not loaded from a file")
        return self._folder

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
        takers: dict[str, str] = {}
        for name, svc in self.services.items():
            source = self.services.get(svc.token_from) if svc.token_from else None
            if svc.token_from and (source is None or source.kind != "ecr-api"):
                raise ValueError(f"service {name!r}: token_from {svc.token_from!r} is not an ecr-api service")
            if svc.token_from and svc.token_from in takers:
                raise ValueError(
                    f"services {takers[svc.token_from]!r} and {name!r} both take their logins from "
                    f"{svc.token_from!r}: an ECR API has one registry"
                )
            if svc.token_from:
                takers[svc.token_from] = name
        for name in [*self.parameters, *self.learner_parameters]:
            if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
                raise ValueError(f"parameter name {name!r} must be a lower-case identifier")
        both = sorted(set(self.parameters) & set(self.learner_parameters))
        if both:
            raise ValueError(f"{both[0]!r} is both a parameter and a learner parameter")
        if self.learner_parameters and not self.seed:
            raise ValueError("learner_parameters need a seed")
        if self.class_service is not None:
            shared = self.services.get(self.class_service)
            if shared is None or shared.kind != "registry" or shared.auth != "htpasswd":
                raise ValueError(f"class_service {self.class_service!r} is not a registry service with a login")
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
