"""Progress of pull, push and load streams, aggregated over their layers.

Public module (resource level): imports the stdlib and, for the command line
helper only, the package's exceptions. Feed the items of a
``images.pull(..., stream=True)``, ``images.push(..., stream=True)`` or
``images.import_image(..., stream=True)`` stream into a :class:`Progress`
(``async for item in progress.track(stream)``) and read ``fraction``,
``bytes_done``, ``bytes_total`` and the per-layer states.

The overall fraction never goes backwards (layers announced late can only
slow it down) and is exactly 1.0 once the stream ended without an error.
"""

from __future__ import annotations

import sys
import time
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, TextIO

from .exceptions import DockerError

if TYPE_CHECKING:
    from .docker import Docker

__all__ = ("LayerProgress", "Progress", "run_pull_cli")

# Share of a pulled layer's progress given to the download; extraction gets the rest.
DOWNLOAD_SHARE: Final = 0.6

# Layer states that end a layer (pull, push); "Mounted from ..." also does.
FINAL_STATES: Final = frozenset(
    {"Pull complete", "Already exists", "Pushed", "Layer already exists"}
)
_DOWNLOADED_STATES: Final = frozenset({"Verifying Checksum", "Download complete"})
# Items with an ``id`` that name a tag, not a layer.
_HEADER_PREFIXES: Final = ("Pulling from ",)
_MOUNTED_PREFIX: Final = "Mounted from "

_BAR_WIDTH: Final = 30
_REDRAW_INTERVAL: Final = 0.1


@dataclass
class LayerProgress:
    """What one layer is doing: the daemon's last status and its byte counts."""

    id: str
    status: str = ""
    current: int = 0
    """Bytes of the current phase done (download, extraction, upload or load)."""
    total: int | None = None
    """The layer's size in bytes, when the daemon has told it."""
    fraction: float = 0.0
    """This layer's progress, 0.0 to 1.0; never decreases."""
    done: bool = False

    @property
    def bytes_done(self) -> int:
        """Bytes transferred so far (the download or upload, not the extraction)."""
        if self.total is None:
            return 0
        if self.done or self.status in _DOWNLOADED_STATES or self.status == "Extracting":
            return self.total
        return min(self.current, self.total)


class Progress:
    """Aggregate the progress items of a pull, push or load stream.

    ``feed(item)`` takes one item; :meth:`track` feeds every item of a stream
    while passing it through, and calls :meth:`finish` when the stream ends
    without an error.
    """

    def __init__(self) -> None:
        self.layers: dict[str, LayerProgress] = {}
        self.messages: list[str] = []
        """Status lines that concern no single layer ("Digest: ...", "Status: ...")."""
        self.done = False
        self._fraction = 0.0

    # --- reading --------------------------------------------------------------

    @property
    def fraction(self) -> float:
        """Overall progress from 0.0 to 1.0; never goes backwards; 1.0 once finished."""
        return self._fraction

    @property
    def percent(self) -> int:
        """``fraction`` as a whole percentage (100 only when finished)."""
        if self.done:
            return 100
        return min(99, int(self._fraction * 100))

    @property
    def bytes_done(self) -> int:
        return sum(layer.bytes_done for layer in self.layers.values())

    @property
    def bytes_total(self) -> int:
        """The sum of the layer sizes the daemon has reported so far."""
        return sum(layer.total or 0 for layer in self.layers.values())

    @property
    def layers_done(self) -> int:
        return sum(1 for layer in self.layers.values() if layer.done)

    def __repr__(self) -> str:
        return (
            f"<Progress {self.percent}% layers={self.layers_done}/{len(self.layers)} "
            f"bytes={self.bytes_done}/{self.bytes_total}>"
        )

    # --- feeding --------------------------------------------------------------

    def feed(self, item: Mapping[str, Any]) -> bool:
        """Take one stream item; return whether the state visibly changed."""
        if not isinstance(item, Mapping):
            return False
        status = item.get("status")
        if not isinstance(status, str):
            return False
        layer_id = item.get("id")
        if not isinstance(layer_id, str) or not layer_id or status.startswith(_HEADER_PREFIXES):
            self.messages.append(status)
            return True
        layer = self.layers.get(layer_id)
        if layer is None:
            layer = self.layers[layer_id] = LayerProgress(layer_id)
        before = (layer.status, layer.current, layer.fraction)
        detail = item.get("progressDetail")
        current, total = _counts(detail)
        layer.status = status
        if total is not None and total > 0:
            layer.total = total if layer.total is None else max(layer.total, total)
        if current is not None:
            layer.current = max(0, current)
        elif status not in ("Downloading", "Extracting", "Pushing", "Loading layer"):
            layer.current = 0
        fraction = _fraction_for(layer, status, current, total)
        if status in FINAL_STATES or status.startswith(_MOUNTED_PREFIX):
            layer.done = True
            fraction = 1.0
        elif status == "Loading layer" and total and current is not None and current >= total:
            layer.done = True
        layer.fraction = max(layer.fraction, min(1.0, fraction))
        self._update_overall()
        return (layer.status, layer.current, layer.fraction) != before

    def finish(self) -> None:
        """Mark the operation complete: every layer done and the fraction at 1.0."""
        for layer in self.layers.values():
            layer.done = True
            layer.fraction = 1.0
        self.done = True
        self._fraction = 1.0

    async def track(self, stream: AsyncIterable[Any]) -> AsyncIterator[Any]:
        """Yield every item of ``stream`` after feeding it; finish on a clean end.

        An error raised by the stream (``DockerStreamError`` and the like)
        propagates and leaves the progress unfinished.
        """
        async for item in stream:
            self.feed(item)
            yield item
        self.finish()

    def _update_overall(self) -> None:
        if self.done:
            return
        layers = list(self.layers.values())
        if not layers:
            return
        known = [layer.total for layer in layers if layer.total]
        default_weight = sum(known) / len(known) if known else 1.0
        weight_sum = 0.0
        done_sum = 0.0
        for layer in layers:
            if layer.total:
                weight = float(layer.total)
            elif layer.done:
                # "Already exists", "Layer already exists": nothing was transferred.
                continue
            else:
                weight = default_weight  # size not announced yet
            weight_sum += weight
            done_sum += weight * layer.fraction
        if weight_sum:
            overall = done_sum / weight_sum
        else:
            overall = sum(1 for layer in layers if layer.done) / len(layers)
        # Only a finished stream reaches 1.0.
        overall = min(overall, 0.999)
        if overall > self._fraction:
            self._fraction = overall

    # --- rendering ------------------------------------------------------------

    def render(self, width: int = _BAR_WIDTH) -> str:
        """One line: a bar, the percentage, bytes and layers (for terminals)."""
        filled = int(self._fraction * width)
        bar = "#" * filled + "-" * (width - filled)
        text = f"[{bar}] {self.percent:3d}%"
        if self.bytes_total:
            text += f" {_human(self.bytes_done)}/{_human(self.bytes_total)}"
        if self.layers:
            text += f" {self.layers_done}/{len(self.layers)} layers"
        return text


def _counts(detail: Any) -> tuple[int | None, int | None]:
    if not isinstance(detail, Mapping):
        return None, None
    current = detail.get("current")
    total = detail.get("total")
    return (
        current if isinstance(current, int) and not isinstance(current, bool) else None,
        total if isinstance(total, int) and not isinstance(total, bool) else None,
    )


def _ratio(current: int | None, total: int | None) -> float:
    if current is None or not total or total <= 0:
        return 0.0
    return max(0.0, min(1.0, current / total))


def _fraction_for(
    layer: LayerProgress, status: str, current: int | None, total: int | None
) -> float:
    """This item's idea of the layer's fraction (the caller keeps the maximum)."""
    total = total or layer.total
    if status == "Downloading":
        return DOWNLOAD_SHARE * _ratio(current, total)
    if status in _DOWNLOADED_STATES:
        return DOWNLOAD_SHARE
    if status == "Extracting":
        return DOWNLOAD_SHARE + (1.0 - DOWNLOAD_SHARE) * _ratio(current, total)
    if status in ("Pushing", "Loading layer"):
        return _ratio(current, total)
    return 0.0


def _human(size: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f}{unit}" if unit == "B" else f"{size:.1f}{unit}"
        size /= 1000
    return f"{size:.1f}GB"  # pragma: no cover - loop always returns


# --- python -m aiodocker pull IMAGE ------------------------------------------------


async def run_pull_cli(
    docker: Docker, image: str, *, out: TextIO, err: TextIO | None = None
) -> int:
    """Pull ``image`` showing progress on ``out``; return the exit status.

    On a terminal the progress is one redrawn bar; otherwise every layer
    state change is written as a plain line. Errors go to ``err`` (default
    ``sys.stderr``) and give status 1.
    """
    error_out = err if err is not None else sys.stderr
    progress = Progress()
    interactive = _isatty(out)
    last_draw = 0.0
    last_states: dict[str, str] = {}
    try:
        stream = docker.images.pull(image, stream=True)
        async for item in progress.track(stream):
            if interactive:
                now = time.monotonic()
                if now - last_draw >= _REDRAW_INTERVAL:
                    last_draw = now
                    out.write("\r" + progress.render() + "\x1b[K")
                    out.flush()
                continue
            line = _plain_line(item, last_states)
            if line is not None:
                out.write(line + "\n")
                out.flush()
    except (DockerError, ValueError) as exc:
        if interactive:
            out.write("\n")
        error_out.write(f"Error pulling {image}: {getattr(exc, 'message', None) or exc}\n")
        error_out.flush()
        return 1
    if interactive:
        out.write("\r" + progress.render() + "\x1b[K\n")
        for message in progress.messages:
            if message.startswith(("Digest: ", "Status: ")):
                out.write(message + "\n")
    out.flush()
    return 0


def _isatty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _plain_line(item: Any, last_states: dict[str, str]) -> str | None:
    """The line to print for ``item`` on a non-terminal, None to skip it."""
    if not isinstance(item, Mapping):
        return None
    status = item.get("status")
    if not isinstance(status, str):
        return None
    layer_id = item.get("id")
    if not isinstance(layer_id, str) or not layer_id:
        return status
    if status.startswith(_HEADER_PREFIXES):
        return f"{layer_id}: {status}"
    if last_states.get(layer_id) == status:
        return None  # repeated "Downloading" / "Extracting" ticks
    last_states[layer_id] = status
    return f"{layer_id}: {status}"
