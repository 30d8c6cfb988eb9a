"""``MockTransport``: a transport that answers each request with a function of the caller's.

Layer: ``aiodocker.testing`` (above ``docker.py``); imports the transport seam
(``_transport.base``), the leaves and the stdlib. Nothing in the package imports it.
"""

from __future__ import annotations

import asyncio
import collections
import inspect
import json as jsonlib
import re
import struct
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
)
from typing import Any, Final, Union
from urllib.parse import parse_qsl, unquote, urlsplit

from .._transport.base import (
    BodyContent,
    ReadsExactly,
    ReadsWholeBody,
    check_request,
    reason_phrase,
)
from ..exceptions import DockerConnectionError, DockerTruncatedStreamError

__all__ = [
    "Handler",
    "Headers",
    "MockTransport",
    "Request",
    "Response",
    "frame",
]

STDIN: Final = 0
STDOUT: Final = 1
STDERR: Final = 2
MULTIPLEXED: Final = "application/vnd.docker.multiplexed-stream"
RAW_STREAM: Final = "application/vnd.docker.raw-stream"
_VERSIONED: Final = r"^/v(\d+\.\d+)(/.*)$"


def frame(stream: int, data: bytes | str) -> bytes:
    """One multiplexed frame (``stream`` 1 = stdout, 2 = stderr) as the daemon sends it."""
    payload = data.encode() if isinstance(data, str) else data
    return struct.pack(">BxxxL", stream, len(payload)) + payload


class Headers(dict[str, str]):
    """A header mapping whose keys are compared without regard to case (stored lower-case)."""

    def __init__(self, items: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        super().__init__()
        pairs = items.items() if isinstance(items, Mapping) else items
        for key, value in pairs:
            self[key] = value

    def __setitem__(self, key: str, value: str) -> None:
        super().__setitem__(key.lower(), value)

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key.lower(), default)


class Request:
    """One request as the client sent it.

    Attributes:
        method: ``GET``, ``POST``, ...
        target: the full request target, ``/v1.45/containers/json?all=1``.
        path: the target's path without the API version prefix, unquoted
            (``/containers/json``).
        version: the API version of the prefix (``"1.45"``), None without one.
        params: the query, last value winning (``{"all": "1"}``).
        query: every query pair in order.
        headers: the request headers (case-insensitive).
        content: the whole request body.
    """

    def __init__(
        self, method: str, target: str, headers: Mapping[str, str] | None, content: bytes
    ) -> None:
        self.method = method
        self.target = target
        parts = urlsplit(target)
        raw_path = parts.path
        match = re.match(_VERSIONED, raw_path)
        self.version: str | None = match.group(1) if match else None
        self.path = unquote(match.group(2) if match else raw_path)
        self.query: list[tuple[str, str]] = parse_qsl(parts.query, keep_blank_values=True)
        self.params: dict[str, str] = dict(self.query)
        self.headers = Headers(headers or {})
        self.content = content

    def json(self) -> Any:
        """The body decoded as JSON (None when empty).

        Raises:
            ValueError: the body is not JSON.
        """
        if not self.content.strip():
            return None
        return jsonlib.loads(self.content)

    def filters(self) -> dict[str, list[str]]:
        """The ``filters`` query parameter decoded (``{"label": ["a=b"]}``), ``{}`` if absent.

        Raises:
            ValueError: the parameter is not the JSON the daemon accepts.
        """
        raw = self.params.get("filters")
        if not raw:
            return {}
        decoded = jsonlib.loads(raw)
        if not isinstance(decoded, dict):
            raise ValueError(f"filters is not a JSON object: {raw!r}")
        result: dict[str, list[str]] = {}
        for key, value in decoded.items():
            if isinstance(value, dict):  # the old {"label": {"a=b": true}} form
                result[key] = [k for k, v in value.items() if v]
            elif isinstance(value, list):
                result[key] = [str(v) for v in value]
            else:
                result[key] = [str(value)]
        return result

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.target}>"


StreamSource = Union[Iterable[Any], AsyncIterable[Any]]  # noqa: UP007 (a runtime alias on 3.10)


def _encode_item(item: Any) -> bytes:
    if isinstance(item, (bytes, bytearray, memoryview)):
        return bytes(item)
    if isinstance(item, str):
        return item.encode()
    return jsonlib.dumps(item).encode() + b"\n"  # a JSON-lines document


class _Body(ReadsExactly):
    """A ``BodyReader`` over bytes that arrive from a source (an iterator), in memory."""

    def __init__(self, source: AsyncIterator[bytes], cut: BaseException | None) -> None:
        self._source: AsyncIterator[bytes] | None = source
        self._cut = cut
        self._buffer: collections.deque[bytes] = collections.deque()
        self._eof = False

    @property
    def at_eof(self) -> bool:
        return self._eof and not self._buffer

    async def read_chunk(self) -> bytes:
        if self._buffer:
            return self._buffer.popleft()
        while not self._eof:
            assert self._source is not None
            try:
                chunk = await self._source.__anext__()
            except StopAsyncIteration:
                self._eof = True
                self._source = None
                if self._cut is not None:
                    raise self._cut from None
                return b""
            if chunk:
                return chunk
        if self._cut is not None:
            raise self._cut
        return b""

    def close(self) -> None:
        self._eof = True
        self._buffer.clear()
        source, self._source = self._source, None
        closer = getattr(source, "aclose", None)
        if closer is not None:
            task = asyncio.ensure_future(closer())
            task.add_done_callback(lambda t: t.cancelled() or t.exception())

    async def read(self, n: int = -1) -> bytes:
        if n < 0:
            parts = []
            while chunk := await self.read_chunk():
                parts.append(chunk)
            return b"".join(parts)
        if n == 0:
            return b""
        chunk = await self.read_chunk()
        if len(chunk) > n:
            self._buffer.appendleft(chunk[n:])
            chunk = chunk[:n]
        return chunk

    async def readline(self) -> bytes:
        parts: list[bytes] = []
        while chunk := await self.read_chunk():
            end = chunk.find(b"\n")
            if end >= 0:
                if end + 1 < len(chunk):
                    self._buffer.appendleft(chunk[end + 1 :])
                parts.append(chunk[: end + 1])
                break
            parts.append(chunk)
        return b"".join(parts)


class _Channel:
    """The hijacked stream of an upgraded response: reads the response's stream, keeps writes."""

    def __init__(self, response: Response) -> None:
        self._response = response

    @property
    def body(self) -> _Body:
        return self._response.body

    def write(self, data: bytes) -> None:
        if self._response.input_closed:
            raise DockerConnectionError("write after the stream's input was closed")
        self._response.received.extend(data)
        callback = self._response.on_input
        if callback is not None:
            callback(bytes(data))

    async def drain(self) -> None:
        await asyncio.sleep(0)

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        self._response.input_closed = True
        callback = self._response.on_input
        if callback is not None:
            callback(b"")

    def close(self) -> None:
        self._response.input_closed = True
        self._response.body.close()


async def _aiter(source: StreamSource) -> AsyncIterator[bytes]:
    if isinstance(source, AsyncIterable):
        async for item in source:
            yield _encode_item(item)
    else:
        for item in source:
            yield _encode_item(item)
            await asyncio.sleep(0)  # let other tasks run, as a socket read would


class Response(ReadsWholeBody):
    """What a handler returns: a status and a body, whole or streamed.

    Give at most one of ``json`` (a JSON body), ``content`` (bytes or text) and
    ``stream`` (an iterable or async iterable of chunks; a chunk that is not
    bytes or text is sent as one JSON line, as the daemon streams pulls and
    events). ``cut_short=True`` ends a streamed body with the error a dropped
    connection raises (``DockerTruncatedStreamError``), after the chunks.

    An upgraded response (status 101, see :meth:`hijacked`) is a raw byte
    stream: what the client writes to it lands in ``received`` (and is handed to
    ``on_input``, ``b""`` meaning the client closed its side).
    """

    def __init__(
        self,
        status: int = 200,
        *,
        json: Any = None,
        content: bytes | str | None = None,
        stream: StreamSource | None = None,
        headers: Mapping[str, str] | None = None,
        cut_short: bool = False,
        on_input: Callable[[bytes], None] | None = None,
    ) -> None:
        if sum(x is not None for x in (json, content, stream)) > 1:
            raise TypeError("give at most one of json=, content= and stream=")
        self.status = status
        self.method = ""
        self._headers = Headers(headers or {})
        chunks: StreamSource
        if json is not None:
            chunks = [jsonlib.dumps(json).encode()]
            self._headers.setdefault("content-type", "application/json")
        elif content is not None:
            chunks = [content.encode() if isinstance(content, str) else content]
            self._headers.setdefault("content-type", "text/plain; charset=utf-8")
        else:
            chunks = stream if stream is not None else []
            if stream is not None:
                self._headers.setdefault("content-type", "application/json")
        cut = (
            DockerTruncatedStreamError("connection closed before the response body was complete")
            if cut_short
            else None
        )
        self._body = _Body(_aiter(chunks), cut)
        self._released = False
        self.received = bytearray()
        self.input_closed = False
        self.on_input = on_input

    @classmethod
    def hijacked(
        cls,
        stream: StreamSource = (),
        *,
        tty: bool = False,
        on_input: Callable[[bytes], None] | None = None,
    ) -> Response:
        """An upgraded attach/exec stream (101): ``stream`` holds its raw bytes.

        Without ``tty`` the bytes must be multiplexed frames (build them with
        :func:`frame`); the Content-Type says which, as API >= 1.42 daemons do.
        """
        return cls(
            101,
            stream=stream,
            headers={
                "Content-Type": RAW_STREAM if tty else MULTIPLEXED,
                "Connection": "Upgrade",
                "Upgrade": "tcp",
            },
            on_input=on_input,
        )

    @classmethod
    def error(cls, status: int, message: str) -> Response:
        """An error answer as the daemon gives it: ``{"message": ...}``."""
        return cls(status, json={"message": message})

    @property
    def reason(self) -> str:
        return reason_phrase(self.status)

    @property
    def headers(self) -> Headers:
        return self._headers

    @property
    def body(self) -> _Body:
        return self._body

    @property
    def content(self) -> BodyContent:
        return BodyContent(self._body)

    @property
    def content_type(self) -> str:
        value = self._headers.get("content-type")
        if value is None:
            return "application/octet-stream"
        return str(value).split(";", 1)[0].strip().lower()

    @property
    def released(self) -> bool:
        return self._released

    def release(self) -> None:
        if not self._released:
            self._released = True
            if not self._body.at_eof:
                self._body.close()

    def detach(self) -> _Channel:
        if self._released:
            raise RuntimeError("response already released")
        self._released = True
        return _Channel(self)

    def __repr__(self) -> str:
        return f"<Response {self.status} {self.content_type}>"


Handler = Callable[[Request], Union[Response, Awaitable[Response]]]  # noqa: UP007


class MockTransport:
    """A transport that calls ``handler(request)`` for each request and returns its answer.

    ``handler`` is a plain or async function taking a :class:`Request` and
    returning a :class:`Response`; an exception it raises reaches the caller as a
    connection failure would (wrap it in ``DockerConnectionError`` to look like
    one). Pass it as ``Docker(transport=MockTransport(handler))``. Requests are
    kept in ``requests``, in order.
    """

    def __init__(self, handler: Handler, *, description: str = "mock://") -> None:
        self.handler = handler
        self.description = description
        self.requests: list[Request] = []
        self.closed = False

    async def request(
        self,
        method: str,
        target: str,
        headers: Mapping[str, str] | None = None,
        body: bytes | AsyncIterable[bytes] | None = None,
        *,
        long_lived: bool = False,
    ) -> Response:
        """Build the :class:`Request`, call the handler and return its :class:`Response`.

        ``long_lived`` (a followed stream, a long poll) is accepted as the transport
        protocol has it; a mock keeps no connections to limit, so it changes nothing.

        Raises:
            DockerConnectionError: the transport was closed.
            ValueError: the request is not a well-formed HTTP request head.
            TypeError: the handler returned something else than a Response.
        """
        if self.closed:
            raise DockerConnectionError("the mock transport is closed")
        check_request(method, target, headers)
        if body is None:
            content = b""
        elif isinstance(body, (bytes, bytearray, memoryview)):
            content = bytes(body)
        else:
            content = b"".join([bytes(chunk) async for chunk in body])
        request = Request(method, target, headers, content)
        self.requests.append(request)
        answer = self.handler(request)
        if inspect.isawaitable(answer):
            answer = await answer
        if not isinstance(answer, Response):
            raise TypeError(
                f"the handler answered {method} {target} with {type(answer).__name__}, "
                "not an aiodocker.testing.Response"
            )
        answer.method = method
        return answer

    async def websocket(self, target: str) -> Any:
        """Websockets are not mocked.

        Raises:
            NotImplementedError: always.
        """
        raise NotImplementedError("MockTransport does not serve websockets; use attach streams")

    async def close(self) -> None:
        self.closed = True


def iter_frames(data: bytes) -> Iterator[tuple[int, bytes]]:
    """Split multiplexed bytes into ``(stream, payload)`` pairs (for handlers that read stdin)."""
    offset = 0
    while offset + 8 <= len(data):
        stream, size = struct.unpack(">BxxxL", data[offset : offset + 8])
        yield stream, data[offset + 8 : offset + 8 + size]
        offset += 8 + size
