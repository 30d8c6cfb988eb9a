"""images.list's keywords on every engine: sent under the spec's names, or refused
before sending where the engine's API is older than the keyword; and the create body
that moves a container-wide MacAddress to its endpoint (for API 1.52)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from testenv import Engine

import aiodocker
from aiodocker._core.bodies import endpoint_mac_address
from aiodocker.exceptions import DockerAPIVersionError


def version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.lstrip("v").split("."))


async def test_images_list_all_includes_the_default_listing(
    docker: aiodocker.Docker, image: str
) -> None:
    plain = await docker.images.list()
    everything = await docker.images.list(all=True)
    assert {entry["Id"] for entry in plain} <= {entry["Id"] for entry in everything}
    assert any(image in (entry.get("RepoTags") or []) for entry in everything)


@pytest.mark.engine_difference(
    ["podman", "podman5"], "podman (4.3 and 5.4) answers GET /images/json?digests=1 with 200 and an empty body"
)
async def test_images_list_digests_reports_repo_digests(
    docker: aiodocker.Docker, image: str
) -> None:
    listed = await docker.images.list(filters={"reference": [image]}, digests=True)
    assert [("RepoDigests" in entry) for entry in listed] == [True]


@pytest.mark.parametrize(("keyword", "needed"), [("manifests", "1.47"), ("identity", "1.54")])
async def test_images_list_manifests_and_identity_gate_or_answer(
    docker: aiodocker.Docker, engine: Engine, image: str, keyword: str, needed: str
) -> None:
    if version(engine.api_version) < version(needed):
        with pytest.raises(DockerAPIVersionError, match=rf"{keyword} .* v{needed}"):
            await docker.images.list(**{keyword: True})
    else:  # no engine of the test environment is this new yet
        arguments = {"manifests": True, keyword: True}
        listed = await docker.images.list(filters={"reference": [image]}, **arguments)
        assert all("Manifests" in entry for entry in listed)


@pytest.mark.engine_difference(
    ["docker20", "podman", "podman5"], "an endpoint's own MacAddress on create arrived in API 1.44"
)
async def test_mac_address_moved_to_the_endpoint_is_the_containers_address(
    docker: aiodocker.Docker, image: str, make_name: Callable[..., str]
) -> None:
    """The body create sends from API 1.52 on does set the address (on a 1.44+ engine)."""
    mac = "02:42:ac:11:00:2a"
    config = endpoint_mac_address({"Image": image, "Cmd": ["sleep", "30"], "MacAddress": mac})
    container = await docker.containers.create(config, name=make_name("mac"))
    try:
        await container.start()
        networks = (await container.show())["NetworkSettings"]["Networks"]
        assert networks["bridge"]["MacAddress"] == mac
    finally:
        await container.delete(force=True)
