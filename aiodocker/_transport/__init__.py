"""Transport layer: endpoint resolution, context store, TLS, dialers, the HTTP engine.

Imports the stdlib, httptools (and aiohttp, only when the caller brings it) and
the leaves (``exceptions``, ``types``). Nothing above this package knows how
bytes reach the daemon.
"""

from __future__ import annotations

import ssl
from urllib.parse import urlsplit

from .dialers import NamedPipeDialer, SSHDialer, TCPDialer, UnixDialer
from .http import DEFAULT_LIMIT, KEEPALIVE_TIMEOUT, HTTPEngine

__all__ = ["DEFAULT_LIMIT", "KEEPALIVE_TIMEOUT", "HTTPEngine", "open_engine", "split_host_port"]


def split_host_port(address: str, default_port: int) -> tuple[str, int]:
    """Split "host:port" (IPv6 in brackets) into its parts."""
    parts = urlsplit(f"//{address}")
    return parts.hostname or "localhost", parts.port or default_port


def open_engine(
    scheme: str,
    address: str,
    *,
    ssl_context: ssl.SSLContext | None = None,
    description: str = "",
    limit: int = DEFAULT_LIMIT,
    keepalive_timeout: float | None = KEEPALIVE_TIMEOUT,
) -> HTTPEngine:
    """Build the HTTP engine for one endpoint (no I/O happens until the first request).

    ``limit`` and ``keepalive_timeout`` are those of :class:`.http.HTTPEngine`.

    Raises:
        ValueError: the scheme is not one of unix, tcp, ssh, npipe.
    """
    dial: UnixDialer | TCPDialer | SSHDialer | NamedPipeDialer
    if scheme == "unix":
        dial = UnixDialer(address)
    elif scheme == "tcp":
        host, port = split_host_port(address, 2376 if ssl_context else 2375)
        dial = TCPDialer(host, port, ssl_context)
    elif scheme == "ssh":
        parts = urlsplit(address)
        if not parts.hostname:
            raise ValueError(f"ssh address has no host: {address!r}")
        dial = SSHDialer(parts.hostname, user=parts.username, port=parts.port)
    elif scheme == "npipe":
        dial = NamedPipeDialer(address)
    else:
        raise ValueError(f"unsupported transport scheme {scheme!r}")
    return HTTPEngine(
        dial,
        description=description or f"{scheme}://{address}",
        limit=limit,
        keepalive_timeout=keepalive_timeout,
    )
