"""The HTTP/1.1 engine against a scriptable fake daemon."""

from __future__ import annotations

import asyncio
import os
import tracemalloc

import pytest

from aiodocker._transport.base import file_body
from aiodocker._transport.dialers import UnixDialer
from aiodocker._transport.http import HIGH_WATER, HTTPEngine
from aiodocker.exceptions import DockerConnectionError, DockerTruncatedStreamError
from tests.fakedaemon import FakeDaemon, Request, chunked, http_response


@pytest.fixture
async def socket_path(tmp_path):
    return str(tmp_path / "d.sock")


async def start(path: str, handler) -> tuple[FakeDaemon, HTTPEngine]:
    daemon = await FakeDaemon(path, handler).start()
    return daemon, HTTPEngine(UnixDialer(path))


async def test_keep_alive_reuses_one_connection_for_sequential_requests(socket_path):
    daemon, engine = await start(socket_path, lambda r: http_response(200, b"OK"))
    try:
        for _ in range(5):
            response = await engine.request("GET", "/_ping")
            assert await response.read() == b"OK"
        assert daemon.connections == 1
    finally:
        await engine.close()
        await daemon.stop()


async def test_chunked_body_is_reassembled(socket_path):
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    daemon, engine = await start(socket_path, lambda r: head + chunked(b"ab", b"cd", b"e"))
    try:
        response = await engine.request("GET", "/x")
        assert await response.read() == b"abcde"
    finally:
        await engine.close()
        await daemon.stop()


async def test_body_cut_short_raises_truncated_error_instead_of_ending(socket_path):
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"

    async def handler(request: Request) -> bytes | None:
        return head + chunked(b"partial", end=False)

    daemon = await FakeDaemon(socket_path, handler).start()
    engine = HTTPEngine(UnixDialer(socket_path))
    try:
        response = await engine.request("GET", "/x")
        assert await response.body.read_chunk() == b"partial"
        # the daemon closes the connection on the next request only; close it now
        for writer in list(daemon.open_writers):
            writer.close()
        with pytest.raises(DockerTruncatedStreamError):
            await response.body.read_chunk()
        response.release()
    finally:
        await engine.close()
        await daemon.stop()


async def test_content_length_body_cut_short_raises(socket_path):
    daemon, engine = await start(
        socket_path, lambda r: b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"
    )
    try:
        response = await engine.request("GET", "/x")
        for writer in list(daemon.open_writers):
            writer.close()
        with pytest.raises(DockerTruncatedStreamError):
            await response.read()
    finally:
        await engine.close()
        await daemon.stop()


async def test_head_request_does_not_wait_for_a_body(socket_path):
    daemon, engine = await start(
        socket_path, lambda r: b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Y: z\r\n\r\n"
    )
    try:
        response = await asyncio.wait_for(engine.request("HEAD", "/_ping"), 2)
        assert response.headers["x-y"] == "z"
        assert await asyncio.wait_for(response.read(), 2) == b""
    finally:
        await engine.close()
        await daemon.stop()


async def test_streamed_upload_is_sent_chunked_and_arrives_whole(socket_path):
    daemon, engine = await start(socket_path, lambda r: http_response(200, {"n": len(r.body)}))

    async def body():
        for _ in range(64):
            yield b"x" * 65536

    try:
        response = await engine.request("POST", "/load", {"Content-Type": "application/x-tar"}, body())
        assert await response.json() == {"n": 64 * 65536}
        assert daemon.requests[0].headers["transfer-encoding"] == "chunked"
    finally:
        await engine.close()
        await daemon.stop()


async def test_upgrade_keeps_bytes_that_arrive_with_the_head(socket_path):
    upgrade = (
        b"HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
        b"Connection: Upgrade\r\nUpgrade: tcp\r\n\r\nEARLY-BYTES"
    )
    daemon, engine = await start(socket_path, lambda r: upgrade)
    try:
        response = await engine.request("POST", "/attach", {"Connection": "Upgrade", "Upgrade": "tcp"})
        assert response.status == 101
        channel = response.detach()
        assert await channel.body.read_chunk() == b"EARLY-BYTES"
        channel.close()
    finally:
        await engine.close()
        await daemon.stop()


async def test_abandoned_body_closes_the_connection_instead_of_pooling_it(socket_path):
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    daemon, engine = await start(socket_path, lambda r: head + chunked(b"a", end=False))
    try:
        response = await engine.request("GET", "/events")
        await response.body.read_chunk()
        response.release()
        assert engine._idle == []
        response.release()  # idempotent
    finally:
        await engine.close()
        await daemon.stop()


async def test_cancelled_request_releases_its_connection(socket_path):
    async def never(request: Request) -> bytes:
        await asyncio.sleep(3600)
        return b""

    daemon, engine = await start(socket_path, never)
    try:
        task = asyncio.create_task(engine.request("GET", "/slow"))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert engine._active == set() and engine._idle == []
    finally:
        await engine.close()
        await daemon.stop()


async def test_stale_keep_alive_connection_is_retried_on_a_new_one(socket_path):
    def handler(request: Request) -> bytes | None:
        if request.connection_id == 1 and len(daemon.requests) > 1:
            return None  # the daemon dropped the idle connection
        return http_response(200, b"OK")

    daemon, engine = await start(socket_path, handler)
    try:
        assert await (await engine.request("GET", "/_ping")).read() == b"OK"
        assert await (await engine.request("GET", "/_ping")).read() == b"OK"
        assert daemon.connections == 2
    finally:
        await engine.close()
        await daemon.stop()


async def test_large_body_is_read_with_bounded_buffering(socket_path):
    payload = os.urandom(8 * HIGH_WATER)
    daemon, engine = await start(socket_path, lambda r: http_response(200, payload))
    try:
        response = await engine.request("GET", "/big")
        await asyncio.sleep(0.2)  # let the transport fill the buffer and pause
        assert response.body._size <= HIGH_WATER + 262144
        assert await response.read() == payload
    finally:
        await engine.close()
        await daemon.stop()


async def test_unreachable_socket_names_the_address(tmp_path):
    engine = HTTPEngine(UnixDialer(str(tmp_path / "missing.sock")))
    with pytest.raises(DockerConnectionError) as info:
        await engine.request("GET", "/_ping")
    assert info.value.status == 900
    assert "missing.sock" in info.value.message
    await engine.close()


async def test_malformed_response_raises_connection_error(socket_path):
    daemon, engine = await start(socket_path, lambda r: b"NOT HTTP AT ALL\r\n\r\n")
    try:
        with pytest.raises(DockerConnectionError, match="malformed"):
            await engine.request("GET", "/_ping")
    finally:
        await engine.close()
        await daemon.stop()


async def test_closed_connections_are_not_tracked_forever(socket_path):
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    daemon, engine = await start(socket_path, lambda r: head + chunked(b"a", end=False))
    try:
        for _ in range(20):
            response = await engine.request("GET", "/events")
            await response.body.read_chunk()
            response.release()
        assert engine._active == set()
    finally:
        await engine.close()
        await daemon.stop()


@pytest.mark.not_on_uvloop("uvloop has no loop.sendfile; there files go by reads")
async def test_file_body_goes_by_sendfile_with_a_content_length(socket_path, tmp_path, monkeypatch):
    daemon, engine = await start(socket_path, lambda r: http_response(200, {"n": len(r.body)}))
    data = os.urandom(3 * 1024 * 1024 + 7)
    path = tmp_path / "upload.bin"
    path.write_bytes(b"skip" + data)
    loop = asyncio.get_running_loop()
    real, sent = loop.sendfile, []

    async def spy(transport, file, offset=0, count=None, **kwargs):
        sent.append(await real(transport, file, offset, count, **kwargs))
        return sent[-1]

    monkeypatch.setattr(loop, "sendfile", spy)
    try:
        with path.open("rb") as file:
            file.seek(4)
            body = file_body(file)
            assert body is not None
            response = await engine.request("PUT", "/archive", None, body)
            assert await response.json() == {"n": len(data)}
        assert sent == [len(data)]
        request = daemon.requests[0]
        assert request.body == data
        assert request.headers["content-length"] == str(len(data))
        assert "transfer-encoding" not in request.headers
    finally:
        await engine.close()
        await daemon.stop()


async def test_daemon_answering_before_it_reads_a_file_body_gets_its_answer_heard(
    socket_path, tmp_path
):
    # The daemon refuses at once and closes without reading the upload: the
    # sender's pipe breaks, and the caller must see the 404, not the EPIPE.
    async def refuse(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        writer.write(http_response(404, {"message": "No such container: x"}, headers={"Connection": "close"}))
        await writer.drain()
        writer.close()

    server = await asyncio.start_unix_server(refuse, socket_path)
    engine = HTTPEngine(UnixDialer(socket_path))
    path = tmp_path / "upload.bin"
    path.write_bytes(os.urandom(16 * 1024 * 1024))
    try:
        with path.open("rb") as file:
            response = await engine.request("PUT", "/archive", None, file_body(file))
            assert response.status == 404
            assert (await response.json())["message"] == "No such container: x"
    finally:
        await engine.close()
        server.close()
        await server.wait_closed()


async def test_an_empty_file_body_is_sent_as_content_length_zero(socket_path, tmp_path):
    daemon, engine = await start(socket_path, lambda r: http_response(200, {"n": len(r.body)}))
    path = tmp_path / "empty.bin"
    path.write_bytes(b"")
    try:
        with path.open("rb") as file:
            response = await engine.request("PUT", "/archive", None, file_body(file))
            assert await response.json() == {"n": 0}
        assert daemon.requests[0].headers["content-length"] == "0"
    finally:
        await engine.close()
        await daemon.stop()


async def test_reading_allocates_what_arrived_not_a_read_buffer_per_read(socket_path):
    """A read costs the bytes that came: asyncio's socket.recv(256 KiB) allocated the
    whole size per read and shrank it, which fragmented the heap (the soak's RSS grew
    while the bytes in use stayed flat)."""
    go = asyncio.Event()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            await go.wait()
            for _ in range(200):
                writer.write(b"64\r\n" + b"x" * 100 + b"\r\n")
                await writer.drain()
                await asyncio.sleep(0)
            writer.write(b"0\r\n\r\n")
            await writer.drain()
            await reader.read()  # until the client hangs up
        finally:
            writer.close()

    server = await asyncio.start_unix_server(serve, socket_path)
    engine = HTTPEngine(UnixDialer(socket_path))
    try:
        response = await engine.request("GET", "/logs")
        received = 0
        tracemalloc.start()
        try:
            go.set()
            while chunk := await response.body.read_chunk():
                received += len(chunk)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        response.release()
    finally:
        await engine.close()
        server.close()
        await server.wait_closed()
    assert received == 200 * 100
    assert peak < 64 * 1024, f"{peak} bytes allocated at the peak to receive 200 chunks of 100 bytes"
