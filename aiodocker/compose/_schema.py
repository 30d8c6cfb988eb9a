"""Validation against the Compose Specification's JSON schema (the subset of draft-07 it uses).

The schema is ``spec/compose-spec.json`` in this package: the one Docker Compose v2.40.3
embeds (compose-go v2.9.1).  The keywords it uses are ``type``, ``properties``,
``patternProperties``, ``additionalProperties``, ``items``, ``required``, ``enum``,
``oneOf``, ``pattern``, ``minimum``, ``maximum``, ``uniqueItems`` and ``$ref``; this small
validator knows exactly those, which keeps loading fast.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from ._errors import ComposeError

SCHEMA_PATH = Path(__file__).with_name("spec") / "compose-spec.json"


@cache
def schema() -> dict[str, Any]:
    """The vendored Compose Specification schema."""
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return loaded


@cache
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


_PY_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "object": (dict,),
    "array": (list,),
    "boolean": (bool,),
    "integer": (int, float),
    "number": (int, float),
    "null": (type(None),),
}


def _type_ok(value: Any, kind: str) -> bool:
    if not isinstance(value, _PY_TYPES[kind]):
        return False
    if kind in ("integer", "number") and isinstance(value, bool):
        return False
    if kind == "integer" and isinstance(value, float):
        return value.is_integer()
    return True


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def errors(value: Any, node: dict[str, Any], path: str) -> str | None:
    """The first problem of ``value`` against schema ``node``, as "path: problem", or None."""
    ref = node.get("$ref")
    if ref is not None:
        node = schema()["definitions"][ref.rsplit("/", 1)[1]]
    kind = node.get("type")
    if kind is not None:
        kinds = kind if isinstance(kind, list) else [kind]
        if not any(_type_ok(value, k) for k in kinds):
            return f"{path or '(root)'}: must be a {' or '.join(kinds)}, not {_describe(value)}"
    enum = node.get("enum")
    if enum is not None and value not in enum:
        return f"{path}: must be one of {', '.join(map(str, enum))} (got {value!r})"
    if isinstance(value, dict):
        problem = _object_errors(value, node, path)
        if problem:
            return problem
    elif isinstance(value, list):
        items = node.get("items")
        if items is not None:
            for index, item in enumerate(value):
                problem = errors(item, items, f"{path}[{index}]")
                if problem:
                    return problem
        if node.get("uniqueItems"):
            seen: list[Any] = []
            for item in value:
                if item in seen:
                    return f"{path}: array items must be unique ({item!r} repeats)"
                seen.append(item)
    elif isinstance(value, str):
        pattern = node.get("pattern")
        if pattern is not None and not _regex(pattern).search(value):
            return f"{path}: {value!r} does not match the pattern {pattern}"
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in node and value < node["minimum"]:
            return f"{path}: must be at least {node['minimum']}"
        if "maximum" in node and value > node["maximum"]:
            return f"{path}: must be at most {node['maximum']}"
    for keyword in ("oneOf", "anyOf"):
        choices = node.get(keyword)
        if choices is not None:
            # The schema's alternatives differ by type, so the first that fits is the one.
            problems: list[str] = []
            for choice in choices:
                problem = errors(value, choice, path)
                if problem is None:
                    break
                problems.append(problem)
            else:
                specific = [p for p in problems if not p.split(": ", 1)[1].startswith("must be a ")]
                return specific[0] if specific else f"{path}: {_describe(value)} is not an allowed form"
    for sub in node.get("allOf", ()):
        problem = errors(value, sub, path)
        if problem:
            return problem
    return None


def _object_errors(value: dict[Any, Any], node: dict[str, Any], path: str) -> str | None:
    """The first problem of an object ``value`` against ``node``'s properties, or None."""
    props = node.get("properties", {})
    patterns = node.get("patternProperties")
    additional = node.get("additionalProperties", True)
    for key in node.get("required", ()):
        if key not in value:
            return f"{path or '(root)'}: {key} is required"
    for key, item in value.items():
        key = str(key)
        sub = props.get(key)
        matched = False
        if sub is not None:
            matched = True
            problem = errors(item, sub, _join(path, key))
            if problem:
                return problem
        if patterns:
            for pattern, psub in patterns.items():
                if _regex(pattern).search(key):
                    matched = True
                    problem = errors(item, psub, _join(path, key))
                    if problem:
                        return problem
        if not matched:
            if additional is False:
                return f"{path or '(root)'}: additional property {key} is not allowed"
            if isinstance(additional, dict):
                problem = errors(item, additional, _join(path, key))
                if problem:
                    return problem
    return None


def validate(document: dict[str, Any], file: str | None) -> None:
    """Check one compose file's content against the schema.

    Raises:
        ComposeError: naming the file, the path and the problem.
    """
    problem = errors(document, schema(), "")
    if problem is not None:
        where, _, what = problem.partition(": ")
        raise ComposeError(what, file=file, path="" if where == "(root)" else where)
