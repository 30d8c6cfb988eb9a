"""Encoders of the BuildKit trace messages, for feeding the decoder in tests.

Field numbers as in aiodocker/_buildkit/control.py (BuildKit's control.proto).
"""

from __future__ import annotations

import base64
from typing import Any

from aiodocker._buildkit.wire import field_bytes, field_varint


def timestamp(seconds: float) -> bytes:
    whole = int(seconds)
    return field_varint(1, whole) + field_varint(2, round((seconds - whole) * 1e9))


def vertex(
    digest: str,
    name: str = "",
    *,
    cached: bool = False,
    started: float | None = None,
    completed: float | None = None,
    error: str = "",
    inputs: tuple[str, ...] = (),
) -> bytes:
    data = field_bytes(1, digest)
    for item in inputs:
        data += field_bytes(2, item)
    data += field_bytes(3, name) + field_varint(4, int(cached))
    if started is not None:
        data += field_bytes(5, timestamp(started), keep_empty=True)
    if completed is not None:
        data += field_bytes(6, timestamp(completed), keep_empty=True)
    return data + field_bytes(7, error)


def status(
    vertex: str, id: str, *, name: str = "", current: int = 0, total: int = 0, done: bool = False
) -> bytes:
    data = field_bytes(1, id) + field_bytes(2, vertex) + field_bytes(3, name)
    data += field_varint(4, current) + field_varint(5, total)
    data += field_bytes(6, timestamp(1.0), keep_empty=True)
    if done:
        data += field_bytes(8, timestamp(2.0), keep_empty=True)
    return data


def log(vertex: str, msg: bytes, *, stream: int = 1, at: float = 0.0) -> bytes:
    return (
        field_bytes(1, vertex)
        + field_bytes(2, timestamp(at), keep_empty=True)
        + field_varint(3, stream)
        + field_bytes(4, msg)
    )


def warning(vertex: str, short: bytes, *detail: bytes, url: str = "", level: int = 1) -> bytes:
    data = field_bytes(1, vertex) + field_varint(2, level) + field_bytes(3, short)
    for item in detail:
        data += field_bytes(4, item)
    return data + field_bytes(5, url)


def status_response(
    *,
    vertexes: tuple[bytes, ...] = (),
    statuses: tuple[bytes, ...] = (),
    logs: tuple[bytes, ...] = (),
    warnings: tuple[bytes, ...] = (),
) -> bytes:
    data = b""
    for number, items in ((1, vertexes), (2, statuses), (3, logs), (4, warnings)):
        for item in items:
            data += field_bytes(number, item, keep_empty=True)
    return data


def trace_item(**parts: Any) -> dict[str, Any]:
    """A JSON item of the build stream carrying a StatusResponse."""
    encoded = base64.b64encode(status_response(**parts)).decode()
    return {"id": "moby.buildkit.trace", "aux": encoded}
