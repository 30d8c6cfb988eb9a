"""Progress of ``compose up/down/create/start/stop/rm``, shown as Docker Compose shows it.

Private runtime module of :mod:`aiodocker.compose`.  ``ComposeProject`` reports each
step on a resource (``progress("Container p-web-1", "Starting")``); ``Progress``
prints it.  On a terminal it keeps one line per resource under a ``[+] Running
n/m`` header and rewrites them in place (``✔`` once a step is done, a spinner
while it runs); elsewhere it prints one plain line per step, as Compose does
with ``--progress plain``.
"""

from __future__ import annotations

from typing import TextIO

_DONE = frozenset(
    {"Created", "Started", "Stopped", "Removed", "Healthy", "Recreated", "Running",
     "Killed", "Paused", "Unpaused", "Restarted", "Exited", "Pulled", "Built"}
)  # fmt: skip
_SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


class Progress:
    """Print progress reports to ``out``: in place on a tty (``tty=None``: ask ``out``)."""

    def __init__(self, out: TextIO, *, tty: bool | None = None) -> None:
        self.out = out
        self.tty = out.isatty() if tty is None else tty
        self.lines: dict[str, str] = {}
        self._drawn = 0
        self._ticks = 0

    def __call__(self, resource: str, status: str) -> None:
        """Report that ``resource`` (``"Container p-web-1"``) reached ``status``."""
        if not self.tty:
            self.out.write(f" {resource}  {status}\n")
            self.out.flush()
            return
        self.lines[resource] = status
        self._draw()

    def _draw(self) -> None:
        self._ticks += 1
        done = sum(status in _DONE for status in self.lines.values())
        width = max(len(resource) for resource in self.lines)
        rows = [f"[+] Running {done}/{len(self.lines)}"]
        spin = _SPINNER[self._ticks % len(_SPINNER)]
        for resource, status in self.lines.items():
            mark = "\x1b[32m✔\x1b[0m" if status in _DONE else spin
            rows.append(f" {mark} {resource.ljust(width)}  {status}")
        up = f"\x1b[{self._drawn}A" if self._drawn else ""
        self.out.write(up + "".join(f"\r\x1b[2K{row}\n" for row in rows))
        self.out.flush()
        self._drawn = len(rows)
