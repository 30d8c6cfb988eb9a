"""Typed progress events from the JSON items of a BuildKit build.

Layer: ``_buildkit``; imports the stdlib, the leaves and :mod:`.control`.

``POST /build?version=2`` streams JSON items. Those with id
``moby.buildkit.trace`` carry a base64 ``StatusResponse`` in ``aux``; the one
with id ``moby.image.id`` carries ``{"ID": ...}``. BuildKit resends a vertex
each time it changes, so :class:`BuildTrace` keeps the state of every vertex
and emits each transition (started, then completed/cached/failed) once. It
does no I/O: ``feed(item) -> events``.
"""

from __future__ import annotations

import base64
import binascii
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, TypeAlias

from ..exceptions import DockerStreamError
from .control import StatusResponse, decode_status_response
from .wire import WireError

TRACE_ID: Final = "moby.buildkit.trace"
IMAGE_ID: Final = "moby.image.id"
LAST_LINES: Final = 10  # log lines kept per vertex for the error of a failed step
_CANCELED: Final = "context canceled"


@dataclass(frozen=True, slots=True)
class VertexStarted:
    """A build step started."""

    digest: str
    name: str
    started: float


@dataclass(frozen=True, slots=True)
class VertexCompleted:
    """A build step finished successfully."""

    digest: str
    name: str
    started: float | None
    completed: float

    @property
    def duration(self) -> float:
        return self.completed - self.started if self.started is not None else 0.0


@dataclass(frozen=True, slots=True)
class VertexCached:
    """A build step was not run: its result came from the build cache."""

    digest: str
    name: str


@dataclass(frozen=True, slots=True)
class VertexFailed:
    """A build step failed (``error`` is BuildKit's message)."""

    digest: str
    name: str
    error: str


@dataclass(frozen=True, slots=True)
class StatusChanged:
    """Progress of one task inside a step (a transfer, an extraction...)."""

    vertex: str
    id: str
    name: str
    current: int
    total: int
    completed: bool


@dataclass(frozen=True, slots=True)
class LogLine:
    """Output of a step: ``stream`` is 1 for stdout, 2 for stderr.

    ``data`` is what BuildKit sent in one message: usually one or more whole
    lines, but a line may be split across messages.
    """

    vertex: str
    stream: int
    data: bytes
    timestamp: float | None


@dataclass(frozen=True, slots=True)
class BuildWarning:
    """A warning of the build (such as a Dockerfile lint finding)."""

    vertex: str
    level: int
    short: str
    detail: tuple[str, ...]
    url: str


@dataclass(frozen=True, slots=True)
class ImageBuilt:
    """The daemon stored the built image."""

    image_id: str


BuildEvent: TypeAlias = (
    VertexStarted
    | VertexCompleted
    | VertexCached
    | VertexFailed
    | StatusChanged
    | LogLine
    | BuildWarning
    | ImageBuilt
)


class _VertexState:
    __slots__ = ("name", "started", "started_sent", "done", "error", "lines", "partial")

    def __init__(self) -> None:
        self.name = ""
        self.started: float | None = None
        self.started_sent = False
        self.done = False
        self.error = ""
        self.lines: deque[str] = deque(maxlen=LAST_LINES)
        self.partial = b""

    def add_log(self, data: bytes) -> None:
        pieces = (self.partial + data).split(b"\n")
        self.partial = pieces.pop()
        for piece in pieces:
            self.lines.append(piece.decode("utf-8", "replace").rstrip("\r"))

    def last_lines(self) -> list[str]:
        lines = list(self.lines)
        if self.partial:
            lines.append(self.partial.decode("utf-8", "replace"))
        return lines[-LAST_LINES:]


class BuildTrace:
    """The state of a BuildKit build, fed with the JSON items of its stream."""

    def __init__(self) -> None:
        self._vertexes: dict[str, _VertexState] = {}
        self._failed: list[str] = []
        self.image_id: str | None = None
        # called with every decoded StatusResponse (the CLI's rawjson progress)
        self.listener: Callable[[StatusResponse], object] | None = None

    def vertex_name(self, digest: str) -> str:
        state = self._vertexes.get(digest)
        return state.name if state is not None else ""

    def feed(self, item: Any) -> list[BuildEvent]:
        """Return the events one JSON item of the build stream brings (often none).

        Raises:
            DockerStreamError: a trace item that is not valid base64 protobuf.
        """
        if not isinstance(item, dict):
            return []
        kind = item.get("id")
        if kind == TRACE_ID:
            return self._trace(item.get("aux"))
        if kind == IMAGE_ID:
            aux = item.get("aux")
            image_id = aux.get("ID") if isinstance(aux, dict) else None
            if isinstance(image_id, str):
                self.image_id = image_id
                return [ImageBuilt(image_id)]
        return []

    def _trace(self, aux: Any) -> list[BuildEvent]:
        try:
            if not isinstance(aux, str):
                raise ValueError("aux is not a string")
            response = decode_status_response(base64.b64decode(aux, validate=True))
        except (ValueError, binascii.Error, WireError) as exc:
            raise DockerStreamError(f"undecodable BuildKit trace item: {exc}") from exc
        if self.listener is not None:
            self.listener(response)
        events: list[BuildEvent] = []
        for vertex in response.vertexes:
            state = self._vertexes.get(vertex.digest)
            if state is None:
                state = self._vertexes[vertex.digest] = _VertexState()
            if vertex.name:
                state.name = vertex.name
            if state.done:
                continue
            if vertex.started is not None:
                state.started = vertex.started
            if vertex.cached:
                state.done = True
                events.append(VertexCached(vertex.digest, state.name))
                continue
            if vertex.started is not None and not state.started_sent:
                state.started_sent = True
                events.append(VertexStarted(vertex.digest, state.name, vertex.started))
            if vertex.error:
                state.done = True
                state.error = vertex.error
                self._failed.append(vertex.digest)
                events.append(VertexFailed(vertex.digest, state.name, vertex.error))
            elif vertex.completed is not None:
                state.done = True
                events.append(
                    VertexCompleted(vertex.digest, state.name, state.started, vertex.completed)
                )
        for status in response.statuses:
            events.append(
                StatusChanged(
                    status.vertex,
                    status.id,
                    status.name,
                    status.current,
                    status.total,
                    status.completed is not None,
                )
            )
        for log in response.logs:
            state = self._vertexes.get(log.vertex)
            if state is None:
                state = self._vertexes[log.vertex] = _VertexState()
            state.add_log(log.msg)
            events.append(LogLine(log.vertex, log.stream, log.msg, log.timestamp))
        for warning in response.warnings:
            events.append(
                BuildWarning(
                    warning.vertex,
                    warning.level,
                    warning.short.decode("utf-8", "replace"),
                    tuple(d.decode("utf-8", "replace") for d in warning.detail),
                    warning.url,
                )
            )
        return events

    def failed_step(self) -> tuple[str, str, list[str]] | None:
        """Return (name, error, last log lines) of the step that failed, if one did.

        Steps cancelled because another one failed are passed over.
        """
        if not self._failed:
            return None
        culprit = next(
            (d for d in self._failed if _CANCELED not in self._vertexes[d].error),
            self._failed[0],
        )
        state = self._vertexes[culprit]
        return state.name, state.error, state.last_lines()

    def explain(
        self, exc: DockerStreamError, source: Callable[[str], str] | None = None
    ) -> DockerStreamError:
        """Return the daemon's build error with the failed step's name and last output.

        ``source`` turns the failed vertex's name into the Dockerfile lines it
        ran (buildx's layout), or "" when it cannot tell; they follow the first line.
        """
        failed = self.failed_step()
        if failed is None:
            return exc
        name, _, lines = failed
        message = f'build step "{name}" failed: {exc.message}'
        snippet = source(name) if source is not None else ""
        if snippet:
            message += "\n" + snippet
        if lines:
            message += "\nlast output of the step:\n" + "\n".join(f"  {line}" for line in lines)
        return DockerStreamError(message, error_detail=exc.error_detail, status=exc.status)
