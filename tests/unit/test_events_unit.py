"""Events against a fake daemon: time conversion, the channel's end, and the follower's
resume, duplicate dropping, retry budget and connection release."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

import aiodocker
from aiodocker.events import (
    DockerEventsLostError,
    event_nanos,
    format_since,
)
from aiodocker.exceptions import DockerConnectionError, DockerError
from tests.fakedaemon import VERSION_1_41, FakeDaemon, Request, chunked, http_response

SECOND = 1_000_000_000
DATE = "Tue, 14 Nov 2023 22:13:20 GMT"  # 1700000000


def event(name: str, nanos: int, action: str = "create") -> dict[str, Any]:
    return {
        "Type": "container",
        "Action": action,
        "Actor": {"ID": name, "Attributes": {"name": name}},
        "scope": "local",
        "time": nanos // SECOND,
        "timeNano": nanos,
    }


def stream_head() -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        b"Date: " + DATE.encode() + b"\r\nTransfer-Encoding: chunked\r\n\r\n"
    )


def encode(*events: dict[str, Any]) -> bytes:
    return b"".join(json.dumps(e).encode() + b"\n" for e in events)


def query(request: Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(request.target).query).items()}


Handler = Callable[[Request], Awaitable[bytes | None]]


Serve = Callable[[Handler], Awaitable[tuple[FakeDaemon, aiodocker.Docker]]]


@pytest.fixture
async def serve(tmp_path: Path) -> AsyncIterator[Serve]:
    started: list[tuple[FakeDaemon, aiodocker.Docker]] = []

    async def start(events_handler: Handler) -> tuple[FakeDaemon, aiodocker.Docker]:
        async def handler(request: Request) -> bytes | None:
            if request.target.endswith("/version"):
                return http_response(200, VERSION_1_41)
            return await events_handler(request)

        fake = await FakeDaemon(str(tmp_path / "d.sock"), handler).start()
        client = aiodocker.Docker(url=f"unix://{fake.path}")
        started.append((fake, client))
        return fake, client

    yield start
    for fake, client in started:
        await client.close()
        await fake.stop()


def cut(fake: FakeDaemon) -> None:
    """Drop every connection of the fake daemon (the client sees a truncated body)."""
    for writer in list(fake.open_writers):
        writer.transport.abort()


def event_requests(fake: FakeDaemon) -> list[Request]:
    return [r for r in fake.requests if urlsplit(r.target).path.endswith("/events")]


# --- pure helpers -------------------------------------------------------------------


def test_format_since_pads_nanoseconds_to_nine_digits() -> None:
    assert format_since(1_700_000_000 * SECOND + 5) == "1700000000.000000005"
    assert format_since(0) == "0.000000000"


def test_event_nanos_prefers_time_nano_and_falls_back_to_time() -> None:
    assert event_nanos({"time": 12, "timeNano": 12 * SECOND + 7}) == 12 * SECOND + 7
    assert event_nanos({"time": 12}) == 12 * SECOND
    assert event_nanos({"status": "x"}) is None


async def test_since_and_until_accept_seconds_datetimes_and_strings(serve: Serve) -> None:
    async def handler(request: Request) -> bytes:
        return stream_head() + chunked(end=True)

    fake, docker = await serve(handler)
    moment = dt.datetime(2023, 11, 14, 22, 13, 20, 500000, tzinfo=dt.timezone.utc)
    for since, expected in [
        (1700000000, "1700000000"),
        (1700000000.25, "1700000000.250000000"),
        (moment, "1700000000.500000000"),
        ("10m", "10m"),
    ]:
        [item async for item in docker.events.stream(since=since, until=since)]
        assert query(event_requests(fake)[-1])["since"] == expected
    with pytest.raises(TypeError):
        docker.events.stream(since=True)
    with pytest.raises(ValueError):
        docker.events.stream(until=float("nan"))
    with pytest.raises(TypeError):
        docker.events.stream(filters=["type=container"])  # type: ignore[arg-type]


# --- run / subscribe / stop ---------------------------------------------------------


async def test_run_converts_time_to_naive_local_datetime_and_publishes_none_at_the_end(
    serve: Serve,
) -> None:
    nanos = 1_700_000_000 * SECOND

    async def handler(request: Request) -> bytes:
        return stream_head() + chunked(
            encode(event("a", nanos)), b'{"error": "in-band, not raised"}\n', end=True
        )

    fake, docker = await serve(handler)
    subscriber = docker.events.channel.subscribe()
    await docker.events.run(filters={"type": "container"}, stream=False)
    first = await subscriber.get()
    assert first["time"] == dt.datetime.fromtimestamp(1_700_000_000)
    assert first["time"].tzinfo is None
    assert first["timeNano"] == nanos
    assert await subscriber.get() == {"error": "in-band, not raised"}
    assert await subscriber.get() is None
    sent = query(event_requests(fake)[0])
    assert json.loads(sent["filters"]) == {"type": ["container"]}
    assert "stream" not in sent


async def test_stop_before_the_task_ran_still_ends_the_subscribers(serve: Serve) -> None:
    async def handler(request: Request) -> bytes:
        return stream_head()

    _, docker = await serve(handler)
    subscriber = docker.events.subscribe()
    await docker.events.stop()  # the task never got to run
    assert await asyncio.wait_for(subscriber.get(), 1) is None
    assert docker.events.task is None


async def test_stop_ends_a_run_awaited_elsewhere_quietly(serve: Serve) -> None:
    async def handler(request: Request) -> bytes:
        return stream_head() + b"%x\r\n%b\r\n" % (
            len(encode(event("a", SECOND))),
            encode(event("a", SECOND)),
        )

    _, docker = await serve(handler)
    subscriber = docker.events.channel.subscribe()
    runner = asyncio.ensure_future(docker.events.run())
    assert (await asyncio.wait_for(subscriber.get(), 2))["Actor"]["ID"] == "a"
    await docker.events.stop()
    await asyncio.wait_for(runner, 2)  # no exception: the end was asked for
    assert await subscriber.get() is None


# --- the follower -------------------------------------------------------------------


async def test_follower_resumes_a_second_before_the_last_event_and_drops_the_replay(
    serve: Serve,
) -> None:
    a = event("a", 1_700_000_000 * SECOND + 900)
    b = event("b", 1_700_000_000 * SECOND + 950)
    c = event("c", 1_700_000_001 * SECOND)
    calls = 0
    holder: list[FakeDaemon] = []

    async def handler(request: Request) -> bytes | None:
        nonlocal calls
        calls += 1
        if calls == 1:  # two events, then the connection breaks mid-stream
            asyncio.get_running_loop().call_later(0.2, cut, holder[0])
            return stream_head() + chunked(encode(a, b), end=False) + b'5\r\n{"Ty'
        if calls == 2:  # the daemon replays from since=, then the new event
            return stream_head() + chunked(encode(a, b, c), end=False)
        await asyncio.sleep(30)
        return None

    fake, docker = await serve(handler)
    holder.append(fake)
    follower = docker.events.follow(backoff=0)
    got = [await asyncio.wait_for(follower.__anext__(), 5) for _ in range(3)]
    await follower.aclose()
    assert [e["Actor"]["ID"] for e in got] == ["a", "b", "c"]
    resumed = query(event_requests(fake)[1])
    assert resumed["since"] == format_since(b["timeNano"] - SECOND)
    assert follower.reconnects == 1


async def test_follower_without_events_resumes_from_the_daemons_clock(serve: Serve) -> None:
    calls = 0

    async def handler(request: Request) -> bytes | None:
        nonlocal calls
        calls += 1
        if calls == 1:
            return None  # head never comes: the connection drops
        if calls == 2:
            return stream_head() + chunked(end=True)  # the daemon shuts down cleanly
        return stream_head() + chunked(encode(event("x", 1_700_000_005 * SECOND)), end=False)

    fake, docker = await serve(handler)
    follower = docker.events.follow(backoff=0, filters={"type": "container"})
    got = await asyncio.wait_for(follower.__anext__(), 5)
    await follower.aclose()
    assert got["Actor"]["ID"] == "x"
    sent = [query(r) for r in event_requests(fake)]
    assert "since" not in sent[0] and "since" not in sent[1]
    assert sent[2]["since"] == "1700000000"  # the Date of the first answer
    assert all(json.loads(s["filters"]) == {"type": ["container"]} for s in sent)


async def test_follower_raises_a_typed_error_when_its_retry_budget_is_spent(
    serve: Serve,
) -> None:
    async def handler(request: Request) -> bytes | None:
        return None  # every connection drops before an answer

    fake, docker = await serve(handler)
    follower = docker.events.follow(retries=3, backoff=0.01, max_backoff=0.02)
    with pytest.raises(DockerEventsLostError) as info:
        await asyncio.wait_for(follower.__anext__(), 10)
    assert info.value.attempts == 4
    assert isinstance(info.value, DockerConnectionError)
    assert isinstance(info.value.__cause__, DockerConnectionError)
    assert "4 failed attempts" in info.value.message
    with pytest.raises(StopAsyncIteration):  # it stays closed
        await follower.__anext__()


async def test_follower_does_not_retry_a_request_the_daemon_rejects(serve: Serve) -> None:
    async def handler(request: Request) -> bytes:
        return http_response(400, {"message": "invalid filter"}, reason="Bad Request")

    fake, docker = await serve(handler)
    with pytest.raises(DockerError) as info:
        async for _ in docker.events.follow(filters={"bogus": "x"}, backoff=0):
            pass
    assert info.value.status == 400
    assert len(event_requests(fake)) == 1


async def test_follower_with_until_ends_when_the_daemon_ends_the_stream(serve: Serve) -> None:
    async def handler(request: Request) -> bytes:
        return stream_head() + chunked(encode(event("a", SECOND)), end=True)

    fake, docker = await serve(handler)
    got = [e async for e in docker.events.follow(since=0, until=2)]
    assert [e["Actor"]["ID"] for e in got] == ["a"]
    assert len(event_requests(fake)) == 1


async def test_breaking_out_of_a_follower_releases_its_connection_at_once(
    serve: Serve,
) -> None:
    async def handler(request: Request) -> bytes:
        return stream_head() + chunked(encode(event("a", SECOND)), end=False)

    fake, docker = await serve(handler)
    async for _ in docker.events.follow():
        break
    await asyncio.sleep(0)  # no gc.collect(): reference counting frees it
    for _ in range(5):
        if not fake.open_writers:
            break
        await asyncio.sleep(0.01)
    assert not fake.open_writers


async def test_stop_and_close_end_followers(serve: Serve) -> None:
    async def handler(request: Request) -> bytes:
        return stream_head() + chunked(encode(event("a", SECOND)), end=False)

    _, docker = await serve(handler)
    follower = docker.events.follow()

    async def drain() -> list[dict[str, Any]]:
        return [e async for e in follower]

    task = asyncio.ensure_future(drain())
    await asyncio.sleep(0.1)
    await docker.events.stop()
    assert [e["Actor"]["ID"] for e in await asyncio.wait_for(task, 2)] == ["a"]
    await docker.close()
    with pytest.raises(DockerConnectionError, match="closed"):
        await docker.events.follow().__anext__()


async def test_follow_validates_its_arguments(serve: Serve) -> None:
    async def handler(request: Request) -> bytes:
        return stream_head()

    _, docker = await serve(handler)
    with pytest.raises(ValueError):
        docker.events.follow(retries=-1)
    with pytest.raises(TypeError):
        docker.events.follow(retries=1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        docker.events.follow(backoff=-1)
    with pytest.raises(ValueError):
        docker.events.follow(open_timeout=0)


async def test_async_with_connects_before_the_block_runs(serve: Serve) -> None:
    async def handler(request: Request) -> bytes:
        return stream_head()

    fake, docker = await serve(handler)
    async with docker.events.follow() as follower:
        assert len(event_requests(fake)) == 1
        assert follower._stream is not None
    assert follower._stream is None
