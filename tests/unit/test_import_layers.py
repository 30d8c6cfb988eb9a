"""The layering rules of docs/DESIGN.md ("Layers"), checked on the source with ``ast``.

    docker.py -> resource modules -> _core/ | _streams/ -> _transport/ -> leaves

- Leaves (``exceptions.py``, ``types.py``, ``_pyversion.py``, ``models.py``, ``_json.py``,
  ``_record.py``) import nothing from the package, not even under ``TYPE_CHECKING``.
- ``_transport/*`` imports only the stdlib, httptools, aiohttp (in
  ``aiohttp_engine.py`` and ``aiohttp_ssh.py`` only), the leaves and its siblings.
- ``aiohttp_engine.py`` is imported by nobody at module level: only inside functions;
  ``aiohttp_ssh.py`` only by its facade ``ssh.py``.
- Compatibility facades (modules kept only for aiodocker 0.27's import paths) say so
  in the first line of their docstring, only re-export, and are imported by no
  module of the package.
- ``_core/*`` may import ``_transport``, the leaves and its siblings; never
  ``_streams`` or a resource module.
- ``_streams/*`` imports only the leaves (and its siblings).
- Only ``_transport/`` knows the HTTP library: ``_core``/``_streams`` never import aiohttp.
- ``import aiodocker`` does not import aiohttp (checked in a fresh interpreter).
- ``compose/*`` (the compose model) imports only the stdlib, PyYAML, orjson (optional,
  inside a function) and its siblings; no
  module outside it imports it, except ``__main__`` inside a function (the CLI's
  ``compose`` and ``stack`` commands); only ``compose/`` imports PyYAML. The stack
  deployer (``compose/stack.py``, ``compose/_stack_*.py``) may also import the leaves,
  and ``docker.py`` under ``TYPE_CHECKING``. The compose runtime
  (``compose/project.py``, ``compose/_runtime_*.py``) stands on the public client: it
  may also import the package's public modules (``docker``, ``exceptions``,
  ``containers``, ``events``, ...), never ``_core``/``_transport``/``_streams``. The
  model never imports the deployer, and reaches the runtime only from ``_cli`` inside a
  function (the runtime commands); ``compose/__init__.py``, the entry point, re-exports
  all three.
- The imports that run (function-level ones included) form no cycle. Imports under
  ``TYPE_CHECKING`` may close a circle: a resource's ``docker: Docker`` annotation
  keeps 0.27's type for users without importing ``docker.py`` at run time.
- ``aiodocker.testing`` (test doubles for users: the mock transport, the fake engine,
  the pytest plugin) sits above ``docker.py``; no other module imports it.
- ``aiodocker._legacy`` (every surface that exists only for aiodocker 0.27) is imported
  only by the modules that carry such a surface (``LEGACY_USERS``: ``docker.py``,
  ``stream.py``, ``images.py`` and the facades ``utils``, ``jsonstream``,
  ``multiplexed``) and by itself; it imports no resource module nor ``docker.py``
  (annotations aside), and nothing imports its empty ``__init__``.
- No module but ``docker.py`` touches a private attribute of a Docker object
  (``docker._x``, ``self.docker._x``, ``self._docker._x``): resources use
  ``docker.core`` (``Resource._api``) and ``docker.closed``.

Package-internal rules count every import, type-only ones included (an arrow pointing
up is a layering error even when it only serves annotations), except where a rule says
``TYPE_CHECKING``. Third-party rules count imports that run.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pytest

PACKAGE: Final = "aiodocker"


def package_dir() -> Path:
    spec = importlib.util.find_spec(PACKAGE)  # locates without importing
    assert spec is not None and spec.origin is not None
    return Path(spec.origin).parent


PACKAGE_DIR: Final = package_dir()

LEAVES: Final = frozenset(
    {"aiodocker.exceptions", "aiodocker.types", "aiodocker._pyversion", "aiodocker.models",
     "aiodocker._json", "aiodocker._record", "aiodocker._humanize"}
)
STDLIB: Final = frozenset(sys.stdlib_module_names) | {"__future__"}
AIOHTTP_ENGINE: Final = "aiodocker._transport.aiohttp_engine"
AIOHTTP_MODULES: Final = frozenset({AIOHTTP_ENGINE, "aiodocker._transport.aiohttp_ssh"})

# Modules that exist only so that aiodocker 0.27's import paths keep working.
FACADES: Final = frozenset(
    f"aiodocker.{name}"
    for name in ("channel", "constants", "jsonstream", "multiplexed", "ssh", "utils")
)
FACADE_MARK: Final = "Compatibility facade:"
# Functions a facade may define: 0.27 behaviour over a core function, one line each.
FACADE_WRAPPERS: Final = {"aiodocker.utils": {"clean_filters"}}


@dataclass(frozen=True)
class Import:
    file: str  # path relative to the package's parent, for messages
    line: int
    target: str  # absolute dotted module name
    in_function: bool
    type_checking: bool

    @property
    def runs_at_import(self) -> bool:
        return not self.in_function and not self.type_checking

    @property
    def runs(self) -> bool:
        return not self.type_checking

    def __str__(self) -> str:
        where = []
        if self.in_function:
            where.append("in a function")
        if self.type_checking:
            where.append("under TYPE_CHECKING")
        suffix = f" ({', '.join(where)})" if where else ""
        return f"{self.file}:{self.line} imports {self.target}{suffix}"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_package_module(dotted: str) -> bool:
    """Whether ``dotted`` (aiodocker.x.y) is a module or package file of ours."""
    if dotted != PACKAGE and not dotted.startswith(PACKAGE + "."):
        return False
    rel = Path(*dotted.split("."))
    base = PACKAGE_DIR.parent / rel
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def is_type_checking_test(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    if isinstance(test, ast.Attribute):
        return test.attr == "TYPE_CHECKING"
    return False


def collect_imports(path: Path, source: str | None = None) -> list[Import]:
    """Every import statement of ``path`` (or of ``source`` as if it were there)."""
    name = module_name(path)
    current_package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    rel_file = str(path.relative_to(PACKAGE_DIR.parent))
    if source is None:
        source = path.read_text(encoding="utf-8")
    tree = ast.parse(source, filename=str(path))
    found: list[Import] = []

    def resolve_from(node: ast.ImportFrom) -> list[str]:
        if node.level:
            base_parts = current_package.split(".")
            if node.level > 1:
                base_parts = base_parts[: -(node.level - 1)]
            base = ".".join(base_parts)
            base = f"{base}.{node.module}" if node.module else base
        else:
            base = node.module or ""
        targets = []
        for alias in node.names:
            candidate = f"{base}.{alias.name}"
            targets.append(candidate if is_package_module(candidate) else base)
        return targets

    def visit(node: ast.AST, in_function: bool, type_checking: bool) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append(Import(rel_file, node.lineno, alias.name, in_function, type_checking))
            return
        if isinstance(node, ast.ImportFrom):
            for target in dict.fromkeys(resolve_from(node)):
                found.append(Import(rel_file, node.lineno, target, in_function, type_checking))
            return
        if isinstance(node, ast.If) and is_type_checking_test(node.test):
            for child in node.body:
                visit(child, in_function, True)
            for child in node.orelse:
                visit(child, in_function, type_checking)
            return
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            in_function = True
        for sub in ast.iter_child_nodes(node):
            visit(sub, in_function, type_checking)

    visit(tree, False, False)
    return found


ALL_FILES: Final = sorted(PACKAGE_DIR.rglob("*.py"))


def files_in(layer: str) -> list[Path]:
    return sorted((PACKAGE_DIR / layer).glob("*.py"))


def file_id(path: Path) -> str:
    return str(path.relative_to(PACKAGE_DIR))


def top_level(target: str) -> str:
    return target.partition(".")[0]


def is_internal(target: str) -> bool:
    return top_level(target) == PACKAGE


def in_layer(target: str, layer: str) -> bool:
    prefix = f"{PACKAGE}.{layer}"
    return target == prefix or target.startswith(prefix + ".")


# --------------------------------------------------------------------------
# the scanner finds what it should (guards against a vacuous pass)


def test_scanner_sees_every_layer() -> None:
    for layer in ("_transport", "_core", "_streams"):
        assert files_in(layer), f"no files under {layer}/"
    for leaf in LEAVES:
        assert is_package_module(leaf), leaf


def test_scanner_resolves_relative_and_absolute_imports() -> None:
    targets = {i.target for path in files_in("_transport") for i in collect_imports(path)}
    assert "httptools" in targets
    assert "aiodocker.exceptions" in targets
    assert any(t.startswith("aiodocker._transport.") for t in targets)


def test_scanner_marks_function_level_and_type_checking_imports() -> None:
    sample = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from ..docker import Docker\n"
        "def f():\n"
        "    from .aiohttp_engine import AiohttpTransport\n"
        "from . import base\n"
        "from .. import exceptions\n"
    )
    imports = collect_imports(PACKAGE_DIR / "_transport" / "probe.py", source=sample)
    by_target = {i.target: i for i in imports}
    assert by_target["aiodocker.docker"].type_checking
    assert by_target[AIOHTTP_ENGINE].in_function
    assert by_target[AIOHTTP_ENGINE].runs and not by_target[AIOHTTP_ENGINE].runs_at_import
    assert by_target["typing"].runs_at_import
    assert "aiodocker._transport.base" in by_target
    assert "aiodocker.exceptions" in by_target


# --------------------------------------------------------------------------
# leaves


@pytest.mark.parametrize("leaf", sorted(LEAVES))
def test_leaf_imports_nothing_from_the_package(leaf: str) -> None:
    path = PACKAGE_DIR.parent / Path(*leaf.split(".")).with_suffix(".py")
    bad = [str(i) for i in collect_imports(path) if is_internal(i.target)]
    assert not bad, "a leaf imports from the package:\n" + "\n".join(bad)


# --------------------------------------------------------------------------
# _transport


TRANSPORT_INTERNAL_OK: Final = LEAVES


@pytest.mark.parametrize("path", files_in("_transport"), ids=file_id)
def test_transport_imports_only_stdlib_httptools_aiohttp_leaves_and_siblings(path: Path) -> None:
    is_engine = module_name(path) in AIOHTTP_MODULES
    bad = []
    for imp in collect_imports(path):
        top = top_level(imp.target)
        if is_internal(imp.target):
            if not (imp.target in TRANSPORT_INTERNAL_OK or in_layer(imp.target, "_transport")):
                bad.append(str(imp))
        elif top in STDLIB or top == "httptools":
            continue
        elif top == "aiohttp":
            if not is_engine and imp.runs:
                bad.append(f"{imp}  [aiohttp only in aiohttp_engine.py and aiohttp_ssh.py]")
        elif imp.runs:
            bad.append(f"{imp}  [third-party]")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("path", ALL_FILES, ids=file_id)
def test_nothing_imports_the_aiohttp_modules_at_module_level(path: Path) -> None:
    if module_name(path) in FACADES:
        return  # 0.27's aiodocker.ssh imports aiohttp too; no package module imports it
    bad = [str(i) for i in collect_imports(path) if i.target in AIOHTTP_MODULES and i.runs_at_import]
    assert not bad, "import aiohttp_engine inside the function that needs it:\n" + "\n".join(bad)


# --------------------------------------------------------------------------
# _core and _streams


@pytest.mark.parametrize("path", files_in("_core"), ids=file_id)
def test_core_imports_only_transport_leaves_and_siblings(path: Path) -> None:
    bad = [
        str(i)
        for i in collect_imports(path)
        if is_internal(i.target)
        and not (
            i.target in LEAVES or in_layer(i.target, "_transport") or in_layer(i.target, "_core")
        )
    ]
    assert not bad, "_core reaches outside its layer (_streams, resources, ...):\n" + "\n".join(bad)


def is_stack_module(name: str) -> bool:
    """The Swarm stack deployer (``compose/stack.py``, ``compose/_stack_*.py``)."""
    last = name.rsplit(".", 1)[-1]
    return in_layer(name, "compose") and (last == "stack" or last.startswith("_stack_"))


def is_compose_runtime(name: str) -> bool:
    """True for the compose runtime's modules (project.py, _runtime_*.py)."""
    last = name.rsplit(".", 1)[-1]
    return in_layer(name, "compose") and (last == "project" or last.startswith("_runtime_"))


PRIVATE_LAYERS: Final = ("_core", "_transport", "_streams", "_buildkit")


@pytest.mark.parametrize("path", files_in("compose"), ids=file_id)
def test_compose_imports_only_stdlib_yaml_and_siblings(path: Path) -> None:
    # The deployer and the runtime drive a daemon: the deployer may also import the
    # leaves (exceptions) and Docker for annotations only; the runtime the public client.
    name = module_name(path)
    stack = is_stack_module(name)
    runtime = is_compose_runtime(name)
    entry = name == "aiodocker.compose"  # the package's entry point re-exports every part
    bad = [
        str(i)
        for i in collect_imports(path)
        if not (
            i.target.split(".")[0] in STDLIB
            or i.target.split(".")[0] in ("yaml", "orjson")
            or (
                in_layer(i.target, "compose")
                and (stack or runtime or entry or not is_stack_module(i.target))
                and (stack or runtime or entry or i.in_function or not is_compose_runtime(i.target))
            )
            or (stack and i.target in LEAVES)
            or (stack and i.target == "aiodocker.docker" and i.type_checking)
            or (
                runtime
                and is_internal(i.target)
                and not any(in_layer(i.target, layer) for layer in PRIVATE_LAYERS)
            )
        )
    ]
    assert not bad, "compose/ reaches outside itself:\n" + "\n".join(bad)


@pytest.mark.parametrize("path", ALL_FILES, ids=file_id)
def test_only_main_imports_compose_and_only_in_a_function(path: Path) -> None:
    name = module_name(path)
    if in_layer(name, "compose"):
        return
    bad = [
        str(i)
        for i in collect_imports(path)
        if in_layer(i.target, "compose") and not (name == "aiodocker.__main__" and i.in_function)
    ]
    bad += [str(i) for i in collect_imports(path) if i.target.split(".")[0] == "yaml"]
    assert not bad, "compose/ (or PyYAML) imported outside the compose subpackage:\n" + "\n".join(bad)


def test_compose_files_are_seen() -> None:
    assert "aiodocker.compose._loader" in {module_name(p) for p in files_in("compose")}


@pytest.mark.parametrize("path", files_in("_streams"), ids=file_id)
def test_streams_import_only_leaves_and_siblings(path: Path) -> None:
    bad = [
        str(i)
        for i in collect_imports(path)
        if is_internal(i.target) and not (i.target in LEAVES or in_layer(i.target, "_streams"))
    ]
    assert not bad, "_streams reaches outside its layer:\n" + "\n".join(bad)


@pytest.mark.parametrize("path", files_in("_core") + files_in("_streams"), ids=file_id)
def test_core_and_streams_never_import_aiohttp(path: Path) -> None:
    bad = [str(i) for i in collect_imports(path) if top_level(i.target) == "aiohttp" and i.runs]
    assert not bad, "only _transport/ knows the HTTP library:\n" + "\n".join(bad)


# --------------------------------------------------------------------------
# the package import stays free of aiohttp


def test_import_aiodocker_does_not_import_aiohttp() -> None:
    completed = subprocess.run(
        [sys.executable, "-c", "import aiodocker, sys; print('aiohttp' in sys.modules)"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=PACKAGE_DIR.parent,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "False", "import aiodocker pulled in aiohttp"


# --------------------------------------------------------------------------
# compatibility facades


def docstring_of(path: Path) -> str:
    return ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""


def facade_problems(name: str, source: str) -> list[str]:
    """Why the module ``name`` with ``source`` is not a thin, marked facade."""
    tree = ast.parse(source)
    problems = []
    if not (ast.get_docstring(tree) or "").startswith(FACADE_MARK):
        problems.append(f"{name}: the docstring does not start with {FACADE_MARK!r}")
    allowed = FACADE_WRAPPERS.get(name, set())
    for node in tree.body[1:]:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        if isinstance(node, ast.Assign) and [ast.unparse(t) for t in node.targets] == ["__all__"]:
            continue
        if isinstance(node, ast.FunctionDef) and node.name in allowed:
            body = node.body[1:] if ast.get_docstring(node) else node.body
            if len(body) == 1 and isinstance(body[0], ast.Return):
                continue
        problems.append(f"{name}:{node.lineno}: more than a re-export ({ast.unparse(node)[:60]!r})")
    return problems


@pytest.mark.parametrize("facade", sorted(FACADES))
def test_a_facade_is_marked_and_only_re_exports(facade: str) -> None:
    path = PACKAGE_DIR.parent / Path(*facade.split(".")).with_suffix(".py")
    problems = facade_problems(facade, path.read_text(encoding="utf-8"))
    assert not problems, "\n".join(problems)


def test_every_module_marked_as_a_facade_is_listed() -> None:
    marked = {module_name(p) for p in ALL_FILES if docstring_of(p).startswith(FACADE_MARK)}
    assert marked == FACADES


def test_the_facade_check_catches_code_and_a_missing_mark() -> None:
    code = '"""Compatibility facade: x."""\nfrom .a import b\n\ndef helper():\n    x = 1\n    return x\n'
    assert facade_problems("aiodocker.utils", code)
    assert facade_problems("aiodocker.channel", '"""Fan-out."""\nfrom .a import b\n')
    assert not facade_problems("aiodocker.channel", '"""Compatibility facade: y."""\nfrom .a import b\n')


@pytest.mark.parametrize("path", ALL_FILES, ids=file_id)
def test_package_code_never_imports_a_facade(path: Path) -> None:
    bad = [str(i) for i in collect_imports(path) if i.target in FACADES]
    assert not bad, "import the real module, not the 0.27 facade:\n" + "\n".join(bad)


LEGACY: Final = "aiodocker._legacy"
# The modules with a 0.27-only surface, which they take from aiodocker._legacy.
LEGACY_USERS: Final = frozenset(
    {"aiodocker.docker", "aiodocker.stream", "aiodocker.images"}
    | {f"aiodocker.{name}" for name in ("utils", "jsonstream", "multiplexed")}
)
# What _legacy may import of the package besides itself: the layers below the resources
# and the streamed-response helpers; resources and docker.py only under TYPE_CHECKING.
LEGACY_MAY_IMPORT: Final = ("_core", "_streams", "_transport", "_responses")


def legacy_import_problems(name: str, imports: list[Import]) -> list[str]:
    """Why the module ``name``, with ``imports``, breaks the rules around ``_legacy``."""
    if in_layer(name, "_legacy"):
        return [
            str(i)
            for i in imports
            if is_internal(i.target)
            and i.target != LEGACY
            and not (
                in_layer(i.target, "_legacy")
                or i.target in LEAVES
                or any(in_layer(i.target, layer) for layer in LEGACY_MAY_IMPORT)
                or i.type_checking
            )
        ] + [f"{i}  [import a part of _legacy, not the package]" for i in imports if i.target == LEGACY]
    return [
        f"{i}  [only {', '.join(sorted(LEGACY_USERS))} may import _legacy]"
        for i in imports
        if in_layer(i.target, "_legacy") and name not in LEGACY_USERS
    ]


@pytest.mark.parametrize("path", ALL_FILES, ids=file_id)
def test_only_the_modules_with_a_027_surface_import_legacy(path: Path) -> None:
    bad = legacy_import_problems(module_name(path), collect_imports(path))
    assert not bad, "aiodocker._legacy's import rule:\n" + "\n".join(bad)


def test_the_legacy_rule_catches_a_stray_importer_and_an_upward_import() -> None:
    def imports(target: str, *, type_checking: bool = False) -> list[Import]:
        return [Import("x.py", 1, target, False, type_checking)]

    assert legacy_import_problems("aiodocker.containers", imports("aiodocker._legacy.bodies"))
    assert not legacy_import_problems("aiodocker.utils", imports("aiodocker._legacy.bodies"))
    assert legacy_import_problems("aiodocker._legacy.client", imports("aiodocker.containers"))
    assert not legacy_import_problems(
        "aiodocker._legacy.client", imports("aiodocker.docker", type_checking=True)
    )
    assert not legacy_import_problems("aiodocker._legacy.client", imports("aiodocker._core.client"))
    assert {module_name(p) for p in files_in("_legacy")} >= {"aiodocker._legacy.client"}


TESTING: Final = "aiodocker.testing"


@pytest.mark.parametrize("path", ALL_FILES, ids=file_id)
def test_only_the_testing_package_imports_the_testing_package(path: Path) -> None:
    """``aiodocker.testing`` sits above ``docker.py``: a product for users' tests, never a dependency."""
    if module_name(path) == TESTING or module_name(path).startswith(TESTING + "."):
        return
    bad = [
        str(i)
        for i in collect_imports(path)
        if i.target == TESTING or i.target.startswith(TESTING + ".")
    ]
    assert not bad, "package code imports aiodocker.testing:\n" + "\n".join(bad)


# --------------------------------------------------------------------------
# the package's import graph (scripts/import_graph.py prints it)


def import_graph(*, runtime: bool) -> dict[str, set[str]]:
    """Module -> the package modules it imports; ``runtime``: only imports that run."""
    graph: dict[str, set[str]] = {}
    for path in ALL_FILES:
        edges = graph.setdefault(module_name(path), set())
        for imp in collect_imports(path):
            if is_package_module(imp.target) and (imp.runs or not runtime):
                edges.add(imp.target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components that form a cycle, each sorted, biggest first."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:  # Tarjan; the package is small enough for recursion
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in graph.get(node, ()):
            if succ not in index:
                connect(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph.get(node, ()):
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return sorted(found, key=lambda c: (-len(c), c))


def cycle_path(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """One closed path through ``component``, e.g. ``[a, b, a]``, for the failure message."""
    members = set(component)
    start = component[0]
    previous: dict[str, str] = {}
    queue = [start]
    while queue:  # breadth first: the shortest way back to start
        node = queue.pop(0)
        for succ in sorted(graph[node] & members):
            if succ == start:
                path = [node]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                return [*reversed(path), start]
            if succ not in previous:
                previous[succ] = node
                queue.append(succ)
    raise AssertionError(f"no cycle through {start}")


def test_cycle_finder_finds_a_cycle_and_its_path() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e"}}
    assert cycles(graph) == [["a", "b", "c"], ["e"]]
    assert cycle_path(graph, ["a", "b", "c"]) == ["a", "b", "c", "a"]
    assert cycle_path(graph, ["e"]) == ["e", "e"]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_run_time_import_graph_has_no_cycle() -> None:
    graph = import_graph(runtime=True)
    assert "aiodocker.docker" in graph["aiodocker"]  # the scanner sees the package
    found = [" -> ".join(cycle_path(graph, c)) for c in cycles(graph)]
    assert not found, "import cycles among imports that run:\n" + "\n".join(found)


# --------------------------------------------------------------------------
# resources use Docker's public surface only

COMPOSITION_ROOT: Final = "aiodocker.docker"
# The names a Docker object goes by in package code: ``docker``, ``self.docker``, ``self._docker``.
DOCKER_NAMES: Final = frozenset({"docker", "_docker"})


def private_docker_accesses(source: str) -> list[str]:
    """``docker._x``, ``self.docker._x``, ``self._docker._x``... in ``source``: line and expression."""
    found: list[tuple[int, int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Attribute) and node.attr.startswith("_")):
            continue
        if node.attr.startswith("__") and node.attr.endswith("__"):
            continue  # dunders (``__class__``...) are public
        owner = node.value
        name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", None)
        if name in DOCKER_NAMES:
            found.append((node.lineno, node.col_offset, ast.unparse(node)))
    return [f"{line}: {text}" for line, _, text in sorted(found)]


def test_the_private_access_check_catches_every_spelling() -> None:
    sample = (
        "docker._api.call()\n"
        "self.docker._closed\n"
        "self._docker._websocket(path)\n"
        "self._events.docker._api\n"
        "docker.core\n"
        "self.docker.closed\n"
        "self._api.call()\n"
        "docker.__class__\n"
    )
    assert private_docker_accesses(sample) == [
        "1: docker._api",
        "2: self.docker._closed",
        "3: self._docker._websocket",
        "4: self._events.docker._api",
    ]


@pytest.mark.parametrize("path", ALL_FILES, ids=file_id)
def test_only_the_composition_root_touches_private_members_of_docker(path: Path) -> None:
    name = module_name(path)
    if name == COMPOSITION_ROOT:
        return
    found = private_docker_accesses(path.read_text(encoding="utf-8"))
    assert not found, (
        f"{file_id(path)} reaches into Docker (use docker.core, docker.closed or a Resource):\n"
        + "\n".join(found)
    )


def test_import_graph_script_prints_the_structure_the_test_sees() -> None:
    script = PACKAGE_DIR.parent / "scripts" / "import_graph.py"
    if not script.is_file():
        pytest.skip("not a source checkout")
    completed = subprocess.run(
        [sys.executable, str(script), "--top", "3"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert f"modules: {len(ALL_FILES)}" in lines
    run_time = next(line for line in lines if line.startswith("run-time imports:"))
    assert run_time.endswith(f"{len(cycles(import_graph(runtime=True)))} cycle(s)")
    sizes = [line for line in lines if re.fullmatch(r" +\d+  aiodocker[\w.]*", line)]
    assert len(sizes) == 3
