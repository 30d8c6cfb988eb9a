"""Turn a normalised compose service into the Engine API's create bodies.

Private runtime module of :mod:`aiodocker.compose`: it imports only the stdlib and
its runtime siblings.  The input is a service entry of the project's normalised JSON
(what ``docker compose config --format json`` prints): long syntax everywhere,
durations as Go duration strings, byte sizes as decimal strings, absolute paths.
The bodies match what Docker Compose v2 sends, so that the containers either tool
creates from one file are the same.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from . import _runtime_labels as labels

_DURATION_PART: Final = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_UNIT_NANOS: Final = {
    "ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": 1_000_000, "s": 1_000_000_000,
    "m": 60_000_000_000, "h": 3_600_000_000_000,
}  # fmt: skip
_RESTART: Final = re.compile(r"^(no|always|unless-stopped|on-failure)(?::(\d+))?$")


def duration_nanos(value: Any, what: str) -> int:
    """Return a Go duration (``"1m30s"``, ``"500ms"``) or a number of seconds in nanoseconds.

    Raises:
        ValueError: ``value`` is not a duration (the message names ``what``).
    """
    if isinstance(value, bool):
        raise ValueError(f"{what}: {value!r} is not a duration")
    if isinstance(value, (int, float)):
        return int(value * 1_000_000_000)
    if not isinstance(value, str):
        raise ValueError(f"{what}: {value!r} is not a duration")
    text = value.strip()
    sign = -1 if text.startswith("-") else 1
    text = text.lstrip("+-")
    if text == "0":
        return 0
    pos, total = 0, 0.0
    for match in _DURATION_PART.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNIT_NANOS[match.group(2)]
        pos = match.end()
    if pos != len(text) or not text:
        raise ValueError(f"{what}: {value!r} is not a duration")
    return sign * int(total)


def byte_size(value: Any, what: str) -> int:
    """Return a normalised byte size (an int or a decimal string) as an int.

    Raises:
        ValueError: ``value`` is not a whole number of bytes.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    raise ValueError(f"{what}: {value!r} is not a byte count (load the file through the model)")


def _env_list(environment: Mapping[str, Any] | None) -> list[str] | None:
    if not environment:
        return None
    items = []
    for key in sorted(environment):
        value = environment[key]
        items.append(key if value is None else f"{key}={value}")
    return items


def _healthcheck(check: Mapping[str, Any] | None, where: str) -> dict[str, Any] | None:
    if check is None:
        return None
    if check.get("disable"):
        return {"Test": ["NONE"]}
    body: dict[str, Any] = {}
    if check.get("test") is not None:
        body["Test"] = list(check["test"])
    for key, api in (
        ("interval", "Interval"),
        ("timeout", "Timeout"),
        ("start_period", "StartPeriod"),
        ("start_interval", "StartInterval"),
    ):
        if check.get(key) is not None:
            body[api] = duration_nanos(check[key], f"{where}.healthcheck.{key}")
    if check.get("retries") is not None:
        body["Retries"] = int(check["retries"])
    return body


def _port_key(port: Mapping[str, Any]) -> str:
    return f"{port['target']}/{port.get('protocol') or 'tcp'}"


def _ports(service: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, list[dict[str, str]]]]:
    exposed: dict[str, Any] = {}
    bindings: dict[str, list[dict[str, str]]] = {}
    for port in service.get("ports") or ():
        key = _port_key(port)
        exposed[key] = {}
        bindings.setdefault(key, []).append(
            {"HostIp": port.get("host_ip") or "", "HostPort": str(port.get("published") or "")}
        )
    for item in service.get("expose") or ():
        exposed[str(item)] = {}  # as given: Compose adds no protocol
    return exposed, bindings


@dataclass
class VolumeSpecs:
    """The volume parts of a create body: Binds, Mounts, Tmpfs, and anonymous volumes."""

    binds: list[str] = field(default_factory=list)
    mounts: list[dict[str, Any]] = field(default_factory=list)
    volumes: dict[str, Any] = field(default_factory=dict)


def _volume_specs(
    service: Mapping[str, Any], project: str, volumes: Mapping[str, Any], where: str
) -> VolumeSpecs:
    specs = VolumeSpecs()
    for index, mount in enumerate(service.get("volumes") or ()):
        kind = mount.get("type")
        target = mount.get("target")
        source = mount.get("source")
        read_only = bool(mount.get("read_only"))
        if kind == "volume" and source:
            name = labels.resource_name(project, source, volumes.get(source))
            options = mount.get("volume") or {}
            if not any(options.values()):
                specs.binds.append(f"{name}:{target}:{'ro' if read_only else 'rw'}")
                continue
            body: dict[str, Any] = {"Type": "volume", "Source": name, "Target": target}
            volume_options: dict[str, Any] = {}
            if options.get("nocopy"):
                volume_options["NoCopy"] = True
            if options.get("subpath"):
                volume_options["Subpath"] = options["subpath"]
            body["VolumeOptions"] = volume_options
            if read_only:
                body["ReadOnly"] = True
            specs.mounts.append(body)
        elif kind == "volume":  # anonymous: a mount, as Compose sends it
            body = {"Type": "volume", "Target": target, "VolumeOptions": {}}
            if read_only:
                body["ReadOnly"] = True
            specs.mounts.append(body)
        elif kind == "bind":
            options = mount.get("bind") or {}
            if (
                options.get("create_host_path", True)
                and not options.get("propagation")
                and (not options.get("recursive"))
            ):
                suffix = ["ro"] if read_only else []
                if options.get("selinux"):
                    suffix.append(options["selinux"])
                text = f"{source}:{target}"
                specs.binds.append(f"{text}:{','.join(suffix)}" if suffix else text)
                continue
            body = {"Type": "bind", "Source": source, "Target": target}
            if read_only:
                body["ReadOnly"] = True
            if options.get("propagation"):
                body["BindOptions"] = {"Propagation": options["propagation"]}
            specs.mounts.append(body)
        elif kind == "tmpfs":
            body = {"Type": "tmpfs", "Target": target}
            tmpfs = mount.get("tmpfs") or {}
            tmpfs_options: dict[str, Any] = {}
            if tmpfs.get("size") is not None:
                tmpfs_options["SizeBytes"] = byte_size(tmpfs["size"], f"{where}.volumes[{index}]")
            if tmpfs.get("mode") is not None:
                tmpfs_options["Mode"] = int(tmpfs["mode"])
            if tmpfs_options:
                body["TmpfsOptions"] = tmpfs_options
            if read_only:
                body["ReadOnly"] = True
            specs.mounts.append(body)
        else:
            body = {"Type": kind, "Source": source, "Target": target}
            if read_only:
                body["ReadOnly"] = True
            specs.mounts.append(body)
    return specs


def _restart_policy(value: str | None, where: str) -> dict[str, Any]:
    if not value:
        return {"Name": "", "MaximumRetryCount": 0}
    match = _RESTART.match(value)
    if match is None:
        raise ValueError(f"{where}.restart: {value!r} is not a restart policy")
    name = "" if match.group(1) == "no" else match.group(1)
    return {"Name": name, "MaximumRetryCount": int(match.group(2) or 0)}


def _capabilities(names: Any) -> list[str] | None:
    """Return capability names with the ``CAP_`` prefix Compose adds (``ALL`` stays)."""
    if not names:
        return None
    out = []
    for name in names:
        upper = str(name).upper()
        out.append(upper if upper == "ALL" or upper.startswith("CAP_") else f"CAP_{upper}")
    return out


def _ulimits(ulimits: Mapping[str, Any] | None) -> list[dict[str, Any]] | None:
    if not ulimits:
        return None
    out = []
    for name in sorted(ulimits):
        value = ulimits[name]
        if isinstance(value, Mapping):
            soft = value.get("soft", value.get("single"))
            hard = value.get("hard", value.get("single"))
        else:
            soft = hard = value
        out.append({"Name": name, "Soft": int(soft), "Hard": int(hard)})
    return out


def _devices(devices: Any) -> list[dict[str, str]] | None:
    if not devices:
        return None
    out = []
    for device in devices:
        out.append(
            {
                "PathOnHost": device.get("source", ""),
                "PathInContainer": device.get("target") or device.get("source", ""),
                "CgroupPermissions": device.get("permissions") or "rwm",
            }
        )
    return out


def _extra_hosts(hosts: Any) -> list[str]:
    out = []
    if isinstance(hosts, Mapping):
        for host in sorted(hosts):
            addresses = hosts[host]
            for address in addresses if isinstance(addresses, list) else [addresses]:
                out.append(f"{host}:{address}")
        return out
    for item in hosts or ():
        host, sep, address = str(item).partition("=")
        out.append(f"{host}:{address}" if sep else str(item))
    return out


def ordered_networks(service: Mapping[str, Any]) -> list[str]:
    """Return a service's network keys, the primary first (priority, then name), as Compose."""
    networks = service.get("networks") or {}
    return sorted(networks, key=lambda key: (-int((networks[key] or {}).get("priority") or 0), key))


def endpoint_config(
    service_name: str, container: str, spec: Mapping[str, Any] | None, *, with_names: bool = True
) -> dict[str, Any]:
    """Return the EndpointSettings of one network of a service container."""
    spec = spec or {}
    aliases = [container, service_name] if with_names else []
    aliases += [alias for alias in spec.get("aliases") or () if alias not in aliases]
    body: dict[str, Any] = {"Aliases": aliases}
    ipam: dict[str, Any] = {}
    if spec.get("ipv4_address"):
        ipam["IPv4Address"] = spec["ipv4_address"]
    if spec.get("ipv6_address"):
        ipam["IPv6Address"] = spec["ipv6_address"]
    if spec.get("link_local_ips"):
        ipam["LinkLocalIPs"] = list(spec["link_local_ips"])
    if ipam:
        body["IPAMConfig"] = ipam
    if spec.get("mac_address"):
        body["MacAddress"] = spec["mac_address"]
    if spec.get("driver_opts"):
        body["DriverOpts"] = dict(spec["driver_opts"])
    return body


@dataclass(frozen=True)
class ProjectContext:
    """What a service's create body needs from its project beside the service itself."""

    name: str
    networks: Mapping[str, Any]
    volumes: Mapping[str, Any]
    labels: Mapping[str, str]
    secrets: Mapping[str, Any] = field(default_factory=dict)
    configs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FileGrant:
    """A secret or config a container gets: bind-mounted (``file``) or copied in."""

    kind: str  # "secret" or "config"
    target: str  # absolute path in the container
    file: str | None  # the host file to bind, else ``content`` is copied
    content: bytes
    mode: int
    uid: int
    gid: int


def file_grants(
    ctx: ProjectContext, service: Mapping[str, Any], environ: Mapping[str, str]
) -> list[FileGrant]:
    """Return the service's secrets and configs as Compose provides them outside Swarm.

    A ``file`` source is bind-mounted read-only; an ``environment`` or ``content``
    source is copied into the container before it starts. Secrets land in
    ``/run/secrets/`` unless the target is absolute; configs at ``/<name>``.

    Raises:
            ValueError: the reference names an undefined secret or config, or an
                ``environment`` source whose variable is not set.
    """
    grants = []
    for kind, section, top in (
        ("secret", "secrets", ctx.secrets),
        ("config", "configs", ctx.configs),
    ):
        for ref in service.get(section) or ():
            ref = {"source": ref} if isinstance(ref, str) else ref
            source = str(ref.get("source"))
            spec = top.get(source)
            if spec is None:
                raise ValueError(f"{section}: {source!r} is not defined at the top level")
            target = str(ref.get("target") or "")
            if kind == "secret":
                target = target or str(source)
                if not target.startswith("/"):
                    target = f"/run/secrets/{target}"
            else:
                target = target or f"/{source}"
            mode = ref.get("mode")
            content = b""
            path = spec.get("file")
            if path is None and spec.get("environment") is not None:
                variable = spec["environment"]
                if variable not in environ:
                    raise ValueError(
                        f"{section}.{source}: environment variable {variable} is not set"
                    )
                content = environ[variable].encode()
            elif path is None:
                content = str(spec.get("content") or "").encode()
            grants.append(
                FileGrant(
                    kind=kind,
                    target=target,
                    file=str(path) if path is not None else None,
                    content=content,
                    mode=int(str(mode), 8) if isinstance(mode, str) else int(mode or 0o444),
                    uid=int(ref.get("uid") or 0),
                    gid=int(ref.get("gid") or 0),
                )
            )
    return grants


def grant_mounts(grants: list[FileGrant]) -> list[dict[str, Any]]:
    """Return the bind mounts of the file-sourced grants, as Compose writes them."""
    mounts = []
    for grant in grants:
        if grant.file is None:
            continue
        mount: dict[str, Any] = {
            "Type": "bind", "Source": grant.file, "Target": grant.target, "ReadOnly": True,
        }  # fmt: skip
        if grant.kind == "secret":
            mount["BindOptions"] = {}
        mounts.append(mount)
    return mounts


def grants_tar(grants: list[FileGrant]) -> bytes | None:
    """Return a tar (extracted at ``/``) of the grants that are copied in, or None."""
    import io
    import posixpath
    import tarfile

    copied = [grant for grant in grants if grant.file is None]
    if not copied:
        return None
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        made: set[str] = set()
        for grant in copied:
            parent = posixpath.dirname(grant.target).strip("/")
            parts = parent.split("/") if parent else []
            for depth in range(1, len(parts) + 1):
                directory = "/".join(parts[:depth])
                if directory not in made:
                    made.add(directory)
                    info = tarfile.TarInfo(directory)
                    info.type = tarfile.DIRTYPE
                    info.mode = 0o755
                    tar.addfile(info)
            info = tarfile.TarInfo(grant.target.lstrip("/"))
            info.size = len(grant.content)
            info.mode = grant.mode
            info.uid, info.gid = grant.uid, grant.gid
            tar.addfile(info, io.BytesIO(grant.content))
    return buffer.getvalue()


_SIMPLE_HOST_KEYS: dict[str, str] = {
    "init": "Init", "ipc": "IpcMode", "pid": "PidMode", "uts": "UTSMode",
    "userns_mode": "UsernsMode", "cgroup": "CgroupnsMode", "cgroup_parent": "CgroupParent",
    "runtime": "Runtime", "isolation": "Isolation", "oom_kill_disable": "OomKillDisable",
    "oom_score_adj": "OomScoreAdj", "pids_limit": "PidsLimit", "cpu_shares": "CpuShares",
    "cpu_period": "CpuPeriod", "cpu_quota": "CpuQuota", "cpuset": "CpusetCpus",
    "cpu_rt_period": "CpuRealtimePeriod", "cpu_rt_runtime": "CpuRealtimeRuntime",
    "cpu_count": "CpuCount", "cpu_percent": "CpuPercent",
    "device_cgroup_rules": "DeviceCgroupRules", "storage_opt": "StorageOpt",
}  # fmt: skip
_SIZE_HOST_KEYS: dict[str, str] = {
    "mem_limit": "Memory", "mem_reservation": "MemoryReservation",
    "memswap_limit": "MemorySwap", "shm_size": "ShmSize",
}  # fmt: skip


def _compose_labels(
    ctx: ProjectContext,
    service_name: str,
    service: Mapping[str, Any],
    *,
    number: int,
    config_hash: str,
    image_id: str,
    oneoff: bool,
    slug: str | None,
    replace: str | None,
) -> dict[str, str]:
    """Return the ``com.docker.compose.*`` labels of one container."""
    compose_labels = {
        **ctx.labels,
        labels.SERVICE: service_name,
        labels.CONTAINER_NUMBER: str(number),
        labels.ONEOFF: "True" if oneoff else "False",
        labels.CONFIG_HASH: config_hash,
        labels.DEPENDS_ON: labels.depends_on_label(service.get("depends_on")),
        labels.IMAGE: image_id,
    }
    if oneoff:  # a one-off (``run``) container has a slug instead of a number
        del compose_labels[labels.CONTAINER_NUMBER]
        compose_labels[labels.SLUG] = slug or ""
    if replace:  # the container replaces another one (a recreate)
        compose_labels[labels.REPLACE] = replace
    return compose_labels


def _container_config(
    service: Mapping[str, Any], where: str, specs: VolumeSpecs, container_labels: dict[str, str]
) -> dict[str, Any]:
    """Return the top-level (``Config``) part of a create body."""
    exposed, _ = _ports(service)
    body: dict[str, Any] = {
        "Hostname": service.get("hostname") or "",
        "Domainname": service.get("domainname") or "",
        "User": service.get("user") or "",
        "AttachStdin": False,
        "AttachStdout": True,
        "AttachStderr": True,
        "Tty": bool(service.get("tty")),
        "OpenStdin": bool(service.get("stdin_open")),
        "StdinOnce": False,
        "Env": _env_list(service.get("environment")),
        "Cmd": service.get("command"),
        "Entrypoint": service.get("entrypoint"),
        "Image": service.get("image"),
        "WorkingDir": service.get("working_dir") or "",
        "Labels": {**(service.get("labels") or {}), **container_labels},
    }
    if exposed:
        body["ExposedPorts"] = exposed
    if specs.volumes:
        body["Volumes"] = specs.volumes
    check = _healthcheck(service.get("healthcheck"), where)
    if check is not None:
        body["Healthcheck"] = check
    if service.get("stop_signal"):
        body["StopSignal"] = service["stop_signal"]
    if service.get("stop_grace_period") is not None:
        nanos = duration_nanos(service["stop_grace_period"], f"{where}.stop_grace_period")
        body["StopTimeout"] = nanos // 1_000_000_000
    if service.get("mac_address"):
        body["MacAddress"] = service["mac_address"]
    return body


def _host_base(
    service: Mapping[str, Any], where: str, specs: VolumeSpecs, grants: list[FileGrant]
) -> dict[str, Any]:
    """Return the ``HostConfig`` keys every container has."""
    mounts = specs.mounts + grant_mounts(grants)
    return {
        "Binds": specs.binds or None,
        "Mounts": mounts or None,
        "PortBindings": _ports(service)[1],
        "RestartPolicy": _restart_policy(service.get("restart"), where),
        "ExtraHosts": _extra_hosts(service.get("extra_hosts")),
        "Privileged": bool(service.get("privileged")),
        "ReadonlyRootfs": bool(service.get("read_only")),
        "CapAdd": _capabilities(service.get("cap_add")),
        "CapDrop": _capabilities(service.get("cap_drop")),
        "Dns": service.get("dns"),
        "DnsOptions": service.get("dns_opt"),
        "DnsSearch": service.get("dns_search"),
        "GroupAdd": service.get("group_add"),
        "SecurityOpt": service.get("security_opt"),
        "Ulimits": _ulimits(service.get("ulimits")),
        "Devices": _devices(service.get("devices")),
    }


def _host_resources(service: Mapping[str, Any], where: str, host: dict[str, Any]) -> None:
    """Add the plain, size and ``deploy.resources.limits`` keys to ``host``."""
    for key, api in _SIMPLE_HOST_KEYS.items():
        if service.get(key) is not None:
            host[api] = service[key]
    for key, api in _SIZE_HOST_KEYS.items():
        if service.get(key) is not None:
            host[api] = byte_size(service[key], f"{where}.{key}")
    if service.get("mem_swappiness") is not None:
        host["MemorySwappiness"] = int(service["mem_swappiness"])
    if service.get("cpus") is not None:
        host["NanoCpus"] = int(float(service["cpus"]) * 1e9)
    limits = ((service.get("deploy") or {}).get("resources") or {}).get("limits") or {}
    if limits.get("memory") is not None and "Memory" not in host:
        host["Memory"] = byte_size(limits["memory"], f"{where}.deploy.resources.limits.memory")
    if limits.get("cpus") is not None and "NanoCpus" not in host:
        host["NanoCpus"] = int(float(limits["cpus"]) * 1e9)
    if limits.get("pids") is not None and "PidsLimit" not in host:
        host["PidsLimit"] = int(limits["pids"])


def _host_extras(service: Mapping[str, Any], host: dict[str, Any], resolve_service: Any) -> None:
    """Add sysctls, tmpfs, logging, ``volumes_from`` and links to ``host``."""
    if service.get("sysctls"):
        host["Sysctls"] = {key: str(value) for key, value in service["sysctls"].items()}
    if service.get("tmpfs"):
        tmpfs: dict[str, str] = {}
        for item in service["tmpfs"]:
            path, _, options = str(item).partition(":")
            tmpfs[path] = options
        host["Tmpfs"] = tmpfs
    logging = service.get("logging")
    if logging:
        host["LogConfig"] = {
            "Type": logging.get("driver") or "",
            "Config": dict(logging.get("options") or {}),
        }
    if service.get("volumes_from"):
        host["VolumesFrom"] = [
            _volumes_from(item, resolve_service) for item in service["volumes_from"]
        ]
    if service.get("links"):
        host["Links"] = [_link(item, resolve_service) for item in service["links"]]
    if service.get("external_links"):
        host["Links"] = list(host.get("Links") or ()) + [
            item if ":" in item else f"{item}:{item}" for item in service["external_links"]
        ]


def _networking(
    ctx: ProjectContext,
    service_name: str,
    service: Mapping[str, Any],
    *,
    container: str,
    host: dict[str, Any],
    resolve_service: Any,
) -> dict[str, Any]:
    """Set ``host``'s ``NetworkMode``; return the primary network's endpoints config."""
    network_mode = service.get("network_mode")
    if network_mode:
        if network_mode.startswith("service:"):
            if resolve_service is None:
                raise ValueError(
                    f"services.{service_name}.network_mode: {network_mode!r} needs a running service"
                )
            host["NetworkMode"] = f"container:{resolve_service(network_mode[8:])}"
        else:
            host["NetworkMode"] = network_mode
        return {}
    order = ordered_networks(service)
    if not order:
        return {}
    primary = order[0]
    full = labels.resource_name(ctx.name, primary, ctx.networks.get(primary))
    host["NetworkMode"] = full
    return {
        full: endpoint_config(service_name, container, (service.get("networks") or {}).get(primary))
    }


def create_body(
    ctx: ProjectContext,
    service_name: str,
    service: Mapping[str, Any],
    *,
    container: str,
    number: int,
    config_hash: str,
    image_id: str,
    resolve_service: Any = None,
    oneoff: bool = False,
    grants: list[FileGrant] | None = None,
    slug: str | None = None,
    replace: str | None = None,
) -> dict[str, Any]:
    """Return the ``POST /containers/create`` body of one container of a service.

    ``resolve_service(name)`` returns the name of a running container of another
    service (for ``network_mode: service:x``, ``volumes_from`` and ``links``).
    ``replace`` is the ``com.docker.compose.replace`` label of a container made to
    replace another: Compose writes the replaced one's ``container_name`` or
    ``{service}-{number}`` there (without the project).

    Raises:
        ValueError: a value the model should have normalised is not (the message says
            which service key).
    """
    where = f"services.{service_name}"
    specs = _volume_specs(service, ctx.name, ctx.volumes, where)
    container_labels = _compose_labels(
        ctx, service_name, service, number=number, config_hash=config_hash,
        image_id=image_id, oneoff=oneoff, slug=slug, replace=replace,
    )  # fmt: skip
    body = _container_config(service, where, specs, container_labels)
    host = _host_base(service, where, specs, grants or [])
    _host_resources(service, where, host)
    _host_extras(service, host, resolve_service)
    networking = _networking(
        ctx, service_name, service, container=container, host=host, resolve_service=resolve_service
    )
    body["HostConfig"] = host
    if networking:
        body["NetworkingConfig"] = {"EndpointsConfig": networking}
    return body


def _volumes_from(item: str, resolve_service: Any) -> str:
    source, _, mode = item.partition(":")
    if source.startswith("container:"):
        name = source[len("container:") :]
    else:
        if resolve_service is None:
            raise ValueError(f"volumes_from {item!r} needs a running service")
        name = resolve_service(source)
    return f"{name}:{mode}" if mode else name


def _link(item: str, resolve_service: Any) -> str:
    service, _, alias = item.partition(":")
    if resolve_service is None:
        raise ValueError(f"links {item!r} needs a running service")
    return f"{resolve_service(service)}:{alias or service}"
