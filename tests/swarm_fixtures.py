"""A two-node swarm on the extra daemons of the test environment, for the swarm tests.

Test modules load this with ``pytest_plugins = ["swarm_fixtures"]`` (one plugin, so
the session fixture is set up once for all of them) and run in the session's event
loop (``pytestmark = pytest.mark.asyncio(loop_scope="session")``).

The ``swarm`` fixture runs once per engine (tests/conftest.py parametrizes it): it
takes the two daemons of that engine listed under ``swarm_daemons`` in env.json
(never the main daemon), makes the first a manager and joins the second as a
worker, and at the end makes both leave, so the next run starts clean. A swarm left
behind by a crashed run is left at the start. A lock file keeps two test sessions on
this machine from using the daemons at the same time.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

import pytest
import pytest_asyncio
from testenv import require, unavailable

from aiodocker import Docker
from aiodocker._core.request import Shape, build_path
from aiodocker.exceptions import DockerError

T = TypeVar("T")

SWARM_PORT: Final = 2377
LOCK_PATH: Final = os.path.join(tempfile.gettempdir(), "aiodocker-swarm-tests.lock")
LOCK_TIMEOUT: Final = 900.0
# The second name of the test image, tagged on both daemons, for service updates.
V2_REPOSITORY: Final = "aiodocker-test/busybox-v2"
NAME_PREFIX: Final = "aiodocker-test-"


@dataclass
class SwarmCluster:
    """The two daemons of the test swarm and what the tests need to know about them."""

    manager: Docker
    worker: Docker
    manager_addr: str
    worker_addr: str
    manager_node_id: str
    worker_node_id: str
    image: str  # the busybox test image, present on both daemons
    image_v2: str  # the same image under a second name, on both daemons
    session: str = field(default_factory=lambda: uuid.uuid4().hex[:6])

    # Helpers for the test modules, which do not import this plugin module (pytest
    # could not rewrite its asserts then).

    async def node_state(self, docker: Docker) -> dict[str, Any]:
        """The ``Swarm`` part of ``GET /info`` of ``docker``."""
        return await node_state(docker)

    async def wait_for(
        self, check: Callable[[], Awaitable[T]], *, what: str, timeout: float = 120.0
    ) -> T:
        """Poll ``check`` until it returns something truthy (see :func:`wait_for`)."""
        return await wait_for(check, what=what, timeout=timeout)

    def name(self, hint: str) -> str:
        """Return a unique name for a swarm object of this session."""
        return f"{NAME_PREFIX}{self.session}-{hint}-{uuid.uuid4().hex[:6]}"

    async def join_worker(self) -> str:
        """Join the worker daemon to the swarm; return its (new) node id once it is ready."""
        token = (await self.manager.swarm.inspect())["JoinTokens"]["Worker"]
        await self.worker.swarm.join(
            remote_addrs=[f"{self.manager_addr}:{SWARM_PORT}"],
            join_token=token,
            listen_addr=f"{self.worker_addr}:{SWARM_PORT}",
            advertise_addr=self.worker_addr,
        )
        node_id = await node_id_of(self.worker)
        await wait_for(lambda: node_is_ready(self.manager, node_id), what="the worker to be ready")
        self.worker_node_id = node_id
        return node_id


async def node_state(docker: Docker) -> dict[str, Any]:
    """Return the ``Swarm`` part of ``GET /info`` (LocalNodeState, NodeID, ...)."""
    info = await docker._api.call("GET", "info", expect=Shape.OBJECT)
    swarm: dict[str, Any] = info.get("Swarm") or {}
    return swarm


async def node_id_of(docker: Docker) -> str:
    return str((await node_state(docker)).get("NodeID") or "")


async def node_is_ready(manager: Docker, node_id: str) -> bool:
    try:
        node = await manager.nodes.inspect(node_id=node_id)
    except DockerError:
        return False
    return bool(node["Status"]["State"] == "ready")


async def wait_for(
    check: Callable[[], Awaitable[T]],
    *,
    what: str,
    timeout: float = 120.0,
    interval: float = 0.5,
) -> T:
    """Poll ``check`` until it returns something truthy; return that, or fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(interval)


async def leave_if_member(docker: Docker) -> None:
    if (await node_state(docker)).get("LocalNodeState", "inactive") != "inactive":
        await docker.swarm.leave(force=True)


@contextlib.asynccontextmanager
async def exclusive_lock(path: str, timeout: float) -> AsyncIterator[None]:
    """Hold an exclusive flock on ``path`` (released when the process ends, even on a crash)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise AssertionError(
                        f"another test session holds {path} for more than {timeout:.0f} s"
                    ) from None
                await asyncio.sleep(1.0)
        yield
    finally:
        os.close(fd)  # closing releases the lock


async def tag_image(docker: Docker, image: str, repository: str, tag: str) -> None:
    await docker._api.call(
        "POST", build_path("images/{}/tag", image), params={"repo": repository, "tag": tag}, expect=Shape.NOTHING
    )


async def untag_image(docker: Docker, reference: str) -> None:
    with contextlib.suppress(DockerError):
        await docker._api.call("DELETE", build_path("images/{}", reference), expect=Shape.OBJECTS)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def swarm(request: pytest.FixtureRequest) -> AsyncIterator[SwarmCluster]:
    """A manager and a worker in a fresh swarm of the engine the test runs on."""
    engine: str = request.param
    daemons = [daemon for daemon in require("swarm") if daemon.get("engine") == engine]
    image: str = require("image")
    if len(daemons) < 2:
        unavailable(
            "swarm", f"two {engine} swarm daemons are needed, env.json lists {len(daemons)}"
        )
    first, second = daemons[0], daemons[1]
    async with exclusive_lock(LOCK_PATH, LOCK_TIMEOUT):
        manager = Docker(url=f"unix://{first['socket']}")
        worker = Docker(url=f"unix://{second['socket']}")
        image_v2 = f"{V2_REPOSITORY}:latest"
        try:
            # a swarm left behind by a crashed run
            await leave_if_member(worker)
            await leave_if_member(manager)
            manager_node_id = await manager.swarm.init(
                advertise_addr=first["addr"], listen_addr=f"{first['addr']}:{SWARM_PORT}"
            )
            cluster = SwarmCluster(
                manager=manager,
                worker=worker,
                manager_addr=first["addr"],
                worker_addr=second["addr"],
                manager_node_id=manager_node_id,
                worker_node_id="",
                image=image,
                image_v2=image_v2,
            )
            await cluster.join_worker()
            repository, _, tag = image_v2.rpartition(":")
            for docker in (manager, worker):
                await tag_image(docker, image, repository, tag)
            yield cluster
        finally:
            try:
                for docker in (worker, manager):
                    with contextlib.suppress(DockerError):
                        await leave_if_member(docker)
                    await untag_image(docker, image_v2)
            finally:
                await worker.close()
                await manager.close()
