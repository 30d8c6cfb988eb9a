"""BuildKit's control API over ``POST /grpc``: ``Solve`` with any frontend attributes.

Layer: ``_buildkit``; imports the stdlib, ``h2``, the leaves and its siblings.
The caller upgrades ``POST /grpc`` (``Upgrade: h2c``) and hands over the
connection; this module speaks HTTP/2 on it as the gRPC *client* (the daemon
serves BuildKit's controller there, as for ``docker buildx`` on the docker
driver).

``POST /build`` passes BuildKit's frontend a fixed set of attributes; named
contexts (``context:NAME``) are not among them. A build that needs them is
solved here instead, with the same session (``SolveRequest.Session``), and
its trace is turned into the JSON items ``POST /build`` streams, so the rest
of the client sees one shape.

Messages (BuildKit ``api/services/control/control.proto``, ``errdefs/errdefs.proto``,
``solver/pb/ops.proto``; ``google/rpc/status.proto``, ``google/protobuf/any.proto``):

    SolveRequest:  Ref=1 Exporter=3 ExporterAttrs=4 (map) Session=5 Frontend=6
                   FrontendAttrs=7 (map)            map entry: key=1 value=2
    SolveResponse: ExporterResponse=1 (map)
    StatusRequest: Ref=1                            StatusResponse: see :mod:`.control`
    rpc.Status:    code=1 message=2 details=3 (Any: type_url=1 value=2)
    errdefs.Source: info=1 (SourceInfo) ranges=2 (Range)
    SourceInfo:    filename=1 data=2                Range: start=1 end=2 (Position: line=1)
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import struct
import urllib.parse
import uuid
from collections.abc import AsyncIterator, Mapping
from typing import Any, Final

import h2.config
import h2.connection
import h2.events
import h2.exceptions

from ..exceptions import DockerStreamError
from .session import Channel
from .sourcelines import render
from .trace import IMAGE_ID, TRACE_ID
from .wire import WireError, as_bytes, as_str, as_uint, field_bytes, iter_fields

SOLVE: Final = "/moby.buildkit.v1.Control/Solve"
STATUS: Final = "/moby.buildkit.v1.Control/Status"
_PREFIX: Final = struct.Struct(">BI")
_READ_WINDOW: Final = 4 * 1024 * 1024


class SolveError(DockerStreamError):
    """A BuildKit solve failed; ``source`` holds the failing Dockerfile lines (buildx's layout)."""

    def __init__(self, message: str, source: str = "") -> None:
        super().__init__(message)
        self.source = source


def encode_map(number: int, values: Mapping[str, str]) -> bytes:
    return b"".join(
        field_bytes(number, field_bytes(1, key) + field_bytes(2, value), keep_empty=True)
        for key, value in values.items()
    )


def solve_request(
    ref: str,
    session_id: str,
    frontend_attrs: Mapping[str, str],
    exporter_attrs: Mapping[str, str],
) -> bytes:
    """A ``SolveRequest`` for the Dockerfile frontend exporting to the engine's images."""
    return (
        field_bytes(1, ref)
        + field_bytes(3, "moby")
        + encode_map(4, exporter_attrs)
        + field_bytes(5, session_id)
        + field_bytes(6, "dockerfile.v0")
        + encode_map(7, frontend_attrs)
    )


def decode_map(message: bytes, number: int) -> dict[str, str]:
    result: dict[str, str] = {}
    for field_number, _, value in iter_fields(message):
        if field_number != number:
            continue
        key = item = ""
        for entry_number, _, entry in iter_fields(as_bytes(value)):
            if entry_number == 1:
                key = as_str(entry)
            elif entry_number == 2:
                item = as_str(entry)
        result[key] = item
    return result


def _source_json(payload: bytes) -> tuple[str, str, list[int]]:
    document = json.loads(payload)
    info = document.get("info") or {}
    data = base64.b64decode(info.get("data") or "").decode("utf-8", "replace")
    lines = [
        int(position.get("line") or 0)
        for span in document.get("ranges") or []
        for position in (span.get("start") or {}, span.get("end") or {})
    ]
    return str(info.get("filename") or "Dockerfile"), data, [n for n in lines if n > 0]


def _source_proto(payload: bytes) -> tuple[str, str, list[int]]:
    filename, data, lines = "Dockerfile", "", []
    for number, _, value in iter_fields(payload):
        if number == 1:
            for info_number, _, info_value in iter_fields(as_bytes(value)):
                if info_number == 1:
                    filename = as_str(info_value)
                elif info_number == 2:
                    data = as_bytes(info_value).decode("utf-8", "replace")
        elif number == 2:
            for range_number, _, position in iter_fields(as_bytes(value)):
                for position_number, _, line in iter_fields(as_bytes(position)):
                    if position_number == 1 and range_number in (1, 2):
                        lines.append(as_uint(line))
    return filename, data, lines


def source_of_status(details: bytes) -> str:
    """The Dockerfile lines of the first ``errdefs.Source`` in a ``google.rpc.Status``.

    BuildKit sends its error details as ``Any`` messages whose type URL ends in
    ``errdefs.Source+json`` (a JSON body) or ``errdefs.Source`` (protobuf).
    """
    for number, _, value in iter_fields(details):
        if number != 3:
            continue
        type_url, payload = "", b""
        for any_number, _, any_value in iter_fields(as_bytes(value)):
            if any_number == 1:
                type_url = as_str(any_value)
            elif any_number == 2:
                payload = as_bytes(any_value)
        if type_url.endswith("errdefs.Source+json"):
            filename, data, lines = _source_json(payload)
        elif type_url.endswith("errdefs.Source"):
            filename, data, lines = _source_proto(payload)
        else:
            continue
        if data and lines:
            return render(filename, data, min(lines), max(lines))
    return ""


class _Stream:
    def __init__(self) -> None:
        self.messages: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.buffer = bytearray()
        self.trailers: dict[str, str] = {}

    def feed(self, data: bytes) -> None:
        self.buffer += data
        while len(self.buffer) >= _PREFIX.size:
            _, size = _PREFIX.unpack_from(self.buffer)
            if len(self.buffer) < _PREFIX.size + size:
                return
            self.messages.put_nowait(bytes(self.buffer[_PREFIX.size : _PREFIX.size + size]))
            del self.buffer[: _PREFIX.size + size]

    def headers(self, headers: list[Any]) -> None:
        for name, value in headers:
            key = name.decode() if isinstance(name, bytes) else name
            self.trailers[key.lower()] = value.decode() if isinstance(value, bytes) else value


class GrpcClient:
    """gRPC calls to the daemon on the upgraded ``POST /grpc`` connection."""

    def __init__(self, channel: Channel) -> None:
        self._channel = channel
        self._conn = h2.connection.H2Connection(
            config=h2.config.H2Configuration(client_side=True, header_encoding="utf-8")
        )
        self._streams: dict[int, _Stream] = {}
        self._task: asyncio.Task[None] | None = None
        self._window = asyncio.Event()
        self._failure: BaseException | None = None

    def _flush(self) -> None:
        data = self._conn.data_to_send()
        if data:
            self._channel.write(data)

    async def start(self) -> None:
        self._conn.initiate_connection()
        self._conn.increment_flow_control_window(_READ_WINDOW - 65535)
        self._flush()
        await self._channel.drain()
        self._task = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        try:
            while data := await self._channel.body.read_chunk():
                for event in self._conn.receive_data(data):
                    self._handle(event)
                self._flush()
        except (h2.exceptions.ProtocolError, ConnectionError, OSError) as exc:
            self._failure = exc
        finally:
            for stream in self._streams.values():
                stream.messages.put_nowait(None)
            self._window.set()

    def _handle(self, event: h2.events.Event) -> None:
        stream = self._streams.get(getattr(event, "stream_id", 0) or 0)
        if isinstance(event, h2.events.DataReceived):
            self._conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            if stream is not None:
                stream.feed(event.data)
        elif isinstance(event, h2.events.ResponseReceived | h2.events.TrailersReceived):
            if stream is not None:
                stream.headers(event.headers or [])
        elif isinstance(event, h2.events.StreamEnded | h2.events.StreamReset):
            if stream is not None:
                if isinstance(event, h2.events.StreamReset):
                    stream.trailers.setdefault("grpc-status", "1")
                stream.messages.put_nowait(None)
        elif isinstance(event, h2.events.WindowUpdated | h2.events.RemoteSettingsChanged):
            self._window.set()
        elif isinstance(event, h2.events.ConnectionTerminated):
            self._failure = ConnectionError("the daemon ended the /grpc connection")

    async def call(self, method: str, request: bytes) -> AsyncIterator[bytes]:
        """Send one request message; yield the response messages.

        Raises:
            SolveError: the call ended with a non-OK status (its message, and
                the Dockerfile lines when the status carries a source).
        """
        stream_id = self._conn.get_next_available_stream_id()
        stream = self._streams[stream_id] = _Stream()
        self._conn.send_headers(
            stream_id,
            [
                (":method", "POST"),
                (":scheme", "http"),
                (":path", method),
                (":authority", "localhost"),
                ("content-type", "application/grpc"),
                ("te", "trailers"),
            ],
        )
        data = memoryview(_PREFIX.pack(0, len(request)) + request)
        while data:
            window = min(
                self._conn.local_flow_control_window(stream_id), self._conn.max_outbound_frame_size
            )
            if window <= 0:
                self._window.clear()
                await self._window.wait()
                if self._failure is not None:
                    raise SolveError(f"the /grpc connection failed: {self._failure}")
                continue
            self._conn.send_data(stream_id, bytes(data[:window]))
            data = data[window:]
        self._conn.end_stream(stream_id)
        self._flush()
        await self._channel.drain()
        try:
            while (message := await stream.messages.get()) is not None:
                yield message
        finally:
            self._streams.pop(stream_id, None)
        status = stream.trailers.get("grpc-status")
        if status is None and self._failure is not None:
            raise SolveError(f"the /grpc connection failed: {self._failure}")
        if status not in (None, "0"):
            text = urllib.parse.unquote(stream.trailers.get("grpc-message", ""))
            source = ""
            details = stream.trailers.get("grpc-status-details-bin")
            if details:
                with contextlib.suppress(binascii.Error, WireError, ValueError, AttributeError):
                    source = source_of_status(base64.b64decode(details + "=" * (-len(details) % 4)))
            raise SolveError(text or f"gRPC status {status}", source)

    async def close(self) -> None:
        self._channel.close()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def solve_items(
    client: GrpcClient,
    session_id: str,
    frontend_attrs: Mapping[str, str],
    exporter_attrs: Mapping[str, str],
) -> AsyncIterator[dict[str, Any]]:
    """Solve, yielding the JSON items ``POST /build`` would stream (trace, then image id)."""
    ref = uuid.uuid4().hex
    await client.start()
    request = solve_request(ref, session_id, frontend_attrs, exporter_attrs)
    result: dict[str, str] = {}
    failure: list[BaseException] = []

    async def run_solve() -> None:
        try:
            async for message in client.call(SOLVE, request):
                result.update(decode_map(message, 1))
        except BaseException as exc:
            failure.append(exc)
            raise

    solving = asyncio.get_running_loop().create_task(run_solve())
    try:
        async for status in client.call(STATUS, field_bytes(1, ref)):
            yield {"id": TRACE_ID, "aux": base64.b64encode(status).decode()}
        with contextlib.suppress(SolveError):
            await solving
        if failure:
            raise failure[0]
        image_id = result.get("containerimage.digest") or result.get("containerimage.config.digest")
        if image_id:
            yield {"id": IMAGE_ID, "aux": {"ID": image_id}}
    finally:
        if not solving.done():
            solving.cancel()
        with contextlib.suppress(BaseException):
            await solving
