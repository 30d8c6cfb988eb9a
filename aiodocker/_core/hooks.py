"""Request hooks and request logging: one observer around each transport request.

Layer: ``_core``; imports the stdlib and the transport seam (``_transport.base``).
:func:`observe_request` wraps one ``Transport.request`` call when hooks are
set or the ``aiodocker.request`` logger is enabled for DEBUG; otherwise the
core calls the transport directly and none of this runs. The response it
returns reports its end once, when the body was read, the response was
released or, for a hijacked stream, when the stream is closed.
:func:`observe_websocket` does the same for a websocket attach: its end is
reported when the websocket closes, with the message bytes sent and received.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Iterable, Mapping
from typing import Any, Final, cast
from urllib.parse import parse_qsl, quote, urlencode

from .._record import Record
from .._transport.base import (
    BodyContent,
    BodyReader,
    Channel,
    ContentIteration,
    ReadsWholeBody,
    Response,
    Transport,
    WebSocketRefused,
)

REQUEST_LOG: Final = logging.getLogger("aiodocker.request")
HOOK_LOG: Final = logging.getLogger("aiodocker.hooks")

REDACTED: Final = "REDACTED"
# Query parameters whose values may carry secrets: build args; a build context URL,
# which may hold a token; Dockerfile instructions given to commit and image import
# (``ENV DB_PASSWORD=...``). Credentials in any other URL-valued parameter
# (``fromSrc``, ...) are redacted by the user-info rule. Checked and kept visible:
# ``labels``, ``filters``, ``cachefrom``, ``extrahosts``, ``comment``/``message``,
# ``author``, ``path``, names, tags and platforms, which are public metadata.
SECRET_PARAMS: Final = frozenset({"buildargs", "remote", "changes"})
_USERINFO: Final = r"(?<=://)[^/@\s]+@"  # compiled on first use (re caches it)

EOF: Final = "eof"
ABANDONED: Final = "abandoned"
CANCELLED: Final = "cancelled"
ERROR: Final = "error"


class RequestInfo:
    """One request as hooks see it.

    ``path`` is the request target with secret query values redacted;
    ``endpoint`` names the daemon (``unix:///var/run/docker.sock``). Hooks may
    keep per-request state (a span, a start mark) in ``context``.
    """

    def __init__(
        self, method: str, path: str, endpoint: str, context: dict[str, Any] | None = None
    ) -> None:
        self.method = method
        self.path = path
        self.endpoint = endpoint
        self.context: dict[str, Any] = {} if context is None else context

    def __repr__(self) -> str:
        return (
            f"RequestInfo(method={self.method!r}, path={self.path!r}, "
            f"endpoint={self.endpoint!r}, context={self.context!r})"
        )


class RequestResult(Record):
    """How a request that got a response ended.

    ``duration`` runs from the start until the response body ended (for a
    stream, until the stream ended); ``bytes_sent``/``bytes_received`` count
    body bytes. ``end`` is ``"eof"`` (read to the end), ``"abandoned"``
    (released before the end), ``"cancelled"`` or ``"error"`` (then ``error``
    is the exception). ``stream`` is true for streamed and hijacked responses
    and websockets. A websocket (status 101) ends ``"eof"`` when the daemon
    closed it (the container's stdio ended), ``"abandoned"`` when the caller
    closed it first; its bytes are the payloads of its text and binary messages.
    """

    status: int
    duration: float
    bytes_sent: int
    bytes_received: int
    end: str
    stream: bool
    error: BaseException | None = None


class RequestHooks:
    """Callbacks around every request a :class:`~aiodocker.Docker` makes; subclass and override.

    Callbacks run synchronously on the event loop and must be quick. An
    exception raised by a callback is logged (``aiodocker.hooks``, WARNING)
    and does not affect the request. Exactly one of ``on_request_end`` and
    ``on_request_error`` follows each ``on_request_start``.
    """

    def on_request_start(self, request: RequestInfo) -> None:
        """The request is about to be sent."""

    def on_request_end(self, request: RequestInfo, result: RequestResult) -> None:
        """The response ended (any status; the error statuses raise after this)."""

    def on_request_error(self, request: RequestInfo, error: BaseException, duration: float) -> None:
        """The request failed before any response arrived (connection error, cancellation)."""


def normalize_hooks(hooks: RequestHooks | Iterable[RequestHooks] | None) -> tuple[RequestHooks, ...]:
    """Accept one hooks object, several, or None.

    Raises:
        TypeError: an element is not a RequestHooks.
    """
    if hooks is None:
        return ()
    items = (hooks,) if isinstance(hooks, RequestHooks) else tuple(hooks)
    for item in items:
        if not isinstance(item, RequestHooks):
            raise TypeError(f"hooks must be RequestHooks instances, not {type(item).__name__}")
    return items


def redact_target(target: str) -> str:
    """The request target with secret-bearing query values replaced by ``REDACTED``."""
    path, sep, query = target.partition("?")
    if not sep:
        return target
    pairs = parse_qsl(query, keep_blank_values=True)
    redacted = [
        (name, REDACTED if name.lower() in SECRET_PARAMS else re.sub(_USERINFO, REDACTED + "@", value))
        for name, value in pairs
    ]
    if redacted == pairs:
        return target
    return f"{path}?{urlencode(redacted, quote_via=quote)}"


def _call(hooks: tuple[RequestHooks, ...], name: str, *args: Any) -> None:
    for hook in hooks:
        try:
            getattr(hook, name)(*args)
        except Exception:
            HOOK_LOG.warning("request hook %s.%s raised", type(hook).__name__, name, exc_info=True)


class _CountedBody:
    """A request body iterable that counts the bytes it hands over."""

    def __init__(self, body: AsyncIterable[bytes]) -> None:
        self._iterator = body.__aiter__()
        self.sent = 0

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        chunk = await self._iterator.__anext__()
        self.sent += len(chunk)
        return chunk


class _Exchange:
    """The book of one observed request: reports its end exactly once."""

    def __init__(
        self,
        hooks: tuple[RequestHooks, ...],
        info: RequestInfo,
        started: float,
        sent: int,
        upload: _CountedBody | None,
    ) -> None:
        self.hooks = hooks
        self.info = info
        self.started = started
        self.written = sent  # a fixed body, then what is written to a hijacked stream
        self.upload = upload
        self.status = 0
        self.stream = False
        self.kind = ""
        self.received = 0
        self.error: BaseException | None = None
        self.at_eof = False
        self.done = False

    @property
    def sent(self) -> int:
        return self.written + (self.upload.sent if self.upload is not None else 0)

    def end(self) -> None:
        if self.done:
            return
        self.done = True
        error = self.error
        if self.at_eof:
            how, error = EOF, None
        elif error is None:
            how = ABANDONED
        else:
            how = CANCELLED if isinstance(error, asyncio.CancelledError) else ERROR
        result = RequestResult(
            status=self.status,
            duration=time.perf_counter() - self.started,
            bytes_sent=self.sent,
            bytes_received=self.received,
            end=how,
            stream=self.stream,
            error=error,
        )
        if REQUEST_LOG.isEnabledFor(logging.DEBUG):
            info = self.info
            what = f"stream closed ({self.kind}, {how})" if self.stream else how
            REQUEST_LOG.debug(
                "%s %s -> %d %s in %.1f ms, %d B out, %d B in%s",
                info.method,
                info.path,
                result.status,
                what,
                result.duration * 1e3,
                result.bytes_sent,
                result.bytes_received,
                f": {type(error).__name__}: {error}" if how == ERROR else "",
            )
        if self.hooks:
            _call(self.hooks, "on_request_end", self.info, result)


class _ObservedBody:
    """A body reader that counts bytes and notes the end, errors and cancellation."""

    def __init__(self, inner: BodyReader, exchange: _Exchange) -> None:
        self._inner = inner
        self._exchange = exchange

    @property
    def at_eof(self) -> bool:
        return self._inner.at_eof

    def _got(self, data: bytes, eof: bool) -> bytes:
        exchange = self._exchange
        exchange.error = None  # an earlier cancelled read did not end the stream
        if data:
            exchange.received += len(data)
        elif eof:
            exchange.at_eof = True
        return data

    def _failed(self, exc: BaseException) -> None:
        self._exchange.error = exc

    async def read_chunk(self) -> bytes:
        try:
            return self._got(await self._inner.read_chunk(), True)
        except BaseException as exc:
            self._failed(exc)
            raise

    async def read(self, n: int = -1) -> bytes:
        try:
            data = await self._inner.read(n)
        except BaseException as exc:
            self._failed(exc)
            raise
        if n < 0 or (n and not data):
            self._exchange.at_eof = True
        return self._got(data, False)

    async def readexactly(self, n: int) -> bytes:
        try:
            return self._got(await self._inner.readexactly(n), False)
        except BaseException as exc:
            self._failed(exc)
            raise

    async def readline(self) -> bytes:
        try:
            return self._got(await self._inner.readline(), True)
        except BaseException as exc:
            self._failed(exc)
            raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _CountedContent(ContentIteration):
    """aiohttp's ``StreamReader`` (a caller's session), counting the bytes read through it.

    Every reading method of the reader is here (the iterators read through these);
    anything else is passed through.
    """

    def __init__(self, inner: Any, exchange: _Exchange) -> None:
        self._inner = inner
        self._exchange = exchange

    def _got(self, data: bytes) -> bytes:
        exchange = self._exchange
        exchange.error = None
        if data:
            exchange.received += len(data)
        elif self._inner.at_eof():
            exchange.at_eof = True
        return data

    async def _read(self, reading: Any) -> bytes:
        try:
            data: bytes = await reading
        except BaseException as exc:
            self._exchange.error = exc
            raise
        return self._got(data)

    def read(self, n: int = -1) -> Awaitable[bytes]:
        return self._read(self._inner.read(n))

    def readany(self) -> Awaitable[bytes]:
        return self._read(self._inner.readany())

    def readline(self) -> Awaitable[bytes]:
        return self._read(self._inner.readline())

    def readuntil(self, separator: bytes = b"\n") -> Awaitable[bytes]:
        return self._read(self._inner.readuntil(separator))

    def readexactly(self, n: int) -> Awaitable[bytes]:
        return self._read(self._inner.readexactly(n))

    async def readchunk(self) -> tuple[bytes, bool]:
        try:
            data, end_of_chunk = await self._inner.readchunk()
        except BaseException as exc:
            self._exchange.error = exc
            raise
        return self._got(data), end_of_chunk

    def read_nowait(self, n: int = -1) -> bytes:
        return self._got(self._inner.read_nowait(n))


    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _ObservedChannel:
    """A hijacked stream whose end is reported when it is closed."""

    def __init__(self, inner: Channel, exchange: _Exchange) -> None:
        self._inner = inner
        self._exchange = exchange
        self.body = _ObservedBody(inner.body, exchange)

    def write(self, data: bytes) -> None:
        self._inner.write(data)
        self._exchange.written += len(data)

    async def drain(self) -> None:
        await self._inner.drain()

    def can_write_eof(self) -> bool:
        return self._inner.can_write_eof()

    def write_eof(self) -> None:
        self._inner.write_eof()

    def close(self) -> None:
        self._inner.close()
        self._exchange.end()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class ObservedResponse(ReadsWholeBody):
    """A transport response whose end is reported to hooks and the request log."""

    def __init__(self, inner: Response, exchange: _Exchange) -> None:
        self._inner = inner
        self._exchange = exchange
        self.status = inner.status
        self.method = inner.method
        self.body = _ObservedBody(inner.body, exchange)

    @property
    def reason(self) -> str:
        return self._inner.reason

    @property
    def headers(self) -> Mapping[str, str]:
        return self._inner.headers

    @property
    def content(self) -> Any:
        content = self._inner.content
        if isinstance(content, BodyContent):  # our engine's: read it through the counting body
            return BodyContent(cast(Any, self.body))
        return _CountedContent(content, self._exchange)  # aiohttp's StreamReader

    @property
    def content_type(self) -> str:
        return self._inner.content_type

    @property
    def released(self) -> bool:
        return self._inner.released

    def release(self) -> None:
        exchange = self._exchange
        if not exchange.done and exchange.error is None and self._inner.body.at_eof:
            exchange.at_eof = True
        self._inner.release()
        exchange.end()

    close = release

    def detach(self) -> Channel:
        exchange = self._exchange
        exchange.stream = True
        exchange.kind = "hijacked"
        if REQUEST_LOG.isEnabledFor(logging.DEBUG):
            REQUEST_LOG.debug(
                "%s %s -> %d stream open (hijacked)",
                exchange.info.method,
                exchange.info.path,
                exchange.status,
            )
        return _ObservedChannel(self._inner.detach(), exchange)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __repr__(self) -> str:
        return repr(self._inner)


def _report_error(
    hooks: tuple[RequestHooks, ...], info: RequestInfo, started: float, exc: BaseException
) -> None:
    """Report a request that failed before any response arrived."""
    duration = time.perf_counter() - started
    if REQUEST_LOG.isEnabledFor(logging.DEBUG):
        REQUEST_LOG.debug(
            "%s %s failed after %.1f ms: %s: %s",
            info.method,
            info.path,
            duration * 1e3,
            type(exc).__name__,
            exc,
        )
    if hooks:
        _call(hooks, "on_request_error", info, exc, duration)


async def observe_request(
    transport: Transport,
    hooks: tuple[RequestHooks, ...],
    endpoint: str,
    method: str,
    target: str,
    headers: Mapping[str, str] | None = None,
    body: bytes | AsyncIterable[bytes] | None = None,
    *,
    long_lived: bool = False,
) -> Response:
    """Send a request through ``transport``, reporting it to ``hooks`` and the request log."""
    info = RequestInfo(method, redact_target(target), endpoint)
    upload: _CountedBody | None = None
    if body is None:
        sent = 0
    elif isinstance(body, (bytes, bytearray, memoryview)):
        sent = len(body)
    else:
        sent = 0
        body = upload = _CountedBody(body)
    if hooks:
        _call(hooks, "on_request_start", info)
    started = time.perf_counter()
    try:
        response = await transport.request(method, target, headers, body, long_lived=long_lived)
    except BaseException as exc:
        _report_error(hooks, info, started, exc)
        raise
    exchange = _Exchange(hooks, info, started, sent, upload)
    exchange.status = response.status
    headers_in = response.headers
    if "content-length" not in headers_in and response.status not in (101, 204, 304):
        exchange.stream = True
        exchange.kind = f"chunked {response.content_type}"
        if REQUEST_LOG.isEnabledFor(logging.DEBUG):
            REQUEST_LOG.debug(
                "%s %s -> %d stream open (%s)", method, info.path, response.status, exchange.kind
            )
    return ObservedResponse(response, exchange)


# websocket message types (aiohttp's WSMsgType names; aiohttp is not imported here)
_DATA_MESSAGES: Final = frozenset({"TEXT", "BINARY"})


def _payload_size(data: Any) -> int:
    if isinstance(data, str):
        return len(data.encode("utf-8"))
    if isinstance(data, (bytes, bytearray, memoryview)):
        return len(data)
    return 0


def _watch_websocket(ws: Any, exchange: _Exchange) -> None:
    """Count the payloads ``ws`` sends and receives; report its end when it closes.

    aiohttp's ``ClientWebSocketResponse`` is returned as it is (0.27's type):
    its sending, receiving and closing methods are wrapped on the instance.
    Its other methods call these through ``self``, so nothing is counted twice.
    """
    receive, close = ws.receive, ws.close

    async def observed_receive(*args: Any, **kwargs: Any) -> Any:
        try:
            message = await receive(*args, **kwargs)
        except BaseException as exc:
            exchange.error = exc
            raise
        kind = getattr(message.type, "name", "")
        if kind in _DATA_MESSAGES:
            exchange.error = None
            exchange.received += _payload_size(message.data)
        elif kind == "ERROR":
            exchange.error = ws.exception() or message.data
            exchange.end()
        elif ws.closed:
            exchange.at_eof = exchange.at_eof or exchange.error is None
            exchange.end()
        return message

    async def observed_close(*args: Any, **kwargs: Any) -> Any:
        # aiohttp notes the daemon's close frame (or the lost connection) before closing
        by_daemon = ws.close_code is not None
        try:
            return await close(*args, **kwargs)
        except BaseException as exc:
            exchange.error = exc
            raise
        finally:
            exchange.at_eof = exchange.at_eof or (by_daemon and exchange.error is None)
            exchange.end()

    def counted_send(send: Any, size_of: Any) -> Any:
        async def observed_send(data: Any, *args: Any, **kwargs: Any) -> None:
            await send(data, *args, **kwargs)
            exchange.written += size_of(data)

        return observed_send

    ws.receive = observed_receive
    ws.close = observed_close
    ws.send_str = counted_send(ws.send_str, _payload_size)
    ws.send_bytes = counted_send(ws.send_bytes, _payload_size)
    if hasattr(ws, "send_frame"):
        ws.send_frame = counted_send(ws.send_frame, _payload_size)


async def observe_websocket(
    transport: Transport, hooks: tuple[RequestHooks, ...], endpoint: str, target: str
) -> Any:
    """Open a websocket through ``transport``, reporting it to ``hooks`` and the request log.

    A refused handshake ends with the daemon's status (``WebSocketRefused`` is
    raised on); the end of an opened websocket is reported when it closes.
    """
    info = RequestInfo("GET", redact_target(target), endpoint)
    if hooks:
        _call(hooks, "on_request_start", info)
    started = time.perf_counter()
    try:
        ws = await transport.websocket(target)
    except WebSocketRefused as exc:
        refused = _Exchange(hooks, info, started, 0, None)
        refused.status = exc.status
        refused.at_eof = True
        refused.end()
        raise
    except BaseException as exc:
        _report_error(hooks, info, started, exc)
        raise
    exchange = _Exchange(hooks, info, started, 0, None)
    exchange.status = 101
    exchange.stream = True
    exchange.kind = "websocket"
    if REQUEST_LOG.isEnabledFor(logging.DEBUG):
        REQUEST_LOG.debug("GET %s -> 101 stream open (websocket)", info.path)
    _watch_websocket(ws, exchange)
    return ws
