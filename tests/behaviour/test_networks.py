"""Networks behave alike on the fake engine and on the real daemons."""

from __future__ import annotations

import re

import pytest

from aiodocker.exceptions import DockerConflictError, DockerError, DockerNotFoundError

from .conftest import Backend


async def network(backend: Backend, **config: object) -> tuple[str, str]:
    name = backend.make_name("net")
    created = await backend.docker.networks.create({"Name": name, **config})
    backend.networks.append(name)
    return name, created.id


async def test_create_returns_an_id_and_inspect_shows_it(backend: Backend) -> None:
    name, net_id = await network(backend, Labels={"k": "v"})
    assert re.fullmatch(r"[0-9a-f]{64}", net_id)
    info = await (await backend.docker.networks.get(name)).show()
    assert info["Id"] == net_id and info["Name"] == name
    assert info["Driver"] == "bridge" and info["Scope"] == "local"
    assert info["Labels"] == {"k": "v"}
    assert info["Containers"] == {}


@pytest.mark.parametrize("flag", ["Internal", "Attachable"])
async def test_create_flags_are_kept(backend: Backend, flag: str) -> None:
    name, _ = await network(backend, **{flag: True})
    info = await (await backend.docker.networks.get(name)).show()
    assert info[flag] is True


async def test_duplicate_name_is_409(backend: Backend) -> None:
    name, _ = await network(backend)
    with pytest.raises(DockerConflictError) as caught:
        await backend.docker.networks.create({"Name": name, "CheckDuplicate": True})
    assert caught.value.message == f"network with name {name} already exists"


async def test_inspect_missing_is_404(backend: Backend) -> None:
    name = backend.make_name("nonet")
    with pytest.raises(DockerNotFoundError) as caught:
        await (await backend.docker.networks.get(name)).show()
    assert caught.value.message == f"network {name} not found"


async def test_get_by_id_prefix(backend: Backend) -> None:
    name, net_id = await network(backend)
    info = await (await backend.docker.networks.get(net_id[:12])).show()
    assert info["Name"] == name


async def test_list_has_the_builtin_networks(backend: Backend) -> None:
    names = {n["Name"] for n in await backend.docker.networks.list()}
    assert {"bridge", "host", "none"} <= names


@pytest.mark.parametrize("key", ["name", "id", "label"])
async def test_list_filters(backend: Backend, key: str) -> None:
    name, net_id = await network(backend, Labels={"sel": name_hint(backend)})
    value = {"name": name, "id": net_id, "label": f"sel={backend.name}-x"}[key]
    listed = await backend.docker.networks.list(filters={key: [value]})
    assert [n["Id"] for n in listed] == [net_id]


def name_hint(backend: Backend) -> str:
    return f"{backend.name}-x"


async def test_list_filter_type_custom_excludes_builtin(backend: Backend) -> None:
    listed = await backend.docker.networks.list(filters={"type": ["custom"]})
    assert not {"bridge", "host", "none"} & {n["Name"] for n in listed}
    builtin = await backend.docker.networks.list(filters={"type": ["builtin"]})
    assert {"bridge", "host", "none"} <= {n["Name"] for n in builtin}


async def test_delete_removes_it(backend: Backend) -> None:
    name, _ = await network(backend)
    net = await backend.docker.networks.get(name)
    assert await net.delete() is True
    with pytest.raises(DockerNotFoundError):
        await net.show()


async def test_delete_missing_is_404(backend: Backend) -> None:
    net = backend.docker.networks.container(backend.make_name()) if False else None
    name = backend.make_name("nonet")
    with pytest.raises(DockerNotFoundError) as caught:
        await (await backend.docker.networks.get(name)).delete()
    assert caught.value.message == f"network {name} not found"
    assert net is None


async def test_delete_predefined_is_403(backend: Backend) -> None:
    with pytest.raises(DockerError) as caught:
        await (await backend.docker.networks.get("bridge")).delete()
    assert caught.value.status == 403
    assert caught.value.message == "bridge is a pre-defined network and cannot be removed"


async def test_connect_a_running_container_shows_it_in_both(backend: Backend) -> None:
    name, net_id = await network(backend)
    container = await backend.run(["sleep", "600"])
    net = await backend.docker.networks.get(name)
    await net.connect({"Container": container.id})
    info = await net.show()
    assert list(info["Containers"]) == [container.id]
    networks = (await container.show())["NetworkSettings"]["Networks"]
    assert set(networks) == {"bridge", name}
    assert networks[name]["NetworkID"] == net_id


async def test_connect_a_created_container(backend: Backend) -> None:
    name, _ = await network(backend)
    container = await backend.create(["sleep", "600"])
    await (await backend.docker.networks.get(name)).connect({"Container": container.id})
    assert name in (await container.show())["NetworkSettings"]["Networks"]


async def test_connect_twice_is_403(backend: Backend) -> None:
    name, _ = await network(backend)
    container = await backend.run(["sleep", "600"])
    net = await backend.docker.networks.get(name)
    await net.connect({"Container": container.id})
    with pytest.raises(DockerError) as caught:
        await net.connect({"Container": container.id})
    assert caught.value.status == 403
    assert "already exists in network" in caught.value.message


async def test_connect_missing_container_is_404(backend: Backend) -> None:
    name, _ = await network(backend)
    missing = backend.make_name("nocontainer")
    with pytest.raises(DockerNotFoundError) as caught:
        await (await backend.docker.networks.get(name)).connect({"Container": missing})
    assert caught.value.message == f"No such container: {missing}"


async def test_disconnect_removes_the_endpoint(backend: Backend) -> None:
    name, _ = await network(backend)
    container = await backend.run(["sleep", "600"])
    net = await backend.docker.networks.get(name)
    await net.connect({"Container": container.id})
    await net.disconnect({"Container": container.id})
    assert (await net.show())["Containers"] == {}
    assert name not in (await container.show())["NetworkSettings"]["Networks"]


async def test_delete_with_a_running_member_is_403(backend: Backend) -> None:
    name, net_id = await network(backend)
    container = await backend.run(["sleep", "600"])
    net = await backend.docker.networks.get(name)
    await net.connect({"Container": container.id})
    with pytest.raises(DockerError) as caught:
        await net.delete()
    assert caught.value.status == 403
    assert caught.value.message == (
        f"error while removing network: network {name} id {net_id} has active endpoints"
    )


async def test_create_on_a_network_by_network_mode(backend: Backend) -> None:
    name, _ = await network(backend)
    container = await backend.run(["sleep", "600"], HostConfig={"NetworkMode": name})
    networks = (await container.show())["NetworkSettings"]["Networks"]
    assert list(networks) == [name]
    assert networks[name]["IPAddress"]


async def test_list_filter_unknown_is_400(backend: Backend) -> None:
    with pytest.raises(DockerError) as caught:
        await backend.docker.networks.list(filters={"bogus": ["x"]})
    assert caught.value.status == 400
