"""One file's content in canonical (long) form, so that files merge key by key.

Every short syntax becomes the long one Docker Compose prints: ports, volumes,
``depends_on``, secrets, configs, environment and labels as maps, durations and byte sizes
in Go's notation, relative paths made absolute against the file's base directory.
"""

from __future__ import annotations

import os
import posixpath
import re
import shlex
from collections.abc import Callable
from typing import Any, Final

from ._errors import ComposeError
from ._units import format_duration, format_number, parse_bytes, parse_duration
from ._yaml import Override, Reset

Lookup = Callable[[str], "str | None"]


class Context:
    """What canonicalising one file needs: where it is and how to resolve names."""

    __slots__ = ("base_dir", "file", "lookup", "home")

    def __init__(self, base_dir: str, file: str | None, lookup: Lookup) -> None:
        self.base_dir = base_dir
        self.file = file
        self.lookup = lookup
        self.home = lookup("HOME") or os.path.expanduser("~")

    def fail(self, path: str, problem: str) -> ComposeError:
        return ComposeError(problem, file=self.file, path=path)

    def abspath(self, path: str) -> str:
        if path.startswith("~"):
            path = self.home + path[1:]
        if re.match(r"^[A-Za-z]:[\\/]", path):
            return path
        return os.path.normpath(os.path.join(self.base_dir, path))


def _unwrap(value: Any) -> Any:
    return value.value if isinstance(value, Override) else value


def string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format_number(value)
    return str(value)


def to_bool(value: Any, ctx: Context, path: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).lower()
    if text in ("true", "1", "yes", "y", "on"):
        return True
    if text in ("false", "0", "no", "n", "off", ""):
        return False
    raise ctx.fail(path, f"{value!r} is not a boolean")


def to_int(value: Any, ctx: Context, path: str) -> int:
    if isinstance(value, bool):
        raise ctx.fail(path, f"{value!r} is not an integer")
    if isinstance(value, int):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ctx.fail(path, f"{value!r} is not an integer") from None
    if not number.is_integer():
        raise ctx.fail(path, f"{value!r} is not an integer")
    return int(number)


def to_float(value: Any, ctx: Context, path: str) -> float | int:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ctx.fail(path, f"{value!r} is not a number") from None
    return int(number) if number.is_integer() else number


def duration(value: Any, ctx: Context, path: str) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return format_duration(int(value * 10**9))
    try:
        return format_duration(parse_duration(str(value)))
    except ValueError as exc:
        raise ctx.fail(path, str(exc)) from None


def size(value: Any, ctx: Context, path: str) -> str:
    try:
        return str(parse_bytes(value))
    except ValueError as exc:
        raise ctx.fail(path, str(exc)) from None


def string_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [string(v) for v in value]
    return [string(value)]


def key_value_map(
    value: Any, ctx: Context, path: str, *, resolve: bool = False, keep_null: bool = True, empty: Any = None
) -> dict[str, Any]:
    """``[A=1, B]`` or ``{A: 1, B: null}`` as ``{A: "1", B: empty}``."""
    result: dict[str, Any] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            result[str(key)] = empty if item is None else string(item)
    elif isinstance(value, list):
        for entry in value:
            text = string(entry)
            key, sep, item = text.partition("=")
            result[key] = item if sep else empty
    elif value is not None:
        raise ctx.fail(path, "must be a mapping or a list")
    if resolve:
        for key, item in list(result.items()):
            if item is None:
                found = ctx.lookup(key)
                if found is not None:
                    result[key] = found
                elif not keep_null:
                    del result[key]
    return result


def shell_words(value: Any, ctx: Context, path: str) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, list):
        return [string(v) for v in value]
    try:
        return shlex.split(string(value))
    except ValueError as exc:
        raise ctx.fail(path, f"cannot split {value!r}: {exc}") from None


_IPV6_HOST = re.compile(r"^\[([0-9a-fA-F:.]+)\]:(.*)$")


def _port_range(text: str, ctx: Context, path: str) -> tuple[int, int]:
    first, sep, last = text.partition("-")
    try:
        start = int(first)
        end = int(last) if sep else start
    except ValueError:
        raise ctx.fail(path, f"invalid port {text!r}") from None
    return start, end


def parse_port(spec: Any, ctx: Context, path: str) -> list[dict[str, Any]]:
    """One short port spec as the list of long-syntax ports it stands for."""
    if isinstance(spec, int) and not isinstance(spec, bool):
        return [{"mode": "ingress", "target": spec, "protocol": "tcp"}]
    text = str(spec)
    protocol = "tcp"
    if "/" in text:
        text, protocol = text.rsplit("/", 1)
    host_ip = ""
    published = ""
    match = _IPV6_HOST.match(text)
    if match:
        host_ip, rest = match.group(1), match.group(2)
        published, _, container = rest.rpartition(":")
        if not _:
            container = rest
            published = ""
    else:
        parts = text.split(":")
        if len(parts) == 1:
            container = parts[0]
        elif len(parts) == 2:
            published, container = parts
        elif len(parts) == 3:
            host_ip, published, container = parts
        else:
            # an IPv6 address written without brackets
            container = parts[-1]
            published = parts[-2]
            host_ip = ":".join(parts[:-2])
    start, end = _port_range(container, ctx, path)
    ports: list[dict[str, Any]] = []
    if published:
        p_start, p_end = _port_range(published, ctx, path)
    if published and end != start and p_end - p_start != end - start:
        raise ctx.fail(path, f"invalid port range {spec!r}: host and container ranges differ")
    for offset, target in enumerate(range(start, end + 1)):
        port: dict[str, Any] = {"mode": "ingress"}
        if host_ip:
            port["host_ip"] = host_ip
        port["target"] = target
        if published:
            if end == start:
                port["published"] = published
            else:
                port["published"] = str(p_start + offset)
        port["protocol"] = protocol
        ports.append(port)
    return ports


def long_port(spec: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    port: dict[str, Any] = {}
    if "name" in spec:
        port["name"] = spec["name"]
    port["mode"] = spec.get("mode") or "ingress"
    if spec.get("host_ip"):
        port["host_ip"] = spec["host_ip"]
    port["target"] = to_int(spec.get("target"), ctx, f"{path}.target")
    if spec.get("published") not in (None, ""):
        port["published"] = string(spec["published"])
    port["protocol"] = spec.get("protocol") or "tcp"
    if "app_protocol" in spec:
        port["app_protocol"] = spec["app_protocol"]
    return port


_BIND_PROPAGATION = frozenset({"shared", "rshared", "slave", "rslave", "private", "rprivate"})
_CONSISTENCY = frozenset({"consistent", "cached", "delegated"})


def clean_target(target: str) -> str:
    """A container path cleaned as Go's ``path.Clean`` cleans it."""
    if not target:
        return target
    cleaned = posixpath.normpath(target)
    if cleaned.startswith("//"):
        cleaned = "/" + cleaned.lstrip("/")
    return cleaned


def _is_path(source: str) -> bool:
    return source.startswith((".", "/", "~")) or (len(source) > 1 and source[1] == ":")


def parse_volume(spec: str, ctx: Context, path: str) -> dict[str, Any]:
    parts = spec.split(":")
    if re.match(r"^[A-Za-z]:[\\/]", spec):  # a Windows drive letter, as Compose reads it
        parts = [parts[0] + ":" + parts[1], *parts[2:]]
    if len(parts) > 3:
        raise ctx.fail(path, f"invalid volume specification {spec!r}: too many colons")
    if len(parts) == 1:
        anonymous: dict[str, Any] = {"type": "volume", "target": clean_target(parts[0])}
        if len(spec) > 2:  # Compose's parser gives "/d" (two characters) no volume options
            anonymous["volume"] = {}
        return anonymous
    source, target = parts[0], parts[1]
    options = parts[2].split(",") if len(parts) == 3 else []
    if not source:
        raise ctx.fail(path, f"invalid volume specification {spec!r}: empty source")
    volume: dict[str, Any] = {"type": "bind" if _is_path(source) else "volume"}
    volume["source"] = ctx.abspath(source) if volume["type"] == "bind" else source
    volume["target"] = clean_target(target)
    bind: dict[str, Any] = {}
    named: dict[str, Any] = {}
    for option in options:
        if option == "ro":
            volume["read_only"] = True
        elif option == "rw":
            volume["read_only"] = False
        elif option in ("z", "Z"):
            bind["selinux"] = option
        elif option in _BIND_PROPAGATION:
            bind["propagation"] = option
        elif option in _CONSISTENCY:
            volume["consistency"] = option
        elif option == "nocopy":
            named["nocopy"] = True
        elif option:
            raise ctx.fail(path, f"invalid volume option {option!r} in {spec!r}")
    if volume.get("read_only") is False:
        del volume["read_only"]
    if volume["type"] == "bind":
        bind["create_host_path"] = True
        volume["bind"] = bind
    else:
        volume["volume"] = named
    return volume


def long_volume(spec: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    volume = dict(spec)
    kind = volume.get("type")
    if isinstance(volume.get("target"), str):
        volume["target"] = clean_target(volume["target"])
    if kind == "bind" and isinstance(volume.get("source"), str):
        volume["source"] = ctx.abspath(volume["source"])
    if "read_only" in volume:
        volume["read_only"] = to_bool(volume["read_only"], ctx, f"{path}.read_only")
        if not volume["read_only"]:
            del volume["read_only"]
    if isinstance(volume.get("bind"), dict):
        bind = dict(volume["bind"])
        if "create_host_path" in bind:
            if to_bool(bind["create_host_path"], ctx, f"{path}.bind.create_host_path"):
                bind["create_host_path"] = True
            else:
                del bind["create_host_path"]
        volume["bind"] = bind
    if isinstance(volume.get("tmpfs"), dict):
        tmpfs = dict(volume["tmpfs"])
        if "size" in tmpfs:
            tmpfs["size"] = size(tmpfs["size"], ctx, f"{path}.tmpfs.size")
        if "mode" in tmpfs:
            tmpfs["mode"] = to_int(tmpfs["mode"], ctx, f"{path}.tmpfs.mode")
        volume["tmpfs"] = tmpfs
    if isinstance(volume.get("volume"), dict):
        named = dict(volume["volume"])
        if "nocopy" in named:
            named["nocopy"] = to_bool(named["nocopy"], ctx, f"{path}.volume.nocopy")
        if "labels" in named:
            named["labels"] = key_value_map(named["labels"], ctx, f"{path}.volume.labels", empty="")
        volume["volume"] = named
    return volume


def file_mode(value: Any, ctx: Context, path: str) -> str:
    if isinstance(value, str):
        try:
            value = int(value, 8)
        except ValueError:
            raise ctx.fail(path, f"invalid file mode {value!r}") from None
    return "0" + format(to_int(value, ctx, path), "o")


def file_reference(value: Any, ctx: Context, path: str, default_target: str | None) -> dict[str, Any]:
    if isinstance(value, str):
        ref: dict[str, Any] = {"source": value}
        if default_target is not None:
            ref["target"] = f"{default_target}/{value}"
        return ref
    ref = dict(value)
    if "target" not in ref and default_target is not None:
        ref["target"] = f"{default_target}/{ref.get('source')}"
    for key in ("uid", "gid"):
        if key in ref:
            ref[key] = string(ref[key])
    if "mode" in ref:
        ref["mode"] = file_mode(ref["mode"], ctx, f"{path}.mode")
    return ref


def extra_hosts(value: Any) -> list[str]:
    """``host=address`` entries, sorted as Compose prints them."""
    hosts: list[str] = []
    if isinstance(value, dict):
        for host, address in value.items():
            for one in address if isinstance(address, list) else [address]:
                hosts.append(f"{host}={string(one)}")
        return sorted(hosts)
    for entry in string_list(value):
        if "=" in entry:
            hosts.append(entry)
        else:
            host, _, address = entry.partition(":")
            hosts.append(f"{host}={address}")
    return sorted(hosts)


def healthcheck(value: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    check = dict(value)
    test = check.get("test")
    if isinstance(test, str):
        check["test"] = ["CMD-SHELL", test]
    elif isinstance(test, list):
        check["test"] = [string(t) for t in test]
    for key in ("interval", "timeout", "start_period", "start_interval"):
        if key in check and check[key] is not None:
            check[key] = duration(check[key], ctx, f"{path}.{key}")
    if "retries" in check:
        check["retries"] = to_int(check["retries"], ctx, f"{path}.retries")
    if "disable" in check:
        check["disable"] = to_bool(check["disable"], ctx, f"{path}.disable")
    return check


def ulimits(value: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, limit in value.items():
        if isinstance(limit, dict):
            result[name] = {
                k: to_int(v, ctx, f"{path}.{name}.{k}") for k, v in limit.items()
            }
        else:
            result[name] = to_int(limit, ctx, f"{path}.{name}")
    return result


def build(value: Any, ctx: Context, path: str) -> dict[str, Any]:
    if isinstance(value, str):
        value = {"context": value}
    spec = dict(value)
    context = string(spec.get("context", "."))
    if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://|^git@", context) and not context.startswith(
        "docker-image:"
    ):
        context = ctx.abspath(context)
    spec["context"] = context
    if "args" in spec:
        # unresolved names stay None until the files are merged (an override may unset one)
        spec["args"] = key_value_map(spec["args"], ctx, f"{path}.args", resolve=True)
    for key in ("labels", "additional_contexts"):
        if key in spec:
            spec[key] = key_value_map(spec[key], ctx, f"{path}.{key}", empty="")
    if "additional_contexts" in spec:
        for name, where in spec["additional_contexts"].items():
            if where and not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", where):
                spec["additional_contexts"][name] = ctx.abspath(where)
    if "extra_hosts" in spec:
        spec["extra_hosts"] = extra_hosts(spec["extra_hosts"])
    if "shm_size" in spec:
        spec["shm_size"] = size(spec["shm_size"], ctx, f"{path}.shm_size")
    if "secrets" in spec:
        spec["secrets"] = [file_reference(s, ctx, f"{path}.secrets[{i}]", None) for i, s in enumerate(spec["secrets"])]
    for key in ("no_cache", "pull", "privileged"):
        if key in spec:
            spec[key] = to_bool(spec[key], ctx, f"{path}.{key}")
    if "ulimits" in spec:
        spec["ulimits"] = ulimits(spec["ulimits"], ctx, f"{path}.ulimits")
    if "ssh" in spec:
        ssh = spec["ssh"]
        spec["ssh"] = [f"{k}={v}" if v is not None else k for k, v in ssh.items()] if isinstance(ssh, dict) else string_list(ssh)
    return spec


def _nonzero_duration(table: dict[str, Any], key: str, ctx: Context, path: str) -> None:
    text = duration(table[key], ctx, path)
    if text == "0s":
        del table[key]  # Compose leaves zero durations out of deploy's settings
    else:
        table[key] = text


def blkio(value: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    """``blkio_config``: Compose prints its device entries with Go's field names."""
    spec = dict(value)
    if "weight_device" in spec:
        spec["weight_device"] = [{"Path": d.get("path"), "Weight": to_int(d.get("weight"), ctx, path)}
                                 for d in spec["weight_device"] or []]
    for key in ("device_read_bps", "device_write_bps"):
        if key in spec:
            spec[key] = [{"Path": d.get("path"), "Rate": size(d.get("rate"), ctx, f"{path}.{key}")}
                         for d in spec[key] or []]
    for key in ("device_read_iops", "device_write_iops"):
        if key in spec:
            spec[key] = [{"Path": d.get("path"), "Rate": str(to_int(d.get("rate"), ctx, f"{path}.{key}"))}
                         for d in spec[key] or []]
    if "weight" in spec:
        spec["weight"] = to_int(spec["weight"], ctx, f"{path}.weight")
    return spec


def hook(value: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    """A ``post_start``/``pre_stop`` hook: command split, environment as a map."""
    spec = dict(value)
    if "command" in spec:
        spec["command"] = shell_words(spec["command"], ctx, f"{path}.command")
    if "environment" in spec:
        spec["environment"] = key_value_map(spec["environment"], ctx, f"{path}.environment", resolve=True)
    if "privileged" in spec:
        spec["privileged"] = to_bool(spec["privileged"], ctx, f"{path}.privileged")
    return spec


def deploy(value: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    spec = dict(value)
    spec.setdefault("resources", {})
    if "replicas" in spec and spec["replicas"] is not None:
        spec["replicas"] = to_int(spec["replicas"], ctx, f"{path}.replicas")
    if "labels" in spec:
        spec["labels"] = key_value_map(spec["labels"], ctx, f"{path}.labels", empty="")
    resources = spec.get("resources")
    if isinstance(resources, dict):
        resources = dict(resources)
        for kind in ("limits", "reservations"):
            part = resources.get(kind)
            if isinstance(part, dict):
                part = dict(part)
                if "cpus" in part:
                    part["cpus"] = to_float(part["cpus"], ctx, f"{path}.resources.{kind}.cpus")
                if "memory" in part:
                    part["memory"] = size(part["memory"], ctx, f"{path}.resources.{kind}.memory")
                if "pids" in part:
                    part["pids"] = to_int(part["pids"], ctx, f"{path}.resources.{kind}.pids")
                resources[kind] = part
        spec["resources"] = resources
    policy = spec.get("restart_policy")
    if isinstance(policy, dict):
        spec["restart_policy"] = _policy(
            policy, ctx, f"{path}.restart_policy", ("delay", "window"), {"max_attempts": to_int}
        )
    for key in ("update_config", "rollback_config"):
        update = spec.get(key)
        if isinstance(update, dict):
            spec[key] = _policy(
                update,
                ctx,
                f"{path}.{key}",
                ("delay", "monitor"),
                {"parallelism": to_int, "max_failure_ratio": to_float},
            )
    return spec


_INT_KEYS = ("cpu_count", "cpu_percent", "cpu_shares", "cpu_period", "cpu_quota", "cpu_rt_period", "cpu_rt_runtime",
             "oom_score_adj", "pids_limit", "scale")
_BOOL_KEYS = ("attach", "init")  # kept when false
_FLAG_KEYS = ("oom_kill_disable", "privileged", "read_only", "stdin_open", "tty", "use_api_socket")
_SIZE_KEYS = ("mem_limit", "mem_reservation", "memswap_limit", "shm_size", "mem_swappiness")
_LIST_KEYS = ("cap_add", "cap_drop", "dns", "dns_opt", "dns_search", "tmpfs", "external_links",
              "links", "security_opt", "volumes_from", "device_cgroup_rules", "group_add", "profiles")


def service(name: str, value: Any, ctx: Context) -> dict[str, Any]:
    """One service in canonical form (``extends`` is kept for the loader to resolve)."""
    path = f"services.{name}"
    if isinstance(value, Reset):
        return value  # type: ignore[return-value]
    if isinstance(value, Override):
        return Override(service(name, value.value, ctx))  # type: ignore[return-value]
    if value is None:
        value = {}
    out: dict[str, Any] = {}
    for key, item in value.items():
        if isinstance(item, (Reset, Override)):
            out[key] = item
            continue
        if item is None and key not in ("command", "entrypoint"):
            out[key] = None
            continue
        convert = _SERVICE_KEYS.get(key)
        converted = item if convert is None else convert(item, ctx, f"{path}.{key}")
        if converted is not _LEAVE_OUT:
            out[key] = converted
    return out


_LEAVE_OUT: Final = object()
"""What a service key's converter gives for a value that Compose leaves out."""


def _ports(item: Any, ctx: Context, where: str) -> list[dict[str, Any]]:
    ports: list[dict[str, Any]] = []
    for i, port in enumerate(item):
        if isinstance(port, dict):
            ports.append(long_port(port, ctx, f"{where}[{i}]"))
        else:
            ports.extend(parse_port(port, ctx, f"{where}[{i}]"))
    return ports


def _volumes(item: Any, ctx: Context, where: str) -> list[dict[str, Any]]:
    return [
        long_volume(v, ctx, f"{where}[{i}]")
        if isinstance(v, dict)
        else parse_volume(str(v), ctx, f"{where}[{i}]")
        for i, v in enumerate(item)
    ]


def _depends_on(item: Any, ctx: Context, where: str) -> dict[str, Any]:
    if isinstance(item, list):
        return {str(dep): {"condition": "service_started", "required": True} for dep in item}
    deps: dict[str, Any] = {}
    for dep, spec in item.items():
        spec = dict(spec or {})
        entry: dict[str, Any] = {"condition": spec.get("condition") or "service_started"}
        if "restart" in spec:
            entry["restart"] = to_bool(spec["restart"], ctx, f"{where}.{dep}.restart")
        entry["required"] = to_bool(spec.get("required", True), ctx, f"{where}.{dep}.required")
        deps[str(dep)] = entry
    return deps


def _networks(item: Any, ctx: Context, where: str) -> dict[str, Any]:
    if isinstance(item, list):
        return {str(n): None for n in item}
    nets: dict[str, Any] = {}
    for net, spec in item.items():
        if isinstance(spec, dict):
            spec = dict(spec)
            if "priority" in spec:
                spec["priority"] = to_int(spec["priority"], ctx, f"{where}.{net}.priority")
            if "aliases" in spec:
                spec["aliases"] = string_list(spec["aliases"])
        nets[str(net)] = spec
    return nets


def _env_file(item: Any, ctx: Context, where: str) -> list[dict[str, Any]]:
    entries = []
    for entry in item if isinstance(item, list) else [item]:
        if isinstance(entry, str):
            entry = {"path": entry, "required": True}
        else:
            entry = dict(entry)
            entry["required"] = to_bool(entry.get("required", True), ctx, f"{where}.required")
        entry["path"] = ctx.abspath(str(entry["path"]))
        entries.append(entry)
    return entries


def _flag(item: Any, ctx: Context, where: str) -> Any:
    # false is the default, which Compose leaves out
    return True if to_bool(item, ctx, where) else _LEAVE_OUT


def _logging(item: Any, ctx: Context, where: str) -> dict[str, Any]:
    logging = dict(item)
    if "options" in logging and logging["options"] is not None:
        logging["options"] = {
            str(k): None if v is None else string(v) for k, v in logging["options"].items()
        }
    return logging


def _provider(item: Any, ctx: Context, where: str) -> dict[str, Any]:
    provider = dict(item)
    if isinstance(provider.get("options"), dict):
        provider["options"] = {
            str(k): [string(x) for x in v] if isinstance(v, list) else [string(v)]
            for k, v in provider["options"].items()
        }
    return provider


def _develop(item: Any, ctx: Context, where: str) -> dict[str, Any]:
    develop = dict(item)
    if isinstance(develop.get("watch"), list):
        watches = []
        for watch in develop["watch"]:
            watch = dict(watch)
            if isinstance(watch.get("path"), str):
                watch["path"] = ctx.abspath(watch["path"])
            exec_ = dict(watch.get("exec") or {})
            exec_["command"] = shell_words(exec_.get("command"), ctx, where)
            watch["exec"] = exec_
            watches.append(watch)
        develop["watch"] = watches
    return develop


def _devices(item: Any, ctx: Context, where: str) -> list[dict[str, Any]]:
    devices = []
    for device in item:
        if isinstance(device, str):
            parts = device.split(":")
            entry = {
                "source": parts[0],
                "target": parts[1] if len(parts) > 1 else parts[0],
                "permissions": parts[2] if len(parts) > 2 else "rwm",
            }
            devices.append(entry)
        else:
            devices.append(dict(device))
    return devices


def _each(convert: Callable[[Any, Context, str], Any]) -> Callable[[Any, Context, str], Any]:
    """A converter of a list whose items ``convert`` converts, each at its index."""
    return lambda item, ctx, where: [convert(x, ctx, f"{where}[{i}]") for i, x in enumerate(item)]


_SERVICE_KEYS: Final[dict[str, Callable[[Any, Context, str], Any]]] = {
    # a service key's converter: (value, ctx, path) -> canonical value, or _LEAVE_OUT;
    # a key not here is kept as it is
    **dict.fromkeys(("working_dir", "user", "image", "hostname"), lambda v, c, w: string(v)),
    **dict.fromkeys(_SIZE_KEYS, size),
    **dict.fromkeys(_FLAG_KEYS, _flag),
    **dict.fromkeys(_BOOL_KEYS, to_bool),
    **dict.fromkeys(_INT_KEYS, to_int),
    **dict.fromkeys(_LIST_KEYS, lambda v, c, w: string_list(v)),
    "environment": lambda v, c, w: key_value_map(v, c, w, resolve=True),
    **dict.fromkeys(
        ("labels", "annotations", "sysctls", "storage_opt"),
        lambda v, c, w: key_value_map(v, c, w, empty=""),
    ),
    "command": shell_words,
    "entrypoint": shell_words,
    "ports": _ports,
    "expose": lambda v, c, w: [string(e) for e in v],
    "volumes": _volumes,
    "depends_on": _depends_on,
    "secrets": _each(lambda s, c, w: file_reference(s, c, w, "/run/secrets")),
    "configs": _each(lambda s, c, w: file_reference(s, c, w, None)),
    "networks": _networks,
    "build": build,
    "healthcheck": healthcheck,
    "deploy": deploy,
    "ulimits": ulimits,
    "extra_hosts": lambda v, c, w: extra_hosts(v),
    "env_file": _env_file,
    "label_file": lambda v, c, w: [c.abspath(str(f)) for f in string_list(v)],
    "cpus": to_float,
    "stop_grace_period": duration,
    "logging": _logging,
    "gpus": lambda v, c, w: [{"count": -1}] if v == "all" else [dict(g) for g in v],
    "models": lambda v, c, w: {str(m): None for m in v} if isinstance(v, list) else dict(v),
    "provider": _provider,
    "pull_refresh_after": lambda v, c, w: _LEAVE_OUT,  # Compose 2.40.3 checks it, keeps it not
    "blkio_config": blkio,
    "post_start": _each(hook),
    "pre_stop": _each(hook),
    "develop": _develop,
    "extends": lambda v, c, w: {"service": v} if isinstance(v, str) else dict(v),
    "devices": _devices,
}
"""The canonical form of each service key (the key sets above are disjoint)."""


def _policy(
    value: dict[str, Any],
    ctx: Context,
    path: str,
    durations: tuple[str, ...],
    numbers: dict[str, Callable[[Any, Context, str], Any]],
) -> dict[str, Any]:
    """A copy of a deploy policy with its non-zero durations and its numbers converted."""
    value = dict(value)
    for key in durations:
        if key in value:
            _nonzero_duration(value, key, ctx, f"{path}.{key}")
    for key, convert in numbers.items():
        if key in value:
            value[key] = convert(value[key], ctx, f"{path}.{key}")
    return value


def named_resources(kind: str, value: Any, ctx: Context) -> dict[str, Any]:
    """Top-level networks, volumes, secrets or configs in canonical form."""
    result: dict[str, Any] = {}
    for name, spec in (value or {}).items():
        where = f"{kind}.{name}"
        if isinstance(spec, (Reset, Override)):
            result[name] = spec
            continue
        spec = dict(spec or {})
        if "labels" in spec:
            spec["labels"] = key_value_map(spec["labels"], ctx, f"{where}.labels", empty="")
        if "driver_opts" in spec and spec["driver_opts"] is not None:
            spec["driver_opts"] = {str(k): string(v) for k, v in spec["driver_opts"].items()}
        if "external" in spec:
            external = spec["external"]
            if isinstance(external, dict):
                if "name" in external:
                    spec.setdefault("name", external["name"])
                spec["external"] = True
            else:
                spec["external"] = to_bool(external, ctx, f"{where}.external")
        for key in ("internal", "attachable", "enable_ipv6", "enable_ipv4"):
            if key in spec:
                spec[key] = to_bool(spec[key], ctx, f"{where}.{key}")
        if kind in ("secrets", "configs"):
            sources = [k for k in ("file", "environment", "content") if spec.get(k) is not None]
            if len(sources) > 1:
                raise ctx.fail(where, f"{'|'.join(sources)} attributes are mutually exclusive")
        if kind in ("secrets", "configs") and isinstance(spec.get("file"), str):
            spec["file"] = ctx.abspath(spec["file"])
        result[str(name)] = spec
    return result
