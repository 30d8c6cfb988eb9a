"""The Docker client against a fake daemon: negotiation, pinning, lifecycle."""

from __future__ import annotations

import asyncio
import os

import aiohttp
import pytest

import aiodocker
from aiodocker._core.client import MAX_API_VERSION
from aiodocker._core.request import Shape
from aiodocker.exceptions import DockerAPIVersionError
from tests.fakedaemon import VERSION_1_41, FakeDaemon, Request, http_response


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for name in ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_API_VERSION", "DOCKER_TLS_VERIFY"):
        monkeypatch.delenv(name, raising=False)


def versioned_handler(version: dict):
    async def handler(request: Request) -> bytes:
        if request.target.endswith("/version"):
            await asyncio.sleep(0.01)  # give concurrent first calls time to pile up
            return http_response(200, version)
        return http_response(200, {"target": request.target})

    return handler


@pytest.fixture
async def daemon(tmp_path):
    fake = await FakeDaemon(str(tmp_path / "d.sock"), versioned_handler(VERSION_1_41)).start()
    yield fake
    await fake.stop()


async def test_sixty_four_concurrent_first_calls_negotiate_once(daemon):
    async with aiodocker.Docker(url=f"unix://{daemon.path}") as docker:
        results = await asyncio.gather(*(docker._api.call("GET", "info", expect=Shape.OBJECT) for _ in range(64)))
    assert all(r == {"target": "/v1.41/info"} for r in results)
    assert sum(1 for r in daemon.requests if r.target == "/version") == 1
    assert len(daemon.requests) == 65


async def test_negotiation_never_exceeds_the_client_maximum(tmp_path):
    newer = {**VERSION_1_41, "ApiVersion": "1.99"}
    fake = await FakeDaemon(str(tmp_path / "d.sock"), versioned_handler(newer)).start()
    try:
        async with aiodocker.Docker(url=f"unix://{fake.path}") as docker:
            await docker._api.call("GET", "info", expect=Shape.OBJECT)
            assert docker.api_version == f"v{MAX_API_VERSION[0]}.{MAX_API_VERSION[1]}"
        assert fake.requests[-1].target == f"/v{MAX_API_VERSION[0]}.{MAX_API_VERSION[1]}/info"
    finally:
        await fake.stop()


async def test_daemon_minimum_above_client_maximum_names_both_versions(tmp_path):
    future = {**VERSION_1_41, "ApiVersion": "2.10", "MinAPIVersion": "2.0"}
    fake = await FakeDaemon(str(tmp_path / "d.sock"), versioned_handler(future)).start()
    try:
        async with aiodocker.Docker(url=f"unix://{fake.path}") as docker:
            with pytest.raises(DockerAPIVersionError) as info:
                await docker._api.call("GET", "info", expect=Shape.OBJECT)
        assert "v2.0" in info.value.message and "v1.55" in info.value.message
    finally:
        await fake.stop()


async def test_pinned_version_prefixes_every_url_without_asking(daemon):
    async with aiodocker.Docker(url=f"unix://{daemon.path}", api_version="v1.30") as docker:
        await docker._api.call("GET", "info", expect=Shape.OBJECT)
        await docker.version()
    assert [r.target for r in daemon.requests] == ["/v1.30/info", "/v1.30/version"]


async def test_docker_api_version_env_pins_like_the_cli(daemon, monkeypatch):
    monkeypatch.setenv("DOCKER_API_VERSION", "1.38")
    async with aiodocker.Docker(url=f"unix://{daemon.path}") as docker:
        await docker._api.call("GET", "info", expect=Shape.OBJECT)
    assert [r.target for r in daemon.requests] == ["/v1.38/info"]


@pytest.mark.parametrize("bad", ["1.41", "latest", "v1", "v1.41.0"])
def test_malformed_api_version_argument_raises_value_error(bad):
    with pytest.raises(ValueError, match="Invalid API version"):
        aiodocker.Docker(url="unix:///nonexistent.sock", api_version=bad)


async def test_close_is_idempotent_and_leaves_a_caller_session_open(daemon):
    connector = aiohttp.UnixConnector(daemon.path)
    session = aiohttp.ClientSession(connector=connector)
    try:
        docker = aiodocker.Docker(url=f"unix://{daemon.path}", session=session)
        assert (await docker._api.call("GET", "info", expect=Shape.OBJECT)) == {"target": "/v1.41/info"}
        await docker.close()
        await docker.close()
        assert not session.closed and not connector.closed
        async with session.get("http://localhost/_ping") as response:
            assert response.status == 200
    finally:
        await session.close()


async def test_close_leaves_a_caller_connector_open(daemon):
    connector = aiohttp.UnixConnector(daemon.path)
    try:
        docker = aiodocker.Docker(url=f"unix://{daemon.path}", connector=connector)
        assert (await docker.version())["ApiVersion"] == "1.41"
        await docker.close()
        assert not connector.closed
    finally:
        await connector.close()


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def test_a_thousand_create_close_cycles_leave_the_fd_count_unchanged(daemon):
    async def cycle():
        docker = aiodocker.Docker(url=f"unix://{daemon.path}", api_version="v1.41")
        await docker._api.call("GET", "info", expect=Shape.OBJECT)
        await docker.close()

    await cycle()
    before = _open_fds()
    for _ in range(1000):
        await cycle()
    await asyncio.sleep(0.05)
    assert _open_fds() <= before + 2


async def test_unclosed_client_warns_resource_warning(daemon):
    docker = aiodocker.Docker(url=f"unix://{daemon.path}")
    with pytest.warns(ResourceWarning, match="Unclosed"):
        docker.__del__()
    await docker.close()


async def test_query_compat_surface_encodes_like_aiodocker(daemon):
    async with aiodocker.Docker(url=f"unix://{daemon.path}", api_version="v1.41") as docker:
        result = await docker._query_json("containers/json", params={"all": True, "filters": {"a": 1}})
        async with docker._query("info") as response:
            assert response.status == 200
    assert result == {"target": "/v1.41/containers/json?all=1&filters=%7B%22a%22%3A%201%7D"}
    assert daemon.requests[0].headers["content-type"] == "application/json"


async def test_endpoint_of_a_newer_api_is_sent_when_the_daemon_speaks_it(tmp_path):
    newest = {**VERSION_1_41, "ApiVersion": "1.55"}

    async def handler(request: Request) -> bytes:
        if request.target == "/version":
            return http_response(200, newest)
        return http_response(200, [{"predicateType": "https://slsa.dev/provenance/v1"}])

    fake = await FakeDaemon(str(tmp_path / "d.sock"), handler).start()
    try:
        async with aiodocker.Docker(url=f"unix://{fake.path}") as docker:
            statements = await docker.images.attestations("busybox:latest")
        assert statements[0]["predicateType"].endswith("provenance/v1")
        assert fake.requests[-1].target == "/v1.55/images/busybox%3Alatest/attestations"
    finally:
        await fake.stop()
