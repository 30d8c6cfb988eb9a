"""make_ssl_context: trust, client certificates, and errors that name the file at fault."""

from __future__ import annotations

import asyncio
import contextlib
import random
import shutil
import ssl
import subprocess
import tracemalloc
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from aiodocker._transport.dialers import TCPDialer
from aiodocker._transport.endpoint import TLSConfig
from aiodocker._transport.tls import make_ssl_context
from aiodocker._transport.tlsstream import BIO_PIECE, TLSTransport
from aiodocker.exceptions import DockerContextTLSError

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI")


@dataclass(frozen=True)
class Material:
    ca: Path
    cert: Path
    key: Path
    other_key: Path
    encrypted_key: Path
    invalid: Path
    server_cert: Path
    server_key: Path


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def material(tmp_path_factory: pytest.TempPathFactory) -> Material:
    """A CA, a client cert signed by it, a non-matching key, an encrypted key, bad PEM.

    Made as Docker's documented recipe makes them (docs.docker.com/engine/security/
    protect-access): a CA from ``openssl req -x509`` without a keyUsage extension,
    certificates with only the extendedKeyUsage (and the server's subjectAltName)
    from an extfile. Go's crypto/x509 (dockerd, the docker CLI) accepts that;
    OpenSSL's strict X.509 mode, on in ``ssl.create_default_context()`` since
    Python 3.13, does not.
    """
    d = tmp_path_factory.mktemp("tls")
    (d / "client.ext").write_text("extendedKeyUsage = clientAuth\n")
    openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca-key.pem",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=test-ca",
        cwd=d,
    )
    openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "key.pem",
        "-out",
        "client.csr",
        "-subj",
        "/CN=client",
        cwd=d,
    )
    openssl(
        "x509",
        "-req",
        "-in",
        "client.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca-key.pem",
        "-CAcreateserial",
        "-out",
        "cert.pem",
        "-days",
        "2",
        "-extfile",
        "client.ext",
        cwd=d,
    )
    openssl(
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-out",
        "other-key.pem",
        cwd=d,
    )
    openssl(
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-aes256",
        "-pass",
        "pass:secret",
        "-out",
        "enc-key.pem",
        cwd=d,
    )
    openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server-key.pem",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
        cwd=d,
    )
    (d / "san.ext").write_text(
        "subjectAltName = IP:127.0.0.1,DNS:localhost\nextendedKeyUsage = serverAuth\n"
    )
    openssl(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca-key.pem",
        "-CAcreateserial",
        "-out",
        "server-cert.pem",
        "-days",
        "2",
        "-extfile",
        "san.ext",
        cwd=d,
    )
    invalid = d / "invalid.pem"
    invalid.write_text(
        "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n"
    )
    return Material(
        ca=d / "ca.pem",
        cert=d / "cert.pem",
        key=d / "key.pem",
        other_key=d / "other-key.pem",
        encrypted_key=d / "enc-key.pem",
        invalid=invalid,
        server_cert=d / "server-cert.pem",
        server_key=d / "server-key.pem",
    )


def common_name(subject: Any) -> str:
    """Return the CN of a subject as ``getpeercert``/``get_ca_certs`` report it."""
    return str(dict(rdn[0] for rdn in subject)["commonName"])


def config(
    ca: Path | None = None, cert: Path | None = None, key: Path | None = None, verify: bool = True
) -> TLSConfig:
    return TLSConfig(
        ca=None if ca is None else str(ca),
        cert=None if cert is None else str(cert),
        key=None if key is None else str(key),
        verify=verify,
    )


def test_context_is_client_side_with_tls_1_2_minimum(material: Material) -> None:
    ctx = make_ssl_context(config(ca=material.ca))
    assert ctx.protocol == ssl.PROTOCOL_TLS_CLIENT
    assert ctx.minimum_version >= ssl.TLSVersion.TLSv1_2


def test_verify_checks_hostname_and_trusts_only_the_given_ca(material: Material) -> None:
    ctx = make_ssl_context(config(ca=material.ca))
    assert ctx.check_hostname is True
    assert ctx.verify_mode == ssl.CERT_REQUIRED
    cas = ctx.get_ca_certs()
    assert len(cas) == 1
    assert common_name(cas[0]["subject"]) == "test-ca"


def test_verify_without_ca_uses_system_trust_store() -> None:
    ctx = make_ssl_context(config())
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    assert ctx.cert_store_stats() == ssl.create_default_context().cert_store_stats()


def test_verify_false_disables_hostname_check_and_verification(material: Material) -> None:
    ctx = make_ssl_context(config(ca=material.invalid, verify=False))
    assert ctx.check_hostname is False
    assert ctx.verify_mode == ssl.CERT_NONE


def test_client_cert_and_key_are_loaded(material: Material) -> None:
    ctx = make_ssl_context(config(ca=material.ca, cert=material.cert, key=material.key))
    assert isinstance(ctx, ssl.SSLContext)


def test_client_cert_is_loaded_without_verification(material: Material) -> None:
    ctx = make_ssl_context(config(cert=material.cert, key=material.key, verify=False))
    assert ctx.verify_mode == ssl.CERT_NONE


def test_cert_without_key_raises_naming_the_missing_key(material: Material) -> None:
    with pytest.raises(DockerContextTLSError, match="key") as info:
        make_ssl_context(config(ca=material.ca, cert=material.cert), context_name="c1")
    assert "client key (key.pem) is missing" in info.value.message
    assert info.value.context_name == "c1"


def test_key_without_cert_raises_naming_the_missing_certificate(material: Material) -> None:
    with pytest.raises(DockerContextTLSError) as info:
        make_ssl_context(config(ca=material.ca, key=material.key))
    assert "client certificate (cert.pem) is missing" in info.value.message


def test_invalid_ca_pem_raises_naming_the_file(material: Material) -> None:
    with pytest.raises(DockerContextTLSError) as info:
        make_ssl_context(config(ca=material.invalid), context_name="ctx")
    assert str(material.invalid) in info.value.message
    assert info.value.context_name == "ctx"
    assert isinstance(info.value.__cause__, (OSError, ValueError))


def test_missing_ca_file_raises_naming_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "ca.pem"
    with pytest.raises(DockerContextTLSError) as info:
        make_ssl_context(config(ca=missing))
    assert str(missing) in info.value.message
    assert isinstance(info.value.__cause__, OSError)


def test_invalid_client_cert_raises_naming_the_cert(material: Material) -> None:
    with pytest.raises(DockerContextTLSError) as info:
        make_ssl_context(config(ca=material.ca, cert=material.invalid, key=material.key))
    assert f"client certificate {str(material.invalid)!r}" in info.value.message
    assert info.value.__cause__ is not None


def test_invalid_client_key_raises_naming_the_key(material: Material) -> None:
    with pytest.raises(DockerContextTLSError) as info:
        make_ssl_context(config(ca=material.ca, cert=material.cert, key=material.invalid))
    assert f"client key {str(material.invalid)!r}" in info.value.message
    assert info.value.__cause__ is not None


def test_key_not_matching_cert_raises_naming_the_key(material: Material) -> None:
    with pytest.raises(DockerContextTLSError) as info:
        make_ssl_context(config(ca=material.ca, cert=material.cert, key=material.other_key))
    assert str(material.other_key) in info.value.message
    assert "does not match" in info.value.message


def test_encrypted_key_is_refused_without_prompting(material: Material) -> None:
    with pytest.raises(DockerContextTLSError, match="encrypted") as info:
        make_ssl_context(config(ca=material.ca, cert=material.cert, key=material.encrypted_key))
    assert str(material.encrypted_key) in info.value.message


def test_unreadable_client_key_raises_naming_the_file(material: Material, tmp_path: Path) -> None:
    missing = tmp_path / "gone.pem"
    with pytest.raises(DockerContextTLSError) as info:
        make_ssl_context(config(ca=material.ca, cert=material.cert, key=missing))
    assert str(missing) in info.value.message
    assert isinstance(info.value.__cause__, OSError)


def test_error_messages_never_contain_key_material(material: Material) -> None:
    secret = material.key.read_text().splitlines()[1]
    with pytest.raises(DockerContextTLSError) as info:
        make_ssl_context(config(ca=material.ca, cert=material.key, key=material.key))
    assert secret not in str(info.value) and secret not in repr(info.value)


async def handshake(material: Material, client: ssl.SSLContext) -> str:
    """Run a mutual-TLS server on loopback; return the client CN it saw.

    Like dockerd, the server checks the client certificate against the CA
    without OpenSSL's strict X.509 mode.
    """
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(str(material.server_cert), str(material.server_key))
    server_ctx.load_verify_locations(str(material.ca))
    server_ctx.verify_mode = ssl.CERT_REQUIRED
    seen: list[str] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peercert")
        seen.append(common_name(peer["subject"]))
        writer.write(b"ok")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=server_ctx)
    port = server.sockets[0].getsockname()[1]
    try:
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=client, server_hostname="127.0.0.1"
        )
        assert await reader.read() == b"ok"
        writer.close()
        await writer.wait_closed()
    finally:
        server.close()
        await server.wait_closed()
    return seen[0]


async def test_mutual_tls_handshake_with_ca_and_client_cert(material: Material) -> None:
    client = make_ssl_context(config(ca=material.ca, cert=material.cert, key=material.key))
    assert await handshake(material, client) == "client"


async def test_verification_rejects_a_server_from_another_ca(material: Material) -> None:
    client = make_ssl_context(config(ca=material.cert, cert=material.cert, key=material.key))
    with pytest.raises(ssl.SSLCertVerificationError):
        await handshake(material, client)


def test_context_does_not_apply_strict_x509_checks(material: Material) -> None:
    ctx = make_ssl_context(config(ca=material.ca, cert=material.cert, key=material.key))
    assert not ctx.verify_flags & ssl.VERIFY_X509_STRICT


async def test_strict_x509_checks_would_reject_the_docker_recipe_material(
    material: Material,
) -> None:
    # What a context from ssl.create_default_context() does on Python >= 3.13: it
    # refuses the CA of Docker's recipe, which the client must therefore not do.
    client = make_ssl_context(config(ca=material.ca, cert=material.cert, key=material.key))
    client.verify_flags |= ssl.VERIFY_X509_STRICT
    with pytest.raises(ssl.SSLCertVerificationError, match="key usage"):
        await handshake(material, client)


class Received(asyncio.Protocol):
    """Counts (or keeps) what a TLS connection delivers, until the server closes."""

    def __init__(self, keep: bool) -> None:
        self.keep = keep
        self.size = 0
        self.chunks: list[bytes] = []
        self.ended = asyncio.get_running_loop().create_future()

    def data_received(self, data: bytes) -> None:
        self.size += len(data)
        if self.keep:
            self.chunks.append(data)

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ended.done():
            self.ended.set_result(None)


async def arrival(received: Received, size: int) -> None:
    while received.size < size:
        await asyncio.sleep(0.005)


async def serve_tls(
    material: Material, send: Callable[[asyncio.StreamWriter], Awaitable[None]]
) -> tuple[asyncio.Server, int]:
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(str(material.server_cert), str(material.server_key))

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await send(writer)
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=server_ctx)
    return server, server.sockets[0].getsockname()[1]


async def test_the_peers_close_notify_ends_the_stream(material: Material) -> None:
    """A peer that closes TLS and waits for our close_notify (asyncio's server waits 30 s)
    is seen to end at once: the stream does not wait for the peer's socket to close."""

    async def send(writer: asyncio.StreamWriter) -> None:
        writer.write(b"last words")
        await writer.drain()

    server, port = await serve_tls(material, send)
    try:
        dialer = TCPDialer("127.0.0.1", port, make_ssl_context(config(ca=material.ca)))
        received = await dialer(lambda: Received(keep=True))
        await asyncio.wait_for(received.ended, 5)
    finally:
        server.close()
        await server.wait_closed()
    assert received.chunks == [b"last words"]


async def test_tls_reads_allocate_only_what_arrived(material: Material) -> None:
    """Reading a record costs its size, not a read buffer's: a 256 KiB allocation per
    read, shrunk to the few bytes that came, fragmented the heap (the TLS soak's RSS
    grew 35 % in two minutes while the bytes in use stayed flat)."""
    connected = asyncio.Event()
    go = asyncio.Event()
    finish = asyncio.Event()

    async def send(writer: asyncio.StreamWriter) -> None:
        connected.set()
        await go.wait()
        for _ in range(200):
            writer.write(b"x" * 100)
            await writer.drain()
            await asyncio.sleep(0)
        await finish.wait()  # the server's own shutdown reads are not ours to count

    server, port = await serve_tls(material, send)
    try:
        dialer = TCPDialer("127.0.0.1", port, make_ssl_context(config(ca=material.ca)))
        received = await dialer(lambda: Received(keep=False))
        await connected.wait()
        await asyncio.sleep(0.05)  # TLS 1.3 session tickets come after the handshake
        tracemalloc.start()
        try:
            go.set()
            await asyncio.wait_for(arrival(received, 200 * 100), 10)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
            finish.set()
        await asyncio.wait_for(received.ended, 10)
    finally:
        finish.set()
        server.close()
        await server.wait_closed()
    assert received.size == 200 * 100
    assert peak < 64 * 1024, f"{peak} bytes allocated at the peak to receive 200 records of 100 bytes"


async def test_concurrent_tls_connections_each_receive_exactly_their_bytes(material: Material) -> None:
    """The read buffers are shared by a thread's connections: what each delivers is its own."""
    payloads = [bytes([65 + n]) * 300_000 + random.randbytes(700_000) for n in range(4)]
    served: list[int] = []
    go = asyncio.Event()

    async def send(writer: asyncio.StreamWriter) -> None:
        payload = payloads[len(served)]  # the n-th connection the server accepts
        served.append(len(served))
        await go.wait()
        for start in range(0, len(payload), 50_000):  # interleaved with the other connections
            writer.write(payload[start : start + 50_000])
            await writer.drain()
            await asyncio.sleep(0)

    server, port = await serve_tls(material, send)
    try:
        dialer = TCPDialer("127.0.0.1", port, make_ssl_context(config(ca=material.ca)))
        connections = []
        for _ in payloads:  # one by one, so the server's n-th connection is our n-th
            connections.append(await dialer(lambda: Received(keep=True)))
            while len(served) < len(connections):
                await asyncio.sleep(0.01)
        go.set()
        await asyncio.wait_for(asyncio.gather(*(c.ended for c in connections)), 30)
    finally:
        server.close()
        await server.wait_closed()
    for payload, connection in zip(payloads, connections, strict=True):
        assert b"".join(connection.chunks) == payload


class Wire:
    """The socket under a TLSTransport, in memory: what the client writes goes to a
    server-side SSLObject, and the size of each piece written is kept."""

    def __init__(self, material: Material) -> None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(material.server_cert), str(material.server_key))
        self.incoming, self.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.server = context.wrap_bio(self.incoming, self.outgoing, server_side=True)
        self.sizes: list[int] = []

    def write(self, data: bytes) -> None:
        self.sizes.append(len(data))
        self.incoming.write(data)

    def is_closing(self) -> bool:
        return False

    def close(self) -> None:
        pass


class CountingBIO:
    """Stands in for a TLSTransport's incoming BIO and keeps the size of each write.

    The SSLObject holds the real BIO; only the transport's own writes pass here."""

    def __init__(self, bio: ssl.MemoryBIO) -> None:
        self.bio = bio
        self.sizes: list[int] = []

    def write(self, data: bytes | memoryview) -> int:
        self.sizes.append(len(data))
        return self.bio.write(data)


def deliver(raw: asyncio.BufferedProtocol, data: bytes) -> None:
    """Hand ciphertext to the transport as the loop does: full socket-buffer reads."""
    buffer = raw.get_buffer(-1)
    for start in range(0, len(data), len(buffer)):
        piece = data[start : start + len(buffer)]
        buffer[: len(piece)] = piece
        raw.buffer_updated(len(piece))


async def test_tls_moves_bounded_pieces_through_its_bios(material: Material) -> None:
    """A 1 MiB write reaches the socket and 256 KiB socket reads reach OpenSSL in
    pieces of at most 64 KiB. Whole pieces made allocations above glibc's 128 KiB
    mmap threshold (the BIOs' buffers and the ciphertext read out of them); freeing
    such a chunk raises the threshold, and later transient buffers of that size then
    come from the heap and fragment it."""
    wire = Wire(material)
    received = Received(keep=True)
    tls = TLSTransport(make_ssl_context(config(ca=material.ca)), "127.0.0.1", received)
    raw = tls.protocol()
    raw.connection_made(wire)  # type: ignore[arg-type]
    handshake = asyncio.ensure_future(tls.handshake())
    await asyncio.sleep(0)
    while not handshake.done():
        with contextlib.suppress(ssl.SSLWantReadError):
            wire.server.do_handshake()
        deliver(raw, wire.outgoing.read())
        await asyncio.sleep(0)
    await handshake

    upload = random.randbytes(2**20)
    wire.sizes.clear()
    tls.write(upload)
    assert max(wire.sizes) <= BIO_PIECE, f"ciphertext written in pieces of {sorted(set(wire.sizes))}"
    plain = bytearray()
    with contextlib.suppress(ssl.SSLWantReadError):
        while chunk := wire.server.read(2**20):
            plain += chunk
    assert plain == upload

    download = random.randbytes(2**20)
    counting = CountingBIO(tls._incoming)  # type: ignore[arg-type]
    tls._incoming = counting  # type: ignore[assignment]
    assert wire.server.write(download) == len(download)
    deliver(raw, wire.outgoing.read())
    assert max(counting.sizes) <= BIO_PIECE, f"ciphertext fed in pieces of {sorted(set(counting.sizes))}"
    assert b"".join(received.chunks) == download
