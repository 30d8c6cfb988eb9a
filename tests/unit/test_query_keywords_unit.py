"""Query parameters as keywords (issue 10): the names that reach the daemon, and the
version gates that refuse before anything is sent; the create body translated for
API 1.52 (``MacAddress``)."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

import aiodocker
from aiodocker.exceptions import DockerAPIVersionError
from tests.fakedaemon import VERSION_1_41, FakeDaemon, Request, http_response

MAC = "02:42:ac:11:00:04"


def handler_for(api_version: str) -> Callable[[Request], bytes]:
    def handler(request: Request) -> bytes:
        path = urlsplit(request.target).path
        if path.endswith("/version"):
            return http_response(200, {**VERSION_1_41, "ApiVersion": api_version})
        if path.endswith("/images/json") or path.endswith("/services"):
            return http_response(200, [])
        return http_response(200, {"ID": "x", "Id": "x"})

    return handler


@pytest.fixture
async def daemon_of(tmp_path: Path) -> AsyncIterator[Any]:
    opened: list[tuple[FakeDaemon, aiodocker.Docker]] = []

    async def open_one(api_version: str) -> tuple[FakeDaemon, aiodocker.Docker]:
        fake = await FakeDaemon(
            str(tmp_path / f"{api_version}.sock"), handler_for(api_version)
        ).start()
        docker = aiodocker.Docker(url=f"unix://{fake.path}")  # negotiates api_version
        opened.append((fake, docker))
        return fake, docker

    yield open_one
    for fake, docker in opened:
        await docker.close()
        await fake.stop()


def last_query(fake: FakeDaemon) -> dict[str, list[str]]:
    return parse_qs(urlsplit(fake.requests[-1].target).query, keep_blank_values=True)


def sent(fake: FakeDaemon) -> list[str]:
    return [r.target for r in fake.requests if not r.target.endswith("/version")]


async def test_images_list_sends_each_keyword_under_the_spec_name(daemon_of) -> None:
    fake, docker = await daemon_of("1.55")
    await docker.images.list(
        all=True, digests=False, shared_size=True, manifests=True, identity=True
    )
    assert last_query(fake) == {
        "all": ["1"],
        "digests": ["0"],
        "shared-size": ["1"],
        "manifests": ["1"],
        "identity": ["1"],
    }
    await docker.images.list()
    assert last_query(fake) == {}  # nothing unless asked


async def test_images_list_still_sends_other_params_as_027(daemon_of) -> None:
    fake, docker = await daemon_of("1.41")
    await docker.images.list(filter="x", all=True)
    assert last_query(fake) == {"filter": ["x"], "all": ["1"]}


@pytest.mark.parametrize(
    ("api_version", "keyword", "needed"),
    [
        ("1.46", "manifests", "1.47"),
        ("1.53", "identity", "1.54"),
    ],
)
async def test_images_list_gates_newer_keywords_before_sending(
    daemon_of, api_version: str, keyword: str, needed: str
) -> None:
    fake, docker = await daemon_of(api_version)
    with pytest.raises(DockerAPIVersionError, match=rf"\b{keyword}\b.*v{needed}"):
        await docker.images.list(**{keyword: True})
    assert sent(fake) == []


async def test_images_list_sends_shared_size_to_an_older_daemon_as_027(daemon_of) -> None:
    """0.27 documents shared_size among the params it sends to any daemon: no new refusal."""
    fake, docker = await daemon_of("1.41")
    assert await docker.images.list(shared_size=True) == []
    assert last_query(fake) == {"shared-size": ["1"]}


async def test_services_keywords_reach_the_daemon_under_the_spec_names(daemon_of) -> None:
    fake, docker = await daemon_of("1.41")
    await docker.services.list(status=True)
    assert last_query(fake) == {"filters": ["{}"], "status": ["1"]}
    await docker.services.inspect("svc", insert_defaults=True)
    assert urlsplit(fake.requests[-1].target).path.endswith("/services/svc")
    assert last_query(fake) == {"insertDefaults": ["1"]}
    await docker.services.inspect("svc")
    assert last_query(fake) == {}


async def test_services_update_sends_registry_auth_from(daemon_of) -> None:
    fake, docker = await daemon_of("1.41")
    spec = {"TaskTemplate": {"ContainerSpec": {"Image": "busybox"}}}
    await docker.services.update(
        "svc", 3, spec=spec, registry_auth_from="previous-spec", with_registry_auth=False
    )
    assert last_query(fake) == {"version": ["3"], "registryAuthFrom": ["previous-spec"]}


# --- create: the container-wide MacAddress that API 1.52 dropped ----------------------


def create_body(fake: FakeDaemon) -> Any:
    (request,) = [r for r in fake.requests if "/containers/create" in r.target]
    return json.loads(request.body)


@pytest.mark.parametrize(
    ("config", "endpoints"),
    [
        ({}, {"bridge": {"MacAddress": MAC}}),
        ({"HostConfig": {"NetworkMode": "default"}}, {"bridge": {"MacAddress": MAC}}),
        (
            {
                "HostConfig": {"NetworkMode": "mynet"},
                "NetworkingConfig": {"EndpointsConfig": {"mynet": {"Aliases": ["a"]}}},
            },
            {"mynet": {"Aliases": ["a"], "MacAddress": MAC}},
        ),
        (
            {"NetworkingConfig": {"EndpointsConfig": {"bridge": {"MacAddress": MAC}}}},
            {"bridge": {"MacAddress": MAC}},
        ),
    ],
)
async def test_create_moves_mac_address_to_the_endpoint_from_1_52(
    daemon_of, config: dict[str, Any], endpoints: dict[str, Any]
) -> None:
    fake, docker = await daemon_of("1.52")
    original = copy.deepcopy({"Image": "busybox", "MacAddress": MAC, **config})
    caller = copy.deepcopy(original)
    await docker.containers.create(caller)
    body = create_body(fake)
    assert "MacAddress" not in body
    assert body["NetworkingConfig"]["EndpointsConfig"] == endpoints
    assert caller == original  # the caller's config is not modified


async def test_create_sends_mac_address_as_given_before_1_52(daemon_of) -> None:
    fake, docker = await daemon_of("1.51")
    config = {"Image": "busybox", "MacAddress": MAC}
    await docker.containers.create(config)
    assert create_body(fake) == config


@pytest.mark.parametrize(
    "config",
    [
        {"HostConfig": {"NetworkMode": "host"}},
        {"HostConfig": {"NetworkMode": "none"}},
        {"HostConfig": {"NetworkMode": "container:abc"}},
        {"NetworkingConfig": {"EndpointsConfig": {"bridge": {"MacAddress": "02:42:ac:11:00:99"}}}},
    ],
)
async def test_create_refuses_a_mac_address_it_cannot_place_from_1_52(
    daemon_of, config: dict[str, Any]
) -> None:
    fake, docker = await daemon_of("1.52")
    with pytest.raises(ValueError, match="MacAddress"):
        await docker.containers.create({"Image": "busybox", "MacAddress": MAC, **config})
    assert sent(fake) == []
