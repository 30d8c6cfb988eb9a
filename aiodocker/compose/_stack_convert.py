"""The compose project -> Swarm objects translation of ``docker stack deploy`` (no I/O to a daemon).

Layer: inside the ``compose`` subpackage; imports only the stdlib and the package's
leaves. The input is the normalised project dict (the shape of
``docker compose config --format json``); the output is a :class:`StackPlan`: the
network, secret, config and service specs the docker CLI would send for the same
file, with names still unresolved (networks, secrets and configs by name; the
deployer swaps them for ids).

The rules follow the docker CLI (``cli/compose/convert``) as observed by running
``docker stack deploy`` 20.10 and 26.1 on the same files: names are scoped
``NAMESPACE_KEY`` unless the file sets ``name:``; every object carries the
``com.docker.stack.namespace`` label; the service spec also carries
``com.docker.stack.image``; keys Swarm cannot do are reported as the CLI reports them
and skipped.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Final

LABEL_NAMESPACE: Final = "com.docker.stack.namespace"
LABEL_IMAGE: Final = "com.docker.stack.image"
DEFAULT_NETWORK: Final = "default"

# What ``docker stack deploy`` ignores with "Ignoring unsupported options: ..." (same
# list and order in the 20.10 and 26.1 CLIs).
UNSUPPORTED_KEYS: Final = (
    "build",
    "cgroupns_mode",
    "cgroup_parent",
    "devices",
    "domainname",
    "external_links",
    "ipc",
    "links",
    "mac_address",
    "network_mode",
    "pid",
    "privileged",
    "restart",
    "security_opt",
    "shm_size",
    "userns_mode",
)
# What it ignores with "Ignoring deprecated options:", and the reason it prints.
DEPRECATED_KEYS: Final = {
    "container_name": "Setting the container name is not supported.",
    "expose": "Exposing ports is unnecessary - services on the same network can access "
    "each other's containers on any port.",
}
# Keys of the Compose Specification that the CLI's own (v3) schema refuses and that
# Swarm has no field for; the CLI cannot read a file with them, this package skips
# them with the same "unsupported" warning.
SPEC_ONLY_KEYS: Final = (
    "blkio_config",
    "cpu_count",
    "cpu_percent",
    "cpu_period",
    "cpu_quota",
    "cpu_rt_period",
    "cpu_rt_runtime",
    "cpu_shares",
    "cpus",
    "cpuset",
    "device_cgroup_rules",
    "develop",
    "gpus",
    "group_add",
    "mem_limit",
    "mem_reservation",
    "mem_swappiness",
    "memswap_limit",
    "oom_kill_disable",
    "oom_score_adj",
    "pids_limit",
    "platform",
    "post_start",
    "pre_stop",
    "provider",
    "pull_policy",
    "runtime",
    "scale",
    "storage_opt",
    "uts",
    "volumes_from",
    "models",
)

_DURATION_PART: Final = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_DURATION_UNITS: Final = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "μs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_NOT_USER_DEFINED: Final = frozenset({"default", "bridge", "host", "none"})


class StackConvertError(ValueError):
    """The project cannot be deployed as a stack (the message names the key)."""


@dataclass
class FileObject:
    """A secret or config to create: its Swarm spec (``Data`` as bytes)."""

    key: str  # the key under top-level ``secrets:``/``configs:``
    name: str
    labels: dict[str, str]
    data: bytes
    driver: dict[str, Any] | None = None
    templating: dict[str, Any] | None = None


@dataclass
class StackPlan:
    """Everything ``docker stack deploy`` would create for one project."""

    namespace: str
    networks: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> create body
    external_networks: list[str] = field(default_factory=list)
    secrets: list[FileObject] = field(default_factory=list)
    configs: list[FileObject] = field(default_factory=list)
    services: dict[str, dict[str, Any]] = field(default_factory=dict)  # scoped name -> spec
    warnings: list[str] = field(default_factory=list)


def scope(namespace: str, name: str) -> str:
    """The name the CLI gives an object of the stack: ``NAMESPACE_NAME``."""
    return f"{namespace}_{name}"


def with_stack_label(namespace: str, labels: Mapping[str, Any] | None) -> dict[str, str]:
    result = {
        str(key): "" if value is None else str(value) for key, value in (labels or {}).items()
    }
    result[LABEL_NAMESPACE] = namespace
    return result


def duration_ns(value: Any, where: str) -> int:
    """A Go duration (``1m30s``, ``500ms``) or a number of seconds, in nanoseconds."""
    if isinstance(value, bool):
        raise StackConvertError(f"{where}: {value!r} is not a duration")
    if isinstance(value, (int, float)):
        return int(Fraction(str(value)) * 1_000_000_000)
    text = str(value).strip()
    sign = 1
    if text[:1] in ("+", "-"):
        sign = -1 if text[0] == "-" else 1
        text = text[1:]
    if text == "0":
        return 0
    total = Fraction(0)
    position = 0
    for match in _DURATION_PART.finditer(text):
        if match.start() != position:
            break
        total += Fraction(match.group(1)) * _DURATION_UNITS[match.group(2)]
        position = match.end()
    if position != len(text) or not text:
        raise StackConvertError(f"{where}: {value!r} is not a duration")
    return sign * int(total)


def byte_size(value: Any, where: str) -> int:
    """A byte count as the normalised project writes it (a number, or its decimal string)."""
    try:
        return int(str(value))
    except ValueError:
        raise StackConvertError(f"{where}: {value!r} is not a byte count") from None


def nano_cpus(value: Any, where: str) -> int:
    """``cpus`` (``"0.5"``) as NanoCPUs, refusing more precision than 1e-9 as the CLI does."""
    try:
        nano = Fraction(str(value)) * 1_000_000_000
    except ValueError:
        raise StackConvertError(f"{where}: {value!r} is not a number of CPUs") from None
    if nano.denominator != 1:
        raise StackConvertError(f"{where}: {value!r} is too precise")
    return int(nano)


def _file_mode(value: Any, where: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    try:
        return int(str(value), 8)
    except ValueError:
        raise StackConvertError(f"{where}: {value!r} is not a file mode") from None


def _defaulted_name(project: Mapping[str, Any], key: str, entry: Mapping[str, Any]) -> bool:
    """True when ``entry["name"]`` is the one the loader made up (``PROJECT_KEY``)."""
    name = entry.get("name")
    return not name or name == f"{project.get('name', '')}_{key}"


def _object_name(
    namespace: str, project: Mapping[str, Any], key: str, entry: Mapping[str, Any]
) -> str:
    if entry.get("external"):
        return str(entry.get("name") or key)
    if _defaulted_name(project, key, entry):
        return scope(namespace, key)
    return str(entry["name"])


def convert(project: Mapping[str, Any], namespace: str) -> StackPlan:
    """Translate a normalised compose project into the objects of stack ``namespace``.

    Raises:
        StackConvertError: a service has no image, refers to an undefined
            network/volume/secret/config, or holds a value Swarm cannot take.
    """
    if not namespace:
        raise StackConvertError("the stack needs a name")
    plan = StackPlan(namespace=namespace)
    services = project.get("services") or {}
    if not isinstance(services, Mapping):
        raise StackConvertError("services: not a mapping")
    _warn_unsupported(services, plan.warnings)
    networks = project.get("networks") or {}
    secrets = project.get("secrets") or {}
    configs = project.get("configs") or {}

    used_networks: set[str] = set()
    for service in services.values():
        used_networks.update(_service_network_keys(service))
    for key in sorted(used_networks):
        entry = networks.get(key) or {}
        if key not in networks and key != DEFAULT_NETWORK:
            raise StackConvertError(f"undefined network {key!r}")
        if entry.get("external"):
            plan.external_networks.append(str(entry.get("name") or key))
            continue
        plan.networks[_object_name(namespace, project, key, entry)] = _network_body(
            namespace, entry
        )

    # the CLI creates every secret and config the file declares; Compose's normalised
    # form has dropped the unused ones already
    plan.secrets = [
        _file_object(namespace, project, key, entry, "secrets")
        for key, entry in secrets.items()
        if not (entry or {}).get("external")
    ]
    plan.configs = [
        _file_object(namespace, project, key, entry, "configs")
        for key, entry in configs.items()
        if not (entry or {}).get("external")
    ]
    for key, service in services.items():
        spec = _service_spec(namespace, project, key, service or {})
        plan.services[spec["Name"]] = spec
    return plan


def _warn_unsupported(services: Mapping[str, Any], warnings: list[str]) -> None:
    unsupported: list[str] = []
    deprecated: list[str] = []
    for service in services.values():
        for key in (*UNSUPPORTED_KEYS, *SPEC_ONLY_KEYS):
            if key in (service or {}) and key not in unsupported:
                unsupported.append(key)
        for key in DEPRECATED_KEYS:
            if key in (service or {}) and key not in deprecated:
                deprecated.append(key)
    if unsupported:
        order = {key: index for index, key in enumerate((*UNSUPPORTED_KEYS, *SPEC_ONLY_KEYS))}
        unsupported.sort(key=order.__getitem__)
        warnings.append("Ignoring unsupported options: " + ", ".join(unsupported))
    if deprecated:
        lines = [f"{key}: {DEPRECATED_KEYS[key]}" for key in DEPRECATED_KEYS if key in deprecated]
        warnings.append("Ignoring deprecated options:\n\n" + "\n\n".join(lines))


def _service_network_keys(service: Mapping[str, Any]) -> list[str]:
    networks = service.get("networks")
    if not networks:
        return [DEFAULT_NETWORK]
    return [str(key) for key in networks]


def _network_body(namespace: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "Labels": with_stack_label(namespace, entry.get("labels")),
        "Driver": entry.get("driver") or "overlay",
        "Scope": "swarm",
        "Internal": bool(entry.get("internal")),
        "Attachable": bool(entry.get("attachable")),
    }
    if entry.get("driver_opts"):
        body["Options"] = {str(k): str(v) for k, v in entry["driver_opts"].items()}
    ipam = entry.get("ipam") or {}
    if ipam.get("driver") or ipam.get("config"):
        body["IPAM"] = {
            "Driver": ipam.get("driver") or "default",
            "Config": [{"Subnet": item.get("subnet", "")} for item in ipam.get("config") or []],
        }
    return body


def _file_object(
    namespace: str, project: Mapping[str, Any], key: str, entry: Any, kind: str
) -> FileObject:
    entry = entry or {}
    where = f"{kind}.{key}"
    if entry.get("driver"):
        data = b""
    elif entry.get("file"):
        try:
            data = Path(str(entry["file"])).read_bytes()
        except OSError as exc:
            raise StackConvertError(f"{where}: cannot read {entry['file']}: {exc}") from exc
    elif "content" in entry:
        data = str(entry["content"]).encode()
    elif "environment" in entry:
        import os

        data = os.environ.get(str(entry["environment"]), "").encode()
    else:
        raise StackConvertError(f"{where}: needs file, content, environment or driver")
    return FileObject(
        key=key,
        name=_object_name(namespace, project, key, entry),
        labels=with_stack_label(namespace, entry.get("labels")),
        data=data,
        driver=(
            {"Name": entry["driver"], "Options": entry.get("driver_opts") or {}}
            if entry.get("driver")
            else None
        ),
        templating=({"Name": entry["template_driver"]} if entry.get("template_driver") else None),
    )


def _put(target: dict[str, Any], key: str, value: Any) -> None:
    """Set ``key`` unless ``value`` is empty (Go's ``omitempty``)."""
    if value is None or value == [] or value == {} or value == "" or value is False:
        return
    target[key] = value


def _service_spec(
    namespace: str, project: Mapping[str, Any], key: str, service: Mapping[str, Any]
) -> dict[str, Any]:
    where = f"services.{key}"
    image = service.get("image")
    if not image:
        raise StackConvertError(f"{where}: a stack service needs an image")
    deploy = service.get("deploy") or {}
    template = _task_template(namespace, project, key, service, where)
    labels = with_stack_label(namespace, deploy.get("labels"))
    labels[LABEL_IMAGE] = str(image)
    spec: dict[str, Any] = {
        "Name": scope(namespace, key),
        "Labels": labels,
        "TaskTemplate": template,
        "Mode": _mode(deploy, where),
        "EndpointSpec": _endpoint(deploy.get("endpoint_mode"), service.get("ports")),
    }
    _put(
        spec,
        "UpdateConfig",
        _update_config(deploy.get("update_config"), f"{where}.deploy.update_config"),
    )
    _put(
        spec,
        "RollbackConfig",
        _update_config(deploy.get("rollback_config"), f"{where}.deploy.rollback_config"),
    )
    return spec


def _container_spec(
    namespace: str, project: Mapping[str, Any], service: Mapping[str, Any], where: str
) -> dict[str, Any]:
    """The ``ContainerSpec`` of a service, in the order and shape the CLI sends it."""
    container: dict[str, Any] = {"Image": str(service["image"])}
    _put(container, "Labels", with_stack_label(namespace, service.get("labels")))
    _put(container, "Command", _words(service.get("entrypoint")))
    _put(container, "Args", _words(service.get("command")))
    _put(container, "Hostname", service.get("hostname"))
    _put(container, "Hosts", _hosts(service.get("extra_hosts")))
    dns = _string_list(service.get("dns"))
    dns_search = _string_list(service.get("dns_search"))
    if dns or dns_search:
        container["DNSConfig"] = {"Nameservers": dns, "Search": dns_search}
    _put(container, "Healthcheck", _healthcheck(service.get("healthcheck"), where))
    _put(container, "Env", _environment(service.get("environment")))
    _put(container, "Dir", service.get("working_dir"))
    _put(container, "User", service.get("user"))
    _put(container, "Mounts", _mounts(namespace, project, service.get("volumes"), where))
    if service.get("stop_grace_period") is not None:
        container["StopGracePeriod"] = duration_ns(
            service["stop_grace_period"], f"{where}.stop_grace_period"
        )
    _put(container, "StopSignal", service.get("stop_signal"))
    _put(container, "TTY", bool(service.get("tty")))
    _put(container, "OpenStdin", bool(service.get("stdin_open")))
    _put(container, "Secrets", _references(namespace, project, service, "secrets", where))
    _put(container, "Configs", _references(namespace, project, service, "configs", where))
    _put(container, "ReadOnly", bool(service.get("read_only")))
    credential_spec = service.get("credential_spec")
    # the CLI always sends Privileges, its CredentialSpec null unless the file has one
    container["Privileges"] = {
        "CredentialSpec": {
            name.capitalize(): value
            for name, value in credential_spec.items()
            if name in ("file", "registry", "config")
        }
        if credential_spec
        else None,
        "SELinuxContext": None,
    }
    _put(container, "Isolation", service.get("isolation"))
    if service.get("init") is not None:
        container["Init"] = bool(service["init"])
    _put(container, "Sysctls", {str(k): str(v) for k, v in (service.get("sysctls") or {}).items()})
    cap_add, cap_drop = _capabilities(service.get("cap_add"), service.get("cap_drop"))
    _put(container, "CapabilityAdd", cap_add)
    _put(container, "CapabilityDrop", cap_drop)
    _put(container, "Ulimits", _ulimits(service.get("ulimits")))
    return container


def _task_template(
    namespace: str, project: Mapping[str, Any], key: str, service: Mapping[str, Any], where: str
) -> dict[str, Any]:
    """The ``TaskTemplate`` of a service: container, logging, resources, restart, placement."""
    deploy = service.get("deploy") or {}
    template: dict[str, Any] = {
        "ContainerSpec": _container_spec(namespace, project, service, where)
    }
    logging = service.get("logging")
    if logging:
        template["LogDriver"] = {
            "Name": logging.get("driver") or "",
            "Options": {str(k): str(v) for k, v in (logging.get("options") or {}).items()},
        }
    template["Resources"] = _resources(deploy.get("resources") or {}, f"{where}.deploy.resources")
    restart = _restart_policy(service.get("restart"), deploy.get("restart_policy"), where)
    _put(template, "RestartPolicy", restart)
    placement = deploy.get("placement") or {}
    template["Placement"] = {}
    _put(template["Placement"], "Constraints", _string_list(placement.get("constraints")))
    _put(
        template["Placement"],
        "Preferences",
        [
            {"Spread": {"SpreadDescriptor": str(item.get("spread", ""))}}
            for item in placement.get("preferences") or []
        ],
    )
    if placement.get("max_replicas_per_node"):
        template["Placement"]["MaxReplicas"] = int(placement["max_replicas_per_node"])
    template["Networks"] = _service_networks(namespace, project, key, service)
    return template


def _words(value: Any) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return shlex.split(value)
    return [str(item) for item in value]


def _string_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(item) for item in value]


def _hosts(value: Any) -> list[str]:
    """``extra_hosts`` (``host=ip``, ``host:ip`` or a mapping) as ``"IP HOST"`` lines."""
    pairs: list[tuple[str, str]] = []
    if isinstance(value, Mapping):
        for host, ips in value.items():
            for ip in ips if isinstance(ips, list) else [ips]:
                pairs.append((str(host), str(ip)))
    else:
        for item in value or []:
            text = str(item)
            sep = "=" if "=" in text else ":"
            host, _, ip = text.partition(sep)
            pairs.append((host, ip))
    return [f"{ip} {host}" for host, ip in pairs]


def _environment(value: Any) -> list[str]:
    if isinstance(value, Mapping):
        items = [key if val is None else f"{key}={val}" for key, val in value.items()]
    else:
        items = [str(item) for item in value or []]
    return sorted(items)


def _healthcheck(value: Any, where: str) -> dict[str, Any] | None:
    if not value:
        return None
    if value.get("disable"):
        if value.get("test") and value["test"] != ["NONE"]:
            raise StackConvertError(
                f"{where}.healthcheck: test and disable can't be set at the same time"
            )
        return {"Test": ["NONE"]}
    test = value.get("test")
    if isinstance(test, str):
        test = ["CMD-SHELL", test]
    result: dict[str, Any] = {}
    _put(result, "Test", test)
    for key, name in (
        ("timeout", "Timeout"),
        ("interval", "Interval"),
        ("start_period", "StartPeriod"),
        ("start_interval", "StartInterval"),
    ):
        if value.get(key) is not None:
            _put(result, name, duration_ns(value[key], f"{where}.healthcheck.{key}"))
    if value.get("retries") is not None:
        _put(result, "Retries", int(value["retries"]))
    return result


def _capabilities(add: Any, drop: Any) -> tuple[list[str], list[str]]:
    def normal(cap: Any) -> str:
        text = str(cap).upper()
        return text if text == "ALL" or text.startswith("CAP_") else f"CAP_{text}"

    added = {normal(cap) for cap in add or []}
    dropped = {normal(cap) for cap in drop or []}
    if "ALL" in added:
        return ["ALL"], sorted(dropped - {"ALL"}) if "ALL" not in dropped else ["ALL"]
    if "ALL" in dropped:
        return sorted(added), ["ALL"]
    return sorted(added), sorted(dropped - added)


def _ulimits(value: Any) -> list[dict[str, Any]]:
    result = []
    for name in sorted(value or {}):
        limit = value[name]
        if isinstance(limit, Mapping):
            soft, hard = int(limit.get("soft", 0)), int(limit.get("hard", 0))
        else:
            soft = hard = int(limit)
        result.append({"Name": name, "Soft": soft, "Hard": hard})
    return result


def _mounts(
    namespace: str, project: Mapping[str, Any], value: Any, where: str
) -> list[dict[str, Any]]:
    volumes = project.get("volumes") or {}
    mounts = []
    for index, volume in enumerate(value or []):
        at = f"{where}.volumes[{index}]"
        kind = volume.get("type") or "volume"
        mount: dict[str, Any] = {"Type": kind}
        _put(mount, "Source", volume.get("source"))
        mount["Target"] = volume.get("target", "")
        _put(mount, "ReadOnly", bool(volume.get("read_only")))
        _put(mount, "Consistency", volume.get("consistency"))
        if kind == "volume":
            source = volume.get("source")
            if source:
                if source not in volumes:
                    raise StackConvertError(f"{at}: undefined volume {source!r}")
                entry = volumes[source] or {}
                mount["Source"] = _object_name(namespace, project, source, entry)
                options: dict[str, Any] = {}
                _put(options, "NoCopy", bool((volume.get("volume") or {}).get("nocopy")))
                if not entry.get("external"):
                    options["Labels"] = with_stack_label(namespace, entry.get("labels"))
                    if entry.get("driver") or entry.get("driver_opts"):
                        driver: dict[str, Any] = {"Name": entry.get("driver") or ""}
                        _put(driver, "Options", entry.get("driver_opts"))
                        options["DriverConfig"] = driver
                mount["VolumeOptions"] = options
        elif kind == "bind":
            propagation = (volume.get("bind") or {}).get("propagation")
            if propagation:
                mount["BindOptions"] = {"Propagation": propagation}
        elif kind == "tmpfs":
            size = (volume.get("tmpfs") or {}).get("size")
            if size:
                mount["TmpfsOptions"] = {"SizeBytes": byte_size(size, f"{at}.tmpfs.size")}
        elif kind != "npipe":
            raise StackConvertError(f"{at}: volume type {kind!r} is not supported on Swarm")
        mounts.append(mount)
    return mounts


def _references(
    namespace: str,
    project: Mapping[str, Any],
    service: Mapping[str, Any],
    kind: str,
    where: str,
) -> list[dict[str, Any]]:
    """Secret/config references, with ``SecretName``/``ConfigName`` (ids come later)."""
    defined = project.get(kind) or {}
    name_key = "SecretName" if kind == "secrets" else "ConfigName"
    default_dir = "/run/secrets/" if kind == "secrets" else "/"
    refs = []
    for index, ref in enumerate(service.get(kind) or []):
        if isinstance(ref, str):
            ref = {"source": ref}
        source = str(ref.get("source", ""))
        if source not in defined:
            raise StackConvertError(f"{where}.{kind}[{index}]: undefined {kind[:-1]} {source!r}")
        target = str(ref.get("target") or source)
        if kind == "secrets" and target.startswith(default_dir):
            target = target[len(default_dir) :]
        elif kind == "configs" and target == default_dir + source:
            target = source
        mode = ref.get("mode")
        refs.append(
            {
                "File": {
                    "Name": target,
                    "UID": str(ref.get("uid") or "0"),
                    "GID": str(ref.get("gid") or "0"),
                    "Mode": 0o444
                    if mode is None
                    else _file_mode(mode, f"{where}.{kind}[{index}].mode"),
                },
                name_key: _object_name(namespace, project, source, defined[source] or {}),
            }
        )
    refs.sort(key=lambda ref: str(ref[name_key]))
    return refs


def _resources(value: Mapping[str, Any], where: str) -> dict[str, Any]:
    result: dict[str, Any] = {}
    limits = value.get("limits")
    if limits:
        limit: dict[str, Any] = {}
        if limits.get("cpus") not in (None, ""):
            _put(limit, "NanoCPUs", nano_cpus(limits["cpus"], f"{where}.limits.cpus"))
        if limits.get("memory") is not None:
            _put(limit, "MemoryBytes", byte_size(limits["memory"], f"{where}.limits.memory"))
        if limits.get("pids"):
            limit["Pids"] = int(limits["pids"])
        result["Limits"] = limit
    reservations = value.get("reservations")
    if reservations:
        reserve: dict[str, Any] = {}
        if reservations.get("cpus") not in (None, ""):
            _put(reserve, "NanoCPUs", nano_cpus(reservations["cpus"], f"{where}.reservations.cpus"))
        if reservations.get("memory") is not None:
            _put(
                reserve,
                "MemoryBytes",
                byte_size(reservations["memory"], f"{where}.reservations.memory"),
            )
        generic = []
        for item in reservations.get("generic_resources") or []:
            spec = item.get("discrete_resource_spec")
            if spec:
                generic.append(
                    {
                        "DiscreteResourceSpec": {
                            "Kind": spec.get("kind", ""),
                            "Value": int(spec.get("value", 0)),
                        }
                    }
                )
        _put(reserve, "GenericResources", generic)
        result["Reservations"] = reserve
    return result


def _restart_policy(restart: Any, policy: Any, where: str) -> dict[str, Any] | None:
    if policy is None:
        if not restart or restart == "no":
            return None
        if restart in ("always", "unless-stopped"):
            return {"Condition": "any"}
        text = str(restart)
        if text == "on-failure" or text.startswith("on-failure:"):
            _, _, count = text.partition(":")
            try:
                attempts = int(count or 0)
            except ValueError:
                raise StackConvertError(f"{where}.restart: bad value {restart!r}") from None
            return {"Condition": "on-failure", "MaxAttempts": attempts}
        raise StackConvertError(f"{where}.restart: unknown restart policy {restart!r}")
    result: dict[str, Any] = {}
    _put(result, "Condition", policy.get("condition"))
    at = f"{where}.deploy.restart_policy"
    if policy.get("delay") is not None:
        result["Delay"] = duration_ns(policy["delay"], f"{at}.delay")
    if policy.get("max_attempts") is not None:
        result["MaxAttempts"] = int(policy["max_attempts"])
    if policy.get("window") is not None:
        result["Window"] = duration_ns(policy["window"], f"{at}.window")
    return result


def _service_networks(
    namespace: str, project: Mapping[str, Any], key: str, service: Mapping[str, Any]
) -> list[dict[str, Any]]:
    defined = project.get("networks") or {}
    attached = service.get("networks") or {DEFAULT_NETWORK: None}
    result = []
    for name, config in attached.items():
        entry = defined.get(name) or {}
        target = (
            scope(namespace, name)
            if name == DEFAULT_NETWORK and name not in defined
            else _object_name(namespace, project, name, entry)
        )
        attachment: dict[str, Any] = {"Target": target}
        aliases = [str(alias) for alias in (config or {}).get("aliases") or []]
        if target not in _NOT_USER_DEFINED and not target.startswith("container:"):
            aliases.append(key)
        _put(attachment, "Aliases", aliases)
        _put(attachment, "DriverOpts", (config or {}).get("driver_opts"))
        result.append(attachment)
    result.sort(key=lambda item: str(item["Target"]))
    return result


def _mode(deploy: Mapping[str, Any], where: str) -> dict[str, Any]:
    mode = deploy.get("mode") or "replicated"
    replicas = deploy.get("replicas")
    if mode in ("global", "global-job"):
        if replicas is not None:
            raise StackConvertError(
                f"{where}.deploy: replicas can only be used with replicated or replicated-job mode"
            )
        return {"Global": {}} if mode == "global" else {"GlobalJob": {}}
    if mode == "replicated-job":
        job: dict[str, Any] = {}
        if replicas is not None:
            job = {"MaxConcurrent": int(replicas), "TotalCompletions": int(replicas)}
        return {"ReplicatedJob": job}
    if mode == "replicated":
        return {"Replicated": {} if replicas is None else {"Replicas": int(replicas)}}
    raise StackConvertError(f"{where}.deploy.mode: unknown mode {mode!r}")


def _endpoint(mode: Any, ports: Any) -> dict[str, Any]:
    configs = []
    for port in ports or []:
        config: dict[str, Any] = {
            "Protocol": port.get("protocol") or "tcp",
            "TargetPort": int(port.get("target", 0)),
            "PublishMode": port.get("mode") or "ingress",
        }
        published = port.get("published")
        if published not in (None, ""):
            config["PublishedPort"] = int(published)
        configs.append(config)
    configs.sort(key=lambda config: int(config.get("PublishedPort", 0)))
    result: dict[str, Any] = {}
    _put(result, "Mode", str(mode or "").lower())
    _put(result, "Ports", configs)
    return result


def _update_config(value: Any, where: str) -> dict[str, Any] | None:
    if value is None:
        return None
    result: dict[str, Any] = {
        "Parallelism": 1 if value.get("parallelism") is None else int(value["parallelism"])
    }
    if value.get("delay") is not None:
        _put(result, "Delay", duration_ns(value["delay"], f"{where}.delay"))
    _put(result, "FailureAction", value.get("failure_action"))
    if value.get("monitor") is not None:
        _put(result, "Monitor", duration_ns(value["monitor"], f"{where}.monitor"))
    if value.get("max_failure_ratio") is not None:
        result["MaxFailureRatio"] = float(value["max_failure_ratio"])
    _put(result, "Order", value.get("order"))
    return result
