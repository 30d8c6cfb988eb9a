"""``Exec``: one exec instance of a running container.

A resource module: builds paths with ``_core.request.build_path`` and calls the
daemon through ``self._api`` (from :class:`~aiodocker._core.resource.Resource`);
the hijacked output is a :class:`Stream`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine, Mapping
from typing import TYPE_CHECKING, Any, Final, Literal, overload

from ._core.request import Shape, build_path
from ._core.resource import Resource
from ._pyversion import TimeoutError
from .stream import Message, Stream
from .types import SENTINEL

if TYPE_CHECKING:
    from ._core.client import TimeoutArg
    from .docker import Docker

__all__ = ("Exec", "Message", "Stream")

# After the output of an exec ends, the daemon may take a moment to record the exit code.
EXIT_SETTLE_TIMEOUT: Final = 2.0
POLL_INTERVAL_MIN: Final = 0.01
POLL_INTERVAL_MAX: Final = 0.2


class Exec(Resource):
    """An exec instance (``POST /containers/{id}/exec`` creates one)."""

    if TYPE_CHECKING:
        docker: Docker  # 0.27 types the attribute so; annotations only, no import at run time

    def __init__(self, docker: Docker, id: str, tty: bool | None = None) -> None:
        super().__init__(docker)
        self._id = id
        self._tty = tty
        # Set when the output of a stream started from here reached its end.
        self._output_ended = False

    def __repr__(self) -> str:
        return f"<Exec id={self._id!r}>"

    @property
    def id(self) -> str:
        return self._id

    async def _fetch(self) -> dict[str, Any]:
        data: dict[str, Any] = await self._api.call(
            "GET", build_path("exec/{}/json", self._id), expect=Shape.OBJECT
        )
        process = data.get("ProcessConfig") or {}
        if "tty" in process:
            self._tty = bool(process["tty"])
        return data

    async def inspect(self) -> dict[str, Any]:
        """Return the exec's state (``GET /exec/{id}/json``).

        Once the output of a stream started here has ended, the process has exited:
        this waits (up to 2 s) for the daemon to record that, so ``Running`` is
        False and ``ExitCode`` is set.

        Raises:
            DockerNotFoundError: no exec with this id.
        """
        data = await self._fetch()
        if self._output_ended and data.get("Running"):
            deadline = time.monotonic() + EXIT_SETTLE_TIMEOUT
            interval = POLL_INTERVAL_MIN
            while data.get("Running") and time.monotonic() < deadline:
                await asyncio.sleep(interval)
                interval = min(interval * 2, POLL_INTERVAL_MAX)
                data = await self._fetch()
        return data

    async def wait(self, *, timeout: float | None = None) -> int:
        """Wait until the process has exited and return its exit code.

        Args:
            timeout: seconds to wait at most; None waits as long as the process runs.

        Raises:
            TimeoutError: the process still runs after ``timeout`` seconds.
            DockerNotFoundError: no exec with this id.
            ValueError: ``timeout`` is not positive.
        """
        if timeout is not None and timeout <= 0:
            raise ValueError(f"timeout must be positive, got {timeout!r}")
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        interval = POLL_INTERVAL_MIN
        while True:
            data = await self._fetch()
            if not data.get("Running") and data.get("ExitCode") is not None:
                return int(data["ExitCode"])
            if deadline is not None and loop.time() + interval > deadline:
                raise TimeoutError(
                    f"exec {self._id} still running after {timeout} s"
                )
            await asyncio.sleep(interval)
            interval = min(interval * 2, POLL_INTERVAL_MAX)

    async def resize(self, *, h: int | None = None, w: int | None = None) -> None:
        """Resize the exec's tty (``POST /exec/{id}/resize``); a no-op when both are None.

        Raises:
            ValueError: only one of ``h`` and ``w`` is given, one is not positive, or
                the exec is known to have no tty (the daemon would ignore the size).
            TypeError: ``h`` or ``w`` is not an int.
            DockerError: the daemon refused (for example, the exec was not started).
        """
        if h is None and w is None:
            return
        if self._tty is False:
            raise ValueError(f"exec {self._id} has no tty: there is nothing to resize")
        if h is None or w is None:
            raise ValueError("resize needs both h and w (or neither, which does nothing)")
        for name, value in (("h", h), ("w", w)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{name} must be an int, not {type(value).__name__}")
            if value <= 0:
                raise ValueError(f"{name} must be positive, got {value}")
        await self._api.call(
            "POST",
            build_path("exec/{}/resize", self._id),
            params={"h": h, "w": w},
            expect=Shape.NOTHING,
        )

    @overload
    def start(self, *, timeout: TimeoutArg = ..., detach: Literal[False] = False) -> Stream: ...

    @overload
    def start(
        self, *, timeout: TimeoutArg = ..., detach: Literal[True]
    ) -> Coroutine[Any, Any, bytes]: ...

    @overload
    def start(
        self, *, timeout: TimeoutArg = ..., detach: bool = ...
    ) -> Stream | Coroutine[Any, Any, bytes]: ...

    def start(
        self, *, timeout: TimeoutArg = SENTINEL, detach: bool = False
    ) -> Stream | Coroutine[Any, Any, bytes]:
        """Start the exec (``POST /exec/{id}/start``).

        ``detach=False`` returns a :class:`Stream` at once (use ``async with``); it
        connects on entry. ``detach=True`` returns an awaitable giving the response
        body as bytes (empty: a detached exec's output is not captured).

        ``timeout`` bounds the request until the daemon answers; it never limits
        reading the output.
        """
        if not isinstance(detach, bool):
            raise TypeError(f"detach must be a bool, not {type(detach).__name__}")
        if detach:
            return self._start_detached(timeout)
        stream = Stream(self.docker, self._stream_setup, timeout)
        stream.add_eof_callback(self._on_output_end)
        return stream

    def _on_output_end(self) -> None:
        self._output_ended = True

    async def _stream_setup(self) -> tuple[str, Mapping[str, Any], Mapping[str, Any], bool]:
        if self._tty is None:
            await self._fetch()
        tty = bool(self._tty)
        # The daemon frames the output by the Tty of this body, not of the exec's
        # creation: the same value must choose our decoder.
        return build_path("exec/{}/start", self._id), {}, {"Detach": False, "Tty": tty}, tty

    async def _start_detached(self, timeout: TimeoutArg) -> bytes:
        body = {"Detach": True, "Tty": bool(self._tty)}
        _, data = await self._api.raw(
            "POST",
            build_path("exec/{}/start", self._id),
            json_body=body,
            timeout=timeout,
            long_running=True,
        )
        return data
