"""``Stream``: the hijacked connection of ``attach`` and ``exec start``.

A public module at aiodocker's import path. It builds on the core
(``self._api``, from :class:`~aiodocker._core.resource.Resource`), the transport
seam's ``Channel`` and the frame decoders of ``_streams.frames``; it knows no
socket and no HTTP library.
"""

from __future__ import annotations

import asyncio
import collections
import warnings
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, TypeAlias

from ._core.request import unexpected
from ._core.resource import Resource
from ._legacy.stream_bridge import CLOSED_WRITE, assign_resp, resp_view, warns_unclosed
from ._streams.frames import FrameDecoder, Message, RawDecoder, decoder_for
from .exceptions import DockerError

if TYPE_CHECKING:
    from ._core.client import TimeoutArg
    from ._transport.base import Channel
    from .docker import Docker

__all__ = ("Message", "Stream", "StreamSetup")

StreamSetup: TypeAlias = Callable[
    [], Awaitable[tuple[str, Mapping[str, Any], "Mapping[str, Any] | None", bool]]
]
"""``async () -> (path, query params, JSON body or None, tty)`` of the request to hijack."""

UPGRADE_HEADERS: Final[Mapping[str, str]] = {"Connection": "Upgrade", "Upgrade": "tcp"}
# 101 is the answer to the upgrade request; daemons before API 1.24-ish hijack with 200.
HIJACK_STATUSES: Final = frozenset({101, 200})


class Stream(Resource):
    """A bidirectional stream over a hijacked attach or exec connection.

    Connects lazily: on ``async with`` or on the first read or write. Output
    comes as :class:`Message` objects (stream 1 stdout, 2 stderr; always 1 under
    a tty); input goes in with :meth:`write_in`, and :meth:`write_eof` closes
    stdin while output keeps flowing until the process exits.

    Args:
        docker: the client.
        setup: coroutine function returning ``(path, params, body, tty)``.
        timeout: bounds connecting (sending the request and receiving the
            response head); reading and writing have no time limit. A float,
            None (no limit), ``SENTINEL`` (no limit) or an ``aiohttp.ClientTimeout``.
    """

    if TYPE_CHECKING:
        docker: Docker  # 0.27 types the attribute so; annotations only, no import at run time

    def __init__(self, docker: Docker, setup: StreamSetup, timeout: TimeoutArg = None) -> None:
        super().__init__(docker)
        self._setup = setup
        self._timeout = timeout
        self._channel: Channel | None = None
        self._decoder: FrameDecoder | RawDecoder | None = None
        self._pending: collections.deque[Message] = collections.deque()
        self._connected = False
        self._at_eof = False
        self._eof_sent = False
        self._closed = False
        self._connect_lock = asyncio.Lock()
        self._read_lock = asyncio.Lock()
        self._eof_callbacks: list[Callable[[], None]] = []

    def __repr__(self) -> str:
        if self._closed:
            state = "closed"
        elif self._at_eof:
            state = "at EOF"
        elif self._connected:
            state = "connected"
        else:
            state = "not connected"
        return f"<Stream {state}>"

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closed

    @property
    def _resp(self) -> Any:
        """aiodocker 0.27's response of the hijacked request, as code uses it to half-close.

        0.27 has no public half-close, so callers write
        ``stream._resp.connection.transport.write_eof()``; here that transport is a
        bridge to :meth:`write_eof` (and ``write``, ``close``, ``is_closing``) over
        every transport. None until the stream is connected, as in 0.27.

        Assignable as in 0.27 (tests and callers set it to None or to a response they
        closed): the assigned value is what reading it gives from then on, and what
        decides whether an unclosed stream warns when it is collected. The stream's
        own connection is unaffected; ``close()`` still closes it.
        """
        return resp_view(self)

    @_resp.setter
    def _resp(self, value: Any) -> None:
        assign_resp(self, value)

    @property
    def at_eof(self) -> bool:
        """True once all output was read (the daemon ended the stream)."""
        return self._at_eof

    def add_eof_callback(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` when :meth:`read_out` reaches the end of the output."""
        if self._at_eof:
            callback()
        else:
            self._eof_callbacks.append(callback)

    # --- connecting -----------------------------------------------------------

    async def _connect(self) -> Channel:
        channel = self._channel
        if channel is not None:
            return channel
        async with self._connect_lock:
            if self._closed:
                raise RuntimeError(CLOSED_WRITE)
            if self._channel is not None:
                return self._channel
            api = self._api
            path, params, body, tty = await self._setup()
            kwargs: dict[str, Any] = {}
            if body is not None:
                kwargs["json_body"] = body
            response = await api.request(
                "POST",
                path,
                params=params,
                headers=UPGRADE_HEADERS,
                timeout=api.seconds(self._timeout, long_running=True),
                **kwargs,
            )
            try:
                if response.status not in HIJACK_STATUSES:
                    raise unexpected(
                        "POST", "/" + path.lstrip("/"), response.status,
                        f"was not upgraded to a raw stream ({response.reason})",
                    )  # fmt: skip
                decoder = decoder_for(response.headers.get("Content-Type"), tty)
                channel = response.detach()
            except BaseException:
                response.release()
                raise
            if self._closed:  # close() ran while we were connecting
                channel.close()
                raise RuntimeError(CLOSED_WRITE)
            self._decoder = decoder
            self._channel = channel
            self._connected = True
            return channel

    # --- reading --------------------------------------------------------------

    async def read_out(self) -> Message | None:
        """Return the next piece of output, or None at the end of the stream.

        Raises:
            DockerTruncatedStreamError: the stream ended inside a multiplexed frame.
            DockerStreamError: the output is not multiplexed although it should be.
        """
        if self._pending:
            return self._pending.popleft()
        if self._closed or self._at_eof:
            return None
        channel = await self._connect()
        decoder = self._decoder
        assert decoder is not None
        async with self._read_lock:
            pending = self._pending
            while not pending:
                if self._at_eof:
                    return None
                chunk = await channel.body.read_chunk()
                if chunk:
                    pending.extend(decoder.feed(chunk))
                    continue
                self._at_eof = True
                if self._closed:  # we cut it ourselves: not a truncation
                    return None
                callbacks, self._eof_callbacks = self._eof_callbacks, []
                for callback in callbacks:
                    callback()
                pending.extend(decoder.flush())  # raises if cut inside a frame
            return pending.popleft()

    def __aiter__(self) -> Stream:
        return self

    async def __anext__(self) -> Message:
        message = await self.read_out()
        if message is None:
            raise StopAsyncIteration
        return message

    # --- writing --------------------------------------------------------------

    async def write_in(self, data: bytes) -> None:
        """Send ``data`` to the process's stdin, waiting while the transport is full.

        Raises:
            RuntimeError: the stream is closed, or stdin was closed with write_eof().
            TypeError: ``data`` is not bytes-like.
        """
        if isinstance(data, str) or not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data must be bytes, not {type(data).__name__}")
        if self._closed:
            raise RuntimeError(CLOSED_WRITE)
        channel = await self._connect()
        if self._eof_sent:
            raise RuntimeError("Cannot write to stdin after write_eof()")
        if self._closed:
            raise RuntimeError(CLOSED_WRITE)
        if data:
            channel.write(bytes(data))
            await channel.drain()

    async def write_eof(self) -> None:
        """Close stdin (half-close); output keeps flowing until the process exits.

        Idempotent.

        Raises:
            RuntimeError: the stream is closed, or its transport cannot half-close.
        """
        if self._closed:
            raise RuntimeError(CLOSED_WRITE)
        channel = await self._connect()
        if self._eof_sent:
            return
        if not channel.can_write_eof():
            raise RuntimeError("this transport cannot half-close the stream")
        self._eof_sent = True
        # No drain: the transport sends what is buffered before the EOF, and a
        # process that already exited (connection closed) must not make this fail.
        channel.write_eof()

    # --- closing --------------------------------------------------------------

    async def close(self) -> None:
        """Close stdin if still open, then the connection. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._pending.clear()
        channel, self._channel = self._channel, None
        if channel is None:
            return
        try:
            if not self._eof_sent and not self._at_eof and channel.can_write_eof():
                self._eof_sent = True
                channel.write_eof()
        except (OSError, RuntimeError, DockerError):
            pass  # the connection is going away anyway
        finally:
            channel.close()

    async def __aenter__(self) -> Stream:
        try:
            await self._connect()
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __del__(self, _warn: Callable[..., None] = warnings.warn) -> None:
        channel = getattr(self, "_channel", None)
        closed = getattr(self, "_closed", True)
        if warns_unclosed(self, channel, closed):
            _warn("Unclosed ExecStream", ResourceWarning, source=self)
        if channel is not None and not closed:
            try:
                channel.close()
            except Exception:  # the loop may be gone already
                pass
