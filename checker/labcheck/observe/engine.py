"""Observe what the learner's Docker engine can build: which image store keeps its images.

An exercise may need more of the engine than building and pushing one image (lab.yaml's
`requires`): a multi-platform build needs the containerd image store, whose builder keeps
image indexes. On an engine that cannot, such an exercise is skipped with the reason and the
fix, never failed: the learner did nothing wrong. `labcheck doctor` reports the same fact.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from labcheck.errors import DockerUnavailable
from labcheck.observe.engine_api import EngineApi, EngineApiError
from labcheck.observe.model import EngineState, Unavailable
from labcheck.spec.model import Capability, ExerciseSpec

#: The /info DriverStatus `driver-type` of an engine whose images are in containerd.
CONTAINERD_STORE = "io.containerd.snapshotter.v1"
#: How to turn the containerd image store on, on either kind of engine.
ENABLE_CONTAINERD_STORE = (
    "enable the containerd image store: Docker Desktop: Settings > General > Use containerd for pulling and "
    'storing images; Docker Engine: "features": {"containerd-snapshotter": true} in /etc/docker/daemon.json, '
    "then restart the daemon"
)
#: Why an engine without the containerd image store cannot do what an exercise requires.
_LACKING: dict[Capability, str] = {
    "multi-platform": (
        "this Docker engine keeps its images in the classic image store, which cannot build "
        "multi-platform images (docker buildx build --platform linux/amd64,linux/arm64)"
    ),
}


def engine_state(info: Mapping[str, Any]) -> EngineState:
    """The engine as its `GET /info` answer describes it."""
    status = info.get("DriverStatus") or []
    pairs = {str(p[0]): str(p[1]) for p in status if isinstance(p, list | tuple) and len(p) == 2}
    return EngineState(
        containerd_store=pairs.get("driver-type") == CONTAINERD_STORE,
        driver=str(info.get("Driver") or "?"),
    )


def observe_engine(api: EngineApi) -> EngineState | Unavailable:
    """The engine's image store, or Unavailable when the daemon does not say."""
    try:
        return engine_state(api.info())
    except DockerUnavailable as exc:
        return Unavailable(exc.message)
    except EngineApiError as exc:
        return Unavailable(f"cannot read the Docker daemon's configuration: {exc}")


def current_engine() -> EngineState:
    """The engine the docker CLI uses, asked once; DockerUnavailable when it cannot be asked."""
    with EngineApi() as api:
        try:
            return engine_state(api.info())
        except EngineApiError as exc:
            raise DockerUnavailable(f"cannot read the Docker daemon's configuration: {exc}") from exc


def unsupported(exercises: Sequence[ExerciseSpec], engine: EngineState) -> dict[str, str]:
    """The exercises `engine` cannot do (what they require, it lacks), each with why and the fix."""
    return {ex.id: why for ex in exercises if ex.requires and (why := lacking(engine, ex.requires))}


def lacking(engine: EngineState, capabilities: Iterable[Capability]) -> str | None:
    """Why `engine` cannot do what an exercise requires, and the fix; None when it can."""
    if engine.containerd_store:  # every capability so far comes with the containerd image store
        return None
    reasons = [_LACKING[c] for c in dict.fromkeys(capabilities)]
    if not reasons:
        return None
    return f"{'; '.join(reasons)}; to do this exercise, {ENABLE_CONTAINERD_STORE}"
