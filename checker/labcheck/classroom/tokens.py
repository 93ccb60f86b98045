"""Registry token auth (distribution 2.8): the signing key, the namespace policy, the JWT.

registry:2 with `REGISTRY_AUTH=token` sends clients to our token endpoint; the token it
accepts is a JWT signed RS256 whose header identifies the key, both as an `x5c` chain (our
self-signed certificate, which is also the registry's root certificate bundle) and as a
libtrust `kid` (registry/auth/token/token.go: VerifySigningKey tries x5c, jwk, then kid).
Claims: iss, sub, aud (the registry's service name), exp, nbf, iat, jti and `access`, the
list of {type, name, actions} granted. A learner gets pull and push only in `<id>/...`; the
instructor's grading login gets pull everywhere. Anything else is left out of `access`, and
the registry answers the client 401/denied.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

ISSUER = "labcheck-class"
SERVICE = "labcheck-class-registry"
TOKEN_TTL = 900  # seconds; clients treat tokens as valid at least 60 s
LEARNER_ACTIONS = frozenset({"pull", "push"})
GRADER_ACTIONS = frozenset({"pull"})


@dataclass(frozen=True)
class Access:
    """One `access` entry of a token: actions on a named resource."""

    type: str
    name: str
    actions: tuple[str, ...]

    def claim(self) -> dict[str, object]:
        return {"type": self.type, "name": self.name, "actions": list(self.actions)}


def parse_scope(scope: str) -> Access | None:
    """`repository:alice/app:pull,push` as an Access; None when malformed."""
    kind, _, rest = scope.partition(":")
    name, _, actions = rest.rpartition(":")
    if not kind or not name or not actions:
        return None
    return Access(kind, name, tuple(a for a in actions.split(",") if a))


def grant(user: str, *, grader: bool, requested: Iterable[Access]) -> list[Access]:
    """What `user` may have of what was requested: own namespace for learners, pull for the grader."""
    granted = []
    for want in requested:
        if want.type != "repository":
            continue
        if grader:
            allowed = GRADER_ACTIONS
        elif want.name.startswith(f"{user}/"):
            allowed = LEARNER_ACTIONS
        else:
            allowed = frozenset()
        actions = tuple(a for a in want.actions if a in allowed)
        if actions:
            granted.append(Access(want.type, want.name, actions))
    return granted


def hash_password(password: str, salt: str | None = None) -> tuple[str, str]:
    """(salt, hex digest) of a password.

    The passwords are generated (128 random bits or more), so a fast salted hash is as safe
    as a slow one here, and keeps 500 logins answering in milliseconds.
    """
    salt = salt or secrets.token_hex(16)
    return salt, hashlib.sha256(f"{salt}:{password}".encode()).hexdigest()


def password_matches(password: str, salt: str, digest: str) -> bool:
    return hmac.compare_digest(hash_password(password, salt)[1], digest)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def libtrust_kid(public_key: rsa.RSAPublicKey) -> str:
    """The libtrust key id: base32 of the first 240 bits of sha256(DER SPKI), in 4-char groups."""
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    b32 = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode()
    return ":".join(b32[i : i + 4] for i in range(0, len(b32), 4))


@dataclass(frozen=True, repr=False)
class SigningKey:
    """The token signing key and its self-signed certificate (PEM)."""

    key_pem: bytes
    cert_pem: bytes

    def __repr__(self) -> str:
        return "SigningKey(<hidden>)"


def new_signing_key(now: dt.datetime | None = None) -> SigningKey:
    """A fresh RSA key and a self-signed certificate valid for 30 days."""
    now = now or dt.datetime.now(dt.UTC)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ISSUER)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return SigningKey(key_pem, cert.public_bytes(serialization.Encoding.PEM))


class TokenSigner:
    """Signs access tokens with one key; thread-safe (no mutable state)."""

    def __init__(self, signing: SigningKey, *, issuer: str = ISSUER, service: str = SERVICE) -> None:
        key = serialization.load_pem_private_key(signing.key_pem, password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("the token signing key must be an RSA key")
        self._key = key
        cert = x509.load_pem_x509_certificate(signing.cert_pem)
        self._header = _b64url(
            json.dumps(
                {
                    "typ": "JWT",
                    "alg": "RS256",
                    "kid": libtrust_kid(key.public_key()),
                    "x5c": [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()],
                },
                separators=(",", ":"),
            ).encode()
        )
        self.issuer = issuer
        self.service = service

    def claims(self, subject: str, access: Iterable[Access], *, now: float | None = None) -> dict[str, object]:
        issued = int(now if now is not None else time.time())
        return {
            "iss": self.issuer,
            "sub": subject,
            "aud": self.service,
            "exp": issued + TOKEN_TTL,
            "nbf": issued - 5,
            "iat": issued,
            "jti": secrets.token_hex(16),
            "access": [a.claim() for a in access],
        }

    def sign(self, claims: Mapping[str, object]) -> str:
        payload = _b64url(json.dumps(claims, separators=(",", ":")).encode())
        signing_input = f"{self._header}.{payload}".encode()
        signature = self._key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input.decode()}.{_b64url(signature)}"


def decode_unverified(token: str) -> tuple[dict[str, object], dict[str, object]]:
    """(header, claims) of a JWT, not verified: for tests and diagnostics."""
    head, body, _ = token.split(".")

    def part(text: str) -> dict[str, object]:
        decoded: dict[str, object] = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        return decoded

    return part(head), part(body)
