"""The public surface matches aiodocker 0.27 (its public API as users see it).

The contract is encoded below as data: for every public callable, its module, owner
class, name, kind and parameter list (written as a Python parameter list and parsed
with ``ast``, so names, order, positional/keyword-only kinds and defaults are exact).
Each entry is checked against the package with ``inspect``.

Compatibility rule for signatures: every call that is valid against 0.27 must bind the
same way here. So positional parameters match exactly (names, order, defaults); the
contract's keyword-only parameters come first among ours, in order, with equal
defaults; we may add keyword-only parameters *with defaults* after them (going beyond
the contract), and may add a default to a parameter the contract requires. A missing,
renamed, reordered or re-kinded parameter, or a changed default, is a failure.

Where the contract names something without spelling out the detail (exception
``str``/``repr`` of the subclasses, ``human_bool`` on unknown words,
``parse_content_type`` on malformed input, ``clean_networks`` passing dicts through),
the expected values are facts observed on the 0.27.0 wheel; those tests say so.

No test talks to a daemon: clients point at a socket path that does not exist and
nothing is awaited that would connect.
"""

from __future__ import annotations

import ast
import base64
import enum
import importlib
import inspect
import io
import json
import pickle
import tarfile
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, NamedTuple

import pytest

from aiodocker.types import SENTINEL

# --------------------------------------------------------------------------
# the contract as data

REQUIRED: Final = inspect.Parameter.empty
POSITIONAL: Final = "positional"
KEYWORD: Final = "keyword-only"
VAR_POSITIONAL: Final = "*args"
VAR_KEYWORD: Final = "**kwargs"

OFFLINE_URL: Final = "unix:///nonexistent-aiodocker-compat/docker.sock"


class Param(NamedTuple):
    name: str
    kind: str
    default: Any


def parse_params(spec: str) -> tuple[Param, ...]:
    """Turn a Python parameter list (``"a, b=1, *, c=SENTINEL, **kw"``) into Params."""
    func = ast.parse(f"def _({spec}): pass").body[0]
    assert isinstance(func, ast.FunctionDef)
    args = func.args

    def value(node: ast.expr | None) -> Any:
        if node is None:
            return REQUIRED
        if isinstance(node, ast.Name) and node.id == "SENTINEL":
            return SENTINEL
        return ast.literal_eval(node)

    params: list[Param] = []
    positional = args.args
    pos_defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    for arg, default in zip(positional, pos_defaults, strict=True):
        params.append(Param(arg.arg, POSITIONAL, value(default)))
    if args.vararg is not None:
        params.append(Param(args.vararg.arg, VAR_POSITIONAL, REQUIRED))
    for arg, kw_default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        params.append(Param(arg.arg, KEYWORD, value(kw_default)))
    if args.kwarg is not None:
        params.append(Param(args.kwarg.arg, VAR_KEYWORD, REQUIRED))
    return tuple(params)


@dataclass(frozen=True)
class Member:
    """One public member. ``owner`` is a class name, or None for a module function.

    kind: "async" (async def), "sync" (plain call), "flag" (plain def whose result is
    awaitable or an async iterator depending on ``flag``), "cm" (plain call returning an
    async context manager), "ctor" (the class's constructor), "property".
    ``params`` is None when only the kind is checked (dunder protocol methods).
    """

    module: str
    owner: str | None
    name: str
    kind: str
    params: str | None = ""
    flag: str | None = None

    @property
    def label(self) -> str:
        short = self.module.removeprefix("aiodocker.")
        return ".".join(p for p in (short, self.owner, self.name) if p)


def members(module: str, owner: str | None, rows: list[tuple[Any, ...]]) -> list[Member]:
    return [Member(module, owner, *row) for row in rows]


SUB_API_CTOR: Final = ("__init__", "ctor", "docker")

# fmt: off
CONTRACT: Final[list[Member]] = [
    # §2 Docker
    *members("aiodocker.docker", "Docker", [
        ("__init__", "ctor", "url=None, connector=None, session=None, timeout=None, "
                             "ssl_context=None, api_version='auto', context=None"),
        ("__aenter__", "async", None),
        ("__aexit__", "async", None),
        ("close", "async", ""),
        ("auth", "async", "**credentials"),
        ("version", "async", ""),
        ("_query", "cm", "path, method='GET', *, params=None, data=None, headers=None, "
                         "timeout=SENTINEL, chunked=None, read_until_eof=True, "
                         "versioned_api=True"),
        ("_query_json", "async", "path, method='GET', *, params=None, data=None, "
                                 "headers=None, timeout=SENTINEL, read_until_eof=True, "
                                 "versioned_api=True"),
        ("_query_chunked_post", "cm", "path, method='POST', *, params=None, data=None, "
                                      "headers=None, timeout=SENTINEL, read_until_eof=True, "
                                      "versioned_api=True"),
        ("_websocket", "async", "path, **params"),
    ]),
    # §3 DockerContainers
    *members("aiodocker.containers", "DockerContainers", [
        SUB_API_CTOR,
        ("list", "async", "**kwargs"),
        ("create_or_replace", "async", "name, config"),
        ("create", "async", "config, *, name=None"),
        ("run", "async", "config, *, auth=None, name=None"),
        ("get", "async", "container_id, **kwargs"),
        ("container", "sync", "container_id, **kwargs"),
        ("exec", "sync", "exec_id"),
        ("prune", "async", "*, filters=None"),
    ]),
    # §4 DockerContainer
    *members("aiodocker.containers", "DockerContainer", [
        ("__init__", "ctor", "docker, **kwargs"),
        ("id", "property"),
        ("__getitem__", "sync", "key"),
        ("__contains__", "sync", "key"),
        ("log", "flag", "*, stdout=False, stderr=False, follow=False, timeout=SENTINEL, "
                        "**kwargs", "follow"),
        ("get_archive", "async", "path"),
        ("put_archive", "async", "path, data"),
        ("show", "async", "**kwargs"),
        ("stop", "async", "*, t=None, signal=None, timeout=SENTINEL"),
        ("start", "async", "**kwargs"),
        ("restart", "async", "*, t=None, timeout=SENTINEL"),
        ("kill", "async", "*, signal=None, timeout=SENTINEL"),
        ("wait", "async", "*, timeout=SENTINEL, **kwargs"),
        ("delete", "async", "*, force=False, v=False, link=False, timeout=SENTINEL"),
        ("rename", "async", "newname"),
        ("websocket", "async", "**params"),
        ("attach", "sync", "*, stdout=False, stderr=False, stdin=False, detach_keys=None, "
                           "logs=False, timeout=SENTINEL"),
        ("port", "async", "private_port"),
        ("stats", "flag", "*, stream=True, timeout=SENTINEL", "stream"),
        ("exec", "async", "cmd, stdout=True, stderr=True, stdin=False, tty=False, "
                          "privileged=False, user='', environment=None, workdir=None, "
                          "detach_keys=None"),
        ("resize", "async", "*, h, w"),
        ("commit", "async", "*, repository=None, tag=None, message=None, author=None, "
                            "changes=None, config=None, pause=True, timeout=SENTINEL"),
        ("top", "async", "*, ps_args=None"),
        ("pause", "async", ""),
        ("unpause", "async", ""),
    ]),
    # §5 DockerLog and Channel
    *members("aiodocker.logs", "DockerLog", [
        ("listen", "sync", ""),
        ("subscribe", "sync", ""),
        ("run", "async", "**params"),
        ("stop", "async", ""),
    ]),
    *members("aiodocker.channel", "Channel", [
        ("__init__", "ctor", ""),
        ("publish", "async", "obj"),
        ("subscribe", "sync", ""),
    ]),
    *members("aiodocker.channel", "ChannelSubscriber", [
        ("__init__", "ctor", "channel"),
        ("get", "async", ""),
    ]),
    # §6 Exec and Stream
    *members("aiodocker.execs", "Exec", [
        ("__init__", "ctor", "docker, id, tty=None"),
        ("id", "property"),
        ("inspect", "async", ""),
        ("resize", "async", "*, h=None, w=None"),
        ("start", "flag", "*, timeout=SENTINEL, detach=False", "detach"),
    ]),
    *members("aiodocker.stream", "Stream", [
        ("__init__", "ctor", "docker, setup, timeout=None"),
        ("__aenter__", "async", None),
        ("__aexit__", "async", None),
        ("read_out", "async", ""),
        ("write_in", "async", "data"),
        ("close", "async", ""),
    ]),
    # §7 DockerImages
    *members("aiodocker.images", "DockerImages", [
        SUB_API_CTOR,
        ("list", "async", "*, filters=None, **params"),
        ("inspect", "async", "name"),
        ("get", "async", "name"),
        ("history", "async", "name"),
        ("pull", "flag", "from_image, *, auth=None, tag=None, repo=None, platform=None, "
                         "stream=False, timeout=SENTINEL", "stream"),
        ("push", "flag", "name, *, auth=None, tag=None, stream=False, timeout=SENTINEL",
         "stream"),
        ("tag", "async", "name, repo, *, tag=None"),
        ("delete", "async", "name, *, force=False, noprune=False"),
        ("prune", "async", "*, filters=None"),
        ("prune_builds", "async", "*, reserved_space=None, max_used_space=None, "
                                  "min_free_space=None, all_builds=None, filters=None"),
        ("build", "flag", "*, remote=None, fileobj=None, path_dockerfile=None, tag=None, "
                          "quiet=False, nocache=False, buildargs=None, pull=False, rm=True, "
                          "forcerm=False, labels=None, platform=None, stream=False, "
                          "encoding=None, timeout=SENTINEL", "stream"),
        ("export_image", "cm", "name, timeout=SENTINEL"),
        ("import_image", "flag", "data, stream=False, timeout=SENTINEL", "stream"),
    ]),
    # §8 DockerEvents
    *members("aiodocker.events", "DockerEvents", [
        SUB_API_CTOR,
        ("listen", "sync", ""),
        ("subscribe", "sync", "*, create_task=True, **params"),
        ("run", "async", "*, timeout=SENTINEL, **params"),
        ("stop", "async", ""),
    ]),
    # §9 smaller sub-APIs
    *members("aiodocker.system", "DockerSystem", [
        SUB_API_CTOR,
        ("info", "async", ""),
    ]),
    *members("aiodocker.volumes", "DockerVolumes", [
        SUB_API_CTOR,
        ("list", "async", "*, filters=None"),
        ("get", "async", "id"),
        ("create", "async", "config"),
        ("prune", "async", "*, filters=None"),
    ]),
    *members("aiodocker.volumes", "DockerVolume", [
        ("__init__", "ctor", "docker, name"),
        ("show", "async", ""),
        ("delete", "async", "force=False"),
    ]),
    *members("aiodocker.networks", "DockerNetworks", [
        SUB_API_CTOR,
        ("list", "async", "*, filters=None"),
        ("create", "async", "config"),
        ("get", "async", "net_specs"),
        ("prune", "async", "*, filters=None"),
    ]),
    *members("aiodocker.networks", "DockerNetwork", [
        ("__init__", "ctor", "docker, id_"),
        ("show", "async", ""),
        ("delete", "async", ""),
        ("connect", "async", "config"),
        ("disconnect", "async", "config"),
    ]),
    *members("aiodocker.configs", "DockerConfigs", [
        SUB_API_CTOR,
        ("list", "async", "*, filters=None"),
        ("create", "async", "name, data, *, b64=False, labels=None, templating=None"),
        ("inspect", "async", "config_id"),
        ("delete", "async", "config_id"),
        ("update", "async", "config_id, version, *, name=None, data=None, b64=False, "
                            "labels=None, templating=None"),
    ]),
    *members("aiodocker.secrets", "DockerSecrets", [
        SUB_API_CTOR,
        ("list", "async", "*, filters=None"),
        ("create", "async", "name, data, *, b64=False, labels=None, driver=None, "
                            "templating=None"),
        ("inspect", "async", "secret_id"),
        ("delete", "async", "secret_id"),
        ("update", "async", "secret_id, version, *, name=None, data=None, b64=False, "
                            "labels=None, driver=None, templating=None"),
    ]),
    *members("aiodocker.services", "DockerServices", [
        SUB_API_CTOR,
        ("list", "async", "*, filters=None"),
        ("create", "async", "task_template, *, name=None, labels=None, mode=None, "
                            "update_config=None, rollback_config=None, networks=None, "
                            "endpoint_spec=None, auth=None, registry=None"),
        ("update", "async", "service_id, version, *, image=None, rollback=False"),
        ("delete", "async", "service_id"),
        ("inspect", "async", "service_id"),
        ("logs", "flag", "service_id, *, details=False, follow=False, stdout=False, "
                         "stderr=False, since=0, timestamps=False, is_tty=False, tail='all'",
         "follow"),
    ]),
    *members("aiodocker.swarm", "DockerSwarm", [
        SUB_API_CTOR,
        ("init", "async", "*, advertise_addr=None, data_path_port=None, "
                          "default_addr_pool=None, listen_addr='0.0.0.0:2377', "
                          "force_new_cluster=False, subnet_size=24, swarm_spec=None"),
        ("inspect", "async", ""),
        ("join", "async", "*, remote_addrs, listen_addr='0.0.0.0:2377', join_token, "
                          "advertise_addr=None, data_path_addr=None"),
        ("leave", "async", "*, force=False"),
    ]),
    *members("aiodocker.nodes", "DockerSwarmNodes", [
        SUB_API_CTOR,
        ("list", "async", "*, filters=None"),
        ("inspect", "async", "*, node_id"),
        ("update", "async", "*, node_id, version, spec"),
        ("remove", "async", "*, node_id, force=False"),
    ]),
    *members("aiodocker.tasks", "DockerTasks", [
        SUB_API_CTOR,
        ("list", "async", "*, filters=None"),
        ("inspect", "async", "task_id"),
    ]),
    # §10 exceptions
    *members("aiodocker.exceptions", "DockerError", [
        ("__init__", "ctor", "status, message, *args"),
    ]),
    *members("aiodocker.exceptions", "DockerContainerError", [
        ("__init__", "ctor", "status, message, container_id, *args"),
    ]),
    *members("aiodocker.exceptions", "DockerStreamError", [
        ("__init__", "ctor", "message, *, error_detail=None, status=0"),
    ]),
    *members("aiodocker.exceptions", "DockerContextError", [
        ("__init__", "ctor", "message, context_name=None"),
    ]),
    *members("aiodocker.exceptions", "DockerContextInvalidError", [
        ("__init__", "ctor", "message, context_name=None"),
    ]),
    *members("aiodocker.exceptions", "DockerContextTLSError", [
        ("__init__", "ctor", "message, context_name=None"),
    ]),
    # §11 types and utils
    *members("aiodocker.docker", "DockerContextEndpoint", [
        ("__init__", "ctor", "host, context_name=None, skip_tls_verify=False, tls_ca=None, "
                             "tls_cert=None, tls_key=None"),
        ("has_tls", "property"),
    ]),
    *members("aiodocker.utils", None, [
        ("parse_result", "async", "response, response_type=None, *, encoding='utf-8'"),
        ("parse_content_type", "sync", "ct"),
        ("identical", "sync", "d1, d2"),
        ("human_bool", "sync", "s"),
        ("httpize", "sync", "d"),
        ("clean_map", "sync", "obj"),
        ("format_env", "sync", "key, value"),
        ("clean_networks", "sync", "networks=None"),
        ("clean_filters", "sync", "filters=None"),
        ("mktar_from_dockerfile", "sync", "fileobj"),
        ("compose_auth_header", "sync", "auth, registry_addr=None"),
    ]),
    *members("aiodocker.ssh", "SSHConnector", [
        ("__init__", "ctor", "ssh_url, strict_host_keys=True, **kwargs"),
    ]),
]

# fmt: on

# §1: module paths users import, and the names each must have.
MODULE_NAMES: Final[dict[str, tuple[str, ...]]] = {
    "aiodocker": ("Docker", "__version__", "__all__"),
    "aiodocker.docker": ("Docker", "DockerContextEndpoint"),
    "aiodocker.containers": ("DockerContainers", "DockerContainer"),
    "aiodocker.execs": ("Exec", "Stream"),
    "aiodocker.stream": ("Stream", "Message"),
    "aiodocker.images": ("DockerImages",),
    "aiodocker.events": ("DockerEvents",),
    "aiodocker.logs": ("DockerLog",),
    "aiodocker.channel": ("Channel", "ChannelSubscriber"),
    "aiodocker.networks": ("DockerNetworks", "DockerNetwork"),
    "aiodocker.volumes": ("DockerVolumes", "DockerVolume"),
    "aiodocker.configs": ("DockerConfigs",),
    "aiodocker.secrets": ("DockerSecrets",),
    "aiodocker.services": ("DockerServices",),
    "aiodocker.swarm": ("DockerSwarm",),
    "aiodocker.nodes": ("DockerSwarmNodes",),
    "aiodocker.tasks": ("DockerTasks",),
    "aiodocker.system": ("DockerSystem",),
    "aiodocker.exceptions": (
        "DockerError",
        "DockerContainerError",
        "DockerStreamError",
        "DockerContextError",
        "DockerContextInvalidError",
        "DockerContextTLSError",
    ),
    "aiodocker.types": (
        "JSONValue",
        "JSONObject",
        "JSONList",
        "MutableJSONValue",
        "MutableJSONObject",
        "MutableJSONList",
        "SupportsRead",
        "AsyncContainerFactory",
        "PortInfo",
        "Sentinel",
        "SENTINEL",
    ),
    "aiodocker.utils": (
        "parse_result",
        "parse_content_type",
        "identical",
        "human_bool",
        "httpize",
        "clean_map",
        "format_env",
        "clean_networks",
        "clean_filters",
        "mktar_from_dockerfile",
        "compose_auth_header",
    ),
    "aiodocker.ssh": ("SSHConnector",),
    "aiodocker.jsonstream": (),
    "aiodocker.multiplexed": (),
    "aiodocker.constants": ("STREAM_HEADER_SIZE_BYTES",),
}

PACKAGE_ALL: Final = (
    "Docker",
    "DockerContainerError",
    "DockerContextError",
    "DockerContextInvalidError",
    "DockerContextTLSError",
    "DockerError",
    "DockerStreamError",
)

DOCKER_MODULE_ALL: Final = {
    "Docker": "aiodocker.docker",
    "DockerConfigs": "aiodocker.configs",
    "DockerContainer": "aiodocker.containers",
    "DockerContainers": "aiodocker.containers",
    "DockerContextEndpoint": "aiodocker.docker",
    "DockerEvents": "aiodocker.events",
    "DockerImages": "aiodocker.images",
    "DockerLog": "aiodocker.logs",
    "DockerNetwork": "aiodocker.networks",
    "DockerNetworks": "aiodocker.networks",
    "DockerSecrets": "aiodocker.secrets",
    "DockerServices": "aiodocker.services",
    "DockerSwarm": "aiodocker.swarm",
    "DockerSwarmNodes": "aiodocker.nodes",
    "DockerSystem": "aiodocker.system",
    "DockerTasks": "aiodocker.tasks",
    "DockerVolume": "aiodocker.volumes",
    "DockerVolumes": "aiodocker.volumes",
}

# Docker instance attributes (§2): name -> class (module, name), None = only present.
DOCKER_ATTRIBUTES: Final[dict[str, tuple[str, str] | None]] = {
    "docker_host": None,
    "api_version": None,
    "connector": None,
    "session": None,
    "events": ("aiodocker.events", "DockerEvents"),
    "containers": ("aiodocker.containers", "DockerContainers"),
    "swarm": ("aiodocker.swarm", "DockerSwarm"),
    "services": ("aiodocker.services", "DockerServices"),
    "configs": ("aiodocker.configs", "DockerConfigs"),
    "secrets": ("aiodocker.secrets", "DockerSecrets"),
    "tasks": ("aiodocker.tasks", "DockerTasks"),
    "images": ("aiodocker.images", "DockerImages"),
    "volumes": ("aiodocker.volumes", "DockerVolumes"),
    "networks": ("aiodocker.networks", "DockerNetworks"),
    "nodes": ("aiodocker.nodes", "DockerSwarmNodes"),
    "system": ("aiodocker.system", "DockerSystem"),
}


# --------------------------------------------------------------------------
# comparing a signature with the contract


def actual_params(sig: inspect.Signature, *, drop_self: bool) -> list[Param]:
    kinds = {
        inspect.Parameter.POSITIONAL_ONLY: "positional-only",
        inspect.Parameter.POSITIONAL_OR_KEYWORD: POSITIONAL,
        inspect.Parameter.VAR_POSITIONAL: VAR_POSITIONAL,
        inspect.Parameter.KEYWORD_ONLY: KEYWORD,
        inspect.Parameter.VAR_KEYWORD: VAR_KEYWORD,
    }
    params = [Param(p.name, kinds[p.kind], p.default) for p in sig.parameters.values()]
    if drop_self and params and params[0].name == "self":
        params = params[1:]
    return params


def same_default(expected: Any, actual: Any) -> bool:
    if expected is REQUIRED or actual is REQUIRED:
        return expected is actual
    if expected is SENTINEL or actual is SENTINEL:
        return expected is actual
    return type(expected) is type(actual) and bool(expected == actual)


def fmt(params: list[Param] | tuple[Param, ...]) -> str:
    out = []
    for p in params:
        if p.kind == VAR_POSITIONAL:
            out.append(f"*{p.name}")
        elif p.kind == VAR_KEYWORD:
            out.append(f"**{p.name}")
        else:
            tag = "" if p.kind == POSITIONAL else f"[{p.kind}]"
            dflt = "" if p.default is REQUIRED else f"={p.default!r}"
            out.append(f"{p.name}{tag}{dflt}")
    return "(" + ", ".join(out) + ")"


def signature_problems(expected: tuple[Param, ...], actual: list[Param]) -> list[str]:
    """List the ways ``actual`` fails to accept every call that ``expected`` accepts."""
    problems: list[str] = []

    def split(params: Any) -> tuple[list[Param], bool, list[Param], bool]:
        positional = [p for p in params if p.kind in (POSITIONAL, "positional-only")]
        var_pos = any(p.kind == VAR_POSITIONAL for p in params)
        keyword = [p for p in params if p.kind == KEYWORD]
        var_kw = any(p.kind == VAR_KEYWORD for p in params)
        return positional, var_pos, keyword, var_kw

    e_pos, e_var_pos, e_kw, e_var_kw = split(expected)
    a_pos, a_var_pos, a_kw, a_var_kw = split(actual)

    # positional parameters: same names, order, kind and defaults; no extras
    for index, want in enumerate(e_pos):
        if index >= len(a_pos):
            where = next((p for p in actual if p.name == want.name), None)
            got = f"{where.kind}" if where else "missing"
            problems.append(f"positional parameter {want.name!r} #{index}: {got}")
            continue
        have = a_pos[index]
        if have.name != want.name:
            problems.append(f"positional #{index}: expected {want.name!r}, got {have.name!r}")
        elif have.kind != POSITIONAL:
            problems.append(f"{want.name!r}: expected positional-or-keyword, got {have.kind}")
        elif not same_default(want.default, have.default) and want.default is not REQUIRED:
            problems.append(
                f"{want.name!r}: default expected {want.default!r}, got {have.default!r}"
            )
    for extra in a_pos[len(e_pos) :]:
        if not e_var_pos:
            problems.append(f"extra positional parameter {extra.name!r}")
    if e_var_pos and not a_var_pos:
        problems.append("*args missing")

    # keyword-only: the contract's come first, in order, same defaults
    a_kw_names = [p.name for p in a_kw]
    for index, want in enumerate(e_kw):
        have_kw = next((p for p in a_kw if p.name == want.name), None)
        if have_kw is None:
            where = next((p for p in actual if p.name == want.name), None)
            if where is None:
                problems.append(f"keyword-only parameter {want.name!r} missing")
            else:
                problems.append(f"{want.name!r}: expected keyword-only, got {where.kind}")
            continue
        if a_kw_names.index(want.name) != index:
            problems.append(
                f"keyword-only {want.name!r}: expected at #{index} of {[p.name for p in e_kw]},"
                f" got #{a_kw_names.index(want.name)} of {a_kw_names}"
            )
        if not same_default(want.default, have_kw.default) and want.default is not REQUIRED:
            problems.append(
                f"{want.name!r}: default expected {want.default!r}, got {have_kw.default!r}"
            )
    expected_kw = {p.name for p in e_kw}
    for extra in a_kw:
        if extra.name not in expected_kw and extra.default is REQUIRED:
            problems.append(f"extra keyword-only parameter {extra.name!r} has no default")
    if e_var_kw and not a_var_kw:
        problems.append("**kwargs missing")
    return problems


# --------------------------------------------------------------------------
# resolving members


def load(module: str, owner: str | None = None, name: str | None = None) -> Any:
    obj: Any = importlib.import_module(module)
    if owner is not None:
        obj = getattr(obj, owner)
    if name is not None:
        obj = getattr(obj, name)
    return obj


def raw_member(member: Member) -> Any:
    """The member as stored on its class (not bound), or the module function."""
    if member.owner is None:
        return load(member.module, None, member.name)
    cls = load(member.module, member.owner)
    return inspect.getattr_static(cls, member.name)


def is_async_def(func: Any) -> bool:
    return inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(inspect.unwrap(func))


def is_async_gen_def(func: Any) -> bool:
    return inspect.isasyncgenfunction(func)


@pytest.mark.parametrize("member", CONTRACT, ids=lambda m: m.label)
def test_member_exists_with_contract_kind_and_signature(member: Member) -> None:
    try:
        raw = raw_member(member)
    except (ImportError, AttributeError) as exc:
        pytest.fail(f"{member.label}: missing ({type(exc).__name__}: {exc})")

    problems: list[str] = []
    if member.kind == "property":
        if not isinstance(raw, property):
            problems.append(f"expected a property, got {type(raw).__name__}")
    elif member.kind == "ctor":
        cls = load(member.module, member.owner)
        assert inspect.isclass(cls)
    else:
        func = raw.__func__ if isinstance(raw, (staticmethod, classmethod)) else raw
        if not callable(func):
            problems.append(f"expected a callable, got {type(raw).__name__}")
        elif member.kind == "async":
            if not is_async_def(func):
                problems.append("expected `async def` (await it), got a plain function")
        elif member.kind in ("sync", "flag", "cm"):
            if is_async_def(func):
                problems.append(f"expected a plain def ({member.kind}), got `async def`")
            if is_async_gen_def(func):
                problems.append(f"expected a plain def ({member.kind}), got an async generator")

    if member.params is not None and member.kind != "property":
        expected = parse_params(member.params)
        if member.kind == "ctor":
            sig = inspect.signature(load(member.module, member.owner))
            actual = actual_params(sig, drop_self=False)
        else:
            func = raw.__func__ if isinstance(raw, (staticmethod, classmethod)) else raw
            actual = actual_params(inspect.signature(func), drop_self=member.owner is not None)
        sig_problems = signature_problems(expected, actual)
        if sig_problems:
            problems.append(f"expected {fmt(expected)}, got {fmt(actual)}")
            problems.extend(sig_problems)

    if member.flag is not None:
        flag = next(p for p in parse_params(member.params or "") if p.name == member.flag)
        assert isinstance(flag.default, bool)
        # both values must be accepted by keyword: the parameter exists (checked
        # above) and a call with either value binds
        func = raw.__func__ if isinstance(raw, (staticmethod, classmethod)) else raw
        sig = inspect.signature(func)
        required = {
            p.name: "x"
            for p in sig.parameters.values()
            if p.default is REQUIRED
            and p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        }
        for value in (True, False):
            try:
                sig.bind(**{**required, member.flag: value})
            except TypeError as exc:
                problems.append(f"{member.flag}={value} does not bind: {exc}")

    assert not problems, f"{member.label}:\n  " + "\n  ".join(problems)


# --------------------------------------------------------------------------
# §1 module paths and __all__


@pytest.mark.parametrize("module", sorted(MODULE_NAMES))
def test_module_path_imports_and_has_listed_names(module: str) -> None:
    mod = importlib.import_module(module)
    missing = [name for name in MODULE_NAMES[module] if not hasattr(mod, name)]
    assert not missing, f"{module} lacks {missing}"


def test_package_all_is_aiodocker_027_all() -> None:
    import aiodocker

    assert tuple(aiodocker.__all__) == PACKAGE_ALL
    for name in PACKAGE_ALL:
        assert getattr(aiodocker, name) is load(
            "aiodocker.docker" if name == "Docker" else "aiodocker.exceptions", name
        )


def test_package_version_is_a_string() -> None:
    import aiodocker

    assert isinstance(aiodocker.__version__, str) and aiodocker.__version__


def test_docker_module_all_lists_the_sub_api_classes() -> None:
    import aiodocker.docker

    assert sorted(aiodocker.docker.__all__) == sorted(DOCKER_MODULE_ALL)
    for name, home in DOCKER_MODULE_ALL.items():
        assert getattr(aiodocker.docker, name) is load(home, name), name


def test_execs_reexports_the_stream_class() -> None:
    assert load("aiodocker.execs", "Stream") is load("aiodocker.stream", "Stream")


def test_stream_message_is_a_namedtuple_of_stream_and_data() -> None:
    message_cls = load("aiodocker.stream", "Message")
    message: Any = message_cls(1, b"out")
    assert message_cls._fields == ("stream", "data")
    assert (message.stream, message.data) == (1, b"out")
    assert message == (1, b"out")
    assert isinstance(message, tuple)


def test_stream_header_size_constant_is_eight() -> None:
    assert load("aiodocker.constants", "STREAM_HEADER_SIZE_BYTES") == 8


def test_ssh_connector_is_an_aiohttp_unix_connector() -> None:
    import aiohttp

    connector_cls = load("aiodocker.ssh", "SSHConnector")
    assert issubclass(connector_cls, aiohttp.UnixConnector)


# --------------------------------------------------------------------------
# §2 Docker instance, §4 DockerContainer, §6 Exec, §8 DockerEvents, §9 objects


@pytest.fixture
async def offline_docker() -> Any:
    """A client for a socket that does not exist: construction does no I/O."""
    from aiodocker import Docker

    docker = Docker(url=OFFLINE_URL)
    try:
        yield docker
    finally:
        await docker.close()


async def test_docker_has_public_attributes_and_sub_apis(offline_docker: Any) -> None:
    problems = []
    for attr, home in DOCKER_ATTRIBUTES.items():
        if not hasattr(offline_docker, attr):
            problems.append(f"missing {attr}")
        elif home is not None and not isinstance(getattr(offline_docker, attr), load(*home)):
            problems.append(f"{attr} is {type(getattr(offline_docker, attr)).__name__}")
    assert not problems
    assert offline_docker.docker_host == "unix://localhost"
    assert offline_docker.api_version == "auto"


async def test_docker_pull_and_push_are_image_aliases(offline_docker: Any) -> None:
    assert offline_docker.pull == offline_docker.images.pull
    assert offline_docker.push == offline_docker.images.push


async def test_sub_apis_are_made_once_and_are_plain_attributes_after(offline_docker: Any) -> None:
    # made on first access (their modules load lazily), then the same object every time
    containers = offline_docker.containers
    assert offline_docker.containers is containers
    assert vars(offline_docker)["containers"] is containers
    assert offline_docker.containers.docker is offline_docker
    # as with 0.27's plain attributes, a caller (or a subclass) may replace one
    offline_docker.images = replacement = object()
    assert offline_docker.images is replacement
    other = type(offline_docker)(url=OFFLINE_URL)
    try:
        assert other.containers is not containers  # per instance, not per class
    finally:
        await other.close()


def test_docker_module_reexports_the_resource_classes_of_0_27() -> None:
    import aiodocker.containers
    import aiodocker.docker
    import aiodocker.logs

    assert aiodocker.docker.DockerContainer is aiodocker.containers.DockerContainer
    assert aiodocker.docker.DockerLog is aiodocker.logs.DockerLog
    namespace: dict[str, Any] = {}
    exec("from aiodocker.docker import *", namespace)  # noqa: S102 - the star import itself
    assert set(aiodocker.docker.__all__) <= set(namespace)
    with pytest.raises(AttributeError, match="DockerNothing"):
        aiodocker.docker.DockerNothing  # noqa: B018


async def test_docker_is_an_async_context_manager_returning_itself() -> None:
    from aiodocker import Docker

    docker = Docker(url=OFFLINE_URL)
    async with docker as entered:
        assert entered is docker
    await docker.close()  # safe to call twice


@pytest.mark.parametrize("version", ["1.41", "latest", "v1", "V1.41"])
def test_docker_rejects_api_version_not_matching_v_major_minor(version: str) -> None:
    from aiodocker import Docker

    with pytest.raises(ValueError, match="Invalid API version format"):
        Docker(url=OFFLINE_URL, api_version=version)


async def test_docker_accepts_pinned_api_version() -> None:
    from aiodocker import Docker

    docker = Docker(url=OFFLINE_URL, api_version="v1.41")
    try:
        assert docker.api_version == "v1.41"
    finally:
        await docker.close()


async def test_docker_query_helpers_return_context_managers_without_io(
    offline_docker: Any,
) -> None:
    query = offline_docker._query("version")
    chunked = offline_docker._query_chunked_post("build", data=b"")
    for cm in (query, chunked):
        assert hasattr(cm, "__aenter__") and hasattr(cm, "__aexit__")


async def test_events_exposes_channel_json_stream_and_task(offline_docker: Any) -> None:
    events = offline_docker.events
    assert isinstance(events.channel, load("aiodocker.channel", "Channel"))
    assert events.json_stream is None
    assert events.task is None


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"id": "a1"}, "a1"),
        ({"ID": "b2"}, "b2"),
        ({"Id": "c3"}, "c3"),
        ({"Id": "c3", "ID": "b2", "id": "a1"}, "a1"),
        ({"Id": "c3", "ID": "b2"}, "b2"),
    ],
)
async def test_container_id_comes_from_id_then_ID_then_Id(
    offline_docker: Any, kwargs: dict[str, str], expected: str
) -> None:
    container_cls = load("aiodocker.containers", "DockerContainer")
    container = container_cls(offline_docker, **kwargs)
    assert container.id == expected
    assert container._id == expected
    assert container.docker is offline_docker
    assert container._container == kwargs


async def test_container_without_id_raises_value_error(offline_docker: Any) -> None:
    container_cls = load("aiodocker.containers", "DockerContainer")
    with pytest.raises(ValueError):
        container_cls(offline_docker, Name="no-id")


async def test_container_getitem_and_contains_read_known_data(offline_docker: Any) -> None:
    container_cls = load("aiodocker.containers", "DockerContainer")
    container = container_cls(offline_docker, Id="abc", Name="/web", State={"Running": True})
    assert container["Name"] == "/web"
    assert container["State"] == {"Running": True}
    assert "Name" in container
    assert "Image" not in container
    with pytest.raises(KeyError):
        container["Image"]
    assert isinstance(container.logs, load("aiodocker.logs", "DockerLog"))


async def test_container_from_create_knows_only_lowercase_id(offline_docker: Any) -> None:
    created = offline_docker.containers.container("abc")
    assert created.id == "abc"
    assert "id" in created
    assert "Id" not in created


async def test_containers_exec_returns_exec_with_that_id(offline_docker: Any) -> None:
    exec_obj = offline_docker.containers.exec("e1")
    assert isinstance(exec_obj, load("aiodocker.execs", "Exec"))
    assert exec_obj.id == "e1"


async def test_volume_and_network_objects_expose_name_and_id(offline_docker: Any) -> None:
    volume = load("aiodocker.volumes", "DockerVolume")(offline_docker, "vol1")
    assert volume.name == "vol1"
    network = load("aiodocker.networks", "DockerNetwork")(offline_docker, "net1")
    assert network.id == "net1"


# flag methods: calling with either flag value returns the contract's shape (an
# awaitable, an async iterator, or a Stream) without connecting; results are closed.

AWAITABLE: Final = "awaitable"
ASYNC_ITERATOR: Final = "async iterator"
STREAM: Final = "Stream"

FlagCall = Callable[[Any, bool], Any]

FLAG_CALLS: Final[list[tuple[str, FlagCall, dict[bool, str]]]] = [
    (
        "DockerContainer.log(follow=)",
        lambda d, v: d.containers.container("abc").log(stdout=True, follow=v),
        {False: AWAITABLE, True: ASYNC_ITERATOR},
    ),
    (
        "DockerContainer.stats(stream=)",
        lambda d, v: d.containers.container("abc").stats(stream=v),
        {True: ASYNC_ITERATOR, False: AWAITABLE},
    ),
    (
        "Exec.start(detach=)",
        lambda d, v: d.containers.exec("e1").start(detach=v),
        {False: STREAM, True: AWAITABLE},
    ),
    (
        "DockerImages.pull(stream=)",
        lambda d, v: d.images.pull("busybox:latest", stream=v),
        {False: AWAITABLE, True: ASYNC_ITERATOR},
    ),
    (
        "DockerImages.push(stream=)",
        lambda d, v: d.images.push("localhost:5000/x", tag="1", stream=v),
        {False: AWAITABLE, True: ASYNC_ITERATOR},
    ),
    (
        "DockerImages.build(stream=)",
        lambda d, v: d.images.build(remote="https://example.invalid/ctx.git", stream=v),
        {False: AWAITABLE, True: ASYNC_ITERATOR},
    ),
    (
        "DockerImages.import_image(stream=)",
        lambda d, v: d.images.import_image(b"", stream=v),
        {False: AWAITABLE, True: ASYNC_ITERATOR},
    ),
    (
        "DockerServices.logs(follow=)",
        lambda d, v: d.services.logs("svc", stdout=True, follow=v),
        {False: AWAITABLE, True: ASYNC_ITERATOR},
    ),
]


async def dispose(result: Any) -> None:
    if inspect.iscoroutine(result):
        result.close()
    elif hasattr(result, "aclose"):
        await result.aclose()
    elif hasattr(result, "close") and inspect.iscoroutinefunction(result.close):
        await result.close()
    elif hasattr(result, "cancel"):
        result.cancel()


@pytest.mark.parametrize(
    ("label", "call", "shapes"), FLAG_CALLS, ids=[row[0] for row in FLAG_CALLS]
)
@pytest.mark.parametrize("value", [False, True])
async def test_flag_method_returns_contract_shape_for_each_value(
    offline_docker: Any, label: str, call: FlagCall, shapes: dict[bool, str], value: bool
) -> None:
    result = call(offline_docker, value)
    try:
        shape = shapes[value]
        if shape == AWAITABLE:
            assert inspect.isawaitable(result), f"{label}{value}: not awaitable: {result!r}"
        elif shape == ASYNC_ITERATOR:
            assert hasattr(result, "__aiter__") and hasattr(result, "__anext__"), (
                f"{label}{value}: not an async iterator: {result!r}"
            )
            assert not inspect.iscoroutine(result), f"{label}{value}: a coroutine"
        else:
            assert isinstance(result, load("aiodocker.stream", "Stream")), (
                f"{label}{value}: not a Stream: {result!r}"
            )
    finally:
        await dispose(result)


async def test_attach_returns_a_lazy_stream(offline_docker: Any) -> None:
    stream = offline_docker.containers.container("abc").attach(stdout=True)
    try:
        assert isinstance(stream, load("aiodocker.stream", "Stream"))
        assert hasattr(stream, "__aenter__")
    finally:
        await stream.close()


async def test_export_image_returns_an_async_context_manager(offline_docker: Any) -> None:
    cm = offline_docker.images.export_image("busybox")
    assert hasattr(cm, "__aenter__") and hasattr(cm, "__aexit__")
    await dispose(getattr(cm, "gen", None))


# --------------------------------------------------------------------------
# §10 exceptions


def exc(name: str) -> Any:
    return load("aiodocker.exceptions", name)


def test_exception_tree_matches_contract() -> None:
    base = exc("DockerError")
    assert issubclass(base, Exception)
    for name in ("DockerContainerError", "DockerStreamError", "DockerContextError"):
        assert issubclass(exc(name), base), name
    for name in ("DockerContextInvalidError", "DockerContextTLSError"):
        assert issubclass(exc(name), exc("DockerContextError")), name


def test_docker_error_carries_status_and_message_and_formats() -> None:
    error = exc("DockerError")(404, "no such container")
    assert (error.status, error.message) == (404, "no such container")
    assert str(error) == "[404] no such container"
    assert repr(error) == "DockerError(404, 'no such container')"


def test_docker_error_accepts_extra_positional_args() -> None:
    error = exc("DockerError")(500, "boom", "extra")
    assert (error.status, error.message) == (500, "boom")


def test_container_error_carries_container_id_and_formats() -> None:
    """str/repr as the 0.27.0 wheel prints them (the contract names only the attribute)."""
    error = exc("DockerContainerError")(500, "start failed", "abc123")
    assert (error.status, error.message, error.container_id) == (500, "start failed", "abc123")
    assert str(error) == "[500] start failed (container: abc123)"
    assert repr(error) == "DockerContainerError(500, 'start failed', 'abc123')"


def test_stream_error_defaults_status_zero_and_empty_detail() -> None:
    error = exc("DockerStreamError")("pull access denied")
    assert (error.status, error.message, error.error_detail) == (0, "pull access denied", {})
    assert str(error) == "[0] pull access denied"


def test_stream_error_keeps_detail_and_status_and_formats() -> None:
    """repr as the 0.27.0 wheel prints it."""
    detail = {"message": "denied", "code": 403}
    error = exc("DockerStreamError")("denied", error_detail=detail, status=7)
    assert (error.status, error.message, error.error_detail) == (7, "denied", detail)
    assert (
        repr(error)
        == "DockerStreamError('denied', error_detail={'message': 'denied', 'code': 403})"
    )


@pytest.mark.parametrize(
    "name", ["DockerContextError", "DockerContextInvalidError", "DockerContextTLSError"]
)
def test_context_errors_have_status_zero_and_context_name(name: str) -> None:
    """str/repr as the 0.27.0 wheel prints them."""
    error = exc(name)("bad metadata", "prod")
    assert (error.status, error.message, error.context_name) == (0, "bad metadata", "prod")
    assert str(error) == "bad metadata (context: prod)"
    assert repr(error) == f"{name}('bad metadata', context='prod')"
    anonymous = exc(name)("bad metadata")
    assert anonymous.context_name is None
    assert str(anonymous) == "bad metadata"
    assert repr(anonymous) == f"{name}('bad metadata')"


EXCEPTION_SAMPLES: Final = [
    ("DockerError", (404, "not found"), {}, ("status", "message")),
    ("DockerContainerError", (409, "conflict", "abc"), {}, ("status", "message", "container_id")),
    (
        "DockerStreamError",
        ("denied",),
        {"error_detail": {"message": "denied"}, "status": 3},
        ("status", "message", "error_detail"),
    ),
    ("DockerContextError", ("bad", "prod"), {}, ("status", "message", "context_name")),
    ("DockerContextInvalidError", ("bad", None), {}, ("status", "message", "context_name")),
    ("DockerContextTLSError", ("no key", "tls"), {}, ("status", "message", "context_name")),
]


@pytest.mark.parametrize(
    ("name", "args", "kwargs", "attrs"), EXCEPTION_SAMPLES, ids=[s[0] for s in EXCEPTION_SAMPLES]
)
def test_exception_survives_pickling(
    name: str, args: tuple[Any, ...], kwargs: dict[str, Any], attrs: tuple[str, ...]
) -> None:
    error = exc(name)(*args, **kwargs)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    for attr in attrs:
        assert getattr(copy, attr) == getattr(error, attr), attr
    assert str(copy) == str(error)
    assert repr(copy) == repr(error)


# --------------------------------------------------------------------------
# §11 types


def test_sentinel_is_an_enum_token() -> None:
    sentinel_cls = load("aiodocker.types", "Sentinel")
    assert issubclass(sentinel_cls, enum.Enum)
    assert load("aiodocker.types", "SENTINEL") is sentinel_cls.TOKEN


def test_port_info_is_a_typed_dict_of_host_ip_and_port() -> None:
    port_info = load("aiodocker.types", "PortInfo")
    assert typing.is_typeddict(port_info)
    assert set(port_info.__annotations__) == {"HostIp", "HostPort"}


@pytest.mark.parametrize("name", ["SupportsRead", "AsyncContainerFactory"])
def test_protocols_are_protocols(name: str) -> None:
    proto = load("aiodocker.types", name)
    assert getattr(proto, "_is_protocol", False), name


def test_supports_read_protocol_has_read() -> None:
    assert callable(getattr(load("aiodocker.types", "SupportsRead"), "read", None))


def test_context_endpoint_fields_and_has_tls() -> None:
    endpoint_cls = load("aiodocker.docker", "DockerContextEndpoint")
    plain = endpoint_cls(host="unix:///var/run/docker.sock")
    assert (plain.host, plain.context_name, plain.skip_tls_verify) == (
        "unix:///var/run/docker.sock",
        None,
        False,
    )
    assert (plain.tls_ca, plain.tls_cert, plain.tls_key) == (None, None, None)
    assert plain.has_tls is False
    secured = endpoint_cls("tcp://h:2376", "prod", False, b"CA", b"CERT", b"KEY")
    assert secured.has_tls is True
    assert secured == endpoint_cls("tcp://h:2376", "prod", False, b"CA", b"CERT", b"KEY")
    assert secured != plain


# --------------------------------------------------------------------------
# §11 utils behaviour


def util(name: str) -> Any:
    return load("aiodocker.utils", name)


def test_httpize_encodes_bools_as_digits_and_other_non_str_as_json() -> None:
    params = {
        "all": True,
        "size": False,
        "limit": 5,
        "since": None,
        "filters": {"label": ["a=b"]},
        "name": "web",
        "ids": [1, 2],
    }
    assert util("httpize")(params) == {
        "all": "1",
        "size": "0",
        "limit": "5",
        "since": "null",
        "filters": '{"label": ["a=b"]}',
        "name": "web",
        "ids": "[1, 2]",
    }
    assert util("httpize")(None) is None


def test_clean_filters_wraps_scalars_into_lists_as_json() -> None:
    clean_filters = util("clean_filters")
    assert clean_filters(None) == "{}"
    assert clean_filters() == "{}"
    encoded = clean_filters({"label": "a=b", "status": ["running", "paused"]})
    assert json.loads(encoded) == {"label": ["a=b"], "status": ["running", "paused"]}
    assert clean_filters({}) == "{}"


def test_clean_filters_rejects_a_non_mapping() -> None:
    with pytest.raises(TypeError):
        util("clean_filters")(["label=a"])


def test_clean_map_drops_none_values_only() -> None:
    source = {"a": None, "b": 0, "c": "", "d": False, "e": "x"}
    assert util("clean_map")(source) == {"b": 0, "c": "", "d": False, "e": "x"}
    assert source["a"] is None  # a new mapping, the input is untouched


def test_format_env_joins_key_and_value() -> None:
    format_env = util("format_env")
    assert format_env("PATH", "/bin") == "PATH=/bin"
    assert format_env("DATA", b"caf\xc3\xa9") == "DATA=café"
    assert format_env("EMPTY", "") == "EMPTY="
    assert format_env("UNSET", None) == "UNSET"


def test_clean_networks_turns_names_into_targets() -> None:
    assert util("clean_networks")(["front", "back"]) == [{"Target": "front"}, {"Target": "back"}]


def test_clean_networks_passes_dict_entries_through() -> None:
    """0.27.0 wheel: a dict entry is kept as given (so Aliases survive)."""
    entry = {"Target": "back", "Aliases": ["db"]}
    assert util("clean_networks")(["front", entry]) == [{"Target": "front"}, entry]


def test_clean_networks_rejects_a_non_list() -> None:
    with pytest.raises(TypeError):
        util("clean_networks")(("front",))


def test_clean_networks_of_nothing_is_an_empty_list() -> None:
    """0.27.0 wheel: ``clean_networks()`` and ``clean_networks([])`` return ``[]``."""
    assert util("clean_networks")() == []
    assert util("clean_networks")([]) == []


def decode_auth(header: str) -> Any:
    assert "+" not in header and "/" not in header, "not URL-safe base64"
    return json.loads(base64.urlsafe_b64decode(header))


def test_compose_auth_header_encodes_a_mapping_with_server_address() -> None:
    auth = {"username": "u", "password": "p>?~"}
    header = util("compose_auth_header")(auth, "registry.example:5000")
    assert decode_auth(header) == {
        "username": "u",
        "password": "p>?~",
        "serveraddress": "registry.example:5000",
    }
    assert "serveraddress" not in auth  # the caller's mapping is not modified


def test_compose_auth_header_encodes_a_user_password_string() -> None:
    legacy = base64.b64encode(b"user:pa:ss").decode()
    for value in (legacy, legacy.encode()):
        assert decode_auth(util("compose_auth_header")(value, "r.example")) == {
            "username": "user",
            "password": "pa:ss",
            "email": None,
            "serveraddress": "r.example",
        }


def test_compose_auth_header_unwraps_auth_key() -> None:
    legacy = base64.b64encode(b"user:pw").decode()
    decoded = decode_auth(util("compose_auth_header")({"auth": legacy}, "r.example"))
    assert (decoded["username"], decoded["password"]) == ("user", "pw")
    assert decoded["serveraddress"] == "r.example"


def test_compose_auth_header_passes_identity_token_through() -> None:
    decoded = decode_auth(util("compose_auth_header")({"identitytoken": "tok"}, "r.example"))
    assert decoded == {"identitytoken": "tok"}


def test_compose_auth_header_rejects_other_types() -> None:
    with pytest.raises(TypeError):
        util("compose_auth_header")(42)


def test_parse_content_type_splits_and_lowercases() -> None:
    """Values are lower-cased too (0.27.0 wheel)."""
    parse = util("parse_content_type")
    assert parse("application/json") == ("application", "json", {})
    assert parse("Text/Plain; Charset=UTF-8") == ("text", "plain", {"charset": "utf-8"})
    main, sub, opts = parse("application/vnd.docker.raw-stream")
    assert (main, sub, dict(opts)) == ("application", "vnd.docker.raw-stream", {})


def test_parse_content_type_rejects_a_type_without_subtype() -> None:
    """0.27.0 wheel: ValueError for a missing ``/``."""
    with pytest.raises(ValueError):
        util("parse_content_type")("json")


def test_identical_compares_nested_data() -> None:
    identical = util("identical")
    assert identical({"a": 1, "b": {"c": [1, 2]}}, {"b": {"c": [1, 2]}, "a": 1})
    assert not identical({"a": 1}, {"a": 2})
    assert not identical({"a": 1}, {"a": "1"})
    assert not identical([1], (1,))
    assert not identical([1, 2], [1, 2, 3])
    assert identical({"a": {}}, {})  # a missing key counts as an empty dict


def test_human_bool_reads_words_and_values() -> None:
    human_bool = util("human_bool")
    for word in ("true", "True", "YES", "y", "1"):
        assert human_bool(word) is True, word
    for word in ("false", "No", "n", "0"):
        assert human_bool(word) is False, word
    assert human_bool(1) is True
    assert human_bool(0) is False
    assert human_bool(None) is False


def test_human_bool_rejects_unknown_words() -> None:
    """0.27.0 wheel: an unrecognised string raises ValueError rather than meaning False."""
    with pytest.raises(ValueError):
        util("human_bool")("maybe")


def test_mktar_from_dockerfile_makes_a_gzipped_tar_with_dockerfile() -> None:
    content = b"FROM busybox\nRUN true\n"
    archive = util("mktar_from_dockerfile")(io.BytesIO(content))
    try:
        head = archive.read(2)
        assert head == b"\x1f\x8b", "not gzip"
        archive.seek(0)
        with tarfile.open(fileobj=archive, mode="r:gz") as tar:
            assert tar.getnames() == ["Dockerfile"]
            member = tar.extractfile("Dockerfile")
            assert member is not None and member.read() == content
    finally:
        archive.close()


async def test_parse_result_reads_json_text_and_empty_bodies() -> None:
    class FakeResponse:
        def __init__(self, content_type: str | None, body: bytes) -> None:
            self.headers = {} if content_type is None else {"content-type": content_type}
            if content_type is None:
                self.headers["content-length"] = str(len(body))
            self.body = body

        async def read(self) -> bytes:
            return self.body

        async def json(self, *, encoding: str = "utf-8", **_: Any) -> Any:
            return json.loads(self.body.decode(encoding))

        async def text(self, *, encoding: str = "utf-8", **_: Any) -> str:
            return self.body.decode(encoding)

    parse_result = util("parse_result")
    assert await parse_result(FakeResponse("application/json", b'{"a": 1}')) == {"a": 1}
    assert await parse_result(FakeResponse("text/plain; charset=utf-8", b"OK")) == "OK"
    assert await parse_result(FakeResponse(None, b"")) == ""
