"""The client under load, against the fake daemon: the connection limit and its queue,
streams counted apart, idle expiry, running out of file descriptors, connection
errors that name their cause, and a write to a hijacked stream whose daemon is gone.
"""

from __future__ import annotations

import asyncio
import errno
import ssl
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

import aiodocker
from aiodocker._transport import dialers
from aiodocker.exceptions import DockerConnectionError
from tests.fakedaemon import (
    Answer,
    Close,
    FakeDaemon,
    Hang,
    Pause,
    Request,
    chunked,
    http_response,
)

INSPECT = {"Id": "c1", "Name": "/c1", "Config": {"Tty": False}, "State": {"Running": True}}
STREAM_HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n"
)
UPGRADE_HEAD = (
    b"HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
    b"Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n"
)
FRAME = b"\x01\x00\x00\x00\x00\x00\x00\x02hi"


def inspect_after(delay: float) -> Callable[[Request], Answer]:
    """Answer any request with a container inspect, ``delay`` seconds late."""

    def handler(request: Request) -> Answer:
        if "/logs" in request.target:  # a followed log: one frame, then open for ever
            return [STREAM_HEAD, chunked(FRAME, end=False), Hang()]
        return [Pause(delay), http_response(200, INSPECT)] if delay else http_response(200, INSPECT)

    return handler


@asynccontextmanager
async def serving(
    tmp_path: Any, handler: Callable[[Request], Answer], **options: Any
) -> AsyncIterator[tuple[FakeDaemon, aiodocker.Docker]]:
    daemon = await FakeDaemon(str(tmp_path / "load.sock"), handler).start()
    docker = aiodocker.Docker(url=f"unix://{daemon.path}", api_version="v1.41", **options)
    try:
        yield daemon, docker
    finally:
        await docker.close()
        await daemon.stop()


async def show(docker: aiodocker.Docker, name: str = "c1") -> Any:
    return await docker.containers.container(name).show()


# --- the limit ----------------------------------------------------------------------


async def test_concurrent_calls_never_open_more_connections_than_the_limit(tmp_path) -> None:
    async with serving(tmp_path, inspect_after(0.01), limit=5) as (daemon, docker):
        results = await asyncio.gather(*(show(docker) for _ in range(200)))
        assert [r["Id"] for r in results] == ["c1"] * 200
        assert daemon.peak == 5  # the limit is reached, and never passed
        assert daemon.connections == 5  # the same five serve every queued call


async def test_the_default_limit_is_aiohttps_100(tmp_path) -> None:
    async with serving(tmp_path, inspect_after(0.05)) as (daemon, docker):
        await asyncio.gather(*(show(docker) for _ in range(300)))
        assert daemon.peak == 100


async def test_calls_beyond_the_limit_are_served_in_the_order_they_came(tmp_path) -> None:
    async with serving(tmp_path, inspect_after(0.01), limit=1) as (daemon, docker):
        tasks = []
        for i in range(20):
            tasks.append(asyncio.create_task(show(docker, f"c{i}")))
            await asyncio.sleep(0)  # each call is queued before the next starts
        await asyncio.gather(*tasks)
        names = [r.target.split("/")[3] for r in daemon.requests]
        assert names == [f"c{i}" for i in range(20)]
        assert daemon.peak == 1


async def test_a_cancelled_waiter_gives_its_turn_to_the_next(tmp_path) -> None:
    async with serving(tmp_path, inspect_after(0.05), limit=1) as (daemon, docker):
        first = asyncio.create_task(show(docker, "first"))
        await asyncio.sleep(0.01)
        cancelled = asyncio.create_task(show(docker, "cancelled"))
        last = asyncio.create_task(show(docker, "last"))
        await asyncio.sleep(0.01)
        cancelled.cancel()
        await asyncio.gather(first, last)
        assert cancelled.cancelled()
        assert [r.target.split("/")[3] for r in daemon.requests] == ["first", "last"]


async def test_a_waiting_call_honours_its_timeout_and_gives_its_place_back(tmp_path) -> None:
    loop = asyncio.get_running_loop()
    async with serving(tmp_path, inspect_after(0.15), limit=1, timeout=0.2) as (daemon, docker):
        holder = asyncio.create_task(show(docker, "holder"))
        await asyncio.sleep(0.01)
        started = loop.time()
        with pytest.raises(asyncio.TimeoutError):
            await show(docker, "waiter")  # 0.14 s in the queue, then 0.15 s for the answer
        assert loop.time() - started < 0.28  # the queue's wait counted in the timeout
        assert (await holder)["Id"] == "c1"
        assert (await show(docker, "after"))["Id"] == "c1"
        assert docker.core.transport._short.used == 0  # no slot was lost


async def test_open_follows_do_not_starve_short_calls(tmp_path) -> None:
    async with serving(tmp_path, inspect_after(0.01), limit=10) as (daemon, docker):
        container = docker.containers.container("c1", Config={"Tty": False})
        follows = [container.log(stdout=True, follow=True) for _ in range(10)]
        firsts = await asyncio.gather(*(f.__anext__() for f in follows))
        assert firsts == ["hi"] * 10
        # every stream slot is held; short calls still get their own ten connections
        results = await asyncio.wait_for(asyncio.gather(*(show(docker) for _ in range(30))), 10)
        assert len(results) == 30
        assert daemon.peak == 20  # 10 streams + 10 short connections: 2 * limit at most
        # an eleventh follow waits for a stream slot, and gets it when one is given back
        eleventh = container.log(stdout=True, follow=True)
        pending = asyncio.create_task(eleventh.__anext__())
        await asyncio.sleep(0.1)
        assert not pending.done()
        await follows[0].aclose()
        assert await asyncio.wait_for(pending, 5) == "hi"
        for stream in [*follows[1:], eleventh]:
            await stream.aclose()


def exec_then_hold(request: Request) -> Answer:
    """Answer inspects; upgrade an exec start, send one frame and keep the stream open."""
    if "/exec/" in request.target and request.target.endswith("/json"):
        return http_response(200, {"ID": "e1", "ProcessConfig": {"tty": False}, "Running": True})
    if request.target.endswith("/start"):
        return [UPGRADE_HEAD + FRAME, Hang()]
    return http_response(200, INSPECT)


async def test_an_upgraded_stream_counts_apart_from_short_calls(tmp_path) -> None:
    async with serving(tmp_path, exec_then_hold, limit=1) as (daemon, docker):
        held = docker.containers.exec("e1").start(detach=False)
        async with held:
            assert (await held.read_out()).data == b"hi"  # type: ignore[union-attr]
            # the one stream slot is the exec's; the one short slot still serves calls
            assert [r["Id"] for r in await asyncio.gather(show(docker), show(docker))] == ["c1"] * 2
            second = docker.containers.exec("e1").start(detach=False)
            waiting = asyncio.create_task(second.read_out())
            await asyncio.sleep(0.1)
            assert not waiting.done()  # a second upgrade waits for the stream slot
        message = await asyncio.wait_for(waiting, 5)  # given back when the first closed
        assert message is not None and message.data == b"hi"
        await second.close()
        assert daemon.peak == 2


async def test_limit_zero_means_no_limit(tmp_path) -> None:
    async with serving(tmp_path, inspect_after(0.05), limit=0) as (daemon, docker):
        await asyncio.gather(*(show(docker) for _ in range(150)))
        assert daemon.peak == 150


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"limit": -1}, ValueError),
        ({"limit": 1.5}, TypeError),
        ({"limit": True}, TypeError),
        ({"keepalive_timeout": -1}, ValueError),
        ({"keepalive_timeout": "15"}, TypeError),
    ],
)
def test_bad_pool_options_are_refused(options: dict[str, Any], error: type[Exception]) -> None:
    name = next(iter(options))
    with pytest.raises(error, match=name):
        aiodocker.Docker(url="unix:///nonexistent.sock", **options)


# --- idle expiry --------------------------------------------------------------------


async def test_idle_connections_close_after_the_keepalive_timeout(tmp_path) -> None:
    async with serving(tmp_path, inspect_after(0.02), keepalive_timeout=0.3) as (daemon, docker):
        await asyncio.gather(*(show(docker) for _ in range(20)))
        await asyncio.sleep(0.1)
        assert daemon.live == 20  # kept alive for the next calls
        await show(docker)  # reuses one and restarts its idle time
        for _ in range(100):
            if daemon.live <= 1:
                break
            await asyncio.sleep(0.01)
        assert daemon.live == 1  # the 19 idle since the burst are closed by now
        await asyncio.sleep(0.4)
        assert daemon.live == 0
        await show(docker)  # the pool dials again after expiry
        assert daemon.connections == 21


async def test_keepalive_timeout_zero_keeps_no_idle_connection(tmp_path) -> None:
    async with serving(tmp_path, inspect_after(0), keepalive_timeout=0) as (daemon, docker):
        for _ in range(3):
            await show(docker)
        await asyncio.sleep(0.05)
        assert daemon.connections == 3
        assert daemon.live == 0


async def test_the_expiry_timer_ends_with_the_client(tmp_path) -> None:
    async with serving(tmp_path, inspect_after(0), keepalive_timeout=3600) as (daemon, docker):
        await show(docker)
        engine = docker.core.transport
        assert engine._expiry is not None
        await docker.close()
        assert engine._expiry is None
        await asyncio.sleep(0.05)
        assert daemon.live == 0


# --- out of file descriptors ----------------------------------------------------------


async def test_out_of_descriptors_with_idle_connections_closes_them_and_dials_again(
    tmp_path, monkeypatch
) -> None:
    async with serving(tmp_path, inspect_after(0.1)) as (daemon, docker):
        real = dialers.UnixDialer.__call__
        calls = []
        first_done = asyncio.Event()

        async def dial(self: dialers.UnixDialer, factory: Any) -> Any:
            calls.append(len(calls))
            if len(calls) == 2:  # the second call's dial fails once a connection is idle
                await first_done.wait()
                await asyncio.sleep(0.01)
                raise OSError(errno.EMFILE, "Too many open files")
            return await real(self, factory)

        monkeypatch.setattr(dialers.UnixDialer, "__call__", dial)

        async def first() -> None:
            await show(docker, "first")
            first_done.set()

        await asyncio.gather(first(), show(docker, "second"))
        assert len(calls) == 3  # the failed dial was tried once more
        assert daemon.connections == 2  # the idle one was closed for it
        await asyncio.sleep(0.05)
        assert daemon.live == 1


async def test_out_of_descriptors_with_nothing_idle_names_the_limit(tmp_path, monkeypatch) -> None:
    async with serving(tmp_path, inspect_after(0)) as (daemon, docker):

        async def dial(self: dialers.UnixDialer, factory: Any) -> Any:
            raise OSError(errno.EMFILE, "Too many open files")

        monkeypatch.setattr(dialers.UnixDialer, "__call__", dial)
        with pytest.raises(DockerConnectionError) as caught:
            await show(docker)
        message = str(caught.value)
        assert "out of file descriptors" in message
        assert "EMFILE" in message and "ulimit -n is" in message
        assert "Docker(limit=...)" in message
        assert daemon.connections == 0


async def test_out_of_descriptors_twice_raises_after_one_retry(tmp_path, monkeypatch) -> None:
    async with serving(tmp_path, inspect_after(0)) as (daemon, docker):
        await show(docker)  # one idle connection
        engine = docker.core.transport
        calls = []

        async def dial(self: dialers.UnixDialer, factory: Any) -> Any:
            calls.append(1)
            raise DockerConnectionError("wrapped") from OSError(errno.ENFILE, "File table overflow")

        monkeypatch.setattr(dialers.UnixDialer, "__call__", dial)
        assert len(engine._idle) == 1
        with pytest.raises(DockerConnectionError, match="system-wide table of open files"):
            await engine._connect()
        assert len(calls) == 2
        assert engine._idle == []


# --- connection errors name their cause ------------------------------------------------


async def test_a_tls_handshake_that_never_ends_says_it_timed_out_and_after_how_long(
    monkeypatch,
) -> None:
    monkeypatch.setattr(dialers, "CONNECT_TIMEOUT", 0.2)
    held: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)  # accept the TCP connection, never answer the TLS hello

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    context = ssl.create_default_context()
    docker = aiodocker.Docker(url=f"tcp://127.0.0.1:{port}", ssl_context=context, api_version="v1.41")
    try:
        with pytest.raises(DockerConnectionError) as caught:
            await docker.version()
    finally:
        await docker.close()
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()
    message = str(caught.value)
    assert f"https://127.0.0.1:{port}" in message
    assert "the TLS handshake timed out after 0.2 s" in message
    assert "[]" not in message


async def test_a_connect_that_hangs_says_it_timed_out(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(dialers, "CONNECT_TIMEOUT", 0.1)

    async def hang(*args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(3600)

    docker = aiodocker.Docker(url=f"unix://{tmp_path}/none.sock", api_version="v1.41")
    try:
        monkeypatch.setattr(asyncio.get_running_loop(), "create_unix_connection", hang)
        with pytest.raises(DockerConnectionError, match=r"\[connecting timed out after 0.1 s\]"):
            await docker.version()
    finally:
        await docker.close()


@pytest.mark.parametrize("error", [ConnectionResetError(), OSError()])
async def test_a_connect_error_without_a_message_is_named(tmp_path, monkeypatch, error) -> None:
    async def fail(*args: Any, **kwargs: Any) -> Any:
        raise error

    docker = aiodocker.Docker(url=f"unix://{tmp_path}/none.sock", api_version="v1.41")
    try:
        monkeypatch.setattr(asyncio.get_running_loop(), "create_unix_connection", fail)
        with pytest.raises(DockerConnectionError) as caught:
            await docker.version()
    finally:
        await docker.close()
    assert f"[{type(error).__name__}]" in str(caught.value)


async def test_a_missing_socket_names_the_os_error(tmp_path) -> None:
    docker = aiodocker.Docker(url=f"unix://{tmp_path}/none.sock", api_version="v1.41")
    try:
        with pytest.raises(DockerConnectionError, match="No such file or directory"):
            await docker.version()
    finally:
        await docker.close()


async def test_a_connection_the_daemon_closes_before_answering_says_so(tmp_path) -> None:
    async with serving(tmp_path, lambda request: None) as (daemon, docker):
        with pytest.raises(DockerConnectionError, match="the daemon closed it"):
            await docker.containers.container("c1").start()


# --- a write to a dead hijacked stream -------------------------------------------------


def exec_then_die(request: Request) -> Answer:
    """Answer the exec inspect; upgrade the start, send one frame and close (the daemon dies)."""
    if request.target.endswith("/json"):
        return http_response(200, {"ID": "e1", "ProcessConfig": {"tty": False}, "Running": True})
    return [UPGRADE_HEAD + FRAME, Pause(0.01), Close()]


@pytest.mark.parametrize("over", ["unix", "tcp"])
async def test_the_first_write_to_a_stream_whose_daemon_is_gone_raises(tmp_path, over) -> None:
    daemon = await FakeDaemon(str(tmp_path / "load.sock"), exec_then_die).start()
    server = None
    url = f"unix://{daemon.path}"
    if over == "tcp":  # the same fake daemon behind a tcp port: the peer's death comes as an RST
        server = await asyncio.start_server(daemon._serve, "127.0.0.1", 0)
        url = f"tcp://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    docker = aiodocker.Docker(url=url, api_version="v1.41")
    try:
        stream = docker.containers.exec("e1").start(detach=False)
        async with stream:
            message = await stream.read_out()
            assert message is not None and message.data == b"hi"
            assert await stream.read_out() is None  # the daemon closed the connection
            await asyncio.sleep(0.05)
            with pytest.raises(DockerConnectionError, match="cannot write"):
                await stream.write_in(b"lost?")
    finally:
        await docker.close()
        if server is not None:
            server.close()
            await server.wait_closed()
        await daemon.stop()
