"""Attach (hijacked ``POST /containers/{id}/attach``) against the real daemon."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable

import pytest
from helpers import create_container, remove_container

import aiodocker
from aiodocker.containers import DockerContainer
from aiodocker.exceptions import DockerNotFoundError
from aiodocker.stream import Message, Stream


async def collect(stream: Stream) -> list[Message]:
    return [message async for message in stream]


def joined(messages: list[Message], stream_id: int = 1) -> bytes:
    return b"".join(m.data for m in messages if m.stream == stream_id)


async def exit_code(container: DockerContainer) -> int:
    return int((await container.wait())["StatusCode"])


async def test_attach_keeps_the_stream_id_of_stdout_and_stderr(
    docker: aiodocker.Docker, image: str, make_name: Callable[..., str]
) -> None:
    script = "echo out1; sleep 0.1; echo err1 >&2; sleep 0.1; echo out2; echo err2 >&2"
    container = await create_container(
        docker, make_name("attach"), {"Image": image, "Cmd": ["sh", "-c", script]}, start=False
    )
    try:
        async with container.attach(stdout=True, stderr=True) as stream:
            await container.start()
            messages = await asyncio.wait_for(collect(stream), 30)
        assert {m.stream for m in messages} == {1, 2}
        assert joined(messages, 1) == b"out1\nout2\n"
        assert joined(messages, 2) == b"err1\nerr2\n"
        assert await exit_code(container) == 0
    finally:
        await remove_container(container)


async def test_attach_stdin_to_cat_round_trips_after_write_eof(
    docker: aiodocker.Docker, image: str, make_name: Callable[..., str]
) -> None:
    payload = os.urandom(1024 * 1024)
    config = {
        "Image": image,
        "Cmd": ["cat"],
        "OpenStdin": True,
        "StdinOnce": True,
        "AttachStdin": True,
        "AttachStdout": True,
        "AttachStderr": True,
    }
    container = await create_container(docker, make_name("attach-cat"), config, start=False)
    try:
        async with container.attach(stdin=True, stdout=True, stderr=True) as stream:
            await container.start()

            async def feed() -> None:
                for offset in range(0, len(payload), 65536):
                    await stream.write_in(payload[offset : offset + 65536])
                await stream.write_eof()

            writer = asyncio.create_task(feed())
            messages = await asyncio.wait_for(collect(stream), 60)
            await writer
        assert joined(messages, 2) == b""
        assert joined(messages, 1) == payload
        assert await exit_code(container) == 0
    finally:
        await remove_container(container)


async def test_attach_to_a_tty_container_gives_raw_stdout(
    docker: aiodocker.Docker, image: str, make_name: Callable[..., str]
) -> None:
    config = {"Image": image, "Cmd": ["sh", "-c", "echo out; echo err >&2"], "Tty": True}
    container = await create_container(docker, make_name("attach-tty"), config, start=False)
    try:
        async with container.attach(stdout=True, stderr=True) as stream:
            await container.start()
            messages: list[Message] = await asyncio.wait_for(collect(stream), 30)
        assert {m.stream for m in messages} == {1}
        assert joined(messages, 1) == b"out\r\nerr\r\n"
    finally:
        await remove_container(container)


async def test_attach_close_while_the_container_runs_releases_the_stream(
    docker: aiodocker.Docker, image: str, make_name: Callable[..., str]
) -> None:
    config = {"Image": image, "Cmd": ["sh", "-c", "while true; do echo tick; sleep 0.05; done"]}
    container = await create_container(docker, make_name("attach-close"), config)
    try:
        stream = container.attach(stdout=True, stderr=True)
        async with stream:
            first = await asyncio.wait_for(stream.read_out(), 10)
            assert first is not None and first.stream == 1
        assert stream.closed
        assert await stream.read_out() is None
        with pytest.raises(RuntimeError, match="Cannot write to closed transport"):
            await stream.write_in(b"x")
        # The client keeps working.
        assert (await container.show())["State"]["Running"] is True
    finally:
        await remove_container(container)


async def test_attach_to_a_missing_container_raises_404(
    docker: aiodocker.Docker, make_name: Callable[..., str]
) -> None:
    missing = make_name("missing")
    stream = docker.containers.container(missing).attach(stdout=True)
    with pytest.raises(DockerNotFoundError) as info:
        await stream.read_out()
    assert info.value.status == 404
    await stream.close()
