"""aiodocker 0.27 behaviour that its own test suite and downstream code rely on (issue 21).

The closed session after ``close()``, a bad ``ssl_context``, 0.27's in-band error
details in ``aiodocker.jsonstream``, and ``ChannelSubscriber(channel)`` registering
itself. ``Stream._resp`` assignment is in tests/unit/test_stream_unit.py; the
real-daemon side is in tests/integration/test_dropin.py.
"""

from __future__ import annotations

import asyncio
import io
import ssl
import warnings
from collections.abc import Awaitable, Callable

import aiohttp
import pytest

import aiodocker
from aiodocker import jsonstream
from aiodocker.channel import Channel, ChannelSubscriber
from aiodocker.exceptions import DockerStreamError, DockerTruncatedStreamError
from tests import fakedaemon_fixtures
from tests.fakedaemon import FakeDaemon, Request, http_response

# the shared fake-daemon fixtures (clean_env is autouse)
clean_env = fakedaemon_fixtures.clean_env
daemon = fakedaemon_fixtures.daemon
routes = fakedaemon_fixtures.routes

Route = Callable[[Request], "bytes | None | Awaitable[bytes | None]"]

STREAM_HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
)


def json_lines(*lines: bytes) -> bytes:
    body = b"".join(lines)
    return STREAM_HEAD + f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"


# --------------------------------------------------------------------------
# docker.session after close()


async def test_session_never_made_is_a_closed_one_after_close() -> None:
    docker = aiodocker.Docker(url="unix:///nonexistent/docker.sock")
    await docker.close()
    session = docker.session
    assert session.closed is True
    with pytest.raises(RuntimeError) as info:
        await session.get("http://localhost/v1.41/info")
    assert info.value.args == ("Session is closed",)
    with pytest.raises(RuntimeError, match="Session is closed"):
        async with session.post("http://localhost/v1.41/info"):
            pass  # pragma: no cover - never entered
    with pytest.raises(RuntimeError, match="Session is closed"):
        await session.request("GET", "http://localhost/_ping")
    await session.close()  # closing again is allowed, as on aiohttp's closed session
    assert docker.session.closed


async def test_async_with_then_session_closed_is_true(daemon: FakeDaemon) -> None:
    async with aiodocker.Docker(url=f"unix://{daemon.path}") as docker:
        await docker.version()
    assert docker.session.closed is True  # the usage probe: "make a new client?"


async def test_session_made_before_close_is_that_session_closed(daemon: FakeDaemon) -> None:
    docker = aiodocker.Docker(url=f"unix://{daemon.path}")
    made = docker.session
    assert isinstance(made, aiohttp.ClientSession) and not made.closed
    await docker.close()
    assert docker.session is made and made.closed
    with pytest.raises(RuntimeError, match="Session is closed"):
        await made.get(f"{docker.docker_host}/_ping")


async def test_closed_session_stand_in_opens_nothing() -> None:
    docker = aiodocker.Docker(url="unix:///nonexistent/docker.sock")
    await docker.close()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        assert docker.session.closed
        assert docker.session.connector is None
    with pytest.raises(RuntimeError, match="Session is closed"):
        docker.connector  # noqa: B018  # nothing new after close: it would leak


# --------------------------------------------------------------------------
# ssl_context


@pytest.mark.parametrize(
    "url", ["tcp://127.0.0.1:2376", "https://127.0.0.1:2376", "unix:///nonexistent.sock"]
)
def test_a_bad_ssl_context_is_a_type_error(url: str) -> None:
    with pytest.raises(TypeError, match="ssl_context should be an ssl.SSLContext"):
        aiodocker.Docker(url=url, ssl_context="bad ssl context")  # type: ignore[arg-type]


async def test_a_real_ssl_context_is_accepted() -> None:
    context = ssl.create_default_context()
    docker = aiodocker.Docker(url="tcp://127.0.0.1:2376", ssl_context=context)
    try:
        assert docker.ssl_context is context
        assert docker.docker_host == "https://127.0.0.1:2376"
    finally:
        await docker.close()


# --------------------------------------------------------------------------
# aiodocker.jsonstream: 0.27's error details and response ownership


class Lines:
    """A response-like object with ``content.readline()`` and ``close()``."""

    def __init__(self, data: bytes) -> None:
        self.content = self
        self._lines = io.BytesIO(data)
        self.closed = False

    async def readline(self) -> bytes:
        return self._lines.readline()

    def close(self) -> None:
        self.closed = True


async def stream_error(data: bytes) -> tuple[DockerStreamError, Lines]:
    response = Lines(data)
    with pytest.raises(DockerStreamError) as info:
        await jsonstream.json_stream_list(response)
    return info.value, response


async def test_a_bare_error_gives_an_empty_error_detail() -> None:
    error, response = await stream_error(b'{"status": "x"}\n{"error": "something went wrong"}\n')
    assert (error.message, error.error_detail) == ("something went wrong", {})
    assert response.closed  # an error closes the response, as 0.27


async def test_an_error_detail_that_is_not_a_dict_is_kept_under_raw() -> None:
    error, _ = await stream_error(b'{"errorDetail": "raw string", "error": "boom"}\n')
    assert (error.message, error.error_detail) == ("boom", {"raw": "raw string"})


async def test_an_empty_error_detail_still_raises() -> None:
    error, _ = await stream_error(b'{"errorDetail": {}}\n')
    assert "unknown error" in error.message
    assert error.error_detail == {}


async def test_a_dict_error_detail_is_kept_whole() -> None:
    error, _ = await stream_error(b'{"errorDetail": {"message": "denied", "code": 7}, "error": "x"}\n')
    assert (error.message, error.error_detail) == ("denied", {"message": "denied", "code": 7})


async def test_a_clean_stream_leaves_the_response_open_as_027() -> None:
    response = Lines(b'{"status": "ok"}\n{"status": "done"}\n')
    assert await jsonstream.json_stream_list(response) == [{"status": "ok"}, {"status": "done"}]
    assert response.closed is False
    streamed = Lines(b'{"a": 1}\n')
    assert [v async for v in jsonstream.json_stream_stream(streamed)] == [{"a": 1}]
    assert streamed.closed is False


async def test_a_cut_stream_closes_the_response() -> None:
    response = Lines(b'{"a": 1}\n{"a": ')
    with pytest.raises(DockerTruncatedStreamError):
        await jsonstream.json_stream_list(response)
    assert response.closed


def test_027s_private_check_name_is_there() -> None:
    with pytest.raises(DockerStreamError):
        jsonstream._maybe_raise_stream_error({"error": "x"})
    jsonstream._maybe_raise_stream_error({"status": "Pulling"})


async def test_a_clean_query_stream_is_released_by_its_async_with(
    daemon: FakeDaemon, routes: dict[str, Route]
) -> None:
    """The caller's ``async with docker._query()`` releases what json_stream_list leaves open."""
    routes["/v1.41/images/create"] = lambda r: json_lines(b'{"status": "Pulling"}\n')
    async with aiodocker.Docker(url=f"unix://{daemon.path}", api_version="v1.41") as docker:
        for _ in range(3):
            async with docker._query("images/create", "POST") as response:
                assert await jsonstream.json_stream_list(response) == [{"status": "Pulling"}]
        # each response went back to the pool whole: one connection served all three
        assert [r.connection_id for r in daemon.requests] == [daemon.requests[0].connection_id] * 3


async def test_pull_in_band_error_details_are_027s(
    daemon: FakeDaemon, routes: dict[str, Route]
) -> None:
    routes["/v1.41/images/create"] = lambda r: json_lines(
        b'{"status": "Pulling from library/x"}\n{"error": "manifest unknown"}\n'
    )
    async with aiodocker.Docker(url=f"unix://{daemon.path}", api_version="v1.41") as docker:
        with pytest.raises(DockerStreamError) as info:
            await docker.images.pull("x:1")
        assert (info.value.message, info.value.error_detail) == ("manifest unknown", {})
        routes["/v1.41/info"] = lambda r: http_response(200, {"ID": "x"})
        assert (await docker.system.info())["ID"] == "x"  # the client goes on working


# --------------------------------------------------------------------------
# ChannelSubscriber(channel) registers itself, as in 0.27


async def test_a_subscriber_built_directly_gets_what_is_published() -> None:
    channel = Channel()
    subscriber = ChannelSubscriber(channel)
    await channel.publish({"Action": "start"})
    await channel.publish(None)
    assert await subscriber.get() == {"Action": "start"}
    assert await subscriber.get() is None


async def test_channel_subscribe_registers_once() -> None:
    channel = Channel()
    subscriber = channel.subscribe()
    await channel.publish("one")
    channel.close()
    assert [item async for item in subscriber] == ["one"]  # not twice


async def test_a_subscriber_built_on_a_closed_channel_ends_at_once() -> None:
    channel = Channel()
    channel.close()
    assert await asyncio.wait_for(ChannelSubscriber(channel).get(), 1) is None


async def test_unsubscribing_a_direct_subscriber_stops_delivery() -> None:
    channel = Channel()
    first, second = ChannelSubscriber(channel), ChannelSubscriber(channel)
    first.unsubscribe()
    await channel.publish("x")
    assert await first.get() is None
    assert await second.get() == "x"


async def test_events_reach_a_subscriber_built_on_the_events_channel(
    daemon: FakeDaemon, routes: dict[str, Route]
) -> None:
    """Home Assistant Supervisor's pattern: ``ChannelSubscriber(docker.events.channel)``."""
    routes["/v1.41/events"] = lambda r: json_lines(
        b'{"Type": "container", "Action": "start", "time": 1700000000}\n'
    )
    async with aiodocker.Docker(url=f"unix://{daemon.path}", api_version="v1.41") as docker:
        subscriber = ChannelSubscriber(docker.events.channel)
        await docker.events.run()
        event = await asyncio.wait_for(subscriber.get(), 5)
        assert (event["Type"], event["Action"]) == ("container", "start")
        assert await asyncio.wait_for(subscriber.get(), 5) is None
