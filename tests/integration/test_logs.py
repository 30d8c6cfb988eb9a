"""Container logs against the real daemon: text, stream ids, following, and leaving early."""

from __future__ import annotations

import asyncio
import gc
import os
import time
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

import aiodocker
from aiodocker.containers import DockerContainer
from aiodocker.exceptions import DockerNotFoundError
from aiodocker.stream import Message

pytestmark = [
    pytest.mark.filterwarnings("error::ResourceWarning"),
    pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning"),
]

MakeContainer = Callable[..., Awaitable[DockerContainer]]

QUIET = ["sh", "-c", "echo hello; echo oops >&2; sleep 300"]
TALKER = ["sh", "-c", "while :; do echo tick; sleep 0.1; done"]


@pytest.fixture
async def make_container(
    docker: aiodocker.Docker, image: str, make_name: Callable[..., str]
) -> AsyncIterator[MakeContainer]:
    created: list[DockerContainer] = []

    async def make(cmd: list[str], *, start: bool = True, **config: Any) -> DockerContainer:
        container = await docker.containers.create(
            {"Image": image, "Cmd": cmd, **config}, name=make_name("logs")
        )
        created.append(container)
        if start:
            await container.start()
        return container

    yield make
    for container in created:
        try:
            await container.delete(force=True)
        except DockerNotFoundError:
            pass


@pytest.fixture
def missing(docker: aiodocker.Docker, make_name: Callable[..., str]) -> DockerContainer:
    return docker.containers.container(make_name("missing"))


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def settle() -> None:
    """Let closed transports finish closing their sockets."""
    for _ in range(3):
        await asyncio.sleep(0)
    gc.collect()
    await asyncio.sleep(0.01)


# --- log() ----------------------------------------------------------------------------


async def test_log_returns_merged_text_items(make_container: MakeContainer) -> None:
    container = await make_container(["sh", "-c", "echo out; echo err >&2"])
    await container.wait()
    both = await container.log(stdout=True, stderr=True)
    assert sorted(both) == ["err\n", "out\n"]
    assert await container.log(stdout=True) == ["out\n"]
    assert await container.log(stderr=True) == ["err\n"]


async def test_log_passes_tail_and_timestamps(make_container: MakeContainer) -> None:
    container = await make_container(["sh", "-c", "echo 1; echo 2; echo 3"])
    await container.wait()
    assert await container.log(stdout=True, tail=1) == ["3\n"]
    stamped = await container.log(stdout=True, timestamps=True, tail=1)
    assert len(stamped) == 1 and stamped[0].endswith(" 3\n") and stamped[0][:4].isdigit()


async def test_log_needs_stdout_or_stderr(missing: DockerContainer) -> None:
    with pytest.raises(TypeError, match="Need one of stdout or stderr"):
        missing.log()
    with pytest.raises(TypeError):
        missing.log_messages(stdout=False, stderr=False)


async def test_log_of_a_missing_container_raises_not_found_naming_it(
    missing: DockerContainer,
) -> None:
    with pytest.raises(DockerNotFoundError) as exc:
        await missing.log(stdout=True)
    assert missing.id in exc.value.message
    with pytest.raises(DockerNotFoundError):
        async for _ in missing.log(stdout=True, follow=True):
            pass
    with pytest.raises(DockerNotFoundError):
        async for _ in missing.log_messages():
            pass


async def test_log_of_a_tty_container_is_raw_text(make_container: MakeContainer) -> None:
    container = await make_container(["sh", "-c", "echo out; echo err >&2"], Tty=True)
    await container.wait()
    text = "".join(await container.log(stdout=True, stderr=True))
    assert text == "out\r\nerr\r\n"
    messages = [m async for m in container.log_messages()]
    assert {m.stream for m in messages} == {1}


@pytest.mark.engine_difference(
    ("podman", "podman5"), "podman does not know the log driver settings of this test"
)
async def test_log_decodes_a_character_split_across_frames(
    make_container: MakeContainer,
) -> None:
    # The "local" log driver keeps raw bytes and cuts a long line into 16 KiB frames,
    # so the euro sign's three bytes arrive in two frames.
    container = await make_container(
        ["sh", "-c", "head -c 16383 /dev/zero | tr '\\0' a; printf '\\342\\202\\254\\n'"],
        HostConfig={"LogConfig": {"Type": "local", "Config": {}}},
    )
    await container.wait()
    messages = [m async for m in container.log_messages(stderr=False)]
    assert len(messages) >= 2 and messages[0].data.endswith(b"\xe2")  # the split is real
    items = await container.log(stdout=True)
    assert "".join(items).rstrip("\n") == "a" * 16383 + "\u20ac"
    followed = [item async for item in container.log(stdout=True, follow=True)]
    assert followed == items


async def test_log_messages_keep_stdout_and_stderr_apart(make_container: MakeContainer) -> None:
    container = await make_container(["sh", "-c", "echo out; echo err >&2; echo out2"])
    await container.wait()
    messages = [m async for m in container.log_messages()]
    # stdout and stderr are separate pipes: their relative order is not fixed
    assert [m for m in messages if m.stream == 1] == [Message(1, b"out\n"), Message(1, b"out2\n")]
    assert [m for m in messages if m.stream == 2] == [Message(2, b"err\n")]
    only_err = [m async for m in container.log_messages(stdout=False)]
    assert only_err == [Message(2, b"err\n")]


async def test_log_follow_ends_when_the_container_exits(make_container: MakeContainer) -> None:
    container = await make_container(["sh", "-c", "echo a; sleep 1; echo b"])
    start = time.monotonic()
    items = [
        item
        async for item in container.log(stdout=True, follow=True)  # no idle read timeout
    ]
    assert items == ["a\n", "b\n"]
    assert time.monotonic() - start < 20
    messages = [m async for m in container.log_messages(follow=True)]
    assert messages == [Message(1, b"a\n"), Message(1, b"b\n")]


async def test_log_follow_streams_output_as_it_is_written(make_container: MakeContainer) -> None:
    container = await make_container(TALKER)
    stream = container.log(stdout=True, follow=True)
    seen = []
    async for item in stream:
        seen.append(item)
        if len(seen) == 3:
            break
    assert seen == ["tick\n"] * 3
    await stream.aclose()
    assert stream.response is None


# --- leaving follow streams early -------------------------------------------------------


async def consume_until_cancelled(container: DockerContainer, got_one: asyncio.Event) -> None:
    async for _ in container.log(stdout=True, stderr=True, follow=True):
        got_one.set()


async def test_leaving_follow_logs_a_thousand_times_leaks_no_file_descriptors(
    docker: aiodocker.Docker, make_container: MakeContainer
) -> None:
    container = await make_container(QUIET)
    assert await container.wait_for_log("hello", timeout=30) == "hello"
    await container.show()  # warm up: the pooled connection exists before counting
    await settle()
    before = open_fds()

    for cycle in range(1000):
        if cycle % 2 == 0:
            async for item in container.log(stdout=True, follow=True):
                assert item == "hello\n"
                break
        else:
            got_one = asyncio.Event()
            task = asyncio.create_task(consume_until_cancelled(container, got_one))
            await got_one.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
    await settle()
    assert abs(open_fds() - before) <= 4
    assert (await container.show())["State"]["Running"]


async def test_an_exception_in_the_consumer_releases_the_connection(
    make_container: MakeContainer,
) -> None:
    container = await make_container(QUIET)
    await container.wait_for_log("hello", timeout=30)
    # with a context manager, the exit releases the stream at once
    stream = container.log_messages(follow=True)
    with pytest.raises(RuntimeError):
        async with stream:
            async for _ in stream:
                raise RuntimeError("consumer failed")
    assert stream.response is None
    # a stream nobody holds is released as soon as the loop unwinds
    await settle()
    before = open_fds()
    for _ in range(50):
        try:
            async for _ in container.log(stdout=True, follow=True):
                raise RuntimeError("consumer failed")
        except RuntimeError:
            pass
    await settle()
    assert abs(open_fds() - before) <= 4


async def test_cancelling_a_follow_log_task_is_prompt_and_the_client_still_works(
    make_container: MakeContainer,
) -> None:
    container = await make_container(QUIET)
    got_one = asyncio.Event()

    async def consume() -> None:
        async for _ in container.log(stdout=True, follow=True):
            got_one.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(got_one.wait(), 30)
    start = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - start < 0.5
    assert (await container.show())["State"]["Running"]
    assert await container.log(stdout=True) == ["hello\n"]


async def test_fifty_follow_logs_do_not_starve_two_hundred_inspects(
    make_container: MakeContainer,
) -> None:
    container = await make_container(TALKER)
    started = 0
    all_started = asyncio.Event()

    async def follow() -> None:
        nonlocal started
        first = True
        async for _ in container.log(stdout=True, follow=True):
            if first:
                first = False
                started += 1
                if started == 50:
                    all_started.set()

    followers = [asyncio.create_task(follow()) for _ in range(50)]
    try:
        await asyncio.wait_for(all_started.wait(), 60)
        start = time.monotonic()
        results = await asyncio.wait_for(
            asyncio.gather(*(container.show() for _ in range(200))), 30
        )
        assert len(results) == 200 and all(r["Id"] == container.id for r in results)
        assert time.monotonic() - start < 30
        assert not any(task.done() for task in followers)
    finally:
        for task in followers:
            task.cancel()
        await asyncio.gather(*followers, return_exceptions=True)


# --- DockerLog (container.logs) ---------------------------------------------------------


async def test_docker_log_publishes_raw_lines_then_none(make_container: MakeContainer) -> None:
    container = await make_container(["sh", "-c", "sleep 0.5; echo one; echo two >&2"])
    subscriber = container.logs.subscribe()
    await asyncio.wait_for(container.logs.run(), 30)
    lines = []
    while (line := await subscriber.get()) is not None:
        lines.append(line)
    assert sorted(lines) == [  # stdout, stderr: frame headers included, as aiodocker does
        b"\x01\x00\x00\x00\x00\x00\x00\x04one\n",
        b"\x02\x00\x00\x00\x00\x00\x00\x04two\n",
    ]
    assert container.logs.response is None


async def test_docker_log_stop_ends_a_running_follow(make_container: MakeContainer) -> None:
    container = await make_container(QUIET)
    subscriber = container.logs.subscribe()
    runner = asyncio.create_task(container.logs.run(stdout=True, stderr=False))
    first = await asyncio.wait_for(subscriber.get(), 30)
    assert first.endswith(b"hello\n")
    await container.logs.stop()
    await asyncio.wait_for(runner, 5)
    assert await asyncio.wait_for(subscriber.get(), 5) is None


async def test_docker_log_listen_is_deprecated(make_container: MakeContainer) -> None:
    container = await make_container(["true"], start=False)
    with pytest.warns(DeprecationWarning):
        subscriber = container.logs.listen()
    subscriber.unsubscribe()


async def test_docker_log_run_on_a_missing_container_raises_and_publishes_none(
    missing: DockerContainer,
) -> None:
    subscriber = missing.logs.subscribe()
    with pytest.raises(DockerNotFoundError) as exc:
        await missing.logs.run()
    assert missing.id in exc.value.message
    assert await subscriber.get() is None


async def test_docker_log_run_twice_warns(make_container: MakeContainer) -> None:
    container = await make_container(QUIET)
    subscriber = container.logs.subscribe()
    runner = asyncio.create_task(container.logs.run())
    await asyncio.wait_for(subscriber.get(), 30)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        await container.logs.run()
    assert any(issubclass(w.category, RuntimeWarning) for w in caught)
    await container.logs.stop()
    await asyncio.wait_for(runner, 5)
