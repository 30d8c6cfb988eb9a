"""ssh:// connections share ssh connections (OpenSSH ControlMaster) and close() stops them.

By default every connection is a channel to a socket the master forwards to the
daemon's; where that cannot work, each is a ``docker system dial-stdio`` session
multiplexed over a few masters (the ``ssh_docker`` fixture asks for that mode).
"""

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
def forward_docker(testenv, monkeypatch):
    return aiodocker.Docker(url=use_ssh_config(testenv, monkeypatch))


@pytest.fixture
def ssh_docker(forward_docker):
    """A client whose connections are dial-stdio sessions."""
    forward_docker._api.transport._dial.forward = False  # type: ignore[attr-defined]
    return forward_docker


async def hold_connections(docker: aiodocker.Docker, count: int) -> list[asyncio.Future[object]]:
    """Start ``count`` requests that each hold a connection (a two-minute event stream)."""
    now = int(time.time())
    return [
        asyncio.ensure_future(
            docker._api.call(
                "GET", "events", params={"since": now, "until": now + 120}, expect=Shape.NOTHING
            )
        )
        for _ in range(count)
    ]


async def release(held: list[asyncio.Future[object]]) -> None:
    for task in held:
        task.cancel()
    await asyncio.gather(*held, return_exceptions=True)


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


async def test_connections_are_channels_of_one_forwarding_master_without_a_process_each(
    forward_docker, testenv
):
    dialer = forward_docker._api.transport._dial  # type: ignore[attr-defined]
    concurrency = 3 * SSH_SESSIONS_PER_MASTER + 1  # more than one master takes as sessions
    held = await hold_connections(forward_docker, concurrency)
    try:
        transport = forward_docker._api.transport  # type: ignore[attr-defined]
        for _ in range(600):
            if len(transport._active) >= concurrency or any(task.done() for task in held):
                break
            await asyncio.sleep(0.05)
        assert not any(task.done() for task in held), [t.exception() for t in held if t.done()]
        assert len(transport._active) == concurrency
        assert dialer.forward and not dialer._processes  # no ssh process per connection
        [master] = dialer._masters
        assert dialer._forward == (master, f"{master.path}.sock")
        pid = master_pid(testenv, master.path)
        directory = dialer._directory
        # a request that needs a new connection meanwhile: one more channel
        assert (await forward_docker._api.call("GET", "info", expect=Shape.OBJECT))["ID"]
    finally:
        await release(held)
        await forward_docker.close()
    assert directory is not None and not os.path.exists(directory)
    for _ in range(50):
        if not alive(pid):
            break
        await asyncio.sleep(0.1)
    assert not alive(pid)


async def test_a_forwarding_master_that_went_away_is_replaced(forward_docker, testenv):
    dialer = forward_docker._api.transport._dial  # type: ignore[attr-defined]
    try:
        await forward_docker.version()
        master, _ = dialer._forward
        pid = master_pid(testenv, master.path)
        os.kill(pid, signal.SIGTERM)
        for _ in range(100):
            if not os.path.exists(master.path):
                break
            await asyncio.sleep(0.1)
        assert not os.path.exists(master.path)
        assert (await forward_docker._api.call("GET", "info", expect=Shape.OBJECT))["ID"]
        replacement, _ = dialer._forward
        assert replacement.path != master.path and master_pid(testenv, replacement.path) != pid
        assert dialer._masters == [replacement] and not dialer._processes
    finally:
        await forward_docker.close()


async def test_a_forward_that_reaches_no_daemon_falls_back_to_dial_stdio(forward_docker):
    dialer = forward_docker._api.transport._dial  # type: ignore[attr-defined]
    # as when sshd refuses to forward: the channel to the remote socket never opens
    dialer._remote_socket = "/nonexistent/docker.sock"
    try:
        assert (await forward_docker.version())["ApiVersion"]
        assert dialer.forward is False and dialer._forward is None
        assert len(dialer._processes) == 1  # the pooled connection is a dial-stdio session
        assert (await forward_docker._api.call("GET", "info", expect=Shape.OBJECT))["ID"]
    finally:
        await forward_docker.close()
