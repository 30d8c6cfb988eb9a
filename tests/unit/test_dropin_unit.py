"""Drop-in behaviour of aiodocker 0.27 that existing code depends on (issue 9).

Each test pins one observable behaviour: attribute types, what reaches a fake
daemon, exception types and words, warnings. The real-daemon side of the same
points is in tests/integration/test_dropin.py.
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import io
import json
import ssl
import time
import warnings
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

import aiodocker
from aiodocker import jsonstream
from aiodocker.exceptions import (
    DockerClientClosedError,
    DockerConnectionError,
    DockerError,
    DockerStreamError,
)
from aiodocker.ssh import SSHConnector
from aiodocker.utils import parse_content_type
from tests import fakedaemon_fixtures
from tests.fakedaemon import VERSION_1_41, FakeDaemon, Request, chunked, http_response

# the shared fake-daemon fixtures (clean_env is autouse)
clean_env = fakedaemon_fixtures.clean_env
daemon = fakedaemon_fixtures.daemon
docker = fakedaemon_fixtures.docker
routes = fakedaemon_fixtures.routes

Route = Callable[[Request], "bytes | None | Awaitable[bytes | None]"]

STREAM_HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
)


def query(request: Request) -> dict[str, list[str]]:
    return parse_qs(urlsplit(request.target).query, keep_blank_values=True)


def tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()


# --------------------------------------------------------------------------
# session and connector


@pytest.mark.parametrize(
    ("url", "connector_type"),
    [
        ("unix:///nonexistent/docker.sock", aiohttp.UnixConnector),
        ("tcp://127.0.0.1:2375", aiohttp.TCPConnector),
        ("http://127.0.0.1:2375", aiohttp.TCPConnector),
    ],
)
async def test_session_and_connector_exist_for_every_scheme(url: str, connector_type: type) -> None:
    async with aiodocker.Docker(url=url) as docker:
        assert isinstance(docker.connector, connector_type)
        assert isinstance(docker.session, aiohttp.ClientSession)
        assert docker.session.connector is docker.connector


async def test_unix_connector_points_at_the_socket_of_the_url() -> None:
    async with aiodocker.Docker(url="unix:///nonexistent/docker.sock") as docker:
        assert docker.connector.path == "/nonexistent/docker.sock"  # type: ignore[attr-defined]


async def test_tcp_connector_carries_the_tls_context() -> None:
    context = tls_context()
    async with aiodocker.Docker(url="tcp://127.0.0.1:2376", ssl_context=context) as docker:
        assert isinstance(docker.connector, aiohttp.TCPConnector)
        assert docker.connector._ssl is context  # aiohttp keeps no public accessor


async def test_ssh_url_gets_the_ssh_connector(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".ssh").mkdir()
    (tmp_path / ".ssh" / "known_hosts").write_text("")
    monkeypatch.setenv("HOME", str(tmp_path))
    async with aiodocker.Docker(url="ssh://me@build-host:2222") as docker:
        assert isinstance(docker.connector, SSHConnector)
        assert docker.docker_host == "unix://localhost"


async def test_raw_session_call_reaches_the_same_daemon(
    docker: aiodocker.Docker, daemon: FakeDaemon, routes: dict[str, Route]
) -> None:
    routes["/info"] = lambda r: http_response(200, {"ID": "fake-daemon"})
    async with docker.session.get(f"{docker.docker_host}/v1.41/info") as response:
        assert response.status == 200
        assert (await response.json())["ID"] == "fake-daemon"
    assert urlsplit(daemon.requests[-1].target).path == "/v1.41/info"


async def test_client_methods_do_not_go_through_the_session(docker: aiodocker.Docker) -> None:
    await docker.session.close()  # the user closes the raw session ...
    assert (await docker.version())["ApiVersion"] == "1.41"  # ... the client still works


async def test_close_closes_the_session_and_connector_it_made_once() -> None:
    docker = aiodocker.Docker(url="unix:///nonexistent/docker.sock")
    session, connector = docker.session, docker.connector
    await docker.close()
    assert session.closed and connector.closed
    await docker.close()  # a second close does nothing


async def test_close_leaves_a_connector_made_before_the_session_closed_with_it() -> None:
    docker = aiodocker.Docker(url="unix:///nonexistent/docker.sock")
    connector = docker.connector  # touched first: the session made later must own it
    session = docker.session
    await docker.close()
    assert connector.closed and session.closed


async def test_close_never_closes_a_callers_session_or_connector(daemon: FakeDaemon) -> None:
    connector = aiohttp.UnixConnector(daemon.path)
    session = aiohttp.ClientSession(connector=aiohttp.UnixConnector(daemon.path))
    try:
        with_connector = aiodocker.Docker(url=f"unix://{daemon.path}", connector=connector)
        assert with_connector.connector is connector
        assert isinstance(with_connector.session, aiohttp.ClientSession)
        await with_connector.version()
        await with_connector.close()
        assert not connector.closed

        with_session = aiodocker.Docker(url=f"unix://{daemon.path}", session=session)
        assert with_session.session is session
        await with_session.version()
        await with_session.close()
        await with_session.close()
        assert not session.closed
    finally:
        await session.close()
        await connector.close()


async def test_no_connector_is_made_after_close() -> None:
    docker = aiodocker.Docker(url="unix:///nonexistent/docker.sock")
    await docker.close()
    with pytest.raises(RuntimeError, match="Session is closed"):
        docker.connector  # noqa: B018


async def test_session_is_not_made_until_touched(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[object] = []

    def counting(make: Callable[..., Any]) -> Callable[..., Any]:
        def counted(*args: Any, **kwargs: Any) -> Any:
            made.append(make(*args, **kwargs))
            return made[-1]

        return counted

    monkeypatch.setattr(aiohttp, "ClientSession", counting(aiohttp.ClientSession))
    monkeypatch.setattr(aiohttp, "UnixConnector", counting(aiohttp.UnixConnector))
    docker = aiodocker.Docker(url="unix:///nonexistent/docker.sock")
    try:
        assert made == []  # neither a session nor a connector at construction
        session = docker.session  # the first touch makes both
        assert made == [docker.connector, session]
    finally:
        await docker.close()
    assert session.closed and docker.connector.closed


# --------------------------------------------------------------------------
# docker_host


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("tcp://h.example:2375", "tcp://h.example:2375"),
        ("http://h.example:2375", "http://h.example:2375"),
        ("https://h.example:2376", "https://h.example:2376"),
        ("unix:///var/run/docker.sock", "unix://localhost"),
        ("ssh://me@h.example", "unix://localhost"),
    ],
)
async def test_docker_host_keeps_the_scheme_as_027(url: str, expected: str) -> None:
    async with aiodocker.Docker(url=url) as docker:
        assert docker.docker_host == expected


async def test_docker_host_from_env_keeps_tcp_and_turns_https_with_tls(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DOCKER_HOST", "tcp://h.example:2375")
    async with aiodocker.Docker() as docker:
        assert docker.docker_host == "tcp://h.example:2375"
    async with aiodocker.Docker(ssl_context=tls_context()) as docker:
        assert docker.docker_host == "https://h.example:2375"


# --------------------------------------------------------------------------
# timeouts


def slow(seconds: float, body: Any = b"") -> Route:
    async def handler(request: Request) -> bytes:
        await asyncio.sleep(seconds)
        if body == b"":
            return http_response(204, b"", reason="No Content")
        return http_response(200, body)

    return handler


async def test_integer_timeout_is_ignored_as_in_027(
    docker: aiodocker.Docker, routes: dict[str, Route]
) -> None:
    routes["/restart"] = slow(0.6)
    container = docker.containers.container("abc")
    started = time.monotonic()
    await container.restart(timeout=0)  # 0.27 matches no case for an int: no deadline
    assert time.monotonic() - started >= 0.6
    with pytest.raises(asyncio.TimeoutError):
        await container.restart(timeout=0.2)  # a float is a deadline


async def test_integer_timeout_keeps_the_clients_timeout_in_force(daemon: FakeDaemon) -> None:
    async with aiodocker.Docker(
        url=f"unix://{daemon.path}", timeout=aiohttp.ClientTimeout(total=0.3)
    ) as docker:
        daemon.handler = _route_all(slow(1.0))
        started = time.monotonic()
        with pytest.raises(asyncio.TimeoutError):
            await docker.containers.container("abc").restart(timeout=5)
        assert time.monotonic() - started < 0.9


def _route_all(route: Route) -> Callable[[Request], Any]:
    def handler(request: Request) -> Any:
        if urlsplit(request.target).path.endswith("/version"):
            return http_response(200, VERSION_1_41)
        return route(request)

    return handler


async def test_float_timeout_on_query_warns_with_027_words(
    docker: aiodocker.Docker, routes: dict[str, Route]
) -> None:
    routes["/info"] = lambda r: http_response(200, {"ID": "x"})
    with pytest.warns(DeprecationWarning, match="Manually setting timeouts via float"):
        async with docker._query("info", timeout=5.0) as response:
            assert response.status == 200


async def test_float_timeout_on_a_long_running_method_does_not_warn(
    docker: aiodocker.Docker, routes: dict[str, Route]
) -> None:
    routes["/restart"] = lambda r: http_response(204, b"", reason="No Content")
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        await docker.containers.container("abc").restart(timeout=5.0)


# --------------------------------------------------------------------------
# SSHConnector, parse_content_type


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://host", "Invalid SSH URL scheme: http"),
        ("ssh://user@", "SSH URL must include hostname"),
    ],
)
def test_ssh_connector_checks_the_url_first_with_027_errors(url: str, words: str) -> None:
    with pytest.raises(DockerError) as info:
        SSHConnector(url)
    assert words in info.value.message


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("ssh://user@host:70000", "Port out of range"),
        ("ssh://user@host:abc", "Port could not be cast to integer"),
    ],
)
def test_ssh_connector_reports_a_bad_port_as_urllib_does(
    url: str, words: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))  # no known_hosts: the URL is checked before that
    with pytest.raises(ValueError, match=words):
        SSHConnector(url)


def test_parse_content_type_rejects_a_parameter_without_value() -> None:
    with pytest.raises(ValueError):
        parse_content_type("text/plain; asdfasdf")
    assert parse_content_type("text/plain; charset=utf-8;") == (
        "text",
        "plain",
        {"charset": "utf-8"},
    )


# --------------------------------------------------------------------------
# response-like objects


async def test_query_response_reads_like_an_aiohttp_response(
    docker: aiodocker.Docker, routes: dict[str, Route]
) -> None:
    routes["/info"] = lambda r: http_response(200, {"ID": "x"})
    async with docker._query("info", params={"all": True}) as response:
        assert response.ok and response.status == 200
        assert str(response.url) == "unix://localhost/v1.41/info?all=1"
        response.raise_for_status()
        assert await response.json() == {"ID": "x"}
        assert response.released


LINES = b"line one\nline two\n" + bytes(range(256)) * 4


async def test_query_content_has_the_stream_reader_api(
    docker: aiodocker.Docker, routes: dict[str, Route]
) -> None:
    routes["/logs"] = lambda r: STREAM_HEAD + chunked(LINES[:5], LINES[5:30], LINES[30:])
    async with docker._query("containers/abc/logs") as response:
        content = response.content
        assert not content.is_eof() and content.exception() is None
        assert await content.readline() == b"line one\n"
        content.unread_data(b"line one\n")
        assert await content.readexactly(4) == b"line"
        assert await content.readline() == b" one\n"
        assert await content.read(4) == b"line"
        data, end_of_chunk = await content.readchunk()
        assert data and isinstance(end_of_chunk, bool)
        rest = [data, await content.readany()]
        rest += [piece async for piece, _ in content.iter_chunks()]
        assert b"line one\nline" + b"".join(rest) == LINES
        assert content.at_eof() and content.is_eof()
        assert content.total_bytes == len(LINES)  # received bytes, pushed-back ones not again
        assert (await content.readchunk()) == (b"", False)
    async with docker._query("containers/abc/logs") as response:
        assert b"".join([c async for c in response.content.iter_chunked(7)]) == LINES
    async with docker._query("containers/abc/logs") as response:
        assert b"".join([c async for c in response.content.iter_any()]) == LINES
    async with docker._query("containers/abc/logs") as response:
        assert [line async for line in response.content][:2] == [b"line one\n", b"line two\n"]


async def test_export_image_yields_a_stream_reader(
    docker: aiodocker.Docker, routes: dict[str, Route]
) -> None:
    routes["/images/x/get"] = lambda r: http_response(200, LINES)
    async with docker.images.export_image("x") as content:
        assert await content.readexactly(9) == b"line one\n"
        assert content.total_bytes >= 9
        assert await content.read() == LINES[9:]
        assert content.at_eof()


# --------------------------------------------------------------------------
# streams are async generators


def endless(request: Request) -> bytes:
    return STREAM_HEAD + chunked(b'{"read": 1}\n', b'{"read": 2}\n', end=False)


async def test_streams_are_async_generators_with_asend_and_athrow(
    docker: aiodocker.Docker, routes: dict[str, Route]
) -> None:
    routes["/stats"] = endless
    routes["/images/create"] = lambda r: STREAM_HEAD + chunked(b'{"status": "x"}\n', end=False)
    container = docker.containers.container("abc")
    stats = container.stats(stream=True)
    assert inspect.isasyncgen(stats)
    assert (await stats.asend(None))["read"] == 1
    with pytest.raises(KeyError):
        await stats.athrow(KeyError("stop"))
    with pytest.raises(StopAsyncIteration):
        await stats.__anext__()  # ended by athrow, connection released
    pull = docker.images.pull("busybox", stream=True)
    assert inspect.isasyncgen(pull)
    await pull.aclose()


async def test_leaving_a_stream_early_releases_its_connection_at_once(
    docker: aiodocker.Docker, daemon: FakeDaemon, routes: dict[str, Route]
) -> None:
    routes["/stats"] = endless
    async for item in docker.containers.container("abc").stats(stream=True):
        assert item["read"] == 1
        break
    await asyncio.sleep(0)  # no gc.collect(): reference counting frees it
    for _ in range(10):
        if not daemon.open_writers:
            break
        await asyncio.sleep(0.01)
    assert not daemon.open_writers


# --------------------------------------------------------------------------
# errors and warnings in 0.27's words


async def test_container_without_id_has_027_words() -> None:
    async with aiodocker.Docker(url="unix:///nonexistent/docker.sock") as docker:
        with pytest.raises(ValueError) as info:
            aiodocker.docker.DockerContainer(docker, Name="x")
    assert info.value.args == ("DockerContainer should be initialized with explicit container ID.",)


@pytest.mark.parametrize("version", ["1.41", "v1", "latest"])
def test_bad_api_version_has_027_words(version: str) -> None:
    with pytest.raises(ValueError) as info:
        aiodocker.Docker(url="unix:///nonexistent/docker.sock", api_version=version)
    assert info.value.args == ("Invalid API version format",)


async def test_pull_with_auth_but_no_registry_host_has_027_words(docker: aiodocker.Docker) -> None:
    with pytest.raises(ValueError) as info:
        docker.images.pull("busybox", auth={"username": "u", "password": "p"})
    assert info.value.args == ("Image should have registry host when auth information is provided",)


async def test_build_without_a_source_has_027_words(docker: aiodocker.Docker) -> None:
    with pytest.raises(ValueError) as info:
        docker.images.build()
    assert str(info.value) == "You need to specify either remote or fileobj"


async def test_hint_goes_to_attribute_and_note_not_message(
    docker: aiodocker.Docker, routes: dict[str, Route]
) -> None:
    routes["/push"] = lambda r: (
        STREAM_HEAD
        + chunked(
            b'{"errorDetail": {"message": "no basic auth credentials"},'
            b' "error": "no basic auth credentials"}\n'
        )
    )
    with pytest.raises(DockerStreamError) as info:
        await docker.images.push("reg.example:5000/x")
    exc = info.value
    assert exc.message == "no basic auth credentials"
    assert exc.args == ("no basic auth credentials",)
    assert str(exc) == "[0] no basic auth credentials"
    assert exc.hint is not None and "reg.example:5000" in exc.hint
    if hasattr(exc, "add_note"):
        assert exc.__notes__ == [exc.hint]


async def test_images_list_with_json_string_filters_warns_as_027(
    docker: aiodocker.Docker, daemon: FakeDaemon, routes: dict[str, Route]
) -> None:
    routes["/images/json"] = lambda r: http_response(200, [])
    with pytest.warns(DeprecationWarning, match="pre-encoded JSON string"):
        assert await docker.images.list(filters='{"dangling": ["true"]}') == []
    assert query(daemon.requests[-1])["filters"] == ['{"dangling": ["true"]}']


async def test_images_get_warns_as_027(docker: aiodocker.Docker, routes: dict[str, Route]) -> None:
    routes["/images/x/json"] = lambda r: http_response(200, {"Id": "x"})
    with pytest.warns(DeprecationWarning, match="images.get is deprecated"):
        assert (await docker.images.get("x"))["Id"] == "x"


# --------------------------------------------------------------------------
# use after close, unclosed warning


async def test_use_after_close_is_runtime_error_session_is_closed(daemon: FakeDaemon) -> None:
    docker = aiodocker.Docker(url=f"unix://{daemon.path}")
    await docker.version()
    await docker.close()
    with pytest.raises(RuntimeError) as info:
        await docker.version()
    assert str(info.value) == "Session is closed" and info.value.args == ("Session is closed",)
    assert isinstance(info.value, DockerConnectionError)
    assert isinstance(info.value, DockerClientClosedError)
    with pytest.raises(DockerError):
        await docker.system.info()


def test_dropped_unclosed_client_warns_resource_warning_unclosed() -> None:
    docker = aiodocker.Docker(url="unix:///nonexistent/docker.sock")
    with pytest.warns(ResourceWarning, match="Unclosed"):
        del docker
        gc.collect()


# --------------------------------------------------------------------------
# events.listen


async def test_events_listen_starts_no_task_and_run_filters_for_it(
    docker: aiodocker.Docker, daemon: FakeDaemon, routes: dict[str, Route]
) -> None:
    routes["/events"] = lambda r: (
        STREAM_HEAD + chunked(b'{"Type": "volume", "Action": "create", "time": 1}\n')
    )
    with pytest.warns(DeprecationWarning, match="use subscribe\\(\\) method instead"):
        subscriber = docker.events.listen()
    assert docker.events.task is None
    assert not [r for r in daemon.requests if "/events" in r.target]
    await docker.events.run(filters={"type": ["volume"]})
    sent = query([r for r in daemon.requests if "/events" in r.target][-1])
    assert json.loads(sent["filters"][0]) == {"type": ["volume"]}
    event = await asyncio.wait_for(subscriber.get(), 5)
    assert event is not None and event["Type"] == "volume"
    assert await asyncio.wait_for(subscriber.get(), 5) is None


# --------------------------------------------------------------------------
# jsonstream accepts what 0.27 accepts


class LinesOnly:
    """Only ``content.readline()`` and ``close()``, as 0.27's jsonstream needs."""

    def __init__(self, data: bytes) -> None:
        self.content = self
        self._lines = io.BytesIO(data)
        self.closed = False

    async def readline(self) -> bytes:
        return self._lines.readline()

    def close(self) -> None:
        self.closed = True


async def test_jsonstream_accepts_readline_and_close_only() -> None:
    response = LinesOnly(b'{"a": 1}\n{"a": 2}\n')
    assert await jsonstream.json_stream_list(response, lambda v: v["a"]) == [1, 2]
    assert not response.closed  # as 0.27: a clean stream is left to its owner
    failing = LinesOnly(b'{"a": 1}\n{"error": "boom"}\n')
    stream = jsonstream.json_stream_stream(failing)
    assert inspect.isasyncgen(stream)
    assert await stream.__anext__() == {"a": 1}
    with pytest.raises(DockerStreamError, match="boom"):
        await stream.__anext__()
    assert failing.closed


CALLS_WITH_TIMEOUT: dict[str, Callable[[aiodocker.Docker, Any], Awaitable[Any]]] = {
    "stop": lambda d, t: d.containers.container("abc").stop(timeout=t),
    "restart": lambda d, t: d.containers.container("abc").restart(timeout=t),
    "kill": lambda d, t: d.containers.container("abc").kill(timeout=t),
    "wait": lambda d, t: d.containers.container("abc").wait(timeout=t),
    "delete": lambda d, t: d.containers.container("abc").delete(timeout=t),
    "commit": lambda d, t: d.containers.container("abc").commit(timeout=t),
    "stats": lambda d, t: d.containers.container("abc").stats(stream=False, timeout=t),
    "pull": lambda d, t: d.images.pull("busybox", timeout=t),
    "push": lambda d, t: d.images.push("reg.example:5000/x", timeout=t),
    "build": lambda d, t: d.images.build(remote="https://example.com/ctx.tar", timeout=t),
    "events.run": lambda d, t: d.events.run(timeout=t),
    "exec start": lambda d, t: d.containers.exec("eid").start(detach=True, timeout=t),
}


@pytest.mark.parametrize("call", list(CALLS_WITH_TIMEOUT), ids=list(CALLS_WITH_TIMEOUT))
async def test_every_method_keeps_the_clients_timeout_for_an_integer(
    daemon: FakeDaemon, call: str
) -> None:
    daemon.handler = _route_all(slow(2.0, {"StatusCode": 0}))
    async with aiodocker.Docker(
        url=f"unix://{daemon.path}", timeout=aiohttp.ClientTimeout(total=0.2)
    ) as docker:
        started = time.monotonic()
        with pytest.raises(asyncio.TimeoutError):
            await CALLS_WITH_TIMEOUT[call](docker, 100)  # an int is no deadline in 0.27
        assert time.monotonic() - started < 1.5  # the client's 0.2 s applied
