"""Requests through a caller's aiohttp session or connector (fake daemon)."""

from __future__ import annotations

import aiohttp

import aiodocker
from tests.fakedaemon import FakeDaemon, Request, chunked, http_response


async def test_hijack_through_a_caller_connector_keeps_every_byte(tmp_path):
    payload = b"\x01\x00\x00\x00\x00\x00\x00\x05hello\x02\x00\x00\x00\x00\x00\x00\x03err"

    def handler(request: Request) -> bytes | None:
        if request.target.endswith("/json"):
            return http_response(200, {"Config": {"Tty": False}, "Id": "c1"})
        if "/attach" in request.target:
            assert "upgrade" not in request.headers  # see AiohttpTransport.request
            return b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n" + payload
        return http_response(404, {"message": "no"})

    daemon = await FakeDaemon(str(tmp_path / "d.sock"), handler).start()
    connector = aiohttp.UnixConnector(daemon.path)
    try:
        async with aiodocker.Docker(url=f"unix://{daemon.path}", connector=connector, api_version="v1.41") as docker:
            container = docker.containers.container("c1")
            async with container.attach(stdout=True, stderr=True) as stream:
                for writer in list(daemon.open_writers):
                    writer.close()  # the daemon ends the hijacked stream
                messages = []
                while (message := await stream.read_out()) is not None:
                    messages.append(message)
        assert [(m.stream, m.data) for m in messages] == [(1, b"hello"), (2, b"err")]
    finally:
        await connector.close()
        await daemon.stop()


async def test_streamed_json_through_a_caller_session(tmp_path):
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    def handler(request: Request) -> bytes:
        if "/images/create" in request.target:
            return head + chunked(b'{"status":"a"}\n{"sta', b'tus":"b"}\n')
        return http_response(200, {"Id": "sha256:1"})  # the check that the image arrived

    daemon = await FakeDaemon(str(tmp_path / "d.sock"), handler).start()
    session = aiohttp.ClientSession(connector=aiohttp.UnixConnector(daemon.path))
    try:
        async with aiodocker.Docker(url=f"unix://{daemon.path}", session=session, api_version="v1.41") as docker:
            items = await docker.images.pull("127.0.0.1:5000/x:latest")
        assert [i["status"] for i in items] == ["a", "b"]
        assert not session.closed
    finally:
        await session.close()
        await daemon.stop()


async def test_closing_a_stream_while_it_is_being_opened_releases_the_late_response(tmp_path):
    import asyncio

    from aiodocker._responses import json_stream

    gate = asyncio.Event()

    async def handler(request: Request) -> bytes:
        await gate.wait()
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        return head + chunked(b'{"a": 1}\n', end=False)

    daemon = await FakeDaemon(str(tmp_path / "d.sock"), handler).start()
    try:
        async with aiodocker.Docker(url=f"unix://{daemon.path}", api_version="v1.41") as docker:
            stream = json_stream(lambda: docker._api.request("GET", "events"))
            task = asyncio.create_task(stream.__anext__())
            await asyncio.sleep(0.05)
            await stream.aclose()
            gate.set()
            try:
                await asyncio.wait_for(task, 2)
                raise AssertionError("a closed stream yielded an item")
            except StopAsyncIteration:
                pass
            assert docker._api.transport._active == set()  # type: ignore[attr-defined]
    finally:
        await daemon.stop()
