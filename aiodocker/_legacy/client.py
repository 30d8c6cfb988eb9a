"""aiodocker 0.27's surface of ``Docker`` that this client keeps only for 0.27 code.

:class:`LegacyClient` is a base class of :class:`aiodocker.docker.Docker`: its
aiohttp objects (``docker.session`` and ``docker.connector``, made on first
access) and its semi-public helpers (``_query``, ``_do_query``, ``_query_json``,
``_query_chunked_post``, ``_websocket``, ``_canonicalize_url``,
``_check_version``). They are ``Docker``'s own members, so they use its state
(``_api``, ``endpoint``, ``timeout``, ...), which ``docker.py`` sets up.

Layer: ``_legacy`` (0.27 compatibility); imports ``_core``, the leaves, and
``_transport.aiohttp_ssh`` and ``.responses`` inside the functions that need them.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Generator, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Final, NoReturn, cast
from urllib.parse import quote

from .._core.client import TimeoutArg, timeout_seconds
from .._core.request import httpize
from ..exceptions import DockerClientClosedError
from ..types import SENTINEL
from .bodies import parse_result

if TYPE_CHECKING:
    import ssl

    import aiohttp
    from yarl import URL

    from .._core.client import APIClient
    from .._transport.endpoint import Endpoint
    from .responses import CompatResponse

__all__ = ("LegacyClient",)


class _ClosedRequest:
    """A request on a closed session: awaiting it or entering it raises, as aiohttp does."""

    __slots__ = ()

    def __await__(self) -> Generator[Any, None, NoReturn]:
        raise DockerClientClosedError()
        yield  # pragma: no cover - makes this a generator, as __await__ must be

    async def __aenter__(self) -> NoReturn:
        raise DockerClientClosedError()

    async def __aexit__(self, *exc_info: object) -> None:
        return None


class _ClosedSession:
    """``docker.session`` after ``close()`` when the client never made one.

    aiodocker 0.27 always has a session, so after ``close()`` it hands back a closed
    one; code checks ``docker.session.closed`` to decide whether to make a new client.
    This stand-in answers ``closed`` with True, closes again quietly, and every
    request on it raises ``RuntimeError('Session is closed')`` (as
    :class:`~aiodocker.exceptions.DockerClientClosedError`), as a closed
    ``aiohttp.ClientSession`` does. Nothing is opened to make it.
    """

    __slots__ = ()

    closed: Final = True
    connector: Final = None

    def __repr__(self) -> str:
        return "<closed aiodocker session>"

    def request(self, *args: Any, **kwargs: Any) -> _ClosedRequest:
        return _ClosedRequest()

    get = post = put = patch = delete = head = options = ws_connect = request

    async def close(self) -> None:
        return None

    def detach(self) -> None:
        return None

    async def __aenter__(self) -> _ClosedSession:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        return None


class LegacyClient:
    """``Docker``'s 0.27-only members (see the module docstring)."""

    # set by Docker.__init__
    _api: APIClient
    _closed: bool
    endpoint: Endpoint
    ssl_context: ssl.SSLContext | None
    docker_host: str

    def _init_aiohttp(
        self,
        connector: aiohttp.BaseConnector | None,
        session: aiohttp.ClientSession | None,
        timeout: aiohttp.ClientTimeout | float | None,
    ) -> None:
        """0.27's session/connector: the caller's, else made on first access."""
        self._connector = connector
        self._session = session
        self._own_connector: aiohttp.BaseConnector | None = None
        self._own_session: aiohttp.ClientSession | None = None
        self.timeout = timeout

    @property
    def connector(self) -> aiohttp.BaseConnector:
        """The aiohttp connector to the daemon: the caller's, else one made on first access.

        As in aiodocker 0.27: ``UnixConnector`` for unix, ``TCPConnector`` (with the
        TLS context) for tcp, ``NamedPipeConnector`` for npipe and
        :class:`aiodocker.ssh.SSHConnector` for ssh. The client's own methods do not
        use it; it is there for code that makes raw aiohttp calls.
        """
        if self._connector is None:
            if self._closed:
                raise DockerClientClosedError()  # nothing new after close(): it would leak
            self._connector = self._own_connector = self._make_connector()
        return self._connector

    @property
    def session(self) -> aiohttp.ClientSession:
        """An aiohttp session to the daemon: the caller's, else one made on first access.

        ``docker.session.get(f"{docker.docker_host}/v1.41/info")`` reaches the same
        daemon as the client, TLS included. ``close()`` closes it only if the client
        made it. After ``close()`` it is a closed session, as in aiodocker 0.27
        (``docker.session.closed`` is True): the one made before, or a closed stand-in
        whose requests raise ``RuntimeError('Session is closed')``.
        """
        if self._session is None:
            if self._closed:
                # 0.27 gives its closed session; making one now would leak a connector
                return cast("aiohttp.ClientSession", _ClosedSession())
            import aiohttp

            if self.timeout is None or isinstance(self.timeout, aiohttp.ClientTimeout):
                timeout = self.timeout or aiohttp.ClientTimeout()
            else:
                timeout = aiohttp.ClientTimeout(total=timeout_seconds(self.timeout))
            connector = self.connector
            self._session = self._own_session = aiohttp.ClientSession(
                connector=connector,
                timeout=timeout,
                connector_owner=connector is self._own_connector,
            )
        return self._session

    def _make_connector(self) -> aiohttp.BaseConnector:
        import aiohttp

        scheme, address = self.endpoint.scheme, self.endpoint.address
        if scheme == "unix":
            return aiohttp.UnixConnector(address)
        if scheme == "tcp":
            return aiohttp.TCPConnector(ssl=self.ssl_context or False)
        if scheme == "npipe":
            return aiohttp.NamedPipeConnector(address.replace("/", "\\"))
        from .._transport.aiohttp_ssh import SSHConnector

        return SSHConnector(address)

    # --- semi-public helpers ------------------------------------------------------

    def _canonicalize_url(self, path: Any, *, versioned_api: bool = True) -> URL:
        """``{docker_host}/{api_version}/{path}`` as a ``yarl.URL``, as 0.27 builds it."""
        from yarl import URL

        if versioned_api:
            return URL(f"{self.docker_host}/{self._api.api_version}/{path}")
        return URL(f"{self.docker_host}/{path}")

    async def _check_version(self) -> None:
        await self._api.negotiate()

    @asynccontextmanager
    async def _query(
        self,
        path: Any,
        method: str = "GET",
        *,
        params: Mapping[str, Any] | None = None,
        data: Any = None,
        headers: Mapping[str, Any] | None = None,
        timeout: TimeoutArg = SENTINEL,
        chunked: Any = None,
        read_until_eof: bool = True,
        versioned_api: bool = True,
    ) -> AsyncIterator[CompatResponse]:
        """Make a request and yield the response (released on exit). Semi-public.

        The response reads like an ``aiohttp.ClientResponse``: ``status``,
        ``headers``, ``ok``, ``url``, ``raise_for_status()``, ``read()``,
        ``json()``, ``text()`` and ``content`` (an ``aiohttp.StreamReader`` look-alike).
        """
        response = await self._do_query(
            path,
            method,
            params=params,
            data=data,
            headers=headers,
            timeout=timeout,
            chunked=chunked,
            read_until_eof=read_until_eof,
            versioned_api=versioned_api,
        )
        try:
            yield response
        finally:
            response.release()

    async def _do_query(
        self,
        path: Any,
        method: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Any = None,
        headers: Mapping[str, Any] | None = None,
        timeout: TimeoutArg = SENTINEL,
        chunked: Any = None,
        read_until_eof: bool = True,
        versioned_api: bool = True,
    ) -> CompatResponse:
        """Make a request and return the response; the caller releases it. Semi-public.

        Raises:
            DockerError: the daemon answered 4xx/5xx (a subclass by status).
            DockerConnectionError: the daemon could not be reached.
        """
        seconds = self._api.seconds(timeout, long_running=False)
        all_headers = {"Content-Type": "application/json"}
        if headers:
            all_headers = {k: str(v) for k, v in headers.items()}
            if not any(k.lower() == "content-type" for k in headers):
                all_headers["Content-Type"] = "application/json"
        sent_params = _httpize_or_none(params)
        response = await self._api.request(
            method,
            _quote_path(str(path)),
            params=sent_params,
            body=_encode_body(data),
            headers=all_headers,
            versioned=versioned_api,
            timeout=seconds,
            not_modified_ok=True,  # aiodocker 0.27 callers use _query for start/stop too
        )
        url = self._canonicalize_url(str(path).lstrip("/"), versioned_api=versioned_api)
        if sent_params:
            url = url.with_query(sent_params)
        from .responses import CompatResponse  # with the resource modules, not at import

        return CompatResponse(response, url)

    async def _query_json(
        self,
        path: Any,
        method: str = "GET",
        *,
        params: Mapping[str, Any] | None = None,
        data: Any = None,
        headers: Mapping[str, Any] | None = None,
        timeout: TimeoutArg = SENTINEL,
        read_until_eof: bool = True,
        versioned_api: bool = True,
    ) -> Any:
        """Make a request and return its parsed body. Semi-public."""
        if data is not None and not isinstance(data, (str, bytes, bytearray)):
            data = json.dumps(data)
        async with self._query(
            path,
            method,
            params=params,
            data=data,
            headers=headers,
            timeout=timeout,
            versioned_api=versioned_api,
        ) as response:
            return await parse_result(response)

    @asynccontextmanager
    async def _query_chunked_post(
        self,
        path: Any,
        method: str = "POST",
        *,
        params: Mapping[str, Any] | None = None,
        data: Any = None,
        headers: Mapping[str, Any] | None = None,
        timeout: TimeoutArg = SENTINEL,
        read_until_eof: bool = True,
        versioned_api: bool = True,
    ) -> AsyncIterator[CompatResponse]:
        """Make a request with a chunked body and yield the response. Semi-public.

        As in 0.27 the caller's ``headers`` are sent as given (``Content-Type``
        defaults to ``application/json`` like every request).
        """
        async with self._query(
            path,
            method,
            params=params,
            data=_as_async_iterable(data),
            headers=headers,
            timeout=timeout,
            versioned_api=versioned_api,
        ) as response:
            yield response

    async def _websocket(self, path: Any, **params: Any) -> aiohttp.ClientWebSocketResponse[bool]:
        """Open a websocket to ``path`` through the core (0.27's semi-public helper).

        Without params it attaches stdin, stdout and stderr (0.27's default).

        Raises:
            DockerError: the daemon refused the handshake (a subclass by status).
        """
        if not params:
            params = {"stdin": True, "stdout": True, "stderr": True, "stream": True}
        return await self._api.websocket(_quote_path(str(path)), params)


def _quote_path(path: str) -> str:
    """Percent-encode what a request target may not hold, as 0.27's URL building (yarl) does.

    Spaces, control characters (CR and LF included: 0.27 dropped them), non-ASCII
    and the other characters not allowed in a URL are encoded; ``/``, ``?``, ``&``,
    ``=`` and existing ``%XX`` escapes are kept, so the path still names the endpoint
    and a query written into it stays a query.
    """
    return quote(path, safe="/?&=%:@!$'()*+,;~")


def _httpize_or_none(params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return None if params is None else httpize(params)


def _encode_body(data: Any) -> Any:
    if data is None:
        return None
    if isinstance(data, str):
        return data.encode()
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    if hasattr(data, "__aiter__"):
        return data
    if hasattr(data, "read"):
        return _as_async_iterable(data)
    return json.dumps(data).encode()


async def _iter_file(fileobj: Any, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    while chunk := fileobj.read(size):
        yield chunk


def _as_async_iterable(data: Any) -> Any:
    if data is None or hasattr(data, "__aiter__"):
        return data
    if isinstance(data, (bytes, bytearray)):
        return _single(bytes(data))
    if hasattr(data, "read"):
        return _iter_file(data)
    return data


async def _single(data: bytes) -> AsyncIterator[bytes]:
    yield data

