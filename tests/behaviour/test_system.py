"""Info, version and ping agree between the fake and the real daemons."""

from __future__ import annotations

import re

import pytest

from .conftest import Backend


async def test_version_names_the_api(backend: Backend) -> None:
    version = await backend.docker.version()
    assert version["ApiVersion"] == ("1.45" if backend.modern else "1.41")
    assert version["Os"] == "linux"
    assert version["Version"].startswith("26." if backend.modern else "20.10")
    assert [c["Name"] for c in version["Components"]][0] == "Engine"


async def test_ping_is_ok(backend: Backend) -> None:
    assert await backend.docker.system.ping() == "OK"


async def test_ping_headers_name_the_api_version(backend: Backend) -> None:
    headers = {k.lower(): v for k, v in (await backend.docker.system.ping_headers()).items()}
    assert headers["api-version"] == ("1.45" if backend.modern else "1.41")
    assert headers["ostype"] == "linux"


@pytest.mark.parametrize(
    "key",
    [
        "Containers",
        "ContainersRunning",
        "ContainersPaused",
        "ContainersStopped",
        "Images",
        "NCPU",
        "MemTotal",
    ],
)
async def test_info_counts_are_ints(backend: Backend, key: str) -> None:
    info = await backend.docker.system.info()
    assert isinstance(info[key], int) and info[key] >= 0


async def test_info_counts_a_new_running_container(backend: Backend) -> None:
    before = (await backend.docker.system.info())["ContainersRunning"]
    await backend.run(["sleep", "600"])
    after = (await backend.docker.system.info())["ContainersRunning"]
    assert after >= before + 1 if not backend.is_fake else after == before + 1


async def test_info_describes_the_daemon(backend: Backend) -> None:
    info = await backend.docker.system.info()
    assert info["OSType"] == "linux"
    assert info["ServerVersion"] == (await backend.docker.version())["Version"]
    assert re.fullmatch(r"[\w.-]+", info["Driver"])
    assert info["Swarm"]["LocalNodeState"] in ("inactive", "active")
