"""ssh:// connections share ssh connections (OpenSSH ControlMaster) and close() stops them."""

from __future__ import annotations

import asyncio
import math
import os
import re
import signal
import subprocess
import time

import pytest
from helpers import use_ssh_config

import aiodocker
from aiodocker._core.request import Shape
from aiodocker._transport.dialers import SSH_PARALLEL_HANDSHAKES, SSH_SESSIONS_PER_MASTER


@pytest.fixture
def ssh_docker(testenv, monkeypatch):
    return aiodocker.Docker(url=use_ssh_config(testenv, monkeypatch))


def master_pid(testenv, control_path: str) -> int:
    """Ask the master itself (``ssh -O check``) for its pid."""
    completed = subprocess.run(
        ["ssh", "-F", testenv["ssh_config"], "-o", f"ControlPath={control_path}",
         "-O", "check", "--", testenv["ssh_host_alias"]],
        capture_output=True, text=True, timeout=30, check=True,
    )
    match = re.search(r"pid=(\d+)", completed.stderr + completed.stdout)
    assert match, completed
    return int(match.group(1))


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_concurrent_connections_share_few_ssh_connections(ssh_docker, testenv):
    concurrency = 3 * SSH_SESSIONS_PER_MASTER + 1
    dialer = ssh_docker._api.transport._dial  # type: ignore[attr-defined]
    now = int(time.time())
    # Each request holds its connection (an event stream that runs for two minutes), so
    # none can be reused: every one dials its own dial-stdio session.
    held = [
        asyncio.ensure_future(
            ssh_docker._api.call(
                "GET", "events", params={"since": now, "until": now + 120}, expect=Shape.NOTHING
            )
        )
        for _ in range(concurrency)
    ]
    try:
        for _ in range(1200):
            if len(dialer._processes) >= concurrency or any(task.done() for task in held):
                break
            await asyncio.sleep(0.1)
        assert not any(task.done() for task in held), [t.exception() for t in held if t.done()]
        sessions = len(dialer._processes)
        assert sessions == concurrency
        masters = list(dialer._masters)
        needed = math.ceil(sessions / SSH_SESSIONS_PER_MASTER)
        # Handshakes run SSH_PARALLEL_HANDSHAKES at a time, so the last ones may overshoot.
        assert needed <= len(masters) < needed + SSH_PARALLEL_HANDSHAKES
        assert sum(m.sessions for m in masters) == sessions
        assert all(m.sessions <= SSH_SESSIONS_PER_MASTER for m in masters)
        pids = [master_pid(testenv, m.path) for m in masters]
        assert len(set(pids)) == len(masters) and all(alive(pid) for pid in pids)
        directory = dialer._directory
        assert directory is not None and os.stat(directory).st_mode & 0o777 == 0o700
    finally:
        for task in held:
            task.cancel()
        await asyncio.gather(*held, return_exceptions=True)
        await ssh_docker.close()
    assert not os.path.exists(directory)
    for _ in range(50):  # ssh -O exit returns once the master has agreed to exit
        if not any(alive(pid) for pid in pids):
            break
        await asyncio.sleep(0.1)
    assert not any(alive(pid) for pid in pids)
    assert not dialer._processes


async def test_a_master_that_went_away_is_replaced(ssh_docker, testenv):
    dialer = ssh_docker._api.transport._dial  # type: ignore[attr-defined]
    try:
        await ssh_docker.version()
        [master] = dialer._masters
        pid = master_pid(testenv, master.path)
        os.kill(pid, signal.SIGTERM)  # the master goes away behind the client's back
        for _ in range(100):  # its socket, and the session of the pooled connection, end with it
            if not os.path.exists(master.path) and not dialer._processes:
                break
            await asyncio.sleep(0.1)
        assert not os.path.exists(master.path) and not dialer._processes
        assert (await ssh_docker._api.call("GET", "info", expect=Shape.OBJECT))["ID"]
        [replacement] = dialer._masters
        assert replacement.path != master.path
        assert master_pid(testenv, replacement.path) != pid
    finally:
        await ssh_docker.close()
