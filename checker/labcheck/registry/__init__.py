"""Read-only registry access: digests, tags, manifests and image configs over the v2 API."""

from labcheck.registry.auth import Challenge, Credentials, credentials_for, parse_challenge
from labcheck.registry.client import RegistryClient, probe
from labcheck.registry.manifests import Descriptor, ImageConfig, Manifest, Platform

__all__ = [
    "Challenge",
    "Credentials",
    "Descriptor",
    "ImageConfig",
    "Manifest",
    "Platform",
    "RegistryClient",
    "credentials_for",
    "parse_challenge",
    "probe",
]
