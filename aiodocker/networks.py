"""``docker.networks``: list, create, inspect, connect, disconnect, delete and prune networks.

Layer: resource module; imports ``_core`` and the package's leaf modules only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ._core.request import Shape, build_path, unexpected
from ._core.resource import Resource

if TYPE_CHECKING:
    from .docker import Docker

__all__ = ("DockerNetwork", "DockerNetworks")


def _require_mapping(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise TypeError(f"{what} must be a mapping (the JSON body), not {type(value).__name__}")
    return value


class DockerNetworks(Resource):
    """The networks of the daemon (``docker.networks``)."""

    if TYPE_CHECKING:
        docker: Docker  # 0.27 types the attribute so; annotations only, no import at run time

    async def list(self, *, filters: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Return the networks as the daemon describes them (``GET /networks``).

        Args:
            filters: e.g. ``{"label": ["a=b"], "driver": "bridge"}``; scalars become lists.
        """
        return await self._list("networks", filters=filters)

    async def create(self, config: Mapping[str, Any]) -> DockerNetwork:
        """Create a network from the ``POST /networks/create`` body (``Name``, ``Driver``...).

        Raises:
            TypeError: ``config`` is not a mapping.
            ValueError: ``config`` has no ``Name``.
            DockerConflictError: a network of that name exists (newer daemons).
        """
        _require_mapping(config, "network config")
        if not config.get("Name"):
            raise ValueError("network config needs a non-empty 'Name'")
        result = await self._api.call(
            "POST", "networks/create", json_body=dict(config), expect=Shape.OBJECT, require=("Id",)
        )
        return DockerNetwork(self.docker, result["Id"])

    async def get(self, net_specs: str) -> DockerNetwork:
        """Return the network of that id or name (``GET /networks/{id}``).

        Raises:
            DockerNotFoundError: no such network.
        """
        result = await self._api.call(
            "GET", build_path("networks/{}", net_specs), expect=Shape.OBJECT, require=("Id",)
        )
        return DockerNetwork(self.docker, result["Id"])

    async def prune(self, *, filters: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Delete unused networks (``POST /networks/prune``); returns ``NetworksDeleted``."""
        return await self._prune("networks/prune", filters)


class DockerNetwork(Resource):
    """One network, known by its id."""

    if TYPE_CHECKING:
        docker: Docker

    def __init__(self, docker: Docker, id_: str) -> None:
        super().__init__(docker)
        self._id = id_

    @property
    def id(self) -> str:
        return self._id

    def __repr__(self) -> str:
        return f"DockerNetwork({self._id!r})"

    async def show(
        self, *, verbose: bool | None = None, scope: str | None = None
    ) -> dict[str, Any]:
        """Inspect the network (``GET /networks/{id}``).

        Raises:
            DockerNotFoundError: the network does not exist (any more).
        """
        params = {"verbose": verbose, "scope": scope}
        result = await self._api.call(
            "GET", build_path("networks/{}", self._id), params=params, expect=Shape.OBJECT
        )
        return result

    async def delete(self) -> bool:
        """Delete the network (``DELETE /networks/{id}``); True once it is gone.

        The API answers 204, and aiodocker 0.27 returns ``status == 204``. Another
        success status breaks the API's contract and raises, rather than returning
        False for a network that may well be gone.

        Raises:
            DockerNotFoundError: the network does not exist.
            DockerError: 403 for a predefined network, or it still has endpoints.
            DockerResponseError: a success status other than 204.
        """
        path = build_path("networks/{}", self._id)
        response, body = await self._api.raw("DELETE", path)
        if response.status != 204:
            shown = f"/{self._api.api_version}/{path}"
            raise unexpected("DELETE", shown, response.status, "expected 204", body)
        return True

    async def connect(self, config: Mapping[str, Any]) -> None:
        """Connect a container (``{"Container": id, "EndpointConfig": {...}}``).

        Raises:
            TypeError: ``config`` is not a mapping.
            ValueError: ``config`` names no ``Container``.
            DockerNotFoundError: no such network or container.
        """
        await self._endpoint_call("connect", config)

    async def disconnect(self, config: Mapping[str, Any]) -> None:
        """Disconnect a container (``{"Container": id, "Force": bool}``).

        Raises:
            TypeError: ``config`` is not a mapping.
            ValueError: ``config`` names no ``Container``.
            DockerNotFoundError: no such network or container.
        """
        await self._endpoint_call("disconnect", config)

    async def _endpoint_call(self, action: str, config: Mapping[str, Any]) -> None:
        _require_mapping(config, f"{action} config")
        if not config.get("Container"):
            raise ValueError(f"{action} config needs a non-empty 'Container'")
        path = build_path("networks/{}/" + action, self._id)
        await self._api.call("POST", path, json_body=dict(config), expect=Shape.NOTHING)
