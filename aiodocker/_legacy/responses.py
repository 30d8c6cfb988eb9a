"""The aiohttp-like response and ``StreamReader`` that aiodocker 0.27's ``Docker._query`` hands out.

Layer: ``_legacy`` (0.27 compatibility); imports ``_core.request``,
``_transport.base`` and the leaves. ``images.export_image()`` hands out a
:class:`CompatContent` too, as 0.27 hands out ``response.content``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .._core.request import error_from_response, unexpected
from .._transport.base import BodyReader, ContentIteration, Response

if TYPE_CHECKING:
    from yarl import URL

    from ..exceptions import DockerResponseError

__all__ = ("CompatContent", "CompatResponse")


class CompatContent(ContentIteration):
    """``aiohttp.StreamReader``'s reading API over a response body.

    Handed out where aiodocker 0.27 hands out ``response.content`` (``_query``
    responses, ``images.export_image()``). ``total_bytes`` counts what was received.
    """

    def __init__(self, body: BodyReader) -> None:
        self._body = body
        self._unread = bytearray()
        self.total_bytes = 0

    def _take(self, n: int = -1) -> bytes:
        if n < 0 or n >= len(self._unread):
            data = bytes(self._unread)
            self._unread.clear()
        else:
            data = bytes(self._unread[:n])
            del self._unread[:n]
        return data

    def _got(self, data: bytes) -> bytes:
        self.total_bytes += len(data)
        return data

    def at_eof(self) -> bool:
        return not self._unread and self._body.at_eof

    def is_eof(self) -> bool:
        return self.at_eof()

    def exception(self) -> BaseException | None:
        return None

    def unread_data(self, data: bytes) -> None:
        self._unread[:0] = data

    async def read(self, n: int = -1) -> bytes:
        if n < 0:
            return self._take() + self._got(await self._body.read())
        if self._unread:
            return self._take(n)
        return self._got(await self._body.read(n))

    async def readany(self) -> bytes:
        if self._unread:
            return self._take()
        return self._got(await self._body.read_chunk())

    async def readchunk(self) -> tuple[bytes, bool]:
        data = await self.readany()
        return data, bool(data)

    async def readline(self) -> bytes:
        end = self._unread.find(b"\n")
        if end >= 0:
            return self._take(end + 1)
        return self._take() + self._got(await self._body.readline())

    async def readexactly(self, n: int) -> bytes:
        head = self._take(n)
        if len(head) == n:
            return head
        return head + self._got(await self._body.readexactly(n - len(head)))



class CompatResponse:
    """The ``aiohttp.ClientResponse`` look-alike of 0.27's ``Docker._query``.

    Wraps a core response (``body`` and ``release`` stay available to this
    package's stream helpers); ``content`` is a :class:`CompatContent`.
    """

    def __init__(self, response: Response, url: URL) -> None:
        self._response = response
        self.url = url
        self.status = response.status
        self.method = response.method
        self.content = CompatContent(response.body)

    def __repr__(self) -> str:
        return f"<CompatResponse({self.url}) [{self.status} {self.reason}]>"

    @property
    def reason(self) -> str:
        return self._response.reason

    @property
    def headers(self) -> Mapping[str, str]:
        return self._response.headers

    @property
    def body(self) -> BodyReader:
        return self._response.body

    @property
    def content_type(self) -> str:
        return self._response.content_type

    @property
    def ok(self) -> bool:
        return self.status < 400

    @property
    def released(self) -> bool:
        return self._response.released

    def raise_for_status(self) -> None:
        """Raise the DockerError subclass of the status if it is 400 or above."""
        if not self.ok:
            raise error_from_response(self.status, self.reason.encode(), "text/plain")

    async def read(self) -> bytes:
        """Read the rest of the body and release the connection."""
        try:
            return await self.content.read()
        finally:
            self.release()

    async def text(self, encoding: str | None = None, errors: str = "strict") -> str:
        return (await self.read()).decode(encoding or "utf-8", errors)

    async def json(self, *, loads: Callable[[str], Any] = json.loads, **_: Any) -> Any:
        """Read the body as JSON; None when it is empty.

        Raises:
            DockerResponseError: the body is not valid UTF-8, or ``loads`` refuses
                it (a ``ValueError`` too, as 0.27's ``json.JSONDecodeError`` was).
        """
        body = await self.read()
        try:
            data = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise self._bad_body("the body is not valid UTF-8", body) from exc
        if not data.strip():
            return None
        try:
            return loads(data)
        except ValueError as exc:
            raise self._bad_body(f"the body is not valid JSON ({exc})", body) from exc

    def _bad_body(self, problem: str, body: bytes) -> DockerResponseError:
        return unexpected(self.method, self.url.path, self.status, problem, body)

    def release(self) -> None:
        self._response.release()

    close = release

    def detach(self) -> Any:
        return self._response.detach()

    async def __aenter__(self) -> CompatResponse:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.release()
