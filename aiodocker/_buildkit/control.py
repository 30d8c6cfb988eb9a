"""``moby.buildkit.v1.StatusResponse``: the build trace the daemon streams.

Layer: ``_buildkit``; imports the stdlib and :mod:`.wire`.

Field numbers are those of BuildKit's ``api/services/control/control.proto``
(messages ``StatusResponse``, ``Vertex``, ``VertexStatus``, ``VertexLog``,
``VertexWarning``) and of ``google/protobuf/timestamp.proto``; only the fields
listed here are read, every other one is skipped:

    StatusResponse: vertexes=1 statuses=2 logs=3 warnings=4 (all repeated)
    Vertex:         digest=1 inputs=2 name=3 cached=4 started=5 completed=6 error=7
    VertexStatus:   ID=1 vertex=2 name=3 current=4 total=5 timestamp=6 started=7 completed=8
    VertexLog:      vertex=1 timestamp=2 stream=3 msg=4
    VertexWarning:  vertex=1 level=2 short=3 detail=4 (repeated) url=5
    Timestamp:      seconds=1 nanos=2
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .wire import as_bytes, as_int64, as_str, as_uint, iter_fields


@dataclass(frozen=True, slots=True)
class Vertex:
    digest: str = ""
    inputs: tuple[str, ...] = ()
    name: str = ""
    cached: bool = False
    started: float | None = None
    completed: float | None = None
    error: str = ""


@dataclass(frozen=True, slots=True)
class VertexStatus:
    id: str = ""
    vertex: str = ""
    name: str = ""
    current: int = 0
    total: int = 0
    timestamp: float | None = None
    started: float | None = None
    completed: float | None = None


@dataclass(frozen=True, slots=True)
class VertexLog:
    vertex: str = ""
    timestamp: float | None = None
    stream: int = 0
    msg: bytes = b""


@dataclass(frozen=True, slots=True)
class VertexWarning:
    vertex: str = ""
    level: int = 0
    short: bytes = b""
    detail: tuple[bytes, ...] = ()
    url: str = ""


@dataclass(frozen=True, slots=True)
class StatusResponse:
    vertexes: list[Vertex] = field(default_factory=list)
    statuses: list[VertexStatus] = field(default_factory=list)
    logs: list[VertexLog] = field(default_factory=list)
    warnings: list[VertexWarning] = field(default_factory=list)


def _timestamp(data: bytes) -> float:
    seconds = nanos = 0
    for number, _, value in iter_fields(data):
        if number == 1:
            seconds = as_int64(as_uint(value))
        elif number == 2:
            nanos = as_int64(as_uint(value))
    return seconds + nanos / 1e9


def _vertex(data: bytes) -> Vertex:
    values: dict[str, object] = {}
    inputs: list[str] = []
    for number, _, value in iter_fields(data):
        if number == 1:
            values["digest"] = as_str(value)
        elif number == 2:
            inputs.append(as_str(value))
        elif number == 3:
            values["name"] = as_str(value)
        elif number == 4:
            values["cached"] = bool(as_uint(value))
        elif number == 5:
            values["started"] = _timestamp(as_bytes(value))
        elif number == 6:
            values["completed"] = _timestamp(as_bytes(value))
        elif number == 7:
            values["error"] = as_str(value)
    return Vertex(inputs=tuple(inputs), **values)  # type: ignore[arg-type]


def _status(data: bytes) -> VertexStatus:
    values: dict[str, object] = {}
    for number, _, value in iter_fields(data):
        if number == 1:
            values["id"] = as_str(value)
        elif number == 2:
            values["vertex"] = as_str(value)
        elif number == 3:
            values["name"] = as_str(value)
        elif number == 4:
            values["current"] = as_int64(as_uint(value))
        elif number == 5:
            values["total"] = as_int64(as_uint(value))
        elif number == 6:
            values["timestamp"] = _timestamp(as_bytes(value))
        elif number == 7:
            values["started"] = _timestamp(as_bytes(value))
        elif number == 8:
            values["completed"] = _timestamp(as_bytes(value))
    return VertexStatus(**values)  # type: ignore[arg-type]


def _log(data: bytes) -> VertexLog:
    values: dict[str, object] = {}
    for number, _, value in iter_fields(data):
        if number == 1:
            values["vertex"] = as_str(value)
        elif number == 2:
            values["timestamp"] = _timestamp(as_bytes(value))
        elif number == 3:
            values["stream"] = as_int64(as_uint(value))
        elif number == 4:
            values["msg"] = as_bytes(value)
    return VertexLog(**values)  # type: ignore[arg-type]


def _warning(data: bytes) -> VertexWarning:
    values: dict[str, object] = {}
    detail: list[bytes] = []
    for number, _, value in iter_fields(data):
        if number == 1:
            values["vertex"] = as_str(value)
        elif number == 2:
            values["level"] = as_int64(as_uint(value))
        elif number == 3:
            values["short"] = as_bytes(value)
        elif number == 4:
            detail.append(as_bytes(value))
        elif number == 5:
            values["url"] = as_str(value)
    return VertexWarning(detail=tuple(detail), **values)  # type: ignore[arg-type]


def decode_status_response(data: bytes) -> StatusResponse:
    """Decode one ``StatusResponse``.

    Raises:
        WireError: the bytes are not a well-formed message.
    """
    response = StatusResponse()
    for number, _, value in iter_fields(data):
        if number == 1:
            response.vertexes.append(_vertex(as_bytes(value)))
        elif number == 2:
            response.statuses.append(_status(as_bytes(value)))
        elif number == 3:
            response.logs.append(_log(as_bytes(value)))
        elif number == 4:
            response.warnings.append(_warning(as_bytes(value)))
    return response
