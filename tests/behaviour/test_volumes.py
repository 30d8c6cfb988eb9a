"""Volumes behave alike on the fake engine and on the real daemons."""

from __future__ import annotations

import pytest

from aiodocker.exceptions import DockerConflictError, DockerError, DockerNotFoundError

from .conftest import Backend


async def volume(backend: Backend, **config: object) -> str:
    name = backend.make_name("vol")
    await backend.docker.volumes.create({"Name": name, **config})
    backend.volumes.append(name)
    return name


async def test_create_and_inspect(backend: Backend) -> None:
    name = await volume(backend, Labels={"k": "v"})
    info = await (await backend.docker.volumes.get(name)).show()
    assert info["Name"] == name
    assert info["Driver"] == "local" and info["Scope"] == "local"
    assert info["Labels"] == {"k": "v"}
    assert info["Mountpoint"].endswith(f"/volumes/{name}/_data")


async def test_create_returns_the_volume(backend: Backend) -> None:
    name = backend.make_name("vol")
    created = await backend.docker.volumes.create({"Name": name})
    backend.volumes.append(name)
    assert created.name == name


async def test_create_twice_is_idempotent(backend: Backend) -> None:
    name = await volume(backend)
    await backend.docker.volumes.create({"Name": name})
    listed = await backend.docker.volumes.list(filters={"name": [name]})
    assert [v["Name"] for v in listed["Volumes"]] == [name]


async def test_inspect_missing_is_404(backend: Backend) -> None:
    name = backend.make_name("novol")
    with pytest.raises(DockerNotFoundError) as caught:
        await backend.docker.volumes.get(name)
    assert caught.value.message == f"get {name}: no such volume"


@pytest.mark.parametrize("key", ["name", "label", "driver"])
async def test_list_filters(backend: Backend, key: str) -> None:
    marker = backend.make_name("mark")
    name = await volume(backend, Labels={"mark": marker})
    value = {"name": name, "label": f"mark={marker}", "driver": "local"}[key]
    listed = await backend.docker.volumes.list(filters={key: [value]})
    assert name in [v["Name"] for v in listed["Volumes"]]
    if key != "driver":
        assert [v["Name"] for v in listed["Volumes"]] == [name]


async def test_list_unknown_filter_is_400(backend: Backend) -> None:
    with pytest.raises(DockerError) as caught:
        await backend.docker.volumes.list(filters={"bogus": ["1"]})
    assert caught.value.status == 400


async def test_delete_removes_it(backend: Backend) -> None:
    name = await volume(backend)
    await (await backend.docker.volumes.get(name)).delete()
    with pytest.raises(DockerNotFoundError):
        await backend.docker.volumes.get(name)


async def test_delete_missing_is_404(backend: Backend) -> None:
    from aiodocker.volumes import DockerVolume

    name = backend.make_name("novol")
    with pytest.raises(DockerNotFoundError) as caught:
        await DockerVolume(backend.docker, name).delete()
    assert caught.value.message == f"get {name}: no such volume"


async def test_delete_in_use_is_409(backend: Backend) -> None:
    name = await volume(backend)
    container = await backend.create(["true"], HostConfig={"Binds": [f"{name}:/data"]})
    with pytest.raises(DockerConflictError) as caught:
        await (await backend.docker.volumes.get(name)).delete()
    assert caught.value.message == f"remove {name}: volume is in use - [{container.id}]"


async def test_a_bind_of_a_named_volume_creates_it(backend: Backend) -> None:
    name = backend.make_name("auto")
    backend.volumes.append(name)
    container = await backend.create(["true"], HostConfig={"Binds": [f"{name}:/data"]})
    info = await (await backend.docker.volumes.get(name)).show()
    assert info["Name"] == name
    mounts = (await container.show())["Mounts"]
    assert [(m["Type"], m["Name"], m["Destination"]) for m in mounts] == [("volume", name, "/data")]


async def test_list_filter_volume_on_containers(backend: Backend) -> None:
    name = await volume(backend)
    container = await backend.create(["true"], HostConfig={"Binds": [f"{name}:/data"]})
    listed = await backend.docker.containers.list(all=True, filters={"volume": [name]})
    assert [c.id for c in listed] == [container.id]


async def test_dangling_filter(backend: Backend) -> None:
    used = await volume(backend)
    free = await volume(backend)
    await backend.create(["true"], HostConfig={"Binds": [f"{used}:/data"]})
    dangling = await backend.docker.volumes.list(filters={"dangling": ["true"]})
    names = {v["Name"] for v in dangling["Volumes"]}
    assert free in names and used not in names
