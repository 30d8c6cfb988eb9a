"""A TLS daemon with a bad certificate is refused clearly, and never spoken to in plain text.

The daemon is our own throwaway TLS listener (a thread with a blocking socket): it
peeks at the first bytes of every connection, so a plain-text fall-back would show.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import aiodocker
from aiodocker._transport.endpoint import TLSConfig
from aiodocker._transport.tls import make_ssl_context
from aiodocker.exceptions import DockerConnectionError

NOW = datetime.datetime.now(datetime.timezone.utc)
DAY = datetime.timedelta(days=1)


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def make_ca(tmp: Path, label: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(label))
        .issuer_name(_name(label))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - DAY)
        .not_valid_after(NOW + DAY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    path = tmp / f"{label}.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key, cert, path


def make_server_cert(
    tmp: Path, ca_key, ca_cert, *, san: x509.GeneralName, expired: bool = False
) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    before, after = (NOW - 3 * DAY, NOW - DAY) if expired else (NOW - DAY, NOW + DAY)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("daemon"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(before)
        .not_valid_after(after)
        .add_extension(x509.SubjectAlternativeName([san]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "server.pem", tmp / "server-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


VERSION = json.dumps({"ApiVersion": "1.41", "Version": "20.10"}).encode()
ANSWER = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
    % (len(VERSION), VERSION)
)


@dataclass
class TLSListener:
    context: ssl.SSLContext
    first_bytes: list[bytes] = field(default_factory=list)
    sock: socket.socket = field(default_factory=lambda: socket.create_server(("127.0.0.1", 0)))

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    def serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                try:
                    self.first_bytes.append(conn.recv(5, socket.MSG_PEEK))
                    with self.context.wrap_socket(conn, server_side=True) as tls:
                        tls.recv(65536)
                        tls.sendall(ANSWER)
                except (OSError, ssl.SSLError):
                    pass


@pytest.fixture
def tls_daemon(tmp_path) -> Iterator:
    listeners: list[TLSListener] = []

    threads: list[threading.Thread] = []

    def start(cert: Path, key: Path) -> TLSListener:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        listener = TLSListener(context)
        thread = threading.Thread(target=listener.serve, daemon=True)
        thread.start()
        listeners.append(listener)
        threads.append(thread)
        return listener

    yield start
    for listener in listeners:
        listener.sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        listener.sock.close()
    for thread in threads:
        thread.join(5)
        assert not thread.is_alive()


IP = x509.IPAddress(ipaddress.ip_address("127.0.0.1"))
CASES = {
    "valid": dict(san=IP),
    "other-host": dict(san=x509.DNSName("other.example")),
    "expired": dict(san=IP, expired=True),
    "unknown-ca": dict(san=IP, other_ca=True),
}
EXPECTED = {
    "other-host": "IP address mismatch",
    "expired": "certificate has expired",
    "unknown-ca": "unable to get local issuer certificate",
}


@pytest.mark.parametrize("case", CASES)
async def test_bad_server_certificate_is_refused_without_plain_text(tmp_path, tls_daemon, case):
    options = dict(CASES[case])
    ca_key, ca_cert, ca_path = make_ca(tmp_path, "trusted-ca")
    if options.pop("other_ca", False):
        ca_key, ca_cert, _ = make_ca(tmp_path, "stranger-ca")
    cert, key = make_server_cert(tmp_path, ca_key, ca_cert, **options)
    listener = tls_daemon(cert, key)
    context = make_ssl_context(TLSConfig(ca=str(ca_path), cert=None, key=None))
    docker = aiodocker.Docker(url=f"tcp://127.0.0.1:{listener.port}", ssl_context=context)
    try:
        if case == "valid":
            assert (await docker.version())["ApiVersion"] == "1.41"
        else:
            with pytest.raises(DockerConnectionError) as info:
                await docker.version()
            assert "TLS handshake" in str(info.value) and EXPECTED[case] in str(info.value)
    finally:
        await docker.close()
    assert listener.first_bytes, "the client never connected"
    # every connection opened with a TLS handshake record, none with plain HTTP
    assert all(first[:1] == b"\x16" for first in listener.first_bytes), listener.first_bytes
