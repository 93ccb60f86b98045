"""Media types of the manifests and configs a registry serves, and the Accept list to send."""

from __future__ import annotations

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"

#: Every manifest type we understand, indexes first, as crane and regctl send them. All of them
#: stop registry:2 from rewriting to schema1 or silently serving one child of a list.
ACCEPT: tuple[str, ...] = (OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST)
ACCEPT_HEADER = ", ".join(ACCEPT)

INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_MANIFEST_LIST})
