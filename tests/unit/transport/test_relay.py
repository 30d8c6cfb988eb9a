"""The websocket relay: a private unix socket joined to dialed connections, byte for byte."""

from __future__ import annotations

import asyncio
import hashlib
import os
import stat
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from aiodocker._transport.dialers import UnixDialer
from aiodocker._transport.relay import Pipe, Relay
from aiodocker.exceptions import DockerConnectionError


@pytest.fixture
async def upstream(tmp_path: Path) -> AsyncIterator[tuple[str, list[bytes]]]:
    """A server standing in for the daemon: reads to EOF, then answers the digest and closes.

    Answering only after EOF proves that a half-close crosses the relay while the
    other direction stays open. What each connection received is recorded.
    """
    received: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        data = await reader.read()
        received.append(data)
        writer.write(b"%d %s" % (len(data), hashlib.sha256(data).hexdigest().encode()))
        await writer.drain()
        writer.close()

    path = str(tmp_path / "daemon.sock")
    server = await asyncio.start_unix_server(serve, path)
    try:
        yield path, received
    finally:
        server.close()
        await server.wait_closed()


@pytest.fixture
async def relay(upstream: tuple[str, list[bytes]]) -> AsyncIterator[Relay]:
    dial: Callable[..., object] = UnixDialer(upstream[0])
    relay = Relay(dial, "unix://test")  # type: ignore[arg-type]
    await relay.start()
    try:
        yield relay
    finally:
        await relay.close()


async def exchange(path: str, payload: bytes) -> bytes:
    reader, writer = await asyncio.open_unix_connection(path)
    writer.write(payload)
    await writer.drain()
    writer.write_eof()
    answer = await asyncio.wait_for(reader.read(), 30)
    writer.close()
    return answer


async def test_bytes_and_a_half_close_cross_the_relay_both_ways(
    relay: Relay, upstream: tuple[str, list[bytes]]
) -> None:
    payload = os.urandom(8 * 1024 * 1024)  # far more than any socket buffer: flow control
    await relay.dial()
    answer = await exchange(relay.path, payload)
    assert answer == b"%d %s" % (len(payload), hashlib.sha256(payload).hexdigest().encode())
    assert upstream[1] == [payload]


async def test_each_accepted_connection_takes_its_own_dialed_one(
    relay: Relay, upstream: tuple[str, list[bytes]]
) -> None:
    await relay.dial()
    await relay.dial()
    answers = await asyncio.gather(exchange(relay.path, b"one"), exchange(relay.path, b"two!"))
    assert sorted(answers) == sorted(
        b"%d %s" % (len(p), hashlib.sha256(p).hexdigest().encode()) for p in (b"one", b"two!")
    )
    assert sorted(upstream[1]) == [b"one", b"two!"]


async def test_a_connection_nobody_dialed_for_is_closed_at_once(relay: Relay) -> None:
    reader, writer = await asyncio.open_unix_connection(relay.path)
    assert await asyncio.wait_for(reader.read(), 5) == b""
    writer.close()


async def test_a_dial_error_is_raised_by_dial_in_the_dialers_words(tmp_path: Path) -> None:
    relay = Relay(UnixDialer(str(tmp_path / "none.sock")), "unix://none")  # type: ignore[arg-type]
    await relay.start()
    try:
        with pytest.raises(DockerConnectionError, match="none.sock"):
            await relay.dial()
    finally:
        await relay.close()


async def test_the_socket_is_private_and_close_removes_it_and_ends_open_connections(
    relay: Relay,
) -> None:
    directory = os.path.dirname(relay.path)
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700
    await relay.dial()
    reader, writer = await asyncio.open_unix_connection(relay.path)
    writer.write(b"partial")
    await writer.drain()
    # until the relay accepted it, the connection is the kernel's (asyncio drops one
    # accepted as the server closes; the relay's client, aiohttp, is closed first)
    while relay._dialed:
        await asyncio.sleep(0.01)
    await relay.close()
    try:  # ended, not left hanging (uvloop resets it: "partial" was never read)
        assert await asyncio.wait_for(reader.read(), 5) == b""
    except ConnectionResetError:
        pass
    writer.close()
    assert not os.path.exists(directory)


class Sink:
    """A transport that records what is written to it."""

    def __init__(self) -> None:
        self.data = b""
        self.eof = False
        self.closed = False

    def write(self, data: bytes) -> None:
        self.data += data

    def is_closing(self) -> bool:
        return self.closed

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        self.eof = True

    def close(self) -> None:
        self.closed = True


def test_a_pipe_keeps_what_arrives_before_it_is_joined() -> None:
    early, late = Pipe(), Pipe()
    early.data_received(b"hello ")
    early.data_received(b"world")
    early.eof_received()
    sink = Sink()
    late.connection_made(sink)  # type: ignore[arg-type]
    early.join(late)
    assert (sink.data, sink.eof) == (b"hello world", True)


def test_what_arrives_before_the_joined_end_is_connected_waits_for_it() -> None:
    near, far = Pipe(), Pipe()
    far.connection_made(Sink())  # type: ignore[arg-type]
    near.join(far)  # the accepted end: joined before its connection_made
    far.data_received(b"answer")
    far.eof_received()
    sink = Sink()
    near.connection_made(sink)  # type: ignore[arg-type]
    assert (sink.data, sink.eof, sink.closed) == (b"answer", True, False)


def test_a_pipe_closed_before_its_connection_is_made_closes_it_on_arrival() -> None:
    pipe = Pipe()
    pipe.close()
    sink = Sink()
    pipe.connection_made(sink)  # type: ignore[arg-type]
    assert sink.closed
