"""Websocket attach through the transport seam, against the real daemon.

The client's own engine opens websockets over its own dialers (unix, TLS, ssh);
a caller's aiohttp session opens them itself. Either way the caller gets
aiohttp's ``ClientWebSocketResponse`` (0.27's type), and hooks and the request
log see the handshake and, when the websocket closes, its end with the bytes.
"""

from __future__ import annotations

import asyncio
import glob
import logging
import os
import tempfile
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from helpers import create_container, remove_container, ssh_processes, use_ssh_config, use_tls_env

import aiodocker
from aiodocker.containers import DockerContainer
from aiodocker.exceptions import DockerConnectionError, DockerNotFoundError
from aiodocker.hooks import RequestHooks, RequestInfo, RequestResult

TRANSPORTS = ["unix", "tls", "ssh", "aiohttp session", "aiohttp connector"]


class Recorder(RequestHooks):
    """Every callback, in order."""

    def __init__(self) -> None:
        self.started: list[RequestInfo] = []
        self.ends: list[tuple[RequestInfo, RequestResult]] = []
        self.errors: list[tuple[RequestInfo, BaseException]] = []

    def on_request_start(self, request: RequestInfo) -> None:
        self.started.append(request)

    def on_request_end(self, request: RequestInfo, result: RequestResult) -> None:
        self.ends.append((request, result))

    def on_request_error(self, request: RequestInfo, error: BaseException, duration: float) -> None:
        self.errors.append((request, error))

    def websockets(self) -> list[tuple[RequestInfo, RequestResult]]:
        return [(r, result) for r, result in self.ends if "/attach/ws" in r.path]


def relay_dirs() -> set[str]:
    return set(glob.glob(os.path.join(tempfile.gettempdir(), "aiodocker-relay-*")))


async def receive_until(ws: aiohttp.ClientWebSocketResponse, wanted: bytes) -> bytes:
    """Read messages until ``wanted`` arrived; fail after 10 s."""
    received = b""
    deadline = time.monotonic() + 10
    while wanted not in received:
        assert time.monotonic() < deadline, f"{wanted!r} not received, got {received!r}"
        message = await asyncio.wait_for(ws.receive(), 10)
        assert message.type in (aiohttp.WSMsgType.BINARY, aiohttp.WSMsgType.TEXT), message
        data = message.data
        received += data if isinstance(data, bytes) else data.encode()
    return received


async def receive_to_close(ws: aiohttp.ClientWebSocketResponse) -> bytes:
    """Read messages until the daemon closes the websocket."""
    received = b""
    while True:
        message = await asyncio.wait_for(ws.receive(), 10)
        if message.type not in (aiohttp.WSMsgType.BINARY, aiohttp.WSMsgType.TEXT):
            return received
        data = message.data
        received += data if isinstance(data, bytes) else data.encode()


@pytest.fixture(params=TRANSPORTS)
async def client_on(
    request: pytest.FixtureRequest, testenv: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[aiodocker.Docker, Recorder, list[str] | None]]:
    """A client with a hooks recorder on each transport, and what a caller's session traced."""
    kind = request.param
    kwargs: dict[str, Any] = {}
    traced: list[str] | None = None
    session = None
    connector = None
    url = f"unix://{testenv['unix_socket']}"
    if kind == "tls":
        url = use_tls_env(testenv, monkeypatch)
    elif kind == "ssh":
        url = use_ssh_config(testenv, monkeypatch)
    elif kind == "aiohttp session":
        seen: list[str] = []
        traced = seen

        async def on_end(_: Any, __: Any, params: aiohttp.TraceRequestEndParams) -> None:
            seen.append(f"{params.response.status} {params.url.path}")

        trace = aiohttp.TraceConfig()
        trace.on_request_end.append(on_end)
        session = aiohttp.ClientSession(
            connector=aiohttp.UnixConnector(testenv["unix_socket"]), trace_configs=[trace]
        )
        kwargs["session"] = session
    elif kind == "aiohttp connector":
        connector = aiohttp.UnixConnector(testenv["unix_socket"])
        kwargs["connector"] = connector
    recorder = Recorder()
    try:
        async with aiodocker.Docker(url=url, hooks=recorder, **kwargs) as docker:
            yield docker, recorder, traced
    finally:
        if session is not None:
            await session.close()
        if connector is not None:
            assert not connector.closed  # the caller's: left open
            await connector.close()


async def test_websocket_attach_round_trips_on_every_transport(
    client_on: tuple[aiodocker.Docker, Recorder, list[str] | None],
    image: str,
    make_name: Any,
) -> None:
    docker, recorder, traced = client_on
    container = await create_container(
        docker, make_name("ws"), {"Image": image, "Cmd": ["cat"], "OpenStdin": True, "Tty": True}
    )
    try:
        ws = await container.websocket()
        assert isinstance(ws, aiohttp.ClientWebSocketResponse)  # 0.27's type on every transport
        try:
            await ws.send_bytes(b"ping\n")
            received = await receive_until(ws, b"ping")
        finally:
            await ws.close()
    finally:
        await remove_container(container)
    [(request, result)] = recorder.websockets()
    assert request.method == "GET" and request.path.startswith(f"/{docker.api_version}/containers/")
    assert (result.status, result.stream, result.end) == (101, True, "abandoned")  # we closed it
    assert result.bytes_sent == len(b"ping\n")
    assert result.bytes_received >= len(received)
    assert not recorder.errors
    if traced is not None:  # the caller's session made the handshake: its trace config saw it
        assert f"101 /{docker.api_version}/containers/{container.id}/attach/ws" in traced


async def test_websocket_end_is_reported_when_the_daemon_closes_it_and_logged(
    testenv: dict[str, Any], image: str, make_name: Any, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = Recorder()
    with caplog.at_level(logging.DEBUG, logger="aiodocker"):
        async with aiodocker.Docker(url=f"unix://{testenv['unix_socket']}", hooks=recorder) as docker:
            container = await create_container(
                docker,
                make_name("ws-eof"),
                {
                    "Image": image,
                    "Cmd": ["sh", "-c", "read line; echo got-$line"],
                    "OpenStdin": True,
                    "StdinOnce": True,
                },
            )
            try:
                ws = await container.websocket(stdin=True, stdout=True, stream=True)
                try:
                    await ws.send_str("x\n")  # counted as its UTF-8 bytes
                    received = await receive_to_close(ws)
                finally:
                    await ws.close()
            finally:
                await remove_container(container)
            version = docker.api_version
    assert received == b"got-x\n"
    [(request, result)] = recorder.websockets()
    assert (result.status, result.end, result.error) == (101, "eof", None)
    assert (result.bytes_sent, result.bytes_received) == (2, len(received))
    path = f"/{version}/containers/{container.id}/attach/ws"
    assert request.path.startswith(path + "?")
    lines = [r.getMessage() for r in caplog.records if r.name == "aiodocker.request"]
    opened = [line for line in lines if line.startswith(f"GET {path}?")]
    assert opened[0].endswith("-> 101 stream open (websocket)")
    assert " -> 101 stream closed (websocket, eof) in " in opened[1]
    assert opened[1].endswith(", 2 B out, 6 B in")
    assert not [r for r in caplog.records if r.levelno >= logging.INFO]


async def test_refused_websocket_reports_the_status_to_hooks_and_raises_it(
    testenv: dict[str, Any], make_name: Any
) -> None:
    recorder = Recorder()
    async with aiodocker.Docker(url=f"unix://{testenv['unix_socket']}", hooks=recorder) as docker:
        missing = docker.containers.container(make_name("absent"))
        with pytest.raises(DockerNotFoundError):
            await missing.websocket()
    [(_, result)] = recorder.websockets()
    assert (result.status, result.stream) == (404, False)
    assert not recorder.errors


async def test_websocket_to_an_unreachable_daemon_reports_a_request_error() -> None:
    recorder = Recorder()
    path = os.path.join(tempfile.mkdtemp(prefix="aiodocker-test-"), "none.sock")
    try:
        async with aiodocker.Docker(url=f"unix://{path}", api_version="v1.41", hooks=recorder) as docker:
            with pytest.raises(DockerConnectionError, match="none.sock"):
                await docker._websocket("containers/x/attach/ws")
    finally:
        os.rmdir(os.path.dirname(path))
    assert [r.path.partition("?")[0] for r, _ in recorder.errors] == ["/v1.41/containers/x/attach/ws"]
    assert not recorder.ends


async def test_ssh_websocket_leaves_no_process_and_no_relay_socket_behind(
    testenv: dict[str, Any],
    image: str,
    make_name: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = use_ssh_config(testenv, monkeypatch)
    before = relay_dirs()
    with caplog.at_level(logging.DEBUG, logger="aiodocker.ssh"):
        async with aiodocker.Docker(url=url) as docker:
            docker._api.transport._dial.forward = False  # type: ignore[attr-defined]  # dial-stdio: processes to count
            container = await create_container(
                docker,
                make_name("ws-ssh"),
                {"Image": image, "Cmd": ["cat"], "OpenStdin": True, "Tty": True},
            )
            try:
                for _ in range(2):  # the relay serves one websocket after another
                    ws = await container.websocket()
                    assert len(relay_dirs() - before) == 1
                    await ws.send_bytes(b"over ssh\n")
                    await receive_until(ws, b"over ssh")
                    await ws.close()
            finally:
                await remove_container(container)
    assert relay_dirs() - before == set()
    started, exited = ssh_processes(caplog)
    assert len(started) >= 3 and len(exited) == len(started)  # requests, plus one per websocket


def test_websocket_works_in_one_event_loop_after_another(
    testenv: dict[str, Any], image: str, make_name: Any
) -> None:
    docker = aiodocker.Docker(url=f"unix://{testenv['unix_socket']}")
    container: DockerContainer | None = None

    async def echo(text: bytes) -> None:
        nonlocal container
        if container is None:
            container = await create_container(
                docker,
                make_name("ws-loops"),
                {"Image": image, "Cmd": ["cat"], "OpenStdin": True, "Tty": True},
            )
        ws = await container.websocket()
        try:
            await ws.send_bytes(text)
            await receive_until(ws, text.strip())
        finally:
            await ws.close()

    async def clean_up() -> None:
        if container is not None:
            await remove_container(container)
        await docker.close()

    try:
        asyncio.run(echo(b"first loop\n"))
        asyncio.run(echo(b"second loop\n"))
    finally:
        asyncio.run(clean_up())


@pytest.mark.parametrize("transport", ["unix", "ssh", "ssh dial-stdio"])
async def test_closing_the_client_ends_an_open_websocket_and_leaves_nothing_behind(
    transport: str,
    testenv: dict[str, Any],
    image: str,
    make_name: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = f"unix://{testenv['unix_socket']}"
    if transport.startswith("ssh"):
        url = use_ssh_config(testenv, monkeypatch)
    before = relay_dirs()
    recorder = Recorder()
    async with aiodocker.Docker(url=f"unix://{testenv['unix_socket']}") as helper:
        container = await create_container(
            helper,
            make_name("ws-close"),
            {"Image": image, "Cmd": ["cat"], "OpenStdin": True, "Tty": True},
        )
        try:
            with caplog.at_level(logging.DEBUG, logger="aiodocker.ssh"):
                docker = aiodocker.Docker(url=url, hooks=recorder)
                dialer = docker._api.transport._dial  # type: ignore[attr-defined]
                if transport == "ssh dial-stdio":
                    dialer.forward = False
                ws = await docker.containers.container(container.id).websocket()
                await ws.send_bytes(b"still open\n")
                await receive_until(ws, b"still open")
                await asyncio.wait_for(docker.close(), 30)
            await receive_to_close(ws)  # the rest of the tty's echo, then the end
            assert ws.closed
        finally:
            await remove_container(container)
    assert relay_dirs() - before == set()
    [(_, result)] = recorder.websockets()
    # the connection ended under the websocket: aiohttp notes that as the peer's close
    assert result.bytes_sent == len(b"still open\n") and result.end == "eof", result
    started, exited = ssh_processes(caplog)
    assert len(exited) == len(started) == (2 if transport == "ssh dial-stdio" else 0)
    if transport == "ssh":  # one channel of the forwarding master, stopped by close()
        messages = [r.getMessage() for r in caplog.records if r.name == "aiodocker.ssh"]
        assert any(m.startswith("forwarding ") for m in messages)
        assert not dialer._masters and dialer._directory is None


async def test_a_failing_ssh_websocket_says_why_in_sshs_words() -> None:
    # nothing listens on port 1: ssh exits at once, and its message is the error
    before = relay_dirs()
    async with aiodocker.Docker(url="ssh://nobody@127.0.0.1:1", api_version="v1.41") as docker:
        with pytest.raises(DockerConnectionError, match=r"ssh exited with status 255: .*refused"):
            await docker._websocket("containers/x/attach/ws")
    assert relay_dirs() - before == set()
