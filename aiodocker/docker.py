"""The composition root: resolve the endpoint, build the transport, attach sub-APIs."""

from __future__ import annotations

import importlib
import logging
import os
import re
import ssl
import warnings
import weakref
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Generic, TypeVar, overload

from ._core.client import APIClient, timeout_seconds
from ._core.hooks import RequestHooks, normalize_hooks
from ._core.request import Shape, parse_api_version
from ._legacy.client import LegacyClient
from ._transport import DEFAULT_LIMIT, KEEPALIVE_TIMEOUT, open_engine
from ._transport.base import Transport
from ._transport.endpoint import Endpoint, resolve_endpoint

if TYPE_CHECKING:
    import aiohttp

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
    from .volumes import DockerVolume, DockerVolumes

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


log = logging.getLogger(__name__)


_T = TypeVar("_T")


class _OnFirstUse(Generic[_T]):
    """An attribute of ``Docker`` made by ``make(docker)`` on first access, then kept.

    A non-data descriptor: the value is stored in the instance's ``__dict__`` under the
    same name, so later reads never reach the descriptor and a caller may assign it.
    """

    def __init__(self, make: Callable[[Docker], _T]) -> None:
        self._make = make
        self._name = make.__name__

    def __set_name__(self, owner: type[Docker], name: str) -> None:
        self._name = name

    @overload
    def __get__(self, docker: None, owner: type[Docker]) -> _OnFirstUse[_T]: ...

    @overload
    def __get__(self, docker: Docker, owner: type[Docker]) -> _T: ...

    def __get__(self, docker: Docker | None, owner: type[Docker]) -> _T | _OnFirstUse[_T]:
        if docker is None:
            return self
        value = docker.__dict__[self._name] = self._make(docker)
        return value


# The classes this module re-exports as 0.27's did, each imported from its resource
# module on first use (``from aiodocker.docker import DockerContainer``).
_REEXPORTED: Final = {
    "DockerConfigs": "configs",
    "DockerContainer": "containers",
    "DockerContainers": "containers",
    "DockerEvents": "events",
    "DockerImages": "images",
    "DockerLog": "logs",
    "DockerNetwork": "networks",
    "DockerNetworks": "networks",
    "DockerSecrets": "secrets",
    "DockerServices": "services",
    "DockerSwarm": "swarm",
    "DockerSwarmNodes": "nodes",
    "DockerSystem": "system",
    "DockerTasks": "tasks",
    "DockerVolume": "volumes",
    "DockerVolumes": "volumes",
}


def __getattr__(name: str) -> Any:
    module = _REEXPORTED.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __package__), name)
    globals()[name] = value
    return value


def _warn_unclosed(description: str) -> None:
    log.warning(
        "a Docker client for %s was never closed; use `async with Docker()` or `await docker.close()`",
        description,
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


_API_VERSION = r"^v\d+\.\d+$"  # compiled on first use (re caches it), not at import


def _compat_host(endpoint: Endpoint, raw_host: str | None, tls: bool) -> str:
    """The ``docker_host`` attribute as aiodocker 0.27 sets it.

    A tcp host keeps the scheme it was given (``tcp://`` or ``http://``); only TLS
    rewrites it, to ``https://``. Unix and ssh hosts read ``unix://localhost``.
    """
    if endpoint.scheme in ("unix", "ssh"):
        return "unix://localhost"
    if endpoint.scheme == "npipe":
        return "npipe://localhost"
    if tls:
        return f"https://{endpoint.address}"
    if raw_host is not None and raw_host.startswith("http://"):
        return f"http://{endpoint.address}"
    return f"tcp://{endpoint.address}"


def _check_pool_options(limit: object, keepalive_timeout: object) -> None:
    """Refuse a ``limit`` or ``keepalive_timeout`` the connection pool cannot use.

    Raises:
        TypeError: ``limit`` is not an int, or ``keepalive_timeout`` not a number or None.
        ValueError: either is negative.
    """
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise TypeError(f"limit must be an int (0 for no limit), not {type(limit).__name__}")
    if limit < 0:
        raise ValueError(f"limit must be 0 (no limit) or more, not {limit}")
    if keepalive_timeout is None:
        return
    if isinstance(keepalive_timeout, bool) or not isinstance(keepalive_timeout, (int, float)):
        raise TypeError(
            "keepalive_timeout must be a number of seconds or None, "
            f"not {type(keepalive_timeout).__name__}"
        )
    if keepalive_timeout < 0:
        raise ValueError(f"keepalive_timeout must be 0 or more seconds, not {keepalive_timeout}")


class Docker(LegacyClient):
    """The Docker client: entry point to the sub-APIs (``containers``, ``images``, ...).

    The daemon is chosen by the documented precedence: ``url``, ``context``,
    ``DOCKER_HOST``, ``DOCKER_CONTEXT``, ``currentContext`` of config.json,
    then socket auto-detection.

    Args:
        limit: The most connections the client opens to the daemon for short
            requests, as aiohttp's ``limit`` (default 100; 0 means no limit).
            Calls beyond it wait for a free connection in the order they came.
            Long-lived streams (followed logs, events, stats, attach, exec,
            ``wait()``, pulls and builds, BuildKit sessions) are counted apart,
            with the same limit, so streams held open never hold up short calls:
            the client opens at most ``2 * limit`` sockets. Ignored when
            ``connector`` or ``session`` is given: those keep their own limits.
        keepalive_timeout: Seconds an idle keep-alive connection stays open,
            as aiohttp's ``keepalive_timeout`` (default 15). ``0`` closes every
            connection after its request; ``None`` keeps idle ones until
            ``close()``. Ignored with ``connector`` or ``session``.
        transport: Any object implementing the transport protocol
            (:class:`aiodocker._transport.base.Transport`, documented in
            docs/DESIGN.md): every request goes through it instead of a
            connection to a daemon. ``aiodocker.testing.MockTransport`` and
            ``aiodocker.testing.FakeEngine`` are such objects. ``url`` then
            only sets ``docker_host``; ``context``, ``DOCKER_HOST`` and the
            socket detection are not consulted.

    Raises:
        TypeError: ``ssl_context`` is neither None nor an ``ssl.SSLContext``;
            ``limit`` is not an int or ``keepalive_timeout`` not a number.
        ValueError: ``api_version`` is neither ``"auto"`` nor like ``"v1.41"``;
            ``limit`` is negative or ``keepalive_timeout`` negative;
            ``transport`` came with ``session``, ``connector`` or ``context``.
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
        *,
        hooks: RequestHooks | Iterable[RequestHooks] | None = None,
        limit: int = DEFAULT_LIMIT,
        keepalive_timeout: float | None = KEEPALIVE_TIMEOUT,
        transport: Transport | None = None,
    ) -> None:
        request_hooks = normalize_hooks(hooks)
        if ssl_context is not None and not isinstance(ssl_context, ssl.SSLContext):
            # 0.27 fails in aiohttp's TCPConnector with a TypeError; fail so for any daemon
            raise TypeError(
                f"ssl_context should be an ssl.SSLContext or None, got {ssl_context!r} instead"
            )
        _check_pool_options(limit, keepalive_timeout)
        if transport is not None and (
            session is not None or connector is not None or context is not None
        ):
            raise ValueError("transport= cannot be combined with session=, connector= or context=")
        if api_version != "auto":
            if re.match(_API_VERSION, api_version) is None:
                raise ValueError("Invalid API version format")
        elif os.environ.get("DOCKER_API_VERSION"):
            pinned = os.environ["DOCKER_API_VERSION"]
            parse_api_version(pinned)
            api_version = pinned if pinned.startswith("v") else "v" + pinned
        self._closed = True  # nothing to close until the transport exists
        self._init_aiohttp(connector, session, timeout)
        if transport is not None:  # the caller's transport: no daemon to find
            url = url or "unix:///var/run/docker.sock"
        self.endpoint = resolve_endpoint(
            url, context, env=os.environ, home=os.path.expanduser("~")
        )
        self.ssl_context = self._ssl_for(self.endpoint, ssl_context)
        raw_host = {"url": url, "DOCKER_HOST": os.environ.get("DOCKER_HOST")}.get(
            self.endpoint.source
        )
        self.docker_host = _compat_host(self.endpoint, raw_host, self.ssl_context is not None)
        self._through_aiohttp = session is not None or connector is not None
        if transport is not None:
            pass
        elif self._through_aiohttp:
            transport = self._aiohttp_transport(session, connector)
        else:
            transport = open_engine(
                self.endpoint.scheme,
                self.endpoint.address,
                ssl_context=self.ssl_context,
                description=self.endpoint.url,
                limit=limit,
                keepalive_timeout=keepalive_timeout,
            )
        self._api = APIClient(
            transport,
            api_version=api_version,
            timeout=timeout_seconds(timeout),
            hooks=request_hooks,
            endpoint=self.endpoint.url,
        )
        self._closed = False
        # warns at garbage collection or interpreter exit, whichever comes first
        self._unclosed = weakref.finalize(self, _warn_unclosed, self.endpoint.url)
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "daemon %s (chosen by %s) through %s, API %s",
                self.endpoint.url,
                self.endpoint.source,
                transport.description,
                api_version,
            )


    # The sub-APIs are made on first access, and only then is their module imported: the
    # resource modules are most of the package's import time. After that each is a plain
    # instance attribute, as in 0.27.

    @_OnFirstUse
    def events(self) -> DockerEvents:
        from .events import DockerEvents

        return DockerEvents(self)

    @_OnFirstUse
    def containers(self) -> DockerContainers:
        from .containers import DockerContainers

        return DockerContainers(self)

    @_OnFirstUse
    def swarm(self) -> DockerSwarm:
        from .swarm import DockerSwarm

        return DockerSwarm(self)

    @_OnFirstUse
    def services(self) -> DockerServices:
        from .services import DockerServices

        return DockerServices(self)

    @_OnFirstUse
    def configs(self) -> DockerConfigs:
        from .configs import DockerConfigs

        return DockerConfigs(self)

    @_OnFirstUse
    def secrets(self) -> DockerSecrets:
        from .secrets import DockerSecrets

        return DockerSecrets(self)

    @_OnFirstUse
    def tasks(self) -> DockerTasks:
        from .tasks import DockerTasks

        return DockerTasks(self)

    @_OnFirstUse
    def images(self) -> DockerImages:
        from .images import DockerImages

        return DockerImages(self)

    @_OnFirstUse
    def volumes(self) -> DockerVolumes:
        from .volumes import DockerVolumes

        return DockerVolumes(self)

    @_OnFirstUse
    def networks(self) -> DockerNetworks:
        from .networks import DockerNetworks

        return DockerNetworks(self)

    @_OnFirstUse
    def nodes(self) -> DockerSwarmNodes:
        from .nodes import DockerSwarmNodes

        return DockerSwarmNodes(self)

    @_OnFirstUse
    def system(self) -> DockerSystem:
        from .system import DockerSystem

        return DockerSystem(self)

    @_OnFirstUse
    def plugins(self) -> DockerPlugins:
        from .plugins import DockerPlugins

        return DockerPlugins(self)

    # legacy aliases of 0.27
    pull = _OnFirstUse(lambda docker: docker.images.pull)
    push = _OnFirstUse(lambda docker: docker.images.push)

    @staticmethod
    def _ssl_for(endpoint: Endpoint, ssl_context: ssl.SSLContext | None) -> ssl.SSLContext | None:
        if endpoint.scheme != "tcp":
            return None
        if ssl_context is not None:
            return ssl_context
        if endpoint.tls is None:
            return None
        from ._transport.tls import make_ssl_context  # TLS endpoints only

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
            self._session = session
        return AiohttpTransport(session, base_url, owns_session=owns)

    @property
    def core(self) -> APIClient:
        """The core API client the resources call through (``call``, ``request``, ``open``).

        For endpoints no resource covers: ``await docker.core.call("GET", "info",
        expect=Shape.OBJECT)`` gets the same versioning, errors and hooks.
        """
        return self._api

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has been called."""
        return self._closed

    @property
    def through_aiohttp(self) -> bool:
        """Whether requests go through the caller's aiohttp session or connector.

        False means the client's own HTTP engine, which can also hand over a
        connection after an upgrade (the BuildKit session needs that).
        """
        return self._through_aiohttp

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
        self._unclosed.detach()
        try:
            if "events" in self.__dict__:  # made, so perhaps running
                await self.events.stop()
        finally:
            await self._api.close()
            session, self._own_session = self._own_session, None
            connector, self._own_connector = self._own_connector, None
            if session is not None:
                await session.close()  # closes our connector too (connector_owner)
            elif connector is not None:
                await connector.close()

    def __del__(self, _warn: Any = warnings.warn) -> None:
        if not getattr(self, "_closed", True):
            _warn(f"Unclosed client {self!r}", ResourceWarning, stacklevel=2, source=self)

    # --- calls ------------------------------------------------------------------

    async def auth(self, **credentials: Any) -> dict[str, Any]:
        """Check registry credentials with the daemon (``POST /auth``).

        Returns ``{"Status": ..., "IdentityToken": ...}`` (the token only where the
        registry issues one).

        Raises:
            DockerError: the registry refused the credentials.
        """
        result = await self._api.call("POST", "auth", json_body=credentials, expect=Shape.OBJECT)
        return result

    async def version(self) -> dict[str, Any]:
        """Return the daemon's version information (``GET /version``)."""
        return dict(await self.system.version())
