"""The connection pool: which connection carries a request, and whether to resend it.

Layer: ``_transport``. Imports the stdlib and ``aiodocker.exceptions``. Nothing
here knows how bytes reach the daemon: a dialer (see ``dialers``) opens a
:class:`~.connection.Connection`, and everything above talks to
:class:`HTTPEngine` only. Whether a failed request is sent again is decided by
one pure function, :func:`decide_retry`.
"""

from __future__ import annotations

import asyncio
import errno
import logging
from collections.abc import AsyncGenerator, AsyncIterable, Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Final, cast

from ..exceptions import DockerClientClosedError, DockerConnectionError
from .base import (
    BodyContent,
    FileBody,
    ReadsWholeBody,
    check_request,
    describe_error,
    reason_phrase,
)
from .connection import Connection, send_chunked, send_file
from .h1reader import Headers
from .limits import Slots
from .retry import RetryDecision, decide_retry

if TYPE_CHECKING:
    from aiohttp import ClientWebSocketResponse

    from .aiohttp_engine import DialedWebSockets
    from .relay import Dial as RelayDial

# aiohttp's defaults (its connector's ``limit`` and ``keepalive_timeout``), which
# aiodocker 0.27 inherited: at most 100 connections, idle ones closed after 15 s.
DEFAULT_LIMIT: Final = 100
KEEPALIVE_TIMEOUT: Final = 15.0
# A timer may fire this early (uvloop's have millisecond ticks): an idle connection
# this close to its expiry is closed with the others instead of by another timer.
EXPIRY_SLACK: Final = 0.005
OUT_OF_FILES: Final = frozenset({errno.EMFILE, errno.ENFILE})
POOL_LOG: Final = logging.getLogger("aiodocker.transport")

Dial = Callable[[Callable[[], Connection]], Awaitable[Connection]]


def encode_head(
    method: str,
    target: str,
    host: str,
    headers: Mapping[str, str] | None,
    body: bytes | AsyncIterable[bytes] | None,
    streamed: bool,
) -> bytes:
    """The request head: ``Host``, the caller's headers, then how the body is framed.

    A caller's ``Host`` takes the place of ours; the framing fields are always ours.
    """
    if isinstance(body, FileBody):
        framing: str | None = f"Content-Length: {body.count}\r\n"
    elif streamed:
        framing = "Transfer-Encoding: chunked\r\n"
    elif body is not None:
        framing = f"Content-Length: {len(body)}\r\n"  # type: ignore[arg-type]
    elif method in ("POST", "PUT"):
        framing = "Content-Length: 0\r\n"
    else:
        framing = None
    if headers and not _OURS.isdisjoint(headers):
        return _encode_merged(method, target, host, headers, framing)
    fields = [f"{method} {target} HTTP/1.1\r\nHost: {host}\r\n"]
    if headers:
        fields += [f"{name}: {value}\r\n" for name, value in headers.items()]
    if framing is not None:
        fields.append(framing)
    fields.append("\r\n")
    return "".join(fields).encode("latin-1")


_OURS: Final = frozenset({"Host", "Content-Length", "Transfer-Encoding"})


def _encode_merged(
    method: str, target: str, host: str, headers: Mapping[str, str], framing: str | None
) -> bytes:
    """``encode_head`` when the caller names a field we set: each name once, in first place."""
    fields = {"Host": host, **headers}
    if framing is not None:
        name, _, value = framing.partition(": ")
        fields[name] = value[:-2]
    lines = "".join([f"{name}: {value}\r\n" for name, value in fields.items()])
    return f"{method} {target} HTTP/1.1\r\n{lines}\r\n".encode("latin-1")


def _write_request(
    connection: Connection,
    method: str,
    head_bytes: bytes,
    body: bytes | AsyncIterable[bytes] | None,
) -> asyncio.Future[tuple[int, Headers]]:
    """Send a request whose body (if any) is in memory; return the future of its answer's head."""
    head_future = connection.begin(method)
    if isinstance(body, (bytes, bytearray, memoryview)) and body:
        connection.write(head_bytes + bytes(body))
    else:
        connection.write(head_bytes)
    return head_future


async def _start_upload(
    connection: Connection,
    head_bytes: bytes,
    body: AsyncIterable[bytes],
    head_future: asyncio.Future[tuple[int, Headers]],
) -> asyncio.Task[None]:
    """Send the head, then the body in a task, until the body is sent or the answer comes."""
    connection.write(head_bytes)
    upload = asyncio.create_task(
        send_file(connection, body)
        if isinstance(body, FileBody)
        else send_chunked(connection, body)
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
    return upload


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
        return reason_phrase(self.status)

    @property
    def content_type(self) -> str:
        """The media type without parameters (``application/json``)."""
        value = self.headers.get("content-type")
        if value is None:
            return "application/octet-stream"
        return value.split(";", 1)[0].strip().lower()

    @property
    def content(self) -> BodyContent:
        return BodyContent(self.body)

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


def _out_of_files(exc: BaseException) -> OSError | None:
    """The EMFILE/ENFILE error behind a failed dial (raised as is or wrapped), else None."""
    cause = exc if isinstance(exc, OSError) else exc.__cause__
    if isinstance(cause, OSError) and cause.errno in OUT_OF_FILES:
        return cause
    return None


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
        sent again on a new connection (see :func:`decide_retry`). Any other
        request is never resent.

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
        if asyncio.get_running_loop() is not self._loop:
            await self._adopt(asyncio.get_running_loop())
        streamed = body is not None and not isinstance(body, (bytes, bytearray, memoryview))
        if not headers and body is None and method in ("GET", "HEAD", "DELETE"):
            head_bytes = f"{method} {target} HTTP/1.1\r\nHost: {self._host_header}\r\n\r\n".encode()
        else:
            head_bytes = encode_head(method, target, self._host_header, headers, body, streamed)
            long_lived = long_lived or (headers is not None and "Upgrade" in headers)
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
                self._log_taken(connection, reused, method)
            self._active.add(connection)
            try:
                if streamed:
                    assert body is not None and not isinstance(body, (bytes, bytearray, memoryview))
                    response = await self._exchange_streamed(connection, method, head_bytes, body)
                else:  # one await less on the usual path: no coroutine of its own
                    head_future = _write_request(connection, method, head_bytes, body)
                    status, headers = await head_future
                    response = Response(self, connection, method, status, headers)
            except DockerConnectionError as exc:
                self._drop(connection)
                decision = decide_retry(
                    method, replayable=not streamed, reused=reused, answered=connection.answered
                )
                if POOL_LOG.isEnabledFor(logging.DEBUG):
                    POOL_LOG.debug(
                        "%s %s failed %s (%s): %s",
                        method,
                        "on a reused connection" if reused else "on a new connection",
                        "during the answer" if connection.answered else "before any answer",
                        exc,
                        decision.reason,
                    )
                if decision.retry:
                    continue
                error = await self._failure(exc, connection, decision, method, target)
                if error is exc:
                    raise
                raise error from exc
            except BaseException:
                self._drop(connection)
                raise
            if connection.closed:  # lost as the head arrived: the slot is not the connection's
                self._active.discard(connection)
                slots.release()
            else:
                connection.slot = slots  # given back when it goes idle, closes or is lost
            return response

    def _drop(self, connection: Connection) -> None:
        connection.close()
        self._active.discard(connection)

    def _log_taken(self, connection: Connection, reused: bool, method: str) -> None:
        POOL_LOG.debug(
            "%s a connection to %s for %s (%d in use, %d idle)",
            "reusing" if reused else "dialed",
            self.description,
            method,
            len(self._active) + 1,
            len(self._idle),
        )

    @staticmethod
    async def _failure(
        exc: DockerConnectionError,
        connection: Connection,
        decision: RetryDecision,
        method: str,
        target: str,
    ) -> DockerConnectionError:
        """The error to raise for a request that failed and is not resent."""
        message = exc.message
        if connection.diagnose is not None:
            message = await connection.diagnose()
        if decision.maybe_applied:
            path = target.partition("?")[0]
            message = (
                f"{message} (before any answer to {method} {path}: the request "
                "may or may not have been applied)"
            )
        if message is exc.message:
            return exc
        return DockerConnectionError(message)

    async def _exchange_streamed(
        self,
        connection: Connection,
        method: str,
        head_bytes: bytes,
        body: AsyncIterable[bytes],
    ) -> Response:
        """Send a head and a streamed body; return once the answer's head came."""
        head_future = connection.begin(method)
        upload = await _start_upload(connection, head_bytes, body, head_future)
        try:
            status, headers = await head_future
        except BaseException:
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
