"""What a registry returns, as frozen dataclasses: manifests, descriptors and image configs.

Everything is checked as it is built: a digest that is not one, a field of the wrong type or
an image config that is not a shallow JSON object is a RegistryProtocolError, never a crash
further on. Strings a check may show (labels, dates) are made printable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from labcheck.errors import RegistryProtocolError
from labcheck.registry import media_types
from labcheck.text import printable
from labcheck.untrusted import loads

#: Docker's annotation on the attestation manifests buildx adds to an index.
REFERENCE_TYPE_ANNOTATION = "vnd.docker.reference.type"
ATTESTATION_MANIFEST = "attestation-manifest"
#: A content digest (OCI image spec): `algorithm:encoded`.
DIGEST = re.compile(r"(?P<algorithm>[a-z0-9]+(?:[+._-][a-z0-9]+)*):(?P<hex>[a-zA-Z0-9=_-]+)")
#: An image config is a few KiB (history and all); more is not an image config.
MAX_CONFIG_BYTES = 4 * 1024 * 1024


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
        if not DIGEST.fullmatch(digest):
            raise RegistryProtocolError(f"{where} has a digest that is not one: {digest[:100]!r}")
        annotations = data.get("annotations") or {}
        if not isinstance(annotations, dict):
            raise RegistryProtocolError(f"{where} has annotations that are not an object")
        platform = None
        raw_platform = data.get("platform")
        if isinstance(raw_platform, dict):
            variant = raw_platform.get("variant")
            platform = Platform(
                os=printable(str(raw_platform.get("os", ""))),
                architecture=printable(str(raw_platform.get("architecture", ""))),
                variant=printable(variant) if isinstance(variant, str) and variant else None,
            )
        return cls(
            media_type=str(media_type or ""),
            digest=digest,
            size=size,
            annotations={printable(str(k)): printable(str(v)) for k, v in annotations.items()},
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
    def parse(cls, digest: str, raw: bytes) -> ImageConfig:
        """The one reader of image config blobs: `raw` is the blob `digest` (already verified).

        At most MAX_CONFIG_BYTES, JSON nested at most untrusted.MAX_JSON_DEPTH deep, a JSON
        object whose `config` is an object (or null), `Labels` an object of strings (or
        null), `created`, `architecture` and `os` strings when present. Anything else is a
        RegistryProtocolError naming the digest and what is wrong.
        """
        if len(raw) > MAX_CONFIG_BYTES:
            raise RegistryProtocolError(f"image config {digest} is {len(raw)} bytes, more than {MAX_CONFIG_BYTES}")
        try:
            data = loads(raw)
        except ValueError as exc:
            raise RegistryProtocolError(f"image config {digest} is not JSON ({exc})") from exc
        return cls.from_json(digest, data)

    @classmethod
    def from_json(cls, digest: str, data: Any) -> ImageConfig:
        """Build from the decoded config blob `data` whose digest is `digest` (see parse)."""
        if not isinstance(data, dict):
            raise RegistryProtocolError(f"image config {digest} is not a JSON object")
        inner = data.get("config")
        if inner is None:
            inner = {}
        if not isinstance(inner, dict):
            raise RegistryProtocolError(f"image config {digest}: config is not an object")
        labels = inner.get("Labels")
        if labels is None:
            labels = {}
        if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
            raise RegistryProtocolError(f"image config {digest}: Labels is not an object of strings")
        text = {}
        for name in ("created", "architecture", "os"):
            value = data.get(name)
            if value is not None and not isinstance(value, str):
                raise RegistryProtocolError(f"image config {digest}: {name} is not a string")
            text[name] = printable(value) if value is not None else None
        return cls(
            digest=digest,
            labels={printable(k): printable(v) for k, v in labels.items()},
            created=text["created"],
            architecture=text["architecture"] or "",
            os=text["os"] or "",
            raw=data,
        )
