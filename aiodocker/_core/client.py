"""The API client core: versioned URLs, version negotiation, timeouts, errors.

Layer: ``_core``; imports the stdlib, ``aiodocker.exceptions``, ``aiodocker.types``
and the transport seam (``_transport.base``). Resource modules make every call
through :class:`APIClient`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import warnings
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol, overload

from .._pyversion import timeout as timeout_after
from .._transport.base import Response, Transport, WebSocketRefused
from ..exceptions import DockerAPIVersionError, DockerError, DockerResponseError
from ..types import SENTINEL, Sentinel
from .hooks import REQUEST_LOG, RequestHooks, observe_request, observe_websocket
from .request import (
    Shape,
    decode_body,
    encode_query,
    error_from_response,
    parse_api_version,
    unexpected,
)

if TYPE_CHECKING:
    from aiohttp import ClientWebSocketResponse

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

FLOAT_TIMEOUT_WARNING: Final = (
    "Manually setting timeouts via float is highly discouraged. "
    "Use asyncio.timeout() block or pass aiohttp.ClientTimeout instead."
)
CLIENT_LOG: Final = logging.getLogger("aiodocker.docker")


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
        hooks: tuple[RequestHooks, ...] = (),
        endpoint: str = "",
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
        self.hooks = hooks
        self.endpoint = endpoint or transport.description

    def _send(
        self,
        method: str,
        target: str,
        headers: Mapping[str, str] | None = None,
        body: bytes | AsyncIterable[bytes] | None = None,
        long_lived: bool = False,
    ) -> Awaitable[Response]:
        """Send through the transport, observed when there are hooks or DEBUG request logging."""
        if self.hooks or REQUEST_LOG.isEnabledFor(logging.DEBUG):
            return observe_request(
                self.transport,
                self.hooks,
                self.endpoint,
                method,
                target,
                headers,
                body,
                long_lived=long_lived,
            )
        if long_lived:
            return self.transport.request(method, target, headers, body, long_lived=True)
        return self.transport.request(method, target, headers, body)

    # --- versions -----------------------------------------------------------

    async def negotiate(self) -> str:
        """Return the API version in use, asking the daemon once if it is "auto"."""
        if self.api_version != "auto":
            return self.api_version
        async with self._version_lock:
            if self.api_version != "auto":
                return self.api_version
            try:
                info = await self._read_version()
                daemon_max = parse_api_version(str(info.get("ApiVersion", "1.24")))
                daemon_min = parse_api_version(str(info.get("MinAPIVersion", "1.12")))
            except (DockerResponseError, ValueError) as exc:  # an error status stays itself
                raise DockerAPIVersionError(
                    f"API version negotiation failed: {exc}; pass "
                    f'api_version="{format_version(MAX_API_VERSION)}" (or the version the '
                    "daemon speaks) to skip negotiation"
                ) from exc
            self.daemon_version = info
            if daemon_min > MAX_API_VERSION:
                raise DockerAPIVersionError(
                    f"the daemon needs API version {format_version(daemon_min)} or newer, "
                    f"but this client supports at most {format_version(MAX_API_VERSION)}"
                )
            self.api_version = format_version(min(daemon_max, MAX_API_VERSION))
            if CLIENT_LOG.isEnabledFor(logging.DEBUG):
                CLIENT_LOG.debug(
                    "negotiated API %s: the daemon speaks %s (oldest %s), this client at most %s",
                    self.api_version,
                    format_version(daemon_max),
                    format_version(daemon_min),
                    format_version(MAX_API_VERSION),
                )
            return self.api_version

    async def _read_version(self) -> dict[str, Any]:
        response = await self._checked("GET", "/version", await self._send("GET", "/version"))
        body = await response.read()
        info: dict[str, Any] = decode_body("GET", "/version", response.status, body, Shape.OBJECT)
        return info

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
        """The deadline of one call's ``timeout=``, by aiodocker 0.27's rule.

        ``SENTINEL``: the client's timeout, or none for a long-running call (logs,
        stats, pull, build, events, ...). ``None``: no deadline. A ``float`` (or a
        ``ClientTimeout``'s ``total``/``sock_read``) is the deadline; a float on a
        short call warns ``DeprecationWarning`` as 0.27 does. An ``int`` is neither
        a float nor a ClientTimeout in 0.27, so the client's timeout stays in force.
        """
        if isinstance(timeout, Sentinel):
            return None if long_running else self.default_timeout
        if isinstance(timeout, float):
            if not long_running:
                warnings.warn(FLOAT_TIMEOUT_WARNING, DeprecationWarning, stacklevel=4)
        elif isinstance(timeout, int):
            return self.default_timeout
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
        not_modified_ok: bool = False,
        long_lived: bool = False,
    ) -> Response:
        """Send a request; return the response once its head arrived.

        Error statuses are read and raised here (the one mapping point), so
        a returned response is always a success (see :meth:`_checked`).
        ``timeout`` bounds the wait for the head only (a wait for a free
        connection included); the caller owns reading and releasing.
        ``long_lived`` says the caller keeps the response open for long (a
        followed stream, a long poll): the transport serves it apart from short
        requests, which it must not hold up.

        Raises:
            DockerError: the daemon answered with an error status (subclass by status).
            DockerResponseError: a 3xx, or a 1xx other than an asked-for upgrade.
            DockerConnectionError: the daemon could not be reached.
        """
        all_headers = headers or None  # copied only when a field is added
        if json_body is not _NO_JSON:
            body = json.dumps(json_body).encode()
            if not headers or "Content-Type" not in headers:
                all_headers = {**(headers or {}), "Content-Type": "application/json"}
        if params or (versioned and self.api_version == "auto"):
            target = await self.target(path, params, versioned=versioned)
        elif versioned:  # the common cases, without awaiting
            target = f"/{self.api_version}/{path.lstrip('/')}"
        else:
            target = "/" + path.lstrip("/")
        sent = self._send(method, target, all_headers, body, long_lived)
        upgrade = headers is not None and "Upgrade" in headers
        if timeout is None:
            response = await sent
        else:
            async with timeout_after(timeout):
                response = await sent
        if 200 <= response.status < 300:  # the usual answer: no further await
            return response
        return await self._checked(method, target, response, upgrade, not_modified_ok)

    async def _checked(
        self,
        method: str,
        target: str,
        response: Response,
        upgrade: bool = False,
        not_modified_ok: bool = False,
    ) -> Response:
        """Return the response if its status is a success for this request, else raise.

        Success is 2xx, 101 when an upgrade was asked for, and 304 when the caller
        accepts it (0.27 documents 304 as success of start/stop on a container
        already in that state). Anything else is read, released and raised: an
        error status through ``error_from_response``, any other 1xx or 3xx as a
        ``DockerResponseError`` (a redirect is never followed).
        """
        status = response.status
        if (
            200 <= status < 300
            or (status == 101 and upgrade)
            or (status == 304 and not_modified_ok)
        ):
            return response
        try:
            error_body = await response.read()
        finally:
            response.release()
        if status >= 400:
            raise error_from_response(status, error_body, response.content_type)
        if status == 304:
            problem = "the daemon answered 304 Not Modified where an answer is due"
        elif 300 <= status < 400:
            location = response.headers.get("location")
            where = f" to {location!r}" if location else ""
            problem = f"the daemon answered with a redirect{where}, which is not followed"
        else:
            problem = f"unexpected informational status {status}"
        raise unexpected(method, target, status, problem, error_body)

    @asynccontextmanager
    async def open(
        self, method: str, path: str, *, timeout: TimeoutArg = SENTINEL, **kwargs: Any
    ) -> AsyncIterator[Response]:
        """Context manager over :meth:`request` that always releases the response."""
        kwargs.setdefault("long_lived", True)
        response = await self.request(
            method, path, timeout=self.seconds(timeout, long_running=True), **kwargs
        )
        try:
            yield response
        finally:
            response.release()

    @overload
    async def call(
        self,
        method: str,
        path: str,
        *,
        expect: Literal[Shape.OBJECT],
        require: tuple[str, ...] = ...,
        timeout: TimeoutArg = ...,
        long_running: bool = ...,
        **kwargs: Any,
    ) -> dict[str, Any]: ...

    @overload
    async def call(
        self,
        method: str,
        path: str,
        *,
        expect: Literal[Shape.OBJECT_OR_NOTHING],
        require: tuple[str, ...] = ...,
        timeout: TimeoutArg = ...,
        long_running: bool = ...,
        **kwargs: Any,
    ) -> dict[str, Any] | None: ...

    @overload
    async def call(
        self,
        method: str,
        path: str,
        *,
        expect: Literal[Shape.ARRAY],
        require: tuple[str, ...] = ...,
        timeout: TimeoutArg = ...,
        long_running: bool = ...,
        **kwargs: Any,
    ) -> list[Any]: ...

    @overload
    async def call(
        self,
        method: str,
        path: str,
        *,
        expect: Literal[Shape.OBJECTS],
        require: tuple[str, ...] = ...,
        timeout: TimeoutArg = ...,
        long_running: bool = ...,
        **kwargs: Any,
    ) -> list[dict[str, Any]]: ...

    @overload
    async def call(
        self,
        method: str,
        path: str,
        *,
        expect: Literal[Shape.STRING],
        require: tuple[str, ...] = ...,
        timeout: TimeoutArg = ...,
        long_running: bool = ...,
        **kwargs: Any,
    ) -> str: ...

    @overload
    async def call(
        self,
        method: str,
        path: str,
        *,
        expect: Literal[Shape.NOTHING],
        require: tuple[str, ...] = ...,
        timeout: TimeoutArg = ...,
        long_running: bool = ...,
        **kwargs: Any,
    ) -> None: ...

    async def call(
        self,
        method: str,
        path: str,
        *,
        expect: Shape,
        require: tuple[str, ...] = (),
        timeout: TimeoutArg = SENTINEL,
        long_running: bool = False,
        **kwargs: Any,
    ) -> Any:
        """Make a call and return its JSON body, which must have the shape ``expect``.

        With ``Shape.NOTHING`` the body is read and ignored, None is returned, and
        304 counts as success. ``require`` names fields the object must have.

        Raises:
            DockerResponseError: the answer is not what ``expect`` declares.
        """
        seconds = self.seconds(timeout, long_running=long_running)
        not_modified_ok = expect is Shape.NOTHING
        if seconds is None:
            response = await self.request(method, path, not_modified_ok=not_modified_ok, **kwargs)
            body = await response.read()
        else:
            async with timeout_after(seconds):
                response = await self.request(
                    method, path, not_modified_ok=not_modified_ok, **kwargs
                )
                body = await response.read()
        shown = path.lstrip("/")
        shown = f"/{self.api_version}/{shown}" if kwargs.get("versioned", True) else f"/{shown}"
        return decode_body(method, shown, response.status, body, expect, require)

    async def raw(
        self,
        method: str,
        path: str,
        *,
        timeout: TimeoutArg = SENTINEL,
        long_running: bool = False,
        **kwargs: Any,
    ) -> tuple[Response, bytes]:
        """Make a call and return the response with its whole body (2xx only)."""
        seconds = self.seconds(timeout, long_running=long_running)
        if seconds is None:  # no deadline: no timeout scope to enter and leave
            response = await self.request(method, path, **kwargs)
            return response, await response.read()
        async with timeout_after(seconds):
            response = await self.request(method, path, **kwargs)
            return response, await response.read()

    async def websocket(
        self, path: str, params: Mapping[str, Any] | None = None
    ) -> ClientWebSocketResponse[bool]:
        """Open a websocket to ``path`` (``containers/{id}/attach/ws``) through the transport.

        aiohttp's ``ClientWebSocketResponse`` is returned, as in aiodocker 0.27,
        on every transport: a caller's session opens it itself; the client's
        own engine opens it over its dialer (unix, tcp, TLS, ssh). Hooks and the
        request log see its start and, when it closes, its end.

        Raises:
            DockerError: the daemon refused the handshake (a subclass by status).
            DockerConnectionError: the daemon could not be reached.
        """
        target = await self.target(path, params)
        try:
            if self.hooks or REQUEST_LOG.isEnabledFor(logging.DEBUG):
                ws = await observe_websocket(self.transport, self.hooks, self.endpoint, target)
            else:
                ws = await self.transport.websocket(target)
        except WebSocketRefused as exc:
            detail = f"websocket {target.partition('?')[0]} refused ({exc.status}): {exc.reason}"
            raise error_from_response(exc.status, detail.encode(), "text/plain") from exc
        websocket: ClientWebSocketResponse[bool] = ws
        return websocket

    async def close(self) -> None:
        await self.transport.close()


__all__ = ["APIClient", "DockerError", "MAX_API_VERSION", "Shape", "timeout_seconds"]
