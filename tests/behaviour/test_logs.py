"""Logs and attach behave alike on the fake engine and on the real daemons."""

from __future__ import annotations

import asyncio
import re
import time

import pytest

from aiodocker._core.request import Shape
from aiodocker.exceptions import DockerError, DockerNotFoundError

from .conftest import Backend

SCRIPT = "echo one; sleep 0.1; echo two >&2; sleep 0.1; echo three"  # apart: a daemon reads the two pipes concurrently


async def finished(backend: Backend, script: str = SCRIPT, **config: object):  # type: ignore[no-untyped-def]
    container = await backend.run(["sh", "-c", script], **config)
    await container.wait(timeout=10)
    return container


async def test_logs_merge_stdout_and_stderr_in_order(backend: Backend) -> None:
    container = await finished(backend)
    lines = await container.log(stdout=True, stderr=True)
    assert "".join(lines) == "one\ntwo\nthree\n"


@pytest.mark.parametrize(
    ("stdout", "stderr", "expected"),
    [
        (True, False, "one\nthree\n"),
        (False, True, "two\n"),
        (True, True, "one\ntwo\nthree\n"),
    ],
)
async def test_logs_select_streams(
    backend: Backend, stdout: bool, stderr: bool, expected: str
) -> None:
    container = await finished(backend)
    assert "".join(await container.log(stdout=stdout, stderr=stderr)) == expected


async def test_log_messages_keep_the_stream_id(backend: Backend) -> None:
    container = await finished(backend)
    got = [(m.stream, bytes(m.data)) async for m in container.log_messages()]
    assert got == [(1, b"one\n"), (2, b"two\n"), (1, b"three\n")]


@pytest.mark.parametrize(
    ("tail", "expected"),
    [
        (1, "three\n"),
        (2, "two\nthree\n"),
        (0, ""),
        ("all", "one\ntwo\nthree\n"),
    ],
)
async def test_logs_tail(backend: Backend, tail: object, expected: str) -> None:
    container = await finished(backend)
    assert "".join(await container.log(stdout=True, stderr=True, tail=tail)) == expected


async def test_logs_timestamps_prefix_each_line(backend: Backend) -> None:
    container = await finished(backend)
    lines = await container.log(stdout=True, stderr=True, timestamps=True)
    assert len(lines) == 3
    for line, text in zip(lines, ["one", "two", "three"], strict=True):
        assert re.fullmatch(rf"\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z {text}\n", line), line


async def test_logs_since_in_the_future_is_empty(backend: Backend) -> None:
    container = await finished(backend)
    assert await container.log(stdout=True, stderr=True, since=int(time.time()) + 3600) == []


async def test_logs_since_in_the_past_is_everything(backend: Backend) -> None:
    container = await finished(backend)
    lines = await container.log(stdout=True, stderr=True, since=int(time.time()) - 3600)
    assert "".join(lines) == "one\ntwo\nthree\n"


async def test_logs_of_a_created_container_are_empty(backend: Backend) -> None:
    container = await backend.create(["echo", "never"])
    assert await container.log(stdout=True) == []


async def test_logs_of_a_tty_container_are_raw(backend: Backend) -> None:
    container = await finished(backend, "echo a; echo b >&2", Tty=True)
    assert "".join(await container.log(stdout=True, stderr=True)) == "a\r\nb\r\n"


async def test_logs_of_a_missing_container_is_404(backend: Backend) -> None:
    name = backend.make_name("nocontainer")
    with pytest.raises(DockerNotFoundError) as caught:
        await backend.docker.containers.container(name).log(stdout=True)
    assert caught.value.message == f"No such container: {name}"


async def test_logs_follow_ends_when_the_container_stops(backend: Backend) -> None:
    container = await backend.run(["sh", "-c", "echo first; sleep 1; echo late"])

    async def collect() -> list[str]:
        return [line async for line in container.log(stdout=True, follow=True)]

    began = time.monotonic()
    got = await asyncio.wait_for(collect(), 20)
    assert "".join(got) == "first\nlate\n"
    assert time.monotonic() - began >= 0.5  # "late" came after the sleep
    assert (await container.show())["State"]["Status"] == "exited"


async def test_logs_accumulate_over_restarts(backend: Backend) -> None:
    container = await finished(backend, "echo run")
    await container.start()
    await container.wait(timeout=10)
    assert "".join(await container.log(stdout=True)) == "run\nrun\n"


async def test_attach_with_logs_replays_the_output_then_follows(backend: Backend) -> None:
    container = await backend.run(["sh", "-c", SCRIPT + "; sleep 600"])
    await asyncio.sleep(0.5)
    got: list[tuple[int, bytes]] = []
    async with container.attach(stdout=True, stderr=True, logs=True) as stream:
        while b"".join(d for _, d in got) != b"one\ntwo\nthree\n":
            message = await asyncio.wait_for(stream.read_out(), 10)
            assert message is not None
            got.append((message.stream, bytes(message.data)))
    assert got == [(1, b"one\n"), (2, b"two\n"), (1, b"three\n")]


async def test_attach_to_cat_echoes_stdin(backend: Backend) -> None:
    container = await backend.run(["cat"], OpenStdin=True, AttachStdin=True)
    got = b""
    async with container.attach(stdin=True, stdout=True, stderr=True) as stream:
        await stream.write_in(b"hello\n")
        while got != b"hello\n":
            message = await asyncio.wait_for(stream.read_out(), 10)
            assert message is not None
            got += bytes(message.data)
    assert (await container.show())["State"]["Running"] is True


async def test_attach_sees_output_written_after_it(backend: Backend) -> None:
    container = await backend.run(["sh", "-c", "sleep 1; echo later; sleep 600"])
    async with container.attach(stdout=True, stderr=True) as stream:
        message = await asyncio.wait_for(stream.read_out(), 10)
    assert message is not None and bytes(message.data) == b"later\n"


async def test_logs_need_a_stream(backend: Backend) -> None:
    container = await finished(backend)
    with pytest.raises(DockerError) as caught:
        await backend.docker.core.call(
            "GET",
            f"containers/{container.id}/logs",
            params={"stdout": False, "stderr": False},
            expect=Shape.NOTHING,
        )
    assert caught.value.status == 400
    assert caught.value.message == "Bad parameters: you must choose at least one stream"
