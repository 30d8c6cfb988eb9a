"""One client, many event loops: asyncio.run twice, loops left open or closed abruptly.

These tests are synchronous on purpose: they make the client outside any loop
and run loops themselves, as scripts do. ``asyncio.run`` and
``asyncio.new_event_loop`` follow the loop policy, so under ``--loop=uvloop``
every loop here is a uvloop loop.
"""

from __future__ import annotations

import asyncio
import gc
import warnings
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

import pytest
from helpers import client_over, remove_container

import aiodocker
from aiodocker.containers import DockerContainer

T = TypeVar("T")
STEP_TIMEOUT = 60.0  # a hang fails here, long before pytest's own timeout


def run(coro: Coroutine[Any, Any, T]) -> T:
    """asyncio.run with a deadline, so a hang is a failure and not a stuck suite."""

    async def bounded() -> T:
        return await asyncio.wait_for(coro, STEP_TIMEOUT)

    return asyncio.run(bounded())


def idle_connections(docker: aiodocker.Docker) -> int:
    return len(docker._api.transport._idle)  # type: ignore[attr-defined]


@pytest.fixture
def no_resource_warnings() -> Iterator[None]:
    """Fail if a socket, transport or process of the test is left to the garbage collector."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        yield
        gc.collect()
    leaks = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert leaks == []


def test_loops_are_the_kind_the_run_asked_for(request: pytest.FixtureRequest) -> None:
    async def loop_module() -> str:
        return type(asyncio.get_running_loop()).__module__

    expected = "uvloop" if request.config.getoption("loop") == "uvloop" else "asyncio"
    assert run(loop_module()).split(".")[0] == expected


@pytest.mark.parametrize("kind", ["unix", "tls", "ssh"])
def test_a_client_made_outside_a_loop_serves_one_asyncio_run_after_another(
    kind: str,
    testenv: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    no_resource_warnings: None,
) -> None:
    docker = client_over(kind, testenv, monkeypatch)
    try:
        first = run(docker.version())
        # the first loop's shutdown closed its connections: none is kept for a dead loop
        assert idle_connections(docker) == 0
        second = run(docker.version())
        assert second["ApiVersion"] == first["ApiVersion"]
        assert isinstance(run(docker.containers.list()), list)
    finally:
        run(docker.close())  # a third loop closes it


def test_streams_events_and_stdin_half_close_work_in_a_second_run(
    testenv: dict[str, Any], image: str, make_name: Callable[..., str], no_resource_warnings: None
) -> None:
    docker = aiodocker.Docker(url=f"unix://{testenv['unix_socket']}")
    name = make_name("loops")

    async def first() -> DockerContainer:
        subscriber = docker.events.subscribe(filters={"container": [name]})
        container = await docker.containers.create(
            {"Image": image, "Cmd": ["sh", "-c", "echo started; cat"], "OpenStdin": True, "StdinOnce": True},
            name=name,
        )
        event = await subscriber.get()
        assert event is not None and event["Action"] == "create"
        return container

    async def second(container_id: str) -> tuple[bytes, list[str], str]:
        container = docker.containers.container(container_id)
        subscriber = docker.events.subscribe(filters={"container": [name]})
        async with container.attach(stdin=True, stdout=True, stderr=True) as stream:
            await container.start()
            await stream.write_in(b"through stdin\n")
            await stream.write_eof()
            output = b""
            while message := await stream.read_out():
                output += message.data
        await container.wait()
        logs = await container.log(stdout=True)
        event = await subscriber.get()
        assert event is not None
        return output, logs, event["Action"]

    container = run(first())
    try:
        output, logs, action = run(second(container.id))
        assert output == b"started\nthrough stdin\n"
        assert logs == ["started\n", "through stdin\n"]
        assert action in ("attach", "start")
    finally:

        async def clean_up() -> None:
            await remove_container(docker.containers.container(container.id))
            await docker.close()

        run(clean_up())


def test_a_loop_left_open_does_not_hang_the_next_one(
    testenv: dict[str, Any], no_resource_warnings: None
) -> None:
    docker = aiodocker.Docker(url=f"unix://{testenv['unix_socket']}")
    first = asyncio.new_event_loop()
    second = asyncio.new_event_loop()
    try:
        first.run_until_complete(docker.version())
        assert idle_connections(docker) == 1  # kept for the first loop, which stays open
        # that connection is read by the first loop only: the second must dial its own
        info = second.run_until_complete(asyncio.wait_for(docker.version(), STEP_TIMEOUT))
        assert info["ApiVersion"]
        second.run_until_complete(asyncio.wait_for(docker.close(), STEP_TIMEOUT))
    finally:
        for loop in (first, second):
            loop.run_until_complete(loop.shutdown_asyncgens())  # lets pending closes finish
            loop.close()


def test_close_from_another_loop_after_the_first_was_closed_without_shutdown(
    testenv: dict[str, Any],
) -> None:
    docker = aiodocker.Docker(url=f"unix://{testenv['unix_socket']}")
    with warnings.catch_warnings():
        # Closing a loop without shutdown_asyncgens() leaves the client's socket to
        # the loop's close (uvloop) or to the garbage collector (asyncio), both
        # with a ResourceWarning; as an error it would make uvloop's close() spin.
        warnings.simplefilter("ignore", ResourceWarning)
        first = asyncio.new_event_loop()
        first.run_until_complete(docker.version())
        first.close()
        run(docker.close())
        with pytest.raises(aiodocker.DockerError):
            run(docker.version())  # closed means closed, in any loop
        del first
        gc.collect()
