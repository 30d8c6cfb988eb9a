"""One HTTP/1.1 connection: its socket protocol, its response body buffer, request bodies.

Layer: ``_transport``. Imports the stdlib and ``aiodocker.exceptions``. A
:class:`Connection` is the asyncio protocol a dialer opens; it writes what the
pool sends and feeds what arrives to its sans-I/O
:class:`~.h1reader.ResponseReader`, whose events fill the :class:`Body` and
resolve the response head. The pool (``pool``) decides which connection serves
which request.
"""

from __future__ import annotations

import asyncio
import collections
import os
import socket
from collections.abc import AsyncIterable, Awaitable, Callable
from typing import Final, cast

from ..exceptions import (
    DockerConnectionError,
    DockerResponseError,
    DockerTruncatedStreamError,
)
from .base import (
    FileBody,
    ReadsExactly,
    describe_error,
    release_closed_transport,
    socket_read_buffer,
)
from .h1reader import Headers, ResponseReader
from .limits import Slots

HIGH_WATER: Final = 256 * 1024
LOW_WATER: Final = 64 * 1024
# ``readline`` hands out a longer line (output that never writes a newline) in pieces.
MAX_LINE_BYTES: Final = 1024 * 1024


class Body(ReadsExactly):
    """A bounded buffer of received bytes: the connection feeds, the reader drains.

    Reading pauses the transport above ``HIGH_WATER`` buffered bytes and
    resumes it below ``LOW_WATER``, so memory stays flat on any body size.
    """

    def __init__(self, connection: Connection) -> None:
        self._connection: Connection | None = connection  # None once the connection is lost
        self._chunks: collections.deque[bytes] = collections.deque()
        self._size = 0
        self._eof = False
        self._exc: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._paused = False

    @property
    def at_eof(self) -> bool:
        return self._eof and not self._chunks

    @property
    def complete(self) -> bool:
        return self._eof and self._exc is None

    def feed(self, data: bytes) -> None:
        self._chunks.append(data)
        self._size += len(data)
        if self._size > HIGH_WATER and not self._paused and self._connection is not None:
            self._paused = True
            self._connection.pause_reading()
        if self._waiter is not None:  # mostly nobody waits yet: the head is not even out
            self._wake()

    def feed_eof(self) -> None:
        self._eof = True
        if self._waiter is not None:
            self._wake()

    def set_exception(self, exc: BaseException) -> None:
        if not self._eof:
            self._exc = exc
            self._eof = True
            self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _wait(self) -> None:
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    def _took(self, size: int) -> None:
        self._size -= size
        if self._paused and self._size < LOW_WATER:
            self._paused = False
            if self._connection is not None:
                self._connection.resume_reading()

    async def read_chunk(self) -> bytes:
        """Return everything received so far (waiting for some), ``b""`` at the end.

        Joining what queued up means one decoder call per wake-up instead of one
        per network read: many small log frames cost one pass, not many.
        """
        chunks = self._chunks
        while not chunks:
            if self._eof:
                if self._exc is not None:
                    raise self._exc
                return b""
            await self._wait()
        if len(chunks) == 1:
            chunk = chunks.popleft()
        else:
            chunk = b"".join(chunks)
            chunks.clear()
        self._took(len(chunk))
        return chunk

    def unread(self, data: bytes) -> None:
        if data:
            self._chunks.appendleft(data)
            self._size += len(data)

    async def read(self, n: int = -1) -> bytes:
        """Read up to ``n`` bytes (all of the body when ``n`` is negative)."""
        if n < 0:
            parts: list[bytes] = []
            while True:
                if self._eof and self._exc is None:  # fast path: everything is here
                    parts.extend(self._chunks)
                    self._took(sum(map(len, self._chunks)))
                    self._chunks.clear()
                    return b"".join(parts)
                chunk = await self.read_chunk()
                if not chunk:
                    return b"".join(parts)
                parts.append(chunk)
        if n == 0:
            return b""
        chunk = await self.read_chunk()
        if len(chunk) > n:
            self.unread(chunk[n:])
            chunk = chunk[:n]
        return chunk

    async def readline(self) -> bytes:
        """Read one line with its newline; a line past ``MAX_LINE_BYTES`` comes in pieces."""
        parts: list[bytes] = []
        size = 0
        while True:
            chunk = await self.read_chunk()
            if not chunk:
                return b"".join(parts)
            end = chunk.find(b"\n", 0, MAX_LINE_BYTES - size)
            if end >= 0:
                self.unread(chunk[end + 1 :])
                parts.append(chunk[: end + 1])
                return b"".join(parts)
            if size + len(chunk) >= MAX_LINE_BYTES:
                cut = MAX_LINE_BYTES - size
                self.unread(chunk[cut:])
                parts.append(chunk[:cut])
                return b"".join(parts)
            parts.append(chunk)
            size += len(chunk)


class Connection(asyncio.BufferedProtocol):
    """One socket speaking HTTP/1.1; switches to raw bytes after an upgrade."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.reusable = False
        self.upgraded = False
        self.body = Body(self)
        self.on_lost: Callable[[], None] | None = None
        self.diagnose: Callable[[], Awaitable[str]] | None = None
        self.reader = ResponseReader(self)
        self._head: asyncio.Future[tuple[int, Headers]] | None = None
        self.answered = False  # a byte of the answer to the current request arrived
        self._write_paused = False
        self._drain_waiter: asyncio.Future[None] | None = None
        self._lost_exc: BaseException | None = None
        # The engine's slot this connection holds while a request or stream uses it
        # (given back when it goes idle, closes or is lost), and since when it is idle.
        self.slot: Slots | None = None
        self.idle_since = 0.0
        self.peer_eof = False  # the daemon closed its side of an upgraded stream

    def free_slot(self) -> None:
        """Give the engine's slot back, once (idle, closed or lost: whichever comes first)."""
        slot, self.slot = self.slot, None
        if slot is not None:
            slot.release()

    # --- asyncio.Protocol -------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # Duck-typed: uvloop's transports have the same methods but do not
        # subclass asyncio.Transport, so no isinstance check here.
        self.transport = cast(asyncio.Transport, transport)

    def get_buffer(self, sizehint: int) -> bytearray:
        return socket_read_buffer.data

    def buffer_updated(self, nbytes: int) -> None:
        self.data_received(bytes(socket_read_buffer.view[:nbytes]))

    def data_received(self, data: bytes) -> None:
        """Take bytes from the socket (see buffer_updated) or from a TLS transport."""
        if self.upgraded:
            self.body.feed(data)
            return
        self.answered = True
        try:
            self.reader.feed(data)
        except (DockerConnectionError, DockerResponseError) as exc:
            self._fail(exc)

    def eof_received(self) -> bool:
        self.reusable = False
        if self.upgraded:
            self.peer_eof = True
            self.body.feed_eof()
            return True  # keep our write side open: stdin may still flow
        self.reader.feed_eof()  # a body with neither length nor chunking runs to EOF
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.reusable = False
        self._lost_exc = exc
        self.free_slot()
        release_closed_transport(self.transport)
        error = DockerConnectionError(lost_reason(exc))
        head = self._head
        if head is not None and not head.done():
            head.set_exception(error)
        elif self.upgraded:
            self.body.feed_eof()  # a raw stream ends when its socket does
        else:  # a no-op when the body was already complete
            self.body.set_exception(
                DockerTruncatedStreamError(
                    "connection closed before the response body was complete"
                )
            )
        waiter = self._drain_waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)
        if self.on_lost is not None:
            self.on_lost()
        # Nothing arrives any more: let go of the parser and the transport, which
        # both refer back to this protocol, so a dropped connection is freed at once
        # instead of waiting for a full garbage collection (RSS grew between them).
        self.reader.close()
        self.transport = None
        self.body._connection = None

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        waiter = self._drain_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # --- the reader's events (ResponseSink) ----------------------------

    def on_head(self, status: int, headers: Headers) -> None:
        head = self._head
        if head is not None and not head.done():
            head.set_result((status, headers))

    def on_body(self, data: bytes) -> None:
        self.body.feed(data)

    def on_end(self, keep_alive: bool) -> None:
        self.reusable = keep_alive and not self.closed
        self.body.feed_eof()

    def on_upgrade(self, rest: bytes) -> None:
        self.upgraded = True
        self.reusable = False
        if rest:
            self.body.feed(rest)

    # --- used by the engine -----------------------------------------------

    def _fail(self, exc: BaseException) -> None:
        head = self._head
        if head is not None and not head.done():
            head.set_exception(exc)
        else:
            self.body.set_exception(exc)
        self.close()

    def begin(self, method: str) -> asyncio.Future[tuple[int, Headers]]:
        """Prepare to receive the response to a request being sent now."""
        self.reusable = False
        self.body = Body(self)
        self.answered = False
        self.reader.expect(method)
        self._head = asyncio.get_running_loop().create_future()
        return self._head

    def _check_writable(self) -> None:
        """Raise if bytes written now could not reach the daemon.

        The transport starts closing at once when a send fails (EPIPE, ECONNRESET:
        the daemon is gone), but reports it to ``connection_lost`` a loop turn
        later; checking ``is_closing()`` too makes that write raise, not the next.
        """
        transport = self.transport
        if transport is None or self.closed:
            reason = lost_reason(self._lost_exc) if self._lost_exc is not None else ""
            raise DockerConnectionError(
                "cannot write: the connection is closed" + (f" ({reason})" if reason else "")
            )
        if transport.is_closing():
            raise DockerConnectionError(
                "cannot write: the connection to the daemon was lost while sending "
                "(the daemon closed or reset it)"
            )
        if self.peer_eof:
            # The daemon closed its side: half-closed, it still reads; gone, its kernel
            # answers our bytes with a reset, which the socket holds as its error
            # (on a tcp connection the send itself succeeds).
            sock = transport.get_extra_info("socket")
            try:
                error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) if sock else 0
            except (OSError, AttributeError):
                error = 0
            if error:
                self.close()
                raise DockerConnectionError(
                    f"cannot write: the daemon reset the connection ({os.strerror(error)})"
                )

    def write(self, data: bytes) -> None:
        self._check_writable()
        transport = self.transport
        assert transport is not None
        transport.write(data)
        if transport.is_closing():
            self._check_writable()  # the send failed: the daemon is gone

    async def drain(self) -> None:
        self._check_writable()
        if self._write_paused:
            self._drain_waiter = asyncio.get_running_loop().create_future()
            try:
                await self._drain_waiter
            finally:
                self._drain_waiter = None
            self._check_writable()

    def can_write_eof(self) -> bool:
        return self.transport is not None and self.transport.can_write_eof()

    def write_eof(self) -> None:
        if self.transport is not None and not self.closed and self.transport.can_write_eof():
            self.transport.write_eof()

    def pause_reading(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.resume_reading()

    def unsent(self) -> int:
        """How many bytes written to this connection still wait to be sent."""
        if self.transport is None or self.closed:
            return 0
        return self.transport.get_write_buffer_size()

    def close(self) -> None:
        self.reusable = False
        try:
            self._close_transport()
        finally:
            self.free_slot()

    def _close_transport(self) -> None:
        if self.transport is not None and not self.closed:
            self.closed = True
            if self.transport.get_write_buffer_size():
                # the queued bytes belong to a request nobody will finish (the daemon
                # answered early and stopped reading): a graceful close would wait for
                # them forever, and uvloop then cannot close its loop (EBUSY)
                self.transport.abort()
            else:
                self.transport.close()


def lost_reason(exc: BaseException | None) -> str:
    """Why a connection ended, for the error raised to whoever was using it."""
    if exc is None:
        return "connection to the daemon was lost: the daemon closed it"
    return f"connection to the daemon was lost: {describe_error(exc)}"


def _can_sendfile(transport: asyncio.BaseTransport | None) -> bool:
    """Whether the kernel may copy a file into this transport: a plain socket, not TLS."""
    return (
        transport is not None
        and transport.get_extra_info("socket") is not None
        and transport.get_extra_info("ssl_object") is None
    )


async def send_file(connection: Connection, body: FileBody) -> None:
    """Send a file body of known length, through sendfile where the transport allows."""
    if body.count == 0:
        return  # Content-Length: 0 says it all (and loop.sendfile refuses a count of 0)
    if _can_sendfile(connection.transport):
        assert connection.transport is not None
        async with body.opened() as file:
            try:
                sent = await asyncio.get_running_loop().sendfile(
                    connection.transport, file, body.offset, body.count, fallback=False
                )
            except (NotImplementedError, asyncio.SendfileNotAvailableError):
                pass  # uvloop has no sendfile; some sockets refuse it: send by reads
            else:
                if sent != body.count:
                    raise ValueError(
                        f"the file ended {body.count - sent} bytes short of the "
                        f"{body.count} to upload"
                    )
                return
    async for chunk in body:
        connection.write(chunk)
        await connection.drain()


async def send_chunked(connection: Connection, body: AsyncIterable[bytes]) -> None:
    async for chunk in body:
        if chunk:  # three writes, so a large chunk is never copied into a new buffer
            connection.write(b"%x\r\n" % len(chunk))
            connection.write(chunk)
            connection.write(b"\r\n")
            await connection.drain()
    connection.write(b"0\r\n\r\n")
