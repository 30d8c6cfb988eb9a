"""Streamed responses: join a core response with a ``_streams`` decoder.

Layer: resource (imports ``_core``/``_transport.base`` and ``_streams``; resource
modules import this). A :class:`ResponseStream` is an async iterator that owns
its response: the connection is released when the stream ends, raises, is
closed with ``aclose()``, is cancelled, or is dropped (``break`` out of an
``async for`` releases it at once, since release needs no I/O).
"""

from __future__ import annotations

import collections
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import IO, Any, Generic, Protocol, TypeVar

from ._streams.frames import Message, decoder_for
from ._streams.jsonseq import JSONSeqDecoder, check_stream_error
from ._transport.base import Response

T = TypeVar("T")

Opener = Callable[[], Awaitable[Response]]


class Decoder(Protocol[T]):
    def feed(self, data: bytes) -> list[T]: ...

    def flush(self) -> list[T]: ...


class StreamClosedError(RuntimeError):
    """The stream was closed before (or while) it was opened."""


class ResponseStream(Generic[T]):
    """Items decoded from one streamed response, opened lazily on first use."""

    def __init__(
        self,
        opener: Opener,
        make_decoder: Callable[[Response], Decoder[T]],
        *,
        check: Callable[[T], None] | None = None,
    ) -> None:
        self._opener = opener
        self._make_decoder = make_decoder
        self._check = check
        self._response: Response | None = None
        self._decoder: Decoder[T] | None = None
        self._pending: collections.deque[T] = collections.deque()
        self._done = False

    @property
    def response(self) -> Response | None:
        return self._response

    async def open(self) -> Response:
        """Send the request now (normally done by the first ``__anext__``)."""
        if self._response is None:
            if self._done:
                raise StreamClosedError("stream is closed")
            response = await self._opener()
            if self._done:  # aclose() ran while we were connecting
                response.release()
                raise StreamClosedError("stream was closed while it was being opened")
            self._response = response
            self._decoder = self._make_decoder(response)
        return self._response

    def __aiter__(self) -> ResponseStream[T]:
        return self

    async def __anext__(self) -> T:
        try:
            while not self._pending:
                if self._done:
                    raise StopAsyncIteration
                response = await self.open()
                assert self._decoder is not None
                chunk = await response.body.read_chunk()
                if chunk:
                    self._pending.extend(self._decoder.feed(chunk))
                else:
                    self._pending.extend(self._decoder.flush())
                    self._finish()
            item = self._pending.popleft()
            if self._check is not None:
                self._check(item)
            return item
        except StopAsyncIteration:
            raise
        except StreamClosedError:
            raise StopAsyncIteration from None
        except BaseException:
            self._finish()
            raise

    def _finish(self) -> None:
        self._done = True
        response, self._response = self._response, None
        if response is not None:
            response.release()

    async def aclose(self) -> None:
        """Stop reading and release the connection. Idempotent."""
        self._pending.clear()
        self._finish()

    close = aclose

    async def __aenter__(self) -> ResponseStream[T]:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __del__(self) -> None:
        response = getattr(self, "_response", None)
        if response is not None:
            response.release()


def json_stream(opener: Opener, *, check_errors: bool = True) -> ResponseStream[Any]:
    """Stream JSON values; with ``check_errors`` an in-band error raises DockerStreamError."""
    return ResponseStream(
        opener,
        lambda _response: JSONSeqDecoder(),
        check=check_stream_error if check_errors else None,
    )


def message_stream(opener: Opener, *, tty: bool | None) -> ResponseStream[Message]:
    """Stream multiplexed or raw output as ``Message(stream, data)``.

    The framing comes from the response Content-Type where it can be trusted,
    else from the container's Tty setting (see ``decoder_for``).
    """

    def make(response: Response) -> Decoder[Message]:
        return decoder_for(response.headers.get("content-type"), tty)

    return ResponseStream(opener, make)


class _BytesDecoder:
    def feed(self, data: bytes) -> list[bytes]:
        return [data]

    def flush(self) -> list[bytes]:
        return []


def bytes_stream(opener: Opener) -> ResponseStream[bytes]:
    """Stream the raw body in the chunks it arrives in (archives, exports)."""
    return ResponseStream(opener, lambda _response: _BytesDecoder())


async def collect(stream: AsyncIterator[T]) -> list[T]:
    """Read a stream to its end into a list."""
    return [item async for item in stream]


SPOOL_MEMORY_LIMIT = 1024 * 1024  # bytes kept in memory before a spool moves to disk


async def spool(response: Response) -> IO[bytes]:
    """Read the whole body into a spooled temporary file, rewound; release the response.

    Up to ``SPOOL_MEMORY_LIMIT`` bytes stay in memory, the rest goes to an unnamed
    temporary file, so a body of any size costs flat memory. The writes are
    blocking, as page-cache writes are cheaper than a thread hop per chunk.
    """
    import tempfile  # only the collect-everything paths need it

    file = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_LIMIT)
    try:
        read_chunk = response.body.read_chunk
        write = file.write
        while chunk := await read_chunk():
            write(chunk)
        file.seek(0)
    except BaseException:
        file.close()
        raise
    finally:
        response.release()
    return file
