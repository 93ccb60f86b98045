"""Lab specs: the YAML an author writes, validated into frozen models."""

from labcheck.spec.loader import available_labs, load_solutions, read_lab
from labcheck.spec.model import CheckSpec, ExerciseSpec, LabSpec, ServiceSpec, SolutionSpec

__all__ = [
    "CheckSpec",
    "ExerciseSpec",
    "LabSpec",
    "ServiceSpec",
    "SolutionSpec",
    "available_labs",
    "load_solutions",
    "read_lab",
]
