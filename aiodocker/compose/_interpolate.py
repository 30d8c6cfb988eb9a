"""Variable interpolation as Compose does it: ``$VAR``, ``${VAR}``, ``:-``, ``-``, ``:?``,
``?``, ``:+``, ``+``, nested templates in the default, and ``$$`` for a literal dollar.

A ``$`` not followed by a name or a brace (``$1``, a trailing ``$``) stays literal, as in
Compose.  The result holds plain ``$``; the JSON and YAML forms escape every ``$`` as ``$$``
again, as ``docker compose config`` does."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ._errors import ComposeError
from ._yaml import Override

Lookup = Callable[[str], "str | None"]

_NAME_START = frozenset("_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_NAME_CHARS = _NAME_START | frozenset("0123456789")


class InterpolationError(ValueError):
    """A template is malformed or a required variable is missing (no file/path yet)."""


def _closing_brace(text: str, start: int) -> int:
    """Index of the ``}`` closing the ``${`` whose body starts at ``start``."""
    depth = 1
    i = start
    n = len(text)
    while i < n:
        c = text[i]
        if c == "$" and i + 1 < n and text[i + 1] == "{":
            depth += 1
            i += 2
            continue
        if c == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise InterpolationError(f"invalid interpolation format for {text!r}: missing closing brace")


def substitute(text: str, lookup: Lookup, warn: Callable[[str], None] | None = None) -> str:
    """Expand the variables of ``text``; ``$$`` becomes ``$``."""
    if "$" not in text:
        return text
    out: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        j = text.find("$", i)
        if j < 0:
            out.append(text[i:])
            break
        out.append(text[i:j])
        if j + 1 >= n:
            out.append("$")  # a trailing `$` stays literal
            break
        c = text[j + 1]
        if c == "$":
            out.append("$")
            i = j + 2
        elif c == "{":
            end = _closing_brace(text, j + 2)
            out.append(_braced(text[j + 2 : end], text, lookup, warn))
            i = end + 1
        elif c in _NAME_START:
            k = j + 1
            while k < n and text[k] in _NAME_CHARS:
                k += 1
            out.append(_value(text[j + 1 : k], lookup, warn))
            i = k
        else:
            out.append("$")  # `$1`, `$ `: a literal dollar
            i = j + 1
    return "".join(out)


def _value(name: str, lookup: Lookup, warn: Callable[[str], None] | None) -> str:
    value = lookup(name)
    if value is None:
        if warn is not None:
            warn(f'The "{name}" variable is not set. Defaulting to a blank string.')
        return ""
    return value


def _braced(body: str, whole: str, lookup: Lookup, warn: Callable[[str], None] | None) -> str:
    k = 0
    n = len(body)
    while k < n and body[k] in _NAME_CHARS:
        k += 1
    name = body[:k]
    if not name or name[0] not in _NAME_START:
        raise InterpolationError(f"invalid interpolation format for {whole!r}")
    if k == n:
        return _value(name, lookup, warn)
    rest = body[k:]
    colon = rest.startswith(":")
    op = rest[1:2] if colon else rest[:1]
    arg = rest[2:] if colon else rest[1:]
    if op not in ("-", "?", "+"):
        raise InterpolationError(f"invalid interpolation format for {whole!r}")
    value = lookup(name)
    missing = value is None or (colon and value == "")
    if op == "-":
        return substitute(arg, lookup, warn) if missing else str(value)
    if op == "+":
        return "" if missing else substitute(arg, lookup, warn)
    if missing:  # "?"
        message = substitute(arg, lookup, warn)
        raise InterpolationError(f"required variable {name} is missing a value: {message}")
    return str(value)


def interpolate_tree(
    node: Any, lookup: Lookup, path: str, warn: Callable[[str], None] | None = None
) -> Any:
    """A copy of a YAML tree with every string interpolated (mapping keys are left alone).

    A copy, not an update in place: YAML aliases share one object between several places,
    and each place must be interpolated once.
    """
    if isinstance(node, str):
        if "$" not in node:
            return node
        try:
            return substitute(node, lookup, warn)
        except InterpolationError as exc:
            raise ComposeError(str(exc), path=path) from None
    if isinstance(node, dict):
        return {
            key: interpolate_tree(value, lookup, f"{path}.{key}" if path else str(key), warn)
            if isinstance(value, (str, dict, list))
            else _marker(value, lookup, f"{path}.{key}" if path else str(key), warn)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [interpolate_tree(value, lookup, f"{path}[{index}]", warn) for index, value in enumerate(node)]
    return _marker(node, lookup, path, warn)


def _marker(node: Any, lookup: Lookup, path: str, warn: Callable[[str], None] | None) -> Any:
    """An ``!override`` marker's value is interpolated too; anything else is returned as is."""
    if isinstance(node, Override):
        return Override(interpolate_tree(node.value, lookup, path, warn))
    return node


def mapping_lookup(*layers: Mapping[str, str]) -> Lookup:
    """A lookup through ``layers``, the first holding a name winning."""

    def lookup(name: str) -> str | None:
        for layer in layers:
            value = layer.get(name)
            if value is not None:
                return value
        return None

    return lookup
