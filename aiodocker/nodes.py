"""``docker.nodes``: the nodes of a swarm (``/nodes``), as aiodocker exposes them."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final, cast

from ._core.request import Shape, build_path
from ._core.resource import Resource

if TYPE_CHECKING:
    from .docker import Docker

__all__ = ("DockerSwarmNodes", "NodeSpecError")

NODE_ROLES: Final = frozenset({"worker", "manager"})
NODE_AVAILABILITIES: Final = frozenset({"active", "pause", "drain"})


class NodeSpecError(ValueError, AssertionError):
    """A NodeSpec field has a value the daemon does not know.

    An AssertionError too: 0.27 checks these fields with ``assert``.
    """


class DockerSwarmNodes(Resource):
    """The nodes of the swarm (needs a swarm manager)."""

    if TYPE_CHECKING:
        docker: Docker  # 0.27 types the attribute so; annotations only, no import at run time

    async def list(
        self, *, filters: Mapping[str, Any] | None = None
    ) -> builtins.list[Mapping[str, Any]]:
        """List nodes (``GET /nodes``); filters: id, label, membership, name, node.label, role."""
        # 0.27's element type (list is invariant: a list of dicts would not match it)
        return cast("builtins.list[Mapping[str, Any]]", await self._list("nodes", filters=filters))

    async def inspect(self, *, node_id: str) -> dict[str, Any]:
        """Return a node's details (``GET /nodes/{id}``).

        Raises:
            DockerNotFoundError: no such node.
        """
        result = await self._api.call("GET", build_path("nodes/{}", node_id), expect=Shape.OBJECT)
        return result

    async def update(self, *, node_id: str, version: int | str, spec: Mapping[str, Any]) -> Any:
        """Replace a node's spec (``POST /nodes/{id}/update``).

        ``spec`` is the whole NodeSpec (``Role``, ``Availability``, ``Labels``, ``Name``):
        start from ``inspect(node_id=...)["Spec"]``.

        Returns:
            the daemon's (empty) answer, ``""``, as aiodocker returns it.

        Raises:
            NodeSpecError: ``Role`` or ``Availability`` has a value the daemon does not
                know (a ValueError, and an AssertionError as in 0.27).
            DockerError: ``version`` is stale, or the change is refused.
        """
        role = spec.get("Role")
        if role is not None and role not in NODE_ROLES:
            raise NodeSpecError(f"Role must be one of {sorted(NODE_ROLES)}, got {role!r}")
        availability = spec.get("Availability")
        if availability is not None and availability not in NODE_AVAILABILITIES:
            raise NodeSpecError(
                f"Availability must be one of {sorted(NODE_AVAILABILITIES)}, got {availability!r}"
            )
        await self._api.call(
            "POST",
            build_path("nodes/{}/update", node_id),
            params={"version": str(version)},
            json_body=dict(spec),
            expect=Shape.NOTHING,
        )
        return ""

    async def remove(self, *, node_id: str, force: bool = False) -> Any:
        """Remove a node from the swarm (``DELETE /nodes/{id}``).

        A node must be down (it left the swarm) unless ``force`` is True.

        Returns:
            the daemon's (empty) answer, ``""``, as aiodocker returns it.

        Raises:
            DockerNotFoundError: no such node.
            DockerError: the node is not down and ``force`` is False.
        """
        await self._api.call(
            "DELETE", build_path("nodes/{}", node_id), params={"force": force}, expect=Shape.NOTHING
        )
        return ""
