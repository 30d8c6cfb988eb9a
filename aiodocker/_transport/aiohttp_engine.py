"""Requests through a caller's aiohttp ``ClientSession`` or connector; websockets.

Layer: ``_transport``; imports aiohttp (only this module does, and only when a
caller brings a session or connector, or opens a websocket) and the stdlib.
Only aiohttp's public API is used.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, Mapping

import aiohttp

from ..exceptions import DockerConnectionError, DockerTruncatedStreamError
from .base import ReadsWholeBody, WebSocketRefused, check_request, describe_error
from .relay import Dial, Relay

WRITE_HIGH_WATER = 64 * 1024
# aiohttp resends an idempotent request (PUT and DELETE too) once when its connection
# dies before the answer; this client resends only GET and HEAD (see ``http.RETRY_METHODS``).
RESENDABLE = frozenset({"GET", "HEAD"})
# Client middlewares (aiohttp >= 3.12) run around each attempt: one stops the resend.
CAN_STOP_RESENDS = hasattr(aiohttp, "ClientMiddlewareType")


async def _send_once(
    request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
) -> aiohttp.ClientResponse:
    """Turn a connection lost before the answer into an error aiohttp does not retry."""
    try:
        return await handler(request)
    except aiohttp.ClientConnectorError:
        raise  # no connection was made, so nothing was sent (aiohttp does not retry it)
    except (aiohttp.ClientOSError, aiohttp.ServerDisconnectedError) as exc:
        raise DockerConnectionError(
            f"connection to the daemon was lost ({exc}) before the answer to "
            f"{request.method} {request.url.path}: the request may or may not have been applied"
        ) from exc


async def connect_websocket(
    session: aiohttp.ClientSession, url: str, where: str
) -> aiohttp.ClientWebSocketResponse[bool]:
    """Open a websocket through ``session`` with the handshake aiodocker 0.27 makes.

    Raises:
        WebSocketRefused: the daemon answered the handshake with another status.
        DockerConnectionError: the daemon could not be reached.
    """
    try:
        return await session.ws_connect(
            url, protocols=("chat",), origin="http://localhost", autoping=True, autoclose=True
        )
    except aiohttp.WSServerHandshakeError as exc:
        raise WebSocketRefused(exc.status, exc.message) from exc
    except aiohttp.ClientConnectionError as exc:
        raise DockerConnectionError(
            f"Cannot connect to Docker Engine via {where} [{describe_error(exc)}]"
        ) from exc


class AiohttpBody:
    """The body reader protocol over an ``aiohttp.StreamReader``."""

    def __init__(self, content: aiohttp.StreamReader) -> None:
        self._content = content

    @property
    def at_eof(self) -> bool:
        return self._content.at_eof()

    async def read_chunk(self) -> bytes:
        try:
            return await self._content.readany()
        except aiohttp.ClientPayloadError as exc:
            raise DockerTruncatedStreamError(f"response body was cut short: {exc}") from exc

    async def read(self, n: int = -1) -> bytes:
        try:
            return await self._content.read(n)
        except aiohttp.ClientPayloadError as exc:
            raise DockerTruncatedStreamError(f"response body was cut short: {exc}") from exc

    async def readexactly(self, n: int) -> bytes:
        try:
            return await self._content.readexactly(n)
        except asyncio.IncompleteReadError as exc:
            raise DockerTruncatedStreamError(
                f"stream ended after {len(exc.partial)} of {n} expected bytes"
            ) from exc

    async def readline(self) -> bytes:
        return await self._content.readline()


class AiohttpChannel:
    """Raw stream of an upgraded aiohttp connection (public ``connection.transport``)."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response
        self.body = AiohttpBody(response.content)
        connection = response.connection
        if connection is None or connection.transport is None:
            raise DockerConnectionError("the upgraded connection is gone")
        self._transport = connection.transport

    def write(self, data: bytes) -> None:
        self._transport.write(data)

    async def drain(self) -> None:
        # aiohttp has no public drain for a hijacked transport: wait for its buffer to empty
        while self._transport.get_write_buffer_size() > WRITE_HIGH_WATER:
            if self._transport.is_closing():
                raise DockerConnectionError("cannot write: the connection is closed")
            await asyncio.sleep(0.001)

    def can_write_eof(self) -> bool:
        return self._transport.can_write_eof()

    def write_eof(self) -> None:
        if self._transport.can_write_eof():
            self._transport.write_eof()

    def close(self) -> None:
        self._response.close()


class AiohttpResponse(ReadsWholeBody):
    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response
        self.status = response.status
        self.reason = response.reason or ""
        self.method = response.method
        self.headers: Mapping[str, str] = response.headers
        self.body = AiohttpBody(response.content)
        self.content = response.content
        self._released = False

    @property
    def content_type(self) -> str:
        return self._response.content_type

    @property
    def released(self) -> bool:
        return self._released

    def release(self) -> None:
        if self._released:
            return
        self._released = True
        if self._response.content.at_eof():
            self._response.release()
        else:
            self._response.close()

    def detach(self) -> AiohttpChannel:
        self._released = True
        return AiohttpChannel(self._response)


class AiohttpTransport:
    """Sends requests through an aiohttp session to ``base_url``."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str, *, owns_session: bool) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.description = f"aiohttp session to {self.base_url}"
        self._owns_session = owns_session

    async def request(
        self,
        method: str,
        target: str,
        headers: Mapping[str, str] | None = None,
        body: bytes | AsyncIterable[bytes] | None = None,
        *,
        long_lived: bool = False,  # the caller's session or connector keeps its own limits
    ) -> AiohttpResponse:
        check_request(method, target, headers)
        sent_headers = dict(headers or {})
        if sent_headers.get("Upgrade") == "tcp":
            # aiohttp keeps the bytes after a 101 in a private buffer; without the
            # upgrade headers the daemon hijacks with a 200 whose body runs to EOF,
            # which aiohttp's public StreamReader delivers.
            sent_headers.pop("Upgrade")
            sent_headers.pop("Connection", None)
        options: dict[str, object] = {}
        if self._owns_session and CAN_STOP_RESENDS and method not in RESENDABLE:
            # only on the session made here: a per-request middleware replaces the
            # session's own, and a caller's session may have some
            options["middlewares"] = (_send_once,)
        try:
            response = await self.session.request(
                method,
                self.base_url + target,
                headers=sent_headers,
                data=body,
                timeout=aiohttp.ClientTimeout(),
                allow_redirects=False,
                skip_auto_headers=("Content-Type",) if body is None else (),
                **options,
            )
        except aiohttp.ClientConnectionError as exc:
            raise DockerConnectionError(
                f"Cannot connect to Docker Engine via {self.base_url} [{describe_error(exc)}]"
            ) from exc
        return AiohttpResponse(response)

    async def websocket(self, target: str) -> aiohttp.ClientWebSocketResponse[bool]:
        """Open a websocket to ``target`` through the session (its trace configs see it)."""
        check_request("GET", target, None)
        return await connect_websocket(self.session, self.base_url + target, self.base_url)

    async def close(self) -> None:
        if self._owns_session:
            await self.session.close()


class DialedWebSockets:
    """Websockets for our own engine: aiohttp speaks the protocol, our dialer carries it.

    aiohttp connects to a :class:`~.relay.Relay` whose connections are joined to
    ones the engine's dialer opened (unix, tcp, TLS, the stdio of ssh). The
    session and relay belong to one event loop; on another they are made anew.
    """

    def __init__(self, dial: Dial, host: str, description: str) -> None:
        self._dial = dial
        self._host = host
        self.description = description
        self._loop: asyncio.AbstractEventLoop | None = None
        self._relay: Relay | None = None
        self._session: aiohttp.ClientSession | None = None

    async def connect(self, target: str) -> aiohttp.ClientWebSocketResponse[bool]:
        """Open a websocket to ``target``.

        Raises:
            WebSocketRefused: the daemon answered the handshake with another status.
            DockerConnectionError: the daemon could not be reached.
        """
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self.discard()
        if self._relay is None or self._session is None:
            relay = Relay(self._dial, self.description)
            await relay.start()
            self._relay, self._loop = relay, loop
            # force_close: a connection never goes back to a pool (each is joined to one dialed)
            connector = aiohttp.UnixConnector(relay.path, force_close=True)
            self._session = aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout())
        self._relay.drop_closed()
        far = await self._relay.dial()
        try:
            return await connect_websocket(
                self._session, f"http://{self._host}{target}", self.description
            )
        except DockerConnectionError as exc:
            if far.diagnose is None:
                raise
            # an ssh process that failed says why better than the lost connection does
            raise DockerConnectionError(await far.diagnose()) from exc

    def discard(self) -> None:
        """Forget the session and relay of a previous loop, closing what can be closed."""
        relay, self._relay = self._relay, None
        self._session = None  # its connections are the relay's: closed with them
        self._loop = None
        if relay is not None:
            relay.discard()

    async def close(self) -> None:
        session, self._session = self._session, None
        relay, self._relay = self._relay, None
        self._loop = None
        if session is not None:
            await session.close()
        if relay is not None:
            await relay.close()
