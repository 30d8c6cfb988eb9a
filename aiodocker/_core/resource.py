"""The base of every resource class (``docker.containers``, a ``DockerVolume``...).

A resource holds ``docker`` (0.27's attribute, kept for compatibility) and the
typed core client ``_api`` it makes its calls with; it never touches a private
member of ``Docker``. The shared steps live here: list with filters and prune.

Layer: _core; imports _core and the package's leaf modules only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from .client import APIClient
from .request import Shape, encode_filters

__all__ = ("DockerLike", "Resource")


class DockerLike(Protocol):
    """What a resource needs of the composition root: its core client."""

    @property
    def core(self) -> APIClient: ...


class Resource:
    """A group of endpoints bound to one ``Docker`` client."""

    def __init__(self, docker: DockerLike) -> None:
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
