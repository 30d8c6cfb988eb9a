"""The API client core: versioned URLs, version negotiation, timeouts, errors.

Layer: ``_core``; imports the stdlib, ``aiodocker.exceptions``, ``aiodocker.types``
and the transport seam (``_transport.base``). Resource modules make every call
through :class:`APIClient`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, Final, Protocol

from .._compat import timeout as timeout_after
from .._json import loads
from .._transport.base import Response, Transport
from ..exceptions import DockerAPIVersionError, DockerError
from ..types import SENTINEL, Sentinel
from .request import encode_query, error_from_response, parse_api_version

MAX_API_VERSION: Final = (1, 55)
MIN_API_VERSION: Final = (1, 24)


class ClientTimeoutLike(Protocol):
    """What is read of an ``aiohttp.ClientTimeout`` (or any object with these fields)."""

    @property
    def total(self) -> float | None: ...

    @property
    def sock_read(self) -> float | None: ...


# seconds, None (no limit), SENTINEL (the client's default) or an aiohttp.ClientTimeout
TimeoutArg = float | None | Sentinel | ClientTimeoutLike

_NO_JSON: Final = object()


def timeout_seconds(value: Any) -> float | None:
    """Seconds from a float, None, or an object with ``total``/``sock_read`` (ClientTimeout)."""
    if value is None or isinstance(value, Sentinel):
        return None
    if isinstance(value, (int, float)):
        if value <= 0:
            raise ValueError(f"timeout must be positive, got {value!r}")
        return float(value)
    total = getattr(value, "total", None)
    if total is None:
        total = getattr(value, "sock_read", None)
    if total is None and not hasattr(value, "total"):
        raise TypeError(f"timeout must be a number, None or aiohttp.ClientTimeout, not {value!r}")
    return float(total) if total is not None else None


_JSON_STARTS: Final = frozenset(b'{["-0123456789tfn')


def _parse_body(response: Response, data: bytes) -> Any:
    """JSON when it looks like JSON and says so, None when empty, else text."""
    if not data:
        return None
    first = data[0]
    if first in (0x7B, 0x5B):  # "{" or "[": every JSON body the daemon sends but a few
        return loads(data)
    if first in _JSON_STARTS and response.content_type == "application/json":
        return loads(data)
    if not data.strip():
        return None
    return data.decode("utf-8", "replace")


def format_version(version: tuple[int, int]) -> str:
    return f"v{version[0]}.{version[1]}"


class APIClient:
    """Speaks the Engine API over one transport.

    ``api_version`` is ``"auto"`` (negotiated lazily, once, under a lock) or
    a pinned ``"v1.41"``-style string.
    """

    def __init__(
        self,
        transport: Transport,
        *,
        api_version: str = "auto",
        timeout: float | None = None,
    ) -> None:
        if api_version != "auto":
            parse_api_version(api_version)
            if not api_version.startswith("v"):
                api_version = "v" + api_version
        self.transport = transport
        self.api_version = api_version
        self.default_timeout = timeout
        self._version_lock = asyncio.Lock()
        self.daemon_version: dict[str, Any] | None = None

    # --- versions -----------------------------------------------------------

    async def negotiate(self) -> str:
        """Return the API version in use, asking the daemon once if it is "auto"."""
        if self.api_version != "auto":
            return self.api_version
        async with self._version_lock:
            if self.api_version != "auto":
                return self.api_version
            response = await self.transport.request("GET", "/version")
            body = await response.read()
            if response.status >= 400:
                raise error_from_response(response.status, body, response.content_type)
            info = loads(body)
            self.daemon_version = info
            daemon_max = parse_api_version(str(info.get("ApiVersion", "1.24")))
            daemon_min = parse_api_version(str(info.get("MinAPIVersion", "1.12")))
            if daemon_min > MAX_API_VERSION:
                raise DockerAPIVersionError(
                    f"the daemon needs API version {format_version(daemon_min)} or newer, "
                    f"but this client supports at most {format_version(MAX_API_VERSION)}"
                )
            self.api_version = format_version(min(daemon_max, MAX_API_VERSION))
            return self.api_version

    async def version_tuple(self) -> tuple[int, int]:
        return parse_api_version(await self.negotiate())

    async def require_version(self, minimum: str, what: str) -> None:
        """Raise DockerAPIVersionError if the API in use is older than ``minimum``."""
        needed = parse_api_version(minimum)
        current = await self.version_tuple()
        if current < needed:
            raise DockerAPIVersionError(
                f"{what} needs API version {format_version(needed)}, "
                f"but the API in use is {format_version(current)}"
            )

    async def target(
        self, path: str, params: Mapping[str, Any] | None = None, *, versioned: bool = True
    ) -> str:
        """Build the request target ``/v1.41/path?query``."""
        if versioned:
            version = self.api_version
            if version == "auto":
                version = await self.negotiate()
            prefix = f"/{version}/"
        else:
            prefix = "/"
        path = path.lstrip("/")
        if not params:
            return prefix + path
        query = encode_query(params)
        return f"{prefix}{path}?{query}" if query else prefix + path

    # --- requests -------------------------------------------------------------

    def seconds(self, timeout: TimeoutArg, *, long_running: bool) -> float | None:
        if isinstance(timeout, Sentinel):
            return None if long_running else self.default_timeout
        return timeout_seconds(timeout)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: bytes | AsyncIterable[bytes] | None = None,
        json_body: Any = _NO_JSON,
        headers: Mapping[str, str] | None = None,
        versioned: bool = True,
        timeout: float | None = None,
    ) -> Response:
        """Send a request; return the response once its head arrived.

        Error statuses are read and raised here (the one mapping point), so
        a returned response is always a success. ``timeout`` bounds the
        wait for the head only; the caller owns reading and releasing.

        Raises:
            DockerError: the daemon answered with an error status (subclass by status).
            DockerConnectionError: the daemon could not be reached.
        """
        all_headers = dict(headers) if headers else None
        if json_body is not _NO_JSON:
            body = json.dumps(json_body).encode()
            all_headers = all_headers or {}
            all_headers.setdefault("Content-Type", "application/json")
        if versioned and self.api_version != "auto" and not params:
            target = f"/{self.api_version}/{path.lstrip('/')}"  # the common case, without awaiting
        else:
            target = await self.target(path, params, versioned=versioned)
        if timeout is None:
            response = await self.transport.request(method, target, all_headers, body)
        else:
            async with timeout_after(timeout):
                response = await self.transport.request(method, target, all_headers, body)
        if response.status >= 400:
            try:
                if timeout is None:
                    error_body = await response.read()
                else:
                    async with timeout_after(timeout):
                        error_body = await response.read()
            finally:
                response.release()
            raise error_from_response(response.status, error_body, response.content_type)
        return response

    @asynccontextmanager
    async def open(
        self, method: str, path: str, *, timeout: TimeoutArg = SENTINEL, **kwargs: Any
    ) -> AsyncIterator[Response]:
        """Context manager over :meth:`request` that always releases the response."""
        response = await self.request(
            method, path, timeout=self.seconds(timeout, long_running=True), **kwargs
        )
        try:
            yield response
        finally:
            response.release()

    async def call(
        self,
        method: str,
        path: str,
        *,
        timeout: TimeoutArg = SENTINEL,
        long_running: bool = False,
        **kwargs: Any,
    ) -> Any:
        """Make a call and return its parsed JSON body (None when the body is empty)."""
        seconds = self.seconds(timeout, long_running=long_running)
        if seconds is None:
            response = await self.request(method, path, **kwargs)
            return _parse_body(response, await response.read())
        async with timeout_after(seconds):
            response = await self.request(method, path, **kwargs)
            return _parse_body(response, await response.read())

    async def raw(
        self,
        method: str,
        path: str,
        *,
        timeout: TimeoutArg = SENTINEL,
        long_running: bool = False,
        **kwargs: Any,
    ) -> tuple[Response, bytes]:
        """Make a call and return the response with its whole body."""
        seconds = self.seconds(timeout, long_running=long_running)
        async with timeout_after(seconds):
            response = await self.request(method, path, **kwargs)
            return response, await response.read()

    async def close(self) -> None:
        await self.transport.close()


__all__ = ["APIClient", "DockerError", "MAX_API_VERSION", "timeout_seconds"]
