"""Print the package's import structure: modules, import cycles, the biggest modules.

    python3 scripts/import_graph.py [--top N]

"Run-time" counts the imports that run (function-level ones included);
"static" counts every import, those under ``if TYPE_CHECKING:`` too. The scanner
is the one of tests/unit/test_import_layers.py, so the numbers are the test's.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from tests.unit.test_import_layers import (  # noqa: E402  (needs the repo on sys.path)
    ALL_FILES,
    PACKAGE_DIR,
    collect_imports,
    cycle_path,
    cycles,
    import_graph,
    is_package_module,
    module_name,
)

ROOT = "aiodocker.docker"


def graph_without_root_annotations() -> dict[str, set[str]]:
    """All imports except those of docker.py for annotations (the allowed way back up)."""
    graph: dict[str, set[str]] = {}
    for path in ALL_FILES:
        edges = graph.setdefault(module_name(path), set())
        for imp in collect_imports(path):
            if is_package_module(imp.target) and not (imp.type_checking and imp.target == ROOT):
                edges.add(imp.target)
    return graph


def report(top: int) -> str:
    lines = [f"package: {PACKAGE_DIR}", f"modules: {len(ALL_FILES)}"]
    graphs = (
        ("run-time", import_graph(runtime=True)),
        ("static", import_graph(runtime=False)),
        (f"static, less annotation-only imports of {ROOT},", graph_without_root_annotations()),
    )
    for label, graph in graphs:
        edges = sum(len(targets) for targets in graph.values())
        found = cycles(graph)
        lines.append(f"{label} imports: {edges} edges, {len(found)} cycle(s)")
        for component in found:
            lines.append(f"  {len(component)} modules: {', '.join(component)}")
            lines.append(f"    e.g. {' -> '.join(cycle_path(graph, component))}")
    at_run_time = {m for m, targets in import_graph(runtime=True).items() if ROOT in targets}
    at_all = {m for m, targets in import_graph(runtime=False).items() if ROOT in targets}
    lines.append(
        f"modules importing {ROOT}: {len(at_run_time)} at run time, "
        f"{len(at_all - at_run_time)} for annotations only"
    )
    sizes = sorted(
        ((len(p.read_text(encoding="utf-8").splitlines()), module_name(p)) for p in ALL_FILES),
        reverse=True,
    )
    lines.append(f"biggest modules (lines): {sum(n for n, _ in sizes)} in all")
    lines.extend(f"  {n:5d}  {name}" for n, name in sizes[:top])
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=10, help="how many of the biggest modules")
    print(report(parser.parse_args().top))


if __name__ == "__main__":
    main()
