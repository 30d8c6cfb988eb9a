"""Swarm stacks: a compose project deployed to a swarm as ``docker stack deploy`` does.

The entry points are :func:`deploy_stack`, :func:`list_stacks`, and the
:class:`Stack` handle (``services``, ``ps``, ``rm``). A stack is what the docker CLI
calls one: the services, networks, secrets and configs that carry the label
``com.docker.stack.namespace=NAME``. So this module and the docker CLI manage each
other's stacks: ``docker stack ps NAME`` lists what :func:`deploy_stack` made, and
:meth:`Stack.rm` removes what ``docker stack deploy`` made.

The project given to :func:`deploy_stack` is a :class:`~aiodocker.compose.Project`
(from :func:`aiodocker.compose.load_project`) or its JSON form, which equals what
``docker compose config --format json`` prints.
"""

from __future__ import annotations

import builtins
import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..exceptions import DockerError
from ._model import Project
from ._stack_convert import LABEL_NAMESPACE, StackConvertError, StackPlan, convert
from ._stack_deploy import (
    DeployResult,
    ResolveImage,
    StackDeployError,
    apply,
    namespace_filter,
    wait_converged,
)

if TYPE_CHECKING:
    from ..docker import Docker

__all__ = [
    "LABEL_NAMESPACE",
    "DeployResult",
    "RemoveResult",
    "ResolveImage",
    "Stack",
    "StackConvertError",
    "StackDeployError",
    "StackSummary",
    "deploy_stack",
    "list_stacks",
    "plan_stack",
]


@dataclass(frozen=True)
class StackSummary:
    """One line of ``docker stack ls``."""

    name: str
    services: int


@dataclass
class RemoveResult:
    """What :meth:`Stack.rm` removed, by name."""

    services: builtins.list[str]
    secrets: builtins.list[str]
    configs: builtins.list[str]
    networks: builtins.list[str]

    @property
    def empty(self) -> bool:
        """True when the stack had nothing to remove."""
        return not (self.services or self.secrets or self.configs or self.networks)


def _project_dict(project: Any) -> Mapping[str, Any]:
    """The normalised JSON form of ``project``, its ``$$`` escapes turned back into ``$``.

    ``project`` is a :class:`~aiodocker.compose.Project` or its JSON form (what
    ``docker compose config --format json`` prints, where a literal ``$`` is ``$$``).
    A ``Project`` also brings the secrets and configs no service uses, which the JSON
    form has lost.
    """
    if isinstance(project, Mapping):
        result: dict[str, Any] = _unescape(project)
        return result
    if not isinstance(project, Project):
        raise TypeError(
            "project must be an aiodocker.compose.Project or its JSON form "
            f"(docker compose config --format json), not {type(project).__name__}"
        )
    result = _unescape(project.to_dict())
    # docker stack deploy creates the secrets and configs no service uses, too
    for key, unused in (("secrets", project.unused_secrets), ("configs", project.unused_configs)):
        if unused:
            result[key] = {**(result.get(key) or {}), **unused}
    return result


def _unescape(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("$$", "$")
    if isinstance(value, Mapping):
        return {key: _unescape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_unescape(item) for item in value]
    return value


def plan_stack(project: Any, name: str) -> StackPlan:
    """Translate ``project`` into the objects stack ``name`` is made of, without a daemon.

    Raises:
        StackConvertError: the project cannot run as a stack (no image, an undefined
            network, volume, secret or config, a bad value); the message names the key.
    """
    return convert(_project_dict(project), name)


async def deploy_stack(
    docker: Docker,
    project: Any,
    name: str,
    *,
    prune: bool = False,
    with_registry_auth: bool = False,
    resolve_image: ResolveImage = "always",
    detach: bool = True,
    progress: Callable[[str], None] | None = None,
    timeout: float | None = None,
) -> DeployResult:
    """Deploy ``project`` as stack ``name`` on the swarm ``docker`` manages (``docker stack deploy``).

    Creates what is missing, updates only the services whose spec changed, and
    leaves the others alone (their ``Version.Index`` does not move). A secret or
    config whose content changed is rotated: created anew as ``NAME_<hash>``, the
    services moved to it, the old one removed once no service uses it.

    Args:
        project: the normalised compose project (see the module docstring).
        prune: remove the stack's services that the project no longer has.
        with_registry_auth: send the registry credentials of the docker config
            (credential helpers included) to the swarm, so nodes can pull private images.
        resolve_image: ``always`` pins each image to the digest the registry gives now;
            ``changed`` only for images whose name changed; ``never`` not at all.
        detach: False waits until the created and updated services converged.
        progress: called with each line the docker CLI would print (warnings included).
        timeout: seconds to wait for convergence when ``detach`` is False (None: no limit).

    Raises:
        StackConvertError: the project cannot run as a stack (a ``ValueError``).
        StackDeployError: a missing external network or secret or config, or no
            convergence in ``timeout``.
        DockerError: the daemon refused a step (not a swarm manager, a bad spec).
    """
    plan = plan_stack(project, name)
    return await apply(
        docker,
        plan,
        prune=prune,
        with_registry_auth=with_registry_auth,
        resolve_image=resolve_image,
        detach=detach,
        progress=progress or (lambda line: None),
        timeout=timeout,
    )


async def list_stacks(docker: Docker) -> builtins.list[StackSummary]:
    """List the stacks on the swarm (``docker stack ls``), by name."""
    counts: dict[str, int] = {}
    for service in await docker.services.list(filters={"label": [LABEL_NAMESPACE]}):
        namespace = (service["Spec"].get("Labels") or {}).get(LABEL_NAMESPACE)
        if namespace is not None:
            counts[namespace] = counts.get(namespace, 0) + 1
    return [StackSummary(name, count) for name, count in sorted(counts.items())]


class Stack:
    """The objects of one stack on a swarm: ``Stack(docker, "web").ps()``."""

    def __init__(self, docker: Docker, name: str) -> None:
        if not name:
            raise ValueError("a stack needs a name")
        self.docker = docker
        self.name = name

    def __repr__(self) -> str:
        return f"<Stack {self.name!r}>"

    async def deploy(self, project: Any, **options: Any) -> DeployResult:
        """Deploy ``project`` as this stack; options as for :func:`deploy_stack`."""
        return await deploy_stack(self.docker, project, self.name, **options)

    async def services(
        self, *, filters: Mapping[str, Any] | None = None
    ) -> builtins.list[Mapping[str, Any]]:
        """The stack's services with their task counts (``docker stack services``).

        Args:
            filters: as for ``docker.services.list`` (``name``, ``id``, ``label``, ``mode``).
        """
        services = await self.docker.services.list(filters=self._scoped(filters), status=True)
        return sorted(services, key=lambda service: str(service["Spec"]["Name"]))

    async def ps(
        self, *, filters: Mapping[str, Any] | None = None
    ) -> builtins.list[Mapping[str, Any]]:
        """The stack's tasks (``docker stack ps``); ``filters`` as for ``docker.tasks.list``."""
        return await self.docker.tasks.list(filters=self._scoped(filters))

    def _scoped(self, filters: Mapping[str, Any] | None) -> dict[str, Any]:
        """``filters`` with the stack's namespace label added."""
        combined: dict[str, Any] = dict(filters or {})
        labels = combined.get("label") or []
        combined["label"] = [
            *([labels] if isinstance(labels, str) else labels),
            *namespace_filter(self.name)["label"],
        ]
        return combined

    async def wait_removed(self, *, timeout: float | None = None) -> None:
        """Wait until no task of the stack is left (``docker stack rm --detach=false``).

        Raises:
            StackDeployError: tasks were still there after ``timeout`` seconds.
        """
        import asyncio
        import time

        deadline = None if timeout is None else time.monotonic() + timeout
        while await self.ps():
            if deadline is not None and time.monotonic() > deadline:
                raise StackDeployError(
                    f"the tasks of stack {self.name} were not removed within {timeout:g} s", 504
                )
            await asyncio.sleep(0.5)

    async def rm(self) -> RemoveResult:
        """Remove the stack's services, secrets, configs and networks (``docker stack rm``).

        Objects that vanish meanwhile are skipped. The networks go once no task of
        the stack holds them any more.

        Raises:
            DockerError: the daemon refused a removal.
        """
        label = namespace_filter(self.name)
        services = await self.docker.services.list(filters=label)
        secrets = await self.docker.secrets.list(filters=label)
        configs = await self.docker.configs.list(filters=label)
        networks = await self.docker.networks.list(filters=label)
        result = RemoveResult([], [], [], [])
        for service in sorted(services, key=lambda item: str(item["Spec"]["Name"])):
            with contextlib.suppress(DockerError):
                await self.docker.services.delete(service["ID"])
                result.services.append(service["Spec"]["Name"])
        for secret in secrets:
            with contextlib.suppress(DockerError):
                await self.docker.secrets.delete(secret["ID"])
                result.secrets.append(secret["Spec"]["Name"])
        for config in configs:
            with contextlib.suppress(DockerError):
                await self.docker.configs.delete(config["ID"])
                result.configs.append(config["Spec"]["Name"])
        for network in networks:
            if await self._remove_network(network):
                result.networks.append(network["Name"])
        return result

    async def _remove_network(self, network: Mapping[str, Any]) -> bool:
        """Remove a network, retrying while the removed services' tasks still hold it.

        Returns False when it was gone already.
        """
        import asyncio

        for attempt in range(60):
            try:
                handle = await self.docker.networks.get(network["Id"])
                await handle.delete()
                return True
            except DockerError as exc:
                if exc.status == 404:
                    return False
                if attempt == 59:
                    raise
                await asyncio.sleep(0.5)
        return False

    async def wait(
        self, *, progress: Callable[[str], None] | None = None, timeout: float | None = None
    ) -> None:
        """Wait until every service of the stack converged (``--detach=false``)."""
        services = await self.services()
        await wait_converged(
            self.docker,
            [(service["Spec"]["Name"], service["ID"]) for service in services],
            progress or (lambda line: None),
            timeout,
        )
