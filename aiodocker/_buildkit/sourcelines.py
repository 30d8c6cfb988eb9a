"""The Dockerfile lines of a failed build step, printed as buildx prints them.

Layer: ``_buildkit``; imports the stdlib only. Pure functions, no I/O.

``POST /build`` reports a failure as text only; the step that failed is a
vertex named like ``[stage-1 3/4] RUN make``. The local Dockerfile is split
into instructions as BuildKit's parser does (a line ending in the escape
character continues on the next; comment and blank lines inside an
instruction are skipped; heredoc bodies belong to their instruction), and the
vertex is matched to one by its text, else by its step number inside its
stage (``FROM`` is step 1; ``RUN``, ``COPY``, ``ADD`` and ``WORKDIR`` count).

buildx's layout: ``Dockerfile:5``, a dashed rule, the lines with their
numbers and ``>>>`` on the failed instruction's lines, two lines of context
around a multi-line instruction and four around a one-line one (shared out
before and after), and a closing rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

_RULE: Final = "--------------------"
_PREFIX: Final = re.compile(r"^\[(?:(?P<stage>[^\]]*?)\s+)?(?P<index>\d+)/(?P<total>\d+)\]\s+")
_DIRECTIVE: Final = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$")
_HEREDOC: Final = re.compile(r"<<(-?)\s*([\"']?)([A-Za-z_][A-Za-z0-9_]*)\2")
_STEPS: Final = frozenset({"FROM", "RUN", "COPY", "ADD", "WORKDIR"})


@dataclass(frozen=True, slots=True)
class Instruction:
    start: int  # 1-based line numbers, inclusive
    end: int
    text: str  # as BuildKit names it: continuations joined, escape characters dropped

    @property
    def keyword(self) -> str:
        return self.text.split(None, 1)[0].upper() if self.text.strip() else ""


def parse_instructions(source: str) -> list[Instruction]:
    """Split a Dockerfile into instructions with their line ranges."""
    lines = source.splitlines()
    escape = "\\"
    index = 0
    # parser directives: only at the very top, before anything else
    while index < len(lines):
        match = _DIRECTIVE.match(lines[index].strip())
        if not match:
            break
        if match.group(1).lower() == "escape" and match.group(2) in ("\\", "`"):
            escape = match.group(2)
        index += 1
    found: list[Instruction] = []
    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            index += 1
            continue
        start = index
        text = ""
        while True:
            body = line.rstrip()
            if body.endswith(escape) and index + 1 < len(lines):
                text += body[: -len(escape)]
                index += 1
                while index < len(lines) and (
                    not lines[index].strip() or lines[index].lstrip().startswith("#")
                ):
                    index += 1
                if index >= len(lines):
                    break
                line = lines[index]
                continue
            text += line
            break
        for heredoc in _HEREDOC.finditer(text):
            terminator = heredoc.group(3)
            while index + 1 < len(lines):
                index += 1
                candidate = lines[index].lstrip("\t") if heredoc.group(1) else lines[index]
                if candidate == terminator:
                    break
        found.append(Instruction(start + 1, index + 1, text.strip()))
        index += 1
    return found


def _normal(text: str) -> str:
    words = text.split()
    return " ".join([words[0].upper(), *words[1:]]) if words else ""


def _stages(instructions: list[Instruction]) -> list[tuple[str, list[Instruction]]]:
    stages: list[tuple[str, list[Instruction]]] = []
    for instruction in instructions:
        if instruction.keyword == "FROM":
            words = instruction.text.split()
            named = len(words) >= 4 and words[-2].upper() == "AS"
            stages.append((words[-1] if named else f"stage-{len(stages)}", []))
        if stages:
            stages[-1][1].append(instruction)
    return stages


def locate(vertex_name: str, source: str) -> Instruction | None:
    """The instruction of ``source`` that the vertex ``vertex_name`` ran, if it can be told."""
    prefix = _PREFIX.match(vertex_name)
    if prefix is None:
        return None
    wanted = _normal(vertex_name[prefix.end() :])
    stages = _stages(parse_instructions(source))
    stage_name = prefix.group("stage")
    if stage_name:
        stage_name = stage_name.split()[-1]  # after a platform, if any
        candidates = [steps for name, steps in stages if name.lower() == stage_name.lower()]
    else:
        candidates = [steps for _, steps in stages] if len(stages) == 1 else []
        if not candidates:  # no stage named: the text must tell
            candidates = [[i for _, steps in stages for i in steps]]
    for steps in candidates:
        counted = [i for i in steps if i.keyword in _STEPS]
        number = int(prefix.group("index"))
        by_index = counted[number - 1] if 0 < number <= len(counted) else None
        same_text = [i for i in steps if _normal(i.text) == wanted]
        if by_index is not None and by_index in same_text:
            return by_index
        if len(same_text) == 1:
            return same_text[0]
        if by_index is not None and stage_name is not None:
            return by_index
    return None


def render(filename: str, source: str, start: int, end: int) -> str:
    """Lines ``start``..``end`` of ``source`` with context, in buildx's layout."""
    lines = source.splitlines()
    if not 1 <= start <= len(lines):
        return ""
    end = min(max(end, start), len(lines))
    first, last = start, end
    budget = 2 if end > start else 4
    spent = 0
    while spent < budget:
        if first > 1:
            first -= 1
            spent += 1
        if last < len(lines):
            last += 1
            spent += 1
        spent += 1  # as buildx: a round counts even when neither side can grow
    out = [f"{filename}:{start}", _RULE]
    for number in range(first, last + 1):
        marker = ">>>" if start <= number <= end else "   "
        out.append(f" {number:>3} | {marker} {lines[number - 1]}")
    out.append(_RULE)
    return "\n".join(out)


def source_lines(filename: str, source: str, vertex_name: str) -> str:
    """The rendered lines of the failed vertex's instruction; "" when it cannot be told."""
    instruction = locate(vertex_name, source)
    if instruction is None:
        return ""
    return render(filename, source, instruction.start, instruction.end)
