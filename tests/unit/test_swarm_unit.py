"""Swarm resources against a fake daemon: filters sent as aiodocker sends them, and
service/task logs decoded by the one frames-to-text decoder."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

import aiodocker
from aiodocker._streams.frames import encode_frame
from aiodocker.exceptions import DockerTruncatedStreamError
from tests.fakedaemon import FakeDaemon, Request, chunked, http_response

MULTIPLEXED = "application/vnd.docker.multiplexed-stream"
# a euro sign split across two stdout frames, a stderr frame between them
FRAMES = encode_frame(1, b"out \xe2\x82") + encode_frame(2, b"err\n") + encode_frame(1, b"\xac\n")


def logs_response(body: bytes) -> bytes:
    head = f"HTTP/1.1 200 OK\r\nContent-Type: {MULTIPLEXED}\r\nTransfer-Encoding: chunked\r\n\r\n"
    return head.encode() + chunked(*(body[i : i + 3] for i in range(0, len(body), 3)))


def raw_response(body: bytes) -> bytes:
    head = "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
    return (head + f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def handler(request: Request) -> bytes:
    path = urlsplit(request.target).path
    if path.endswith("/tty/logs"):
        return raw_response("tty \u20ac\n".encode())
    if path.endswith("/logs"):
        return logs_response(FRAMES if "t1" in path else FRAMES[:-2])
    return http_response(200, [])


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[FakeDaemon, aiodocker.Docker]]:
    fake = await FakeDaemon(str(tmp_path / "d.sock"), handler).start()
    docker = aiodocker.Docker(url=f"unix://{fake.path}", api_version="v1.41")
    try:
        yield fake, docker
    finally:
        await docker.close()
        await fake.stop()


def filters_sent(fake: FakeDaemon) -> object:
    return json.loads(parse_qs(urlsplit(fake.requests[-1].target).query)["filters"][0])


async def test_swarm_lists_always_send_filters_and_encode_scalars_as_strings(served) -> None:
    fake, docker = served
    await docker.tasks.list()
    assert filters_sent(fake) == {}
    await docker.nodes.list(filters={"role": "manager"})
    assert filters_sent(fake) == {"role": ["manager"]}
    await docker.services.list(filters={"label": ["a=b", "c"]})
    assert filters_sent(fake) == {"label": ["a=b", "c"]}
    await docker.secrets.list(filters={"name": "s1"})
    assert filters_sent(fake) == {"name": ["s1"]}
    await docker.configs.list(filters={"id": 7})
    assert filters_sent(fake) == {"id": ["7"]}


async def test_task_logs_are_text_per_frame_with_characters_kept_whole(served) -> None:
    _, docker = served
    assert await docker.tasks.logs("t1", stdout=True, stderr=True) == ["out ", "err\n", "\u20ac\n"]
    lines = [line async for line in docker.services.logs("t1", stdout=True, follow=True)]
    assert lines == ["out ", "err\n", "\u20ac\n"]


async def test_service_logs_cut_inside_a_frame_raise(served) -> None:
    _, docker = served
    with pytest.raises(DockerTruncatedStreamError):
        await docker.services.logs("t2", stdout=True)


async def test_logs_of_a_tty_service_are_raw_text_and_a_multiplexed_type_still_wins(served) -> None:
    _, docker = served
    assert await docker.services.logs("tty", stdout=True, is_tty=True) == ["tty \u20ac\n"]
    # the daemon's Content-Type says multiplexed: frames, whatever the caller said
    assert await docker.tasks.logs("t1", stdout=True, is_tty=True) == ["out ", "err\n", "\u20ac\n"]
