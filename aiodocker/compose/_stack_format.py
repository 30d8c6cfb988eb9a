"""The docker CLI's ``--format`` for ``stack ls/services/ps``: table, json and Go templates.

Layer: a leaf of the stack command line (stdlib only). The docker CLI formats each row
with a Go template over a fixed set of fields; this module supports the part of Go's
template language those commands are used with: ``{{.Field}}``, ``{{json .}}`` and
``{{json .Field}}``, the ``table`` prefix (a header row, columns aligned as Go's
``tabwriter`` with the CLI's settings aligns them) and the ``json`` shortcut. Anything
else in ``{{ }}`` is refused with :class:`FormatError`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Final

# The CLI's tabwriter: minimum cell width 10, padding 3, blanks.
_MIN_WIDTH: Final = 10
_PADDING: Final = 3
_ACTION: Final = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_FIELD: Final = re.compile(r"\s*(json\s+)?\.(\w*)\s*")
# The header the CLI prints for each field in a table.
HEADERS: Final = {
    "ID": "ID",
    "Name": "NAME",
    "Services": "SERVICES",
    "Mode": "MODE",
    "Replicas": "REPLICAS",
    "Image": "IMAGE",
    "Ports": "PORTS",
    "Node": "NODE",
    "DesiredState": "DESIRED STATE",
    "CurrentState": "CURRENT STATE",
    "Error": "ERROR",
}


class FormatError(ValueError):
    """A ``--format`` template this package cannot run (the message names the action)."""


def go_json(value: object) -> str:
    """JSON as Go's ``encoding/json`` writes it: compact, keys sorted, ``<>&`` escaped."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render(
    fmt: str,
    rows: Sequence[Mapping[str, str]],
    fields: Sequence[str],
) -> str:
    """The output of ``--format fmt`` for ``rows`` (each row: field -> text), newline-ended.

    ``fmt`` is ``table`` (every field, in order), ``table TEMPLATE``, ``json`` or a
    template; ``fields`` are the ones the command has (a template naming another one
    is refused).

    Raises:
        FormatError: an unknown field or a template action outside the supported part.
    """
    if fmt == "table":  # the command's own table: every field
        fmt = "table " + "\\t".join("{{." + name + "}}" for name in fields)
    table = fmt.startswith("table")
    template = "{{json .}}" if fmt == "json" else fmt[len("table") :] if table else fmt
    template = template.strip(" ").replace("\\t", "\t").replace("\\n", "\n")
    lines = [_execute(template, row, fields) for row in rows]
    if not table:
        return "".join(line + "\n" for line in lines)
    header = _execute(template, {name: HEADERS.get(name, name.upper()) for name in fields}, fields)
    return _tabwrite([header, *lines])


def _execute(template: str, row: Mapping[str, str], fields: Sequence[str]) -> str:
    def action(match: re.Match[str]) -> str:
        parsed = _FIELD.fullmatch(match.group(1))
        if parsed is None:
            raise FormatError(
                f"unsupported template action {match.group(0)!r}: this command line supports "
                "{{.Field}}, {{json .}} and {{json .Field}}"
            )
        as_json, name = parsed.group(1), parsed.group(2)
        if not name:
            if not as_json:
                raise FormatError("{{.}} prints the Go struct; use {{json .}}")
            return go_json({key: row[key] for key in fields})
        if name not in fields:
            raise FormatError(f"unknown field {name!r}: the fields are {', '.join(fields)}")
        return go_json(row[name]) if as_json else row[name]

    return _ACTION.sub(action, template)


def _tabwrite(lines: list[str]) -> str:
    """Align tab-separated cells as Go's ``tabwriter`` does with the CLI's settings."""
    split = [line.split("\t") for line in lines]
    columns = max(len(cells) for cells in split) - 1
    widths = [
        max(
            [_MIN_WIDTH]
            + [len(cells[index]) + _PADDING for cells in split if index < len(cells) - 1]
        )
        for index in range(columns)
    ]
    out = []
    for cells in split:
        padded = [cell.ljust(widths[index]) for index, cell in enumerate(cells[:-1])]
        out.append("".join(padded) + cells[-1] + "\n")
    return "".join(out)
