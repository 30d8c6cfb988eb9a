"""Progress displays of a BuildKit build: plain lines (like ``buildx --progress=plain``) and a tty view.

Layer: ``_buildkit``; imports the stdlib and :mod:`.trace`. Both displays turn
events into text and do no I/O themselves.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Final

from .trace import (
    BuildEvent,
    BuildWarning,
    LogLine,
    StatusChanged,
    VertexCached,
    VertexCompleted,
    VertexFailed,
    VertexStarted,
)

_UNITS: Final = ("B", "kB", "MB", "GB", "TB")


def format_size(size: int) -> str:
    value = float(size)
    for unit in _UNITS:
        if value < 1000 or unit == _UNITS[-1]:
            return f"{value:.0f}{unit}" if unit == "B" else f"{value:.2f}{unit}"
        value /= 1000
    raise AssertionError("unreachable")


class PlainRenderer:
    """Turn events into the lines ``docker buildx build --progress=plain`` prints.

    Steps are numbered ``#1``, ``#2``... in the order they first appear; log
    lines are prefixed with the seconds since their step started.
    """

    def __init__(self) -> None:
        self._numbers: dict[str, int] = {}
        self._names: dict[str, str] = {}
        self._started: dict[str, float] = {}
        self._partial: dict[str, bytes] = {}

    def _number(self, digest: str, name: str, lines: list[str]) -> int:
        number = self._numbers.get(digest)
        if number is None:
            number = self._numbers[digest] = len(self._numbers) + 1
            self._names[digest] = name
            lines.append(f"#{number} {name}")
        return number

    def render(self, event: BuildEvent) -> list[str]:
        """Return the lines to print for ``event`` (possibly none)."""
        lines: list[str] = []
        if isinstance(event, VertexStarted):
            self._started[event.digest] = event.started
            self._number(event.digest, event.name, lines)
        elif isinstance(event, VertexCached):
            number = self._number(event.digest, event.name, lines)
            lines += [f"#{number} CACHED", ""]
        elif isinstance(event, VertexCompleted):
            number = self._number(event.digest, event.name, lines)
            lines += self._flush(event.digest, number)
            lines += [f"#{number} DONE {event.duration:.1f}s", ""]
        elif isinstance(event, VertexFailed):
            number = self._number(event.digest, event.name, lines)
            lines += self._flush(event.digest, number)
            lines += [f"#{number} ERROR: {event.error}", ""]
        elif isinstance(event, StatusChanged):
            if event.completed:
                number = self._number(event.vertex, "", lines)
                amount = format_size(event.current)
                if event.total:
                    amount += f" / {format_size(event.total)}"
                lines.append(f"#{number} {event.name or event.id} {amount} done")
        elif isinstance(event, LogLine):
            number = self._number(event.vertex, "", lines)
            pieces = (self._partial.pop(event.vertex, b"") + event.data).split(b"\n")
            if pieces[-1]:
                self._partial[event.vertex] = pieces[-1]
            started = self._started.get(event.vertex)
            offset = (
                max(0.0, event.timestamp - started)
                if event.timestamp is not None and started is not None
                else 0.0
            )
            lines += [f"#{number} {offset:.3f} {_text(piece)}" for piece in pieces[:-1]]
        elif isinstance(event, BuildWarning):
            lines.append(f"WARNING: {event.short}")
            lines += [f"  {detail}" for detail in event.detail]
        return lines

    def _flush(self, digest: str, number: int) -> list[str]:
        rest = self._partial.pop(digest, b"")
        return [f"#{number} {_text(rest)}"] if rest else []


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace").rstrip("\r")


@dataclass
class _Step:
    name: str
    started: float
    finished: float | None = None
    state: str = "running"  # running, done, cached, error
    lines: deque[str] = field(default_factory=lambda: deque(maxlen=TtyDisplay.LOG_LINES))


class TtyDisplay:
    """A redrawn view for a terminal: one line per step, the live output of running steps.

    ``update(event)`` records an event; ``frame()`` returns the text that
    replaces the previous frame (cursor moves included).
    """

    LOG_LINES: Final = 6

    def __init__(self, *, height: int = 40) -> None:
        self._steps: dict[str, _Step] = {}
        self._begin = time.monotonic()
        self._drawn = 0
        self._height = height

    def update(self, event: BuildEvent) -> None:
        now = time.monotonic()
        if isinstance(event, VertexStarted):
            self._steps.setdefault(event.digest, _Step(event.name, now))
        elif isinstance(event, VertexCached):
            step = self._steps.setdefault(event.digest, _Step(event.name, now))
            step.state, step.finished = "cached", now
        elif isinstance(event, VertexCompleted | VertexFailed):
            step = self._steps.setdefault(event.digest, _Step(event.name, now))
            step.finished = now
            step.state = "done" if isinstance(event, VertexCompleted) else "error"
        elif isinstance(event, LogLine):
            running = self._steps.get(event.vertex)
            if running is not None:
                for piece in event.data.splitlines():
                    running.lines.append(_text(piece))

    def frame(self, *, final: bool = False) -> str:
        now = time.monotonic()
        done = sum(1 for step in self._steps.values() if step.state != "running")
        lines = [f"[+] Building {now - self._begin:.1f}s ({done}/{len(self._steps)})"]
        for step in self._steps.values():
            elapsed = (step.finished or now) - step.started
            suffix = {"cached": "CACHED", "error": "ERROR"}.get(step.state, f"{elapsed:.1f}s")
            lines.append(f" => {step.name}  {suffix}")
            if step.state in ("running", "error") and not final:
                lines += [f" => > {line}" for line in step.lines]
        lines = lines[-self._height :]
        up = f"\x1b[{self._drawn}F" if self._drawn else ""
        self._drawn = len(lines)
        return up + "\x1b[J" + "".join(f"{line}\n" for line in lines)
