"""``docker.volumes``: list, create, inspect, update, delete and prune volumes.

Layer: resource module; imports ``_core`` and the package's leaf modules only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ._core.request import Shape, build_path, encode_filters
from ._core.resource import Resource

if TYPE_CHECKING:
    from .docker import Docker

__all__ = ("DockerVolume", "DockerVolumes")


class DockerVolumes(Resource):
    """The volumes of the daemon (``docker.volumes``)."""

    if TYPE_CHECKING:
        docker: Docker  # 0.27 types the attribute so; annotations only, no import at run time

    async def list(self, *, filters: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Return the daemon's raw answer ``{"Volumes": [...], "Warnings": [...]}``."""
        params = {"filters": encode_filters(filters)}
        result = await self._api.call("GET", "volumes", params=params, expect=Shape.OBJECT)
        return result

    async def get(self, id: str) -> DockerVolume:
        """Return the volume of that name after checking that it exists.

        Raises:
            DockerNotFoundError: no such volume.
        """
        result = await self._api.call(
            "GET", build_path("volumes/{}", id), expect=Shape.OBJECT, require=("Name",)
        )
        return DockerVolume(self.docker, result["Name"])

    async def create(self, config: Mapping[str, Any]) -> DockerVolume:
        """Create a volume from the ``POST /volumes/create`` body (``Name``, ``Driver``...).

        An empty mapping creates an anonymous volume with a generated name.

        Raises:
            TypeError: ``config`` is not a mapping.
        """
        if not isinstance(config, Mapping):
            raise TypeError(f"volume config must be a mapping, not {type(config).__name__}")
        result = await self._api.call(
            "POST", "volumes/create", json_body=dict(config), expect=Shape.OBJECT, require=("Name",)
        )
        return DockerVolume(self.docker, result["Name"])

    async def prune(self, *, filters: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Delete unused volumes (``POST /volumes/prune``).

        Returns ``{"VolumesDeleted": [...], "SpaceReclaimed": n}``. Since API 1.42
        only anonymous volumes go unless the filter ``{"all": "true"}`` is given.
        """
        return await self._prune("volumes/prune", filters)


class DockerVolume(Resource):
    """One volume, known by its name."""

    if TYPE_CHECKING:
        docker: Docker

    def __init__(self, docker: Docker, name: str) -> None:
        super().__init__(docker)
        self.name = name

    def __repr__(self) -> str:
        return f"DockerVolume({self.name!r})"

    async def show(self) -> dict[str, Any]:
        """Inspect the volume (``GET /volumes/{name}``).

        Raises:
            DockerNotFoundError: the volume does not exist (any more).
        """
        result = await self._api.call(
            "GET", build_path("volumes/{}", self.name), expect=Shape.OBJECT
        )
        return result

    async def delete(self, force: bool = False) -> None:
        """Delete the volume (``DELETE /volumes/{name}``).

        Raises:
            DockerNotFoundError: the volume does not exist.
            DockerConflictError: the volume is in use by a container.
        """
        params = {"force": True} if force else None
        await self._api.call(
            "DELETE", build_path("volumes/{}", self.name), params=params, expect=Shape.NOTHING
        )

    async def update(self, spec: Mapping[str, Any], *, version: int) -> None:
        """Update a cluster volume (``PUT /volumes/{name}``, API >= 1.42, swarm managers).

        Args:
            spec: the ``ClusterVolumeSpec`` (only ``AccessMode.Availability`` may change).
            version: the ``ClusterVolume.Version.Index`` the update is based on.

        Raises:
            TypeError: ``spec`` is not a mapping or ``version`` not an int.
            DockerAPIVersionError: the API in use is older than 1.42.
            DockerNotFoundError: no such volume.
        """
        if not isinstance(spec, Mapping):
            raise TypeError(f"volume spec must be a mapping, not {type(spec).__name__}")
        if isinstance(version, bool) or not isinstance(version, int):
            raise TypeError(f"version must be an int, not {type(version).__name__}")
        await self._api.require_version("1.42", "PUT /volumes/{name} (volume update)")
        await self._api.call(
            "PUT",
            build_path("volumes/{}", self.name),
            params={"version": version},
            json_body={"Spec": dict(spec)},
            expect=Shape.NOTHING,
        )
