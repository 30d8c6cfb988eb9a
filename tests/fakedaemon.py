"""A scriptable fake daemon on a unix socket, for protocol and fault-injection tests.

Each accepted connection reads requests (head plus Content-Length or chunked body)
and passes them to ``handler(request)``, which returns (or is a coroutine that
returns) what to do:

* ``bytes``: written back verbatim (so a test can send truncated or malformed
  responses), then the next request is read;
* ``None``: the connection is closed;
* a list of actions, played in order: ``bytes`` to write, ``Pause(seconds)``,
  ``Repeat(data, times)`` (written ``times`` times, ``None`` for ever: an endless
  body or header), ``Hang()`` (never answer, until the client leaves), ``Close()``.
  The connection is kept for the next request unless a ``Close`` ended the script.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit


@dataclass
class Request:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes
    connection_id: int
    raw_head: bytes = b""  # the request line and headers exactly as received


@dataclass(frozen=True)
class Pause:
    seconds: float


@dataclass(frozen=True)
class Repeat:
    data: bytes
    times: int | None = None


@dataclass(frozen=True)
class Hang:
    pass


@dataclass(frozen=True)
class Close:
    pass


Action = bytes | Pause | Repeat | Hang | Close
Answer = bytes | list[Action] | None
Handler = Callable[[Request], Awaitable[Answer] | Answer]


@dataclass
class FakeDaemon:
    path: str
    handler: Handler
    requests: list[Request] = field(default_factory=list)
    connections: int = 0
    live: int = 0  # connections open now
    peak: int = 0  # the most open at once
    server: asyncio.AbstractServer | None = None
    open_writers: set[asyncio.StreamWriter] = field(default_factory=set)

    async def start(self) -> FakeDaemon:
        # a backlog above asyncio's 100: a burst of connects beyond it would fail with EAGAIN
        self.server = await asyncio.start_unix_server(self._serve, self.path, backlog=1024)
        return self

    async def stop(self) -> None:
        for writer in list(self.open_writers):
            writer.close()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        conn_id = self.connections
        self.live += 1
        self.peak = max(self.peak, self.live)
        self.open_writers.add(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                method, target, headers = parse_head(head)
                body = b""
                if headers.get("transfer-encoding") == "chunked":
                    parts = []
                    while True:
                        size = int((await reader.readuntil(b"\r\n")).strip(), 16)
                        if size == 0:
                            await reader.readuntil(b"\r\n")
                            break
                        parts.append(await reader.readexactly(size))
                        await reader.readexactly(2)
                    body = b"".join(parts)
                elif "content-length" in headers:
                    body = await reader.readexactly(int(headers["content-length"]))
                request = Request(method, target, headers, body, conn_id, head)
                self.requests.append(request)
                result = self.handler(request)
                if asyncio.iscoroutine(result):
                    result = await result
                if result is None:
                    break
                if isinstance(result, bytes):
                    writer.write(result)
                    await writer.drain()
                elif not await _play(result, reader, writer):
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            self.live -= 1
            self.open_writers.discard(writer)
            writer.close()
            # The handler ends once the socket is closed: uvloop closes it a loop turn later.
            try:
                await writer.wait_closed()
            except (ConnectionError, OSError):
                pass


def parse_head(head: bytes) -> tuple[str, str, dict[str, str]]:
    """Return the method, target and headers (names in lower case) of a request head."""
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    return method, target, headers


async def _play(
    actions: list[Action], reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> bool:
    """Play a script of actions; False when it closed the connection."""
    for action in actions:
        if isinstance(action, bytes):
            writer.write(action)
            await writer.drain()
        elif isinstance(action, Pause):
            await asyncio.sleep(action.seconds)
        elif isinstance(action, Repeat):
            sent = 0
            while action.times is None or sent < action.times:
                writer.write(action.data)
                await writer.drain()
                sent += 1
        elif isinstance(action, Hang):
            await reader.read()  # until the client closes its side
            return False
        else:
            return False
    return True


def http_response(
    status: int = 200,
    body: bytes | Any = b"",
    *,
    headers: dict[str, str] | None = None,
    reason: str = "OK",
) -> bytes:
    """Encode a complete HTTP/1.1 response with Content-Length (JSON for non-bytes bodies)."""
    all_headers = {"Server": "fake"}
    if not isinstance(body, bytes):
        body = json.dumps(body).encode()
        all_headers["Content-Type"] = "application/json"
    all_headers.update(headers or {})
    all_headers["Content-Length"] = str(len(body))
    head = f"HTTP/1.1 {status} {reason}\r\n" + "".join(
        f"{k}: {v}\r\n" for k, v in all_headers.items()
    )
    return head.encode() + b"\r\n" + body


def routed(routes: Mapping[str, Handler]) -> Handler:
    """A handler: ``/version`` says API 1.41, a path ending in a key of ``routes`` goes to its
    handler (looked up on each request, so a test may add routes later), anything else is 404."""

    def handler(request: Request) -> Awaitable[Answer] | Answer:
        path = urlsplit(request.target).path
        if path.endswith("/version"):
            return http_response(200, VERSION_1_41)
        for suffix, route in routes.items():
            if path.endswith(suffix):
                return route(request)
        return http_response(404, {"message": f"no route for {path}"}, reason="Not Found")

    return handler


def chunked(*chunks: bytes, end: bool = True) -> bytes:
    """Encode chunks in chunked transfer coding (without the terminator when ``end`` is False)."""
    out = b"".join(b"%x\r\n%b\r\n" % (len(c), c) for c in chunks)
    return out + (b"0\r\n\r\n" if end else b"")


VERSION_1_41 = {"ApiVersion": "1.41", "MinAPIVersion": "1.12", "Version": "20.10.24", "Os": "linux"}
