"""Push a learner's finished Part 7 hub work through the registry API, as their own login.

For the class bench and the class tests: a real `docker push` per learner would take
minutes for a room; this uploads two small images (the same blobs for every learner, so the
registry stores them once) and tags them as the reference solutions do: `version` is the
first release, `next_version` and `latest` the second. Each learner gets a token from the
class token server for their own repository only, as `docker push` would.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx

from labcheck.classroom.state import ClassLogin, ClassState
from labcheck.classroom.tokens import SERVICE
from labcheck.http_transport import http_client
from labcheck.session import lab_context
from labcheck.spec.model import LabSpec

MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"
CONFIG_V1 = "application/vnd.docker.container.image.v1+json"
LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"


def _digest(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


@dataclass(frozen=True)
class Image:
    manifest: bytes
    blobs: tuple[bytes, ...]  # config first, then the layer


def _layer() -> tuple[bytes, bytes]:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        body = b"<h1>Hello from the lab app</h1>\n"
        info = tarfile.TarInfo("app/index.html")
        info.size, info.mtime = len(body), 0
        tar.addfile(info, io.BytesIO(body))
    tar_bytes = raw.getvalue()
    return tar_bytes, gzip.compress(tar_bytes, mtime=0)


def build_image(lab: str, app: str, version: str, created: str) -> Image:
    """A one-layer image labelled as the lab's app; `version` and `created` make it distinct."""
    tar_bytes, layer = _layer()
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "created": created,
            "config": {"Labels": {"io.labcheck.lab": lab, "org.opencontainers.image.title": app}},
            "rootfs": {"type": "layers", "diff_ids": [_digest(tar_bytes)]},
            "history": [{"created": created, "created_by": f"labcheck synthetic {version}"}],
        },
        separators=(",", ":"),
    ).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": MANIFEST_V2,
            "config": {"mediaType": CONFIG_V1, "size": len(config), "digest": _digest(config)},
            "layers": [{"mediaType": LAYER_GZIP, "size": len(layer), "digest": _digest(layer)}],
        },
        separators=(",", ":"),
    ).encode()
    return Image(manifest, (config, layer))


class Pusher:
    """Registry API pushes over one pooled HTTP client, with a learner's bearer token."""

    def __init__(self, state: ClassState, http: httpx.Client) -> None:
        self.state = state
        self.http = http
        self.base = f"http://{state.address}"

    def token(self, login: ClassLogin, repository: str) -> str:
        response = self.http.get(
            self.state.token_url,
            params={"service": SERVICE, "scope": f"repository:{repository}:pull,push"},
            auth=(login.user, login.password),
        )
        response.raise_for_status()
        return str(response.json()["token"])

    def push(self, token: str, repository: str, image: Image, tags: Sequence[str]) -> None:
        auth = {"Authorization": f"Bearer {token}"}
        for blob in image.blobs:
            started = self.http.post(f"{self.base}/v2/{repository}/blobs/uploads/", headers=auth)
            started.raise_for_status()
            location = started.headers["Location"]
            url = httpx.URL(location if location.startswith("http") else f"{self.base}{location}")
            done = self.http.put(
                url.copy_merge_params({"digest": _digest(blob)}),  # keep the upload's own _state
                content=blob,
                headers={**auth, "Content-Type": "application/octet-stream"},
            )
            done.raise_for_status()
        for tag in tags:
            put = self.http.put(
                f"{self.base}/v2/{repository}/manifests/{tag}",
                content=image.manifest,
                headers={**auth, "Content-Type": MANIFEST_V2},
            )
            put.raise_for_status()


def learner_values(spec: LabSpec, state: ClassState, learner: str) -> dict[str, str]:
    """The learner's rendered values (app, version, next_version, namespace...)."""
    return lab_context(spec, learner=learner, addresses={state.service: state.address}, users={state.service: learner})


def push_finished_work(
    spec: LabSpec, state: ClassState, logins: Sequence[ClassLogin] | None = None, workers: int = 16
) -> int:
    """Push every learner's (or `logins`') finished hub work; the number of learners pushed."""
    chosen = list(state.learners if logins is None else logins)

    def one(pusher: Pusher, login: ClassLogin) -> None:
        values = learner_values(spec, state, login.user)
        repository = f"{values['namespace']}/{values['app']}"
        token = pusher.token(login, repository)
        first = build_image(spec.id, values["app"], values["version"], "2026-01-01T10:00:00Z")
        second = build_image(spec.id, values["app"], values["next_version"], "2026-01-01T11:00:00Z")
        pusher.push(token, repository, first, [values["version"]])
        pusher.push(token, repository, second, [values["next_version"], "latest"])

    limits = httpx.Limits(max_connections=workers, max_keepalive_connections=workers)
    with http_client(timeout=30.0, limits=limits) as http, ThreadPoolExecutor(max_workers=workers) as pool:
        pusher = Pusher(state, http)
        list(pool.map(lambda lg: one(pusher, lg), chosen))
    return len(chosen)
