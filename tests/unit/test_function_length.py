"""No function in aiodocker/ is longer than 80 lines (issue 27), checked on the source with ``ast``.

A function's length is all its lines, from ``def`` to its last line: signature,
docstring and nested functions included. Generated code would be exempt, but the
package has none (a generated module would say so in its first line).
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Final

MAX_LINES: Final = 80
PACKAGE_DIR: Final = Path(__file__).resolve().parents[2] / "aiodocker"

def long_functions(root: Path, limit: int = MAX_LINES) -> list[tuple[str, str, int, int]]:
    """``(file, function, first line, length)`` of each function under ``root`` over ``limit``."""
    found = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                length = node.end_lineno - node.lineno + 1
                if length > limit:
                    found.append(
                        (path.relative_to(root).as_posix(), node.name, node.lineno, length)
                    )
    return found


def test_no_function_in_the_package_is_longer_than_80_lines() -> None:
    too_long = [
        f"aiodocker/{file}:{line} {name}() is {length} lines"
        for file, name, line, length in long_functions(PACKAGE_DIR)
    ]
    assert not too_long, f"functions over {MAX_LINES} lines (split them):\n" + "\n".join(too_long)


def test_the_check_counts_signature_docstring_and_nested_functions(tmp_path: Path) -> None:
    # the counter itself: a function of 81 lines is caught, one of 80 is not, and the
    # lines of a nested function count for the outer one too
    def lines(count: int) -> str:
        return "".join(f"    x{i} = {i}\n" for i in range(count))

    (tmp_path / "long.py").write_text(
        'def at_limit(\n    a: int,\n) -> None:\n    """Doc."""\n'
        + lines(76)
        + "def over(a: int) -> None:\n    def inner() -> None:\n        pass\n"
        + lines(78),
        encoding="utf-8",
    )
    found = {(name, length) for _, name, _, length in long_functions(tmp_path)}
    assert found == {("over", 81)}
