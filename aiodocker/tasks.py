"""``docker.tasks``: the tasks of swarm services (``/tasks``), as aiodocker exposes them."""

from __future__ import annotations

import builtins
from collections.abc import Awaitable, Mapping
from typing import TYPE_CHECKING, Any, Literal, cast, overload

from ._core.request import Shape, build_path
from ._responses import ResponseStream
from ._swarm_objects import SwarmLogs

if TYPE_CHECKING:
    from .docker import Docker

__all__ = ("DockerTasks",)


class DockerTasks(SwarmLogs):
    """Tasks: the units a swarm schedules for its services (needs a swarm manager)."""

    if TYPE_CHECKING:
        docker: Docker  # 0.27 types the attribute so; annotations only, no import at run time

    async def list(
        self, *, filters: Mapping[str, Any] | None = None
    ) -> builtins.list[Mapping[str, Any]]:
        """List tasks (``GET /tasks``).

        Filters: desired-state (running, shutdown, accepted), id, label, name, node, service.
        """
        tasks = await self._list("tasks", filters=filters or {})
        return cast("builtins.list[Mapping[str, Any]]", tasks)  # 0.27's element type

    async def inspect(self, task_id: str) -> dict[str, Any]:
        """Return a task's details (``GET /tasks/{id}``).

        Raises:
            DockerNotFoundError: no such task.
        """
        return await self._api.call(
            "GET", build_path("tasks/{}", task_id), expect=Shape.OBJECT
        )

    @overload
    def logs(
        self,
        task_id: str,
        *,
        details: bool = ...,
        follow: Literal[False] = ...,
        stdout: bool = ...,
        stderr: bool = ...,
        since: int = ...,
        timestamps: bool = ...,
        is_tty: bool = ...,
        tail: str | int = ...,
    ) -> Awaitable[builtins.list[str]]: ...

    @overload
    def logs(
        self,
        task_id: str,
        *,
        details: bool = ...,
        follow: Literal[True],
        stdout: bool = ...,
        stderr: bool = ...,
        since: int = ...,
        timestamps: bool = ...,
        is_tty: bool = ...,
        tail: str | int = ...,
    ) -> ResponseStream[str]: ...

    @overload
    def logs(
        self,
        task_id: str,
        *,
        details: bool = ...,
        follow: bool,
        stdout: bool = ...,
        stderr: bool = ...,
        since: int = ...,
        timestamps: bool = ...,
        is_tty: bool = ...,
        tail: str | int = ...,
    ) -> Awaitable[builtins.list[str]] | ResponseStream[str]: ...

    def logs(
        self,
        task_id: str,
        *,
        details: bool = False,
        follow: bool = False,
        stdout: bool = False,
        stderr: bool = False,
        since: int = 0,
        timestamps: bool = False,
        is_tty: bool = False,
        tail: str | int = "all",
    ) -> Awaitable[builtins.list[str]] | ResponseStream[str]:
        """Read a task's output (``GET /tasks/{id}/logs``).

        ``follow=False`` returns an awaitable list of str (one per output frame);
        ``follow=True`` an async iterator of str that ends when the task stops.
        Pass ``is_tty=True`` when the service has a tty (its output is not multiplexed).

        Raises:
            TypeError: neither ``stdout`` nor ``stderr`` is True.
            DockerNotFoundError: no such task (raised when the result is awaited or read).
        """
        return self._log_text(
            build_path("tasks/{}/logs", task_id),
            follow=follow,
            is_tty=is_tty,
            stdout=stdout,
            stderr=stderr,
            params={"details": details, "since": since, "timestamps": timestamps, "tail": tail},
        )
