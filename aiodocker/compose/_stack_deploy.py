"""Apply a :class:`~aiodocker.compose._stack_convert.StackPlan` to a swarm, converging.

Layer: inside the ``compose`` subpackage; talks to the daemon through the public
resources of a :class:`~aiodocker.docker.Docker` (services, networks, secrets,
configs, tasks, images) only.

The order is the docker CLI's: prune, networks, secrets, configs, services. Unlike
the CLI, which sends an update for every existing service (so every service's
version moves on each deploy), a service whose spec did not change is left alone:
the spec to send is compared with the stored one after both are put in the shape
the daemon stores (its defaults filled in, network names as ids). A secret or config
whose content changed is rotated (:func:`rotated_name`), where the CLI gives up.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import hashlib
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Literal

from ..exceptions import DockerError
from ._stack_convert import LABEL_IMAGE, LABEL_NAMESPACE, FileObject, StackPlan

if TYPE_CHECKING:
    from ..docker import Docker

ResolveImage = Literal["always", "changed", "never"]
Progress = Callable[[str], None]

SECOND: Final = 1_000_000_000
# What the daemon stores for the fields a stack deploy leaves out (observed on Docker
# 20.10 and 26.1): filled into the spec to send before it is compared with the stored one.
_UPDATE_DEFAULTS: Final = {
    "Parallelism": 1,
    "FailureAction": "pause",
    "Monitor": 5 * SECOND,
    "MaxFailureRatio": 0,
    "Order": "stop-first",
}
_RESTART_DEFAULTS: Final = {"Condition": "any", "Delay": 5 * SECOND, "MaxAttempts": 0}


class StackDeployError(DockerError):
    """A stack deploy step failed; the message names the object and the step."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(status, message)


@dataclass
class DeployResult:
    """What a deploy did, by object name."""

    created: list[str] = field(default_factory=list)  # services
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # pruned services
    networks_created: list[str] = field(default_factory=list)
    secrets_created: list[str] = field(default_factory=list)
    configs_created: list[str] = field(default_factory=list)
    secrets_removed: list[str] = field(default_factory=list)  # rotated out, no longer used
    configs_removed: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def namespace_filter(namespace: str) -> dict[str, list[str]]:
    return {"label": [f"{LABEL_NAMESPACE}={namespace}"]}


@dataclass(frozen=True)
class _ServiceOptions:
    with_registry_auth: bool
    resolve_image: ResolveImage


async def apply(
    docker: Docker,
    plan: StackPlan,
    *,
    prune: bool,
    with_registry_auth: bool,
    resolve_image: ResolveImage,
    detach: bool,
    progress: Progress,
    timeout: float | None,
) -> DeployResult:
    """Create or update everything in ``plan``; see :func:`aiodocker.compose.stack.deploy_stack`."""
    if resolve_image not in ("always", "changed", "never"):
        raise ValueError(f"resolve_image must be always, changed or never, not {resolve_image!r}")
    options = _ServiceOptions(with_registry_auth, resolve_image)
    result = DeployResult(warnings=list(plan.warnings))
    for warning in plan.warnings:
        progress(warning)
    existing = {
        service["Spec"]["Name"]: service
        for service in await docker.services.list(filters=namespace_filter(plan.namespace))
    }
    if prune:
        for name in sorted(set(existing) - set(plan.services)):
            progress(f"Removing service {name}")
            await docker.services.delete(existing.pop(name)["ID"])
            result.removed.append(name)
    network_ids = await _networks(docker, plan, result, progress)
    secrets = await _file_objects(docker, "secret", plan, result.secrets_created, progress)
    configs = await _file_objects(docker, "config", plan, result.configs_created, progress)
    changed_ids: list[tuple[str, str]] = []
    for name in sorted(plan.services):
        spec = _resolved_spec(plan.services[name], network_ids, secrets.chosen, configs.chosen)
        service_id = await _deploy_service(
            docker, spec, existing.get(name), options, result, progress
        )
        if service_id is not None:
            changed_ids.append((name, service_id))
    if secrets.stale or configs.stale:
        await _remove_unused(docker, secrets, configs, result, progress)
    if not detach and changed_ids:
        await wait_converged(docker, changed_ids, progress, timeout)
    return result


async def _deploy_service(
    docker: Docker,
    spec: dict[str, Any],
    current: Mapping[str, Any] | None,
    options: _ServiceOptions,
    result: DeployResult,
    progress: Progress,
) -> str | None:
    """Create the service or update it if its spec changed; return its id, None if unchanged."""
    name = str(spec["Name"])
    auth = options.with_registry_auth
    if current is None:
        if options.resolve_image != "never":
            await _pin_image(docker, spec, auth, result, progress)
        progress(f"Creating service {name}")
        answer = await docker.services.create(spec=spec, with_registry_auth=auth)
        result.warnings.extend(answer.get("Warnings") or [])
        result.created.append(name)
        return str(answer["ID"])
    stored = current["Spec"]
    image = spec["TaskTemplate"]["ContainerSpec"]["Image"]
    if options.resolve_image == "always":
        await _pin_image(docker, spec, auth, result, progress)
    elif image == stored.get("Labels", {}).get(LABEL_IMAGE):
        # as the CLI: keep what the earlier deploy pinned (digest, platforms)
        spec["TaskTemplate"]["ContainerSpec"]["Image"] = stored["TaskTemplate"][
            "ContainerSpec"
        ].get("Image", "")
        platforms = (stored["TaskTemplate"].get("Placement") or {}).get("Platforms")
        if platforms:
            spec["TaskTemplate"]["Placement"]["Platforms"] = platforms
    elif options.resolve_image == "changed":
        await _pin_image(docker, spec, auth, result, progress)
    spec["TaskTemplate"]["ForceUpdate"] = stored["TaskTemplate"].get("ForceUpdate", 0)
    if comparable(spec) == comparable(stored):
        result.unchanged.append(name)
        return None
    progress(f"Updating service {name} (id: {current['ID']})")
    await docker.services.update(
        current["ID"], current["Version"]["Index"], spec=spec, with_registry_auth=auth
    )
    result.updated.append(name)
    return str(current["ID"])


async def _networks(
    docker: Docker, plan: StackPlan, result: DeployResult, progress: Progress
) -> dict[str, str]:
    """Create the stack's missing networks; return network name -> id for all it uses."""
    ids: dict[str, str] = {}
    for network in await docker.networks.list(filters=namespace_filter(plan.namespace)):
        ids[str(network["Name"])] = str(network["Id"])
    for name in sorted(plan.networks):
        if name in ids:
            continue
        progress(f"Creating network {name}")
        body = {"Name": name, **plan.networks[name]}
        try:
            created = await docker.networks.create(body)
        except DockerError as exc:
            raise StackDeployError(
                f"failed to create network {name}: {exc.message}", exc.status
            ) from exc
        ids[name] = created.id
        result.networks_created.append(name)
    for name in plan.external_networks:
        found = [
            network
            for network in await docker.networks.list(filters={"name": [name]})
            if network["Name"] == name or network["Id"] == name
        ]
        if not found or found[0].get("Scope") != "swarm":
            raise StackDeployError(
                f"network {name!r} is declared as external, but could not be found. "
                "You need to create a swarm-scoped network before the stack is deployed",
                404,
            )
        ids[name] = str(found[0]["Id"])
    return ids


# Swarm's longest secret or config name (swarmkit's name validation).
_NAME_MAX: Final = 64
_DIGEST_LENGTH: Final = 10


def content_digest(obj: FileObject) -> str:
    """A short hash of what a secret or config holds: its data, driver and templating."""
    digest = hashlib.sha256(obj.data)
    digest.update(json.dumps([obj.driver, obj.templating], sort_keys=True).encode())
    return digest.hexdigest()[:_DIGEST_LENGTH]


def rotated_name(obj: FileObject) -> str:
    """The name a changed secret or config is created under: ``NAME_<content hash>``."""
    return f"{obj.name[: _NAME_MAX - _DIGEST_LENGTH - 1]}_{content_digest(obj)}"


def _generation_pattern(name: str) -> re.Pattern[str]:
    """Matches ``name`` and the rotated names made from it."""
    prefix = re.escape(name[: _NAME_MAX - _DIGEST_LENGTH - 1])
    return re.compile(rf"(?:{re.escape(name)}|{prefix}_[0-9a-f]{{{_DIGEST_LENGTH}}})")


@dataclass
class _FileObjects:
    """The secrets or configs a deploy settled on, and the stack's older generations."""

    kind: str
    chosen: dict[str, tuple[str, str]]  # name in the plan -> (name on the swarm, id)
    stale: list[Mapping[str, Any]]


async def _file_objects(
    docker: Docker, kind: str, plan: StackPlan, created: list[str], progress: Progress
) -> _FileObjects:
    """Create, update or rotate the stack's secrets (or configs); resolve the external ones.

    An object whose content is unchanged is kept (updated in place, as the CLI does, when
    only that can tell); a changed one is created anew as :func:`rotated_name`; the
    object it replaces is listed as stale, to be removed once no service uses it.
    """
    store: Any = docker.secrets if kind == "secret" else docker.configs
    objects = plan.secrets if kind == "secret" else plan.configs
    in_stack = {
        str(item["Spec"]["Name"]): item
        for item in await store.list(filters=namespace_filter(plan.namespace))
    }
    chosen: dict[str, tuple[str, str]] = {}
    for obj in objects:
        chosen[obj.name] = await _converge_object(store, kind, obj, in_stack, created, progress)
    field_name = "Secrets" if kind == "secret" else "Configs"
    name_key = "SecretName" if kind == "secret" else "ConfigName"
    external = {
        str(ref[name_key])
        for spec in plan.services.values()
        for ref in spec["TaskTemplate"]["ContainerSpec"].get(field_name) or []
    } - set(chosen)
    for name, item_id in (await _ids_by_name(store, kind, external)).items():
        chosen[name] = (name, item_id)
    kept = {item_id for _, item_id in chosen.values()}
    patterns = [_generation_pattern(obj.name) for obj in objects]
    stale = [
        item
        for name, item in sorted(in_stack.items())
        if item["ID"] not in kept and any(pattern.fullmatch(name) for pattern in patterns)
    ]
    return _FileObjects(kind, chosen, stale)


async def _converge_object(
    store: Any,
    kind: str,
    obj: FileObject,
    in_stack: Mapping[str, Mapping[str, Any]],
    created: list[str],
    progress: Progress,
) -> tuple[str, str]:
    """Settle one secret or config; return the (name, id) the services are to use."""
    rotated = rotated_name(obj)
    current = in_stack.get(rotated)
    if current is not None:  # this content was rotated in before: its name says so
        await _update_in_place(store, kind, current, obj, same_content=True)
        return rotated, str(current["ID"])
    current = in_stack.get(obj.name)
    if current is None:
        found = await store.list(filters={"name": [obj.name]})
        current = next((item for item in found if item["Spec"]["Name"] == obj.name), None)
    if current is not None and await _update_in_place(store, kind, current, obj):
        return obj.name, str(current["ID"])
    name = obj.name if current is None else rotated
    if current is None:
        progress(f"Creating {kind} {name}")
    else:
        progress(f"Creating {kind} {name} (the content of {obj.name} changed)")
    extra: dict[str, Any] = {"templating": obj.templating}
    if kind == "secret":
        extra["driver"] = obj.driver
    answer = await store.create(name, obj.data, labels=obj.labels, **extra)
    created.append(name)
    return name, str(answer["ID"])


async def _update_in_place(
    store: Any,
    kind: str,
    current: Mapping[str, Any],
    obj: FileObject,
    *,
    same_content: bool = False,
) -> bool:
    """Update ``current`` to ``obj``'s labels; False when its content differs.

    An object known to hold ``obj``'s content (a rotated one: its name is its hash)
    or a config showing equal data is left alone when its labels are equal. A secret
    under its plain name does not show its data: it is updated as the CLI updates it,
    and Swarm refuses the update if the content changed (its version moves either
    way, the services' do not).
    """
    spec = current["Spec"]
    if (spec.get("Labels") or {}) == obj.labels:
        if same_content:
            return True
        if kind == "config" and (spec.get("Templating") or None) == obj.templating:
            if base64.b64decode(spec.get("Data") or "") == obj.data:
                return True
    extra: dict[str, Any] = {"templating": obj.templating}
    if kind == "secret":
        extra["driver"] = obj.driver
    try:
        await store.update(
            current["ID"], current["Version"]["Index"], data=obj.data, labels=obj.labels, **extra
        )
    except DockerError as exc:
        if exc.status == 400 and "only updates to Labels" in exc.message:
            return False
        raise
    return True


async def _ids_by_name(store: Any, kind: str, names: set[str]) -> dict[str, str]:
    """The ids of the secrets or configs the services use that the stack does not define."""
    if not names:
        return {}
    ids = {
        str(item["Spec"]["Name"]): str(item["ID"])
        for item in await store.list(filters={"name": sorted(names)})
    }
    missing = sorted(names - set(ids))
    if missing:
        raise StackDeployError(f"{kind} not found: {', '.join(missing)}", 404)
    return ids


async def _remove_unused(
    docker: Docker,
    secrets: _FileObjects,
    configs: _FileObjects,
    result: DeployResult,
    progress: Progress,
) -> None:
    """Remove the rotated-out secrets and configs that no service on the swarm uses."""
    in_use: set[str] = set()
    for service in await docker.services.list():
        container = service["Spec"]["TaskTemplate"].get("ContainerSpec") or {}
        in_use.update(str(ref.get("SecretID")) for ref in container.get("Secrets") or [])
        in_use.update(str(ref.get("ConfigID")) for ref in container.get("Configs") or [])
    for objects, store, removed in (
        (secrets, docker.secrets, result.secrets_removed),
        (configs, docker.configs, result.configs_removed),
    ):
        for item in objects.stale:
            if item["ID"] in in_use:
                continue
            name = str(item["Spec"]["Name"])
            progress(f"Removing {objects.kind} {name}")
            try:
                await store.delete(item["ID"])
            except DockerError as exc:
                if exc.status != 404:  # gone meanwhile
                    raise
                continue
            removed.append(name)


def _resolved_spec(
    spec: Mapping[str, Any],
    network_ids: Mapping[str, str],
    secrets: Mapping[str, tuple[str, str]],
    configs: Mapping[str, tuple[str, str]],
) -> dict[str, Any]:
    """A copy of ``spec`` with network targets as ids and secret/config names and ids settled."""
    resolved = copy.deepcopy(dict(spec))
    template = resolved["TaskTemplate"]
    for network in template.get("Networks") or []:
        target = network["Target"]
        if target not in network_ids:
            raise StackDeployError(f"network {target} not found", 404)
        network["Target"] = network_ids[target]
    container = template["ContainerSpec"]
    for ref in container.get("Secrets") or []:
        ref["SecretName"], ref["SecretID"] = secrets[ref["SecretName"]]
    for ref in container.get("Configs") or []:
        ref["ConfigName"], ref["ConfigID"] = configs[ref["ConfigName"]]
    return resolved


async def _pin_image(
    docker: Docker,
    spec: dict[str, Any],
    with_registry_auth: bool,
    result: DeployResult,
    progress: Progress,
) -> None:
    """Pin the image to its registry digest and platforms, as the docker client does."""
    template = spec["TaskTemplate"]
    image = str(template["ContainerSpec"]["Image"])
    if "@" in image:
        return
    try:
        found = await docker.images.inspect_distribution(image)
    except (DockerError, ValueError):
        warning = (
            f"image {image} could not be accessed on a registry to record\n"
            f"its digest. Each node will access {image} independently,\n"
            "possibly leading to different nodes running different\n"
            "versions of the image.\n"
        )
        result.warnings.append(warning)
        progress(warning)
        return
    digest = (found.get("Descriptor") or {}).get("Digest")
    if digest:
        template["ContainerSpec"]["Image"] = f"{image}@{digest}"
    platforms = [
        {
            "Architecture": ""
            if str(item.get("architecture", "")).lower() == "arm"
            else item.get("architecture", ""),
            "OS": item.get("os", ""),
        }
        for item in found.get("Platforms") or []
    ]
    if platforms:
        template.setdefault("Placement", {})["Platforms"] = platforms


def comparable(spec: Mapping[str, Any]) -> Any:
    """``spec`` as the daemon stores it, with empty values dropped: equal means no update."""
    filled = copy.deepcopy(dict(spec))
    for key in ("UpdateConfig", "RollbackConfig"):
        filled[key] = {**_UPDATE_DEFAULTS, **(filled.get(key) or {})}
    filled.setdefault("EndpointSpec", {}).setdefault("Mode", "vip")
    mode = filled.get("Mode") or {"Replicated": {}}
    if "Replicated" in mode:
        mode["Replicated"] = {"Replicas": 1, **(mode["Replicated"] or {})}
    filled["Mode"] = mode
    template = filled.setdefault("TaskTemplate", {})
    template.setdefault("Runtime", "container")
    template["RestartPolicy"] = {**_RESTART_DEFAULTS, **(template.get("RestartPolicy") or {})}
    container = template.setdefault("ContainerSpec", {})
    container.setdefault("Isolation", "default")
    container.setdefault("StopGracePeriod", 10 * SECOND)
    return _drop_empty(filled)


def _drop_empty(value: Any) -> Any:
    if isinstance(value, Mapping):
        items = {key: _drop_empty(item) for key, item in value.items()}
        return {
            key: item for key, item in items.items() if item not in (None, {}, [], "", 0, False)
        }
    if isinstance(value, list):
        return [_drop_empty(item) for item in value]
    return value


async def wait_converged(
    docker: Docker,
    services: list[tuple[str, str]],
    progress: Progress,
    timeout: float | None,
) -> None:
    """Wait until every service's tasks reached their goal (running, or complete for jobs).

    Raises:
        StackDeployError: ``timeout`` seconds passed first, or a job's task failed.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    pending = dict(services)
    shown: dict[str, str] = {}
    while pending:
        for name, service_id in list(pending.items()):
            line, done = await _convergence(docker, service_id)
            if shown.get(name) != line:
                progress(f"{name}: {line}")
                shown[name] = line
            if done:
                del pending[name]
        if not pending:
            break
        if deadline is not None and time.monotonic() > deadline:
            raise StackDeployError(
                f"services did not converge within {timeout:g} s: {', '.join(sorted(pending))}", 504
            )
        await asyncio.sleep(0.5)


async def _convergence(docker: Docker, service_id: str) -> tuple[str, bool]:
    service = await docker.services.inspect(service_id)
    spec = service["Spec"]
    mode = spec.get("Mode") or {}
    state = (service.get("UpdateStatus") or {}).get("State")
    if state in ("paused", "rollback_paused", "rollback_completed"):
        raise StackDeployError(f"update of service {spec['Name']} ended {state}", 500)
    tasks = await docker.tasks.list(filters={"service": [service_id]})
    version = service["Version"]["Index"]
    current = [
        task
        for task in tasks
        if task.get("DesiredState") != "shutdown" and task.get("Spec") is not None
    ]
    if "ReplicatedJob" in mode or "GlobalJob" in mode:
        complete = sum(1 for task in current if task["Status"]["State"] == "complete")
        failed = [task for task in current if task["Status"]["State"] in ("failed", "rejected")]
        if failed:
            message = failed[0]["Status"].get("Err") or failed[0]["Status"]["State"]
            raise StackDeployError(f"job {spec['Name']} failed: {message}", 500)
        total = (
            (mode.get("ReplicatedJob") or {}).get("TotalCompletions", 1)
            if "ReplicatedJob" in mode
            else len(current)
        )
        return f"{complete}/{total} complete", complete >= total and bool(current or total == 0)
    running = sum(1 for task in current if task["Status"]["State"] == "running")
    if "Global" in mode:
        nodes = {task.get("NodeID") for task in current}
        want = len(nodes)
        ok = want > 0 and running == want
    else:
        want = int((mode.get("Replicated") or {}).get("Replicas", 1))
        ok = running == want and len(current) == want
    updating = state == "updating"
    _ = version
    return f"{running}/{want} running" + (" (updating)" if updating else ""), ok and not updating
