"""verify's scheduling, without Docker: the longest solutions start first."""

from __future__ import annotations

from labcheck.session import load_lab
from labcheck.spec.loader import load_solutions
from labcheck.verify import _weight


def test_solutions_with_the_ecr_stand_in_weigh_most() -> None:
    """Started last, an ECR solution (two containers and an API, ~8 s) kept one worker busy
    while the others sat idle: they are scheduled first."""
    spec = load_lab("part7")
    _, manifest = load_solutions(spec)
    weight = {s.name: _weight(spec, s) for s in manifest.solutions}
    ecr = {s.name for s in manifest.solutions if any(e.startswith("ecr") for e in s.exercises)}
    assert ecr and min(weight[n] for n in ecr) > max(w for n, w in weight.items() if n not in ecr)
