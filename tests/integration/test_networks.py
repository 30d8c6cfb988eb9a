"""Networks against the real daemon: every endpoint, its success and its errors."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

import aiodocker
from aiodocker._core.request import Shape, build_path
from aiodocker.exceptions import DockerConflictError, DockerError, DockerNotFoundError
from aiodocker.networks import DockerNetwork

MakeNetwork = Callable[..., Awaitable[DockerNetwork]]


@pytest.fixture
async def make_network(
    docker: aiodocker.Docker, make_name: Callable[..., str]
) -> AsyncIterator[MakeNetwork]:
    """Create networks (named by make_name); remove them after the test."""
    created: list[str] = []

    async def make(hint: str = "", **config: Any) -> DockerNetwork:
        name = make_name(hint)
        created.append(name)
        return await docker.networks.create({"Name": name, **config})

    yield make
    for name in created:
        try:
            await docker._api.call("DELETE", build_path("networks/{}", name), expect=Shape.NOTHING)
        except DockerNotFoundError:
            pass


@pytest.fixture
async def container_id(
    docker: aiodocker.Docker, image: str, make_name: Callable[..., str]
) -> AsyncIterator[str]:
    """A running container; removed after the test."""
    created = await docker._api.call(
        "POST",
        "containers/create",
        params={"name": make_name("net")},
        json_body={"Image": image, "Cmd": ["sleep", "300"]}, expect=Shape.OBJECT,
    )
    await docker._api.call("POST", build_path("containers/{}/start", created["Id"]), expect=Shape.NOTHING)
    yield created["Id"]
    await docker._api.call(
        "DELETE", build_path("containers/{}", created["Id"]), params={"force": True}, expect=Shape.NOTHING
    )


async def test_create_returns_a_network_whose_show_has_the_config(
    docker: aiodocker.Docker, make_network: MakeNetwork
) -> None:
    network = await make_network("create", Labels={"purpose": "test"}, Internal=True)
    assert isinstance(network, DockerNetwork)
    info = await network.show()
    assert info["Id"] == network.id
    assert info["Labels"] == {"purpose": "test"}
    assert info["Internal"] is True
    assert info["Driver"] == "bridge"


@pytest.mark.engine_difference(
    "podman", "podman answers 500, not 400/409, for bad arguments, taken names and wrong states"
)
async def test_create_rejects_bad_configs_locally_and_on_the_daemon(
    docker: aiodocker.Docker, make_network: MakeNetwork, make_name: Callable[..., str]
) -> None:
    with pytest.raises(TypeError):
        await docker.networks.create([("Name", "x")])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Name"):
        await docker.networks.create({"Driver": "bridge"})
    network = await make_network("dup")
    name = (await network.show())["Name"]
    with pytest.raises(DockerConflictError):
        await docker.networks.create({"Name": name, "CheckDuplicate": True})


@pytest.mark.engine_difference(
    ("podman", "podman5"), "podman answers 500, not 400/409, for bad arguments, taken names and wrong states"
)
async def test_list_filters_by_label_and_rejects_bad_filters(
    docker: aiodocker.Docker, make_network: MakeNetwork, make_name: Callable[..., str]
) -> None:
    label = make_name("label")
    tagged = await make_network("listed", Labels={label: "1"})
    await make_network("unlisted")
    listed = await docker.networks.list(filters={"label": label})
    assert [n["Id"] for n in listed] == [tagged.id]
    everything = await docker.networks.list()
    assert tagged.id in [n["Id"] for n in everything]
    with pytest.raises(DockerError) as info:
        await docker.networks.list(filters={"no-such-filter": "x"})
    assert info.value.status == 400
    with pytest.raises(TypeError):
        await docker.networks.list(filters="label=x")  # type: ignore[arg-type]


async def test_get_finds_a_network_by_name_and_raises_not_found_for_a_missing_one(
    docker: aiodocker.Docker, make_network: MakeNetwork, make_name: Callable[..., str]
) -> None:
    network = await make_network("get")
    name = (await network.show())["Name"]
    found = await docker.networks.get(name)
    assert found.id == network.id
    with pytest.raises(DockerNotFoundError):
        await docker.networks.get(make_name("missing"))
    with pytest.raises(ValueError):
        await docker.networks.get("")


@pytest.mark.engine_difference(("podman", "podman5"), "podman ignores scope when showing a network")
async def test_show_accepts_verbose_and_scope_and_fails_for_a_missing_network(
    docker: aiodocker.Docker, make_network: MakeNetwork, make_name: Callable[..., str]
) -> None:
    network = await make_network("show")
    info = await network.show(verbose=True, scope="local")
    assert info["Scope"] == "local"
    with pytest.raises(DockerNotFoundError):
        await network.show(scope="swarm")
    with pytest.raises(DockerNotFoundError):
        await DockerNetwork(docker, make_name("missing")).show()


@pytest.mark.engine_difference(
    ("podman", "podman5"), "podman answers 404, not 403, for deleting a predefined network"
)
async def test_delete_removes_the_network_and_fails_when_it_is_gone_or_predefined(
    docker: aiodocker.Docker, make_network: MakeNetwork
) -> None:
    network = await make_network("delete")
    assert await network.delete() is True
    with pytest.raises(DockerNotFoundError):
        await network.show()
    with pytest.raises(DockerNotFoundError):
        await network.delete()
    with pytest.raises(DockerError) as info:
        await DockerNetwork(docker, "none").delete()
    assert info.value.status == 403


async def test_connect_and_disconnect_attach_and_detach_a_container(
    docker: aiodocker.Docker, make_network: MakeNetwork, container_id: str
) -> None:
    network = await make_network("connect")
    await network.connect({"Container": container_id, "EndpointConfig": {"Aliases": ["web"]}})
    inspect = await docker._api.call("GET", build_path("containers/{}/json", container_id), expect=Shape.OBJECT)
    name = (await network.show())["Name"]
    assert "web" in inspect["NetworkSettings"]["Networks"][name]["Aliases"]
    await network.disconnect({"Container": container_id})
    inspect = await docker._api.call("GET", build_path("containers/{}/json", container_id), expect=Shape.OBJECT)
    assert name not in inspect["NetworkSettings"]["Networks"]


async def test_connect_and_disconnect_errors(
    docker: aiodocker.Docker,
    make_network: MakeNetwork,
    container_id: str,
    make_name: Callable[..., str],
) -> None:
    network = await make_network("connect-errors")
    with pytest.raises(TypeError):
        await network.connect(container_id)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Container"):
        await network.disconnect({"Force": True})
    with pytest.raises(DockerNotFoundError):
        await network.connect({"Container": make_name("missing")})
    with pytest.raises(DockerNotFoundError):
        await DockerNetwork(docker, make_name("missing")).connect({"Container": container_id})
    with pytest.raises(DockerError):  # not connected to this network
        await network.disconnect({"Container": container_id})
    await network.connect({"Container": container_id})
    with pytest.raises(DockerError):  # already connected
        await network.connect({"Container": container_id})


async def test_prune_removes_only_unused_networks_with_the_label(
    docker: aiodocker.Docker, make_network: MakeNetwork, make_name: Callable[..., str]
) -> None:
    label = make_name("prune")
    doomed = await make_network("doomed", Labels={label: "1"})
    doomed_name = (await doomed.show())["Name"]
    kept = await make_network("kept")
    result = await docker.networks.prune(filters={"label": [label]})
    assert result["NetworksDeleted"] == [doomed_name]
    with pytest.raises(DockerNotFoundError):
        await doomed.show()
    assert (await kept.show())["Id"] == kept.id


@pytest.mark.engine_difference(
    ("podman", "podman5"), "podman answers 500, not 400/409, for bad arguments, taken names and wrong states"
)
async def test_prune_rejects_bad_filters(docker: aiodocker.Docker) -> None:
    with pytest.raises(DockerError) as info:
        await docker.networks.prune(filters={"no-such-filter": "x"})
    assert info.value.status == 400
    with pytest.raises(TypeError):
        await docker.networks.prune(filters=["label"])  # type: ignore[arg-type]
