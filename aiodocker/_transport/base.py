"""The transport seam: what the layers above may rely on.

Layer: ``_transport``; imports the stdlib and the package's leaf modules only. The core sees a ``Transport``
(one method that sends a request) and the ``Response`` it returns; it never
sees sockets, dialers or the HTTP library. Both our own engine
(:mod:`.http`) and the aiohttp adapter (:mod:`.aiohttp_engine`) satisfy these
protocols.
"""

from __future__ import annotations

import asyncio
import os
import re
import stat
import threading
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Mapping
from contextlib import asynccontextmanager
from typing import IO, Any, Final, Protocol, cast

from .._json import loads
from ..exceptions import DockerResponseError, DockerTruncatedStreamError

SOCKET_READ_SIZE: Final = 256 * 1024  # the most taken from a socket per read


class SocketReadBuffer(threading.local):
    """One thread's socket read buffer, shared by all its connections (HTTP and TLS).

    asyncio's own reads (``socket.recv(256 KiB)``) allocate the whole size and shrink
    it to what came: glibc's heap then keeps more and more free, fragmented memory
    (in the soak, RSS grew while the bytes in use stayed flat). A ``BufferedProtocol``
    has the loop read into this buffer instead and copies out what came in
    ``buffer_updated``, before any other code of the thread runs.
    """

    def __init__(self) -> None:
        self.data = bytearray(SOCKET_READ_SIZE)
        self.view = memoryview(self.data)


socket_read_buffer: Final = SocketReadBuffer()


def release_closed_transport(transport: object) -> None:
    """Break the self-reference a closed asyncio socket transport keeps before Python 3.12.

    The selector transport holds ``_read_ready_cb``, a bound method of itself
    (CPython gh-100348), so a closed one and its socket wait for a full collection of
    the cyclic GC, which is rare: in the soak, connections closed by the dozen each
    second piled up that way. Call it from ``connection_lost``: the loop calls nothing
    of the transport after that. Nothing to do on uvloop or once the attribute is gone.
    """
    if getattr(transport, "_read_ready_cb", None) is not None:
        cast(Any, transport)._read_ready_cb = None


def describe_error(exc: BaseException) -> str:
    """An exception's message, never empty: ``TimeoutError()`` and
    ``ConnectionResetError()`` say nothing, so their class name stands in."""
    text = str(exc)
    if not text:
        if isinstance(exc, OSError) and exc.errno is not None:
            import errno

            return f"{type(exc).__name__} ({errno.errorcode.get(exc.errno, exc.errno)})"
        return type(exc).__name__
    return text


__all__ = [
    "BodyContent",
    "ContentIteration",
    "BodyReader",
    "Channel",
    "FileBody",
    "ReadsWholeBody",
    "Response",
    "Transport",
    "WebSocketRefused",
    "check_request",
    "describe_error",
    "file_body",
]

FILE_CHUNK_SIZE: Final = 256 * 1024
# An HTTP token (RFC 9110, 5.6.2): what a method or a header name may be made of.
# compiled on first use (re caches it): most requests never need it
_TOKEN: Final = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
# What ends or splits a header line: a value holding one would inject a header.
_LINE_BREAKERS: Final = ("\r", "\n", "\x00")
_KNOWN_METHODS: Final = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE"})


def check_request(method: str, target: str, headers: Mapping[str, str] | None) -> None:
    """Refuse a request that would not be one well-formed HTTP/1.1 request head.

    Every transport calls this before it sends: a method, target or header
    that holds whitespace, a line break or NUL would end the request line or a
    header early and let the rest be read as more headers, or as a second request.

    Raises:
        ValueError: the method is not a token; the target holds whitespace, a
            control character or a non-ASCII character (percent-encode it); a
            header name is not a token, or a header value holds CR, LF or NUL.
    """
    if method not in _KNOWN_METHODS and not re.fullmatch(_TOKEN, method):
        raise ValueError(f"invalid HTTP method {method!r}")
    if not (target.isascii() and target.isprintable() and target) or " " in target:
        bad = next((c for c in target if c.isspace() or not c.isprintable() or not c.isascii()), "")
        raise ValueError(
            f"invalid request target {target.partition('?')[0]!r}: {bad!r} is not allowed "
            "in a request target (percent-encode whitespace, control and non-ASCII characters)"
        )
    if headers:
        for name, value in headers.items():
            if not (name.isascii() and name.replace("-", "").isalnum()) and not re.fullmatch(
                _TOKEN, name
            ):
                raise ValueError(f"invalid HTTP header name {name!r}")
            if value.isprintable():
                continue  # the common case: no control character at all
            for char in _LINE_BREAKERS:
                if char in value:
                    raise ValueError(
                        f"invalid value for HTTP header {name!r}: it holds {char!r}, "
                        "which would end the header and start another"
                    )


class FileBody:
    """A request body that is a regular file, from its current position to its end.

    Its length is known, so it is sent with a Content-Length; a transport on a
    plain socket hands it to the kernel (``loop.sendfile``), any other iterates
    it: chunks read in a worker thread. A file given by path is opened when the
    upload starts and closed when it ends; a file object is left open.
    """

    def __init__(self, file: IO[bytes] | None, path: str | None, offset: int, count: int) -> None:
        self._file = file
        self._path = path
        self.offset = offset
        self.count = count

    @classmethod
    def of_path(cls, path: str) -> FileBody:
        return cls(None, path, 0, os.stat(path).st_size)

    @asynccontextmanager
    async def opened(self) -> AsyncIterator[IO[bytes]]:
        """The file, positioned at ``offset``."""
        if self._file is not None:
            self._file.seek(self.offset)
            yield self._file
            return
        assert self._path is not None
        file = await asyncio.to_thread(open, self._path, "rb")
        try:
            yield file
        finally:
            file.close()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        """Read ``count`` bytes in chunks, in a worker thread.

        Raises:
            ValueError: the file ended early (it shrank after the body was made).
        """
        async with self.opened() as file:
            remaining = self.count
            while remaining:
                chunk = await asyncio.to_thread(file.read, min(FILE_CHUNK_SIZE, remaining))
                if not chunk:
                    raise ValueError(
                        f"the file ended {remaining} bytes short of the {self.count} to upload"
                    )
                remaining -= len(chunk)
                yield chunk


def file_body(fileobj: Any) -> FileBody | None:
    """A :class:`FileBody` for a binary file object on a regular file, else None."""
    try:
        fd = fileobj.fileno()
        offset = fileobj.tell()
        info = os.fstat(fd)
    except (AttributeError, OSError, ValueError):
        return None
    if not stat.S_ISREG(info.st_mode) or "b" not in getattr(fileobj, "mode", "b"):
        return None
    return FileBody(fileobj, None, offset, max(0, info.st_size - offset))


class BodyReader(Protocol):
    """Reads a response body (or, after an upgrade, the raw stream)."""

    @property
    def at_eof(self) -> bool: ...

    async def read_chunk(self) -> bytes: ...

    async def read(self, n: int = -1) -> bytes: ...

    async def readexactly(self, n: int) -> bytes: ...

    async def readline(self) -> bytes: ...


class ReadsExactly:
    """``readexactly`` over a ``read(n)``: shared by the engine's and the mock's bodies."""

    async def read(self, n: int = -1) -> bytes:
        raise NotImplementedError

    async def readexactly(self, n: int) -> bytes:
        """Read exactly ``n`` bytes.

        Raises:
            DockerTruncatedStreamError: the body ended first (naming how much came).
        """
        parts: list[bytes] = []
        missing = n
        while missing:
            chunk = await self.read(missing)
            if not chunk:
                got = n - missing
                raise DockerTruncatedStreamError(f"stream ended after {got} of {n} expected bytes")
            parts.append(chunk)
            missing -= len(chunk)
        return b"".join(parts)


def reason_phrase(status: int) -> str:
    """The standard reason phrase of ``status`` (``""`` for one HTTP does not name)."""
    import http  # only when asked: most responses never are

    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


class Channel(Protocol):
    """The raw byte stream of an upgraded (hijacked) connection."""

    @property
    def body(self) -> BodyReader: ...

    def write(self, data: bytes) -> None: ...

    async def drain(self) -> None: ...

    def can_write_eof(self) -> bool: ...

    def write_eof(self) -> None: ...

    def close(self) -> None: ...


class ContentIteration:
    """The iterators of aiohttp's ``StreamReader``, built on its reading methods.

    For the classes that hand out a ``StreamReader``-like ``content``: they define
    ``read``, ``readany``, ``readchunk`` and ``readline``; this adds the rest.
    """

    def read(self, n: int = -1) -> Awaitable[bytes]:
        raise NotImplementedError

    def readany(self) -> Awaitable[bytes]:
        raise NotImplementedError

    def readchunk(self) -> Awaitable[tuple[bytes, bool]]:
        raise NotImplementedError

    def readline(self) -> Awaitable[bytes]:
        raise NotImplementedError

    async def iter_chunked(self, n: int) -> AsyncIterator[bytes]:
        while data := await self.read(n):
            yield data

    async def iter_any(self) -> AsyncIterator[bytes]:
        while data := await self.readany():
            yield data

    async def iter_chunks(self) -> AsyncIterator[tuple[bytes, bool]]:
        while (chunk := await self.readchunk())[0]:
            yield chunk

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._lines()

    async def _lines(self) -> AsyncIterator[bytes]:
        while line := await self.readline():
            yield line


class BodyContent(ContentIteration):
    """The ``aiohttp.StreamReader``-like view (``response.content``) of a :class:`BodyReader`.

    The engine's responses and ``aiodocker.testing``'s both hand out this one.
    """

    def __init__(self, body: BodyReader) -> None:
        self._body = body

    def at_eof(self) -> bool:
        return self._body.at_eof

    def read(self, n: int = -1) -> Awaitable[bytes]:
        return self._body.read(n)

    def readany(self) -> Awaitable[bytes]:
        return self._body.read_chunk()

    async def readchunk(self) -> tuple[bytes, bool]:
        return await self._body.read_chunk(), True

    def readline(self) -> Awaitable[bytes]:
        return self._body.readline()

    def readexactly(self, n: int) -> Awaitable[bytes]:
        return self._body.readexactly(n)


class ReadsWholeBody:
    """The whole-body readers both response classes share; they provide ``body`` and ``release``."""

    body: Any  # a BodyReader; each class narrows it
    status: int
    method: str

    def release(self) -> None:
        raise NotImplementedError

    async def read(self) -> bytes:
        """Read the rest of the body and release the connection."""
        try:
            data: bytes = await self.body.read()
        finally:
            self.release()
        return data

    async def text(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        return (await self.read()).decode(encoding, errors)

    async def json(self, **_: Any) -> Any:
        """Read the body as JSON; None when it is empty.

        Raises:
            DockerResponseError: the body is not valid UTF-8 JSON. (A transport
                response knows no path, so the message names the method and status;
                it quotes no body, which needs the core's redaction.)
        """
        data = await self.read()
        if not data.strip():
            return None
        try:
            return loads(data)
        except ValueError as exc:  # json.JSONDecodeError, UnicodeDecodeError
            raise DockerResponseError(
                self.status,
                f"{self.method}: the body is not valid JSON ({exc}) "
                f"(HTTP {self.status}, {len(data)} bytes)",
            ) from exc

    async def iter_chunks(self) -> AsyncIterator[bytes]:
        while chunk := await self.body.read_chunk():
            yield chunk


class Response(Protocol):
    status: int
    method: str

    @property
    def reason(self) -> str: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def body(self) -> BodyReader: ...

    @property
    def content(self) -> Any: ...

    @property
    def content_type(self) -> str: ...

    @property
    def released(self) -> bool: ...

    async def read(self) -> bytes: ...

    async def text(self, encoding: str = "utf-8", errors: str = "strict") -> str: ...

    async def json(self, **kwargs: Any) -> Any: ...

    def iter_chunks(self) -> AsyncIterator[bytes]: ...

    def release(self) -> None: ...

    def detach(self) -> Channel: ...


class WebSocketRefused(Exception):
    """The daemon answered a websocket handshake with ``status`` instead of 101."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(status, reason)
        self.status = status
        self.reason = reason


class Transport(Protocol):
    """Sends one HTTP request and returns once the response head arrived.

    ``long_lived`` marks a request whose connection the caller keeps for a
    long time (a followed stream, a long poll): a transport that limits its
    connections serves those apart from short requests.

    ``websocket`` opens a websocket and returns aiohttp's
    ``ClientWebSocketResponse`` (aiohttp does the protocol on every transport).
    """

    description: str

    async def request(
        self,
        method: str,
        target: str,
        headers: Mapping[str, str] | None = None,
        body: bytes | AsyncIterable[bytes] | None = None,
        *,
        long_lived: bool = False,
    ) -> Response: ...

    async def websocket(self, target: str) -> Any: ...

    async def close(self) -> None: ...
