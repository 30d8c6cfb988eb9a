"""The BuildKit session: ``POST /session`` upgraded to HTTP/2, served as gRPC.

Layer: ``_buildkit``; imports the stdlib, the leaves and its siblings. The
caller sends ``POST /session`` with :meth:`Session.headers` and hands over the
upgraded connection (the transport's ``Channel``), so this module never sees
sockets or the HTTP engine.

Facts followed (BuildKit's ``session`` package and the Engine API):

* the request carries ``Upgrade: h2c``, ``Connection: Upgrade`` and the
  ``X-Docker-Expose-Session-Uuid``/``-Name``/``-Sharedkey`` headers, plus one
  ``X-Docker-Expose-Session-Grpc-Method`` field per served method; the daemon
  answers ``101`` and then speaks HTTP/2 as the gRPC client;
* the shared key names the synced directories across builds: the daemon
  keeps its copy of a context under it, so a rebuild transfers only changes;
* the daemon calls ``/grpc.health.v1.Health/Check`` while the session lives;
  an answer other than SERVING makes it drop the session.

Repeated header fields: the request API takes a mapping, so the method
fields are written under names that differ only in letter case; HTTP field
names are case-insensitive and the daemon (Go's ``net/http``) folds them
into one field with several values.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import uuid
from collections.abc import Mapping
from typing import Any, Final, Protocol
from urllib.parse import quote

from ..exceptions import DockerError
from .grpc import Call, Handler
from .wire import field_varint

HEALTH_CHECK: Final = "/grpc.health.v1.Health/Check"
_SERVING: Final = 1  # grpc.health.v1.HealthCheckResponse.ServingStatus
_METHOD_HEADER: Final = "X-Docker-Expose-Session-Grpc-Method"


class BodyReader(Protocol):
    async def read_chunk(self) -> bytes: ...


class Channel(Protocol):
    """What the session needs of an upgraded connection (``_transport.base.Channel``)."""

    @property
    def body(self) -> BodyReader: ...

    def write(self, data: bytes) -> None: ...

    async def drain(self) -> None: ...

    def close(self) -> None: ...


class BuildKitSessionError(DockerError):
    """The BuildKit session ended while a build still needed it."""

    def __init__(self, message: str) -> None:
        super().__init__(0, message)


def shared_key(directory: str) -> str:
    """A stable key for a synced directory (the daemon keeps its copy under it)."""
    return hashlib.sha256(os.path.realpath(directory).encode()).hexdigest()[:32]


def case_variants(name: str, count: int) -> list[str]:
    """Return ``count`` spellings of ``name`` that differ only in letter case."""
    letters = [i for i, char in enumerate(name) if char.isalpha()]
    if count > 1 << len(letters):
        raise ValueError(f"too many values for header {name}")
    variants = []
    for number in range(count):
        chars = list(name)
        for bit, index in enumerate(letters):
            if number >> bit & 1:
                chars[index] = chars[index].swapcase()
        variants.append("".join(chars))
    return variants


def header_safe(name: str) -> str:
    """``name`` with every character outside printable ASCII percent-encoded.

    The session name is the context directory's name, shown by the daemon and
    nothing more; a newline in it must not end the header (and start another).
    """
    return "".join(c if " " <= c <= "~" else quote(c, safe="") for c in name)


def session_headers(session_id: str, name: str, key: str, methods: list[str]) -> dict[str, str]:
    headers = {
        "Upgrade": "h2c",
        "Connection": "Upgrade",
        "X-Docker-Expose-Session-Uuid": session_id,
        "X-Docker-Expose-Session-Name": header_safe(name),
        "X-Docker-Expose-Session-Sharedkey": key,
    }
    for header, method in zip(case_variants(_METHOD_HEADER, len(methods)), methods, strict=True):
        headers[header] = method
    return headers


async def _health_check(call: Call) -> None:
    await call.recv()
    await call.send(field_varint(1, _SERVING))


class Session:
    """One BuildKit session serving ``handlers`` (the health check is added).

    :meth:`start` serves the connection that ``POST /session`` with
    :meth:`headers` was upgraded to. ``dead`` is a future that completes
    (with a :class:`BuildKitSessionError`) when the connection ends before
    :meth:`close`. ``bytes_sent`` counts what crossed to the daemon.
    """

    def __init__(
        self,
        handlers: Mapping[str, Handler],
        *,
        name: str,
        key: str,
    ) -> None:
        self.id = uuid.uuid4().hex
        self.name = name
        self.key = key
        self.handlers: dict[str, Handler] = {HEALTH_CHECK: _health_check, **handlers}
        self._channel: Channel | None = None
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.bytes_sent = 0
        self.dead: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def headers(self) -> dict[str, str]:
        """The headers of ``POST /session`` announcing this session and its methods."""
        return session_headers(self.id, self.name, self.key, sorted(self.handlers))

    def start(self, channel: Channel) -> None:
        """Serve the daemon's calls on the upgraded connection, in a background task."""
        from .h2server import GrpcServer  # needs h2: imported only when a session starts

        self._channel = channel

        def write(data: bytes) -> None:
            self.bytes_sent += len(data)
            channel.write(data)

        server = GrpcServer(
            self.handlers, read=channel.body.read_chunk, write=write, drain=channel.drain
        )
        self._task = asyncio.get_running_loop().create_task(self._serve(server))

    async def _serve(self, server: Any) -> None:
        reason = "the daemon closed the connection"
        try:
            await server.serve()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            reason = str(exc) or type(exc).__name__
        if not self._closing and not self.dead.done():
            self.dead.set_exception(
                BuildKitSessionError(f"the BuildKit session {self.id} ended: {reason}")
            )

    async def close(self) -> None:
        """Close the connection and stop serving. Idempotent."""
        self._closing = True
        channel, self._channel = self._channel, None
        if channel is not None:
            channel.close()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if not self.dead.done():
            self.dead.set_result(None)
        elif not self.dead.cancelled():
            self.dead.exception()  # retrieved: a death after the build is no error
