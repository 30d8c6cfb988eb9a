"""What a stack deploy sends about registries, seen on the fake daemon (a real one never shows it).

``with_registry_auth=True`` sends the docker config's credentials with the service;
``resolve_image="always"`` pins the image to the digest and platforms the registry
reports, as the docker client does before it creates the service.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

import aiodocker
from aiodocker.compose.stack import deploy_stack
from tests.fakedaemon import VERSION_1_41, FakeDaemon, Request, http_response

pytestmark = pytest.mark.asyncio(loop_scope="session")

IMAGE = "registry.example:5000/team/app:1"
DIGEST = "sha256:" + "ab" * 32


def handler(request: Request) -> bytes:
    path = request.target.split("?")[0]
    if path.endswith("/version"):
        return http_response(200, VERSION_1_41)
    listings = ("/services", "/networks", "/secrets", "/configs")
    if request.method == "GET" and path.endswith(listings):
        return http_response(200, [])
    if path.endswith("/networks/create"):
        return http_response(201, {"Id": "fakenetworkid", "Warning": ""})
    if "/distribution/" in path:
        descriptor = {"Digest": DIGEST, "MediaType": "application/vnd.oci.image.index.v1+json"}
        platforms = [{"architecture": "amd64", "os": "linux"}, {"architecture": "arm", "os": "linux"}]
        return http_response(200, {"Descriptor": descriptor, "Platforms": platforms})
    if path.endswith("/services/create"):
        return http_response(201, {"ID": "fakeserviceid", "Warnings": None})
    return http_response(404, {"message": f"unexpected {request.method} {request.target}"})


@pytest_asyncio.fixture(loop_scope="session")
async def fake_daemon(tmp_path: Path) -> AsyncIterator[FakeDaemon]:
    fake = await FakeDaemon(str(tmp_path / "d.sock"), handler).start()
    try:
        yield fake
    finally:
        await fake.stop()


@pytest.fixture
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    config_dir = tmp_path / "docker-config"
    config_dir.mkdir()
    secret = base64.b64encode(b"alice:wonderland").decode()
    (config_dir / "config.json").write_text(json.dumps({"auths": {"registry.example:5000": {"auth": secret}}}))
    monkeypatch.setenv("DOCKER_CONFIG", str(config_dir))
    return config_dir


def auth_of(request: Request) -> dict[str, Any] | None:
    header = request.headers.get("x-registry-auth")
    if header is None:
        return None
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(header))
    return decoded


PROJECT: dict[str, Any] = {
    "name": "p",
    "services": {"app": {"image": IMAGE, "networks": {"default": None}}},
    "networks": {"default": {"name": "p_default"}},
}


async def test_deploy_pins_the_digest_and_sends_credentials_with_registry_auth(
    fake_daemon: FakeDaemon, docker_config: Path
) -> None:
    async with aiodocker.Docker(url=f"unix://{fake_daemon.path}") as docker:
        result = await deploy_stack(docker, PROJECT, "st", with_registry_auth=True)
    assert result.created == ["st_app"] and result.warnings == []
    create = next(r for r in fake_daemon.requests if r.target.split("?")[0].endswith("/services/create"))
    found = auth_of(create)
    assert found is not None and (found["username"], found["password"]) == ("alice", "wonderland")
    spec = json.loads(create.body)
    assert spec["TaskTemplate"]["ContainerSpec"]["Image"] == f"{IMAGE}@{DIGEST}"
    # arm loses its architecture, as the docker client drops it (nodes report armv7l)
    assert spec["TaskTemplate"]["Placement"]["Platforms"] == [
        {"Architecture": "amd64", "OS": "linux"},
        {"Architecture": "", "OS": "linux"},
    ]
    assert spec["Labels"]["com.docker.stack.image"] == IMAGE


async def test_deploy_without_registry_auth_sends_no_credentials_and_never_keeps_the_tag(
    fake_daemon: FakeDaemon, docker_config: Path
) -> None:
    async with aiodocker.Docker(url=f"unix://{fake_daemon.path}") as docker:
        await deploy_stack(docker, PROJECT, "st", resolve_image="never")
    assert not any("/distribution/" in r.target for r in fake_daemon.requests)
    create = next(r for r in fake_daemon.requests if r.target.split("?")[0].endswith("/services/create"))
    assert auth_of(create) is None
    assert json.loads(create.body)["TaskTemplate"]["ContainerSpec"]["Image"] == IMAGE
