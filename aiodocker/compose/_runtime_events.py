"""Wait for container states (healthy, exited) from the daemon's event stream.

Private runtime module of :mod:`aiodocker.compose`: it imports the package's public
modules (``docker``, ``exceptions``) and the stdlib.  One watch follows the events of
a project's containers for the duration of an operation; waiters check the current
state once (after the stream is open, so no transition can slip between) and then
wait for the events that change it.  Nothing polls.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from ..exceptions import DockerError
from . import _runtime_labels as labels

if TYPE_CHECKING:
    from ..docker import Docker
    from ..events import EventFollower


class ComposeDependencyError(DockerError):
    """A dependency condition cannot be met (unhealthy, exited, failed); status is 0."""

    def __init__(self, message: str) -> None:
        super().__init__(0, message)


class ComposeServiceError(DockerError):
    """A service could not be brought to the wanted state; ``service`` names it (status 0)."""

    def __init__(self, service: str, message: str) -> None:
        super().__init__(0, f"service {service!r}: {message}")
        self.service = service


class StateWatch:
    """Follow the events of one project's containers and wake the waiters they concern."""

    def __init__(self, docker: Docker, project: str) -> None:
        self._docker = docker
        self._project = project
        self._changed: defaultdict[str, asyncio.Event] = defaultdict(asyncio.Event)
        self._health: dict[str, str] = {}
        self._exits: dict[str, int] = {}
        self._follower: EventFollower | None = None
        self._task: asyncio.Task[None] | None = None
        self._failure: BaseException | None = None

    async def __aenter__(self) -> StateWatch:
        follower = self._docker.events.follow(
            filters={
                "type": ["container"],
                "label": [f"{labels.PROJECT}={self._project}"],
                "event": ["health_status", "die", "start", "destroy"],
            }
        )
        await follower.__aenter__()  # connected: every event from now on arrives
        self._follower = follower
        self._task = asyncio.create_task(self._pump(follower))
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._follower is not None:
            await self._follower.aclose()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _pump(self, follower: EventFollower) -> None:
        try:
            async for event in follower:
                self._record(event)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the waiters raise it
            self._failure = exc
            for flag in self._changed.values():
                flag.set()

    def _record(self, event: dict[str, Any]) -> None:
        actor = event.get("Actor") or {}
        cid = str(actor.get("ID") or event.get("id") or "")
        action = str(event.get("Action") or event.get("status") or "")
        if action.startswith("health_status"):
            self._health[cid] = action.partition(":")[2].strip()
        elif action == "die":
            code = (actor.get("Attributes") or {}).get("exitCode", "0")
            self._exits[cid] = int(code) if str(code).lstrip("-").isdigit() else -1
        elif action == "start":
            self._exits.pop(cid, None)
            self._health.pop(cid, None)
        self._changed[cid].set()

    async def _next_change(self, cid: str) -> None:
        if self._failure is not None:
            raise ComposeDependencyError(f"lost the event stream: {self._failure}")
        flag = self._changed[cid]
        await flag.wait()
        flag.clear()
        if self._failure is not None:
            raise ComposeDependencyError(f"lost the event stream: {self._failure}")

    async def wait_healthy(self, cid: str, name: str) -> None:
        """Return once container ``cid`` is healthy.

        Raises:
            ComposeDependencyError: it has no healthcheck, turned unhealthy or exited.
        """
        if self._health.get(cid) == "healthy":
            return
        self._changed[cid].clear()
        state = (await self._docker.containers.container(cid).show()).get("State") or {}
        health = (state.get("Health") or {}).get("Status")
        if health is None:
            raise ComposeDependencyError(f"container {name} has no healthcheck configured")
        status = self._health.get(cid, health)
        while True:
            if status == "healthy":
                self._health.setdefault(cid, "healthy")
                return
            if status == "unhealthy":
                raise ComposeDependencyError(f"dependency failed to start: container {name} is unhealthy")
            if cid in self._exits or (not state.get("Running") and cid not in self._health):
                code = self._exits.get(cid, state.get("ExitCode"))
                raise ComposeDependencyError(f"container {name} exited ({code})")
            await self._next_change(cid)
            status = self._health.get(cid, status)
            state = {"Running": cid not in self._exits}

    async def wait_exited(self, cid: str, name: str) -> int:
        """Return the exit code of container ``cid`` once it has exited."""
        self._changed[cid].clear()
        state = (await self._docker.containers.container(cid).show()).get("State") or {}
        if cid in self._exits:
            return self._exits[cid]
        if not state.get("Running") and not state.get("Restarting") and state.get("Status") != "created":
            return int(state.get("ExitCode") or 0)
        while cid not in self._exits:
            await self._next_change(cid)
        return self._exits[cid]
