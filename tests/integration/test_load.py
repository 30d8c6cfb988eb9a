"""The client under load against the real daemons: the connection limit holds and
streams held open do not starve short calls; idle connections expire."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Callable

import pytest

import aiodocker
from aiodocker.containers import DockerContainer
from aiodocker.exceptions import DockerNotFoundError
from tests.testenv import Engine

pytestmark = [pytest.mark.filterwarnings("error::ResourceWarning")]


def open_sockets() -> int:
    """How many sockets this process holds now."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                count += 1
        except OSError:
            pass  # closed while listing
    return count


class SocketPeak:
    """Samples the process's socket count in the background; ``peak`` is the most seen."""

    def __init__(self) -> None:
        self.peak = 0
        self._task: asyncio.Task[None] | None = None

    async def _sample(self) -> None:
        while True:
            self.peak = max(self.peak, open_sockets())
            await asyncio.sleep(0.002)

    async def __aenter__(self) -> SocketPeak:
        self._task = asyncio.create_task(self._sample())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass


@pytest.fixture
async def container(
    engine: Engine, docker: aiodocker.Docker, make_name: Callable[..., str]
) -> AsyncIterator[DockerContainer]:
    made = await docker.containers.create(
        {"Image": engine.image, "Cmd": ["sleep", "600"]}, name=make_name("load")
    )
    try:
        yield made
    finally:
        try:
            await made.delete(force=True)
        except DockerNotFoundError:
            pass


async def test_2000_concurrent_shows_stay_within_the_limit(
    engine: Engine, container: DockerContainer
) -> None:
    async with aiodocker.Docker(url=engine.host, limit=50) as docker:
        await docker.version()  # negotiated before the burst: one connection, now idle
        before = open_sockets() - 1
        target = docker.containers.container(container.id)
        async with SocketPeak() as sockets:
            results = await asyncio.gather(*(target.show() for _ in range(2000)))
        assert {r["Id"] for r in results} == {container.id}
        assert 0 < sockets.peak - before <= 50
        await asyncio.sleep(0.05)
        assert open_sockets() - before <= 50  # the idle ones, kept for the next calls


async def test_100_follows_and_300_inspects_all_finish(
    engine: Engine, docker: aiodocker.Docker, make_name: Callable[..., str]
) -> None:
    talker = await docker.containers.create(
        {"Image": engine.image, "Cmd": ["sh", "-c", "echo start; sleep 6; echo done"]},
        name=make_name("follows"),
    )
    try:
        await talker.start()
        async with aiodocker.Docker(url=engine.host, limit=100) as client:
            followed = client.containers.container(talker.id)
            started = 0

            async def follow() -> list[str]:
                nonlocal started
                lines = []
                async for line in followed.log(stdout=True, follow=True):
                    if line.strip() == "start":
                        started += 1
                    lines.append(line.strip())
                return lines

            follows = [asyncio.create_task(follow()) for _ in range(100)]
            while started < 100:  # all 100 follows are open
                await asyncio.sleep(0.05)
            before = open_sockets()
            async with SocketPeak() as sockets:
                inspects = await asyncio.wait_for(
                    asyncio.gather(*(followed.show() for _ in range(300))), 30
                )
            assert len(inspects) == 300
            assert not any(task.done() for task in follows)  # inspected while all 100 stay open
            assert sockets.peak - before <= 100
            logs = await asyncio.wait_for(asyncio.gather(*follows), 60)
            assert all(lines == ["start", "done"] for lines in logs)
    finally:
        await talker.delete(force=True)


async def test_idle_connections_close_after_the_keepalive_timeout(
    engine: Engine, container: DockerContainer
) -> None:
    async with aiodocker.Docker(url=engine.host, keepalive_timeout=0.5) as docker:
        await docker.version()
        target = docker.containers.container(container.id)
        await asyncio.sleep(0.7)
        before = open_sockets()
        await asyncio.gather(*(target.show() for _ in range(40)))
        grown = open_sockets() - before
        assert grown > 1  # the burst left idle connections
        await asyncio.sleep(1.0)
        assert open_sockets() - before <= 0  # all closed after 0.5 s idle
        assert (await target.show())["Id"] == container.id


LOW_LIMIT_CHILD = """
import asyncio, resource, sys
resource.setrlimit(resource.RLIMIT_NOFILE, (256, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
if sys.argv[3] == "uvloop":
    import uvloop
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
import aiodocker

async def main():
    async with aiodocker.Docker(url=sys.argv[1]) as docker:
        target = docker.containers.container(sys.argv[2])
        results = await asyncio.gather(*(target.show() for _ in range(2000)), return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        print(len(results) - len(errors), repr(errors[:1]))

asyncio.run(main())
"""


async def test_a_burst_of_2000_under_ulimit_256_all_succeeds(
    engine: Engine, container: DockerContainer
) -> None:
    """The issue's case: without a limit, a burst opened a socket per call and failed with EMFILE."""
    policy = type(asyncio.get_event_loop_policy()).__module__
    loop = "uvloop" if policy.startswith("uvloop") else "asyncio"
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = {**os.environ, "PYTHONPATH": root}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", LOW_LIMIT_CHILD, engine.host, container.id, loop,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, err.decode()[-2000:]
    assert out.decode().split()[0] == "2000", out.decode()
