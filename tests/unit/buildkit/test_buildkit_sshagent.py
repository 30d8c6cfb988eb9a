"""The in-process ssh agent for BuildKit's ssh mounts, and the up-front checks of ssh sources."""

from __future__ import annotations

import shutil
import socket
import struct
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

cryptography = pytest.importorskip("cryptography")

from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature  # noqa: E402

from aiodocker._buildkit.sshagent import (  # noqa: E402
    IDENTITIES_ANSWER,
    REQUEST_IDENTITIES,
    SIGN_REQUEST,
    SIGN_RESPONSE,
    KeyAgent,
    check_ssh_source,
    load_key,
    read_string,
    ssh_string,
)


def write_key(path: Path, key: Any, password: bytes | None = None) -> Path:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            encryption,
        )
    )
    return path


def request(kind: int, body: bytes = b"") -> bytes:
    return ssh_string(bytes([kind]) + body)


def answer_of(agent: KeyAgent, data: bytes) -> bytes:
    out = agent.feed(data)
    (size,) = struct.unpack(">I", out[:4])
    assert len(out) == 4 + size
    return out[4:]


def verify(key: Any, data: bytes, signature: bytes, flags: int) -> str:
    """Check an agent signature with the public key, as sshd does; return its algorithm."""
    algorithm, offset = read_string(signature, 0)
    raw, _ = read_string(signature, offset)
    public = key.public_key()
    if isinstance(key, ed25519.Ed25519PrivateKey):
        public.verify(raw, data)
    elif isinstance(key, rsa.RSAPrivateKey):
        chosen = {b"rsa-sha2-512": hashes.SHA512(), b"rsa-sha2-256": hashes.SHA256()}[algorithm]
        public.verify(raw, data, padding.PKCS1v15(), chosen)
    else:
        r_bytes, offset = read_string(raw, 0)
        s_bytes, _ = read_string(raw, offset)
        der = encode_dss_signature(int.from_bytes(r_bytes, "big"), int.from_bytes(s_bytes, "big"))
        public.verify(der, data, ec.ECDSA(hashes.SHA384()))
    return algorithm.decode()


KEYS: dict[str, Callable[[], Any]] = {
    "ed25519": ed25519.Ed25519PrivateKey.generate,
    "rsa": lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
    "ecdsa384": lambda: ec.generate_private_key(ec.SECP384R1()),
}


@pytest.mark.parametrize("kind", sorted(KEYS))
def test_agent_lists_key_files_and_signs_with_them_verifiably(kind: str, tmp_path: Path) -> None:
    key = KEYS[kind]()
    path = write_key(tmp_path / f"id_{kind}", key)
    agent = KeyAgent([load_key(str(path))])
    listing = answer_of(agent, request(REQUEST_IDENTITIES))
    assert listing[0] == IDENTITIES_ANSWER and struct.unpack(">I", listing[1:5])[0] == 1
    blob, offset = read_string(listing, 5)
    comment, _ = read_string(listing, offset)
    assert comment == str(path).encode()
    expected_blob = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    assert blob == __import__("base64").b64decode(expected_blob.split()[1])
    data = b"session-id-and-userauth-request"
    flags = 4 if kind == "rsa" else 0  # rsa-sha2-512, as OpenSSH asks
    signed = answer_of(
        agent, request(SIGN_REQUEST, ssh_string(blob) + ssh_string(data) + struct.pack(">I", flags))
    )
    assert signed[0] == SIGN_RESPONSE
    signature, _ = read_string(signed, 1)
    algorithm = verify(key, data, signature, flags)
    assert (
        algorithm
        == {"ed25519": "ssh-ed25519", "rsa": "rsa-sha2-512", "ecdsa384": "ecdsa-sha2-nistp384"}[
            kind
        ]
    )


def test_agent_answers_requests_split_and_joined_across_messages(tmp_path: Path) -> None:
    agent = KeyAgent(
        [load_key(str(write_key(tmp_path / "k", ed25519.Ed25519PrivateKey.generate())))]
    )
    both = request(REQUEST_IDENTITIES) + request(99)  # an unknown request gets FAILURE
    assert agent.feed(both[:3]) == b""
    out = agent.feed(both[3:])
    first, offset = read_string(out, 0)
    second, _ = read_string(out, offset)
    assert first[0] == IDENTITIES_ANSWER and second == bytes([5])


def test_agent_refuses_to_sign_for_a_key_it_does_not_hold(tmp_path: Path) -> None:
    agent = KeyAgent(
        [load_key(str(write_key(tmp_path / "k", ed25519.Ed25519PrivateKey.generate())))]
    )
    other = ssh_string(b"ssh-ed25519") + ssh_string(b"\0" * 32)
    out = answer_of(
        agent, request(SIGN_REQUEST, ssh_string(other) + ssh_string(b"x") + struct.pack(">I", 0))
    )
    assert out == bytes([5]) and agent.signatures == 0


def test_bad_ssh_sources_are_refused_up_front_naming_the_fault(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ValueError, match="no-such-key.*No such file"):
        check_ssh_source("default", str(tmp_path / "no-such-key"))
    garbage = tmp_path / "garbage"
    garbage.write_text("not a key")
    with pytest.raises(ValueError, match="garbage: not a private key"):
        check_ssh_source("default", [str(garbage)])
    locked = tmp_path / "locked"
    locked.write_bytes(
        ed25519.Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
    )
    with pytest.raises(ValueError, match="passphrase"):
        check_ssh_source("default", str(locked))
    if shutil.which("ssh-keygen"):  # OpenSSH's own format, encrypted
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "secret", "-f", str(tmp_path / "ossh")],
            check=True,
        )
        with pytest.raises(ValueError, match="passphrase"):
            check_ssh_source("default", str(tmp_path / "ossh"))
    unreadable = write_key(tmp_path / "unreadable", ed25519.Ed25519PrivateKey.generate())
    unreadable.chmod(0)
    if not __import__("os").access(unreadable, __import__("os").R_OK):  # root reads anything
        with pytest.raises(ValueError, match="cannot be read"):
            check_ssh_source("default", str(unreadable))
    dead = tmp_path / "dead.sock"
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(dead))
    listener.close()  # the file stays, nobody listens: a dead agent
    with pytest.raises(ValueError, match="dead.sock does not answer"):
        check_ssh_source("default", str(dead))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    with pytest.raises(ValueError, match="SSH_AUTH_SOCK is not set"):
        check_ssh_source("default", None)
    monkeypatch.setenv("SSH_AUTH_SOCK", str(dead))
    with pytest.raises(ValueError, match="does not answer"):
        check_ssh_source("default", None)


def test_a_live_agent_socket_is_kept_as_a_path(tmp_path: Path) -> None:
    path = tmp_path / "agent.sock"
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(path))
    listener.listen(1)
    try:
        assert check_ssh_source("default", str(path)) == str(path)
    finally:
        listener.close()
