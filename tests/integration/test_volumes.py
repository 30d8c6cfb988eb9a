"""Volumes against the real daemon: every endpoint, its success and its errors."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

import aiodocker
from aiodocker._core.request import Shape, build_path
from aiodocker.exceptions import (
    DockerAPIVersionError,
    DockerConflictError,
    DockerError,
    DockerNotFoundError,
)
from aiodocker.volumes import DockerVolume

MakeVolume = Callable[..., Awaitable[DockerVolume]]


@pytest.fixture
async def make_volume(
    docker: aiodocker.Docker, make_name: Callable[..., str]
) -> AsyncIterator[MakeVolume]:
    """Create volumes (named by make_name); remove them after the test."""
    created: list[str] = []

    async def make(hint: str = "", **config: Any) -> DockerVolume:
        name = make_name(hint)
        created.append(name)
        return await docker.volumes.create({"Name": name, **config})

    yield make
    for name in created:
        try:
            await DockerVolume(docker, name).delete(force=True)
        except DockerNotFoundError:
            pass


async def test_create_returns_a_volume_whose_show_has_the_config(
    docker: aiodocker.Docker, make_volume: MakeVolume
) -> None:
    volume = await make_volume(
        "create", Labels={"purpose": "test"}, DriverOpts={"type": "tmpfs", "device": "tmpfs"}
    )
    assert isinstance(volume, DockerVolume)
    info = await volume.show()
    assert info["Name"] == volume.name
    assert info["Labels"] == {"purpose": "test"}
    assert info["Options"] == {"type": "tmpfs", "device": "tmpfs"}
    assert info["Driver"] == "local"


async def test_create_without_a_name_makes_an_anonymous_volume(docker: aiodocker.Docker) -> None:
    volume = await docker.volumes.create({})
    try:
        assert len(volume.name) == 64
    finally:
        await volume.delete()


@pytest.mark.engine_difference(
    ("podman", "podman5"), "podman answers 500, not 400/409, for bad arguments, taken names and wrong states"
)
async def test_create_rejects_bad_configs_locally_and_on_the_daemon(
    docker: aiodocker.Docker, make_name: Callable[..., str]
) -> None:
    with pytest.raises(TypeError):
        await docker.volumes.create("name")  # type: ignore[arg-type]
    with pytest.raises(DockerError) as info:
        await docker.volumes.create({"Name": "bad/name"})
    assert info.value.status == 400


async def test_list_returns_the_raw_answer_filtered_by_label(
    docker: aiodocker.Docker, make_volume: MakeVolume, make_name: Callable[..., str]
) -> None:
    label = make_name("label")
    tagged = await make_volume("listed", Labels={label: "x"})
    await make_volume("unlisted")
    result = await docker.volumes.list(filters={"label": f"{label}=x"})
    assert set(result) >= {"Volumes", "Warnings"}
    assert [v["Name"] for v in result["Volumes"]] == [tagged.name]


@pytest.mark.engine_difference(
    ("podman", "podman5"), "podman answers 500, not 400/409, for bad arguments, taken names and wrong states"
)
async def test_list_rejects_bad_filters(docker: aiodocker.Docker) -> None:
    with pytest.raises(DockerError) as info:
        await docker.volumes.list(filters={"no-such-filter": "x"})
    assert info.value.status == 400
    with pytest.raises(TypeError):
        await docker.volumes.list(filters="dangling=true")  # type: ignore[arg-type]


async def test_get_checks_that_the_volume_exists(
    docker: aiodocker.Docker, make_volume: MakeVolume, make_name: Callable[..., str]
) -> None:
    volume = await make_volume("get")
    found = await docker.volumes.get(volume.name)
    assert found.name == volume.name
    with pytest.raises(DockerNotFoundError):
        await docker.volumes.get(make_name("missing"))
    with pytest.raises(ValueError):
        await docker.volumes.get("..")


async def test_show_of_a_missing_volume_raises_not_found(
    docker: aiodocker.Docker, make_name: Callable[..., str]
) -> None:
    with pytest.raises(DockerNotFoundError):
        await DockerVolume(docker, make_name("missing")).show()


async def test_delete_removes_the_volume_and_then_raises_not_found(
    docker: aiodocker.Docker, make_volume: MakeVolume
) -> None:
    volume = await make_volume("delete")
    await volume.delete()
    with pytest.raises(DockerNotFoundError):
        await volume.show()
    with pytest.raises(DockerNotFoundError):
        await volume.delete()


async def test_delete_of_a_volume_in_use_conflicts(
    docker: aiodocker.Docker, make_volume: MakeVolume, image: str, make_name: Callable[..., str]
) -> None:
    volume = await make_volume("in-use")
    created = await docker._api.call(
        "POST",
        "containers/create",
        params={"name": make_name("user")},
        json_body={"Image": image, "Cmd": ["true"], "HostConfig": {"Binds": [f"{volume.name}:/v"]}}, expect=Shape.OBJECT,
    )
    try:
        with pytest.raises(DockerConflictError):
            await volume.delete()
        with pytest.raises(DockerConflictError):  # force does not override use
            await volume.delete(force=True)
    finally:
        await docker._api.call(
            "DELETE", build_path("containers/{}", created["Id"]), params={"force": True}, expect=Shape.NOTHING
        )
    await volume.delete()


async def test_prune_removes_only_unused_volumes_with_the_label(
    docker: aiodocker.Docker, make_volume: MakeVolume, make_name: Callable[..., str]
) -> None:
    label = make_name("prune")
    doomed = await make_volume("doomed", Labels={label: "1"})
    kept = await make_volume("kept")
    # "all" keeps the API >= 1.42 behaviour (named volumes too) explicit; 1.41 ignores it
    filters: dict[str, Any] = {"label": [label]}
    if await docker._api.version_tuple() >= (1, 42):
        filters["all"] = ["true"]
    result = await docker.volumes.prune(filters=filters)
    assert result["VolumesDeleted"] == [doomed.name]
    assert isinstance(result["SpaceReclaimed"], int)
    with pytest.raises(DockerNotFoundError):
        await doomed.show()
    assert (await kept.show())["Name"] == kept.name


@pytest.mark.engine_difference(
    ("podman", "podman5"), "podman answers 500, not 400/409, for bad arguments, taken names and wrong states"
)
async def test_prune_rejects_bad_filters(docker: aiodocker.Docker) -> None:
    with pytest.raises(DockerError) as info:
        await docker.volumes.prune(filters={"no-such-filter": "x"})
    assert info.value.status == 400
    with pytest.raises(TypeError):
        await docker.volumes.prune(filters=[("label", "x")])  # type: ignore[arg-type]


async def test_update_needs_api_1_42_and_sends_nothing_on_an_older_daemon(
    docker: aiodocker.Docker, make_volume: MakeVolume
) -> None:
    volume = await make_volume("update")
    if await docker._api.version_tuple() >= (1, 42):
        pytest.skip("the daemon supports PUT /volumes/{name}; this pins the 1.41 refusal")
    with pytest.raises(DockerAPIVersionError) as info:
        await volume.update({"AccessMode": {"Availability": "pause"}}, version=1)
    assert "1.42" in info.value.message
    assert "v1.41" in info.value.message
    with pytest.raises(TypeError):
        await volume.update({"AccessMode": {}}, version="1")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        await volume.update(["AccessMode"], version=1)  # type: ignore[arg-type]
