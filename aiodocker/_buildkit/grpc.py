"""gRPC calls as a session handler sees them: status codes, message framing, :class:`Call`.

Layer: ``_buildkit``; imports the stdlib only (the HTTP/2 side is :mod:`.h2server`).

In a BuildKit session the daemon is the gRPC *client*: it opens HTTP/2
streams on the connection this client upgraded, one per call. Each call is
served by a handler coroutine that receives a :class:`Call`; messages are
framed as gRPC does (a 1-byte compressed flag, a 4-byte big-endian length,
the protobuf bytes), and the call ends with trailers carrying ``grpc-status``.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Awaitable, Callable
from typing import Final, Protocol

# grpc status codes (grpc/codes)
OK: Final = 0
CANCELLED: Final = 1
UNKNOWN: Final = 2
NOT_FOUND: Final = 5
UNIMPLEMENTED: Final = 12
UNAVAILABLE: Final = 14

_PREFIX: Final = struct.Struct(">BI")


class Sender(Protocol):
    """What a call needs of the HTTP/2 connection."""

    def send_headers(
        self, stream_id: int, headers: list[tuple[str, str]], *, end_stream: bool = False
    ) -> None: ...

    async def send_data(self, stream_id: int, data: bytes) -> None: ...


class GrpcError(Exception):
    """Raised by a handler to end its call with a non-OK status."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Call:
    """One gRPC call from the daemon: its metadata, incoming messages, outgoing ones."""

    def __init__(
        self, server: Sender, stream_id: int, method: str, metadata: dict[str, list[str]]
    ) -> None:
        self._server = server
        self.stream_id = stream_id
        self.method = method
        self.metadata = metadata
        self._incoming: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._buffer = bytearray()
        self._headers_sent = False
        self.ended = False  # the daemon closed its side
        # flow control: bytes fed but not yet handed to the handler are acknowledged
        # (window reopened) only once the handler took every complete message
        self.on_consumed: Callable[[int], None] | None = None
        self._held = 0

    def first(self, key: str) -> str | None:
        values = self.metadata.get(key)
        return values[0] if values else None

    def feed(self, data: bytes, flow_controlled: int | None = None) -> None:
        """Take DATA of the daemon's stream; complete messages become receivable.

        ``flow_controlled`` bytes are reported to :attr:`on_consumed` once the
        handler has received every complete message: a slow handler stops
        the daemon instead of growing the queue.
        """
        self._held += len(data) if flow_controlled is None else flow_controlled
        self._buffer += data
        while len(self._buffer) >= _PREFIX.size:
            compressed, size = _PREFIX.unpack_from(self._buffer)
            if len(self._buffer) < _PREFIX.size + size:
                return
            if compressed:
                raise GrpcError(UNIMPLEMENTED, "compressed messages are not supported")
            message = bytes(self._buffer[_PREFIX.size : _PREFIX.size + size])
            del self._buffer[: _PREFIX.size + size]
            self._incoming.put_nowait(message)
        if self._incoming.empty():
            self._release()

    def _release(self) -> None:
        held, self._held = self._held, 0
        if held and self.on_consumed is not None:
            self.on_consumed(held)

    def end(self) -> None:
        """The daemon closed its side (or reset the stream)."""
        self.ended = True
        self._incoming.put_nowait(None)

    async def recv(self) -> bytes | None:
        """Return the next message of the daemon, None once it closed its side."""
        message = await self._incoming.get()
        if self._incoming.empty():
            self._release()
        return message

    async def send(self, message: bytes) -> None:
        """Send one message to the daemon (response headers go first)."""
        if not self._headers_sent:
            self._headers_sent = True
            self._server.send_headers(
                self.stream_id, [(":status", "200"), ("content-type", "application/grpc")]
            )
        await self._server.send_data(self.stream_id, _PREFIX.pack(0, len(message)) + message)

    def finish(self, code: int = OK, message: str = "") -> None:
        trailers = [("grpc-status", str(code))]
        if message:
            trailers.append(("grpc-message", encode_message(message)))
        if not self._headers_sent:  # trailers-only response
            self._headers_sent = True
            trailers = [(":status", "200"), ("content-type", "application/grpc"), *trailers]
        self._server.send_headers(self.stream_id, trailers, end_stream=True)


def encode_message(text: str) -> str:
    """Percent-encode a ``grpc-message``: bytes outside printable ASCII, and ``%``."""
    return "".join(
        chr(byte) if 0x20 <= byte <= 0x7E and byte != 0x25 else f"%{byte:02X}"
        for byte in text.encode()
    )


Handler = Callable[[Call], Awaitable[None]]
