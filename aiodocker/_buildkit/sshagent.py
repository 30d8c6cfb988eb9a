"""ssh sources of a BuildKit build: agent sockets, and key files served by an in-process agent.

Layer: ``_buildkit``; imports the stdlib (``cryptography`` only when key files
are given: the ``aiodocker[ssh-keys]`` extra).

``RUN --mount=type=ssh`` reaches the client's agent over the session's
``ForwardAgent`` stream: the bytes of the ssh agent protocol travel in
``BytesMessage``s. An id maps to one agent socket, or to key files; for key
files this module *is* the agent (as buildx runs one), answering the two
requests an ssh client makes (draft-miller-ssh-agent):

    message:  uint32 length, byte type, contents
    11 REQUEST_IDENTITIES              -> 12 IDENTITIES_ANSWER: uint32 n, n x (string blob, string comment)
    13 SIGN_REQUEST: string blob, string data, uint32 flags
                                       -> 14 SIGN_RESPONSE: string signature
    anything else                      -> 5 FAILURE

A signature is ``string algorithm, string bytes``; RSA signs with SHA-512 or
SHA-256 when the flags ask (4, 2), ECDSA's bytes are ``mpint r, mpint s``.

Every source is checked when the build is set up (:func:`check_ssh_sources`):
a missing or dead socket, an unreadable or encrypted key is a ``ValueError``
before anything is sent.
"""

from __future__ import annotations

import base64
import os
import socket
import stat
import struct
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

AGENT_FAILURE: Final = 5
REQUEST_IDENTITIES: Final = 11
IDENTITIES_ANSWER: Final = 12
SIGN_REQUEST: Final = 13
SIGN_RESPONSE: Final = 14
RSA_SHA2_256: Final = 2
RSA_SHA2_512: Final = 4
_MAX_MESSAGE: Final = 256 * 1024
_UINT32: Final = struct.Struct(">I")


def ssh_string(data: bytes) -> bytes:
    return _UINT32.pack(len(data)) + data


def ssh_mpint(value: int) -> bytes:
    if value == 0:
        return ssh_string(b"")
    raw = value.to_bytes((value.bit_length() + 8) // 8, "big")  # a leading 0 keeps it positive
    return ssh_string(raw)


def read_string(data: bytes, offset: int) -> tuple[bytes, int]:
    if offset + 4 > len(data):
        raise ValueError("truncated ssh string")
    (size,) = _UINT32.unpack_from(data, offset)
    end = offset + 4 + size
    if end > len(data):
        raise ValueError("truncated ssh string")
    return data[offset + 4 : end], end


class AgentKey:
    """One private key as the agent holds it: its public blob, comment and signer."""

    def __init__(self, key: Any, comment: str) -> None:
        from cryptography.hazmat.primitives import serialization

        self._key = key
        self.comment = comment
        line = key.public_key().public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        )
        self.blob = base64.b64decode(line.split()[1])

    def sign(self, data: bytes, flags: int) -> bytes:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

        key = self._key
        if isinstance(key, ed25519.Ed25519PrivateKey):
            return ssh_string(b"ssh-ed25519") + ssh_string(key.sign(data))
        if isinstance(key, rsa.RSAPrivateKey):
            algorithm: hashes.HashAlgorithm
            if flags & RSA_SHA2_512:
                name, algorithm = b"rsa-sha2-512", hashes.SHA512()
            elif flags & RSA_SHA2_256:
                name, algorithm = b"rsa-sha2-256", hashes.SHA256()
            else:
                name, algorithm = b"ssh-rsa", hashes.SHA1()  # noqa: S303 (the protocol's default)
            return ssh_string(name) + ssh_string(key.sign(data, padding.PKCS1v15(), algorithm))
        if isinstance(key, ec.EllipticCurvePrivateKey):
            size = key.curve.key_size
            curve_hash: hashes.HashAlgorithm = (
                hashes.SHA256()
                if size <= 256
                else hashes.SHA384()
                if size <= 384
                else hashes.SHA512()
            )
            r, s = decode_dss_signature(key.sign(data, ec.ECDSA(curve_hash)))
            name = f"ecdsa-sha2-nistp{size}".encode()
            return ssh_string(name) + ssh_string(ssh_mpint(r) + ssh_mpint(s))
        raise ValueError(f"unsupported key type {type(key).__name__}")


class KeyAgent:
    """An ssh agent holding key files; :meth:`feed` takes request bytes, returns response bytes."""

    def __init__(self, keys: Sequence[AgentKey]) -> None:
        self.keys = list(keys)
        self._buffer = bytearray()
        self.signatures = 0

    def feed(self, data: bytes) -> bytes:
        """Answer every complete request in ``data`` (plus what was buffered)."""
        self._buffer += data
        out = bytearray()
        while len(self._buffer) >= 4:
            (size,) = _UINT32.unpack_from(self._buffer)
            if size > _MAX_MESSAGE:
                raise ValueError(f"ssh agent request of {size} bytes is too large")
            if len(self._buffer) < 4 + size:
                break
            message = bytes(self._buffer[4 : 4 + size])
            del self._buffer[: 4 + size]
            out += ssh_string(self.answer(message))
        return bytes(out)

    def answer(self, message: bytes) -> bytes:
        if not message:
            return bytes([AGENT_FAILURE])
        kind, body = message[0], message[1:]
        if kind == REQUEST_IDENTITIES:
            answer = bytes([IDENTITIES_ANSWER]) + _UINT32.pack(len(self.keys))
            for key in self.keys:
                answer += ssh_string(key.blob) + ssh_string(key.comment.encode())
            return answer
        if kind == SIGN_REQUEST:
            try:
                blob, offset = read_string(body, 0)
                data, offset = read_string(body, offset)
                flags = _UINT32.unpack_from(body, offset)[0] if offset + 4 <= len(body) else 0
            except (ValueError, struct.error):
                return bytes([AGENT_FAILURE])
            for key in self.keys:
                if key.blob == blob:
                    self.signatures += 1
                    return bytes([SIGN_RESPONSE]) + ssh_string(key.sign(data, flags))
        return bytes([AGENT_FAILURE])


def load_key(path: str) -> AgentKey:
    """Read one private key file (OpenSSH or PEM format, not encrypted).

    Raises:
        ValueError: the file is missing, unreadable, encrypted or not a private key.
        ImportError: ``cryptography`` is not installed.
    """
    try:
        from cryptography.exceptions import UnsupportedAlgorithm
        from cryptography.hazmat.primitives import serialization
    except ImportError as exc:
        raise ImportError(
            f"ssh key file {path}: serving key files needs the cryptography package "
            "(pip install 'aiodocker[ssh-keys]'), or give an agent socket instead"
        ) from exc
    try:
        with open(path, "rb") as file:
            data = file.read()
    except OSError as exc:
        raise ValueError(f"ssh key file {path} cannot be read: {exc.strerror or exc}") from None
    loaders: list[Callable[[bytes, None], Any]] = [
        serialization.load_ssh_private_key,
        serialization.load_pem_private_key,
    ]
    if b"OPENSSH PRIVATE KEY" not in data:
        loaders.reverse()
    problem = "not a private key"
    for loader in loaders:
        try:
            key = loader(data, None)
        except TypeError:  # a password is needed
            problem = "encrypted with a passphrase (load it into an ssh-agent instead)"
            break
        except UnsupportedAlgorithm as exc:
            problem = f"unsupported ({exc})"
            break
        except (ValueError, NotImplementedError):
            continue
        else:
            return AgentKey(key, path)
    raise ValueError(f"ssh key file {path}: {problem}")


def _check_socket(name: str, path: str) -> str:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(2)
    try:
        probe.connect(path)
    except OSError as exc:
        raise ValueError(
            f"ssh id {name!r}: the agent socket {path} does not answer: {exc.strerror or exc}"
        ) from None
    finally:
        probe.close()
    return path


def check_ssh_source(name: str, source: str | Sequence[str] | None) -> str | KeyAgent:
    """Resolve one ssh id to an agent socket path or a :class:`KeyAgent`, checking it now.

    ``source`` is None (``SSH_AUTH_SOCK``), a socket path, or key file paths.

    Raises:
        ValueError: nothing to forward, a path that is missing, a socket that does
            not answer, a key that cannot be used.
    """
    if source is None or source == "":
        socket_path = os.environ.get("SSH_AUTH_SOCK")
        if not socket_path:
            raise ValueError(f"ssh id {name!r}: no socket given and SSH_AUTH_SOCK is not set")
        return _check_socket(name, socket_path)
    paths = [source] if isinstance(source, (str, os.PathLike)) else list(source)
    paths = [os.fspath(p) for p in paths]
    if not paths:
        raise ValueError(f"ssh id {name!r}: no socket or key file given")
    modes = []
    for path in paths:
        try:
            modes.append(os.stat(path).st_mode)
        except OSError as exc:
            raise ValueError(f"ssh id {name!r}: {path}: {exc.strerror or exc}") from None
    if any(stat.S_ISSOCK(mode) for mode in modes):
        if len(paths) > 1:
            raise ValueError(
                f"ssh id {name!r}: an agent socket cannot be combined with other paths"
            )
        return _check_socket(name, paths[0])
    return KeyAgent([load_key(path) for path in paths])


def check_ssh_sources(
    sources: Mapping[str, str | Sequence[str] | None],
) -> dict[str, str | KeyAgent]:
    """:func:`check_ssh_source` for every id."""
    checked: dict[str, str | KeyAgent] = {}
    for name, source in sources.items():
        if not name:
            raise ValueError("an ssh id cannot be empty")
        checked[name] = check_ssh_source(name, source)
    return checked
