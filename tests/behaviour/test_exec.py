"""Exec behaves alike on the fake engine and on the real daemons."""

from __future__ import annotations

import re

import pytest

from aiodocker.exceptions import DockerConflictError, DockerNotFoundError
from aiodocker.execs import Exec

from .conftest import Backend


async def output(execution: Exec) -> list[tuple[int, bytes]]:
    got: list[tuple[int, bytes]] = []
    async with execution.start() as stream:
        while (message := await stream.read_out()) is not None:
            got.append((message.stream, bytes(message.data)))
    return got


def joined(messages: list[tuple[int, bytes]], stream: int) -> bytes:
    return b"".join(data for s, data in messages if s == stream)


async def test_exec_create_gives_an_id(backend: Backend) -> None:
    container = await backend.run(["sleep", "600"])
    execution = await container.exec(["true"])
    assert re.fullmatch(r"[0-9a-f]{64}", execution.id)


@pytest.mark.parametrize("words", [["hello"], ["a", "b", "c"], ["x y"]])
async def test_exec_echo_output_on_stdout(backend: Backend, words: list[str]) -> None:
    container = await backend.run(["sleep", "600"])
    messages = await output(await container.exec(["echo", *words]))
    assert joined(messages, 1) == (" ".join(words) + "\n").encode()
    assert joined(messages, 2) == b""


async def test_exec_stderr_is_stream_2(backend: Backend) -> None:
    container = await backend.run(["sleep", "600"])
    messages = await output(await container.exec(["sh", "-c", "echo out; echo err >&2"]))
    assert joined(messages, 1) == b"out\n"
    assert joined(messages, 2) == b"err\n"


@pytest.mark.parametrize("code", [0, 1, 7])
async def test_exec_inspect_after_the_end_has_the_exit_code(backend: Backend, code: int) -> None:
    container = await backend.run(["sleep", "600"])
    execution = await container.exec(["sh", "-c", f"exit {code}"])
    await output(execution)
    assert await execution.wait(timeout=10) == code
    info = await execution.inspect()
    assert info["Running"] is False
    assert info["ExitCode"] == code
    assert info["ContainerID"] == container.id


async def test_exec_inspect_before_start(backend: Backend) -> None:
    container = await backend.run(["sleep", "600"])
    execution = await container.exec(["echo", "x"])
    info = await execution.inspect()
    assert info["Running"] is False
    assert info["ExitCode"] is None
    assert info["ProcessConfig"]["entrypoint"] == "echo"
    assert info["ProcessConfig"]["arguments"] == ["x"]
    assert info["OpenStdout"] is True and info["OpenStdin"] is False


async def test_exec_is_listed_in_the_container(backend: Backend) -> None:
    container = await backend.run(["sleep", "600"])
    execution = await container.exec(["true"])
    assert execution.id in (await container.show())["ExecIDs"]


async def test_exec_in_a_stopped_container_is_409(backend: Backend) -> None:
    container = await backend.create(["sleep", "600"])
    with pytest.raises(DockerConflictError) as caught:
        await container.exec(["true"])
    assert caught.value.message == backend.msg(
        f"container {container.id} is not running", f"Container {container.id} is not running"
    )


async def test_exec_in_a_paused_container_is_409(backend: Backend) -> None:
    container = await backend.run(["sleep", "600"])
    await container.pause()
    with pytest.raises(DockerConflictError) as caught:
        await container.exec(["true"])
    assert caught.value.message == (
        f"Container {container.id} is paused, unpause the container before exec"
    )


async def test_exec_in_a_missing_container_is_404(backend: Backend) -> None:
    name = backend.make_name("nocontainer")
    with pytest.raises(DockerNotFoundError) as caught:
        await backend.docker.containers.container(name).exec(["true"])
    assert caught.value.message == f"No such container: {name}"


async def test_exec_inspect_of_a_missing_exec_is_404(backend: Backend) -> None:
    missing = "0" * 64
    with pytest.raises(DockerNotFoundError) as caught:
        await Exec(backend.docker, missing).inspect()
    assert caught.value.message == f"No such exec instance: {missing}"


async def test_exec_tty_output_is_raw(backend: Backend) -> None:
    container = await backend.run(["sleep", "600"])
    messages = await output(await container.exec(["echo", "tty"], tty=True))
    assert b"".join(data for _, data in messages) == b"tty\r\n"
    assert {s for s, _ in messages} <= {1}


async def test_exec_detached_returns_empty(backend: Backend) -> None:
    container = await backend.run(["sleep", "600"])
    execution = await container.exec(["true"])
    assert await execution.start(detach=True) == b""
    assert await execution.wait(timeout=10) == 0


async def test_exec_env_is_passed(backend: Backend) -> None:
    container = await backend.run(["sleep", "600"])
    messages = await output(await container.exec(["env"], environment={"FOO": "bar"}))
    assert b"FOO=bar\n" in joined(messages, 1)


async def test_exec_stdin_is_echoed_by_cat(backend: Backend) -> None:
    container = await backend.run(["sleep", "600"])
    execution = await container.exec(["cat"], stdin=True)
    async with execution.start() as stream:
        await stream.write_in(b"ping\n")
        await stream.write_eof()
        got = b""
        while (message := await stream.read_out()) is not None:
            got += bytes(message.data)
    assert got == b"ping\n"
    assert await execution.wait(timeout=10) == 0


async def test_exec_without_stdout_gets_only_stderr(backend: Backend) -> None:
    container = await backend.run(["sleep", "600"])
    messages = await output(
        await container.exec(["sh", "-c", "echo out; echo err >&2"], stdout=False)
    )
    assert joined(messages, 1) == b""
    assert joined(messages, 2) == b"err\n"


async def test_exec_start_twice_says_so_inside_the_stream(backend: Backend) -> None:
    container = await backend.run(["sleep", "600"])
    execution = await container.exec(["true"])
    await output(execution)
    await execution.wait(timeout=10)
    again = await output(execution)
    assert again == [(1, f"Error: Exec command {execution.id} has already run\r\n".encode())]
