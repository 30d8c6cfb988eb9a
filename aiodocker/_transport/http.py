"""The lean HTTP/1.1 engine: keep-alive pool, chunked bodies, connection upgrade.

Layer: ``_transport``. Imports the stdlib, httptools and ``aiodocker.exceptions``.
Nothing here knows how bytes reach the daemon: a dialer (see ``dialers``) opens
a transport for a protocol object, and everything above talks to
:class:`HTTPEngine` only.
"""

from __future__ import annotations

import asyncio
import collections
import errno
import logging
import os
import socket
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterator,
    Mapping,
)
from typing import TYPE_CHECKING, Any, Final, cast

from ..exceptions import (
    DockerClientClosedError,
    DockerConnectionError,
    DockerResponseError,
    DockerTruncatedStreamError,
)
from .base import (
    FileBody,
    ReadsWholeBody,
    check_request,
    describe_error,
    release_closed_transport,
    socket_read_buffer,
)
from .limits import Slots

if TYPE_CHECKING:
    from aiohttp import ClientWebSocketResponse

    from .aiohttp_engine import DialedWebSockets
    from .relay import Dial as RelayDial

if TYPE_CHECKING:
    import httptools

HIGH_WATER: Final = 256 * 1024
LOW_WATER: Final = 64 * 1024
# aiohttp's defaults (its connector's ``limit`` and ``keepalive_timeout``), which
# aiodocker 0.27 inherited: at most 100 connections, idle ones closed after 15 s.
DEFAULT_LIMIT: Final = 100
KEEPALIVE_TIMEOUT: Final = 15.0
# A timer may fire this early (uvloop's have millisecond ticks): an idle connection
# this close to its expiry is closed with the others instead of by another timer.
EXPIRY_SLACK: Final = 0.005
OUT_OF_FILES: Final = frozenset({errno.EMFILE, errno.ENFILE})
NO_BODY_STATUSES: Final = frozenset({204, 304})
# The most a response head (status line, headers, and any 1xx heads before it) may
# take. The daemon's heads are well under 1 KiB; 256 KiB leaves room for any proxy
# in between and still bounds what a broken peer can make us buffer.
MAX_HEAD_BYTES: Final = 256 * 1024
# ``readline`` hands out a longer line (output that never writes a newline) in pieces.
MAX_LINE_BYTES: Final = 1024 * 1024
# Methods that may be sent again after a reused connection died before any byte of
# the answer came back (RFC 9110, 9.2.2 allows it for idempotent requests only). PUT
# and DELETE are idempotent in HTTP's sense, but a resent DELETE whose first copy
# worked answers 404 and a resent PUT of an archive extracts it twice: only reads.
RETRY_METHODS: Final = frozenset({"GET", "HEAD"})

POOL_LOG: Final = logging.getLogger("aiodocker.transport")

Dial = Callable[[Callable[[], "Connection"]], Awaitable["Connection"]]


class Headers(Mapping[str, str]):
    """Case-insensitive, read-only response headers (repeated fields joined by ``, ``).

    Kept as the raw head block the parser already validated and read lazily:
    most responses are consumed without looking at their headers, and a
    parser callback per header line would cost more than the whole lookup.
    """

    __slots__ = ("_block", "_lower", "_decoded")

    def __init__(self, block: bytes) -> None:
        self._block = block  # the field lines, each preceded by CRLF
        self._lower: bytes | None = None
        self._decoded: dict[str, str] | None = None

    @property
    def _items(self) -> dict[str, str]:
        items = self._decoded
        if items is None:
            items = {}
            for line in self._block.split(b"\r\n"):
                raw_name, colon, raw_value = line.partition(b":")
                if not colon:
                    continue
                key = raw_name.strip().decode("latin-1").lower()
                value = raw_value.strip().decode("latin-1")
                items[key] = f"{items[key]}, {value}" if key in items else value
            self._decoded = items
        return items

    def __getitem__(self, key: str) -> str:
        if self._decoded is not None:
            return self._decoded[key.lower()]
        lower = self._lower
        if lower is None:
            lower = self._lower = self._block.lower()
        needle = b"\r\n" + key.lower().encode("latin-1") + b":"
        start = lower.find(needle)
        if start < 0:
            raise KeyError(key)
        if lower.find(needle, start + 1) >= 0:
            return self._items[key.lower()]  # repeated field: join them all
        start += len(needle)
        end = self._block.find(b"\r\n", start)
        value = self._block[start:] if end < 0 else self._block[start:end]
        return value.strip().decode("latin-1")

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        try:
            self[key]
        except KeyError:
            return False
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"


class Body:
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
        self._wake()

    def feed_eof(self) -> None:
        self._eof = True
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

    async def readexactly(self, n: int) -> bytes:
        parts: list[bytes] = []
        missing = n
        while missing:
            chunk = await self.read(missing)
            if not chunk:
                got = n - missing
                raise DockerTruncatedStreamError(
                    f"stream ended after {got} of {n} expected bytes"
                )
            parts.append(chunk)
            missing -= len(chunk)
        return b"".join(parts)

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


class StreamContent:
    """The subset of ``aiohttp.StreamReader`` that callers of ``_query`` use."""

    def __init__(self, body: Body) -> None:
        self._body = body

    def at_eof(self) -> bool:
        return self._body.at_eof

    async def read(self, n: int = -1) -> bytes:
        return await self._body.read(n)

    async def readany(self) -> bytes:
        return await self._body.read_chunk()

    async def readexactly(self, n: int) -> bytes:
        return await self._body.readexactly(n)

    async def readline(self) -> bytes:
        return await self._body.readline()

    async def iter_any(self) -> AsyncIterator[bytes]:
        while chunk := await self._body.read_chunk():
            yield chunk

    async def iter_chunked(self, n: int) -> AsyncIterator[bytes]:
        while chunk := await self._body.read(n):
            yield chunk

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._iter_lines()

    async def _iter_lines(self) -> AsyncIterator[bytes]:
        while line := await self._body.readline():
            yield line


class Response(ReadsWholeBody):
    """One HTTP response; owns its connection until released.

    ``release()`` returns the connection to the pool when the body was read to
    its end, and closes it otherwise (a half-read body cannot be reused).
    """

    def __init__(
        self,
        engine: HTTPEngine,
        connection: Connection,
        method: str,
        status: int,
        headers: Headers,
    ) -> None:
        self._engine = engine
        self._connection: Connection | None = connection
        self.method = method
        self.status = status
        self.headers = headers
        self.body = connection.body
        self._upload: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"<Response {self.method} {self.status} {self.reason}>"

    @property
    def reason(self) -> str:
        """The standard reason phrase (the daemon's own is not worth a parser callback)."""
        import http  # only when asked: most responses never are

        try:
            return http.HTTPStatus(self.status).phrase
        except ValueError:
            return ""

    @property
    def content_type(self) -> str:
        """The media type without parameters (``application/json``)."""
        value = self.headers.get("content-type")
        if value is None:
            return "application/octet-stream"
        return value.split(";", 1)[0].strip().lower()

    @property
    def content(self) -> StreamContent:
        return StreamContent(self.body)

    @property
    def released(self) -> bool:
        return self._connection is None

    def release(self) -> None:
        """Give the connection back (or close it if the body is unfinished). Idempotent."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        upload = self._upload
        upload_cut = upload is not None and not upload.done()
        if upload is not None and upload_cut:
            upload.cancel()
        # an answer can come before the request's body is all sent (a 404 for an
        # upload): the rest of that body must never precede another request
        request_sent = not upload_cut and not connection.unsent()
        if connection.reusable and request_sent and self.body.at_eof and self.body.complete:
            self._engine.put_idle(connection)
        else:
            if POOL_LOG.isEnabledFor(logging.DEBUG):
                POOL_LOG.debug(
                    "discarding a connection to %s: %s",
                    self._engine.description,
                    "the body was not read to its end"
                    if not (self.body.at_eof and self.body.complete)
                    else "the request's body was not all sent"
                    if not request_sent
                    else "it cannot be reused (closed, upgraded or not kept alive)",
                )
            connection.close()
            self._engine.forget(connection)

    close = release

    def detach(self) -> Connection:
        """Take the connection out of the pool's hands (for upgraded streams)."""
        connection = self._connection
        if connection is None:
            raise RuntimeError("response already released")
        self._connection = None
        self._engine.forget(connection)
        return connection

    async def __aenter__(self) -> Response:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.release()


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
        self._parser: httptools.HttpResponseParser | None = None
        self._head: asyncio.Future[tuple[int, Headers]] | None = None
        self._head_buf: bytes | bytearray | None = None
        self._head_size = 0
        self.answered = False  # a byte of the answer to the current request arrived
        self._waiting = False
        self._method = "GET"
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
        parser = self._parser
        if parser is None or not self._waiting:
            self._fail(DockerConnectionError("daemon sent data without a request"))
            return
        self.answered = True
        head_buf = self._head_buf
        if head_buf is not None:  # the head is still coming: keep its raw bytes
            if not head_buf:
                self._head_buf = data  # the usual case, the head in one read: no copy of it
            else:  # the head came in pieces: gather them in place
                if type(head_buf) is bytes:
                    head_buf = self._head_buf = bytearray(head_buf)
                head_buf += data
            self._head_size += len(data)
        try:
            parser.feed_data(data)
        except Exception as exc:  # httptools' own classes: the module is loaded, as a parser exists
            import httptools

            if isinstance(exc, httptools.HttpParserUpgrade):
                self.upgraded = True
                self.reusable = False
                rest = data[exc.args[0] :]
                if rest:
                    self.body.feed(rest)
            elif isinstance(exc, httptools.HttpParserError):
                self._fail(DockerConnectionError(f"malformed HTTP response from daemon: {exc}"))
                return
            else:
                raise
        if self._head_buf is not None and self._head_size > MAX_HEAD_BYTES:
            self._head_buf = None
            self._fail(
                DockerResponseError(
                    0, f"the daemon's response head exceeds {MAX_HEAD_BYTES} bytes"
                )
            )

    def eof_received(self) -> bool:
        self.reusable = False
        if self.upgraded:
            self.peer_eof = True
            self.body.feed_eof()
            return True  # keep our write side open: stdin may still flow
        head = self._head
        if head is not None and head.done() and not head.cancelled() and head.exception() is None and not self.body._eof:
            headers = head.result()[1]
            sized = "content-length" in headers or "chunked" in headers.get("transfer-encoding", "")
            if not sized:  # a body with neither length nor chunking runs to EOF
                self.body.feed_eof()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.reusable = False
        self._lost_exc = exc
        self.free_slot()
        release_closed_transport(self.transport)
        error = DockerConnectionError(_lost_reason(exc))
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
        self._parser = None
        self.transport = None
        self.body._connection = None

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        waiter = self._drain_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # --- httptools callbacks ----------------------------------------------

    def on_headers_complete(self) -> None:
        assert self._parser is not None and self._head is not None
        status = self._parser.get_status_code()
        raw = self._head_buf if self._head_buf is not None else b""
        end = raw.find(b"\r\n\r\n")
        if 100 <= status < 200 and status != 101:
            self._head_buf = raw[end + 4 :]  # informational: the real head follows
            return
        self._head_buf = None
        first_line_end = raw.find(b"\r\n")
        headers = Headers(bytes(raw[first_line_end:end]) if end >= 0 else b"")
        if not self._head.done():
            self._head.set_result((status, headers))
        if self._method == "HEAD" or status in NO_BODY_STATUSES:
            self._finish_message()

    def on_body(self, body: bytes) -> None:
        self.body.feed(body)

    def on_message_complete(self) -> None:
        if self._parser is not None and 100 <= self._parser.get_status_code() < 200:
            return  # 101: the upgrade handler takes over; other 1xx: the answer follows
        self._finish_message()

    def _finish_message(self) -> None:
        parser = self._parser
        self.reusable = bool(parser and parser.should_keep_alive()) and not self.closed
        self._waiting = False
        if self._method == "HEAD":
            self._parser = None  # it expects the body a HEAD response announces but never sends
        self.body.feed_eof()

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
        self._method = method
        self.reusable = False
        self.body = Body(self)
        self._head_buf = b""
        self._head_size = 0
        self.answered = False
        self._waiting = True
        if self._parser is None:  # kept across keep-alive responses
            # imported with the first parser: 1.3 ms that a bare `import aiodocker` need not pay
            import httptools

            self._parser = httptools.HttpResponseParser(self)
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
            reason = _lost_reason(self._lost_exc) if self._lost_exc is not None else ""
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
        assert self.transport is not None
        self.transport.write(data)
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


def _lost_reason(exc: BaseException | None) -> str:
    """Why a connection ended, for the error raised to whoever was using it."""
    if exc is None:
        return "connection to the daemon was lost: the daemon closed it"
    return f"connection to the daemon was lost: {describe_error(exc)}"


def _out_of_files(exc: BaseException) -> OSError | None:
    """The EMFILE/ENFILE error behind a failed dial (raised as is or wrapped), else None."""
    cause = exc if isinstance(exc, OSError) else exc.__cause__
    if isinstance(cause, OSError) and cause.errno in OUT_OF_FILES:
        return cause
    return None


def encode_head(method: str, target: str, headers: Mapping[str, str]) -> bytes:
    fields = "".join([f"{name}: {value}\r\n" for name, value in headers.items()])
    return f"{method} {target} HTTP/1.1\r\n{fields}\r\n".encode("latin-1")


class HTTPEngine:
    """A pool of keep-alive connections opened by one dialer.

    At most ``limit`` connections serve short requests and at most ``limit``
    more serve long-lived ones (streams, upgrades): two FIFO queues, so held
    streams never starve short calls (docs/DESIGN.md, "Connection limit").
    ``limit=0`` means no limit. A connection idle for ``keepalive_timeout``
    seconds is closed (``None``: kept until the client closes; ``0``: never
    kept). A connection that comes back idle serves either kind next.
    """

    def __init__(
        self,
        dial: Dial,
        *,
        description: str = "",
        host_header: str = "docker",
        limit: int = DEFAULT_LIMIT,
        keepalive_timeout: float | None = KEEPALIVE_TIMEOUT,
    ) -> None:
        self._dial = dial
        self.description = description
        self._host_header = host_header
        self.limit = limit
        self.keepalive_timeout = keepalive_timeout
        self._max_idle = limit or DEFAULT_LIMIT
        self._idle: list[Connection] = []  # oldest first (at most ``limit``: a list will do)
        self._active: set[Connection] = set()
        self._short = Slots(limit)  # made anew for each loop (their waiters are its futures)
        self._long = Slots(limit)
        self._expiry: asyncio.TimerHandle | None = None  # closes idle connections when due
        self._closed = False
        # The loop the pooled connections belong to, and the async generator
        # registered with it that closes them when the loop shuts down.
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_watch: AsyncGenerator[None, None] | None = None
        self._websockets: DialedWebSockets | None = None  # made on the first websocket

    @property
    def closed(self) -> bool:
        return self._closed

    def put_idle(self, connection: Connection) -> None:
        self._active.discard(connection)
        keepalive = self.keepalive_timeout
        if (
            self._closed
            or connection.closed
            or len(self._idle) >= self._max_idle
            or keepalive == 0
            or self._loop is None
        ):
            if POOL_LOG.isEnabledFor(logging.DEBUG):
                POOL_LOG.debug(
                    "discarding a connection to %s: %s",
                    self.description,
                    "it is closed"
                    if self._closed or connection.closed
                    else "keep-alive is off (keepalive_timeout=0)"
                    if keepalive == 0
                    else f"the pool is full ({self._max_idle} idle)",
                )
            connection.close()
            return
        connection.idle_since = self._loop.time()
        self._idle.append(connection)
        if keepalive is not None and self._expiry is None:
            self._expiry = self._loop.call_at(connection.idle_since + keepalive, self._expire)
        connection.free_slot()  # after it is idle: a waiter given the slot reuses it

    def _expire(self) -> None:
        """Close the connections idle for ``keepalive_timeout``; time the next expiry."""
        self._expiry = None
        loop, keepalive = self._loop, self.keepalive_timeout
        if loop is None or keepalive is None or self._closed:
            return
        due = loop.time() - keepalive + EXPIRY_SLACK
        idle = self._idle
        expired = 0
        while expired < len(idle) and idle[expired].idle_since <= due:
            idle[expired].close()
            expired += 1
        del idle[:expired]
        if expired and POOL_LOG.isEnabledFor(logging.DEBUG):
            POOL_LOG.debug(
                "closed %d connection(s) to %s idle for %g s (%d idle left)",
                expired,
                self.description,
                keepalive,
                len(idle),
            )
        if idle:
            self._expiry = loop.call_at(idle[0].idle_since + keepalive, self._expire)

    def _take_idle(self) -> Connection | None:
        idle = self._idle
        while idle:
            connection = idle.pop()  # the most recently used: the oldest expire first
            if not connection.closed:
                return connection
            if POOL_LOG.isEnabledFor(logging.DEBUG):
                POOL_LOG.debug("discarding an idle connection the daemon closed")
        return None

    def _close_idle(self) -> int:
        idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()
        return len(idle)

    async def _connect(self) -> Connection:
        """Dial a new connection; out of file descriptors, close idle ones and dial once more.

        Raises:
            DockerConnectionError: the dial failed; out of file descriptors, the
                message names the limit.
        """
        try:
            return await self._dial(Connection)
        except (DockerConnectionError, OSError) as exc:
            if _out_of_files(exc) is None:
                if isinstance(exc, OSError):
                    raise DockerConnectionError(
                        f"Cannot connect to Docker Engine via {self.description} "
                        f"[{describe_error(exc)}]"
                    ) from exc
                raise
            first = exc
        freed = self._close_idle()
        if freed:
            POOL_LOG.debug(
                "out of file descriptors dialing %s: closed %d idle connection(s), dialing again",
                self.description,
                freed,
            )
            await asyncio.sleep(0)  # the closed sockets' descriptors go at the next loop turn
            try:
                return await self._dial(Connection)
            except (DockerConnectionError, OSError) as exc:
                if _out_of_files(exc) is None:
                    raise
                first = exc
        cause = _out_of_files(first)
        assert cause is not None
        raise DockerConnectionError(self._out_of_files_message(cause, freed)) from first

    def _out_of_files_message(self, cause: OSError, freed: int) -> str:
        held = self._short.used + self._long.used + len(self._idle)
        if cause.errno == errno.ENFILE:
            what = "the system-wide table of open files is full (ENFILE)"
        else:
            what = "the process reached its limit of open file descriptors (EMFILE"
            try:
                import resource  # POSIX only

                soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
                what += f", ulimit -n is {soft})" if soft != resource.RLIM_INFINITY else ")"
            except (ImportError, OSError, ValueError):
                what += ")"
        return (
            f"Cannot connect to Docker Engine via {self.description}: out of file descriptors: "
            f"{what}; this client holds {held} connection(s)"
            + (f" after closing {freed} idle one(s)" if freed else " and none idle")
            + f"; raise the limit or lower Docker(limit=...) (now {self.limit})"
        )

    async def request(
        self,
        method: str,
        target: str,
        headers: Mapping[str, str] | None = None,
        body: bytes | AsyncIterable[bytes] | None = None,
        *,
        long_lived: bool = False,
    ) -> Response:
        """Send a request and return once the response head has arrived.

        The request first waits, in order of arrival, for one of the
        ``limit`` connections of its kind: ``long_lived`` ones (streams the
        caller keeps open, and every ``Upgrade`` request) have their own, so
        they never hold up short requests.

        A GET or HEAD that fails on a reused keep-alive connection before any
        byte of the answer arrived (the daemon closed an idle connection) is
        sent again on a new connection. Any other request is never resent.

        Raises:
            ValueError: the method, target or a header would not make one
                well-formed request head (see :func:`.base.check_request`).
            DockerConnectionError: the daemon could not be reached, or the
                connection died before the answer; for a method other than GET
                and HEAD the message says the request may or may not have been
                applied.
        """
        if self._closed:
            raise DockerClientClosedError()
        check_request(method, target, headers)
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            await self._adopt(loop)
        streamed = body is not None and not isinstance(body, (bytes, bytearray, memoryview))
        if not headers and body is None and method in ("GET", "HEAD", "DELETE"):
            head_bytes = f"{method} {target} HTTP/1.1\r\nHost: {self._host_header}\r\n\r\n".encode()
        else:
            all_headers = {"Host": self._host_header}
            if headers:
                all_headers.update(headers)
                long_lived = long_lived or "Upgrade" in headers
            if isinstance(body, FileBody):
                all_headers["Content-Length"] = str(body.count)
            elif streamed:
                all_headers["Transfer-Encoding"] = "chunked"
            elif body is not None:
                all_headers["Content-Length"] = str(len(body))  # type: ignore[arg-type]
            elif method in ("POST", "PUT"):
                all_headers["Content-Length"] = "0"
            head_bytes = encode_head(method, target, all_headers)
        slots = self._long if long_lived else self._short
        if not slots.try_acquire():
            await slots.acquire()
        try:
            return await self._send(slots, method, target, head_bytes, body, streamed)
        except BaseException:
            slots.release()  # no connection took it
            raise

    async def _send(
        self,
        slots: Slots,
        method: str,
        target: str,
        head_bytes: bytes,
        body: bytes | AsyncIterable[bytes] | None,
        streamed: bool,
    ) -> Response:
        """Send on an idle or new connection, which holds ``slots``' slot once it answers."""
        while True:
            connection = self._take_idle()
            reused = connection is not None
            if connection is None:
                if self._closed:
                    raise DockerClientClosedError()
                connection = await self._connect()
            if POOL_LOG.isEnabledFor(logging.DEBUG):
                POOL_LOG.debug(
                    "%s a connection to %s for %s (%d in use, %d idle)",
                    "reusing" if reused else "dialed",
                    self.description,
                    method,
                    len(self._active) + 1,
                    len(self._idle),
                )
            self._active.add(connection)
            try:
                response = await self._exchange(connection, method, head_bytes, body, streamed)
            except DockerConnectionError as exc:
                connection.close()
                self._active.discard(connection)
                unanswered = not connection.answered
                retried = reused and unanswered and method in RETRY_METHODS and not streamed
                if POOL_LOG.isEnabledFor(logging.DEBUG):
                    POOL_LOG.debug(
                        "%s %s failed %s (%s): %s",
                        method,
                        "on a reused connection" if reused else "on a new connection",
                        "before any answer" if unanswered else "during the answer",
                        exc,
                        "retrying on a new connection"
                        if retried
                        else "not retried: "
                        + (
                            "the connection was new"
                            if not reused
                            else "part of the answer came"
                            if not unanswered
                            else "its body was streamed"
                            if streamed
                            else f"only {'/'.join(sorted(RETRY_METHODS))} are resent"
                        ),
                    )
                if retried:
                    continue
                message = exc.message
                if connection.diagnose is not None:
                    message = await connection.diagnose()
                if unanswered and method not in RETRY_METHODS:
                    path = target.partition("?")[0]
                    message = (
                        f"{message} (before any answer to {method} {path}: the request "
                        "may or may not have been applied)"
                    )
                if message is exc.message:
                    raise
                raise DockerConnectionError(message) from exc
            except BaseException:
                connection.close()
                self._active.discard(connection)
                raise
            if connection.closed:  # lost as the head arrived: the slot is not the connection's
                self._active.discard(connection)
                slots.release()
            else:
                connection.slot = slots  # given back when it goes idle, closes or is lost
            return response

    async def _exchange(
        self,
        connection: Connection,
        method: str,
        head_bytes: bytes,
        body: bytes | AsyncIterable[bytes] | None,
        streamed: bool,
    ) -> Response:
        head_future = connection.begin(method)
        upload: asyncio.Task[None] | None = None
        if streamed:
            connection.write(head_bytes)
            assert body is not None and not isinstance(body, (bytes, bytearray, memoryview))
            upload = asyncio.create_task(
                _send_file(connection, body)
                if isinstance(body, FileBody)
                else _send_chunked(connection, body)
            )
            waiting: set[asyncio.Future[Any]] = {upload, head_future}
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            exc = upload.exception() if upload.done() else None
            # A daemon that answers early and stops reading breaks the pipe: its
            # answer, or the lost connection, then says why (not the EPIPE).
            if (
                exc is not None
                and not head_future.done()
                and not isinstance(exc, (ConnectionError, DockerConnectionError))
            ):
                head_future.cancel()
                raise exc
        elif isinstance(body, (bytes, bytearray, memoryview)) and body:
            connection.write(head_bytes + bytes(body))
        else:
            connection.write(head_bytes)
        try:
            status, headers = await head_future
        except BaseException:
            if upload is not None:
                upload.cancel()
            raise
        response = Response(self, connection, method, status, headers)
        response._upload = upload
        return response

    async def websocket(self, target: str) -> ClientWebSocketResponse[bool]:
        """Open a websocket to ``target`` over this engine's dialer (aiohttp does the protocol).

        Raises:
            WebSocketRefused: the daemon answered the handshake with another status.
            DockerConnectionError: the daemon could not be reached.
        """
        if self._closed:
            raise DockerClientClosedError()
        check_request("GET", target, None)
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            await self._adopt(loop)
        if self._websockets is None:
            from .aiohttp_engine import DialedWebSockets

            dial = cast("RelayDial", self._dial)  # dialers are generic in the protocol
            self._websockets = DialedWebSockets(dial, self._host_header, self.description)
        return await self._websockets.connect(target)

    def forget(self, connection: Connection) -> None:
        """Stop tracking a connection that was handed over to an upgraded stream."""
        self._active.discard(connection)

    async def _adopt(self, loop: asyncio.AbstractEventLoop) -> None:
        """Make ``loop`` the pool's loop: drop the connections of the previous one.

        A connection is served by the loop that opened it; on another loop it
        would never be read. The client is usable in one loop after another
        (``asyncio.run`` twice): the old loop's connections are dropped and
        new ones dialled.
        """
        self._discard_connections()
        self._loop = loop
        self._short = Slots(self.limit)
        self._long = Slots(self.limit)
        watch = self._watch_loop(loop)
        await watch.asend(None)  # the first step registers it with the running loop
        self._loop_watch = watch

    async def _watch_loop(self, loop: asyncio.AbstractEventLoop) -> AsyncGenerator[None, None]:
        """Close the pool's connections when ``loop`` shuts down.

        ``asyncio.run()`` and every ``asyncio.Runner`` (uvloop's too) close the
        loop's open async generators (``loop.shutdown_asyncgens()``) before
        closing it; this one's ``finally`` then closes the sockets and ssh
        processes of the loop while it can still run their callbacks. Once
        the pool has moved to another loop it has nothing left here to close.
        """
        try:
            yield
        finally:
            if self._loop is loop:
                await self._close_connections()

    def _discard_connections(self) -> None:
        expiry, self._expiry = self._expiry, None
        if expiry is not None:
            try:
                expiry.cancel()
            except RuntimeError:
                pass  # its loop is closed: the timer will never run anyway
        idle, self._idle = self._idle, []
        for connection in [*idle, *self._active]:
            try:
                connection.close()
            except RuntimeError:
                pass  # its loop is closed: the transport cannot be closed any more
        self._active.clear()

    async def _close_connections(self) -> None:
        self._discard_connections()
        websockets, self._websockets = self._websockets, None
        if websockets is not None:
            await websockets.close()
        closer = getattr(self._dial, "close", None)
        if closer is not None:
            await closer()

    async def close(self) -> None:
        """Close every connection, idle or in use. Idempotent; any loop may call it."""
        self._closed = True
        await self._close_connections()
        await asyncio.sleep(0)


def _can_sendfile(transport: asyncio.BaseTransport | None) -> bool:
    """Whether the kernel may copy a file into this transport: a plain socket, not TLS."""
    return (
        transport is not None
        and transport.get_extra_info("socket") is not None
        and transport.get_extra_info("ssl_object") is None
    )


async def _send_file(connection: Connection, body: FileBody) -> None:
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


async def _send_chunked(connection: Connection, body: AsyncIterable[bytes]) -> None:
    async for chunk in body:
        if chunk:  # three writes, so a large chunk is never copied into a new buffer
            connection.write(b"%x\r\n" % len(chunk))
            connection.write(chunk)
            connection.write(b"\r\n")
            await connection.drain()
    connection.write(b"0\r\n\r\n")
