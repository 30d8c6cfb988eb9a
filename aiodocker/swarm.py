"""``docker.swarm``: create, join, leave, inspect, update and unlock a swarm (``/swarm``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ._core.bodies import clean_map
from ._core.request import Shape
from ._core.resource import Resource

if TYPE_CHECKING:
    from .docker import Docker

__all__ = ("DockerSwarm",)


class DockerSwarm(Resource):
    """The swarm the daemon belongs to."""

    if TYPE_CHECKING:
        docker: Docker  # 0.27 types the attribute so; annotations only, no import at run time

    async def init(
        self,
        *,
        advertise_addr: str | None = None,
        data_path_port: int | None = None,
        default_addr_pool: Iterable[str] | None = None,
        listen_addr: str = "0.0.0.0:2377",
        force_new_cluster: bool = False,
        subnet_size: int = 24,
        swarm_spec: Mapping[str, Any] | None = None,
    ) -> str:
        """Make this daemon the first manager of a new swarm (``POST /swarm/init``).

        Returns:
            the id of this node.

        Raises:
            DockerError: the node is already part of a swarm (503), or an address is bad.
        """
        body = clean_map(
            {
                "ListenAddr": listen_addr,
                "AdvertiseAddr": advertise_addr,
                "DataPathPort": data_path_port,
                "DefaultAddrPool": None if default_addr_pool is None else list(default_addr_pool),
                "ForceNewCluster": force_new_cluster,
                "SubnetSize": subnet_size,
                "Spec": None if swarm_spec is None else dict(swarm_spec),
            }
        )
        result = await self._api.call(
            "POST", "swarm/init", json_body=body, expect=Shape.STRING
        )
        return result

    async def inspect(self) -> dict[str, Any]:
        """Return the swarm's details, including its join tokens (``GET /swarm``).

        Raises:
            DockerError: the node is not a manager (503).
        """
        result = await self._api.call("GET", "swarm", expect=Shape.OBJECT)
        return result

    async def join(
        self,
        *,
        remote_addrs: Iterable[str],
        listen_addr: str = "0.0.0.0:2377",
        join_token: str,
        advertise_addr: str | None = None,
        data_path_addr: str | None = None,
    ) -> bool:
        """Join an existing swarm as a worker or manager (``POST /swarm/join``).

        The token decides the role: ``inspect()["JoinTokens"]["Worker"|"Manager"]``.

        Raises:
            TypeError: ``remote_addrs`` is a single str instead of a list of addresses.
            DockerError: the token is wrong, a manager is unreachable, or the node is
                already part of a swarm (503).
        """
        if isinstance(remote_addrs, str):
            raise TypeError("remote_addrs must be a list of addresses, not a str")
        body = clean_map(
            {
                "ListenAddr": listen_addr,
                "AdvertiseAddr": advertise_addr,
                "DataPathAddr": data_path_addr,
                "RemoteAddrs": list(remote_addrs),
                "JoinToken": join_token,
            }
        )
        await self._api.call(
            "POST", "swarm/join", json_body=body, long_running=True, expect=Shape.NOTHING
        )
        return True

    async def leave(self, *, force: bool = False) -> bool:
        """Leave the swarm (``POST /swarm/leave``); a manager needs ``force``.

        Raises:
            DockerError: the node is not part of a swarm (503), or is a manager and
                ``force`` is False.
        """
        await self._api.call(
            "POST", "swarm/leave", params={"force": force}, long_running=True, expect=Shape.NOTHING
        )
        return True

    async def update(
        self,
        *,
        spec: Mapping[str, Any] | None = None,
        version: int | str | None = None,
        rotate_worker_token: bool = False,
        rotate_manager_token: bool = False,
        rotate_manager_unlock_key: bool = False,
    ) -> bool:
        """Replace the swarm's spec, or rotate its tokens (``POST /swarm/update``).

        Args:
            spec: the whole new swarm spec; None keeps the current one (to rotate tokens).
            version: the ``Version.Index`` the change is based on; None reads the
                current one (the update then wins over a concurrent one).

        Raises:
            DockerError: ``version`` is stale, or the spec is invalid.
        """
        if spec is None or version is None:
            current = await self.inspect()
            if spec is None:
                spec = current.get("Spec") or {}
            if version is None:
                version = current.get("Version", {}).get("Index", 0)
        params = {
            "version": str(version),
            "rotateWorkerToken": rotate_worker_token,
            "rotateManagerToken": rotate_manager_token,
            "rotateManagerUnlockKey": rotate_manager_unlock_key,
        }
        await self._api.call(
            "POST", "swarm/update", params=params, json_body=dict(spec), expect=Shape.NOTHING
        )
        return True

    async def get_unlock_key(self) -> str:
        """Return the key that unlocks an autolocked manager (``GET /swarm/unlockkey``).

        An empty string means autolock is off.
        """
        result = await self._api.call("GET", "swarm/unlockkey", expect=Shape.OBJECT)
        return str(result.get("UnlockKey") or "")

    async def unlock(self, key: str) -> bool:
        """Unlock a locked manager with its unlock key (``POST /swarm/unlock``).

        Raises:
            DockerError: the key is wrong, or the node is not locked.
        """
        if not isinstance(key, str) or not key:
            raise ValueError("key must be a non-empty str (the SWMKEY-... unlock key)")
        await self._api.call(
            "POST", "swarm/unlock", json_body={"UnlockKey": key}, expect=Shape.NOTHING
        )
        return True
