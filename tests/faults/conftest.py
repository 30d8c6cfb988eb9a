"""The fault harness: one fake daemon per case, and the checks every case ends with.

``run_case(handler, scenario)`` starts a fault server (tests/fakedaemon.py) on a
fresh unix socket, runs ``scenario(docker)`` against a client pinned to API 1.41
(or negotiating, with ``api_version="auto"``; through an aiohttp connector with
``through_aiohttp=True``), closes everything, and returns what
the scenario returned or raised. It then asserts that no fd and no asyncio task is
left over and that peak traced memory grew by less than ``MEMORY_BOUND``.
"""

from __future__ import annotations

import asyncio
import gc
import os
import tracemalloc
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

import aiohttp
import pytest

import aiodocker
from tests.fakedaemon import Answer, FakeDaemon, Request

MEMORY_BOUND: Final = 16 * 1024 * 1024


@dataclass
class Outcome:
    value: Any = None
    error: BaseException | None = None
    requests: list[Request] | None = None
    peak: int = 0


def open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


@pytest.fixture
def run_case(tmp_path):
    async def run(
        handler: Callable[[Request], Awaitable[Answer] | Answer],
        scenario: Callable[[aiodocker.Docker], Awaitable[Any]],
        *,
        api_version: str = "v1.41",
        through_aiohttp: bool = False,
        hooks: Any = None,
    ) -> Outcome:
        gc.collect()
        tasks_before = asyncio.all_tasks()
        path = str(tmp_path / "fault.sock")
        daemon = await FakeDaemon(path, handler).start()
        # Taken once the fake daemon listens: on uvloop a loop's first listen opens
        # libuv's reserve fd for EMFILE (on /dev/null), which lives until the loop closes.
        fds_before = open_fds()
        outcome = Outcome()
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        try:
            connector = aiohttp.UnixConnector(path) if through_aiohttp else None
            docker = aiodocker.Docker(
                url=f"unix://{path}", api_version=api_version, connector=connector, hooks=hooks
            )
            try:
                outcome.value = await scenario(docker)
            except (Exception, asyncio.TimeoutError) as exc:
                outcome.error = exc
            finally:
                await docker.close()
                if connector is not None:
                    await connector.close()
                    await asyncio.sleep(0)  # aiohttp's transports close on the next turn
            outcome.peak = tracemalloc.get_traced_memory()[1] - base
        finally:
            tracemalloc.stop()
            await daemon.stop()
        outcome.requests = daemon.requests
        for _ in range(100):  # let transports and the server's handlers finish closing
            # (a server-side socket closes one loop turn after its handler ends; a
            # leaked fd stays open however long this waits)
            tasks_left = asyncio.all_tasks() - tasks_before - {asyncio.current_task()}
            if not tasks_left and open_fds() <= fds_before:
                break
            await asyncio.sleep(0.01)
        gc.collect()
        leftover_tasks = asyncio.all_tasks() - tasks_before - {asyncio.current_task()}
        assert not leftover_tasks, leftover_tasks
        assert open_fds() <= fds_before, "fds left open"
        assert outcome.peak < MEMORY_BOUND, f"peak memory grew by {outcome.peak} bytes"
        return outcome

    return run
