"""The config hashes Docker Compose v2 writes in ``com.docker.compose.config-hash``.

Private runtime module of :mod:`aiodocker.compose`: it imports only the stdlib.

Compose hashes the Go JSON encoding (``json.Marshal``: compact, struct fields in
declaration order, map keys sorted, ``<``, ``>`` and ``&`` escaped) of a service's
normalised configuration without the keys that do not change the container
(``build``, ``pull_policy``, ``scale``, ``depends_on``, ``profiles`` and
``deploy.replicas``). That encoding is the service's entry in
``docker compose config --format json``, so the hash is computed from the
normalised dict, re-ordered here as Go orders it: a dict built in another order
hashes the same.  Networks hash their normalised entry as it is; volumes hash
theirs with the driver defaulted to ``local``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, Final

# ServiceConfig's fields in compose-go's declaration order (as `config --format json` prints them).
SERVICE_KEYS: Final = (
    "profiles", "annotations", "attach", "build", "develop", "blkio_config", "cap_add",
    "cap_drop", "cgroup_parent", "cgroup", "cpu_count", "cpu_percent", "cpu_period",
    "cpu_quota", "cpu_rt_period", "cpu_rt_runtime", "cpus", "cpuset", "cpu_shares", "command",
    "configs", "container_name", "credential_spec", "depends_on", "deploy",
    "device_cgroup_rules", "devices", "dns", "dns_opt", "dns_search", "dockerfile",
    "domainname", "entrypoint", "provider", "environment", "env_file", "expose", "extends",
    "external_links", "extra_hosts", "group_add", "gpus", "hostname", "healthcheck", "image",
    "init", "ipc", "isolation", "labels", "label_file", "links", "logging", "log_driver",
    "log_opt", "mem_limit", "mem_reservation", "memswap_limit", "mem_swappiness",
    "mac_address", "net", "network_mode", "networks", "oom_kill_disable", "oom_score_adj",
    "pid", "pids_limit", "platform", "ports", "privileged", "pull_policy", "read_only",
    "restart", "runtime", "scale", "secrets", "security_opt", "shm_size", "stdin_open",
    "stop_grace_period", "stop_signal", "storage_opt", "sysctls", "tmpfs", "tty", "ulimits",
    "use_api_socket", "user", "userns_mode", "uts", "volume_driver", "volumes",
    "volumes_from", "working_dir", "post_start", "pre_stop",
)  # fmt: skip

# The nested structs, by their path below a service ("[]" stands for a list's items).
STRUCT_KEYS: Final[dict[str, tuple[str, ...]]] = {
    "ports[]": ("name", "mode", "host_ip", "target", "published", "protocol", "app_protocol"),
    "volumes[]": (
        "type", "source", "target", "read_only", "consistency", "bind", "volume", "tmpfs",
        "image",
    ),
    "volumes[].bind": ("selinux", "propagation", "create_host_path", "recursive"),
    "volumes[].volume": ("nocopy", "subpath"),
    "volumes[].tmpfs": ("size", "mode"),
    "healthcheck": (
        "test", "timeout", "interval", "retries", "start_period", "start_interval", "disable",
    ),
    "networks.*": (
        "aliases", "driver_opts", "gw_priority", "interface_name", "ipv4_address",
        "ipv6_address", "link_local_ips", "mac_address", "priority",
    ),
    "logging": ("driver", "options"),
    "secrets[]": ("source", "target", "uid", "gid", "mode"),
    "configs[]": ("source", "target", "uid", "gid", "mode"),
    "devices[]": ("source", "target", "permissions"),
    "ulimits.*": ("single", "soft", "hard"),
    "deploy": (
        "mode", "replicas", "labels", "update_config", "rollback_config", "resources",
        "restart_policy", "placement", "endpoint_mode",
    ),
    "deploy.resources": ("limits", "reservations"),
    "deploy.resources.limits": ("cpus", "memory", "pids", "devices", "generic_resources"),
    "deploy.resources.reservations": ("cpus", "memory", "pids", "devices", "generic_resources"),
    "deploy.restart_policy": ("condition", "delay", "max_attempts", "window"),
    "post_start[]": ("command", "user", "privileged", "working_dir", "environment"),
    "pre_stop[]": ("command", "user", "privileged", "working_dir", "environment"),
}  # fmt: skip

# Go maps below a service: encoded with sorted keys.
MAP_PATHS: Final = frozenset(
    {
        "annotations", "environment", "labels", "sysctls", "storage_opt", "networks",
        "ulimits", "depends_on", "logging.options", "deploy.labels",
        "networks.*.driver_opts", "post_start[].environment", "pre_stop[].environment",
    }
)  # fmt: skip

# Keys a service's hash leaves out (they do not change the container).
UNHASHED_KEYS: Final = ("build", "pull_policy", "scale", "depends_on", "profiles")

NETWORK_KEYS: Final = (
    "name", "driver", "driver_opts", "ipam", "external", "internal", "attachable", "labels",
    "enable_ipv4", "enable_ipv6",
)  # fmt: skip
VOLUME_KEYS: Final = ("name", "driver", "driver_opts", "external", "labels")


def go_json(value: Any) -> str:
    """Return ``value`` encoded as Go's ``json.Marshal`` encodes it (dict order kept)."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _ordered(keys: tuple[str, ...], value: Mapping[str, Any]) -> list[str]:
    """Return the keys of ``value`` in ``keys``' order; unknown keys follow, as given."""
    known = [key for key in keys if key in value]
    return known + [key for key in value if key not in keys]


def _arrange(value: Any, path: str) -> Any:
    """Return ``value`` (below a service, at ``path``) with its dicts in Go's key order."""
    if isinstance(value, list):
        return [_arrange(item, f"{path}[]") for item in value]
    if not isinstance(value, Mapping):
        return value
    if path in MAP_PATHS:
        keys = sorted(value)
        child = "{}.*"
    elif path in STRUCT_KEYS:
        keys = _ordered(STRUCT_KEYS[path], value)
        child = "{}.{}"
    else:
        keys = list(value)
        child = "{}.{}"
    return {
        key: _arrange(value[key], child.format(path, key) if path else key) for key in keys
    }


def arrange_service(service: Mapping[str, Any]) -> dict[str, Any]:
    """Return a normalised service dict with its keys in Go's order (for hashing, display)."""
    extensions = sorted(key for key in service if key.startswith("x-"))
    keys = _ordered(SERVICE_KEYS, {k: v for k, v in service.items() if not k.startswith("x-")})
    return {key: _arrange(service[key], key) for key in keys + extensions}


def _digest(value: Any) -> str:
    return hashlib.sha256(go_json(value).encode("utf-8")).hexdigest()


def service_hash(service: Mapping[str, Any]) -> str:
    """Return Compose's config hash of a normalised service (its ``config --format json`` entry).

    Raises:
        TypeError: ``service`` is not a mapping.
    """
    if not isinstance(service, Mapping):
        raise TypeError(f"a service must be a mapping, not {type(service).__name__}")
    trimmed = {key: value for key, value in service.items() if key not in UNHASHED_KEYS}
    trimmed.pop("name", None)  # the model may carry the service's name; Go leaves it out
    deploy = trimmed.get("deploy")
    if isinstance(deploy, Mapping) and "replicas" in deploy:
        trimmed["deploy"] = {key: value for key, value in deploy.items() if key != "replicas"}
    return _digest(arrange_service(trimmed))


def network_hash(network: Mapping[str, Any]) -> str:
    """Return Compose's config hash of a normalised network entry."""
    return _digest({key: network[key] for key in _ordered(NETWORK_KEYS, network)})


def volume_hash(volume: Mapping[str, Any]) -> str:
    """Return Compose's config hash of a normalised volume entry (driver defaults to local)."""
    filled = dict(volume)
    if not filled.get("driver"):
        filled["driver"] = "local"
    return _digest({key: filled[key] for key in _ordered(VOLUME_KEYS, filled)})
