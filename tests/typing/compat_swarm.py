"""0.27-style swarm, service, task, node, config and secret code with its annotations.

Checked by ``mypy --strict``; nothing here runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiodocker


async def swarm(docker: aiodocker.Docker) -> str:
    node_id: str = await docker.swarm.init(advertise_addr="127.0.0.1")
    state: Mapping[str, Any] = await docker.swarm.inspect()
    joined: bool = await docker.swarm.join(remote_addrs=["10.0.0.1"], join_token="x")
    left: bool = await docker.swarm.leave(force=True)
    return f"{node_id} {state['ID']} {joined} {left}"


async def services(docker: aiodocker.Docker) -> list[str]:
    created: Mapping[str, Any] = await docker.services.create(
        task_template={"ContainerSpec": {"Image": "busybox", "Env": {"A": "1"}}},
        name="corpus",
        networks=["net"],
    )
    listed: list[Mapping[str, Any]] = await docker.services.list(filters={"name": "corpus"})
    detail: Mapping[str, Any] = await docker.services.inspect(created["ID"])
    version = str(detail["Version"]["Index"])
    updated: bool = await docker.services.update(created["ID"], version, image="busybox:2")
    deleted: bool = await docker.services.delete(created["ID"])
    return [s["Spec"]["Name"] for s in listed] + [str(updated), str(deleted)]


async def first_service(docker: aiodocker.Docker) -> Mapping[str, Any]:
    services = await docker.services.list()
    return services[0]


async def tasks_and_nodes(docker: aiodocker.Docker) -> list[str]:
    tasks: list[Mapping[str, Any]] = await docker.tasks.list(filters={"service": "corpus"})
    task: Mapping[str, Any] = await docker.tasks.inspect(tasks[0]["ID"])
    nodes: list[Mapping[str, Any]] = await docker.nodes.list()
    node: Mapping[str, Any] = await docker.nodes.inspect(node_id=nodes[0]["ID"])
    spec = {"Role": "worker", "Availability": "active"}
    await docker.nodes.update(node_id=node["ID"], version=node["Version"]["Index"], spec=spec)
    return [task["ID"], node["ID"]]


async def configs_and_secrets(docker: aiodocker.Docker) -> list[str]:
    config: Mapping[str, Any] = await docker.configs.create("corpus", "data", labels={"a": "b"})
    configs: list[Mapping[str, Any]] = await docker.configs.list()
    detail: Mapping[str, Any] = await docker.configs.inspect(config["ID"])
    await docker.configs.update(config["ID"], str(detail["Version"]["Index"]), labels={})
    removed: bool = await docker.configs.delete(config["ID"])
    secret: Mapping[str, Any] = await docker.secrets.create("corpus", "s3cret")
    secrets: list[Mapping[str, Any]] = await docker.secrets.list(filters={"name": "corpus"})
    shown: Mapping[str, Any] = await docker.secrets.inspect(secret["ID"])
    await docker.secrets.delete(shown["ID"])
    return [c["ID"] for c in configs] + [s["ID"] for s in secrets] + [str(removed)]
