"""API version negotiation against the real daemons, proven by the daemons' own logs.

Docker 26 and the 20.10 swarm daemons of the test environment log with debug,
which writes ``Calling GET /v1.45/containers/<name>/json`` for every request
served (the main 20.10 daemon does not: benchmarks hammer it).  Each test asks for
a container with a fresh name and looks for that request in the log of the daemon
it talked to: the version in the logged path is the one spoken.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from pathlib import Path

import pytest
from testenv import require

import aiodocker
from aiodocker.exceptions import DockerNotFoundError

LOG_WAIT: float = 10.0


async def logged_versions(log: Path, offset: int, marker: str) -> list[str]:
    """API versions of the logged requests for ``marker``, written after ``offset``."""
    pattern = re.compile(rf"Calling GET /(v[0-9.]+)/containers/{re.escape(marker)}/json")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + LOG_WAIT
    while True:
        with log.open("rb") as f:
            f.seek(offset)
            found = pattern.findall(f.read().decode("utf-8", "replace"))
        if found or loop.time() > deadline:
            return found
        await asyncio.sleep(0.1)


async def spoken_versions(host: str, log_path: str) -> tuple[str, list[str]]:
    """Make one request with a fresh marker; return the client's version and the logged ones."""
    log = Path(log_path)
    offset = log.stat().st_size
    marker = f"aiodocker-test-negotiation-{uuid.uuid4().hex}"
    async with aiodocker.Docker(url=host) as client:
        with pytest.raises(DockerNotFoundError):
            await client.containers.get(marker)
        api_version = client.api_version
    return api_version, await logged_versions(log, offset, marker)


async def test_auto_speaks_1_45_to_docker_26(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = require("docker26")
    monkeypatch.delenv("DOCKER_API_VERSION", raising=False)
    assert await spoken_versions(engine["host"], engine["log"]) == ("v1.45", ["v1.45"])


async def test_auto_speaks_1_41_to_docker_20_10(monkeypatch: pytest.MonkeyPatch) -> None:
    # a dockerd 20.10 like the main daemon, which logs the requests it serves
    daemon = next(d for d in require("swarm_daemons") if d["engine"] == "docker20")
    monkeypatch.delenv("DOCKER_API_VERSION", raising=False)
    assert await spoken_versions(f"unix://{daemon['socket']}", daemon["log"]) == (
        "v1.41",
        ["v1.41"],
    )


async def test_docker_api_version_1_43_is_spoken_to_docker_26(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = require("docker26")
    monkeypatch.setenv("DOCKER_API_VERSION", "1.43")
    assert await spoken_versions(engine["host"], engine["log"]) == ("v1.43", ["v1.43"])
