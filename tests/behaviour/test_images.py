"""Images of the catalogue behave alike on the fake engine and on the real daemons."""

from __future__ import annotations

import re

import pytest

from aiodocker.exceptions import (
    DockerConflictError,
    DockerError,
    DockerNotFoundError,
    DockerStreamError,
)

from .conftest import Backend


async def tagged(backend: Backend, tag: str = "v1") -> str:
    repo = backend.make_name("img")
    await backend.docker.images.tag(backend.image, repo, tag=tag)
    ref = f"{repo}:{tag}"
    backend.images.append(ref)
    return ref


async def test_inspect_the_test_image(backend: Backend) -> None:
    image = await backend.docker.images.inspect(backend.image)
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", image["Id"])
    assert backend.image in image["RepoTags"]
    assert image["Os"] == "linux"
    assert image["Config"]["Cmd"]


@pytest.mark.filterwarnings("ignore:images.get is deprecated:DeprecationWarning")
async def test_get_is_inspect(backend: Backend) -> None:
    assert (await backend.docker.images.get(backend.image))["Id"] == (
        await backend.docker.images.inspect(backend.image)
    )["Id"]


async def test_inspect_by_id_and_short_id(backend: Backend) -> None:
    image_id = (await backend.docker.images.inspect(backend.image))["Id"]
    assert (await backend.docker.images.inspect(image_id))["Id"] == image_id
    assert (await backend.docker.images.inspect(image_id[7:19]))["Id"] == image_id


async def test_inspect_missing_is_404(backend: Backend) -> None:
    ref = f"{backend.make_name('missing')}:latest"
    with pytest.raises(DockerNotFoundError) as caught:
        await backend.docker.images.inspect(ref)
    assert caught.value.message == backend.msg(
        f"No such image: {ref}", f"no such image: {ref}: No such image: {ref}"
    )


async def test_inspect_missing_without_tag_names_latest(backend: Backend) -> None:
    repo = backend.make_name("missing")
    with pytest.raises(DockerNotFoundError) as caught:
        await backend.docker.images.inspect(repo)
    assert f"No such image: {repo}:latest" in caught.value.message


async def test_list_shows_the_test_image(backend: Backend) -> None:
    images = await backend.docker.images.list()
    found = [i for i in images if backend.image in (i["RepoTags"] or [])]
    assert len(found) == 1
    assert found[0]["Containers"] == -1
    assert isinstance(found[0]["Created"], int)


async def test_list_reference_filter(backend: Backend) -> None:
    ref = await tagged(backend)
    images = await backend.docker.images.list(filters={"reference": [ref.split(":")[0]]})
    assert [i["RepoTags"] for i in images] and all(ref in i["RepoTags"] for i in images)


async def test_list_unknown_filter_is_400(backend: Backend) -> None:
    with pytest.raises(DockerError) as caught:
        await backend.docker.images.list(filters={"bogus": ["1"]})
    assert caught.value.status == 400


async def test_tag_adds_a_reference(backend: Backend) -> None:
    ref = await tagged(backend)
    image = await backend.docker.images.inspect(ref)
    original = await backend.docker.images.inspect(backend.image)
    assert image["Id"] == original["Id"]
    assert ref in image["RepoTags"] and backend.image in image["RepoTags"]


async def test_tag_without_tag_means_latest(backend: Backend) -> None:
    repo = backend.make_name("img")
    await backend.docker.images.tag(backend.image, repo)
    backend.images.append(f"{repo}:latest")
    assert f"{repo}:latest" in (await backend.docker.images.inspect(repo))["RepoTags"]


async def test_tag_of_a_missing_image_is_404(backend: Backend) -> None:
    missing = f"{backend.make_name('missing')}:latest"
    with pytest.raises(DockerNotFoundError) as caught:
        await backend.docker.images.tag(missing, backend.make_name())
    assert caught.value.message == f"No such image: {missing}"


async def test_delete_of_one_of_two_tags_only_untags(backend: Backend) -> None:
    ref = await tagged(backend)
    result = await backend.docker.images.delete(ref)
    assert result == [{"Untagged": ref}]
    assert (await backend.docker.images.inspect(backend.image))["Id"]
    with pytest.raises(DockerNotFoundError):
        await backend.docker.images.inspect(ref)


async def test_delete_of_a_missing_image_is_404(backend: Backend) -> None:
    ref = f"{backend.make_name('missing')}:latest"
    with pytest.raises(DockerNotFoundError) as caught:
        await backend.docker.images.delete(ref)
    assert caught.value.message == f"No such image: {ref}"


async def test_delete_of_an_image_a_container_uses_is_409(backend: Backend) -> None:
    ref = await tagged(backend)
    # the test image is also tagged, so removing ``ref`` only untags it: no conflict
    container = await backend.create(["true"])
    assert (await backend.docker.images.delete(ref)) == [{"Untagged": ref}]
    image_id = (await backend.docker.images.inspect(backend.image))["Id"]
    with pytest.raises(DockerConflictError) as caught:
        await backend.docker.images.delete(image_id)
    # the real daemons may name another user of the image (other tests share it)
    assert caught.value.message.startswith(f"conflict: unable to delete {image_id[7:19]}")
    assert (await container.show())["Image"] == image_id


@pytest.mark.parametrize("tag", ["v1", "1.2.3", "latest"])
async def test_tag_then_list_shows_each_reference(backend: Backend, tag: str) -> None:
    ref = await tagged(backend, tag)
    images = await backend.docker.images.list()
    assert any(ref in (i["RepoTags"] or []) for i in images)


async def test_push_of_a_tag_that_does_not_exist_fails_in_the_stream(backend: Backend) -> None:
    repo = f"127.0.0.1:5000/{backend.make_name('nopush')}"
    with pytest.raises(DockerStreamError) as caught:
        await backend.docker.images.push(repo, tag="v9")
    assert caught.value.message == f"An image does not exist locally with the tag: {repo}"
