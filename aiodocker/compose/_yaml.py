"""YAML in and out, read as Docker Compose reads it (YAML 1.2 scalars, like Go's yaml.v3).

PyYAML's safe loader is the base: anchors, aliases and ``<<`` merge keys work, and the
Compose tags ``!reset`` and ``!override`` are kept as markers for the merge.  Its YAML 1.1
scalars are replaced with the 1.2 ones: ``yes``/``on`` stay strings, ``22:22`` is no
sexagesimal number, ``017`` and ``0o17`` are octal.  A key given twice in one mapping is an
error, as in Compose.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from ._errors import ComposeError


class Reset:
    """``!reset``: the value is removed from what the file overrides."""

    __slots__ = ()


class Override:
    """``!override VALUE``: replaces, instead of merging with, what the file overrides."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


RESET = Reset()

_base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_base):  # type: ignore[misc]
    yaml_implicit_resolvers: dict[Any, Any] = {}


def _resolver(tag: str, pattern: str, first: str) -> None:
    _Loader.add_implicit_resolver(tag, re.compile(pattern, re.X), list(first))


_resolver("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF")
_resolver(
    "tag:yaml.org,2002:int",
    r"^(?:[-+]?(?:0|[1-9][0-9_]*)|0x[0-9a-fA-F_]+|0o[0-7_]+|0[0-7_]+|0b[01_]+)$",
    "-+0123456789",
)
_resolver(
    "tag:yaml.org,2002:float",
    r"""^(?:[-+]?(?:[0-9][0-9_]*\.[0-9_]*|\.[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)?
    |[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    "-+0123456789.",
)
_resolver("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", "~nN\x00")
_Loader.add_implicit_resolver("tag:yaml.org,2002:null", re.compile(r"^$"), [""])
_resolver("tag:yaml.org,2002:merge", r"^(?:<<)$", "<")


def _int(loader: Any, node: Any) -> int:
    text = loader.construct_scalar(node).replace("_", "")
    sign = -1 if text.startswith("-") else 1
    text = text.lstrip("+-")
    if text.startswith(("0x", "0X")):
        return sign * int(text[2:], 16)
    if text.startswith("0o"):
        return sign * int(text[2:], 8)
    if text.startswith("0b"):
        return sign * int(text[2:], 2)
    if len(text) > 1 and text.startswith("0"):
        return sign * int(text, 8)
    return sign * int(text)


def _float(loader: Any, node: Any) -> float:
    text = loader.construct_scalar(node).replace("_", "").lower()
    if text.endswith(".inf"):
        return float("-inf") if text.startswith("-") else float("inf")
    if text.endswith(".nan"):
        return float("nan")
    return float(text)


def _mapping(loader: Any, node: Any) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = key_node.value
        if key in seen and isinstance(key, str):
            raise yaml.constructor.ConstructorError(
                None, None, f"mapping key {key!r} already defined", key_node.start_mark
            )
        seen.add(key)
    loader.flatten_mapping(node)
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        mapping[key] = loader.construct_object(value_node, deep=True)
    return mapping


class _Seen:
    markers = 0  # how many !reset/!override tags were read so far (lets loading skip a pass)


def markers_read() -> int:
    """How many ``!reset``/``!override`` tags this process has read so far."""
    return _Seen.markers


def _reset(loader: Any, node: Any) -> Reset:
    _Seen.markers += 1
    return RESET


def _override(loader: Any, node: Any) -> Override:
    _Seen.markers += 1
    if isinstance(node, yaml.MappingNode):
        return Override(_mapping(loader, node))
    if isinstance(node, yaml.SequenceNode):
        return Override(loader.construct_sequence(node, deep=True))
    return Override(loader.construct_object(yaml.ScalarNode(_plain_tag(loader, node), node.value), deep=True))


def _plain_tag(loader: Any, node: Any) -> str:
    tag: str = loader.resolve(yaml.ScalarNode, node.value, (True, False))
    return tag


_Loader.add_constructor("tag:yaml.org,2002:int", _int)
_Loader.add_constructor("tag:yaml.org,2002:float", _float)
_Loader.add_constructor("tag:yaml.org,2002:map", _mapping)
_Loader.add_constructor("!reset", _reset)
_Loader.add_constructor("!override", _override)


def load_documents(text: str, file: str) -> list[Any]:
    """Parse ``text`` (all its documents).

    Raises:
        ComposeError: the text is not valid YAML.
    """
    try:
        return [doc for doc in yaml.load_all(text, Loader=_Loader) if doc is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ComposeError(f"invalid YAML: {where}{problem}", file=file) from None


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _str(dumper: Any, data: str) -> Any:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str)


def dump(data: Any) -> str:
    """YAML text of ``data`` (block style, two-space indents, keys in the given order)."""
    text: str = yaml.dump(
        data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True, width=1 << 30
    )
    return text
