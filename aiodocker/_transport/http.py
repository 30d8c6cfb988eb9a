"""The lean HTTP/1.1 engine: keep-alive pool, chunked bodies, connection upgrade.

Layer: ``_transport``. The engine is three modules, and this one names what
the rest of the package uses from them:

- ``h1reader``: the sans-I/O response reader (bytes in, head/body/end out);
- ``connection``: one socket's protocol, its body buffer, request bodies;
- ``pool``: the connection pool and the pure retry decision.
"""

from __future__ import annotations

from .base import BodyContent
from .connection import HIGH_WATER, LOW_WATER, MAX_LINE_BYTES, Body, Connection
from .h1reader import MAX_HEAD_BYTES, NO_BODY_STATUSES, Headers, ResponseReader
from .pool import (
    DEFAULT_LIMIT,
    KEEPALIVE_TIMEOUT,
    HTTPEngine,
    Response,
    encode_head,
)
from .retry import RETRY_METHODS, RetryDecision, decide_retry

StreamContent = BodyContent  # the name the engine's content view had

__all__ = [
    "DEFAULT_LIMIT",
    "HIGH_WATER",
    "KEEPALIVE_TIMEOUT",
    "LOW_WATER",
    "MAX_HEAD_BYTES",
    "MAX_LINE_BYTES",
    "NO_BODY_STATUSES",
    "RETRY_METHODS",
    "Body",
    "Connection",
    "HTTPEngine",
    "Headers",
    "Response",
    "ResponseReader",
    "RetryDecision",
    "StreamContent",
    "decide_retry",
    "encode_head",
]
