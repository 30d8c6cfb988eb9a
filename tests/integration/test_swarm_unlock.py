"""Unlocking a locked manager: autolock on, the manager's daemon restarts, unlock.

It runs after the other swarm modules (file order), since the manager is briefly
down while its daemon restarts.
"""

from __future__ import annotations

import asyncio
import copy
import re
import subprocess
from pathlib import Path

import pytest

from aiodocker import Docker
from aiodocker.exceptions import DockerError

pytest_plugins = ["swarm_fixtures"]
pytestmark = [pytest.mark.swarm, pytest.mark.asyncio(loop_scope="session")]

TESTENV = Path(__file__).resolve().parents[2] / "scripts" / "testenv.sh"


async def node_state(docker: Docker) -> str:
    info = await docker.system.info()
    return str(info["Swarm"]["LocalNodeState"])


async def test_a_locked_manager_is_unlocked_with_its_key(swarm) -> None:  # type: ignore[no-untyped-def]
    manager = swarm.manager
    info = await manager.swarm.inspect()
    spec = copy.deepcopy(info["Spec"])
    spec["EncryptionConfig"] = {"AutoLockManagers": True}
    await manager.swarm.update(spec=spec, version=info["Version"]["Index"])
    key = await manager.swarm.get_unlock_key()
    socket = manager.endpoint.address
    daemon = re.search(r"swarm(\d+)", socket)
    assert daemon is not None, socket
    index = daemon.group(1)
    try:
        restarted = await asyncio.to_thread(
            subprocess.run,
            ["bash", str(TESTENV), "--restart-swarm-daemon", index],
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert restarted.returncode == 0, restarted.stderr[-2000:]
        assert await node_state(manager) == "locked"
        with pytest.raises(DockerError) as caught:
            await manager.services.list()  # a locked manager refuses cluster calls
        assert caught.value.status == 503
        await manager.swarm.unlock(key)
        for _ in range(100):
            if await node_state(manager) == "active":
                break
            await asyncio.sleep(0.2)
        assert await node_state(manager) == "active"
        assert isinstance(await manager.services.list(), list)
    finally:
        if await node_state(manager) == "locked":
            await manager.swarm.unlock(key)
        info = await manager.swarm.inspect()
        spec = copy.deepcopy(info["Spec"])
        spec["EncryptionConfig"] = {"AutoLockManagers": False}
        await manager.swarm.update(spec=spec, version=info["Version"]["Index"])
    assert await manager.swarm.get_unlock_key() == ""
