"""New code that wants the daemon's shapes typed: ``typing.cast`` to a model of
``aiodocker.models``, and the typed results of this client's own API.

Checked by ``mypy --strict`` (see compat_containers.py); nothing here runs. The
guide docs/guides/typed-results.md lists which model fits which call.
"""

from __future__ import annotations

from typing import cast

import aiodocker
from aiodocker.containers import DockerContainer
from aiodocker.models import (
    AuthResponse,
    ContainerInspectResponse,
    ContainerStatsResponse,
    ContainerTopResponse,
    ContainerUpdateResponse,
    ContainerWaitResponse,
    EventMessage,
    FilesystemChange,
    IDResponse,
    ImageDeleteResponseItem,
    ImageHistoryResponseItem,
    ImageInspect,
    ImageSummary,
    NetworkInspect,
    NetworkSummary,
    Node,
    Secret,
    Service,
    Swarm,
    SystemInfo,
    SystemVersion,
    Task,
    Volume,
    VolumeListResponse,
)
from aiodocker.models import Config as SwarmConfig


async def container_typed(container: DockerContainer) -> tuple[str, int, int]:
    info = cast(ContainerInspectResponse, await container.show())
    state = info.get("State") or {}
    status: str = state.get("Status") or "unknown"
    waited = cast(ContainerWaitResponse, await container.wait())
    code: int = waited.get("StatusCode", -1)
    stats = cast(list[ContainerStatsResponse], await container.stats(stream=False))
    pids: int = (stats[0].get("pids_stats") or {}).get("current") or 0
    top = cast(ContainerTopResponse, await container.top())
    assert top.get("Titles") is not None
    committed = cast(IDResponse, await container.commit(repository="typed"))
    assert committed.get("Id")
    return status, code, pids


async def container_new_api(container: DockerContainer) -> list[str]:
    healthy: ContainerInspectResponse = await container.wait_healthy(timeout=10)
    changes: list[FilesystemChange] = await container.changes()
    updated: ContainerUpdateResponse = await container.update(cpu_shares=512)
    return [healthy.get("Id") or "", *(c.get("Path") or "" for c in changes), *updated.get("Warnings", [])]


async def stats_stream_typed(container: DockerContainer) -> int:
    async for sample in container.stats():
        typed = cast(ContainerStatsResponse, sample)
        return (typed.get("memory_stats") or {}).get("usage") or 0
    return 0


async def images_typed(docker: aiodocker.Docker, name: str) -> list[str]:
    images = cast(list[ImageSummary], await docker.images.list())
    detail = cast(ImageInspect, await docker.images.inspect(name))
    layers = cast(list[ImageHistoryResponseItem], await docker.images.history(name))
    deleted = cast(list[ImageDeleteResponseItem], await docker.images.delete(name))
    return (
        [i.get("Id") or "" for i in images]
        + [detail.get("Architecture") or ""]
        + [layer.get("CreatedBy") or "" for layer in layers]
        + [d.get("Deleted") or d.get("Untagged") or "" for d in deleted]
    )


async def networks_volumes_typed(docker: aiodocker.Docker) -> list[str]:
    networks = cast(list[NetworkSummary], await docker.networks.list())
    network = await docker.networks.get(networks[0].get("Id") or "bridge")
    detail = cast(NetworkInspect, await network.show())
    volumes = cast(VolumeListResponse, await docker.volumes.list())
    volume = await docker.volumes.get("typed")
    shown = cast(Volume, await volume.show())
    return [
        detail.get("Driver") or "",
        *(v.get("Name") or "" for v in volumes.get("Volumes") or []),
        shown.get("Mountpoint") or "",
    ]


async def system_typed(docker: aiodocker.Docker) -> str:
    info = cast(SystemInfo, await docker.system.info())
    version: SystemVersion = await docker.system.version()  # new API: typed as it is
    login = cast(AuthResponse, await docker.auth(username="u", password="p"))
    cpus: int = info.get("NCPU") or 0
    return f"{cpus} {version.get('ApiVersion')} {login.get('Status')}"


async def swarm_typed(docker: aiodocker.Docker) -> list[str]:
    swarm = cast(Swarm, await docker.swarm.inspect())
    nodes = cast(list[Node], await docker.nodes.list())
    services = cast(list[Service], await docker.services.list())
    tasks = cast(list[Task], await docker.tasks.list())
    configs = cast(list[SwarmConfig], await docker.configs.list())
    secrets = cast(list[Secret], await docker.secrets.list())
    return [
        swarm.get("ID") or "",
        *(n.get("ID") or "" for n in nodes),
        *((s.get("Spec") or {}).get("Name") or "" for s in services),
        *(t.get("ID") or "" for t in tasks),
        *(c.get("ID") or "" for c in configs),
        *(s.get("ID") or "" for s in secrets),
    ]


async def events_typed(docker: aiodocker.Docker) -> str:
    subscriber = docker.events.subscribe()
    event = cast(EventMessage, await subscriber.get())
    return event.get("Action") or ""
