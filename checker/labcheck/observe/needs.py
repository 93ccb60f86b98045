"""What a run must observe: the union of what its checks read, so each source is read once."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Needs:
    """Observations a check reads. `repos` maps (service, repository) to image file paths.

    `tags` maps a repository to the tags its checks name (see `named_tags`): in a
    repository too large to resolve every tag, those are resolved whatever they look like.
    """

    repos: Mapping[tuple[str, str], frozenset[str]] = field(default_factory=dict)
    tags: Mapping[tuple[str, str], frozenset[str]] = field(default_factory=dict)
    docker: bool = False
    workspace_files: frozenset[str] | None = None  # None: the workspace is not needed
    ecr_apis: frozenset[str] = frozenset()  # ecr-api services whose repositories are read
    ecr_policies: frozenset[tuple[str, str]] = frozenset()  # (ecr-api service, repository): lifecycle read
    push_logs: frozenset[str] = frozenset()  # registry services whose push log is read
    engine: bool = False  # what the learner's engine can build (an exercise's `requires`)


def merge(needs: Iterable[Needs]) -> Needs:
    """One Needs covering all: each repository once, with the union of its file paths."""
    repos: dict[tuple[str, str], frozenset[str]] = {}
    tags: dict[tuple[str, str], frozenset[str]] = {}
    docker = False
    ws: frozenset[str] | None = None
    ecr: frozenset[str] = frozenset()
    policies: frozenset[tuple[str, str]] = frozenset()
    logs: frozenset[str] = frozenset()
    engine = False
    for n in needs:
        for key, files in n.repos.items():
            repos[key] = repos.get(key, frozenset()) | files
        for key, named in n.tags.items():
            tags[key] = tags.get(key, frozenset()) | named
        docker = docker or n.docker
        if n.workspace_files is not None:
            ws = (ws or frozenset()) | n.workspace_files
        ecr |= n.ecr_apis | {service for service, _ in n.ecr_policies}
        policies |= n.ecr_policies
        logs |= n.push_logs
        engine = engine or n.engine
    return Needs(
        repos=repos,
        tags=tags,
        docker=docker,
        workspace_files=ws,
        ecr_apis=ecr,
        ecr_policies=policies,
        push_logs=logs,
        engine=engine,
    )
