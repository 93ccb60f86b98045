"""Observe the local Docker daemon (images, RepoDigests, labels) and the Docker config."""

from __future__ import annotations

import json
from pathlib import Path

from labcheck.errors import DockerUnavailable
from labcheck.observe.engine_api import EngineApi, EngineApiError
from labcheck.observe.model import DockerState, LocalImage, Unavailable


def logged_in_hosts(config_dir: Path) -> frozenset[str]:
    """Hosts the Docker config holds credentials for (`docker logout` removes the entry)."""
    try:
        data = json.loads((config_dir / "config.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return frozenset()
    except (OSError, ValueError):
        return frozenset()
    auths = data.get("auths") if isinstance(data, dict) else None
    if not isinstance(auths, dict):
        return frozenset()
    hosts = set()
    for key in auths:
        host = str(key).removeprefix("https://").removeprefix("http://").split("/")[0]
        hosts.add(host)
    return frozenset(hosts)


def observe_docker(api: EngineApi, config_dir: Path) -> DockerState | Unavailable:
    """Every local image with its tags, RepoDigests and labels, and the hosts logged in to."""
    try:
        images = tuple(
            LocalImage(
                id=str(item["Id"]),
                tags=tuple(t for t in item.get("RepoTags") or () if t != "<none>:<none>"),
                repo_digests=tuple(d for d in item.get("RepoDigests") or () if not d.startswith("<none>")),
                labels=dict(item.get("Labels") or {}),
            )
            for item in api.images()
        )
    except DockerUnavailable as exc:
        return Unavailable(exc.message)
    except (EngineApiError, KeyError, ValueError) as exc:
        return Unavailable(f"cannot read local images from the Docker daemon: {exc}")
    return DockerState(images=images, logged_in=logged_in_hosts(config_dir))
