"""The composition root: resolve the endpoint, build the transport, attach sub-APIs."""

from __future__ import annotations

import json
import os
import ssl
import warnings
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ._core.bodies import parse_result
from ._core.client import APIClient, timeout_seconds
from ._core.request import error_from_response, httpize, parse_api_version
from ._transport import open_engine
from ._transport.base import Response, Transport
from ._transport.endpoint import Endpoint, resolve_endpoint
from ._transport.tls import make_ssl_context
from .configs import DockerConfigs
from .containers import DockerContainer, DockerContainers
from .events import DockerEvents
from .images import DockerImages
from .logs import DockerLog
from .networks import DockerNetwork, DockerNetworks
from .nodes import DockerSwarmNodes
from .plugins import DockerPlugins
from .secrets import DockerSecrets
from .services import DockerServices
from .swarm import DockerSwarm
from .system import DockerSystem
from .tasks import DockerTasks
from .types import SENTINEL, Sentinel
from .volumes import DockerVolume, DockerVolumes

if TYPE_CHECKING:
    import aiohttp

__all__ = (
    "Docker",
    "DockerConfigs",
    "DockerContainer",
    "DockerContainers",
    "DockerContextEndpoint",
    "DockerEvents",
    "DockerImages",
    "DockerLog",
    "DockerNetwork",
    "DockerNetworks",
    "DockerSecrets",
    "DockerServices",
    "DockerSwarm",
    "DockerSwarmNodes",
    "DockerSystem",
    "DockerTasks",
    "DockerVolume",
    "DockerVolumes",
)


class DockerContextEndpoint:
    """The endpoint of a Docker context, as aiodocker exposes it."""

    def __init__(
        self,
        host: str,
        context_name: str | None = None,
        skip_tls_verify: bool = False,
        tls_ca: str | None = None,
        tls_cert: str | None = None,
        tls_key: str | None = None,
    ) -> None:
        self.host = host
        self.context_name = context_name
        self.skip_tls_verify = skip_tls_verify
        self.tls_ca = tls_ca
        self.tls_cert = tls_cert
        self.tls_key = tls_key

    @property
    def has_tls(self) -> bool:
        return self.tls_ca is not None or self.tls_cert is not None

    def __repr__(self) -> str:
        return (
            f"DockerContextEndpoint(host={self.host!r}, context_name={self.context_name!r}, "
            f"skip_tls_verify={self.skip_tls_verify!r}, has_tls={self.has_tls!r})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DockerContextEndpoint):
            return NotImplemented
        return vars(self) == vars(other)


def _compat_host(endpoint: Endpoint, tls: bool) -> str:
    """The ``docker_host`` attribute as aiodocker sets it."""
    if endpoint.scheme in ("unix", "ssh"):
        return "unix://localhost"
    if endpoint.scheme == "npipe":
        return "npipe://localhost"
    return f"{'https' if tls else 'http'}://{endpoint.address}"


class Docker:
    """The Docker client: entry point to the sub-APIs (``containers``, ``images``, ...).

    The daemon is chosen by the documented precedence: ``url``, ``context``,
    ``DOCKER_HOST``, ``DOCKER_CONTEXT``, ``currentContext`` of config.json,
    then socket auto-detection.
    """

    def __init__(
        self,
        url: str | None = None,
        connector: aiohttp.BaseConnector | None = None,
        session: aiohttp.ClientSession | None = None,
        timeout: aiohttp.ClientTimeout | float | None = None,
        ssl_context: ssl.SSLContext | None = None,
        api_version: str = "auto",
        context: str | None = None,
    ) -> None:
        if api_version != "auto":
            parse_api_version(api_version)
            if not api_version.startswith("v"):
                raise ValueError(
                    f"Invalid API version format: {api_version!r} (expected e.g. 'v1.41')"
                )
        elif os.environ.get("DOCKER_API_VERSION"):
            pinned = os.environ["DOCKER_API_VERSION"]
            parse_api_version(pinned)
            api_version = pinned if pinned.startswith("v") else "v" + pinned
        self._closed = True  # nothing to close until the transport exists
        self.connector = connector
        self.session = session
        self._ws_session: aiohttp.ClientSession | None = None
        self.timeout = timeout
        self.endpoint = resolve_endpoint(
            url, context, env=os.environ, home=os.path.expanduser("~")
        )
        self.ssl_context = self._ssl_for(self.endpoint, ssl_context)
        self.docker_host = _compat_host(self.endpoint, self.ssl_context is not None)
        transport: Transport
        if session is not None or connector is not None:
            transport = self._aiohttp_transport(session, connector)
        else:
            transport = open_engine(
                self.endpoint.scheme,
                self.endpoint.address,
                ssl_context=self.ssl_context,
                description=self.endpoint.url,
            )
        self._api = APIClient(transport, api_version=api_version, timeout=timeout_seconds(timeout))
        self._closed = False

        self.events = DockerEvents(self)
        self.containers = DockerContainers(self)
        self.swarm = DockerSwarm(self)
        self.services = DockerServices(self)
        self.configs = DockerConfigs(self)
        self.secrets = DockerSecrets(self)
        self.tasks = DockerTasks(self)
        self.images = DockerImages(self)
        self.volumes = DockerVolumes(self)
        self.networks = DockerNetworks(self)
        self.nodes = DockerSwarmNodes(self)
        self.system = DockerSystem(self)
        self.plugins = DockerPlugins(self)
        # legacy aliases
        self.pull = self.images.pull
        self.push = self.images.push

    @staticmethod
    def _ssl_for(endpoint: Endpoint, ssl_context: ssl.SSLContext | None) -> ssl.SSLContext | None:
        if endpoint.scheme != "tcp":
            return None
        if ssl_context is not None:
            return ssl_context
        if endpoint.tls is None:
            return None
        return make_ssl_context(endpoint.tls, context_name=endpoint.context_name)

    def _aiohttp_transport(
        self, session: aiohttp.ClientSession | None, connector: aiohttp.BaseConnector | None
    ) -> Transport:
        import aiohttp

        from ._transport.aiohttp_engine import AiohttpTransport

        endpoint = self.endpoint
        if endpoint.scheme == "tcp":
            base_url = f"{'https' if self.ssl_context else 'http'}://{endpoint.address}"
        else:
            base_url = "http://localhost"
        owns = session is None
        if session is None:
            session = aiohttp.ClientSession(connector=connector, connector_owner=False)
            self.session = session
        return AiohttpTransport(session, base_url, owns_session=owns)

    # --- public attributes ----------------------------------------------------

    @property
    def api_version(self) -> str:
        return self._api.api_version

    @api_version.setter
    def api_version(self, value: str) -> None:
        parse_api_version(value)
        self._api.api_version = value if value.startswith("v") else "v" + value

    def __repr__(self) -> str:
        return f"<Docker {self.endpoint.url} ({self.endpoint.source}) api={self.api_version}>"

    # --- lifecycle --------------------------------------------------------------

    async def __aenter__(self) -> Docker:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Stop background tasks and close what this instance created. Idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            await self.events.stop()
        finally:
            await self._api.close()
            if self._ws_session is not None:
                await self._ws_session.close()
                self._ws_session = None

    def __del__(self, _warn: Any = warnings.warn) -> None:
        if not getattr(self, "_closed", True):
            _warn(f"Unclosed {self!r}", ResourceWarning, stacklevel=2, source=self)

    # --- calls ------------------------------------------------------------------

    async def auth(self, **credentials: Any) -> dict[str, Any]:
        """Check registry credentials with the daemon (``POST /auth``).

        Raises:
            DockerError: the registry refused the credentials.
        """
        result = await self._api.call("POST", "auth", json_body=credentials)
        return result if isinstance(result, dict) else {}

    async def version(self) -> dict[str, Any]:
        """Return the daemon's version information (``GET /version``)."""
        result = await self._api.call("GET", "version")
        return result if isinstance(result, dict) else {}

    # --- semi-public compatibility surface ------------------------------------

    def _canonicalize_url(self, path: str, *, versioned_api: bool = True) -> str:
        base = self.docker_host
        if versioned_api:
            return f"{base}/{self.api_version}/{path.lstrip('/')}"
        return f"{base}/{path.lstrip('/')}"

    async def _check_version(self) -> None:
        await self._api.negotiate()

    def _resolve_timeout(self, timeout: Any, *, warn_float: bool) -> float | None:
        if warn_float and isinstance(timeout, (int, float)) and not isinstance(timeout, bool):
            warnings.warn(
                "passing a float timeout to _query is deprecated; pass aiohttp.ClientTimeout",
                DeprecationWarning,
                stacklevel=3,
            )
        if isinstance(timeout, Sentinel):
            return self._api.default_timeout
        return timeout_seconds(timeout)

    @asynccontextmanager
    async def _query(
        self,
        path: str,
        method: str = "GET",
        *,
        params: Mapping[str, Any] | None = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: Any = SENTINEL,
        chunked: Any = None,
        read_until_eof: bool = True,
        versioned_api: bool = True,
    ) -> AsyncIterator[Response]:
        """Make a request and yield the response (released on exit). Semi-public."""
        seconds = self._resolve_timeout(timeout, warn_float=True)
        all_headers = {"Content-Type": "application/json"}
        if headers:
            all_headers = {**headers}
            if not any(k.lower() == "content-type" for k in headers):
                all_headers["Content-Type"] = "application/json"
        body = _encode_body(data)
        response = await self._api.request(
            method,
            path,
            params=_httpize_or_none(params),
            body=body,
            headers=all_headers,
            versioned=versioned_api,
            timeout=seconds,
        )
        try:
            yield response
        finally:
            response.release()

    async def _query_json(
        self,
        path: str,
        method: str = "GET",
        *,
        params: Mapping[str, Any] | None = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: Any = SENTINEL,
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
        path: str,
        method: str = "POST",
        *,
        params: Mapping[str, Any] | None = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: Any = SENTINEL,
        read_until_eof: bool = True,
        versioned_api: bool = True,
    ) -> AsyncIterator[Response]:
        """Make a request with a chunked body and yield the response. Semi-public."""
        if headers is None:
            headers = {"Content-Type": "application/x-tar"}
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

    async def _websocket(self, path: str, **params: Any) -> aiohttp.ClientWebSocketResponse[bool]:
        """Open a websocket to ``path`` (used by container attach over websocket)."""
        import aiohttp

        if self.endpoint.scheme not in ("unix", "tcp"):
            raise ValueError(
                f"websocket attach is supported over unix and tcp, not {self.endpoint.scheme}"
            )
        if self._ws_session is None:
            connector: aiohttp.BaseConnector
            if self.endpoint.scheme == "unix":
                connector = aiohttp.UnixConnector(self.endpoint.address)
            else:
                connector = aiohttp.TCPConnector(ssl=self.ssl_context or False)
            self._ws_session = aiohttp.ClientSession(connector=connector)
        target = await self._api.target(path, _httpize_or_none(params))
        if self.endpoint.scheme == "tcp":
            base = f"{'https' if self.ssl_context else 'http'}://{self.endpoint.address}"
        else:
            base = "http://localhost"
        try:
            return await self._ws_session.ws_connect(
                base + target, protocols=["chat"], origin="http://localhost", autoping=True
            )
        except aiohttp.WSServerHandshakeError as exc:
            # a refused handshake carries only the status: map it like any other error
            detail = f"websocket {target} refused ({exc.status}): {exc.message}"
            raise error_from_response(exc.status, detail.encode(), "text/plain") from exc


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

