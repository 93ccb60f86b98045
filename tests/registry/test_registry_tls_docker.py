"""HTTPS to a real registry:2: certificates are verified, against the system's trust store.

The registry serves TLS with a certificate for localhost signed by a CA the test makes. A
client that does not trust that CA must refuse it (we could not grade: RegistryUnreachable),
one that trusts it (SSL_CERT_FILE, as OpenSSL and the Docker CLI read it) must get in, and
plain HTTP to the TLS port must say that the host speaks HTTPS.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from testcontainers.core.container import DockerContainer

from labcheck.environment.services import free_port
from labcheck.errors import RegistryProtocolError, RegistryUnreachable
from labcheck.http_transport import tls_context
from labcheck.registry import RegistryClient

pytestmark = pytest.mark.docker


def _certificate(
    subject: str, key: ec.EllipticCurvePrivateKey, issuer: x509.Certificate | None, signer: ec.EllipticCurvePrivateKey
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.subject if issuer else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(hours=1))
    )
    if issuer is None:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    else:
        alt = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        builder = builder.add_extension(x509.SubjectAlternativeName(alt), critical=False)
    return builder.sign(signer, hashes.SHA256())


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def tls_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    """(port, CA file) of a registry:2 serving HTTPS on 127.0.0.1."""
    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("labcheck test CA", ca_key, None, ca_key)
    server = _certificate("localhost", server_key, ca, ca_key)
    ca_file = tmp_path_factory.mktemp("tls") / "ca.pem"
    ca_file.write_bytes(_pem(ca))
    key_pem = server_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    port = free_port()
    container = (
        DockerContainer("registry:2")
        .with_kwargs(labels={"io.labcheck.test": "tls"})
        .with_copy_into_container(_pem(server), "/certs/server.pem")
        .with_copy_into_container(key_pem, "/certs/server.key")
        .with_env("REGISTRY_HTTP_TLS_CERTIFICATE", "/certs/server.pem")
        .with_env("REGISTRY_HTTP_TLS_KEY", "/certs/server.key")
    )
    container.ports["5000/tcp"] = ("127.0.0.1", port)  # type: ignore[assignment]
    container.start()
    try:
        _wait_for_tls(port, ca_file)
        yield port, ca_file
    finally:
        container.get_wrapped_container().remove(force=True, v=True)


def _wait_for_tls(port: int, ca_file: Path) -> None:
    import ssl
    import time

    import httpx

    context = ssl.create_default_context(cafile=str(ca_file))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"https://localhost:{port}/v2/", verify=context, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError("the TLS registry did not answer")


@pytest.fixture
def fresh_trust(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """The process-wide TLS context rebuilt for the test's trust settings, and after it."""
    tls_context.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    tls_context.cache_clear()


def test_an_untrusted_certificate_is_refused(tls_registry: tuple[int, Path], fresh_trust: pytest.MonkeyPatch) -> None:
    port, _ = tls_registry
    with RegistryClient(f"localhost:{port}", insecure=False) as client, pytest.raises(RegistryUnreachable) as info:
        client.ping()
    assert "CERTIFICATE_VERIFY_FAILED" in info.value.message or "certificate verify failed" in info.value.message


def test_a_trusted_certificate_lets_us_in(tls_registry: tuple[int, Path], fresh_trust: pytest.MonkeyPatch) -> None:
    port, ca_file = tls_registry
    fresh_trust.setenv("SSL_CERT_FILE", str(ca_file))
    with RegistryClient(f"localhost:{port}", insecure=False) as client:
        client.ping()
        assert client.list_tags("nothing/here") is None  # a real answer: the repository is unknown


def test_plain_http_to_the_tls_port_says_it_speaks_https(tls_registry: tuple[int, Path]) -> None:
    port, _ = tls_registry
    # localhost defaults to plain HTTP (the lab's registries); this one only speaks TLS
    with RegistryClient(f"localhost:{port}") as client, pytest.raises(RegistryProtocolError, match="speaks HTTPS"):
        client.ping()
