"""BuildKit builds: typed progress events, the image id, errors that name the failed step.

Layer: resource module (beside ``images.py``, which it drives); imports
``_buildkit`` and the leaves. ``import aiodocker`` does not import it.

    from aiodocker import Docker, buildkit

    async with Docker() as docker:
        image_id = await buildkit.build(docker, path="ctx", tag="app:dev", progress=print)

        async with buildkit.BuildKitBuild(docker, path="ctx", target="test") as build:
            async for event in build:          # VertexStarted, LogLine, ...
                ...
            print(build.image_id)

The keyword arguments are those of :meth:`DockerImages.build` (``path``,
``fileobj`` + ``encoding``, ``remote``, ``tag``, ``buildargs``, ``target``,
``nocache``, ...), without ``stream`` and ``version``.
"""

from __future__ import annotations

import sys
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, TextIO

from ._buildkit.render import PlainRenderer, TtyDisplay
from ._buildkit.trace import (
    BuildEvent,
    BuildTrace,
    BuildWarning,
    ImageBuilt,
    LogLine,
    StatusChanged,
    VertexCached,
    VertexCompleted,
    VertexFailed,
    VertexStarted,
)
from .exceptions import DockerError, DockerStreamError, DockerTruncatedStreamError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from .docker import Docker

__all__ = [
    "BuildEvent",
    "BuildKitBuild",
    "BuildWarning",
    "ImageBuilt",
    "LogLine",
    "PlainRenderer",
    "StatusChanged",
    "TtyDisplay",
    "VertexCached",
    "VertexCompleted",
    "VertexFailed",
    "VertexStarted",
    "build",
    "run_build_cli",
]

_REDRAW_INTERVAL: Final = 0.1


class BuildKitBuild:
    """One BuildKit build: an async iterator of :data:`BuildEvent`.

    Nothing is sent before the first event is asked for. After the last
    event, :attr:`image_id` holds the built image's id.

    Raises (while iterating):
        DockerStreamError: the build failed; the message names the failed
            step and ends with its last output lines.
    """

    def __init__(self, docker: Docker, **build_kwargs: Any) -> None:
        for reserved in ("stream", "version"):
            if reserved in build_kwargs:
                raise TypeError(f"BuildKitBuild sets {reserved}= itself")
        self._docker = docker
        self._kwargs = build_kwargs
        self._stream: AsyncIterator[dict[str, Any]] | None = None
        self._pending: deque[BuildEvent] = deque()
        self._closed = False
        self.trace = BuildTrace()

    @property
    def image_id(self) -> str | None:
        """The built image's id (``sha256:...``), once the daemon sent it."""
        return self.trace.image_id

    def __aiter__(self) -> BuildKitBuild:
        return self

    async def __anext__(self) -> BuildEvent:
        while not self._pending:
            if self._closed:
                raise StopAsyncIteration
            if self._stream is None:
                self._stream = self._docker.images.build(stream=True, version="2", **self._kwargs)
            try:
                item = await self._stream.__anext__()
            except StopAsyncIteration:
                await self.aclose()
                raise
            except DockerTruncatedStreamError:
                await self.aclose()
                raise
            except DockerStreamError as exc:
                await self.aclose()
                raise self.trace.explain(exc) from exc
            except BaseException:
                await self.aclose()
                raise
            self._pending.extend(self.trace.feed(item))
        return self._pending.popleft()

    async def wait(self) -> str:
        """Run the build to its end and return the image id.

        Raises:
            DockerStreamError: the build failed, or ended without an image id.
        """
        async for _ in self:
            pass
        if self.image_id is None:
            raise DockerStreamError("the BuildKit build ended without reporting an image id")
        return self.image_id

    async def aclose(self) -> None:
        """Stop the build's stream and release its connection. Idempotent."""
        self._closed = True
        stream, self._stream = self._stream, None
        closer = getattr(stream, "aclose", None)
        if closer is not None:
            await closer()

    async def __aenter__(self) -> BuildKitBuild:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


async def build(
    docker: Docker,
    *,
    progress: Callable[[BuildEvent], object] | None = None,
    **build_kwargs: Any,
) -> str:
    """Build an image with BuildKit and return its id; ``progress`` sees every event.

    Raises:
        DockerStreamError: the build failed (naming the failed step, with its
            last output lines).
    """
    async with BuildKitBuild(docker, **build_kwargs) as running:
        async for event in running:
            if progress is not None:
                progress(event)
        return await running.wait()


# --- python -m aiodocker build DIR ----------------------------------------------------


async def run_build_cli(
    docker: Docker,
    *,
    out: TextIO,
    err: TextIO | None = None,
    progress: str = "auto",
    **build_kwargs: Any,
) -> int:
    """Build showing progress on ``out`` (``progress``: auto, plain or tty); return the exit status.

    ``auto`` redraws a compact view when ``out`` is a terminal and prints
    buildx-style plain lines otherwise. The image id is printed at the end;
    errors go to ``err`` (default ``sys.stderr``) and give status 1.
    """
    error_out = err if err is not None else sys.stderr
    interactive = progress == "tty" or (progress == "auto" and _isatty(out))
    plain = PlainRenderer()
    display = TtyDisplay()
    last_draw = 0.0
    failed: BaseException | None = None
    try:
        async with BuildKitBuild(docker, **build_kwargs) as running:
            async for event in running:
                if interactive:
                    display.update(event)
                    now = time.monotonic()
                    if now - last_draw >= _REDRAW_INTERVAL:
                        last_draw = now
                        out.write(display.frame())
                        out.flush()
                    continue
                for line in plain.render(event):
                    out.write(line + "\n")
                out.flush()
            image_id = await running.wait()
    except (DockerError, ValueError, OSError) as exc:
        failed = exc
    if interactive:
        out.write(display.frame(final=failed is None))
    if failed is not None:
        out.flush()
        error_out.write(f"ERROR: {getattr(failed, 'message', None) or failed}\n")
        error_out.flush()
        return 1
    out.write(f"{image_id}\n")
    out.flush()
    return 0


def _isatty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
