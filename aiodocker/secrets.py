"""``docker.secrets``: swarm secrets (``/secrets``), as aiodocker exposes them."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import Any, cast

from ._swarm_objects import ObjectPaths, SwarmObjectStore

__all__ = ("DockerSecrets",)


class DockerSecrets(SwarmObjectStore):
    """Swarm secrets: list, create, inspect, update, delete (needs a swarm manager)."""

    _paths = ObjectPaths(
        collection="secrets",
        create="secrets/create",
        item="secrets/{}",
        update="secrets/{}/update",
    )

    async def list(
        self, *, filters: Mapping[str, Any] | None = None
    ) -> builtins.list[Mapping[str, Any]]:
        """List secrets (``GET /secrets``); filters: id, label, name, names."""
        return cast("builtins.list[Mapping[str, Any]]", await self._list_objects(filters))

    async def create(
        self,
        name: str,
        data: str | bytes,
        *,
        b64: bool = False,
        labels: Mapping[str, str] | None = None,
        driver: Mapping[str, Any] | None = None,
        templating: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Create a secret (``POST /secrets/create``) and return ``{"ID": ...}``.

        Args:
            data: the content; base64-encoded here unless ``b64`` says it already is.
            driver: a secrets driver plugin, e.g. ``{"Name": "vault"}``.
            templating: the templating driver, e.g. ``{"Name": "golang"}``.
        """
        return await self._create(
            name,
            data,
            b64=b64,
            labels=labels,
            extra={"Driver": driver, "Templating": templating},
        )

    async def inspect(self, secret_id: str) -> dict[str, Any]:
        """Return a secret's details, never its data (``GET /secrets/{id}``).

        Raises:
            DockerNotFoundError: no such secret.
        """
        return await self._inspect(secret_id)

    async def delete(self, secret_id: str) -> bool:
        """Remove a secret (``DELETE /secrets/{id}``) and return True.

        Raises:
            DockerNotFoundError: no such secret.
        """
        return await self._delete(secret_id)

    async def update(
        self,
        secret_id: str,
        version: int | str,
        *,
        name: str | None = None,
        data: str | bytes | None = None,
        b64: bool = False,
        labels: Mapping[str, str] | None = None,
        driver: Mapping[str, Any] | None = None,
        templating: Mapping[str, Any] | None = None,
    ) -> bool:
        """Update a secret (``POST /secrets/{id}/update``): the current spec with overrides.

        The daemon accepts changes to ``Labels`` only; anything else is refused.

        Raises:
            DockerError: the version is stale or the change is not allowed.
        """
        return await self._update(
            secret_id,
            version,
            name=name,
            data=data,
            b64=b64,
            labels=labels,
            extra={"Driver": driver, "Templating": templating},
        )
