"""The transport seam: what the layers above may rely on.

Layer: ``_transport``; imports the stdlib only. The core sees a ``Transport``
(one method that sends a request) and the ``Response`` it returns; it never
sees sockets, dialers or the HTTP library. Both our own engine
(:mod:`.http`) and the aiohttp adapter (:mod:`.aiohttp_engine`) satisfy these
protocols.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Mapping
from typing import Any, Protocol

from .._json import loads

__all__ = ["BodyReader", "Channel", "ReadsWholeBody", "Response", "Transport"]


class BodyReader(Protocol):
    """Reads a response body (or, after an upgrade, the raw stream)."""

    @property
    def at_eof(self) -> bool: ...

    async def read_chunk(self) -> bytes: ...

    async def read(self, n: int = -1) -> bytes: ...

    async def readexactly(self, n: int) -> bytes: ...

    async def readline(self) -> bytes: ...


class Channel(Protocol):
    """The raw byte stream of an upgraded (hijacked) connection."""

    @property
    def body(self) -> BodyReader: ...

    def write(self, data: bytes) -> None: ...

    async def drain(self) -> None: ...

    def can_write_eof(self) -> bool: ...

    def write_eof(self) -> None: ...

    def close(self) -> None: ...


class ReadsWholeBody:
    """The whole-body readers both response classes share; they provide ``body`` and ``release``."""

    body: Any  # a BodyReader; each class narrows it

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
        data = await self.read()
        return loads(data) if data.strip() else None

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


class Transport(Protocol):
    """Sends one HTTP request and returns once the response head arrived."""

    description: str

    async def request(
        self,
        method: str,
        target: str,
        headers: Mapping[str, str] | None = None,
        body: bytes | AsyncIterable[bytes] | None = None,
    ) -> Response: ...

    async def close(self) -> None: ...
