"""The merged model made final: profiles, env files, default network, names, checks."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, cast

from ._dotenv import read_dotenv
from ._errors import ComposeError
from ._interpolate import mapping_lookup
from ._model import Project, Service
from ._units import parse_bytes


def _active(spec: dict[str, Any], profiles: list[str]) -> bool:
    wanted = spec.get("profiles") or []
    return not wanted or "*" in profiles or any(p in profiles for p in wanted)


def finish(
    model: dict[str, Any],
    *,
    name: str,
    working_dir: str,
    environment: dict[str, str],
    config_files: list[str],
    profiles: list[str],
    lookup: Callable[[str], str | None],
) -> Project:
    """Build the [Project][aiodocker.compose.Project] from the merged canonical model."""
    services_in: dict[str, Any] = model.get("services") or {}
    services: dict[str, dict[str, Any]] = {}
    disabled: dict[str, dict[str, Any]] = {}
    for key, spec in services_in.items():
        spec = dict(spec or {})
        _env_files(key, spec, environment)
        _label_files(key, spec)
        (services if _active(spec, profiles) else disabled)[key] = spec
    networks = dict(model.get("networks") or {})
    volumes = dict(model.get("volumes") or {})
    secrets = dict(model.get("secrets") or {})
    configs = dict(model.get("configs") or {})
    models = dict(model.get("models") or {})
    uses_default = False
    for spec in services.values():
        _implicit_dependencies(spec)
    for key, spec in services.items():
        _check_service(key, spec, services, disabled, networks, volumes, secrets, configs)
        if "network_mode" not in spec and not spec.get("networks") and "provider" not in spec:
            spec["networks"] = {"default": None}
        if "default" in (spec.get("networks") or {}):
            uses_default = True
        _build_and_deploy_defaults(spec)
    _check_cycles(services)
    _check_container_names(services)
    if uses_default:
        networks["default"] = dict(networks.get("default") or {})
    # as Compose does, only the resources the enabled services use are kept
    tables = _split_used(
        services, name, networks=networks, volumes=volumes, secrets=secrets, configs=configs
    )
    networks, volumes, secrets, configs = (tables[key][0] for key in tables)
    for spec in networks.values():
        spec.setdefault("ipam", {})
    extensions = {k: v for k, v in model.items() if k.startswith("x-")}
    project = Project(
        name=name,
        working_dir=working_dir,
        services=cast("dict[str, Service]", services),
        disabled_services=cast("dict[str, Service]", disabled),
        networks=networks,
        volumes=volumes,
        secrets=secrets,
        configs=configs,
        models=models,
        extensions=extensions,
        environment=environment,
        config_files=config_files,
        profiles=profiles,
    )
    project.unused_secrets = tables["secrets"][1]
    project.unused_configs = tables["configs"][1]
    return project


def _split_used(
    services: dict[str, dict[str, Any]], name: str, **tables: dict[str, Any]
) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """Each top-level table split into (what the enabled services use, the rest), named.

    Compose keeps only the used part; the stack deployer also creates the unused
    secrets and configs, as ``docker stack deploy`` does.
    """
    kinds = ("networks", "volumes", "secrets", "configs")
    used = dict(zip(kinds, _used_resources(services), strict=True))
    result: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    for kind, table in tables.items():
        parts: tuple[dict[str, Any], dict[str, Any]] = ({}, {})
        for key, spec in table.items():
            spec = dict(spec or {})
            if "name" not in spec:
                spec["name"] = key if spec.get("external") else f"{name}_{key}"
            parts[0 if key in used[kind] else 1][key] = spec
        result[kind] = parts
    return result


def _build_and_deploy_defaults(spec: dict[str, Any]) -> None:
    """Compose's defaults in a service's ``build`` and ``deploy`` (in place)."""
    build = spec.get("build")
    if isinstance(build, dict) and "dockerfile" not in build and "dockerfile_inline" not in build:
        build["dockerfile"] = "Dockerfile"
    if isinstance(build, dict) and isinstance(build.get("args"), dict):
        build["args"] = {k: v for k, v in build["args"].items() if v is not None}
        if not build["args"]:
            del build["args"]
    deploy = spec.get("deploy")
    if isinstance(deploy, dict):
        deploy.setdefault("placement", {})


def _used_resources(services: dict[str, dict[str, Any]]) -> tuple[set[Any], ...]:
    """The networks, volumes, secrets and configs that ``services`` use."""
    specs = services.values()
    used_networks = {n for spec in specs for n in (spec.get("networks") or {})}
    used_volumes = {
        m.get("source")
        for spec in specs
        for m in spec.get("volumes") or []
        if m.get("type") == "volume"
    }
    used_secrets = {r.get("source") for spec in specs for r in spec.get("secrets") or []}
    used_secrets |= {
        r.get("source") for spec in specs for r in (spec.get("build") or {}).get("secrets") or []
    }
    used_configs = {r.get("source") for spec in specs for r in spec.get("configs") or []}
    return used_networks, used_volumes, used_secrets, used_configs


def _implicit_dependencies(spec: dict[str, Any]) -> None:
    """``links``, ``volumes_from`` and ``network_mode: service:x`` depend on x, as in Compose."""
    names: list[str] = []
    for link in spec.get("links") or []:
        names.append(link.split(":", 1)[0])
    for source in spec.get("volumes_from") or []:
        if not source.startswith("container:"):
            names.append(source.split(":", 1)[0])
    mode = spec.get("network_mode") or ""
    if mode.startswith("service:"):
        names.append(mode[8:])
    if not names:
        return
    deps = dict(spec.get("depends_on") or {})
    for name in names:
        if name not in deps:
            deps[name] = {"condition": "service_started", "restart": True, "required": True}
    spec["depends_on"] = deps


def _env_files(key: str, spec: dict[str, Any], environment: dict[str, str]) -> None:
    entries = spec.pop("env_file", None)
    if not entries:
        return
    values: dict[str, Any] = {}
    lookup = mapping_lookup(environment)
    for entry in entries:
        path = entry["path"]
        if not os.path.exists(path):
            if entry.get("required", True):
                raise ComposeError(f"env file {path} not found", path=f"services.{key}.env_file")
            continue
        values.update(read_dotenv(path, lookup, raw=entry.get("format") == "raw"))
    values.update(spec.get("environment") or {})
    spec["environment"] = values


def _label_files(key: str, spec: dict[str, Any]) -> None:
    files = spec.pop("label_file", None)
    if not files:
        return
    labels: dict[str, Any] = {}
    for path in files:
        labels.update(read_dotenv(path, lambda _: None, interpolate=False))
    labels.update(spec.get("labels") or {})
    spec["labels"] = labels


def _check_service(
    key: str,
    spec: dict[str, Any],
    services: dict[str, Any],
    disabled: dict[str, Any],
    networks: dict[str, Any],
    volumes: dict[str, Any],
    secrets: dict[str, Any],
    configs: dict[str, Any],
) -> None:
    where = f"services.{key}"
    if not spec.get("image") and not spec.get("build") and not spec.get("provider"):
        raise ComposeError(f"service {key!r} has neither an image nor a build context specified", path=where)
    deps = spec.get("depends_on") or {}
    for dep in list(deps):
        if dep in services:
            continue
        if dep not in disabled:
            raise ComposeError(f"service {key!r} depends on undefined service {dep!r}", path=f"{where}.depends_on")
        if deps[dep].get("required", True):
            raise ComposeError(f"service {key!r} depends on service {dep!r} which is disabled by its profiles",
                               path=f"{where}.depends_on")
    if "network_mode" in spec and spec.get("networks"):
        raise ComposeError(f"service {key!r} declares mutually exclusive network_mode and networks", path=where)
    for net in spec.get("networks") or {}:
        if net != "default" and net not in networks:
            raise ComposeError(f"service {key!r} refers to undefined network {net}", path=f"{where}.networks")
    for index, mount in enumerate(spec.get("volumes") or []):
        if mount.get("type") == "volume" and mount.get("source") and mount["source"] not in volumes:
            raise ComposeError(f"service {key!r} refers to undefined volume {mount['source']}",
                               path=f"{where}.volumes[{index}]")
    for kind, table in (("secrets", secrets), ("configs", configs)):
        for index, ref in enumerate(spec.get(kind) or []):
            if ref.get("source") not in table:
                raise ComposeError(f"service {key!r} refers to undefined {kind[:-1]} {ref.get('source')}",
                                   path=f"{where}.{kind}[{index}]")
    _check_against_deploy(key, spec)
    mode = spec.get("network_mode") or ""
    if mode.startswith("service:") and mode[8:] not in services:
        raise ComposeError(f"service {key!r} uses the network stack of undefined service {mode[8:]!r}",
                           path=f"{where}.network_mode")


# service keys that deploy.resources duplicates: (key, section, field, how to compare)
_DEPLOY_TWINS: tuple[tuple[str, str, str, Callable[[Any], Any]], ...] = (
    ("mem_limit", "limits", "memory", parse_bytes),
    ("cpus", "limits", "cpus", float),
    ("pids_limit", "limits", "pids", int),
    ("mem_reservation", "reservations", "memory", parse_bytes),
)


def _check_against_deploy(key: str, spec: dict[str, Any]) -> None:
    """A value set both on the service and in ``deploy`` must agree, as Compose requires.

    Where ``deploy.resources.limits`` (or ``reservations``) is given, a field it leaves out
    counts as 0; ``scale`` fills a missing ``deploy.replicas``.
    """
    deploy = spec.get("deploy")
    if not isinstance(deploy, dict):
        return
    resources = deploy.get("resources") or {}
    for name, section, field, value_of in _DEPLOY_TWINS:
        own = spec.get(name)
        block = resources.get(section)
        if own is None or not isinstance(block, dict):
            continue
        theirs = block.get(field)
        if value_of(own) != (value_of(theirs) if theirs is not None else 0):
            raise ComposeError(
                f"can't set distinct values on '{name}' and 'deploy.resources.{section}.{field}'",
                path=f"services.{key}",
            )
    scale = spec.get("scale")
    if scale is not None:
        if deploy.get("replicas") is None:
            deploy["replicas"] = scale
        elif deploy["replicas"] != scale:
            raise ComposeError("can't set distinct values on 'scale' and 'deploy.replicas'", path=f"services.{key}")


def _check_container_names(services: dict[str, dict[str, Any]]) -> None:
    """A ``container_name`` is one container: unique, and not on a scaled service."""
    owners: dict[str, str] = {}
    for key in sorted(services):
        spec = services[key]
        name = spec.get("container_name")
        if not name:
            continue
        if name in owners:
            raise ComposeError(f"container name {name!r} is already in use by service {owners[name]!r}",
                               path=f"services.{key}.container_name")
        owners[name] = key
        replicas = (spec.get("deploy") or {}).get("replicas", spec.get("scale"))
        if replicas is not None and replicas > 1:
            raise ComposeError(f"can't set container_name and scale {key} to {replicas}: container names must be unique",
                               path=f"services.{key}.container_name")


def _check_cycles(services: dict[str, dict[str, Any]]) -> None:
    state: dict[str, int] = {}

    def visit(name: str, chain: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = chain[chain.index(name):] + [name]
            raise ComposeError(f"dependency cycle detected: {' -> '.join(cycle)}", path=f"services.{name}.depends_on")
        state[name] = 1
        for dep in (services[name].get("depends_on") or {}):
            if dep in services:
                visit(dep, [*chain, name])
        state[name] = 2

    for name in sorted(services):
        visit(name, [])
