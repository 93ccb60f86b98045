"""The ECR stand-in's front: moto's ECR API, and a registry front that makes registry:2 act like ECR.

This file runs INSIDE the ECR stand-in's container (`motoserver/moto`, or the offline kit's
image of the same name), copied there and started by labcheck (environment/ecr.py) as
`python3 /labcheck/ecr_front.py`. It imports the standard library and moto only; labcheck
itself never imports it (its tests do, to run it in-process).

One process, four listeners, all in the container's network namespace:

- moto's server on 127.0.0.1 (ECR_MOTO_PORT): the ECR API itself, in memory;
- the API front (ECR_API_PORT, published as the lab's `ecr-api`): passes every ECR call to
  moto, except that it issues its own login tokens (GetAuthorizationToken: valid for
  ECR_TOKEN_LIFETIME seconds, 12 hours as on AWS), gives PutImage the manifest's real digest,
  and removes from the registry what BatchDeleteImage and DeleteRepository --force delete;
- the registry front (ECR_REGISTRY_PORT, published as the lab's `ecr`): what `docker login`,
  `push` and `pull` talk to. It checks the login, asks the ECR API before anything is stored
  (no repository: `name unknown`; an existing tag in an IMMUTABLE repository: `tag invalid`),
  passes the registry protocol through to registry:2 and records each pushed manifest with
  PutImage, so that `aws ecr describe-images` sees what was pushed. Tags and manifests are
  read from the ECR API: an image deleted there is gone from the registry too;
- registry:2 (a second container sharing this network namespace) on 127.0.0.1
  (ECR_STORE): it stores blobs and manifests, and nobody but this front reaches it.

The registry front logs every request it answers on stdout in registry:2's own format
(logrus text, `auth.user.name` included), so the lab reads who pushed from this log the way
it reads any lab registry's.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import http.client
import json
import logging
import os
import re
import secrets
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:
    from moto.server import ThreadedMotoServer

TARGET = "AmazonEC2ContainerRegistry_V20150921"
USER = "AWS"  # ECR's login user, whatever the account
TWELVE_HOURS = 12 * 3600
CHUNK = 1 << 16
_HOP_BY_HOP = frozenset(
    ["connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding"]
)
# The distribution spec's repository name grammar, then what follows it.
_NAME = r"(?P<name>[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)"
_MANIFEST = re.compile(rf"^/v2/{_NAME}/manifests/(?P<ref>[^/]+)$")
_UPLOAD = re.compile(rf"^/v2/{_NAME}/blobs/uploads/(?P<session>[^/]*)$")
_BLOB = re.compile(rf"^/v2/{_NAME}/blobs/(?P<digest>[a-z0-9]+:[a-fA-F0-9]+)$")
_TAGS = re.compile(rf"^/v2/{_NAME}/tags/list$")

# What ECR answers, word for word as the docker CLI prints it ("name unknown: ...").
NAME_UNKNOWN = "The repository with name '{name}' does not exist in the registry with id '{account}'"
TAG_INVALID = (
    "The image tag '{tag}' already exists in the '{name}' repository and cannot be overwritten "
    "because the repository is immutable."
)
TOKEN_EXPIRED = "Your authorization token has expired. Reauthenticate and try again."


@dataclass(frozen=True)
class Config:
    """The front's settings, from its environment (labcheck sets them when it starts it)."""

    region: str
    account: str
    token_lifetime: int
    api_port: int
    registry_port: int | None  # None: an ECR API without a registry
    store: str  # host:port of the registry:2 behind the registry front
    moto_port: int
    public_registry: str  # the registry's address as learners type it (localhost:5002)
    bind: str = "0.0.0.0"  # the fronts' address: every interface of the container

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Config:
        registry = env.get("ECR_REGISTRY_PORT", "")
        return cls(
            region=env.get("ECR_REGION", "us-east-1"),
            account=env.get("MOTO_ACCOUNT_ID", "123456789012"),
            token_lifetime=int(env.get("ECR_TOKEN_LIFETIME", str(TWELVE_HOURS))),
            api_port=int(env.get("ECR_API_PORT", "5003")),
            registry_port=int(registry) if registry else None,
            store=env.get("ECR_STORE", "127.0.0.1:5001"),
            moto_port=int(env.get("ECR_MOTO_PORT", "5010")),
            public_registry=env.get("ECR_PUBLIC_REGISTRY", "localhost:5002"),
            bind=env.get("ECR_BIND", "0.0.0.0"),
        )


class Tokens:
    """Login passwords that say when they expire, signed with a key that never leaves this process.

    A password is `<payload>.<hmac>`, the payload base64 JSON with its expiry: the registry
    front tells a password it issued and that expired from one it never issued.
    """

    def __init__(self, lifetime: int, clock: Callable[[], float] = time.time) -> None:
        self.lifetime = lifetime
        self.clock = clock
        self._key = secrets.token_bytes(32)

    def issue(self) -> tuple[str, float]:
        """A new password and when it expires (seconds since the epoch)."""
        expires = self.clock() + self.lifetime
        claims = json.dumps({"exp": expires, "nonce": secrets.token_hex(16)}).encode()
        payload = base64.urlsafe_b64encode(claims).decode().rstrip("=")
        return f"{payload}.{self._sign(payload)}", expires

    def check(self, password: str) -> str:
        """ "valid", "expired" or "invalid" (not issued here)."""
        payload, _, signature = password.rpartition(".")
        if not payload or not hmac.compare_digest(signature, self._sign(payload)):
            return "invalid"
        try:
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            expires = float(claims["exp"])
        except (ValueError, KeyError, TypeError, binascii.Error):
            return "invalid"
        return "valid" if self.clock() < expires else "expired"

    def _sign(self, payload: str) -> str:
        return hmac.new(self._key, payload.encode(), hashlib.sha256).hexdigest()


class Ecr:
    """The ECR API calls the fronts make themselves, to moto on its loopback port."""

    def __init__(self, moto_port: int, region: str) -> None:
        self.moto_port = moto_port
        self.region = region
        # set once moto answers: the fronts serve (logins, the registry's /v2/) before that
        self.ready = threading.Event()

    def wait(self) -> None:
        """Return once moto answers (it takes a second to import and start)."""
        if not self.ready.wait(60):
            raise ConnectionError("the ECR API (moto) did not start")

    def call(self, operation: str, payload: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        """(HTTP status, JSON answer) of one ECR operation."""
        self.wait()
        day = datetime.now(UTC).strftime("%Y%m%d")
        headers = {
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": f"{TARGET}.{operation}",
            # moto reads the region from the credential scope; it checks no signature
            "Authorization": f"AWS4-HMAC-SHA256 Credential=ecr-front/{day}/{self.region}/ecr/aws4_request, "
            "SignedHeaders=host, Signature=0",
        }
        conn = http.client.HTTPConnection("127.0.0.1", self.moto_port, timeout=30)
        try:
            conn.request("POST", "/", body=json.dumps(payload).encode(), headers=headers)
            response = conn.getresponse()
            data = json.loads(response.read() or b"{}")
        finally:
            conn.close()
        return response.status, data if isinstance(data, dict) else {}

    @staticmethod
    def error_code(answer: Mapping[str, Any]) -> str:
        return str(answer.get("__type", "")).rsplit("#", 1)[-1]

    def repository(self, name: str) -> dict[str, Any] | None:
        """The repository as DescribeRepositories describes it, or None."""
        status, answer = self.call("DescribeRepositories", {"repositoryNames": [name]})
        repos = answer.get("repositories") or []
        return repos[0] if status == 200 and repos else None

    def image(self, name: str, reference: str) -> dict[str, Any] | None:
        """The image a tag or digest names (DescribeImages), or None."""
        key = "imageDigest" if ":" in reference else "imageTag"
        status, answer = self.call("DescribeImages", {"repositoryName": name, "imageIds": [{key: reference}]})
        details = answer.get("imageDetails") or []
        return details[0] if status == 200 and details else None

    def image_ids(self, name: str, *, tagged_only: bool = False) -> list[dict[str, str]]:
        """Every (digest, tag) pair of the repository (ListImages)."""
        payload: dict[str, Any] = {"repositoryName": name}
        if tagged_only:
            payload["filter"] = {"tagStatus": "TAGGED"}
        status, answer = self.call("ListImages", payload)
        return list(answer.get("imageIds") or []) if status == 200 else []

    def record_push(self, name: str, manifest: bytes, media_type: str, reference: str) -> None:
        """PutImage for a manifest the registry accepted: the ECR API now lists it."""
        payload = {
            "repositoryName": name,
            "imageManifest": manifest.decode("utf-8"),
            "imageManifestMediaType": media_type,
            "imageDigest": "sha256:" + hashlib.sha256(manifest).hexdigest(),
        }
        if ":" not in reference:
            payload["imageTag"] = reference
        elif self.image(name, reference) is not None:
            return  # a manifest pushed by digest (an index's child) that is already listed
        status, answer = self.call("PutImage", payload)
        # the same manifest under the same tag again: already recorded
        if status != 200 and self.error_code(answer) != "ImageAlreadyExistsException":
            raise RuntimeError(f"PutImage {name}:{reference} failed: {answer}")


class Store:
    """The registry:2 behind the front."""

    def __init__(self, address: str) -> None:
        host, _, port = address.rpartition(":")
        self.host, self.port = host, int(port)

    def request(
        self,
        method: str,
        target: str,
        headers: Mapping[str, str],
        body: bytes | Iterator[bytes] | None = None,
        *,
        chunked: bool = False,
    ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=300)
        conn.request(method, target, body=body, headers=dict(headers), encode_chunked=chunked)
        return conn, conn.getresponse()

    def delete_manifest(self, name: str, digest: str) -> None:
        conn, response = self.request("DELETE", f"/v2/{name}/manifests/{digest}", {"Host": "store"})
        response.read()
        conn.close()


class Front:
    """What both fronts share: the settings, the ECR API, the store and the token key."""

    def __init__(self, config: Config, tokens: Tokens | None = None) -> None:
        self.config = config
        self.ecr = Ecr(config.moto_port, config.region)
        self.store = Store(config.store)
        self.tokens = tokens or Tokens(config.token_lifetime)
        self.pushing = threading.Lock()  # check, store and record a manifest as one step

    def login_answer(self) -> dict[str, Any]:
        """GetAuthorizationToken's answer: base64 `AWS:<password>`, its expiry, the registry."""
        password, expires = self.tokens.issue()
        return {
            "authorizationData": [
                {
                    "authorizationToken": base64.b64encode(f"{USER}:{password}".encode()).decode(),
                    "expiresAt": expires,
                    "proxyEndpoint": f"http://{self.config.public_registry}",
                }
            ]
        }

    def forget(self, name: str, digests: set[str]) -> None:
        """Remove from the store the manifests the ECR API no longer has."""
        for digest in sorted(digests):
            if self.ecr.image(name, digest) is None:
                self.store.delete_manifest(name, digest)


def _log(fields: Mapping[str, object]) -> None:
    """One line in registry:2's logrus text format."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    parts = [f'time="{stamp}"', "level=info"]
    for key, value in fields.items():
        text = str(value)
        parts.append(f"{key}={json.dumps(text)}" if (" " in text or not text or '"' in text) else f"{key}={text}")
    print(" ".join(parts), flush=True)


class _Handler(BaseHTTPRequestHandler):
    """Shared plumbing: reading bodies, relaying answers, quiet default logging."""

    protocol_version = "HTTP/1.1"
    # What a request line that is not HTTP at all (a TLS ClientHello) is answered with: with the
    # default (HTTP/0.9) the error page goes out with no status line, and containerd, which
    # tries HTTPS first on localhost, never sees "an HTTP answer" and never falls back to HTTP.
    default_request_version = "HTTP/1.0"
    front: Front

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def body_stream(self) -> tuple[bytes | Iterator[bytes] | None, dict[str, str], bool]:
        """The request body to pass on, the headers that describe it, and whether it is chunked."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._chunks(), {"Transfer-Encoding": "chunked"}, True
        length = int(self.headers.get("Content-Length") or 0)
        if not length:
            return None, {"Content-Length": "0"} if self.command in ("PUT", "POST", "PATCH") else {}, False
        return self._blocks(length), {"Content-Length": str(length)}, False

    def read_body(self) -> bytes:
        body, _, _ = self.body_stream()
        if body is None:
            return b""
        return body if isinstance(body, bytes) else b"".join(body)

    def _blocks(self, length: int) -> Iterator[bytes]:
        while length > 0:
            block = self.rfile.read(min(CHUNK, length))
            if not block:
                return
            length -= len(block)
            yield block

    def _chunks(self) -> Iterator[bytes]:
        while True:
            size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):  # trailers
                    pass
                return
            yield self.rfile.read(size)
            self.rfile.readline()

    def passed_headers(self) -> dict[str, str]:
        return {
            k: v
            for k, v in self.headers.items()
            if k.lower() not in _HOP_BY_HOP and k.lower() not in ("authorization", "content-length")
        }

    def relay(self, response: http.client.HTTPResponse) -> int:
        """Send an upstream answer on, streaming its body; its status."""
        self.send_response(response.status)
        length = response.getheader("Content-Length")
        for key, value in response.getheaders():
            if key.lower() not in _HOP_BY_HOP and key.lower() not in ("content-length", "server", "date"):
                self.send_header(key, value)
        if self.command == "HEAD" or response.status in (204, 304):
            if length is not None:
                self.send_header("Content-Length", length)
            self.end_headers()
            response.read()
        elif length is not None:
            self.send_header("Content-Length", length)
            self.end_headers()
            while block := response.read(CHUNK):
                self.wfile.write(block)
        else:
            data = response.read()
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        return response.status

    def send_json(self, status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> int:
        data = json.dumps(body).encode()
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        return status


class ApiHandler(_Handler):
    """The ECR API front: moto, with ECR's logins and the registry kept in step."""

    def do_POST(self) -> None:
        body = self.read_body()
        operation = self.headers.get("X-Amz-Target", "").rpartition(".")[2]
        if operation == "GetAuthorizationToken":
            self.send_json(200, self.front.login_answer(), {"Content-Type": "application/x-amz-json-1.1"})
            return
        request = _json(body)
        if operation == "PutImage" and request.get("imageManifest") and not request.get("imageDigest"):
            # moto would invent a digest; ECR's is the sha256 of the manifest as sent
            request["imageDigest"] = "sha256:" + hashlib.sha256(str(request["imageManifest"]).encode()).hexdigest()
            body = json.dumps(request).encode()
        before: set[str] = set()
        name = str(request.get("repositoryName", ""))
        if operation == "DeleteRepository" and request.get("force") and name:
            before = {i["imageDigest"] for i in self.front.ecr.image_ids(name) if i.get("imageDigest")}
        status, answer = self._to_moto(body)
        if status == 200 and name and self.front.config.registry_port is not None:
            if operation == "DeleteRepository":
                for digest in sorted(before):
                    self.front.store.delete_manifest(name, digest)
            elif operation == "BatchDeleteImage":
                self.front.forget(name, {i["imageDigest"] for i in _json(answer).get("imageIds") or ()})

    def do_GET(self) -> None:
        self._to_moto(None)

    def _to_moto(self, body: bytes | None) -> tuple[int, bytes]:
        """Pass the request to moto and its answer back; (status, answer body)."""
        headers = self.passed_headers()
        if "authorization" in (k.lower() for k in self.headers):
            headers["Authorization"] = self.headers["Authorization"]
        if body is not None:
            headers["Content-Length"] = str(len(body))
        self.front.ecr.wait()
        conn = http.client.HTTPConnection("127.0.0.1", self.front.config.moto_port, timeout=60)
        try:
            conn.request(self.command, self.path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
        finally:
            conn.close()
        self.send_response(response.status)
        for key, value in response.getheaders():
            if key.lower() not in _HOP_BY_HOP and key.lower() not in ("content-length", "server", "date"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        return response.status, data


def _json(data: bytes) -> dict[str, Any]:
    try:
        value = json.loads(data or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


class RegistryHandler(_Handler):
    """The registry front: ECR's login and refusals, registry:2 behind, the ECR API kept in step."""

    user = ""

    def do_GET(self) -> None:
        self._serve()

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _serve(self) -> None:
        started = time.monotonic()
        self.user = ""
        try:
            status = self._route()
        except (ConnectionError, http.client.HTTPException, OSError) as exc:
            status = self._error(502, "UNAVAILABLE", f"the registry behind the ECR front did not answer: {exc}")
        except RuntimeError as exc:  # the ECR API refused to record a push the store took
            status = self._error(500, "UNKNOWN", f"the ECR stand-in could not record the image: {exc}")
        _log(
            {
                "msg": "response completed",
                "http.request.id": uuid.uuid4(),
                "http.request.method": self.command,
                "http.request.uri": self.path,
                "http.response.status": status,
                "http.response.duration": f"{(time.monotonic() - started) * 1000:.3f}ms",
                **({"auth.user.name": self.user} if self.user else {}),
            }
        )

    def _error(self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> int:
        if self.command in ("PUT", "POST", "PATCH"):
            self.close_connection = True  # the body we did not read must not be taken for the next request
        return self.send_json(status, {"errors": [{"code": code, "message": message}]}, headers)

    def _route(self) -> int:
        path = urlsplit(self.path).path
        refused = self._authenticate()
        if refused:
            return refused
        if path in ("/v2", "/v2/"):
            return self._forward()
        if match := _TAGS.match(path):
            return self._tags(match["name"]) if self.command in ("GET", "HEAD") else self._unsupported()
        if match := _MANIFEST.match(path):
            return self._manifest(match["name"], match["ref"])
        if match := _UPLOAD.match(path):
            if not match["session"] and (missing := self._name_unknown(match["name"])):
                return missing
            return self._forward()
        if match := _BLOB.match(path):
            if self.command not in ("GET", "HEAD"):
                return self._unsupported()
            return self._name_unknown(match["name"]) or self._forward()
        return self._error(404, "NOT_FOUND", "The requested resource was not found.")

    def _authenticate(self) -> int | None:
        """None when the request carries a valid ECR login; else the refusal's status."""
        registry = self.front.config.public_registry
        realm = {"WWW-Authenticate": f'Basic realm="http://{registry}/",service="ecr.amazonaws.com"'}
        scheme, _, encoded = self.headers.get("Authorization", "").partition(" ")
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (ValueError, binascii.Error):
            user = password = ""
        if scheme.lower() != "basic" or user != USER or not password:
            return self._error(401, "UNAUTHORIZED", "Not Authorized", realm)
        verdict = self.front.tokens.check(password)
        if verdict == "expired":
            return self._error(403, "DENIED", TOKEN_EXPIRED)
        if verdict != "valid":  # a token from another registry, or none at all
            return self._error(400, "DENIED", "Your authorization token is invalid.")
        self.user = user
        return None

    def _name_unknown(self, name: str) -> int | None:
        """None when the ECR API has the repository; else the `name unknown` refusal's status."""
        return None if self.front.ecr.repository(name) is not None else self._unknown(name)

    def _unknown(self, name: str) -> int:
        return self._error(404, "NAME_UNKNOWN", NAME_UNKNOWN.format(name=name, account=self.front.config.account))

    def _unsupported(self) -> int:
        return self._error(405, "UNSUPPORTED", "The operation is unsupported.")

    def _tags(self, name: str) -> int:
        if missing := self._name_unknown(name):
            return missing
        tags = sorted({i["imageTag"] for i in self.front.ecr.image_ids(name, tagged_only=True) if i.get("imageTag")})
        query = parse_qs(urlsplit(self.path).query)
        if last := (query.get("last") or [""])[0]:
            tags = [t for t in tags if t > last]
        headers = {}
        if count := (query.get("n") or [""])[0]:
            n = int(count) if count.isdigit() else len(tags)
            if len(tags) > n > 0:
                headers["Link"] = f'</v2/{name}/tags/list?n={n}&last={tags[n - 1]}>; rel="next"'
            tags = tags[:n]
        return self.send_json(200, {"name": name, "tags": tags}, headers)

    def _manifest(self, name: str, reference: str) -> int:
        repository = self.front.ecr.repository(name)
        if repository is None:
            return self._unknown(name)
        if self.command in ("GET", "HEAD"):
            if ":" in reference:  # by digest: the store has every manifest pushed, an index's children too
                return self._forward()
            image = self.front.ecr.image(name, reference)
            if image is None:
                return self._error(404, "MANIFEST_UNKNOWN", "Requested image not found")
            return self._forward(f"/v2/{name}/manifests/{image['imageDigest']}")
        if self.command != "PUT":
            return self._unsupported()
        manifest = self.read_body()
        with self.front.pushing:
            immutable = repository.get("imageTagMutability") == "IMMUTABLE"
            if immutable and ":" not in reference and self.front.ecr.image(name, reference) is not None:
                return self._error(400, "TAG_INVALID", TAG_INVALID.format(tag=reference, name=name))
            headers = {**self.passed_headers(), "Content-Length": str(len(manifest))}
            conn, response = self.front.store.request("PUT", self.path, headers, manifest)
            try:
                if response.status == 201:
                    media_type = self.headers.get("Content-Type", "").split(";")[0].strip()
                    self.front.ecr.record_push(name, manifest, media_type, reference)
                return self.relay(response)
            finally:
                conn.close()

    def _forward(self, target: str | None = None) -> int:
        """Pass the request on to registry:2 (at `target`, else the same path) and its answer back."""
        body, described, chunked = self.body_stream()
        headers = {**self.passed_headers(), **described}
        conn, response = self.front.store.request(self.command, target or self.path, headers, body, chunked=chunked)
        try:
            return self.relay(response)
        finally:
            conn.close()


def serve(front: Front) -> list[ThreadingHTTPServer]:
    """Start the API front and (with a registry port) the registry front; the servers."""
    servers = []
    ports: list[tuple[int, type[_Handler]]] = [(front.config.api_port, ApiHandler)]
    if front.config.registry_port is not None:
        ports.append((front.config.registry_port, RegistryHandler))
    for port, handler in ports:
        bound = type(handler.__name__, (handler,), {"front": front})
        server = ThreadingHTTPServer((front.config.bind, port), bound)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True, name=f"front-{port}").start()
        servers.append(server)
    return servers


def start_moto(port: int) -> ThreadedMotoServer:
    """moto's server on 127.0.0.1:port, in a thread of this process."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log of its own
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    return server


def main() -> None:
    config = Config.from_env(os.environ)
    # PID 1 of a container gets no default SIGTERM handling: `docker stop` must not wait 10 s
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    front = Front(config)
    serve(front)  # logins and the registry's /v2/ need no moto: `labcheck up` is done sooner
    start_moto(config.moto_port)
    front.ecr.ready.set()
    front.ecr.call("DescribeRepositories", {})  # moto loads its ECR backend on the first call
    _log({"msg": "ECR stand-in ready", "api": config.api_port, "registry": config.registry_port or "none"})
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
