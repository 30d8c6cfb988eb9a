"""The loaded project: one model for ``config``, the runtime and the stack deployer."""

from __future__ import annotations

import json
from typing import Any, TypedDict


class Port(TypedDict, total=False):
    """A published port, long syntax."""

    name: str
    mode: str
    host_ip: str
    target: int
    published: str
    protocol: str
    app_protocol: str


class Mount(TypedDict, total=False):
    """A service volume, long syntax (``type`` is volume, bind, tmpfs, image, npipe or cluster)."""

    type: str
    source: str
    target: str
    read_only: bool
    consistency: str
    bind: dict[str, Any]
    volume: dict[str, Any]
    tmpfs: dict[str, Any]
    image: dict[str, Any]


class Dependency(TypedDict, total=False):
    """One ``depends_on`` entry."""

    condition: str
    restart: bool
    required: bool


class FileReference(TypedDict, total=False):
    """A service's use of a secret or config."""

    source: str
    target: str
    uid: str
    gid: str
    mode: str


class Service(TypedDict, total=False):
    """A service in normal form: every short syntax expanded, every path absolute.

    One key per key of the Compose Specification's service (``env_file``, ``label_file`` and
    ``extends`` are resolved while loading, so they are not here). ``x-*`` keys are kept as
    written (and left out of ``to_json()``, as Compose leaves them out).
    """

    annotations: dict[str, str]
    attach: bool
    blkio_config: dict[str, Any]
    build: dict[str, Any]
    cap_add: list[str]
    cap_drop: list[str]
    cgroup: str
    cgroup_parent: str
    command: list[str] | None
    configs: list[FileReference]
    container_name: str
    cpu_count: int
    cpu_percent: int
    cpu_period: int
    cpu_quota: int
    cpu_rt_period: int
    cpu_rt_runtime: int
    cpu_shares: int
    cpus: float
    cpuset: str
    credential_spec: dict[str, Any]
    depends_on: dict[str, Dependency]
    deploy: dict[str, Any]
    develop: dict[str, Any]
    device_cgroup_rules: list[str]
    devices: list[dict[str, str]]
    dns: list[str]
    dns_opt: list[str]
    dns_search: list[str]
    domainname: str
    entrypoint: list[str] | None
    environment: dict[str, str | None]
    expose: list[str]
    external_links: list[str]
    extra_hosts: list[str]
    gpus: list[dict[str, Any]]
    group_add: list[str]
    healthcheck: dict[str, Any]
    hostname: str
    image: str
    init: bool
    ipc: str
    isolation: str
    labels: dict[str, str]
    links: list[str]
    logging: dict[str, Any]
    mac_address: str
    mem_limit: str
    mem_reservation: str
    mem_swappiness: str
    memswap_limit: str
    models: dict[str, dict[str, Any] | None]
    network_mode: str
    networks: dict[str, dict[str, Any] | None]
    oom_kill_disable: bool
    oom_score_adj: int
    pid: str
    pids_limit: int
    platform: str
    ports: list[Port]
    post_start: list[dict[str, Any]]
    pre_stop: list[dict[str, Any]]
    privileged: bool
    profiles: list[str]
    provider: dict[str, Any]
    pull_policy: str
    read_only: bool
    restart: str
    runtime: str
    scale: int
    secrets: list[FileReference]
    security_opt: list[str]
    shm_size: str
    stdin_open: bool
    stop_grace_period: str
    stop_signal: str
    storage_opt: dict[str, str]
    sysctls: dict[str, str]
    tmpfs: list[str]
    tty: bool
    ulimits: dict[str, Any]
    use_api_socket: bool
    user: str
    userns_mode: str
    uts: str
    volumes: list[Mount]
    volumes_from: list[str]
    working_dir: str


def _escape(value: Any) -> Any:
    """Every ``$`` written as ``$$``, keys included, as ``docker compose config`` prints."""
    if isinstance(value, str):
        return value.replace("$", "$$") if "$" in value else value
    if isinstance(value, dict):
        return {_escape(k): _escape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_escape(v) for v in value]
    return value


def _escape_service(value: Any) -> Any:
    """:func:`_escape` that also drops ``x-*`` keys, which ``docker compose config`` does not print."""
    if isinstance(value, str):
        return value.replace("$", "$$") if "$" in value else value
    if isinstance(value, dict):
        return {
            (k.replace("$", "$$") if "$" in k else k): _escape_service(v)
            for k, v in value.items()
            if not k.startswith("x-")
        }
    if isinstance(value, list):
        return [_escape_service(v) for v in value]
    return value


_OMITTED_WHEN_EMPTY = frozenset({"ipam", "placement", "resources"})


def _without_empty_mappings(value: Any) -> Any:
    """The YAML form leaves out the empty blocks Compose omits (``ipam: {}``, ``placement: {}``)."""
    if isinstance(value, dict):
        return {
            k: _without_empty_mappings(v)
            for k, v in value.items()
            if not (v == {} and k in _OMITTED_WHEN_EMPTY)
        }
    if isinstance(value, list):
        return [_without_empty_mappings(v) for v in value]
    return value


class Project:
    """A compose project, loaded, merged, validated and normalised.

    Attributes:
        name: the project name.
        working_dir: the project directory (absolute).
        services: the enabled services by name (see [Service][aiodocker.compose.Service]).
        disabled_services: services left out by their profiles.
        networks: top-level networks by key, each with its final ``name``.
        volumes: top-level volumes by key.
        secrets: top-level secrets by key.
        configs: top-level configs by key.
        models: top-level models by key.
        extensions: the top-level ``x-*`` keys.
        environment: the variables interpolation saw (process environment over the env files).
        config_files: the compose files read, in order.
        profiles: the enabled profiles.
        warnings: what Compose would warn about while loading (unset variables).
        unused_secrets: the top-level secrets no enabled service uses (left out of
            ``secrets`` and of ``to_dict()``, as Compose leaves them out; a stack
            deploy creates them, as ``docker stack deploy`` does).
        unused_configs: the same for configs.
        environment_files: the env files given explicitly (``--env-file`` or
            ``COMPOSE_ENV_FILES``), absolute; empty when only the default ``.env`` was
            read. Compose writes them into the ``project.environment_file`` label.
    """

    def __init__(
        self,
        *,
        name: str,
        working_dir: str,
        services: dict[str, Service],
        disabled_services: dict[str, Service],
        networks: dict[str, dict[str, Any]],
        volumes: dict[str, dict[str, Any]],
        secrets: dict[str, dict[str, Any]],
        configs: dict[str, dict[str, Any]],
        models: dict[str, dict[str, Any]],
        extensions: dict[str, Any],
        environment: dict[str, str],
        config_files: list[str],
        profiles: list[str],
    ) -> None:
        self.name = name
        self.working_dir = working_dir
        self.services = services
        self.disabled_services = disabled_services
        self.networks = networks
        self.volumes = volumes
        self.secrets = secrets
        self.configs = configs
        self.models = models
        self.extensions = extensions
        self.environment = environment
        self.config_files = config_files
        self.profiles = profiles
        self.warnings: list[str] = []
        self.unused_secrets: dict[str, dict[str, Any]] = {}
        self.unused_configs: dict[str, dict[str, Any]] = {}
        self.environment_files: list[str] = []

    def __repr__(self) -> str:
        return f"<Project {self.name!r} services={sorted(self.services)}>"

    def to_dict(self, *, json_form: bool = True) -> dict[str, Any]:
        """The project as ``docker compose config`` shows it (``$`` escaped as ``$$``).

        Args:
            json_form: add ``command`` and ``entrypoint`` as null where unset, as the JSON
                form does (the YAML form leaves them out).
        """
        out: dict[str, Any] = {"name": self.name}
        services: dict[str, Any] = {}
        for key in sorted(self.services):
            service = {  # empty settings are left out, as Compose leaves them out
                k: v
                for k, v in self.services[key].items()
                if v not in ({}, [], "") or k in ("command", "entrypoint")
            }
            if json_form:
                service.setdefault("command", None)
                service.setdefault("entrypoint", None)
            services[key] = _escape_service(dict(sorted(service.items())))
        out["services"] = services
        for key, table in (
            ("networks", self.networks),
            ("volumes", self.volumes),
            ("secrets", self.secrets),
            ("configs", self.configs),
        ):  # Compose 2.40.3's config does not print the top-level models
            if table:
                out[key] = dict(sorted(table.items()))
                out[key] = _escape(out[key])
        for key in sorted(self.extensions):
            out[key] = _escape(self.extensions[key])
        out["name"] = _escape(self.name)
        return out

    def to_json(self) -> str:
        """The JSON text ``docker compose config --format json`` prints for this project.

        orjson writes it when installed (the ``orjson`` extra); the text is the same JSON.
        """
        data = self.to_dict()
        try:
            import orjson
        except ImportError:
            return json.dumps(data, indent=2, ensure_ascii=False)
        text: str = orjson.dumps(data, option=orjson.OPT_INDENT_2).decode()
        return text

    def to_yaml(self) -> str:
        """The YAML text ``docker compose config`` prints for this project."""
        from ._yaml import dump

        return dump(_without_empty_mappings(self.to_dict(json_form=False)))

    def service_names(self) -> list[str]:
        """The enabled services' names, dependencies first (then by name)."""
        order: list[str] = []
        done: set[str] = set()

        def visit(name: str) -> None:
            if name in done:
                return
            done.add(name)
            for dep in sorted(self.services[name].get("depends_on", {})):
                if dep in self.services:
                    visit(dep)
            order.append(name)

        for name in sorted(self.services):
            visit(name)
        return order

    def images(self) -> list[str]:
        """Each enabled service's image (the one Compose would build when only ``build`` is set)."""
        return [
            self.services[name].get("image") or f"{self.name}-{name}"
            for name in sorted(self.services)
        ]
