"""Protocol tests of the hijacked ``Stream`` and of ``Exec`` against a fake daemon.

The fake daemon is a raw asyncio server on a unix socket: after answering an
upgrade request it owns the bare connection, so a test can send bytes together
with the response head, cut a frame short, or watch for the client's half-close.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import warnings
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import aiodocker
from aiodocker._streams.frames import encode_frame
from aiodocker.exceptions import (
    DockerNotFoundError,
    DockerResponseError,
    DockerTruncatedStreamError,
)
from aiodocker.execs import Exec
from aiodocker.stream import Message, Stream
from tests.fakedaemon import http_response, parse_head

UPGRADE_HEAD = (
    b"HTTP/1.1 101 UPGRADED\r\n"
    b"Content-Type: application/vnd.docker.raw-stream\r\n"
    b"Connection: Upgrade\r\n"
    b"Upgrade: tcp\r\n"
    b"\r\n"
)


@dataclass
class Request:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes


Handler = Callable[[Request, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[bool]]


@dataclass
class RawDaemon:
    """Reads one request at a time and lets ``handler`` answer it on the bare socket.

    The handler returns True to keep the connection for another request.
    """

    handler: Handler
    requests: list[Request] = field(default_factory=list)
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    client_eof: asyncio.Event = field(default_factory=asyncio.Event)
    errors: list[BaseException] = field(default_factory=list)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError:
                    self.client_eof.set()
                    return
                method, target, headers = parse_head(head)
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                request = Request(method, target, headers, body)
                self.requests.append(request)
                if not await self.handler(request, reader, writer):
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except BaseException as exc:  # surface handler bugs in the test
            self.errors.append(exc)
            raise
        finally:
            writer.close()
            self.finished.set()


@pytest.fixture
async def serve(
    tmp_path: Path,
) -> AsyncIterator[Callable[[Handler], Awaitable[tuple[aiodocker.Docker, RawDaemon]]]]:
    servers: list[asyncio.AbstractServer] = []
    clients: list[aiodocker.Docker] = []

    async def start(handler: Handler) -> tuple[aiodocker.Docker, RawDaemon]:
        daemon = RawDaemon(handler)
        path = str(tmp_path / f"d{len(servers)}.sock")
        servers.append(await asyncio.start_unix_server(daemon.serve, path))
        docker = aiodocker.Docker(url=f"unix://{path}", api_version="v1.41")
        clients.append(docker)
        return docker, daemon

    yield start
    for docker in clients:
        await docker.close()
    for server in servers:
        server.close()
        await server.wait_closed()


def exec_stream(docker: aiodocker.Docker, *, tty: bool = False) -> Stream:
    async def setup() -> tuple[str, dict[str, object], dict[str, object] | None, bool]:
        return "exec/abc/start", {}, {"Detach": False, "Tty": tty}, tty

    return Stream(docker, setup)


async def read_all(stream: Stream) -> list[Message]:
    return [message async for message in stream]


async def test_stream_keeps_frames_sent_in_the_same_packet_as_the_101_head(serve) -> None:
    async def handler(request: Request, reader, writer) -> bool:
        writer.write(
            UPGRADE_HEAD
            + encode_frame(1, b"hello ")
            + encode_frame(2, b"oops")
            + encode_frame(1, b"world")
        )
        await writer.drain()
        return False

    docker, daemon = await serve(handler)
    async with exec_stream(docker) as stream:
        assert await read_all(stream) == [
            Message(1, b"hello "),
            Message(2, b"oops"),
            Message(1, b"world"),
        ]
        assert await stream.read_out() is None
    request = daemon.requests[0]
    assert request.method == "POST"
    assert request.target == "/v1.41/exec/abc/start"
    assert request.headers["connection"] == "Upgrade"
    assert request.headers["upgrade"] == "tcp"
    assert json.loads(request.body) == {"Detach": False, "Tty": False}


async def test_stream_keeps_raw_bytes_sent_with_the_head_under_tty(serve) -> None:
    async def handler(request: Request, reader, writer) -> bool:
        writer.write(UPGRADE_HEAD + b"\x01\x00\x00\x00raw tty output")
        return False

    docker, _ = await serve(handler)
    async with exec_stream(docker, tty=True) as stream:
        data = b"".join(message.data for message in await read_all(stream))
    assert data == b"\x01\x00\x00\x00raw tty output"


async def test_stream_accepts_200_from_daemons_that_hijack_without_switching(serve) -> None:
    async def handler(request: Request, reader, writer) -> bool:
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n"
            + encode_frame(1, b"old daemon")
        )
        return False

    docker, _ = await serve(handler)
    async with exec_stream(docker) as stream:
        assert await read_all(stream) == [Message(1, b"old daemon")]


async def test_stream_cut_inside_a_frame_raises_instead_of_ending(serve) -> None:
    async def handler(request: Request, reader, writer) -> bool:
        writer.write(
            UPGRADE_HEAD + encode_frame(1, b"complete") + encode_frame(1, b"0123456789")[:13]
        )
        return False

    docker, _ = await serve(handler)
    async with exec_stream(docker) as stream:
        assert await stream.read_out() == Message(1, b"complete")
        with pytest.raises(DockerTruncatedStreamError):
            await stream.read_out()


async def test_stream_cut_inside_a_frame_header_raises(serve) -> None:
    async def handler(request: Request, reader, writer) -> bool:
        writer.write(UPGRADE_HEAD + b"\x01\x00\x00")
        return False

    docker, _ = await serve(handler)
    async with exec_stream(docker) as stream:
        with pytest.raises(DockerTruncatedStreamError):
            await stream.read_out()


async def test_stream_write_after_close_raises_runtime_error(serve) -> None:
    async def handler(request: Request, reader, writer) -> bool:
        writer.write(UPGRADE_HEAD)
        await reader.read()
        return False

    docker, _ = await serve(handler)
    stream = exec_stream(docker)
    async with stream:
        await stream.write_in(b"fine")
    with pytest.raises(RuntimeError, match="Cannot write to closed transport"):
        await stream.write_in(b"too late")
    with pytest.raises(RuntimeError, match="Cannot write to closed transport"):
        await stream.write_eof()
    assert await stream.read_out() is None


async def test_stream_close_is_idempotent_and_releases_the_socket(serve) -> None:
    async def handler(request: Request, reader, writer) -> bool:
        writer.write(UPGRADE_HEAD + encode_frame(1, b"x"))
        await reader.read()  # until the client closes (or half-closes) its side
        return False

    docker, daemon = await serve(handler)
    stream = exec_stream(docker)
    await stream.__aenter__()
    await stream.close()
    await stream.close()
    assert stream.closed
    await asyncio.wait_for(daemon.finished.wait(), 2)
    # The client is still usable afterwards, on a fresh connection.
    await stream.__aexit__(None, None, None)


async def test_stream_close_unblocks_a_pending_read(serve) -> None:
    async def handler(request: Request, reader, writer) -> bool:
        writer.write(UPGRADE_HEAD + encode_frame(1, b"0123456789")[:12])  # never completes
        await reader.read()
        return False

    docker, _ = await serve(handler)
    stream = exec_stream(docker)
    await stream.__aenter__()
    reader_task = asyncio.create_task(stream.read_out())
    await asyncio.sleep(0.05)
    await stream.close()
    assert await asyncio.wait_for(reader_task, 2) is None


async def test_stream_write_eof_half_closes_while_output_keeps_flowing(serve) -> None:
    async def handler(request: Request, reader, writer) -> bool:
        writer.write(UPGRADE_HEAD)
        data = await reader.read()  # all of stdin, until the half-close
        writer.write(encode_frame(1, data) + encode_frame(2, b"done"))
        await writer.drain()
        return False

    docker, _ = await serve(handler)
    payload = bytes(range(256)) * 1024
    async with exec_stream(docker) as stream:
        await stream.write_in(payload[:1000])
        await stream.write_in(bytearray(payload[1000:]))
        await stream.write_eof()
        await stream.write_eof()  # idempotent
        with pytest.raises(RuntimeError, match="after write_eof"):
            await stream.write_in(b"more")
        messages = await read_all(stream)
    out = b"".join(m.data for m in messages if m.stream == 1)
    assert out == payload
    assert messages[-1] == Message(2, b"done")


async def test_stream_connects_lazily_on_first_read(serve) -> None:
    async def handler(request: Request, reader, writer) -> bool:
        writer.write(UPGRADE_HEAD + encode_frame(1, b"hi"))
        return False

    docker, daemon = await serve(handler)
    stream = exec_stream(docker)
    await asyncio.sleep(0.01)
    assert daemon.requests == []
    try:
        assert await stream.read_out() == Message(1, b"hi")
        assert len(daemon.requests) == 1
    finally:
        await stream.close()


async def test_stream_error_status_raises_and_releases_the_connection(serve) -> None:
    async def handler(request: Request, reader, writer) -> bool:
        writer.write(http_response(404, {"message": "No such exec instance: abc"}, reason="Not Found"))
        return True

    docker, _ = await serve(handler)
    stream = exec_stream(docker)
    with pytest.raises(DockerNotFoundError, match="No such exec instance"):
        async with stream:
            pass
    assert stream.closed


async def test_stream_unexpected_success_status_raises_docker_error(serve) -> None:
    async def handler(request: Request, reader, writer) -> bool:
        writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        return True

    docker, _ = await serve(handler)
    with pytest.raises(DockerResponseError, match="not upgraded"):
        async with exec_stream(docker):
            pass


async def test_stream_write_rejects_str(serve) -> None:
    docker, _ = await serve(lambda *a: asyncio.sleep(0, False))
    stream = exec_stream(docker)
    with pytest.raises(TypeError):
        await stream.write_in("text")  # type: ignore[arg-type]
    await stream.close()


async def test_stream_dropped_open_warns_resource_warning(serve) -> None:
    async def handler(request: Request, reader, writer) -> bool:
        writer.write(UPGRADE_HEAD)
        await reader.read()
        return False

    docker, daemon = await serve(handler)
    stream = exec_stream(docker)
    await stream.__aenter__()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del stream
        gc.collect()
    assert any(
        issubclass(w.category, ResourceWarning) and "Unclosed ExecStream" in str(w.message)
        for w in caught
    )
    await asyncio.wait_for(daemon.finished.wait(), 2)


@contextlib.contextmanager
def collected_without_resource_warning(*objs: object) -> Iterator[None]:
    """Assert that the objects, dropped in the block, are collected and warn nothing.

    A warning raised in ``__del__`` is swallowed (printed as unraisable), so an
    ``error`` filter cannot catch it: the warnings are recorded and checked instead.
    """
    refs = [weakref.ref(obj) for obj in objs]
    del objs
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
        gc.collect()
    assert all(ref() is None for ref in refs), "the object was not collected"
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)], [str(w.message) for w in caught]


async def test_stream_never_connected_does_not_warn(serve) -> None:
    docker, _ = await serve(lambda *a: asyncio.sleep(0, False))
    stream = exec_stream(docker)
    with collected_without_resource_warning(stream):
        del stream


async def test_stream_resp_assigned_none_silences_the_warning_but_closes(serve) -> None:
    """0.27's tests assign ``stream._resp``; our connection still closes at collection."""

    async def handler(request: Request, reader, writer) -> bool:
        writer.write(UPGRADE_HEAD)
        await reader.read()
        return False

    docker, daemon = await serve(handler)
    stream = exec_stream(docker)
    await stream.__aenter__()
    assert stream._resp is not None  # 0.27's view of a connected stream
    stream._resp = None
    assert stream._resp is None
    with collected_without_resource_warning(stream):
        del stream
    await asyncio.wait_for(daemon.finished.wait(), 2)  # nothing leaked


class ClosedResponse:
    closed = True


async def test_stream_resp_assigned_a_closed_response_is_silent(serve) -> None:
    async def handler(request: Request, reader, writer) -> bool:
        writer.write(UPGRADE_HEAD)
        await reader.read()
        return False

    docker, daemon = await serve(handler)
    stream = exec_stream(docker)
    await stream.__aenter__()
    response = ClosedResponse()
    stream._resp = response
    assert stream._resp is response
    with collected_without_resource_warning(stream):
        del stream
    await asyncio.wait_for(daemon.finished.wait(), 2)


def bare_stream() -> Stream:
    """A Stream made as 0.27's own tests make one: no __init__, attributes set by hand."""
    stream = Stream.__new__(Stream)
    stream._resp = None
    stream._closed = False
    return stream


def test_bare_stream_with_an_open_response_warns_as_027() -> None:
    stream = bare_stream()
    stream._resp = object()
    with pytest.warns(ResourceWarning, match="Unclosed ExecStream"):
        del stream
        gc.collect()


def test_bare_stream_without_a_response_or_closed_is_silent() -> None:
    unset, closed = bare_stream(), bare_stream()
    closed._resp = object()
    closed._closed = True
    with collected_without_resource_warning(unset, closed):
        del unset, closed


# --- Exec -------------------------------------------------------------------


async def test_exec_inspect_after_output_end_waits_until_not_running(serve) -> None:
    inspections = 0

    async def handler(request: Request, reader, writer) -> bool:
        nonlocal inspections
        if request.target.endswith("/start"):
            writer.write(UPGRADE_HEAD + encode_frame(1, b"out"))
            return False
        inspections += 1
        running = inspections < 4  # the daemon lags behind the end of the output
        state = {
            "ID": "abc",
            "Running": running,
            "ExitCode": None if running else 3,
            "ProcessConfig": {"tty": False},
        }
        writer.write(http_response(200, state))
        return True

    docker, _ = await serve(handler)
    exe = Exec(docker, "abc", tty=False)
    async with exe.start(detach=False) as stream:
        assert await read_all(stream) == [Message(1, b"out")]
    info = await exe.inspect()
    assert info["Running"] is False
    assert info["ExitCode"] == 3


async def test_exec_inspect_before_output_end_does_not_wait(serve) -> None:
    async def handler(request: Request, reader, writer) -> bool:
        writer.write(
            http_response(200, {"Running": True, "ExitCode": None, "ProcessConfig": {"tty": True}})
        )
        return True

    docker, daemon = await serve(handler)
    exe = Exec(docker, "abc")
    info = await exe.inspect()
    assert info["Running"] is True
    assert len(daemon.requests) == 1
    assert exe._tty is True


async def test_exec_start_without_known_tty_inspects_first(serve) -> None:
    async def handler(request: Request, reader, writer) -> bool:
        if request.target.endswith("/json"):
            writer.write(http_response(200, {"Running": True, "ProcessConfig": {"tty": True}}))
            return True
        writer.write(UPGRADE_HEAD + b"\x02\x00\x00\x00raw")
        return False

    docker, daemon = await serve(handler)
    async with Exec(docker, "abc").start() as stream:
        assert b"".join(m.data for m in await read_all(stream)) == b"\x02\x00\x00\x00raw"
    assert [r.target for r in daemon.requests] == ["/v1.41/exec/abc/json", "/v1.41/exec/abc/start"]
    assert json.loads(daemon.requests[1].body) == {"Detach": False, "Tty": True}


async def test_exec_start_detached_returns_bytes(serve) -> None:
    async def handler(request: Request, reader, writer) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        return True

    docker, daemon = await serve(handler)
    assert await Exec(docker, "abc", tty=False).start(detach=True) == b""
    assert json.loads(daemon.requests[0].body) == {"Detach": True, "Tty": False}


async def test_exec_wait_times_out_while_running(serve) -> None:
    async def handler(request: Request, reader, writer) -> bool:
        writer.write(http_response(200, {"Running": True, "ExitCode": None}))
        return True

    docker, _ = await serve(handler)
    with pytest.raises(asyncio.TimeoutError):
        await Exec(docker, "abc").wait(timeout=0.1)
    with pytest.raises(ValueError):
        await Exec(docker, "abc").wait(timeout=0)


async def test_exec_resize_without_size_sends_nothing(serve) -> None:
    docker, daemon = await serve(lambda *a: asyncio.sleep(0, False))
    exe = Exec(docker, "abc")
    await exe.resize()
    with pytest.raises(ValueError, match="both h and w"):
        await exe.resize(h=10)
    with pytest.raises(ValueError, match="positive"):
        await exe.resize(h=0, w=10)
    with pytest.raises(TypeError):
        await exe.resize(h=10, w="80")  # type: ignore[arg-type]
    assert daemon.requests == []


async def test_exec_resize_sends_height_and_width(serve) -> None:
    async def handler(request: Request, reader, writer) -> bool:
        writer.write(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")
        return True

    docker, daemon = await serve(handler)
    await Exec(docker, "abc").resize(h=24, w=80)
    assert daemon.requests[0].target == "/v1.41/exec/abc/resize?h=24&w=80"


async def test_exec_resize_of_an_exec_without_tty_raises_value_error(serve) -> None:
    docker, daemon = await serve(lambda *a: asyncio.sleep(0, False))
    with pytest.raises(ValueError, match="no tty"):
        await Exec(docker, "abc", tty=False).resize(h=24, w=80)
    await Exec(docker, "abc", tty=False).resize()  # still a no-op
    assert daemon.requests == []


async def test_stream_write_eof_after_the_daemon_closed_does_not_raise(serve) -> None:
    async def handler(request: Request, reader, writer) -> bool:
        writer.write(UPGRADE_HEAD + encode_frame(1, b"bye"))
        return False  # the process exited: the daemon closes the connection

    docker, daemon = await serve(handler)
    async with exec_stream(docker) as stream:
        assert await read_all(stream) == [Message(1, b"bye")]
        await asyncio.wait_for(daemon.finished.wait(), 2)
        await asyncio.sleep(0.05)
        await stream.write_eof()
