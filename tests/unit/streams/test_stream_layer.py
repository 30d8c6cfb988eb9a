"""The _streams layer imports only the stdlib, aiodocker.exceptions and aiodocker.types."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import aiodocker._streams

ALLOWED = {"aiodocker.exceptions", "aiodocker.types"}
PACKAGE = Path(aiodocker._streams.__file__).parent


def test_streams_modules_import_only_stdlib_exceptions_and_types() -> None:
    for path in sorted(PACKAGE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative: must stay inside _streams
                    assert node.level == 1, f"{path.name}: import leaves _streams"
                    continue
                names = [node.module or ""]
            else:
                continue
            for name in names:
                top = name.partition(".")[0]
                assert name in ALLOWED or (top != "aiodocker" and top in sys.stdlib_module_names), (
                    f"{path.name} imports {name}"
                )


def test_streams_modules_do_no_io() -> None:
    forbidden = {"socket", "ssl", "selectors", "subprocess", "aiohttp", "httptools"}
    for path in sorted(PACKAGE.glob("*.py")):
        source = path.read_text()
        for name in forbidden:
            assert f"import {name}" not in source, f"{path.name} imports {name}"
