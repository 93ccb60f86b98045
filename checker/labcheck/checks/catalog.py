"""The check kinds a lab spec may name, and their validation at load time."""

from __future__ import annotations

import contextlib
from typing import Any

from pydantic import ValidationError

from labcheck.checks.base import Args, CheckKind
from labcheck.checks.ecr import EcrImmutableTags, EcrLifecyclePolicy, EcrRepository, EcrScanOnPush, PushedBy
from labcheck.checks.git import CommitTag, LatestIsNewestCommit
from labcheck.checks.images import (
    DifferentImages,
    ImageLabel,
    ReleaseTrackedByLatest,
    SameImage,
)
from labcheck.checks.local import LoggedOut, NoInlinePassword, PulledFromRegistry
from labcheck.checks.platforms import ImageIndex, ImagePlatforms
from labcheck.checks.tags import SemverTag, TagExists
from labcheck.errors import SpecError
from labcheck.spec.model import CheckSpec, LabSpec

KINDS: dict[str, CheckKind[Any]] = {
    kind.name: kind
    for kind in (
        TagExists(),
        SemverTag(),
        SameImage(),
        DifferentImages(),
        ReleaseTrackedByLatest(),
        ImageLabel(),
        ImageIndex(),
        ImagePlatforms(),
        PulledFromRegistry(),
        LoggedOut(),
        NoInlinePassword(),
        CommitTag(),
        LatestIsNewestCommit(),
        EcrRepository(),
        EcrImmutableTags(),
        EcrScanOnPush(),
        EcrLifecyclePolicy(),
        PushedBy(),
    )
}


def kind_of(check: CheckSpec) -> CheckKind[Any]:
    """The implementation of a (validated) check's kind."""
    return KINDS[check.kind]


def validate_check(check: CheckSpec, spec: LabSpec, where: str) -> None:
    """Raise SpecError unless the check names a known kind with valid, rendered args."""
    kind = KINDS.get(check.kind)
    if kind is None:
        raise SpecError(f"{where}.kind: unknown check kind {check.kind!r} (known: {', '.join(sorted(KINDS))})")
    try:
        args = kind.parse(check.args)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"].removeprefix("Value error, ")
        raise SpecError(f"{where}.args{'.' + loc if loc else ''}: {msg}") from exc
    for key in ("service", "registry"):
        service = getattr(args, key, None)
        if service is not None and service not in spec.services:
            raise SpecError(f"{where}.args.{key}: unknown service {service!r} (lab has: {', '.join(spec.services)})")


def parsed_args(spec: LabSpec) -> dict[tuple[str, str], Args]:
    """Each check's parsed arguments by (exercise id, check id); a check whose arguments do not
    parse (or whose kind is unknown) is left out: grading parses it again and says why."""
    parsed: dict[tuple[str, str], Args] = {}
    for ex in spec.exercises:
        for check in ex.checks:
            kind = KINDS.get(check.kind)
            if kind is not None:
                with contextlib.suppress(ValidationError):
                    parsed[(ex.id, check.id)] = kind.parse(check.args)
    return parsed
