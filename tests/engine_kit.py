"""Where the two Docker engines of the tests genuinely differ.

The classic image store (Engine 20.10 and up to 28 by default) and the containerd image store
(the default of Docker Desktop 4.34+ and Engine 29; `--engine modern`) build, push and list
images differently; a test branches on which one answers, never on the option it was given.
"""

from __future__ import annotations

import functools
import subprocess


@functools.cache
def containerd_store() -> bool:
    """Whether the engine keeps its images in containerd: BuildKit adds a provenance
    attestation, `docker push` sends an OCI index, the image ID is the index digest and
    RepoDigests is set before any push."""
    info = subprocess.run(
        ["docker", "info", "--format", "{{json .DriverStatus}}"], capture_output=True, text=True, timeout=60, check=True
    )
    return "io.containerd.snapshotter" in info.stdout
