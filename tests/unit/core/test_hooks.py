"""Request hooks and request logging against the fake daemon: what is reported, and when."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

import aiodocker
from aiodocker._core.hooks import ObservedResponse, redact_target
from aiodocker._core.request import Shape
from aiodocker.exceptions import (
    DockerConnectionError,
    DockerNotFoundError,
    DockerTruncatedStreamError,
)
from aiodocker.hooks import RequestHooks, RequestInfo, RequestResult
from tests.fakedaemon import VERSION_1_41, FakeDaemon, Request, chunked, http_response

STREAM_HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
)


class Recorder(RequestHooks):
    """Keeps every callback in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, RequestInfo, Any]] = []

    def on_request_start(self, request: RequestInfo) -> None:
        self.calls.append(("start", request, None))

    def on_request_end(self, request: RequestInfo, result: RequestResult) -> None:
        self.calls.append(("end", request, result))

    def on_request_error(self, request: RequestInfo, error: BaseException, duration: float) -> None:
        self.calls.append(("error", request, error))

    def ends(self) -> list[RequestResult]:
        return [result for kind, _, result in self.calls if kind == "end"]


Handler = Callable[[Request], Awaitable[bytes | None]]


@pytest.fixture
async def serve(tmp_path: Path) -> AsyncIterator[Callable[..., Awaitable[aiodocker.Docker]]]:
    """Start a fake daemon and a client of it; the fake is the client's ``fake`` attribute."""
    started: list[tuple[FakeDaemon, aiodocker.Docker]] = []

    async def start(handler: Handler, **kwargs: Any) -> aiodocker.Docker:
        async def with_version(request: Request) -> bytes | None:
            if request.target == "/version":
                return http_response(200, VERSION_1_41)
            return await handler(request)

        fake = await FakeDaemon(str(tmp_path / "d.sock"), with_version).start()
        client = aiodocker.Docker(url=f"unix://{fake.path}", **kwargs)
        client.fake = fake  # type: ignore[attr-defined]
        started.append((fake, client))
        return client

    yield start
    for fake, client in started:
        await client.close()
        await fake.stop()


# --- redaction ----------------------------------------------------------------------


def test_redact_target_hides_build_args_and_url_credentials_and_keeps_the_rest() -> None:
    target = (
        "/v1.41/build?t=app%3A1&buildargs=%7B%22TOKEN%22%3A%22s3cr3t%22%7D"
        "&remote=https%3A%2F%2Fbob%3Apw123%40git.example.com%2Frepo.git"
        "&fromImage=https%3A%2F%2Fu%3Ap4ss%40h%2Fx.tar"
    )
    redacted = redact_target(target)
    assert "s3cr3t" not in redacted and "pw123" not in redacted and "p4ss" not in redacted
    assert redacted.startswith("/v1.41/build?t=app%3A1&buildargs=REDACTED&remote=REDACTED")
    assert redacted.endswith("&fromImage=https%3A%2F%2FREDACTED%40h%2Fx.tar")


def test_redact_target_hides_every_changes_value_and_keeps_labels() -> None:
    target = (
        "/v1.41/images/create?fromSrc=-&changes=ENV%20DB_PASSWORD%3Dpw1"
        "&changes=ENV%20API_KEY%3Dk2&labels=%7B%22team%22%3A%22web%22%7D"
    )
    redacted = redact_target(target)
    assert "pw1" not in redacted and "k2" not in redacted
    assert redacted == (
        "/v1.41/images/create?fromSrc=-&changes=REDACTED&changes=REDACTED"
        "&labels=%7B%22team%22%3A%22web%22%7D"
    )


def test_redact_target_leaves_a_target_without_secrets_as_sent() -> None:
    assert redact_target("/v1.41/containers/abc/json") == "/v1.41/containers/abc/json"
    target = "/v1.41/containers/json?all=1&filters=%7B%22name%22%3A%5B%22web%22%5D%7D"
    assert redact_target(target) == target


def test_hooks_must_be_request_hooks() -> None:
    with pytest.raises(TypeError, match="RequestHooks"):
        aiodocker.Docker(url="unix:///nonexistent.sock", hooks=[object()])  # type: ignore[list-item]


# --- what the hooks see ---------------------------------------------------------------


async def test_hooks_see_start_then_end_with_status_duration_and_body_sizes(serve) -> None:
    async def handler(request: Request) -> bytes:
        return http_response(201, {"Id": "abc", "Warnings": []})

    recorder = Recorder()
    docker = await serve(handler, hooks=recorder)
    await docker._api.call("POST", "containers/create", expect=Shape.OBJECT, json_body={"Image": "x"})
    kinds = [(kind, info.method, info.path) for kind, info, _ in recorder.calls]
    assert kinds == [
        ("start", "GET", "/version"),
        ("end", "GET", "/version"),
        ("start", "POST", "/v1.41/containers/create"),
        ("end", "POST", "/v1.41/containers/create"),
    ]
    result = recorder.ends()[1]
    assert result.status == 201 and result.end == "eof" and result.error is None
    assert result.bytes_sent == len(b'{"Image": "x"}')
    assert result.bytes_received == len(b'{"Id": "abc", "Warnings": []}')
    assert 0 < result.duration < 5
    assert recorder.calls[3][1].endpoint == docker.endpoint.url


async def test_an_error_status_is_reported_as_an_end_before_the_exception(serve) -> None:
    async def handler(request: Request) -> bytes:
        return http_response(404, {"message": "No such container: nope"})

    recorder = Recorder()
    docker = await serve(handler, hooks=recorder)
    with pytest.raises(DockerNotFoundError):
        await docker._api.call("GET", "containers/nope/json", expect=Shape.OBJECT)
    assert recorder.ends()[-1].status == 404
    assert [kind for kind, _, _ in recorder.calls].count("error") == 0


async def test_a_failed_connection_is_reported_as_an_error_without_an_end(tmp_path) -> None:
    recorder = Recorder()
    async with aiodocker.Docker(url=f"unix://{tmp_path}/absent.sock", hooks=recorder) as docker:
        with pytest.raises(DockerConnectionError):
            await docker.version()
    assert [kind for kind, _, _ in recorder.calls] == ["start", "error"]
    assert isinstance(recorder.calls[1][2], DockerConnectionError)


async def test_a_streamed_upload_counts_its_bytes(serve) -> None:
    async def handler(request: Request) -> bytes:
        return http_response(200, {"ok": len(request.body)})

    async def body() -> AsyncIterator[bytes]:
        for _ in range(3):
            yield b"x" * 1000

    recorder = Recorder()
    docker = await serve(handler, hooks=recorder)
    await docker._api.call("POST", "images/load", expect=Shape.OBJECT, body=body())
    assert recorder.ends()[-1].bytes_sent == 3000


async def test_a_stream_ends_for_the_hooks_only_when_it_is_read_to_its_end(serve) -> None:
    async def handler(request: Request) -> bytes | None:
        if request.target.startswith("/v1.41/events"):
            return STREAM_HEAD + chunked(b'{"a":1}\n', end=False)
        return http_response(200, VERSION_1_41)

    recorder = Recorder()
    docker = await serve(handler, hooks=recorder)
    await docker.version()
    stream = docker.events.stream()
    assert (await stream.__anext__()) == {"a": 1}
    assert len(recorder.ends()) == 2  # /version twice; the events stream is still open
    await stream.aclose()
    result = recorder.ends()[-1]
    assert result.stream and result.end == "abandoned" and result.bytes_received == 8


async def test_a_stream_cut_mid_body_ends_with_error(serve) -> None:
    docker: aiodocker.Docker

    def cut() -> None:
        for writer in list(docker.fake.open_writers):  # type: ignore[attr-defined]
            writer.transport.abort()

    async def handler(request: Request) -> bytes | None:
        asyncio.get_running_loop().call_later(0.1, cut)
        return STREAM_HEAD + chunked(b'{"a":1}\n', end=False) + b'20\r\n{"b"'

    recorder = Recorder()
    docker = await serve(handler, hooks=recorder)
    with pytest.raises(DockerTruncatedStreamError):
        async for _ in docker.events.stream():
            pass
    result = recorder.ends()[-1]
    assert result.end == "error" and isinstance(result.error, DockerTruncatedStreamError)


async def test_a_cancelled_stream_read_ends_with_cancelled(serve) -> None:
    async def handler(request: Request) -> bytes | None:
        return STREAM_HEAD + chunked(b'{"a":1}\n', end=False)

    recorder = Recorder()
    docker = await serve(handler, hooks=recorder)
    stream = docker.events.stream()
    await stream.__anext__()
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(stream.__anext__(), 0.2)
    result = recorder.ends()[-1]
    assert result.end == "cancelled"
    assert isinstance(result.error, asyncio.CancelledError)


async def test_a_raising_hook_is_logged_as_a_warning_and_the_request_goes_on(
    serve, caplog
) -> None:
    class Broken(RequestHooks):
        def on_request_end(self, request: RequestInfo, result: RequestResult) -> None:
            raise RuntimeError("hook bug")

    async def handler(request: Request) -> bytes:
        return http_response(200, {"ok": True})

    recorder = Recorder()
    docker = await serve(handler, hooks=[Broken(), recorder])
    with caplog.at_level(logging.WARNING, logger="aiodocker"):
        assert await docker._api.call("GET", "info", expect=Shape.OBJECT) == {"ok": True}
    assert any(
        r.name == "aiodocker.hooks" and r.levelno == logging.WARNING and "Broken" in r.getMessage()
        for r in caplog.records
    )
    assert len(recorder.ends()) == 2  # the hook after the broken one still ran


# --- the cost: nothing runs without hooks or DEBUG ------------------------------------


async def test_without_hooks_or_debug_logging_responses_are_not_wrapped(serve) -> None:
    async def handler(request: Request) -> bytes:
        return http_response(200, {"ok": True})

    docker = await serve(handler)
    async with docker._api.open("GET", "info") as response:
        assert not isinstance(response, ObservedResponse)
    logging.getLogger("aiodocker.request").setLevel(logging.DEBUG)
    try:
        async with docker._api.open("GET", "info") as response:
            assert isinstance(response, ObservedResponse)
    finally:
        logging.getLogger("aiodocker.request").setLevel(logging.NOTSET)


# --- logging ------------------------------------------------------------------------


async def test_debug_records_name_request_pool_and_stream_events(serve, caplog) -> None:
    async def handler(request: Request) -> bytes | None:
        if "/events" in request.target:
            return STREAM_HEAD + chunked(b'{"a":1}\n')
        return http_response(200, {"ok": True})

    docker = await serve(handler)
    with caplog.at_level(logging.DEBUG, logger="aiodocker"):
        await docker._api.call("GET", "info", expect=Shape.OBJECT)
        assert [e async for e in docker.events.stream()] == [{"a": 1}]
    messages = [(r.name, r.getMessage()) for r in caplog.records]
    assert ("aiodocker.request", "GET /v1.41/info -> 200 eof") in [
        (n, m.split(" in ")[0]) for n, m in messages
    ]
    assert any(
        n == "aiodocker.docker" and m.startswith("negotiated API v1.41") for n, m in messages
    )
    assert any(n == "aiodocker.transport" and m.startswith("dialed a connection") for n, m in messages)
    assert any(n == "aiodocker.transport" and m.startswith("reusing a connection") for n, m in messages)
    stream_lines = [m for n, m in messages if "/events" in m]
    assert "stream open (chunked application/json)" in stream_lines[0]
    assert "stream closed (chunked application/json, eof)" in stream_lines[1]
    assert "8 B in" in stream_lines[1]
    assert all(r.levelno == logging.DEBUG for r in caplog.records)


async def test_an_abandoned_body_discards_its_connection_with_the_reason(serve, caplog) -> None:
    async def handler(request: Request) -> bytes | None:
        return STREAM_HEAD + chunked(b'{"a":1}\n', end=False)

    docker = await serve(handler)
    with caplog.at_level(logging.DEBUG, logger="aiodocker"):
        stream = docker.events.stream()
        await stream.__anext__()
        await stream.aclose()
    messages = [r.getMessage() for r in caplog.records if r.name == "aiodocker.transport"]
    assert any("discarding a connection" in m and "not read to its end" in m for m in messages)


async def test_a_retry_after_a_dead_reused_connection_is_logged(serve, caplog) -> None:
    served = 0

    async def handler(request: Request) -> bytes | None:
        nonlocal served
        served += 1
        if served == 2:
            return None  # the daemon closes the kept-alive connection without answering
        return http_response(200, {"ok": True})

    docker = await serve(handler)
    await docker._api.call("GET", "info", expect=Shape.OBJECT)
    with caplog.at_level(logging.DEBUG, logger="aiodocker.transport"):
        assert await docker._api.call("GET", "info", expect=Shape.OBJECT) == {"ok": True}
    messages = [r.getMessage() for r in caplog.records]
    assert any(
        m.startswith("GET on a reused connection failed") and "retrying on a new connection" in m
        for m in messages
    )


async def test_the_event_follower_logs_its_reconnects(serve, caplog) -> None:
    calls = 0

    async def handler(request: Request) -> bytes | None:
        nonlocal calls
        if "/events" not in request.target:
            return http_response(200, {})
        calls += 1
        if calls == 1:
            return b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n"
        return STREAM_HEAD + chunked(b'{"Type":"container","time":1,"timeNano":1000000000}\n')

    docker = await serve(handler)
    with caplog.at_level(logging.DEBUG, logger="aiodocker.events"):
        follower = docker.events.follow(backoff=0, until="2")
        events = [e async for e in follower]
    assert len(events) == 1
    messages = [r.getMessage() for r in caplog.records if r.name == "aiodocker.events"]
    assert any(m.startswith("event stream could not be opened (attempt 1") for m in messages)


def test_importing_aiodocker_does_not_import_opentelemetry() -> None:
    code = "import aiodocker, aiodocker.hooks, sys; print('opentelemetry' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


async def test_a_stream_read_to_its_end_after_a_timed_out_read_ends_with_eof(serve) -> None:
    async def handler(request: Request) -> bytes | None:
        if "/events" not in request.target:
            return http_response(200, VERSION_1_41)
        asyncio.get_running_loop().call_later(0.4, finish, docker)
        return STREAM_HEAD + chunked(b'{"a":1}\n', end=False)

    def finish(client: aiodocker.Docker) -> None:
        for writer in list(client.fake.open_writers):  # type: ignore[attr-defined]
            writer.write(chunked(b'{"b":2}\n'))

    recorder = Recorder()
    docker = await serve(handler, hooks=recorder)
    response = await docker._api.request("GET", "events")
    assert await response.body.read_chunk()
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(response.body.read_chunk(), 0.1)
    assert await response.read() == b'{"b":2}\n'
    result = recorder.ends()[-1]
    assert result.end == "eof" and result.error is None and result.bytes_received == 16
