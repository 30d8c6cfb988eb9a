"""``docker.configs``: swarm configs (``/configs``), as aiodocker exposes them."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import Any, cast

from ._swarm_objects import ObjectPaths, SwarmObjectStore

__all__ = ("DockerConfigs",)


class DockerConfigs(SwarmObjectStore):
    """Swarm configs: list, create, inspect, update, delete (needs a swarm manager)."""

    _paths = ObjectPaths(
        collection="configs",
        create="configs/create",
        item="configs/{}",
        update="configs/{}/update",
    )

    async def list(
        self, *, filters: Mapping[str, Any] | None = None
    ) -> builtins.list[Mapping[str, Any]]:
        """List configs (``GET /configs``); filters: id, label, name, names."""
        return cast("builtins.list[Mapping[str, Any]]", await self._list_objects(filters))

    async def create(
        self,
        name: str,
        data: str | bytes,
        *,
        b64: bool = False,
        labels: Mapping[str, str] | None = None,
        templating: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Create a config (``POST /configs/create``) and return ``{"ID": ...}``.

        Args:
            data: the content; base64-encoded here unless ``b64`` says it already is.
            templating: the templating driver, e.g. ``{"Name": "golang"}``.
        """
        return await self._create(
            name, data, b64=b64, labels=labels, extra={"Templating": templating}
        )

    async def inspect(self, config_id: str) -> dict[str, Any]:
        """Return a config's details (``GET /configs/{id}``).

        Raises:
            DockerNotFoundError: no such config.
        """
        return await self._inspect(config_id)

    async def delete(self, config_id: str) -> bool:
        """Remove a config (``DELETE /configs/{id}``) and return True.

        Raises:
            DockerNotFoundError: no such config.
        """
        return await self._delete(config_id)

    async def update(
        self,
        config_id: str,
        version: int | str,
        *,
        name: str | None = None,
        data: str | bytes | None = None,
        b64: bool = False,
        labels: Mapping[str, str] | None = None,
        templating: Mapping[str, Any] | None = None,
    ) -> bool:
        """Update a config (``POST /configs/{id}/update``): the current spec with overrides.

        The daemon accepts changes to ``Labels`` only; anything else is refused.

        Raises:
            DockerError: the version is stale or the change is not allowed.
        """
        return await self._update(
            config_id,
            version,
            name=name,
            data=data,
            b64=b64,
            labels=labels,
            extra={"Templating": templating},
        )
