"""Per-learner values of a lab: derived from the lab's seed and a learner id, deterministically.

A lab declares `seed:` and `learner_parameters:`, each with a `default` and a derivation rule
(`choices` or an integer `range`). Without a learner the defaults are used, so the course site,
the reference solutions and single-learner mode see exactly the values the lab always had.
With a learner id, each value is picked by hashing seed, id and parameter name: the same
learner always gets the same values, on any machine, and neighbours get different ones.
"""

from __future__ import annotations

import hashlib
import re

from labcheck.errors import UsageError
from labcheck.spec.model import LabSpec, LearnerParameter

#: A learner id becomes a registry namespace and a login name: lower case, digits, . _ -
LEARNER_ID = re.compile(r"^[a-z0-9](?:[a-z0-9._-]{0,38}[a-z0-9])?$")


def check_learner_id(learner: str) -> str:
    """The id, or UsageError when it cannot be a registry namespace."""
    if not LEARNER_ID.fullmatch(learner) or ".." in learner or "__" in learner:
        raise UsageError(
            f"learner id {learner!r} is not valid",
            tip="use 1 to 40 lower-case letters, digits, '.', '_' or '-' (it becomes a registry namespace)",
        )
    return learner


def _pick(seed: str, learner: str, name: str, size: int) -> int:
    digest = hashlib.sha256(f"{seed}\0{learner}\0{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % size


def derive(seed: str, learner: str, name: str, param: LearnerParameter) -> str:
    """One parameter's value for one learner."""
    if param.choices:
        return param.choices[_pick(seed, learner, name, len(param.choices))]
    assert param.range is not None  # the model requires choices or range
    low, high = param.range
    return str(low + _pick(seed, learner, name, high - low + 1))


def learner_values(spec: LabSpec, learner: str | None) -> dict[str, str]:
    """Every learner parameter's value: the defaults without a learner, else derived."""
    if learner is None:
        return {name: p.default for name, p in spec.learner_parameters.items()}
    check_learner_id(learner)
    return {name: derive(spec.seed, learner, name, p) for name, p in spec.learner_parameters.items()}
