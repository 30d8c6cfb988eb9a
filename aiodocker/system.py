"""``docker.system``: info, version, ping, disk usage and the event stream.

Layer: resource module; imports ``_core``, ``_responses`` and the package's leaf
modules only (the event stream itself belongs to ``docker.events``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final, cast

from ._core.request import Shape, encode_query, unexpected
from ._core.resource import Resource
from .types import SENTINEL

if TYPE_CHECKING:
    from datetime import datetime

    from ._core.client import TimeoutArg
    from ._responses import ResponseStream
    from .docker import Docker
    from .models import SystemVersion

__all__ = ("DockerSystem",)

DF_TYPES: Final = frozenset({"container", "image", "volume", "build-cache"})


def _df_types(type: str | Iterable[str]) -> list[str]:
    types = [type] if isinstance(type, str) else list(type)
    unknown = sorted(set(types) - DF_TYPES)
    if unknown or not types:
        raise ValueError(f"df type must be one or more of {sorted(DF_TYPES)}, got {unknown or types}")
    return types


class DockerSystem(Resource):
    """Daemon-wide calls (``docker.system``)."""

    if TYPE_CHECKING:
        docker: Docker  # 0.27 types the attribute so; annotations only, no import at run time

    async def info(self) -> dict[str, Any]:
        """Return system-wide information (``GET /info``)."""
        return await self._api.call("GET", "info", expect=Shape.OBJECT)

    async def version(self) -> SystemVersion:
        """Return the daemon's version information (``GET /version``)."""
        return cast(
            "SystemVersion", await self._api.call("GET", "version", expect=Shape.OBJECT)
        )

    async def ping(self, *, head: bool = False, timeout: TimeoutArg = SENTINEL) -> str:
        """Check that the daemon answers (``GET /_ping``, or ``HEAD /_ping`` with ``head``).

        Returns the body, ``"OK"`` (as Docker and Podman send it); a HEAD request
        has none and returns ``""``. The call is unversioned, so it never triggers
        API version negotiation.

        Raises:
            DockerConnectionError: the daemon cannot be reached.
            DockerError: the daemon answered with an error status.
            DockerResponseError: the answer is no ping answer: a status other than
                200, or a GET body other than ``OK`` (a proxy's page, say).
        """
        method = "HEAD" if head else "GET"
        response, body = await self._api.raw(method, "_ping", versioned=False, timeout=timeout)
        if response.status != 200:
            raise unexpected(method, "/_ping", response.status, "expected 200", body)
        if head:
            return ""
        if body.strip() != b"OK":
            raise unexpected(method, "/_ping", response.status, 'expected "OK"', body)
        return body.decode("ascii")

    async def ping_headers(self, *, timeout: TimeoutArg = SENTINEL) -> dict[str, str]:
        """Return the headers of ``HEAD /_ping`` (``API-Version``, ``OSType``, ``Swarm``...)."""
        response, _ = await self._api.raw("HEAD", "_ping", versioned=False, timeout=timeout)
        return dict(response.headers)

    async def df(
        self, *, type: str | Iterable[str] | None = None, verbose: bool | None = None
    ) -> dict[str, Any]:
        """Return data usage (``GET /system/df``): images, containers, volumes, build cache.

        Args:
            type: restrict to ``container``, ``image``, ``volume`` and/or ``build-cache``
                (API >= 1.42).
            verbose: detailed usage (API >= 1.52).

        Raises:
            ValueError: an unknown ``type``.
            DockerAPIVersionError: ``type`` or ``verbose`` on an older API.
        """
        pairs: list[tuple[str, Any]] = []
        if type is not None:
            types = _df_types(type)
            await self._api.require_version("1.42", "GET /system/df?type=")
            pairs += [("type", t) for t in types]
        if verbose is not None:
            await self._api.require_version("1.52", "GET /system/df?verbose=")
            pairs.append(("verbose", verbose))
        # "type" repeats (collectionFormat "multi"), which a query mapping cannot express
        query = "&".join(encode_query({key: value}) for key, value in pairs)
        path = f"system/df?{query}" if query else "system/df"
        return await self._api.call("GET", path, expect=Shape.OBJECT)

    def events(
        self,
        *,
        since: float | str | datetime | None = None,
        until: float | str | datetime | None = None,
        filters: Mapping[str, Any] | str | None = None,
    ) -> ResponseStream[dict[str, Any]]:
        """Stream raw event dicts from ``GET /events`` (see ``docker.events.stream``).

        Without ``until`` the stream follows until it is closed.
        """
        return self.docker.events.stream(since=since, until=until, filters=filters)
