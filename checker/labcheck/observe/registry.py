"""Observe repositories through the registry API: tags, digests, image configs and files."""

from __future__ import annotations

import gzip
import io
import re
import tarfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from labcheck.errors import RateLimited, RegistryError
from labcheck.observe.model import PlatformImage, RepoRef, RepoState, TagInfo, Unavailable
from labcheck.registry import Manifest, RegistryClient
from labcheck.versions import VERSIONISH

MAX_FILE_BYTES = 1 << 20  # the app files a check compares are small; refuse huge ones

#: Up to this many tags, every tag of a repository is resolved (hints may name any of them).
#: Beyond it (a CI repository with a tag per build), only the tags a check can be about are,
#: and never more than this many: those the checks name and `latest` first, then
#: version-like tags newest first, then commit-like tags. RepoState.unresolved counts the rest.
RESOLVE_ALL_UP_TO = 1000
_COMMITISH = re.compile(r"^[0-9a-fA-F]{7,64}$")
_NUMBERS = re.compile(r"\d+")


def _newest_first(tag: str) -> tuple[int, ...]:
    return tuple(-int(n[:18]) for n in _NUMBERS.findall(tag)[:4])  # 1.10.0 before 1.9.0


def tags_to_resolve(tags: list[str], named: frozenset[str]) -> list[str]:
    """All of `tags` in a repository of normal size; in a huge one, at most RESOLVE_ALL_UP_TO
    of those a check can be about, in the registry's order."""
    if len(tags) <= RESOLVE_ALL_UP_TO:
        return tags
    first = [t for t in tags if t in named or t == "latest"]
    versions = sorted((t for t in tags if t not in named and VERSIONISH.match(t)), key=_newest_first)
    commits = [t for t in tags if t not in named and not VERSIONISH.match(t) and _COMMITISH.match(t)]
    chosen = set((first + versions + commits)[: max(RESOLVE_ALL_UP_TO, len(first))])
    return [t for t in tags if t in chosen]


@dataclass
class _ImageFacts:
    media_type: str
    image_ids: frozenset[str]
    created: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    files: dict[str, bytes | None] = field(default_factory=dict)
    is_index: bool = False
    platforms: tuple[PlatformImage, ...] = ()


def observe_repository(
    client: RegistryClient,
    ref: RepoRef,
    files: frozenset[str],
    named: frozenset[str] = frozenset(),
    workers: int = 8,
) -> RepoState | Unavailable:
    """The tags of a repository with digests and image facts; Unavailable if we could not ask.

    Every tag is resolved, unless there are more than RESOLVE_ALL_UP_TO (see tags_to_resolve).
    Every image config is read through RegistryClient.config (the one validated reader).
    """
    try:
        listed = client.list_tags(ref.repository)
        if listed is None:
            return RepoState(ref, exists=False)
        tags = tags_to_resolve(listed, named)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            digests = dict(zip(tags, pool.map(lambda t: client.resolve(ref.repository, t), tags), strict=True))
            unique = sorted({d for d in digests.values() if d})
            facts = dict(
                zip(
                    unique,
                    pool.map(lambda d: _facts(client, ref.repository, d, files), unique),
                    strict=True,
                )
            )
    except RateLimited as exc:  # not the learner's fault: say when grading can work again
        return Unavailable(f"could not read {ref.host}/{ref.repository}: {exc.message}; {exc.tip}")
    except RegistryError as exc:
        return Unavailable(f"could not read {ref.host}/{ref.repository}: {exc.message}")
    infos = {
        tag: TagInfo(
            tag=tag,
            digest=digest,
            media_type=facts[digest].media_type,
            image_ids=facts[digest].image_ids,
            created=facts[digest].created,
            labels=facts[digest].labels,
            files=facts[digest].files,
            is_index=facts[digest].is_index,
            platforms=facts[digest].platforms,
        )
        for tag, digest in digests.items()
        if digest  # a tag deleted between listing and resolving is simply gone
    }
    return RepoState(ref, exists=True, tags=infos, unresolved=len(listed) - len(tags))


def _facts(client: RegistryClient, repository: str, digest: str, files: frozenset[str]) -> _ImageFacts:
    """What one top-level manifest holds: each platform's config (os, architecture), and the
    labels, creation time and files of the platform graded (linux/amd64 if there, else the first)."""
    top = client.manifest(repository, digest)
    images: list[tuple[str | None, Manifest]] = [(None, top)]  # (the platform an index lists, the image)
    if top.is_index:
        children = top.platform_children()
        images = [(str(c.platform) if c.platform else None, client.manifest(repository, c.digest)) for c in children]
    configs = {m.digest: client.config(repository, cd) for _, m in images if (cd := m.config_digest)}
    platforms = tuple(
        PlatformImage(listed, config.os, config.architecture, config.digest)
        for listed, image in images
        if (config := configs.get(image.digest)) is not None
    )
    facts = _ImageFacts(
        media_type=top.media_type,
        image_ids=frozenset(p.config_digest for p in platforms),
        is_index=top.is_index,
        platforms=platforms,
    )
    graded = next((m for listed, m in images if listed and listed.startswith("linux/amd64")), None)
    graded = graded or next((m for _, m in images), None)
    config = configs.get(graded.digest) if graded else None
    if graded is None or config is None:
        return facts
    facts.created = config.created
    facts.labels = dict(config.labels)
    if files:
        facts.files = _read_files(client, repository, graded, files)
    return facts


def _read_files(
    client: RegistryClient, repository: str, image: Manifest, paths: Iterable[str]
) -> dict[str, bytes | None]:
    """The files as the image's filesystem has them: upper layers first, whiteouts respected."""
    wanted = {p.lstrip("/"): p for p in paths}
    found: dict[str, bytes | None] = {}
    for layer in reversed(image.layers):
        if len(found) == len(wanted):
            break
        blob = client.blob(repository, layer.digest)
        data = gzip.decompress(blob) if blob[:2] == b"\x1f\x8b" else blob
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            for member in tar:
                name = member.name.removeprefix("./").lstrip("/")
                head, _, base = name.rpartition("/")
                if base == ".wh..wh..opq":  # an opaque directory hides everything below it
                    for hidden in wanted:
                        if hidden.startswith(f"{head}/") and hidden not in found:
                            found[hidden] = None
                    continue
                if base.startswith(".wh."):
                    hidden = f"{head}/{base[4:]}" if head else base[4:]
                    if hidden in wanted and hidden not in found:
                        found[hidden] = None
                    continue
                if name in wanted and name not in found and member.isfile() and member.size <= MAX_FILE_BYTES:
                    extracted = tar.extractfile(member)
                    found[name] = extracted.read() if extracted else None
    return {original: found.get(stripped) for stripped, original in wanted.items()}
