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

# Functions other work in progress is splitting right now; the lead empties this
# list once that work is merged. "*" stands for every function of the file.
ALLOWED: Final[frozenset[tuple[str, str]]] = frozenset(
    {
        ("compose/_runtime_convert.py", "create_body"),
        ("compose/_runtime_cli.py", "_run"),
        ("compose/_runtime_cli.py", "add_commands"),
        ("compose/project.py", "run"),
        ("compose/_stack_convert.py", "_service_spec"),
        ("compose/_stack_deploy.py", "apply"),
        ("docker.py", "__init__"),
        ("_transport/http.py", "*"),
    }
)


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
        if (file, name) not in ALLOWED and (file, "*") not in ALLOWED
    ]
    assert not too_long, f"functions over {MAX_LINES} lines (split them):\n" + "\n".join(too_long)


def test_the_allow_list_names_only_functions_that_exist(tmp_path: Path) -> None:
    # an entry for a function that was renamed or removed would hide nothing and rot
    functions = {
        (path.relative_to(PACKAGE_DIR).as_posix(), node.name)
        for path in PACKAGE_DIR.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    files = {file for file, _ in functions}
    stale = [
        entry
        for entry in ALLOWED
        if (entry[1] == "*" and entry[0] not in files)
        or (entry[1] != "*" and entry not in functions)
    ]
    assert not stale, f"allow-list entries naming no function: {sorted(stale)}"


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
