"""0.27-style image code with its annotations. Checked by ``mypy --strict``; nothing runs."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp

import aiodocker
from aiodocker.exceptions import DockerStreamError
from aiodocker.types import JSONObject, Sentinel, SupportsRead


async def image_ids(docker: aiodocker.Docker) -> list[str]:
    images: list[dict[str, Any]] = await docker.images.list(filters={"dangling": ["false"]})
    return [image["Id"] for image in images]


async def image_size(docker: aiodocker.Docker, name: str) -> int:
    info: dict[str, Any] = await docker.images.inspect(name)
    size: int = info["Size"]
    return size


async def pull(docker: aiodocker.Docker, ref: str) -> list[dict[str, Any]]:
    try:
        progress: list[dict[str, Any]] = await docker.images.pull(ref, tag="latest")
    except DockerStreamError as exc:
        print(exc.error_detail)
        raise
    return progress


async def pull_in_background(docker: aiodocker.Docker, ref: str) -> list[dict[str, Any]]:
    task = asyncio.create_task(docker.images.pull(ref))
    return await task


async def pull_streamed(docker: aiodocker.Docker, ref: str) -> list[str]:
    statuses: list[str] = []
    stream: AsyncIterator[dict[str, Any]] = docker.images.pull(ref, stream=True)
    async for item in stream:
        statuses.append(item.get("status", ""))
    return statuses


async def push(docker: aiodocker.Docker, name: str) -> None:
    result: list[dict[str, Any]] = await docker.images.push(name, auth={"username": "u"})
    print(result)
    async for line in docker.images.push(name, stream=True):
        print(line["status"])


async def build(docker: aiodocker.Docker) -> str:
    dockerfile = io.BytesIO(b"FROM busybox\n")
    steps: list[dict[str, Any]] = await docker.images.build(
        fileobj=dockerfile, encoding="identity", tag="corpus:1"
    )
    async for step in docker.images.build(remote="https://example.com/x.git", stream=True):
        print(step.get("stream"))
    return str(steps[-1])


async def housekeeping(docker: aiodocker.Docker, name: str) -> int:
    tagged: bool = await docker.images.tag(name, "corpus", tag="2")
    deleted: list[Any] = await docker.images.delete(name, force=True)
    pruned: dict[str, Any] = await docker.images.prune(filters={"dangling": ["true"]})
    builds: dict[str, Any] = await docker.images.prune_builds(all_builds=True)
    return int(tagged) + len(deleted) + len(pruned) + len(builds)


async def export(docker: aiodocker.Docker, name: str) -> bytes:
    async with docker.images.export_image(name) as content:
        data: bytes = await content.read()
    return data


async def load(docker: aiodocker.Docker, data: bytes) -> Any:
    return await docker.images.import_image(data)


async def pull_with_every_027_parameter(
    docker: aiodocker.Docker,
    auth: JSONObject | str | bytes | None,
    tag: str | None,
    repo: str | None,
    platform: str | None,
    timeout: float | Sentinel | None,
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = await docker.images.pull(
        "busybox", auth=auth, tag=tag, repo=repo, platform=platform, stream=False, timeout=timeout
    )
    async for item in docker.images.pull(
        "busybox", auth=auth, tag=tag, repo=repo, platform=platform, stream=True, timeout=timeout
    ):
        items.append(item)
    pushed: list[dict[str, Any]] = await docker.images.push(
        "busybox", auth=auth, tag=tag, stream=False, timeout=timeout
    )
    return items + pushed


async def build_with_every_027_parameter(
    docker: aiodocker.Docker,
    fileobj: SupportsRead[bytes] | None,
    buildargs: Mapping[str, str] | None,
    labels: Mapping[str, str] | None,
    timeout: float | aiohttp.ClientTimeout | Sentinel | None,
) -> list[dict[str, Any]]:
    return await docker.images.build(
        remote=None,
        fileobj=fileobj,
        path_dockerfile="Dockerfile",
        tag="corpus",
        quiet=False,
        nocache=True,
        buildargs=buildargs,
        pull=False,
        rm=True,
        forcerm=False,
        labels=labels,
        platform="linux/amd64",
        stream=False,
        encoding="gzip",
        timeout=timeout,
    )
