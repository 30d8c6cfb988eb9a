"""The shared steps of ``Resource``: the stream-or-collect switch and the streamed GET."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import aiodocker
from aiodocker._core.resource import Resource
from aiodocker._pyversion import TimeoutError
from aiodocker._streams.frames import encode_frame
from tests.fakedaemon import FakeDaemon, Hang, Request, chunked

MULTIPLEXED = "application/vnd.docker.multiplexed-stream"


async def numbers(count: int, delay: float = 0.0) -> AsyncIterator[int]:
    for number in range(count):
        await asyncio.sleep(delay)
        yield number


@pytest.fixture
async def resource() -> AsyncIterator[Resource]:
    docker = aiodocker.Docker(url="unix:///nonexistent.sock")
    try:
        yield Resource(docker)
    finally:
        await docker.close()


async def test_resource_keeps_docker_and_calls_through_its_public_core(resource: Resource) -> None:
    docker = resource.docker
    assert isinstance(docker, aiodocker.Docker)
    assert resource._api is docker.core


async def test_stream_or_collect_hands_the_items_back_when_streaming(resource: Resource) -> None:
    items = numbers(3)
    assert resource._stream_or_collect(items, stream=True, timeout=None) is items
    await items.aclose()


async def test_stream_or_collect_reads_every_item_into_a_list(resource: Resource) -> None:
    collected = resource._stream_or_collect(numbers(3), stream=False, timeout=5.0)
    assert not isinstance(collected, AsyncIterator)
    assert await collected == [0, 1, 2]


async def test_stream_or_collect_raises_timeout_error_at_the_deadline(resource: Resource) -> None:
    collected = resource._stream_or_collect(numbers(100, delay=0.05), stream=False, timeout=0.2)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        await collected
    assert time.monotonic() - started < 2.0


async def test_collected_log_gives_up_at_its_timeout_on_an_endless_log(tmp_path: Path) -> None:
    head = f"HTTP/1.1 200 OK\r\nContent-Type: {MULTIPLEXED}\r\nTransfer-Encoding: chunked\r\n\r\n"

    def handler(request: Request) -> list[object]:
        return [head.encode() + chunked(encode_frame(1, b"first\n"), end=False), Hang()]

    fake = await FakeDaemon(str(tmp_path / "d.sock"), handler).start()
    docker = aiodocker.Docker(url=f"unix://{fake.path}", api_version="v1.41")
    try:
        container = docker.containers.container("abc")
        with pytest.raises(TimeoutError):
            await container.log(stdout=True, timeout=0.3)
        assert len(fake.requests) == 1
    finally:
        await docker.close()
        await fake.stop()

