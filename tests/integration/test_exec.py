"""Exec against the real daemon: stdin round trips over every transport, tty, errors."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from helpers import (  # noqa: F401 (clean_client_env is autouse)
    clean_client_env,
    client_over,
    create_container,
    remove_container,
)

import aiodocker
from aiodocker.containers import DockerContainer
from aiodocker.exceptions import DockerConflictError, DockerError, DockerNotFoundError
from aiodocker.execs import Exec, Stream
from aiodocker.stream import Message

PAYLOAD_SIZE = 10 * 1024 * 1024
WRITE_CHUNK = 64 * 1024
TRANSFER_TIMEOUT = 120.0


# --- helpers ----------------------------------------------------------------------


async def create_exec(
    container: DockerContainer, cmd: list[str], *, stdin: bool = False, tty: bool = False
) -> Exec:
    return await container.exec(cmd, stdin=stdin, tty=tty)


async def collect(stream: Stream) -> list[Message]:
    return [message async for message in stream]


def joined(messages: list[Message], stream_id: int = 1) -> bytes:
    return b"".join(m.data for m in messages if m.stream == stream_id)


@pytest.fixture(params=["unix", "tls", "ssh"])
async def transport_client(
    request: pytest.FixtureRequest,
    testenv: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[aiodocker.Docker]:
    """A client of the main daemon over each transport: unix socket, tcp+TLS, ssh."""
    client = client_over(request.param, testenv, monkeypatch)
    try:
        yield client
    finally:
        await client.close()


async def round_trip(exe: Exec, payload: bytes) -> list[Message]:
    """Write ``payload`` to stdin, half-close, and read all output at the same time."""
    async with exe.start(detach=False) as stream:

        async def feed() -> None:
            view = memoryview(payload)
            for offset in range(0, len(view), WRITE_CHUNK):
                await stream.write_in(view[offset : offset + WRITE_CHUNK])
            await stream.write_eof()

        writer = asyncio.create_task(feed())
        try:
            messages = await collect(stream)
        finally:
            if not writer.done():
                writer.cancel()
            await asyncio.gather(writer, return_exceptions=True)
        writer.result()  # re-raise a write failure
        return messages


# --- stdin round trips ------------------------------------------------------------


@pytest.mark.engine_difference(
    ("docker26", "podman", "podman5"), "the TLS and ssh endpoints of transport_client reach the main daemon only"
)
async def test_exec_cat_returns_10_mib_of_random_bytes_unchanged_and_exits_0(
    transport_client: aiodocker.Docker, sleeper: DockerContainer
) -> None:
    payload = os.urandom(PAYLOAD_SIZE)
    # The exec is created and run through the client under test.
    container = transport_client.containers.container(sleeper.id)
    exe = await create_exec(container, ["cat"], stdin=True)
    messages = await asyncio.wait_for(round_trip(exe, payload), TRANSFER_TIMEOUT)
    assert joined(messages, 2) == b""
    out = joined(messages, 1)
    assert len(out) == len(payload)
    assert out == payload
    info = await exe.inspect()
    assert info["Running"] is False
    assert info["ExitCode"] == 0


async def test_exec_stdin_half_close_lets_output_flow_after_it(
    docker: aiodocker.Docker, sleeper: DockerContainer
) -> None:
    # wc reads stdin to its end, and only then writes: output after the half-close.
    exe = await create_exec(sleeper, ["sh", "-c", "wc -c; echo bye >&2"], stdin=True)
    messages = await asyncio.wait_for(round_trip(exe, b"x" * 12345), 30)
    assert joined(messages, 1).strip() == b"12345"
    assert joined(messages, 2) == b"bye\n"
    assert await exe.wait(timeout=10) == 0


async def test_exec_keeps_stdout_and_stderr_apart(
    docker: aiodocker.Docker, sleeper: DockerContainer
) -> None:
    exe = await create_exec(sleeper, ["sh", "-c", "echo out; echo err >&2; echo out2; exit 3"])
    async with exe.start() as stream:
        messages = await collect(stream)
    assert joined(messages, 1) == b"out\nout2\n"
    assert joined(messages, 2) == b"err\n"
    info = await exe.inspect()
    assert (info["Running"], info["ExitCode"]) == (False, 3)
    assert await exe.wait() == 3


async def test_exec_with_tty_gives_raw_output_as_stdout(
    docker: aiodocker.Docker, sleeper: DockerContainer
) -> None:
    exe = await create_exec(sleeper, ["sh", "-c", "echo tty-out; echo tty-err >&2"], tty=True)
    async with exe.start(detach=False) as stream:
        messages = await collect(stream)
    assert {m.stream for m in messages} == {1}
    output = joined(messages, 1)
    assert b"tty-out\r\n" in output
    assert b"tty-err\r\n" in output
    assert (await exe.inspect())["ProcessConfig"]["tty"] is True


async def test_exec_start_learns_tty_from_inspect_when_unknown(
    docker: aiodocker.Docker, sleeper: DockerContainer
) -> None:
    created = await create_exec(sleeper, ["echo", "hello"], tty=True)
    exe = docker.containers.exec(created.id)  # knows only the id, not the tty
    async with exe.start() as stream:
        output = joined(await collect(stream))
    assert output == b"hello\r\n"


async def test_exec_resize_sets_the_tty_size(
    docker: aiodocker.Docker, sleeper: DockerContainer
) -> None:
    exe = await create_exec(sleeper, ["sh"], stdin=True, tty=True)
    async with exe.start() as stream:
        output = b""
        while b"# " not in output:  # the prompt: the shell runs
            message = await asyncio.wait_for(stream.read_out(), 10)
            assert message is not None
            output += message.data
        await exe.resize(h=33, w=101)
        await exe.resize()  # both None: nothing happens
        await stream.write_in(b"stty size; exit 0\n")
        rest = joined(await asyncio.wait_for(collect(stream), 10))
    assert b"33 101" in rest
    assert await exe.wait(timeout=10) == 0


@pytest.mark.engine_difference(
    ("podman", "podman5"), "podman's hijacked exec/attach stream carries a stray newline before the frames"
)
async def test_exec_start_detached_returns_empty_bytes_and_wait_gives_exit_code(
    docker: aiodocker.Docker, sleeper: DockerContainer
) -> None:
    exe = await create_exec(sleeper, ["sh", "-c", "sleep 0.3; exit 7"])
    assert await exe.start(detach=True) == b""
    assert await exe.wait(timeout=30) == 7
    info = await exe.inspect()
    assert (info["Running"], info["ExitCode"]) == (False, 7)


async def test_exec_stream_iterates_messages(
    docker: aiodocker.Docker, sleeper: DockerContainer
) -> None:
    exe = await create_exec(sleeper, ["sh", "-c", "for i in 1 2 3; do echo $i; done"])
    stream = exe.start()
    try:
        data = b"".join([message.data async for message in stream])
    finally:
        await stream.close()
    assert data == b"1\n2\n3\n"
    assert stream.at_eof


# --- errors -----------------------------------------------------------------------


@pytest.mark.engine_difference(
    ("podman", "podman5"), "podman answers 500, not 400/409, for bad arguments, taken names and wrong states"
)
async def test_exec_create_on_a_stopped_container_raises_409(
    docker: aiodocker.Docker, image: str, make_name: Callable[..., str]
) -> None:
    container = await create_container(
        docker, make_name("stopped"), {"Image": image, "Cmd": ["true"]}, start=False
    )
    try:
        with pytest.raises(DockerConflictError) as info:
            await create_exec(container, ["true"])
        assert info.value.status == 409
    finally:
        await remove_container(container)


async def test_exec_create_on_a_missing_container_raises_404(
    docker: aiodocker.Docker, make_name: Callable[..., str]
) -> None:
    missing = make_name("missing")
    with pytest.raises(DockerNotFoundError) as info:
        await create_exec(docker.containers.container(missing), ["true"])
    assert info.value.status == 404
    assert missing in info.value.message


async def test_exec_start_of_a_missing_exec_raises_404(docker: aiodocker.Docker) -> None:
    exe = Exec(docker, "0" * 64, tty=False)
    stream = exe.start()
    with pytest.raises(DockerNotFoundError):
        async with stream:
            pass
    assert stream.closed
    with pytest.raises(DockerNotFoundError):
        await exe.start(detach=True)


async def test_exec_inspect_and_resize_of_a_missing_exec_raise_404(
    docker: aiodocker.Docker,
) -> None:
    exe = Exec(docker, "0" * 64)
    with pytest.raises(DockerNotFoundError) as info:
        await exe.inspect()
    assert info.value.status == 404
    with pytest.raises(DockerNotFoundError):
        await exe.resize(h=10, w=10)
    with pytest.raises(DockerNotFoundError):
        await exe.wait(timeout=5)


@pytest.mark.engine_difference(
    ("podman", "podman5"), "podman's hijacked exec/attach stream carries a stray newline before the frames"
)
async def test_exec_started_twice_raises_409(
    docker: aiodocker.Docker, sleeper: DockerContainer
) -> None:
    exe = await create_exec(sleeper, ["sleep", "5"])
    assert await exe.start(detach=True) == b""
    with pytest.raises(DockerError) as info:
        await exe.start(detach=True)
    assert info.value.status == 409


async def test_exec_resize_without_tty_raises_value_error_before_any_request(
    docker: aiodocker.Docker, sleeper: DockerContainer
) -> None:
    exe = await create_exec(sleeper, ["true"], tty=False)
    with pytest.raises(ValueError, match="no tty"):
        await exe.resize(h=10, w=10)
    with pytest.raises(ValueError, match="both h and w"):
        await Exec(docker, exe.id).resize(w=10)
