"""Observations: the state of registries, the Docker daemon and the workspace, gathered once.

Checks read these and nothing else. An observation that could not be made is `Unavailable`,
which turns every check that needs it into an "error" result, never a "fail".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from labcheck.registry.auth import DOCKER_HUB_HOSTS
from labcheck.text import printable


@dataclass(frozen=True)
class Unavailable:
    """An observation we could not make, and why (one line, no secrets, control characters escaped)."""

    reason: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "reason", printable(self.reason))  # a server's words may be in it


@dataclass(frozen=True)
class RepoRef:
    """A repository on one of the lab's services (or on --registry)."""

    service: str
    host: str
    repository: str

    @property
    def familiar(self) -> str:
        """The name as Docker shows it locally: Docker Hub's without host and `library/`."""
        if self.host.lower() in DOCKER_HUB_HOSTS:
            return self.repository.removeprefix("library/")
        return f"{self.host}/{self.repository}"

    def ref(self, tag: str) -> str:
        return f"{self.familiar}:{tag}"


@dataclass(frozen=True)
class PlatformImage:
    """One runnable image behind a tag: the platform an index lists it for, and its config's own.

    `listed` is the index entry's platform (`linux/arm64`), None when the tag is a single
    image (no index lists it); `os` and `architecture` are what the image's config says.
    """

    listed: str | None
    os: str
    architecture: str
    config_digest: str

    @property
    def platform(self) -> str:
        """The platform as an index lists it, else as the config says (`linux/amd64`)."""
        return self.listed or f"{self.os}/{self.architecture}"

    @property
    def config_agrees(self) -> bool:
        """Whether the config says the os/architecture the index lists (a variant aside)."""
        return self.listed is None or self.listed.split("/")[:2] == [self.os, self.architecture]


@dataclass(frozen=True)
class TagInfo:
    """What a tag resolves to in the registry."""

    tag: str
    digest: str  # the top-level manifest digest: what `docker push` printed
    media_type: str
    # Config digests of the platform images, attestations left out: two tags are the same
    # image when these are equal even if the top-level digests differ only by attestations.
    image_ids: frozenset[str]
    created: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    files: Mapping[str, bytes | None] = field(default_factory=dict)
    is_index: bool = False  # an OCI image index or a Docker manifest list
    platforms: tuple[PlatformImage, ...] = ()  # its runnable images, attestation manifests left out

    def platform_names(self) -> list[str]:
        """The platforms the tag holds, as listed (`linux/amd64`, `linux/arm64`)."""
        return [p.platform for p in self.platforms]


@dataclass(frozen=True)
class RepoState:
    """A repository's tags. `exists` is False when the registry does not know the name.

    `unresolved` counts tags listed but not resolved (only in huge repositories: see
    observe.registry.tags_to_resolve); they are in no check's interest.
    """

    ref: RepoRef
    exists: bool
    tags: Mapping[str, TagInfo] = field(default_factory=dict)
    unresolved: int = 0

    def same_image(self, a: str, b: str) -> bool:
        ta, tb = self.tags[a], self.tags[b]
        return ta.digest == tb.digest or (bool(ta.image_ids) and ta.image_ids == tb.image_ids)


@dataclass(frozen=True)
class LocalImage:
    """An image in the local Docker daemon."""

    id: str
    tags: tuple[str, ...]
    repo_digests: tuple[str, ...]
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DockerState:
    """The local daemon's images and the hosts the Docker config holds credentials for."""

    images: tuple[LocalImage, ...]
    logged_in: frozenset[str]

    def tagged(self, ref: str) -> LocalImage | None:
        """The local image carrying this tag (`host/repo:tag`), if any."""
        return next((img for img in self.images if ref in img.tags), None)

    def tags_named(self, suffix: str) -> list[str]:
        """Every local tag that ends with `suffix` (e.g. '/my-app:v1.0.0' or 'my-app:v1.0.0')."""
        return sorted(t for img in self.images for t in img.tags if t == suffix or t.endswith(suffix))


@dataclass(frozen=True)
class EngineState:
    """The learner's Docker engine, from its /info: which image store keeps its images.

    The containerd image store (Docker Desktop 4.34+, Engine 29) holds image indexes, so its
    builder makes multi-platform images; the classic store (overlay2 and the like) does not.
    """

    containerd_store: bool
    driver: str  # the storage driver or snapshotter: overlay2, overlayfs, ...


@dataclass(frozen=True)
class Commit:
    """A commit of the workspace and the requested files as they are in it."""

    sha: str
    subject: str
    files: Mapping[str, bytes | None] = field(default_factory=dict)


@dataclass(frozen=True)
class InlinePassword:
    """A `docker login` with the password on the command line, found in a workspace file."""

    path: str
    line: int


@dataclass(frozen=True)
class WorkspaceState:
    """The learner's git repository: HEAD's history, newest first."""

    path: str
    commits: tuple[Commit, ...]
    inline_passwords: tuple[InlinePassword, ...] = ()

    def commit_for_tag(self, tag: str) -> Commit | None:
        """The commit whose SHA starts with this tag (a short SHA: 7 to 40 hex digits)."""
        t = tag.lower()
        if not 7 <= len(t) <= 40 or any(c not in "0123456789abcdef" for c in t):
            return None
        return next((c for c in self.commits if c.sha.startswith(t)), None)


@dataclass(frozen=True)
class EcrRepository:
    """A repository the ECR API knows (describe-repositories), with its settings."""

    name: str
    created: float  # createdAt, seconds since the epoch
    uri: str = ""
    tag_mutability: str = "MUTABLE"  # imageTagMutability: MUTABLE, IMMUTABLE (or ..._WITH_EXCLUSION)
    scan_on_push: bool = False  # imageScanningConfiguration.scanOnPush


@dataclass(frozen=True)
class EcrState:
    """The repositories of an ECR API (the lab's stand-in, or a real account's region)."""

    endpoint: str
    repositories: Mapping[str, EcrRepository] = field(default_factory=dict)
    #: The lifecycle policy text of the repositories checks asked about; None: it has none.
    lifecycle_policies: Mapping[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Push:
    """A manifest a registry accepted (PUT .../manifests/REF, 201), from its own log."""

    repository: str
    reference: str
    user: str | None  # auth.user.name: who the registry authenticated, None if anonymous
    time: float  # seconds since the epoch


@dataclass(frozen=True)
class PushLog:
    """Every manifest push a lab registry logged, oldest first."""

    pushes: tuple[Push, ...] = ()

    def of(self, repository: str, reference: str | None = None) -> list[Push]:
        return [p for p in self.pushes if p.repository == repository and reference in (None, p.reference)]


@dataclass(frozen=True)
class Observations:
    """Everything a run observed, keyed the way checks ask for it."""

    repos: Mapping[tuple[str, str], RepoState | Unavailable] = field(default_factory=dict)
    docker: DockerState | Unavailable | None = None
    workspace: WorkspaceState | Unavailable | None = None
    ecr: Mapping[str, EcrState | Unavailable] = field(default_factory=dict)  # by ecr-api service
    push_logs: Mapping[str, PushLog | Unavailable] = field(default_factory=dict)  # by registry service
    engine: EngineState | Unavailable | None = None  # what the learner's engine can build
