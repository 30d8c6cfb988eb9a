"""The image endpoints against the real daemon: each one's success and its errors."""

from __future__ import annotations

import asyncio
import io
import json
import os
import tarfile
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from aiohttp import web
from helpers import (
    isolated_docker_config,  # noqa: F401 (the fixture is autouse)
    remove_images,
    serve_to_engine,
)
from helpers import tar_of as shared_tar_of
from testenv import Engine

from aiodocker import Docker
from aiodocker.exceptions import (
    DockerAPIVersionError,
    DockerError,
    DockerNotFoundError,
    DockerStreamError,
)
from aiodocker.progress import Progress

# --- helpers -----------------------------------------------------------------------------


def tar_of(files: dict[str, bytes]) -> bytes:
    return shared_tar_of(files, mode=0o755)


async def build_image(
    docker: Docker, base: str, tag: str, *, extra: str = "", size: int = 10_000
) -> None:
    """Build ``tag``: ``base`` plus a layer of random bytes (so the image is its own)."""
    context = tar_of(
        {
            "Dockerfile": f"FROM {base}\nADD blob /blob\n{extra}".encode(),
            "blob": os.urandom(size),
        }
    )
    await docker.images.build(fileobj=context, encoding="identity", tag=tag)


async def exists(docker: Docker, ref: str) -> bool:
    try:
        await docker.images.inspect(ref)
    except DockerNotFoundError:
        return False
    return True


async def run_cli(*args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        "docker",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, output.decode()


@pytest.fixture
async def own_image(
    docker: Docker, image: str, make_name: Callable[..., str]
) -> AsyncIterator[str]:
    """An image of this test only, tagged ``<unique>:v1``."""
    ref = f"{make_name('img')}:v1"
    await build_image(docker, image, ref)
    yield ref
    await remove_images(docker, ref)


# --- list, inspect, history, get ---------------------------------------------------------


@pytest.mark.engine_difference(
    ("podman", "podman5"), "podman stores short image names as docker.io/library/NAME"
)
async def test_list_with_a_reference_filter_finds_the_image(docker: Docker, own_image: str) -> None:
    listed = await docker.images.list(filters={"reference": own_image})
    assert [own_image] == [tag for entry in listed for tag in entry["RepoTags"]]
    everything = await docker.images.list(all=True)
    assert any(own_image in (entry.get("RepoTags") or []) for entry in everything)


async def test_list_with_str_filters_is_deprecated_but_works(
    docker: Docker, own_image: str
) -> None:
    with pytest.warns(DeprecationWarning):
        listed = await docker.images.list(filters=json.dumps({"reference": [own_image]}))
    assert len(listed) == 1


@pytest.mark.engine_difference(
    ("podman", "podman5"), "podman answers 500, not 400/409, for bad arguments, taken names and wrong states"
)
async def test_list_with_an_unknown_filter_is_rejected(docker: Docker) -> None:
    with pytest.raises(DockerError) as info:
        await docker.images.list(filters={"no-such-filter": "x"})
    assert info.value.status == 400
    assert "no-such-filter" in info.value.message


@pytest.mark.engine_difference(
    ("podman", "podman5"), "podman stores short image names as docker.io/library/NAME"
)
async def test_inspect_and_history_describe_the_image(docker: Docker, own_image: str) -> None:
    info = await docker.images.inspect(own_image)
    assert own_image in info["RepoTags"]
    assert len(info["RootFS"]["Layers"]) == 2
    history = await docker.images.history(own_image)
    assert history[0]["Id"] == info["Id"]
    assert any("ADD" in entry["CreatedBy"] for entry in history)


@pytest.mark.engine_difference(
    ("podman", "podman5"), "podman stores short image names as docker.io/library/NAME"
)
async def test_get_is_a_deprecated_alias_of_inspect(docker: Docker, own_image: str) -> None:
    with pytest.warns(DeprecationWarning):
        info = await docker.images.get(own_image)
    assert own_image in info["RepoTags"]


async def test_inspect_and_history_of_a_missing_image_raise_not_found_naming_it(
    docker: Docker, make_name: Callable[..., str]
) -> None:
    name = make_name("missing")
    with pytest.raises(DockerNotFoundError, match=name):
        await docker.images.inspect(name)
    with pytest.raises(DockerNotFoundError, match=name):
        await docker.images.history(name)
    with pytest.raises(ValueError):
        await docker.images.inspect("")


# --- tag and delete ----------------------------------------------------------------------


async def test_tag_returns_true_and_delete_untags(
    docker: Docker, own_image: str, make_name: Callable[..., str]
) -> None:
    repo = f"127.0.0.1:5000/{make_name('tagged')}"
    assert await docker.images.tag(own_image, repo, tag="t1") is True
    try:
        assert f"{repo}:t1" in (await docker.images.inspect(f"{repo}:t1"))["RepoTags"]
        deleted = await docker.images.delete(f"{repo}:t1")
        assert deleted == [{"Untagged": f"{repo}:t1"}]
        assert await exists(docker, own_image)
    finally:
        await remove_images(docker, f"{repo}:t1")


@pytest.mark.engine_difference(
    ("podman", "podman5"), "podman words a bad reference differently (repository name must be lowercase, HTTP 500)"
)
async def test_tag_errors_missing_image_and_bad_reference(
    docker: Docker, own_image: str, make_name: Callable[..., str]
) -> None:
    with pytest.raises(DockerNotFoundError):
        await docker.images.tag(make_name("missing"), make_name("new"), tag="x")
    # 0.27 lets the daemon judge a reference: its error, not a local ValueError
    with pytest.raises(DockerError) as info:
        await docker.images.tag(own_image, "Upper/Case/repo")
    assert "invalid reference format" in info.value.message
    assert not isinstance(info.value, ValueError)
    with pytest.raises(DockerError) as info:
        await docker.images.tag(own_image, make_name("new"), tag="-bad")
    assert not isinstance(info.value, ValueError)


@pytest.mark.engine_difference(
    ("podman", "podman5"), "podman stores short image names as docker.io/library/NAME"
)
async def test_delete_removes_the_image_and_reports_deleted_layers(
    docker: Docker, image: str, make_name: Callable[..., str]
) -> None:
    ref = f"{make_name('del')}:v1"
    await build_image(docker, image, ref)
    image_id = (await docker.images.inspect(ref))["Id"]
    deleted = await docker.images.delete(ref)
    assert {"Untagged": ref} in deleted
    assert {"Deleted": image_id} in deleted
    assert not await exists(docker, ref)


async def test_delete_of_a_missing_image_raises_not_found(
    docker: Docker, make_name: Callable[..., str]
) -> None:
    with pytest.raises(DockerNotFoundError):
        await docker.images.delete(make_name("missing"))


async def test_delete_of_an_image_used_by_a_container_conflicts(
    docker: Docker, own_image: str, make_name: Callable[..., str]
) -> None:
    container = make_name("user")
    code, output = await run_cli("create", "--name", container, own_image, "true")
    assert code == 0, output
    try:
        with pytest.raises(DockerError) as info:
            await docker.images.delete(own_image)
        assert info.value.status == 409
    finally:
        await run_cli("rm", "-f", container)


# --- prune -------------------------------------------------------------------------------


@pytest.mark.engine_difference(("podman", "podman5"), "podman refuses two values of the dangling filter")
async def test_prune_scoped_by_a_unique_label_removes_only_that_image(
    docker: Docker, image: str, own_image: str, make_name: Callable[..., str]
) -> None:
    label = f"aiodocker-test-prune={uuid.uuid4().hex}"
    ref = f"{make_name('prune')}:v1"
    await build_image(docker, image, ref, extra=f"LABEL {label}\n")
    image_id = (await docker.images.inspect(ref))["Id"]
    try:
        result = await docker.images.prune(filters={"label": [label], "dangling": False})
        deleted = [entry.get("Deleted") for entry in result["ImagesDeleted"] or []]
        assert image_id in deleted
        assert not await exists(docker, ref)
        assert await exists(docker, own_image)
        again = await docker.images.prune(filters={"label": [label], "dangling": False})
        assert not again["ImagesDeleted"]
    finally:
        await remove_images(docker, ref)


async def test_prune_with_an_unknown_filter_is_rejected(docker: Docker) -> None:
    with pytest.raises(DockerError) as info:
        await docker.images.prune(filters={"no-such-filter": "x"})
    assert "no-such-filter" in info.value.message


@pytest.mark.engine_difference(("podman", "podman5"), "podman has no POST /build/prune")
async def test_prune_builds_scoped_to_a_missing_id_reclaims_nothing(docker: Docker) -> None:
    result = await docker.images.prune_builds(filters={"id": f"aiodocker-test-{uuid.uuid4().hex}"})
    assert result["SpaceReclaimed"] == 0
    assert not result["CachesDeleted"]


@pytest.mark.engine_difference(("podman", "podman5"), "podman has no POST /build/prune")
async def test_prune_builds_errors(docker: Docker) -> None:
    with pytest.raises(DockerError, match="no-such-filter"):
        await docker.images.prune_builds(filters={"no-such-filter": "x"})


# --- search ------------------------------------------------------------------------------


@pytest.fixture
async def v1_index(engine: Engine) -> AsyncIterator[tuple[str, list[web.Request]]]:
    """A minimal v1 search index on the engine's loopback (insecure there: plain HTTP)."""
    seen: list[web.Request] = []

    async def ping(request: web.Request) -> web.Response:
        return web.json_response(True)

    async def search(request: web.Request) -> web.Response:
        seen.append(request)
        query = request.query["q"]
        return web.json_response(
            {
                "num_results": 1,
                "query": query,
                "results": [
                    {
                        "name": f"aiodocker/{query}",
                        "description": "found by the fake index",
                        "star_count": 7,
                        "is_official": False,
                        "is_automated": False,
                    }
                ],
            }
        )

    app = web.Application()
    app.router.add_get("/v1/_ping", ping)
    app.router.add_get("/v1/search", search)
    async with serve_to_engine(engine.netns, app) as url:
        yield url.removeprefix("http://"), seen


@pytest.mark.engine_difference(
    ("podman", "podman5"), "podman's search asks its own registries, not the index of the test"
)
async def test_search_queries_the_index_of_the_term_with_limit_and_auth(
    docker: Docker, v1_index: tuple[str, list[web.Request]]
) -> None:
    index, seen = v1_index
    results = await docker.images.search(
        f"{index}/thing", limit=3, auth={"username": "u", "password": "p"}
    )
    assert results[0]["name"] == "aiodocker/thing"
    assert results[0]["star_count"] == 7
    assert seen[-1].query["n"] == "3"
    assert seen[-1].headers["Authorization"].startswith("Basic ")


async def test_search_of_an_index_without_v1_search_fails(docker: Docker) -> None:
    # the test registry speaks only the v2 protocol
    with pytest.raises(DockerError):
        await docker.images.search("127.0.0.1:5000/anything")
    with pytest.raises(ValueError):
        await docker.images.search("")


# --- save, load, export ------------------------------------------------------------------


def tar_members(data: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return {
            member.name: (tar.extractfile(member).read() if member.isfile() else b"")  # type: ignore[union-attr]
            for member in tar.getmembers()
        }


@pytest.mark.engine_difference(
    ("podman", "podman5"), "podman stores short image names as docker.io/library/NAME"
)
async def test_save_delete_load_round_trips_an_image(
    docker: Docker, image: str, make_name: Callable[..., str], tmp_path: Path
) -> None:
    ref = f"{make_name('roundtrip')}:v1"
    await build_image(docker, image, ref, size=2_000_000)
    try:
        image_id = (await docker.images.inspect(ref))["Id"]
        archive = tmp_path / "image.tar"
        with archive.open("wb") as out:
            async for chunk in docker.images.save(ref):
                out.write(chunk)
        manifest = json.loads(tar_members(archive.read_bytes())["manifest.json"])
        assert manifest[0]["RepoTags"] == [ref]
        await docker.images.delete(ref)
        assert not await exists(docker, ref)

        loaded = await docker.images.load(archive)
        assert {"stream": f"Loaded image: {ref}\n"} in loaded
        assert (await docker.images.inspect(ref))["Id"] == image_id
        code, output = await run_cli("run", "--rm", ref, "wc", "-c", "/blob")
        assert code == 0 and output.split()[0] == "2000000", output
    finally:
        await remove_images(docker, ref)


@pytest.mark.engine_difference(
    ("podman", "podman5"), "podman stores short image names as docker.io/library/NAME"
)
async def test_save_of_several_images_holds_every_tag(
    docker: Docker, image: str, own_image: str, make_name: Callable[..., str]
) -> None:
    other = f"{make_name('other')}:v2"
    await build_image(docker, image, other)
    try:
        data = b"".join([chunk async for chunk in docker.images.save([own_image, other])])
        manifest = json.loads(tar_members(data)["manifest.json"])
        tags = {tag for entry in manifest for tag in entry["RepoTags"]}
        assert tags == {own_image, other}
    finally:
        await remove_images(docker, other)


async def test_save_of_a_missing_image_raises_not_found(
    docker: Docker, make_name: Callable[..., str]
) -> None:
    with pytest.raises(DockerNotFoundError):
        async for _chunk in docker.images.save(make_name("missing")):
            pass
    with pytest.raises(ValueError):
        docker.images.save([])


@pytest.mark.engine_difference(
    ("podman", "podman5"), "podman stores short image names as docker.io/library/NAME"
)
async def test_export_image_and_import_image_are_the_compatible_save_and_load(
    docker: Docker, image: str, make_name: Callable[..., str]
) -> None:
    ref = f"{make_name('compat')}:v1"
    await build_image(docker, image, ref)
    try:
        async with docker.images.export_image(ref) as content:
            data = await content.read()
        assert "manifest.json" in tar_members(data)
        await docker.images.delete(ref)
        result = await docker.images.import_image(data=io.BytesIO(data))
        assert result[-1] == {"stream": f"Loaded image: {ref}\n"}
        assert await exists(docker, ref)
    finally:
        await remove_images(docker, ref)


@pytest.mark.engine_difference(("podman", "podman5"), "podman's load reports no per-layer progress")
async def test_load_with_progress_ends_at_100_percent(
    docker: Docker, image: str, make_name: Callable[..., str]
) -> None:
    ref = f"{make_name('loadprog')}:v1"
    await build_image(docker, image, ref, size=3_000_000)
    try:
        data = b"".join([chunk async for chunk in docker.images.save(ref)])
        await docker.images.delete(ref)

        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(data), 256 * 1024):
                yield data[start : start + 256 * 1024]

        progress = Progress()
        fractions = []
        stream = docker.images.load(chunks(), quiet=False, stream=True)
        async for _item in progress.track(stream):
            fractions.append(progress.fraction)
        assert all(b >= a for a, b in zip(fractions, fractions[1:], strict=False))
        assert progress.fraction == 1.0
        assert any(layer.status == "Loading layer" for layer in progress.layers.values())
        assert await exists(docker, ref)
    finally:
        await remove_images(docker, ref)


@pytest.mark.engine_difference(
    ("podman", "podman5"), "podman answers a broken tar with an HTTP error, not an error in the stream"
)
async def test_load_of_a_broken_tar_raises_a_stream_error(docker: Docker) -> None:
    with pytest.raises(DockerStreamError) as info:
        await docker.images.load(b"this is not a tar archive")
    assert info.value.error_detail.get("message")
    with pytest.raises(TypeError):
        docker.images.load("a str is not a tar")


# --- import from a root filesystem -------------------------------------------------------


@pytest.fixture
async def rootfs_tar(docker: Docker, image: str) -> bytes:
    """The root filesystem of the test image (a single-layer busybox) as a tar."""
    data = b"".join([chunk async for chunk in docker.images.save(image)])
    members = tar_members(data)
    manifest = json.loads(members["manifest.json"])
    layers = manifest[0]["Layers"]
    assert len(layers) == 1
    return members[layers[0]]


@pytest.mark.engine_difference(
    "podman", "podman stores short image names as docker.io/library/NAME"
)
async def test_import_from_bytes_makes_a_runnable_image(
    docker: Docker, rootfs_tar: bytes, make_name: Callable[..., str]
) -> None:
    repo = make_name("imported")
    result = await docker.images.import_from(
        rootfs_tar,
        repo=repo,
        tag="v1",
        changes=['CMD ["/bin/echo", "hello from import"]', "ENV IMPORTED=yes"],
        message="made by test_images",
    )
    try:
        image_id = result[-1]["status"]
        assert image_id.startswith("sha256:")
        info = await docker.images.inspect(f"{repo}:v1")
        assert info["Id"] == image_id
        assert "IMPORTED=yes" in info["Config"]["Env"]
        history = await docker.images.history(f"{repo}:v1")
        assert history[0]["Comment"] == "made by test_images"
        code, output = await run_cli("run", "--rm", f"{repo}:v1")
        assert code == 0 and output.strip() == "hello from import", output
    finally:
        await remove_images(docker, f"{repo}:v1")


@pytest.mark.engine_difference(
    "podman", "podman stores short image names as docker.io/library/NAME"
)
async def test_import_from_a_path_and_an_async_iterable(
    docker: Docker, rootfs_tar: bytes, make_name: Callable[..., str], tmp_path: Path
) -> None:
    repo = make_name("imported")
    source = tmp_path / "rootfs.tar"
    source.write_bytes(rootfs_tar)

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(rootfs_tar), 100_000):
            yield rootfs_tar[start : start + 100_000]

    try:
        await docker.images.import_from(source, repo=repo, tag="path")
        items = [
            item
            async for item in docker.images.import_from(chunks(), repo=repo, tag="it", stream=True)
        ]
        assert items[-1]["status"].startswith("sha256:")
        code, output = await run_cli("run", "--rm", f"{repo}:it", "/bin/echo", "ok")
        assert code == 0 and output.strip() == "ok", output
        assert await exists(docker, f"{repo}:path")
    finally:
        await remove_images(docker, f"{repo}:path", f"{repo}:it")


@pytest.mark.engine_difference(
    "podman", "podman stores short image names as docker.io/library/NAME"
)
async def test_import_from_a_url_the_daemon_downloads(
    docker: Docker, engine: Engine, rootfs_tar: bytes, make_name: Callable[..., str]
) -> None:
    async def serve(request: web.Request) -> web.Response:
        return web.Response(body=rootfs_tar, content_type="application/x-tar")

    app = web.Application()
    app.router.add_get("/rootfs.tar", serve)
    repo = make_name("fromurl")
    try:
        async with serve_to_engine(engine.netns, app) as url:
            result = await docker.images.import_from(f"{url}/rootfs.tar", repo=repo, tag="v1")
        assert result[-1]["status"].startswith("sha256:")
        code, output = await run_cli("run", "--rm", f"{repo}:v1", "/bin/echo", "url")
        assert code == 0 and output.strip() == "url", output
    finally:
        await remove_images(docker, f"{repo}:v1")


async def test_import_from_errors(docker: Docker, make_name: Callable[..., str]) -> None:
    # 20.10 and podman name the tar; Docker 26 says "unexpected EOF"
    with pytest.raises(DockerError, match="tar|unexpected EOF"):
        await docker.images.import_from(b"not a tar", repo=make_name("broken"))
    with pytest.raises(ValueError, match="URL"):
        docker.images.import_from("relative/path.tar")
    with pytest.raises(ValueError, match="invalid image reference"):
        docker.images.import_from(b"", repo="Bad Repo")


async def test_attestations_on_a_1_41_daemon_names_the_version_it_needs(docker, image):

    with pytest.raises(DockerAPIVersionError, match="v1.55"):
        await docker.images.attestations(image)
