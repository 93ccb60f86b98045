"""What a registry returns, as frozen dataclasses: manifests, descriptors and image configs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from labcheck.errors import RegistryProtocolError
from labcheck.registry import media_types

#: Docker's annotation on the attestation manifests buildx adds to an index.
REFERENCE_TYPE_ANNOTATION = "vnd.docker.reference.type"
ATTESTATION_MANIFEST = "attestation-manifest"


@dataclass(frozen=True)
class Platform:
    """The platform of an index entry, e.g. linux/arm64/v8."""

    os: str
    architecture: str
    variant: str | None = None

    def __str__(self) -> str:
        parts = [self.os, self.architecture] + ([self.variant] if self.variant else [])
        return "/".join(parts)


@dataclass(frozen=True)
class Descriptor:
    """A content descriptor: a layer, a config or one child manifest of an index."""

    media_type: str
    digest: str
    size: int
    annotations: Mapping[str, str] = field(default_factory=dict)
    platform: Platform | None = None

    @property
    def is_attestation(self) -> bool:
        """True for buildx attestation manifests, which are not runnable images."""
        if self.annotations.get(REFERENCE_TYPE_ANNOTATION) == ATTESTATION_MANIFEST:
            return True
        return self.platform is not None and (self.platform.os == "unknown" and self.platform.architecture == "unknown")

    @classmethod
    def from_json(cls, data: Any, where: str) -> Descriptor:
        """Build a descriptor from its JSON object; `where` names it in errors."""
        if not isinstance(data, dict):
            raise RegistryProtocolError(f"{where} is not a JSON object")
        media_type, digest, size = data.get("mediaType"), data.get("digest"), data.get("size")
        if not isinstance(digest, str) or not isinstance(size, int):
            raise RegistryProtocolError(f"{where} lacks a digest or a size")
        annotations = data.get("annotations") or {}
        if not isinstance(annotations, dict):
            raise RegistryProtocolError(f"{where} has annotations that are not an object")
        platform = None
        raw_platform = data.get("platform")
        if isinstance(raw_platform, dict):
            platform = Platform(
                os=str(raw_platform.get("os", "")),
                architecture=str(raw_platform.get("architecture", "")),
                variant=raw_platform.get("variant"),
            )
        return cls(
            media_type=str(media_type or ""),
            digest=digest,
            size=size,
            annotations={str(k): str(v) for k, v in annotations.items()},
            platform=platform,
        )


@dataclass(frozen=True)
class Manifest:
    """One manifest exactly as served: its digest is sha256 of `raw`."""

    media_type: str
    digest: str
    raw: bytes = field(repr=False)
    data: dict[str, Any] = field(repr=False)

    @property
    def is_index(self) -> bool:
        """True for an OCI index or a Docker manifest list."""
        if self.media_type in media_types.INDEX_TYPES:
            return True
        # OCI allows omitting mediaType; an index is the thing with `manifests`.
        return not self.media_type and "manifests" in self.data

    @property
    def config_digest(self) -> str | None:
        """The config blob's digest of a single-platform manifest; None for an index."""
        if self.is_index:
            return None
        return Descriptor.from_json(self.data.get("config"), "manifest config").digest

    @property
    def layers(self) -> list[Descriptor]:
        """The layers of a single-platform manifest, base first; empty for an index."""
        return self._descriptors("layers")

    @property
    def children(self) -> list[Descriptor]:
        """Every entry of an index, attestations included; empty for a single manifest."""
        return self._descriptors("manifests") if self.is_index else []

    def platform_children(self) -> list[Descriptor]:
        """The index entries that are runnable images (attestation manifests skipped)."""
        return [child for child in self.children if not child.is_attestation]

    def _descriptors(self, key: str) -> list[Descriptor]:
        entries = self.data.get(key) or []
        if not isinstance(entries, list):
            raise RegistryProtocolError(f"manifest {self.digest}: {key} is not a list")
        return [Descriptor.from_json(entry, f"manifest {self.digest} {key}[{i}]") for i, entry in enumerate(entries)]


@dataclass(frozen=True)
class ImageConfig:
    """The parts of an image config blob that checks look at, plus the whole of it."""

    digest: str
    labels: Mapping[str, str]
    created: str | None
    architecture: str
    os: str
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def from_json(cls, digest: str, data: Any) -> ImageConfig:
        """Build from the decoded config blob `data` whose digest is `digest`."""
        if not isinstance(data, dict):
            raise RegistryProtocolError(f"image config {digest} is not a JSON object")
        inner = data.get("config") or {}
        labels = inner.get("Labels") or {} if isinstance(inner, dict) else {}
        if not isinstance(labels, dict):
            raise RegistryProtocolError(f"image config {digest}: Labels is not an object")
        created = data.get("created")
        return cls(
            digest=digest,
            labels={str(k): str(v) for k, v in labels.items()},
            created=created if isinstance(created, str) else None,
            architecture=str(data.get("architecture", "")),
            os=str(data.get("os", "")),
            raw=data,
        )
