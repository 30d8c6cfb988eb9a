"""The base of every resource class (``docker.containers``, a ``DockerVolume``...).

A resource holds ``docker`` (0.27's attribute, kept for compatibility) and the
typed core client ``_api`` it makes its calls with; it never touches a private
member of ``Docker``. The shared steps live here: list with filters, prune, the
opener of a streamed ``GET`` and the stream-or-collect switch. (Decoding a stream
needs ``_streams``, which ``_core`` may not import: that half lives in
``aiodocker._responses``.)

Layer: _core; imports _core and the package's leaf modules only.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping
from typing import Any, Protocol, TypeVar

from .._pyversion import timeout as _deadline
from .._transport.base import Response
from .client import APIClient
from .request import Shape, encode_filters

__all__ = ("DockerLike", "Resource", "cancel_and_wait", "with_deadline")

T = TypeVar("T")
Items = TypeVar("Items", bound=AsyncIterator[Any])


async def with_deadline(start: Callable[[], Awaitable[T]], seconds: float | None) -> T:
    """Run ``start()``; raise TimeoutError if it takes more than ``seconds`` (None: no limit)."""
    if seconds is None:
        return await start()
    async with _deadline(seconds):
        return await start()


async def cancel_and_wait(task: asyncio.Future[Any]) -> None:
    """Cancel ``task`` unless it is done and wait until it ended (so it let go of what it
    held). The caller's own cancellation gets through, the task's does not; the task's
    error counts as retrieved: a caller that wants it reads ``result()``."""
    if not task.done():
        task.cancel()
        await asyncio.wait({task})
    if not task.cancelled():
        task.exception()


async def _collect(items: AsyncIterator[T], seconds: float | None) -> list[T]:
    """Read ``items`` to the end within ``seconds``; close it however that ends."""
    try:
        return await with_deadline(lambda: _read(items), seconds)
    finally:
        closer = getattr(items, "aclose", None)
        if closer is not None:
            await closer()


async def _read(items: AsyncIterator[T]) -> list[T]:
    return [item async for item in items]


class DockerLike(Protocol):
    """What a resource needs of the composition root: its core client."""

    @property
    def core(self) -> APIClient: ...


class Resource:
    """A group of endpoints bound to one ``Docker`` client."""

    def __init__(self, docker: DockerLike) -> None:
        # DockerContainer._of copies what this sets from one prototype, hundreds at a time
        self.docker = docker
        self._api: APIClient = docker.core

    async def _list(
        self,
        path: str,
        *,
        filters: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """``GET path`` with the JSON-encoded ``filters``; the answer must be a list of objects."""
        query = {**(params or {}), "filters": encode_filters(filters)}
        return await self._api.call("GET", path, params=query, expect=Shape.OBJECTS)

    async def _prune(self, path: str, filters: Mapping[str, Any] | None) -> dict[str, Any]:
        """``POST path`` (a ``.../prune`` endpoint) with the JSON-encoded ``filters``."""
        params = {"filters": encode_filters(filters)}
        return await self._api.call("POST", path, params=params, expect=Shape.OBJECT)

    def _opener(
        self, path: str, params: Mapping[str, Any] | None = None, *, timeout: float | None
    ) -> Callable[[], Awaitable[Response]]:
        """A function sending ``GET path`` when a stream first needs its response.

        ``timeout`` bounds the wait for the response head only, never the reading.
        A stream may stay open for long: it is sent as ``long_lived``.
        """
        api = self._api
        return lambda: api.request("GET", path, params=params, timeout=timeout, long_lived=True)

    def _stream_or_collect(
        self, items: Items, *, stream: bool, timeout: float | None
    ) -> Items | Coroutine[Any, Any, list[Any]]:
        """``items`` itself when ``stream``, else a coroutine reading all of it into a list.

        The coroutine raises TimeoutError after ``timeout`` seconds (None: no
        limit) and closes ``items`` however the reading ends.
        """
        if stream:
            return items
        return _collect(items, timeout)
