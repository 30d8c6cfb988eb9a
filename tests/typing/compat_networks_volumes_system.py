"""0.27-style network, volume and system code with its annotations.

Checked by ``mypy --strict``; nothing here runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiodocker
from aiodocker.networks import DockerNetwork


async def networks(docker: aiodocker.Docker) -> list[str]:
    found: list[dict[str, Any]] = await docker.networks.list(filters={"driver": "bridge"})
    network: DockerNetwork = await docker.networks.create({"Name": "corpus"})
    detail: dict[str, Any] = await network.show()
    await network.connect({"Container": "abc"})
    await network.disconnect({"Container": "abc", "Force": True})
    gone: bool = await network.delete()
    again = await docker.networks.get("corpus")
    report: dict[str, Any] = await docker.networks.prune()
    return [n["Name"] for n in found] + [detail["Id"], again.id, str(gone), str(report)]


async def volumes(docker: aiodocker.Docker) -> list[str]:
    listing: dict[str, Any] = await docker.volumes.list(filters={"dangling": ["true"]})
    volume = await docker.volumes.create({"Name": "corpus"})
    detail: dict[str, Any] = await volume.show()
    await volume.delete()
    other = await docker.volumes.get("corpus")
    report: dict[str, Any] = await docker.volumes.prune()
    return [v["Name"] for v in listing["Volumes"]] + [detail["Mountpoint"], other.name, str(report)]


async def system(docker: aiodocker.Docker) -> str:
    info: Mapping[str, Any] = await docker.system.info()
    version: dict[str, Any] = await docker.version()
    login: dict[str, Any] = await docker.auth(username="u", password="p")
    return f"{info['ServerVersion']} {version['ApiVersion']} {login.get('Status')}"


async def info_as_dict(docker: aiodocker.Docker) -> dict[str, Any]:
    return dict(await docker.system.info())


async def raw_calls(docker: aiodocker.Docker) -> Any:
    async with docker._query("info") as response:
        body = await response.json()
    data = await docker._query_json("version")
    return body, data


async def session_reuse(docker: aiodocker.Docker) -> aiodocker.Docker:
    if docker.session.closed:
        docker = aiodocker.Docker()
    return docker


async def client_lifecycle() -> str:
    async with aiodocker.Docker(api_version="v1.41") as docker:
        host: str = docker.docker_host
        version: str = docker.api_version
    return host + version
