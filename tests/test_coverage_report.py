"""Endpoint coverage: every endpoint of the Engine API v1.41 has a method that calls it.

``ENDPOINTS`` maps each ``(METHOD, /path)`` of the spec to the public method that
makes the call. The mapping is checked, so it cannot lie: the named method must
exist, and the string literals of its code (plus the private helpers it calls, and
the endpoint table of its class, see :func:`literals_of`) must hold the path's
literal segments (``containers/{}/json``, or ``containers`` and ``json``) and the
HTTP method. The spec is the copy vendored in ``spec/`` at the repository root,
read with PyYAML (the ``test`` extra).

The query parameters of spec 1.55 are compared with the keywords of those methods
(:func:`query_report`): those without one are reported, and every parameter added
after 1.41 must have one (``NO_KEYWORD_YET`` names the exceptions, with the reason).
A ``**params`` catch-all (0.27's way of taking every parameter) is not a keyword.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import textwrap
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from types import FunctionType, ModuleType
from typing import Any, Final

import pytest
import yaml

REPO_ROOT: Final = Path(__file__).resolve().parents[1]
SPEC_DIR: Final = REPO_ROOT / "spec"
SPEC_V1_41: Final = SPEC_DIR / "engine-api-v1.41.yaml"
SPEC_NEWEST: Final = SPEC_DIR / "engine-api-v1.55.yaml"
HTTP_METHODS: Final = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
PACKAGE: Final = "aiodocker"

# Endpoints deliberately left out, with the reason.
NOT_COVERED: Final[dict[tuple[str, str], str]] = {}

# (METHOD, path) -> the qualified name (relative to ``aiodocker.``) of the public method
# that makes the call. Where several methods call an endpoint, the main one is named.
ENDPOINTS: Final[dict[tuple[str, str], str]] = {
    # BuildKit's session (POST /session, upgraded to HTTP/2) is opened by a session build
    ("POST", "/session"): "buildkit.BuildKitBuild.__anext__",
    # containers
    ("GET", "/containers/json"): "containers.DockerContainers.list",
    ("POST", "/containers/create"): "containers.DockerContainers.create",
    ("GET", "/containers/{id}/json"): "containers.DockerContainer.show",
    ("GET", "/containers/{id}/top"): "containers.DockerContainer.top",
    ("GET", "/containers/{id}/logs"): "containers.DockerContainer.log",
    ("GET", "/containers/{id}/changes"): "containers.DockerContainer.changes",
    ("GET", "/containers/{id}/export"): "containers.DockerContainer.export",
    ("GET", "/containers/{id}/stats"): "containers.DockerContainer.stats",
    ("POST", "/containers/{id}/resize"): "containers.DockerContainer.resize",
    ("POST", "/containers/{id}/start"): "containers.DockerContainer.start",
    ("POST", "/containers/{id}/stop"): "containers.DockerContainer.stop",
    ("POST", "/containers/{id}/restart"): "containers.DockerContainer.restart",
    ("POST", "/containers/{id}/kill"): "containers.DockerContainer.kill",
    ("POST", "/containers/{id}/update"): "containers.DockerContainer.update",
    ("POST", "/containers/{id}/rename"): "containers.DockerContainer.rename",
    ("POST", "/containers/{id}/pause"): "containers.DockerContainer.pause",
    ("POST", "/containers/{id}/unpause"): "containers.DockerContainer.unpause",
    ("POST", "/containers/{id}/attach"): "containers.DockerContainer.attach",
    ("GET", "/containers/{id}/attach/ws"): "containers.DockerContainer.websocket",
    ("POST", "/containers/{id}/wait"): "containers.DockerContainer.wait",
    ("DELETE", "/containers/{id}"): "containers.DockerContainer.delete",
    ("HEAD", "/containers/{id}/archive"): "containers.DockerContainer.stat_archive",
    ("GET", "/containers/{id}/archive"): "containers.DockerContainer.get_archive",
    ("PUT", "/containers/{id}/archive"): "containers.DockerContainer.put_archive",
    ("POST", "/containers/prune"): "containers.DockerContainers.prune",
    ("POST", "/commit"): "containers.DockerContainer.commit",
    # exec
    ("POST", "/containers/{id}/exec"): "containers.DockerContainer.exec",
    ("POST", "/exec/{id}/start"): "execs.Exec.start",
    ("POST", "/exec/{id}/resize"): "execs.Exec.resize",
    ("GET", "/exec/{id}/json"): "execs.Exec.inspect",
    # images, builds, distribution
    ("GET", "/images/json"): "images.DockerImages.list",
    ("POST", "/build"): "images.DockerImages.build",
    ("POST", "/build/prune"): "images.DockerImages.prune_builds",
    ("POST", "/images/create"): "images.DockerImages.pull",
    ("GET", "/images/{name}/json"): "images.DockerImages.inspect",
    ("GET", "/images/{name}/history"): "images.DockerImages.history",
    ("POST", "/images/{name}/push"): "images.DockerImages.push",
    ("POST", "/images/{name}/tag"): "images.DockerImages.tag",
    ("DELETE", "/images/{name}"): "images.DockerImages.delete",
    ("GET", "/images/search"): "images.DockerImages.search",
    ("POST", "/images/prune"): "images.DockerImages.prune",
    ("GET", "/images/{name}/get"): "images.DockerImages.export_image",
    ("GET", "/images/get"): "images.DockerImages.save",
    ("POST", "/images/load"): "images.DockerImages.load",
    ("GET", "/distribution/{name}/json"): "images.DockerImages.inspect_distribution",
    # system
    ("POST", "/auth"): "docker.Docker.auth",
    ("GET", "/info"): "system.DockerSystem.info",
    ("GET", "/version"): "system.DockerSystem.version",
    ("GET", "/_ping"): "system.DockerSystem.ping",
    ("HEAD", "/_ping"): "system.DockerSystem.ping",
    ("GET", "/events"): "events.DockerEvents.stream",
    ("GET", "/system/df"): "system.DockerSystem.df",
    # volumes
    ("GET", "/volumes"): "volumes.DockerVolumes.list",
    ("POST", "/volumes/create"): "volumes.DockerVolumes.create",
    ("GET", "/volumes/{name}"): "volumes.DockerVolume.show",
    ("DELETE", "/volumes/{name}"): "volumes.DockerVolume.delete",
    ("POST", "/volumes/prune"): "volumes.DockerVolumes.prune",
    # networks
    ("GET", "/networks"): "networks.DockerNetworks.list",
    ("GET", "/networks/{id}"): "networks.DockerNetwork.show",
    ("DELETE", "/networks/{id}"): "networks.DockerNetwork.delete",
    ("POST", "/networks/create"): "networks.DockerNetworks.create",
    ("POST", "/networks/{id}/connect"): "networks.DockerNetwork.connect",
    ("POST", "/networks/{id}/disconnect"): "networks.DockerNetwork.disconnect",
    ("POST", "/networks/prune"): "networks.DockerNetworks.prune",
    # plugins
    ("GET", "/plugins"): "plugins.DockerPlugins.list",
    ("GET", "/plugins/privileges"): "plugins.DockerPlugins.privileges",
    ("POST", "/plugins/pull"): "plugins.DockerPlugins.pull",
    ("GET", "/plugins/{name}/json"): "plugins.DockerPlugins.inspect",
    ("DELETE", "/plugins/{name}"): "plugins.DockerPlugins.delete",
    ("POST", "/plugins/{name}/enable"): "plugins.DockerPlugins.enable",
    ("POST", "/plugins/{name}/disable"): "plugins.DockerPlugins.disable",
    ("POST", "/plugins/{name}/upgrade"): "plugins.DockerPlugins.upgrade",
    ("POST", "/plugins/create"): "plugins.DockerPlugins.create",
    ("POST", "/plugins/{name}/push"): "plugins.DockerPlugins.push",
    ("POST", "/plugins/{name}/set"): "plugins.DockerPlugins.set",
    # swarm
    ("GET", "/swarm"): "swarm.DockerSwarm.inspect",
    ("POST", "/swarm/init"): "swarm.DockerSwarm.init",
    ("POST", "/swarm/join"): "swarm.DockerSwarm.join",
    ("POST", "/swarm/leave"): "swarm.DockerSwarm.leave",
    ("POST", "/swarm/update"): "swarm.DockerSwarm.update",
    ("GET", "/swarm/unlockkey"): "swarm.DockerSwarm.get_unlock_key",
    ("POST", "/swarm/unlock"): "swarm.DockerSwarm.unlock",
    # nodes
    ("GET", "/nodes"): "nodes.DockerSwarmNodes.list",
    ("GET", "/nodes/{id}"): "nodes.DockerSwarmNodes.inspect",
    ("DELETE", "/nodes/{id}"): "nodes.DockerSwarmNodes.remove",
    ("POST", "/nodes/{id}/update"): "nodes.DockerSwarmNodes.update",
    # services
    ("GET", "/services"): "services.DockerServices.list",
    ("POST", "/services/create"): "services.DockerServices.create",
    ("GET", "/services/{id}"): "services.DockerServices.inspect",
    ("DELETE", "/services/{id}"): "services.DockerServices.delete",
    ("POST", "/services/{id}/update"): "services.DockerServices.update",
    ("GET", "/services/{id}/logs"): "services.DockerServices.logs",
    # tasks
    ("GET", "/tasks"): "tasks.DockerTasks.list",
    ("GET", "/tasks/{id}"): "tasks.DockerTasks.inspect",
    ("GET", "/tasks/{id}/logs"): "tasks.DockerTasks.logs",
    # secrets
    ("GET", "/secrets"): "secrets.DockerSecrets.list",
    ("POST", "/secrets/create"): "secrets.DockerSecrets.create",
    ("GET", "/secrets/{id}"): "secrets.DockerSecrets.inspect",
    ("DELETE", "/secrets/{id}"): "secrets.DockerSecrets.delete",
    ("POST", "/secrets/{id}/update"): "secrets.DockerSecrets.update",
    # configs
    ("GET", "/configs"): "configs.DockerConfigs.list",
    ("POST", "/configs/create"): "configs.DockerConfigs.create",
    ("GET", "/configs/{id}"): "configs.DockerConfigs.inspect",
    ("DELETE", "/configs/{id}"): "configs.DockerConfigs.delete",
    ("POST", "/configs/{id}/update"): "configs.DockerConfigs.update",
}

# Where the public method hands the request to an object of another class, the
# method of that class that sends it (its literals count for the endpoint).
SENT_BY: Final[dict[tuple[str, str], str]] = {
    ("POST", "/containers/{id}/attach"): "stream.Stream._connect",  # the lazy hijacked stream
}

# Where no literal names the HTTP method because the protocol fixes it.
IMPLIED_METHOD: Final[dict[tuple[str, str], str]] = {
    ("GET", "/containers/{id}/attach/ws"): "a websocket handshake is a GET (aiohttp ws_connect)",
}

# Endpoints added after v1.41 (offered too; on an older daemon they fail with an error
# naming the API version they need). Reported, not required.
NEWER_ENDPOINTS: Final[dict[tuple[str, str], str]] = {
    ("PUT", "/volumes/{name}"): "volumes.DockerVolume.update",  # 1.42
    ("GET", "/images/{name}/attestations"): "images.DockerImages.attestations",  # 1.55
}


# --- reading the spec ------------------------------------------------------------------

def spec_endpoints(path: Path) -> set[tuple[str, str]]:
    """Return the (METHOD, path) pairs of the ``paths:`` section of a Swagger/OpenAPI YAML."""
    with path.open(encoding="utf-8") as stream:
        document = yaml.load(stream, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    endpoints = {
        (method.upper(), route)
        for route, operations in document["paths"].items()
        for method in operations
        if method in HTTP_METHODS
    }
    if not endpoints:
        pytest.fail(f"no endpoints found under 'paths:' in {path}", pytrace=False)
    return endpoints


def path_template(path: str) -> str:
    """``/containers/{id}/json`` -> ``containers/{}/json`` (build_path's template form)."""
    return re.sub(r"\{[^}]*\}", "{}", path.lstrip("/"))


def literal_segments(path: str) -> list[str]:
    return [part for part in path.strip("/").split("/") if part and not part.startswith("{")]


# --- reading the package ---------------------------------------------------------------


def resolve(qualified: str) -> tuple[type, Any]:
    """Return (class, function) for ``module.Class.method`` below the package.

    Raises:
        LookupError: the module, class or method does not exist.
    """
    module_name, class_name, method_name = qualified.rsplit(".", 2)
    try:
        module = importlib.import_module(f"{PACKAGE}.{module_name}")
    except ImportError as exc:
        raise LookupError(f"module {PACKAGE}.{module_name} cannot be imported: {exc}") from exc
    cls = getattr(module, class_name, None)
    if not isinstance(cls, type):
        raise LookupError(f"{PACKAGE}.{module_name} has no class {class_name}")
    function = inspect.getattr_static(cls, method_name, None)
    if isinstance(function, (staticmethod, classmethod)):
        function = function.__func__
    if not isinstance(function, FunctionType):
        raise LookupError(f"{PACKAGE}.{qualified} is not a method")
    return cls, function


def _tree_of(function: Callable[..., Any]) -> ast.AST:
    return ast.parse(textwrap.dedent(inspect.getsource(function)))


def _strings(tree: ast.AST) -> Iterator[str]:
    """The string literals of ``tree``, without docstrings (prose proves nothing)."""
    prose = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in prose:
            yield node.value


def _is_private_helper(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _is_package_helper(value: Any) -> bool:
    """A function of the package that is private, or lives in a private resource module."""
    if not isinstance(value, FunctionType):
        return False
    module = getattr(value, "__module__", "") or ""
    if not module.startswith(PACKAGE + "."):
        return False
    last = module.rsplit(".", 1)[-1]
    in_core_layers = any(
        module.startswith(f"{PACKAGE}.{layer}") for layer in ("_core", "_transport", "_streams")
    )
    return _is_private_helper(value.__name__) or (last.startswith("_") and not in_core_layers)


def _called_helpers(cls: type, function: FunctionType, tree: ast.AST) -> Iterator[FunctionType]:
    """The private methods (``self._x(...)``) and package helpers a method calls."""
    module: ModuleType | None = inspect.getmodule(function)
    names = vars(module) if module is not None else {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        target = node.func
        if (
            isinstance(target, ast.Attribute)
            and isinstance(target.value, ast.Name)
            and target.value.id == "self"
            and _is_private_helper(target.attr)
        ):
            helper = inspect.getattr_static(cls, target.attr, None)
            if isinstance(helper, (staticmethod, classmethod)):
                helper = helper.__func__
            if isinstance(helper, FunctionType):
                yield helper
        elif isinstance(target, ast.Name):
            value = names.get(target.id)
            if _is_package_helper(value):
                yield value


def _class_table(cls: type) -> set[str]:
    """String literals of the class bodies (not their methods): endpoint tables."""
    strings: set[str] = set()
    for klass in cls.__mro__:
        if not klass.__module__.startswith(PACKAGE):
            continue
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(klass)))
        except (OSError, TypeError):
            continue
        class_node = tree.body[0]
        assert isinstance(class_node, ast.ClassDef)
        for statement in class_node.body:
            if not isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Expr)):
                strings.update(_strings(statement))
    return strings


@cache
def literals_of(qualified: str) -> frozenset[str]:
    """The string literals that make up the call of ``qualified``.

    Those of the method itself, of the private helpers it calls (transitively),
    and of the endpoint table of its class (class-level assignments, as
    ``DockerConfigs._paths``).
    """
    cls, function = resolve(qualified)
    strings = _class_table(cls)
    seen: set[FunctionType] = set()
    pending: list[FunctionType] = [function]
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        tree = _tree_of(current)
        strings.update(_strings(tree))
        pending.extend(_called_helpers(cls, current, tree))
    return frozenset(strings)


def mapping_problem(method: str, path: str, qualified: str) -> str | None:
    """Why the mapping of (method, path) to ``qualified`` cannot be true, or None."""
    sender = SENT_BY.get((method, path))
    try:
        strings = literals_of(qualified) | (literals_of(sender) if sender else frozenset())
    except LookupError as exc:
        return str(exc)
    template = path_template(path)
    mentions_path = any(template in text for text in strings) or all(
        any(segment in text for text in strings) for segment in literal_segments(path)
    )
    if not mentions_path:
        return f"{qualified} never mentions {template!r}"
    if method not in strings and (method, path) not in IMPLIED_METHOD:
        return f"{qualified} never names the HTTP method {method!r}"
    return None


def coverage(
    spec: set[tuple[str, str]], table: dict[tuple[str, str], str]
) -> tuple[list[tuple[str, str]], dict[tuple[str, str], str]]:
    """Return (covered endpoints, {uncovered endpoint: reason})."""
    covered: list[tuple[str, str]] = []
    missing: dict[tuple[str, str], str] = {}
    for endpoint in sorted(spec, key=lambda e: (e[1], e[0])):
        qualified = table.get(endpoint)
        if qualified is None:
            missing[endpoint] = NOT_COVERED.get(endpoint, "no method is named for it")
            continue
        problem = mapping_problem(*endpoint, qualified)
        if problem is None:
            covered.append(endpoint)
        else:
            missing[endpoint] = problem
    return covered, missing


def describe(endpoint: tuple[str, str]) -> str:
    return f"{endpoint[0]} {endpoint[1]}"


# --- query parameters ------------------------------------------------------------------

# Query parameters of spec 1.55 sent from a keyword of another name, or from no keyword
# of their own (with the reason); the rest are matched by name (``shared-size`` ->
# ``shared_size``, ``detachKeys`` -> ``detach_keys``).
QUERY_KEYWORDS: Final[dict[tuple[str, str, str], str]] = {
    ("POST", "/build", "t"): "tag",
    ("POST", "/build", "q"): "quiet",
    ("POST", "/build", "dockerfile"): "path_dockerfile",
    ("POST", "/build/prune", "all"): "all_builds",
    ("POST", "/images/create", "fromImage"): "from_image",
    ("POST", "/images/create", "fromSrc"): "from_src",
    ("POST", "/build", "extrahosts"): "extra_hosts",
    ("POST", "/build", "cachefrom"): "cache_from",
    ("POST", "/build", "cpushares"): "cpu_shares",
    ("POST", "/build", "cpusetcpus"): "cpuset_cpus",
    ("POST", "/build", "cpuperiod"): "cpu_period",
    ("POST", "/build", "cpuquota"): "cpu_quota",
    ("POST", "/build", "shmsize"): "shm_size",
    ("POST", "/build", "networkmode"): "network_mode",
    ("POST", "/commit", "repo"): "repository",
    ("POST", "/commit", "comment"): "message",
    ("POST", "/containers/{id}/rename", "name"): "newname",
    ("PUT", "/containers/{id}/archive", "copyUIDGID"): "copy_uid_gid",
}


# Query parameters added after 1.41 that still have no keyword, with the reason.
NO_KEYWORD_YET: Final[dict[tuple[str, str], tuple[list[str], str]]] = {}


@cache
def spec_document(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as stream:
        document: dict[str, Any] = yaml.load(
            stream, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        )
    return document


def spec_query_parameters(path: Path) -> dict[tuple[str, str], list[str]]:
    """(METHOD, path) -> the names of its ``in: query`` parameters, in spec order."""
    return {
        (method.upper(), route): [
            parameter["name"]
            for parameter in operation.get("parameters", ())
            if parameter.get("in") == "query"
        ]
        for route, operations in spec_document(path)["paths"].items()
        for method, operation in operations.items()
        if method in HTTP_METHODS
    }


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).replace("-", "_").lower()


def query_keyword(endpoint: tuple[str, str], parameter: str, qualified: str) -> str | None:
    """The keyword of ``qualified`` that sends ``parameter``, or None.

    A ``**params`` catch-all is no keyword: it names no parameter, documents none
    and gates none, so a parameter reachable only through it is reported.
    """
    _cls, function = resolve(qualified)
    signature = inspect.signature(function)
    names = [
        name
        for name, value in signature.parameters.items()
        if value.kind not in (value.VAR_POSITIONAL, value.VAR_KEYWORD)
    ]
    for candidate in (QUERY_KEYWORDS.get((*endpoint, parameter)), parameter, _snake(parameter)):
        if candidate in names:
            return candidate
    return None


def query_report() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Parameters of spec 1.55 without a keyword: ({endpoint: names}, those newer than 1.41)."""
    newest = spec_query_parameters(SPEC_NEWEST)
    oldest = spec_query_parameters(SPEC_V1_41)
    missing: dict[str, list[str]] = {}
    missing_newer: dict[str, list[str]] = {}
    for endpoint, qualified in sorted({**ENDPOINTS, **NEWER_ENDPOINTS}.items()):
        for parameter in newest.get(endpoint, []):
            if query_keyword(endpoint, parameter, qualified) is not None:
                continue
            missing.setdefault(describe(endpoint), []).append(parameter)
            if parameter not in oldest.get(endpoint, []):
                missing_newer.setdefault(describe(endpoint), []).append(parameter)
    return missing, missing_newer


# --- tests -------------------------------------------------------------------------------


def test_every_v1_41_endpoint_has_a_method_that_calls_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    spec = spec_endpoints(SPEC_V1_41)
    covered, missing = coverage(spec, ENDPOINTS)
    line = (
        f"coverage: {len(covered)}/{len(spec)} endpoints "
        f"(missing: {', '.join(describe(e) for e in missing) or 'none'})"
    )
    with capsys.disabled():
        print(f"\n{line}")
    unexpected = {e: reason for e, reason in missing.items() if e not in NOT_COVERED}
    assert not unexpected, line + "".join(
        f"\n  {describe(e)}: {reason}" for e, reason in unexpected.items()
    )
    assert set(missing) == set(NOT_COVERED) & spec


def test_the_table_names_only_endpoints_of_the_spec() -> None:
    spec = spec_endpoints(SPEC_V1_41)
    assert sorted(set(ENDPOINTS) - spec) == []
    assert sorted(set(NOT_COVERED) - spec) == []
    assert not set(ENDPOINTS) & set(NOT_COVERED)
    assert set(SENT_BY) <= set(ENDPOINTS) and set(IMPLIED_METHOD) <= set(ENDPOINTS)
    newest = spec_endpoints(SPEC_NEWEST)
    assert sorted(set(NEWER_ENDPOINTS) - newest) == []
    assert not set(NEWER_ENDPOINTS) & spec


def test_every_endpoint_newer_than_v1_41_has_a_method_that_calls_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Every endpoint that spec 1.55 has and 1.41 has not is mapped, and the mapping holds."""
    newer = spec_endpoints(SPEC_NEWEST) - spec_endpoints(SPEC_V1_41)
    covered, missing = coverage(newer, NEWER_ENDPOINTS)
    line = f"newer than v1.41: {len(covered)}/{len(newer)} endpoints"
    with capsys.disabled():
        print(f"\n{line}")
    assert newer, "spec 1.55 names no endpoint newer than 1.41: the spec files are wrong"
    assert missing == {}, line + "".join(
        f"\n  missing {describe(e)}: {reason}" for e, reason in missing.items()
    )


@pytest.mark.parametrize(
    ("qualified", "method", "path"),
    [
        ("swarm.DockerSwarm.inspect", "GET", "/swarm/unlockkey"),  # wrong path
        ("system.DockerSystem.info", "POST", "/info"),  # wrong HTTP method
        ("swarm.DockerSwarm.no_such_method", "GET", "/swarm"),
        ("no_such_module.Class.method", "GET", "/swarm"),
    ],
)
def test_a_mapping_that_lies_is_caught(qualified: str, method: str, path: str) -> None:
    assert mapping_problem(method, path, qualified) is not None


def test_query_parameters_report(capsys: pytest.CaptureFixture[str]) -> None:
    """Query parameters of spec 1.55 without a keyword are reported; none newer than 1.41."""
    missing, missing_newer = query_report()
    total = sum(len(names) for names in spec_query_parameters(SPEC_NEWEST).values())
    with capsys.disabled():
        print(
            f"\nquery parameters without a keyword: {sum(map(len, missing.values()))} of {total}"
            + "".join(f"\n  {endpoint}: {', '.join(names)}" for endpoint, names in missing.items())
        )
    pending = {describe(e): names for e, (names, _reason) in NO_KEYWORD_YET.items()}
    unexpected = {
        endpoint: [name for name in names if name not in pending.get(endpoint, [])]
        for endpoint, names in missing_newer.items()
    }
    assert {e: names for e, names in unexpected.items() if names} == {}


def test_parameters_without_a_keyword_yet_are_newer_than_v1_41() -> None:
    newest = spec_query_parameters(SPEC_NEWEST)
    oldest = spec_query_parameters(SPEC_V1_41)
    for endpoint, (names, _reason) in NO_KEYWORD_YET.items():
        assert set(names) <= set(newest[endpoint]) - set(oldest.get(endpoint, [])), endpoint


def test_query_keywords_of_the_issue_are_found() -> None:
    """The lookup finds renamed keywords and snake_case names, and says None otherwise."""
    assert query_keyword(("GET", "/images/json"), "shared-size", "images.DockerImages.list") == (
        "shared_size"
    )
    assert query_keyword(("GET", "/images/json"), "manifests", "images.DockerImages.list") == (
        "manifests"
    )
    # images.list has a ``**params`` catch-all: it is not a keyword for any parameter
    assert query_keyword(("GET", "/images/json"), "no-such", "images.DockerImages.list") is None
    assert query_keyword(
        ("DELETE", "/images/{name}"), "platforms", "images.DockerImages.delete"
    ) == "platforms"
    assert query_keyword(("POST", "/build/prune"), "all", "images.DockerImages.prune_builds") == (
        "all_builds"
    )
    assert query_keyword(("GET", "/info"), "no-such", "system.DockerSystem.info") is None
