"""A private unix socket whose connections are piped through one of our dialers.

Layer: ``_transport``; imports the stdlib only. aiohttp dials its own sockets (a unix path, tcp), so it
cannot run over the stdio of an ``ssh`` process or this package's TLS stream.
The relay listens on a socket in a fresh ``0700`` temporary directory; each
connection accepted there is joined to a connection the dialer opened before
(see :meth:`Relay.dial`), so dialing errors reach the caller in the dialer's
own words and every byte goes exactly where the client's requests go.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import os
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from typing import Final, cast

RELAY_LOG: Final = logging.getLogger("aiodocker.transport")


class Pipe(asyncio.Protocol):
    """One end of a relayed connection: what it receives is written to its peer.

    Before the two ends are joined, received bytes and EOF wait here. Flow
    control crosses over: when one end's write buffer is full, the other end
    stops reading. EOF is passed on as a half-close; losing one end closes
    the other.
    """

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.peer: Pipe | None = None
        self.closed = False  # the connection was lost
        self._closing = False  # close() was called, perhaps before the connection was made
        self._pending = bytearray()
        self._eof = False
        # set by a dialer that must hear of the end (SSHDialer reaps its process)
        self.on_lost: Callable[[], None] | None = None
        self.diagnose: Callable[[], Awaitable[str]] | None = None

    def join(self, peer: Pipe) -> None:
        """Join two ends; what either received so far is passed on."""
        self.peer, peer.peer = peer, self
        for side in (self, peer):
            side._flush()

    def _flush(self) -> None:
        peer = self.peer
        if peer is None or peer.transport is None:
            return
        if self._pending:
            peer.transport.write(bytes(self._pending))
            self._pending.clear()
        if self._eof:
            peer._send_eof()
        if self.closed:
            peer.close()

    def _send_eof(self) -> None:
        transport = self.transport
        if transport is not None and not transport.is_closing() and transport.can_write_eof():
            transport.write_eof()

    def close(self) -> None:
        self._closing = True
        if self.transport is not None:
            self.transport.close()

    # --- asyncio.Protocol -------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # duck-typed (uvloop, TLSTransport)
        if self._closing:  # refused, or the relay closed, before the connection was made
            self.transport.close()
        elif self.peer is not None:
            self.peer._flush()  # what the peer got before this end was connected

    def data_received(self, data: bytes) -> None:
        peer = self.peer
        if peer is None or peer.transport is None:
            self._pending += data
        else:
            peer.transport.write(data)

    def eof_received(self) -> bool:
        peer = self.peer
        if peer is None or peer.transport is None:
            self._eof = True  # passed on with the pending bytes
        else:
            peer._send_eof()
        return True  # the other direction may still carry data

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.peer is not None:
            self.peer.close()
        if self.on_lost is not None:
            self.on_lost()

    def pause_writing(self) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.resume_reading()


Dial = Callable[[Callable[[], Pipe]], Awaitable[Pipe]]


class Relay:
    """Listens on a private unix socket; joins each accepted connection to a dialed one."""

    def __init__(self, dial: Dial, description: str) -> None:
        self._dial = dial
        self.description = description
        self._directory: str | None = None
        self._server: asyncio.AbstractServer | None = None
        self._dialed: collections.deque[Pipe] = collections.deque()
        self._pipes: set[Pipe] = set()

    @property
    def path(self) -> str:
        assert self._directory is not None, "start() first"
        return os.path.join(self._directory, "docker.sock")

    async def start(self) -> None:
        self._directory = tempfile.mkdtemp(prefix="aiodocker-relay-")  # mode 0700
        loop = asyncio.get_running_loop()
        try:
            self._server = await loop.create_unix_server(self._accept, self.path)
        except BaseException:
            shutil.rmtree(self._directory, ignore_errors=True)
            raise

    async def dial(self) -> Pipe:
        """Open the connection that the next accepted one will be joined to, and return it.

        Raises:
            DockerConnectionError: the dialer could not reach the daemon.
        """
        far = await self._dial(Pipe)
        self._dialed.append(far)
        if RELAY_LOG.isEnabledFor(logging.DEBUG):
            RELAY_LOG.debug("dialed a relayed connection to %s", self.description)
        return far

    def _accept(self) -> Pipe:
        near = Pipe()
        while self._dialed:
            far = self._dialed.popleft()
            if not far.closed:  # one left by a cancelled caller may have died since
                self._pipes.update((near, far))
                near.join(far)
                return near
        near.close()  # nobody dialed for it: refuse
        return near

    def drop_closed(self) -> None:
        """Forget the connections that have ended."""
        self._pipes = {pipe for pipe in self._pipes if not pipe.closed}

    def discard(self) -> None:
        """Close every connection and the socket without waiting (the loop may be gone)."""
        pipes = [*self._pipes, *self._dialed]
        self._pipes.clear()
        self._dialed.clear()
        for pipe in pipes:
            try:
                pipe.close()
            except RuntimeError:
                pass  # its loop is closed
        if self._server is not None:
            try:
                self._server.close()
            except RuntimeError:
                pass
            self._server = None
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)
            self._directory = None

    async def close(self) -> None:
        server = self._server
        self.discard()
        if server is not None:
            await server.wait_closed()
