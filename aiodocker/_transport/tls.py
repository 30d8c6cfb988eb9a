"""Build client-side :class:`ssl.SSLContext` objects from :class:`TLSConfig` paths.

Layer: ``_transport``. Imports only ``aiodocker.exceptions``, sibling
``_transport`` modules and the standard library.
"""

from __future__ import annotations

import ssl

from aiodocker.exceptions import DockerContextTLSError

from .endpoint import TLSConfig

__all__ = ("make_ssl_context",)


class _EncryptedKeyError(Exception):
    """Raised from the password callback: we never prompt for a key passphrase."""


def _refuse_password() -> str:
    raise _EncryptedKeyError


def make_ssl_context(tls: TLSConfig, *, context_name: str | None = None) -> ssl.SSLContext:
    """Return a client SSL context (TLS >= 1.2) for ``tls``.

    With ``verify`` the server certificate and host name are checked against
    ``ca`` only, or against the system trust store when ``ca`` is None. Without
    ``verify`` nothing is checked and ``ca`` is not loaded (as the docker CLI
    does). The client certificate is loaded when ``cert`` and ``key`` are both
    given. Encrypted private keys are refused (never prompted for).

    Raises:
        DockerContextTLSError: a file cannot be read or is not valid PEM, only
            one of cert/key is given, or the key does not match the certificate.
    """
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if tls.verify:
        ctx.check_hostname = True
        ctx.verify_mode = ssl.CERT_REQUIRED
        if tls.ca is not None:
            try:
                ctx.load_verify_locations(cafile=tls.ca)
            except (OSError, ValueError) as exc:
                raise DockerContextTLSError(
                    f"cannot load CA certificate {tls.ca!r}: {exc}", context_name
                ) from exc
        else:
            ctx.load_default_certs(ssl.Purpose.SERVER_AUTH)
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE

    if tls.cert is None and tls.key is None:
        return ctx
    if tls.cert is None:
        raise DockerContextTLSError(
            f"TLS client key {tls.key!r} is given but the client certificate (cert.pem) is missing",
            context_name,
        )
    if tls.key is None:
        raise DockerContextTLSError(
            f"TLS client certificate {tls.cert!r} is given but the client key (key.pem) is missing",
            context_name,
        )
    _load_client_chain(ctx, tls.cert, tls.key, context_name)
    return ctx


def _load_client_chain(ctx: ssl.SSLContext, cert: str, key: str, context_name: str | None) -> None:
    """Load the client certificate and key, naming the file at fault on failure."""
    cert_pem = _read_file(cert, "client certificate", context_name)
    _read_file(key, "client key", context_name)
    try:
        ctx.load_cert_chain(certfile=cert, keyfile=key, password=_refuse_password)
        return
    except _EncryptedKeyError:
        raise DockerContextTLSError(
            f"TLS client key {key!r} is encrypted; encrypted private keys are not supported",
            context_name,
        ) from None
    except (OSError, ValueError) as exc:
        failure: Exception = exc
    # Find out which file is at fault: a certificate that parses alone means the key is bad.
    try:
        probe = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        probe.load_verify_locations(cadata=cert_pem.decode("ascii", errors="ignore"))
    except (OSError, ValueError) as cert_exc:
        raise DockerContextTLSError(
            f"cannot load TLS client certificate {cert!r}: {cert_exc}", context_name
        ) from cert_exc
    raise DockerContextTLSError(
        f"cannot load TLS client key {key!r} (invalid, or it does not match the "
        f"certificate {cert!r}): {failure}",
        context_name,
    ) from failure


def _read_file(path: str, what: str, context_name: str | None) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError as exc:
        raise DockerContextTLSError(
            f"cannot read TLS {what} {path!r}: {exc}", context_name
        ) from exc
