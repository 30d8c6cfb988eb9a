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
    cycle_path,
    cycles,
    import_graph,
    module_name,
)


def report(top: int) -> str:
    lines = [f"package: {PACKAGE_DIR}", f"modules: {len(ALL_FILES)}"]
    for label, runtime in (("run-time", True), ("static", False)):
        graph = import_graph(runtime=runtime)
        edges = sum(len(targets) for targets in graph.values())
        found = cycles(graph)
        lines.append(f"{label} imports: {edges} edges, {len(found)} cycle(s)")
        for component in found:
            lines.append(f"  {len(component)} modules: {', '.join(component)}")
            lines.append(f"    e.g. {' -> '.join(cycle_path(graph, component))}")
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
