"""0.27-style exec, attach, events and log-channel code with its annotations.

Checked by ``mypy --strict`` (see compat_containers.py); nothing here runs.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiodocker
from aiodocker.channel import Channel, ChannelSubscriber
from aiodocker.containers import DockerContainer
from aiodocker.execs import Exec
from aiodocker.stream import Message, Stream


async def run_exec(container: DockerContainer) -> tuple[bytes, int]:
    execution: Exec = await container.exec(["sh", "-c", "echo hi"], environment={"A": "1"})
    output = b""
    stream: Stream = execution.start(detach=False)
    async with stream:
        while True:
            message: Message | None = await stream.read_out()
            if message is None:
                break
            output += message.data
    info: dict[str, Any] = await execution.inspect()
    code: int = info["ExitCode"]
    return output, code


async def exec_with_stdin(container: DockerContainer, data: bytes) -> None:
    execution = await container.exec("cat", stdin=True, tty=False)
    async with execution.start() as stream:
        await stream.write_in(data)
        await stream.read_out()


async def detached_exec(container: DockerContainer) -> bytes:
    execution = await container.exec("true", stdout=False, stderr=False)
    result: bytes = await execution.start(detach=True)
    await execution.resize(h=10, w=10)
    return result


async def detached_as_task(container: DockerContainer) -> bytes:
    execution = await container.exec("true")
    task: asyncio.Task[bytes] = asyncio.create_task(execution.start(detach=True))
    return await task


def exec_by_id(docker: aiodocker.Docker, exec_id: str) -> str:
    return docker.containers.exec(exec_id).id


async def attach(container: DockerContainer) -> bytes:
    stream = container.attach(stdout=True, stderr=True, stdin=True, logs=True)
    async with stream:
        message = await stream.read_out()
    return b"" if message is None else message.data


async def watch_events(docker: aiodocker.Docker) -> list[str]:
    subscriber: ChannelSubscriber = docker.events.subscribe(filters={"type": ["container"]})
    actions: list[str] = []
    while True:
        event = await subscriber.get()
        if event is None:
            break
        actions.append(event["Action"])
        if len(actions) > 3:
            await docker.events.stop()
    return actions


async def publish_into_channel() -> Any:
    channel = Channel()
    subscriber = ChannelSubscriber(channel)
    other: ChannelSubscriber = channel.subscribe()
    await channel.publish({"Action": "start"})
    await other.get()
    return await subscriber.get()


async def log_channel(container: DockerContainer) -> Any:
    subscriber: ChannelSubscriber = container.logs.subscribe()
    task = asyncio.ensure_future(container.logs.run(stdout=True))
    line = await subscriber.get()
    await container.logs.stop()
    task.cancel()
    return line
