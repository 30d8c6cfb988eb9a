"""Bytes read through a caller's aiohttp ``response.content`` count for hooks and the log.

With a caller's session the core's response hands out aiohttp's own
``StreamReader`` as ``content``; whatever reading method the caller uses, the
end hook and the request log see the bytes (fake daemon, no real one needed).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

import aiodocker
from aiodocker.hooks import RequestHooks, RequestInfo, RequestResult
from tests.fakedaemon import FakeDaemon, Request, chunked

BODY = b"".join(b"line %03d of the export\n" % i for i in range(200))
HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/x-tar\r\nTransfer-Encoding: chunked\r\n\r\n"


class Ends(RequestHooks):
    def __init__(self) -> None:
        self.ends: list[tuple[RequestInfo, RequestResult]] = []

    def on_request_end(self, request: RequestInfo, result: RequestResult) -> None:
        self.ends.append((request, result))


def handler(request: Request) -> bytes:
    # several chunks, so that readers that stop at chunk ends are exercised
    return HEAD + chunked(BODY[:1000], BODY[1000:3000], BODY[3000:])


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[tuple[aiodocker.Docker, Ends]]:
    daemon = await FakeDaemon(str(tmp_path / "d.sock"), handler).start()
    session = aiohttp.ClientSession(connector=aiohttp.UnixConnector(daemon.path))
    hooks = Ends()
    try:
        async with aiodocker.Docker(
            url=f"unix://{daemon.path}", session=session, api_version="v1.41", hooks=hooks
        ) as docker:
            yield docker, hooks
    finally:
        await session.close()
        await daemon.stop()


async def _read(content: Any) -> bytes:
    return bytes(await content.read())


async def _readany(content: Any) -> bytes:
    parts = []
    while data := await content.readany():
        parts.append(data)
    return b"".join(parts)


async def _readline(content: Any) -> bytes:
    return b"".join([line async for line in content])


async def _iter_chunked(content: Any) -> bytes:
    return b"".join([data async for data in content.iter_chunked(333)])


async def _iter_any(content: Any) -> bytes:
    return b"".join([data async for data in content.iter_any()])


async def _iter_chunks(content: Any) -> bytes:
    return b"".join([data async for data, _ in content.iter_chunks()])


async def _readexactly_then_read(content: Any) -> bytes:
    return bytes(await content.readexactly(10)) + bytes(await content.read())


READERS: dict[str, Callable[[Any], Awaitable[bytes]]] = {
    "read": _read,
    "readany": _readany,
    "readline (async for)": _readline,
    "iter_chunked": _iter_chunked,
    "iter_any": _iter_any,
    "iter_chunks": _iter_chunks,
    "readexactly": _readexactly_then_read,
}


@pytest.mark.parametrize("reader", list(READERS))
async def test_bytes_read_through_aiohttp_content_are_counted_in_hooks_and_log(
    client: tuple[aiodocker.Docker, Ends], reader: str, caplog: pytest.LogCaptureFixture
) -> None:
    docker, hooks = client
    with caplog.at_level(logging.DEBUG, logger="aiodocker.request"):
        response = await docker.core.request("GET", "images/x/get")
        try:
            data = await READERS[reader](response.content)
        finally:
            response.release()
    assert data == BODY
    [(request, result)] = hooks.ends
    assert request.path == "/v1.41/images/x/get"
    assert (result.end, result.bytes_received) == ("eof", len(BODY))
    [line] = [r.getMessage() for r in caplog.records if r.name == "aiodocker.request"][-1:]
    assert line.endswith(f"0 B out, {len(BODY)} B in")


async def test_a_partly_read_aiohttp_content_ends_abandoned_with_what_was_read(
    client: tuple[aiodocker.Docker, Ends],
) -> None:
    docker, hooks = client
    response = await docker.core.request("GET", "images/x/get")
    try:
        first = await response.content.readline()
    finally:
        response.release()
    [(_, result)] = hooks.ends
    assert (result.end, result.bytes_received) == ("abandoned", len(first))


async def test_bytes_read_through_query_content_on_a_callers_session_are_counted(
    client: tuple[aiodocker.Docker, Ends],
) -> None:
    docker, hooks = client
    async with docker._query("images/x/get") as response:
        data = await response.content.read()
    assert data == BODY
    [(_, result)] = hooks.ends
    assert (result.end, result.bytes_received) == ("eof", len(BODY))
