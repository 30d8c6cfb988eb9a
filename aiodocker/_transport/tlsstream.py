"""TLS over a plain transport, with a real half-close.

Layer: ``_transport``; imports the stdlib and ``base`` only.

asyncio's own SSL transport cannot ``write_eof()``, but attach and exec need
to close stdin while output keeps flowing. Sending TLS ``close_notify`` is
that half-close: the daemon reads EOF on stdin and keeps writing. This module
runs TLS through ``ssl.MemoryBIO`` so the close can be sent without closing
the socket.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
from typing import Any, Final, cast

from .base import release_closed_transport, socket_read_buffer

# The most plaintext asked of OpenSSL per read (it hands out one TLS record at most,
# whose plaintext is 16 KiB); ciphertext comes through base.socket_read_buffer.
PLAIN_READ_SIZE: Final = 16 * 1024

# The most bytes moved through a MemoryBIO at once: ciphertext fed in or taken out,
# plaintext handed to SSLObject.write. A BIO's buffer grows to the most it held and
# a read out of it allocates all it holds, so unbounded pieces (a 256 KiB socket read,
# a bytes body written at once: 200 MB for a put_archive of 200 MB) make transient
# copies as large, above glibc's 128 KiB mmap threshold; freeing one raises that
# threshold and later ones fragment the heap.
BIO_PIECE: Final = 64 * 1024


class _Scratch(threading.local):
    """One thread's plaintext read buffer, shared by its TLS connections.

    ``SSLObject.read(n)`` without a buffer allocates ``n`` bytes per read and shrinks
    them to what came, which fragments the heap as ``socket.recv`` does (see
    base.SocketReadBuffer): reading into one buffer per thread and copying out what
    came allocates only that. It is used from a read until its bytes are copied,
    with no other code of the thread in between.
    """

    def __init__(self) -> None:
        self.plain = bytearray(PLAIN_READ_SIZE)
        self.plain_view = memoryview(self.plain)


_scratch: Final = _Scratch()


class TLSTransport(asyncio.Transport):
    """A transport for ``app`` that encrypts into the plain socket transport below it."""

    def __init__(self, context: ssl.SSLContext, server_hostname: str | None, app: asyncio.Protocol):
        super().__init__()
        # All three are None once the socket is gone, see _raw_lost.
        self._incoming: ssl.MemoryBIO | None = ssl.MemoryBIO()
        self._outgoing: ssl.MemoryBIO | None = ssl.MemoryBIO()
        self._ssl: ssl.SSLObject | None = context.wrap_bio(
            self._incoming, self._outgoing, server_side=False, server_hostname=server_hostname
        )
        self._app = app
        self._raw: asyncio.Transport | None = None
        self._handshake: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._eof_sent = False
        self._eof_received = False
        self._closing = False
        self._paused = False

    # --- the plain socket side (we are its protocol) -----------------------

    def protocol(self) -> _RawProtocol:
        return _RawProtocol(self)

    async def handshake(self) -> None:
        self._do_handshake()
        await self._handshake

    def _do_handshake(self) -> None:
        if self._ssl is None:
            return
        try:
            self._ssl.do_handshake()
        except ssl.SSLWantReadError:
            self._flush()
            return
        except ssl.SSLError as exc:
            self._flush()
            if not self._handshake.done():
                self._handshake.set_exception(exc)
            if self._raw is not None:
                self._raw.close()
            return
        self._flush()
        if not self._handshake.done():
            self._handshake.set_result(None)
            self._app.connection_made(self)

    def _raw_data(self, data: bytes | memoryview) -> None:
        view = memoryview(data)
        while view and self._incoming is not None:
            self._incoming.write(view[:BIO_PIECE])
            view = view[BIO_PIECE:]
            if not self._handshake.done():
                self._do_handshake()
                if not self._handshake.done():
                    continue
            self._read_plain()

    def _read_plain(self) -> None:
        scratch = _scratch
        while not self._eof_received and self._ssl is not None:
            try:
                # with a buffer, read() returns the count (typeshed says bytes)
                size = cast(int, self._ssl.read(PLAIN_READ_SIZE, scratch.plain))
            except ssl.SSLWantReadError:
                break
            except ssl.SSLZeroReturnError:
                self._on_eof()
                break
            except ssl.SSLError as exc:
                self._flush()
                if self._raw is not None:
                    self._raw.close()
                self._app.connection_lost(exc)
                return
            if not size:  # the peer's close_notify (read() raises only once we sent ours)
                self._on_eof()
                break
            self._app.data_received(bytes(scratch.plain_view[:size]))
        self._flush()

    def _on_eof(self) -> None:
        if self._eof_received:
            return
        self._eof_received = True
        keep_open = self._app.eof_received()
        if not keep_open:
            self.close()

    def _raw_eof(self) -> None:
        if not self._handshake.done():
            self._handshake.set_exception(ConnectionResetError("connection closed during TLS handshake"))
            return
        self._on_eof()

    def _raw_lost(self, exc: Exception | None) -> None:
        # Free OpenSSL's state now. The app and this transport refer to each other,
        # so otherwise it waits for the cyclic GC, whose thresholds count Python
        # objects and not OpenSSL's buffers: in the soak benchmark 481 SSLObjects were
        # alive after 60 s with 200 connections open.
        self._ssl = None
        self._incoming = self._outgoing = None  # their buffers keep their largest size
        self._raw = None
        self._closing = True
        if not self._handshake.done():
            self._handshake.set_exception(exc or ConnectionResetError("connection lost"))
            return
        self._app.connection_lost(exc)

    def _flush(self) -> None:
        while self._outgoing is not None and self._outgoing.pending:
            data = self._outgoing.read(BIO_PIECE)
            if self._raw is not None and not self._raw.is_closing():
                self._raw.write(data)

    # --- the application side (we are its transport) -------------------------

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._eof_sent:
            raise RuntimeError("cannot write after write_eof()")
        if self._ssl is None:
            return  # the socket is gone; the app has been told
        view = memoryview(data)
        while view and self._ssl is not None:
            # a piece of at most BIO_PIECE plaintext is a little more ciphertext
            view = view[self._ssl.write(view[:BIO_PIECE]) :]
            self._flush()

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        """Send TLS close_notify: the peer sees EOF, we keep reading."""
        if self._eof_sent:
            return
        self._eof_sent = True
        if self._ssl is None:
            return
        try:
            self._ssl.unwrap()
        except (ssl.SSLWantReadError, ssl.SSLZeroReturnError):
            pass
        except ssl.SSLError:
            pass
        self._flush()

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        if self._raw is not None:
            self._raw.close()

    def abort(self) -> None:
        self._closing = True
        if self._raw is not None:
            self._raw.abort()

    def pause_reading(self) -> None:
        self._paused = True
        if self._raw is not None:
            self._raw.pause_reading()

    def resume_reading(self) -> None:
        self._paused = False
        if self._raw is not None:
            self._raw.resume_reading()

    def is_reading(self) -> bool:
        return not self._paused

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "ssl_object":
            return self._ssl
        if self._raw is not None:
            return self._raw.get_extra_info(name, default)
        return default

    def get_write_buffer_size(self) -> int:
        return self._raw.get_write_buffer_size() if self._raw is not None else 0


class _RawProtocol(asyncio.BufferedProtocol):
    """The socket's protocol: the loop reads into the thread's socket buffer (see base)."""

    def __init__(self, tls: TLSTransport) -> None:
        self._tls = tls

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # Duck-typed, as in http.Connection: uvloop's transports are not asyncio.Transport.
        self._tls._raw = cast(asyncio.Transport, transport)

    def get_buffer(self, sizehint: int) -> bytearray:
        return socket_read_buffer.data

    def buffer_updated(self, nbytes: int) -> None:
        self._tls._raw_data(socket_read_buffer.view[:nbytes])

    def eof_received(self) -> bool:
        self._tls._raw_eof()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        raw = self._tls._raw
        self._tls._raw_lost(exc)
        release_closed_transport(raw)  # in the TLS soak about 12 a second waited for the GC

    def pause_writing(self) -> None:
        self._tls._app.pause_writing()

    def resume_writing(self) -> None:
        self._tls._app.resume_writing()
