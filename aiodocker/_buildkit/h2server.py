"""The HTTP/2 side of a BuildKit session: serve gRPC calls with the ``h2`` library.

Layer: ``_buildkit``; imports the stdlib, ``h2`` and :mod:`.grpc`. Flow control is
honoured in both directions.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings

from .grpc import UNIMPLEMENTED, UNKNOWN, Call, GrpcError, Handler

_READ_WINDOW: Final = 4 * 1024 * 1024  # per stream: what one call may hold unconsumed
# the connection's window is larger, so a call holding its window full (an export
# waiting on the disk) never stops the daemon's health checks
_CONNECTION_WINDOW: Final = 4 * _READ_WINDOW


class GrpcServer:
    """Serve gRPC calls arriving on one HTTP/2 connection (we are the server side).

    ``read()`` returns the next bytes from the connection (b"" at its end);
    ``write(data)`` queues bytes and ``drain()`` waits until they can be sent.
    ``serve()`` runs until the connection ends; it returns normally when the
    peer ended the connection and raises ``ConnectionError`` on a protocol error.
    """

    def __init__(
        self,
        handlers: Mapping[str, Handler],
        *,
        read: Callable[[], Awaitable[bytes]],
        write: Callable[[bytes], None],
        drain: Callable[[], Awaitable[None]],
    ) -> None:
        self._handlers = handlers
        self._read = read
        self._write = write
        self._drain_channel = drain
        # the channel keeps a single drain waiter: concurrent drains must queue
        self._drain_lock = asyncio.Lock()
        config = h2.config.H2Configuration(client_side=False, header_encoding="utf-8")
        self._conn = h2.connection.H2Connection(config=config)
        self._calls: dict[int, Call] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._window_open = asyncio.Event()
        self._closed = False

    # --- writing ----------------------------------------------------------------

    async def _drain(self) -> None:
        async with self._drain_lock:
            await self._drain_channel()

    def _flush(self) -> None:
        data = self._conn.data_to_send()
        if data:
            self._write(data)

    def send_headers(
        self, stream_id: int, headers: list[tuple[str, str]], *, end_stream: bool = False
    ) -> None:
        if self._closed:
            raise ConnectionError("the session connection is closed")
        with contextlib.suppress(h2.exceptions.StreamClosedError):
            self._conn.send_headers(stream_id, headers, end_stream=end_stream)
        self._flush()

    async def send_data(self, stream_id: int, data: bytes) -> None:
        view = memoryview(data)
        while view:
            if self._closed:
                raise ConnectionError("the session connection is closed")
            window = min(
                self._conn.local_flow_control_window(stream_id), self._conn.max_outbound_frame_size
            )
            if window <= 0:
                self._window_open.clear()
                await self._window_open.wait()
                continue
            self._conn.send_data(stream_id, bytes(view[:window]))
            view = view[window:]
            self._flush()
            await self._drain()

    # --- reading ----------------------------------------------------------------

    async def serve(self) -> None:
        self._conn.initiate_connection()
        self._conn.increment_flow_control_window(_CONNECTION_WINDOW - 65535)
        self._conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: _READ_WINDOW})
        self._flush()
        await self._drain()
        try:
            while True:
                data = await self._read()
                if not data:
                    return
                try:
                    events = self._conn.receive_data(data)
                except h2.exceptions.ProtocolError as exc:
                    self._flush()
                    raise ConnectionError(f"HTTP/2 protocol error in the session: {exc}") from exc
                for event in events:
                    if self._handle(event):
                        return
                self._flush()
                await self._drain()
        finally:
            await self._stop()

    def _handle(self, event: h2.events.Event) -> bool:
        """Handle one event; return True when the connection ended."""
        if isinstance(event, h2.events.RequestReceived):
            self._start_call(event.stream_id, event.headers or [])
        elif isinstance(event, h2.events.DataReceived):
            call = self._calls.get(event.stream_id)
            if call is None or not event.data:
                self._acknowledge(event.stream_id, event.flow_controlled_length)
            else:
                try:
                    call.feed(event.data, event.flow_controlled_length)
                except GrpcError as exc:
                    call.finish(exc.code, exc.message)
        elif isinstance(event, h2.events.StreamEnded):
            call = self._calls.get(event.stream_id)
            if call is not None:
                call.end()
        elif isinstance(event, h2.events.StreamReset):
            call = self._calls.pop(event.stream_id, None)
            if call is not None:
                call.end()
                self._window_open.set()
        elif isinstance(event, h2.events.WindowUpdated | h2.events.RemoteSettingsChanged):
            self._window_open.set()
        elif isinstance(event, h2.events.ConnectionTerminated):
            return True
        return False

    def _acknowledge(self, stream_id: int, size: int, *, flush: bool = False) -> None:
        """Reopen the flow-control windows for ``size`` bytes the handler consumed."""
        if self._closed or not size:
            return
        # h2 reopens the connection window even when the stream has closed meanwhile
        self._conn.acknowledge_received_data(size, stream_id)
        if flush:
            self._flush()

    def _start_call(self, stream_id: int, headers: list[Any]) -> None:
        metadata: dict[str, list[str]] = {}
        for name, value in headers:
            key = name.decode() if isinstance(name, bytes) else name
            text = value.decode() if isinstance(value, bytes) else value
            metadata.setdefault(key.lower(), []).append(text)
        method = (metadata.pop(":path", None) or [""])[0]
        call = Call(self, stream_id, method, metadata)
        call.on_consumed = lambda size: self._acknowledge(stream_id, size, flush=True)
        self._calls[stream_id] = call
        handler = self._handlers.get(method)
        task = asyncio.get_running_loop().create_task(self._run(call, handler))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, call: Call, handler: Handler | None) -> None:
        try:
            if handler is None:
                raise GrpcError(UNIMPLEMENTED, f"method {call.method} is not served")
            await handler(call)
            call.finish()
        except GrpcError as exc:
            with contextlib.suppress(ConnectionError):
                call.finish(exc.code, exc.message)
        except ConnectionError:
            pass
        except Exception as exc:  # a handler bug must not kill the session silently
            with contextlib.suppress(ConnectionError):
                call.finish(UNKNOWN, f"{type(exc).__name__}: {exc}")
        finally:
            self._calls.pop(call.stream_id, None)

    async def _stop(self) -> None:
        self._closed = True
        self._window_open.set()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
