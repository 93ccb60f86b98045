"""Build observations by hand: what a registry, a daemon and a workspace would report."""

from __future__ import annotations

from labcheck.checks.base import Context
from labcheck.observe.model import (
    Commit,
    DockerState,
    InlinePassword,
    LocalImage,
    Observations,
    RepoRef,
    RepoState,
    TagInfo,
    Unavailable,
    WorkspaceState,
)

HOSTS = {"registry": "localhost:5000", "hub": "localhost:5001"}
CTX = Context(hosts=HOSTS, lesson="lessons/test/")


def digest(n: int) -> str:
    return f"sha256:{n:064x}"


def repo(service: str, name: str, tags: dict[str, int] | None, **extra: dict[str, object]) -> RepoState:
    """A repository whose tags map to image numbers (same number = same image)."""
    ref = RepoRef(service, HOSTS[service], name)
    if tags is None:
        return RepoState(ref, exists=False)
    infos = {}
    for tag, n in tags.items():
        fields: dict[str, object] = {"image_ids": frozenset({digest(1000 + n)}), **extra.get(tag, {})}
        infos[tag] = TagInfo(
            tag=tag,
            digest=digest(n),
            media_type="application/vnd.docker.distribution.manifest.v2+json",
            **fields,  # type: ignore[arg-type]
        )
    return RepoState(ref, exists=True, tags=infos)


def obs(
    *repos: RepoState | tuple[str, str, Unavailable],
    images: list[LocalImage] | None = None,
    logged_in: set[str] | None = None,
    docker: DockerState | Unavailable | None = None,
    workspace: WorkspaceState | Unavailable | None = None,
) -> Observations:
    states: dict[tuple[str, str], RepoState | Unavailable] = {}
    for r in repos:
        if isinstance(r, tuple):
            states[(r[0], r[1])] = r[2]
        else:
            states[(r.ref.service, r.ref.repository)] = r
    if docker is None:
        docker = DockerState(images=tuple(images or ()), logged_in=frozenset(logged_in or ()))
    return Observations(repos=states, docker=docker, workspace=workspace)


def image(*tags: str, repo_digests: tuple[str, ...] = (), n: int = 1) -> LocalImage:
    return LocalImage(id=digest(5000 + n), tags=tags, repo_digests=repo_digests)


def workspace(*commits: tuple[str, str, dict[str, bytes]], inline: tuple[InlinePassword, ...] = ()) -> WorkspaceState:
    """Commits newest first: (sha, subject, files)."""
    return WorkspaceState(
        path="/ws",
        commits=tuple(Commit(sha=s, subject=subj, files=dict(f)) for s, subj, f in commits),
        inline_passwords=inline,
    )
