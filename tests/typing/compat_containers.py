"""0.27-style container code with its annotations: must type-check against 0.27 and here.

Not collected by pytest (no ``test_`` prefix); ``mypy --strict`` checks it
(scripts/test.sh, tests/unit/test_typing_corpus.py). Nothing here runs.
"""

from __future__ import annotations

import asyncio
import tarfile
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp

import aiodocker
from aiodocker.containers import DockerContainer
from aiodocker.exceptions import DockerContainerError, DockerError
from aiodocker.types import JSONObject, PortInfo, Sentinel


async def container_state(container: DockerContainer) -> str:
    info: dict[str, Any] = await container.show()
    state: str = info["State"]["Status"]
    return state


async def inspect_mapping(container: DockerContainer) -> Mapping[str, Any]:
    return await container.show()


async def exit_code(container: DockerContainer) -> int:
    result: dict[str, Any] = await container.wait()
    code: int = result["StatusCode"]
    return code


def wait_result(result: dict[str, Any]) -> int:
    return int(result["StatusCode"])


async def run_and_wait(docker: aiodocker.Docker, image: str) -> int:
    config: JSONObject = {"Image": image, "Cmd": ["true"], "HostConfig": {"AutoRemove": False}}
    container = await docker.containers.run(config=config, name="corpus")
    try:
        return wait_result(await container.wait(timeout=30))
    except DockerContainerError as exc:
        print(exc.container_id, exc.status, exc.message)
        raise
    finally:
        await container.delete(force=True)


async def create_with_dict(docker: aiodocker.Docker, config: dict[str, Any]) -> str:
    container = await docker.containers.create(config, name="corpus")
    replaced = await docker.containers.create_or_replace("corpus", config)
    await container.start()
    await container.stop(t=1)
    await container.restart(t=1)
    await container.kill(signal="SIGKILL")
    await container.rename("corpus2")
    await container.pause()
    await container.unpause()
    await container.resize(h=24, w=80)
    return replaced.id


async def listing(docker: aiodocker.Docker) -> list[str]:
    containers: list[DockerContainer] = await docker.containers.list(all=True)
    names: list[str] = []
    for c in containers:
        names.append(c["Names"][0])
        if "Id" in c:
            names.append(c.id)
    got = await docker.containers.get(names[0])
    names.append(got._container["Name"])
    names.append(docker.containers.container("abc").id)
    return names


async def logs(container: DockerContainer) -> list[str]:
    lines: list[str] = await container.log(stdout=True, stderr=True, tail=10)
    follow: AsyncIterator[str] = container.log(stdout=True, follow=True)
    async for line in follow:
        lines.append(line)
    return lines


async def stats(container: DockerContainer) -> float:
    snapshot: list[dict[str, Any]] = await container.stats(stream=False)
    usage: float = snapshot[0]["cpu_stats"]["cpu_usage"]["total_usage"]
    stream: AsyncIterator[dict[str, Any]] = container.stats()
    async for sample in stream:
        usage += sample["memory_stats"].get("usage", 0)
        break
    return usage


async def first_stats(container: DockerContainer) -> dict[str, Any]:
    async for sample in container.stats(stream=True):
        return sample
    raise RuntimeError("no stats")


async def archives(container: DockerContainer, data: bytes) -> list[str]:
    archive: tarfile.TarFile = await container.get_archive("/etc/hostname")
    await container.put_archive("/tmp", data)
    return archive.getnames()


async def processes(container: DockerContainer) -> list[list[str]]:
    top: dict[str, Any] = await container.top(ps_args="aux")
    rows: list[list[str]] = top["Processes"]
    return rows


async def commit(container: DockerContainer) -> str:
    result: dict[str, Any] = await container.commit(repository="corpus", tag="v1")
    image_id: str = result["Id"]
    return image_id


async def ports(container: DockerContainer) -> str | None:
    bindings: list[PortInfo] | None = await container.port(80)
    if not bindings:
        return None
    return bindings[0]["HostPort"]


async def prune(docker: aiodocker.Docker) -> int:
    report: dict[str, Any] = await docker.containers.prune(filters={"until": "24h"})
    return int(report.get("SpaceReclaimed", 0))


async def concurrently(docker: aiodocker.Docker, ids: list[str]) -> list[dict[str, Any]]:
    containers = [docker.containers.container(i) for i in ids]
    return await asyncio.gather(*(c.show() for c in containers))


async def guarded(docker: aiodocker.Docker) -> dict[str, Any] | None:
    try:
        container = await docker.containers.get("missing")
    except DockerError as exc:
        if exc.status == 404:
            return None
        raise
    return await container.show(size=True)


async def overloads_with_027_parameter_types(
    container: DockerContainer,
    timeout: float | aiohttp.ClientTimeout | Sentinel | None,
    attach_timeout: aiohttp.ClientTimeout | Sentinel | None,
) -> list[str]:
    lines: list[str] = await container.log(
        stdout=True, stderr=False, follow=False, timeout=timeout, since=0, timestamps=True
    )
    async for line in container.log(stdout=True, follow=True, timeout=timeout, tail="10"):
        lines.append(line)
    samples: list[dict[str, Any]] = await container.stats(stream=False, timeout=timeout)
    async for sample in container.stats(stream=True, timeout=timeout):
        samples.append(sample)
    execution = await container.exec("true")
    output: bytes = await execution.start(detach=True, timeout=timeout)
    async with execution.start(detach=False, timeout=timeout) as stream:
        await stream.read_out()
    async with container.attach(stdout=True, timeout=attach_timeout):
        pass
    return lines + [str(samples), output.decode()]
