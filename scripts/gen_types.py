"""Generate ``aiodocker/models.py``: TypedDicts of the Engine API's definitions.

    python3 scripts/gen_types.py            # rewrite aiodocker/models.py
    python3 scripts/gen_types.py --check    # exit 1 if the committed file is stale

One ``TypedDict`` per object of the spec's ``definitions`` (bollard's approach), every
key optional (``total=False``: the daemon leaves fields out across versions), an
inline object as its own ``TypedDict`` named after its owner and field, and every
other definition as a type alias. Enums stay ``str``/``int``: a newer daemon may
send values this spec does not list. Needs PyYAML (the ``test`` extra).
"""

from __future__ import annotations

import argparse
import keyword
import re
import sys
import textwrap
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
SPEC = REPO_ROOT / "spec" / "engine-api-v1.55.yaml"
TARGET = REPO_ROOT / "aiodocker" / "models.py"

PRIMITIVES = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def summary(description: str | None) -> str:
    """The first sentence of a spec description, on one line."""
    text = " ".join((description or "").split())
    match = re.match(r"(.+?\.)(\s|$)", text)
    line = match.group(1) if match else text
    line = line.replace("\\", "\\\\").replace('"""', "'''")
    return line + "." if line.endswith('"') else line


def pascal(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", name) if part)


class Generator:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.definitions: dict[str, Any] = spec["definitions"]
        self.classes: dict[str, tuple[list[str], str]] = {}  # name -> (bases, source)
        self.aliases: list[str] = []
        self.names: set[str] = set(self.definitions)

    def run(self) -> str:
        for name in sorted(self.definitions):
            schema = self.definitions[name]
            if self._is_object(schema) and not self._is_reference(schema):
                self._typed_dict(name, schema)
            else:
                doc = summary(schema.get("description"))
                comment = f"  # {doc}" if doc else ""
                self.aliases.append(f'{name}: TypeAlias = "{self.annotation(schema, name)}"{comment}')
        names = sorted([line.split(":")[0] for line in self.aliases] + list(self.classes))
        exports = "".join(f'    "{name}",\n' for name in names)
        return (
            HEADER
            + f"__all__ = (\n{exports})\n\n\n"
            + "\n\n".join(self._ordered_classes())
            + "\n\n"
            + "\n".join(self.aliases)
            + "\n"
        )

    @staticmethod
    def _is_object(schema: dict[str, Any]) -> bool:
        return "properties" in schema or "allOf" in schema

    @staticmethod
    def _is_reference(schema: dict[str, Any]) -> bool:
        return len(schema.get("allOf", [])) == 1 and "properties" not in schema

    def _ordered_classes(self) -> list[str]:
        """The TypedDicts by name, each after its bases (they are evaluated at import)."""
        done: dict[str, str] = {}

        def visit(name: str) -> None:
            if name in done or name not in self.classes:
                return
            bases, source = self.classes[name]
            for base in bases:
                visit(base)
            done[name] = source

        for name in sorted(self.classes):
            visit(name)
        return list(done.values())

    def _fresh(self, name: str) -> str:
        candidate, n = name, 2
        while candidate in self.names:
            candidate, n = f"{name}{n}", n + 1
        self.names.add(candidate)
        return candidate

    def annotation(self, schema: dict[str, Any], owner: str) -> str:
        """The type of ``schema`` as source text; inline objects become TypedDicts."""
        parts = schema.get("allOf", [])
        if len(parts) == 1 and "properties" not in schema:  # a described reference
            result = self.annotation(parts[0], owner)
        elif "$ref" in schema:
            result = schema["$ref"].rsplit("/", 1)[-1]
        elif "allOf" in schema or "properties" in schema:
            result = self._typed_dict(self._fresh(owner), schema)
        elif schema.get("type") == "array":
            result = f"list[{self.annotation(schema.get('items', {}), owner + 'Item')}]"
        elif schema.get("type") == "object" or "additionalProperties" in schema:
            extra = schema.get("additionalProperties")
            value = self.annotation(extra, owner + "Value") if isinstance(extra, dict) and extra else "Any"
            result = f"dict[str, {value}]"
        else:
            result = PRIMITIVES.get(schema.get("type", ""), "Any")
        if schema.get("x-nullable") and result != "Any":
            result += " | None"
        return result

    def _typed_dict(self, name: str, schema: dict[str, Any]) -> str:
        bases: list[str] = []
        properties: dict[str, Any] = dict(schema.get("properties", {}))
        description = schema.get("description")
        for part in schema.get("allOf", []):
            if "$ref" in part:
                bases.append(part["$ref"].rsplit("/", 1)[-1])
            else:
                properties.update(part.get("properties", {}))
                description = description or part.get("description")
        fields = {key: self.annotation(prop, name + pascal(key)) for key, prop in properties.items()}
        doc = summary(description) or f"``{name}`` of the Engine API."
        if all(IDENTIFIER.match(key) and not keyword.iskeyword(key) for key in fields):
            head = f"class {name}({', '.join(bases) or 'TypedDict'}, total=False):"
            body = [f'    """{doc}"""', ""] + [f"    {key}: {value}" for key, value in fields.items()]
            if not fields:
                body = body[:1]
            block = "\n".join([head, *body]) + "\n"
        else:  # keys that are not identifiers: the functional form (no bases in it)
            assert not bases, f"{name}: allOf with non-identifier keys"
            items = "".join(f"        {key!r}: {value!r},\n" for key, value in fields.items())
            block = (
                f"# {doc}\n{name} = TypedDict(\n    {name!r},\n    {{\n{items}    }},\n    total=False,\n)\n"
            )
        self.classes[name] = (bases, block)
        return name


HEADER = '''"""Typed shapes of the Engine API's JSON (spec v1.55), for annotations only.

Generated by ``scripts/gen_types.py`` from ``spec/engine-api-v1.55.yaml``: do not
edit. At runtime every result is a plain ``dict``; these ``TypedDict``s only tell a
type checker which keys the daemon may send. Every key is optional (``total=False``).
A leaf module: imports nothing from the package.
"""

# ruff: noqa: E501

from __future__ import annotations

from typing import Any, TypeAlias, TypedDict

'''


def render(spec_path: Path = SPEC) -> str:
    with spec_path.open(encoding="utf-8") as stream:
        spec = yaml.load(stream, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return Generator(spec).run()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=textwrap.dedent(__doc__ or "").splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the committed file differs")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        if TARGET.read_text(encoding="utf-8") != text:
            print(f"{TARGET} is stale: run python3 scripts/gen_types.py", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
