"""Archives and export against the real daemon: upload from every source, read back."""

from __future__ import annotations

import io
import stat
import tarfile
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from helpers import tar_of

import aiodocker
from aiodocker.containers import DockerContainer
from aiodocker.exceptions import DockerError, DockerNotFoundError

pytestmark = pytest.mark.filterwarnings("error::ResourceWarning")

MakeContainer = Callable[..., Awaitable[DockerContainer]]
PAYLOAD = bytes(range(256)) * 4096  # 1 MiB, every byte value


@pytest.fixture
async def container(
    docker: aiodocker.Docker, image: str, make_name: Callable[..., str]
) -> AsyncIterator[DockerContainer]:
    created = await docker.containers.create(
        {"Image": image, "Cmd": ["sleep", "300"]}, name=make_name("archive")
    )
    await created.start()
    yield created
    await created.delete(force=True)


@pytest.fixture
def missing(docker: aiodocker.Docker, make_name: Callable[..., str]) -> DockerContainer:
    return docker.containers.container(make_name("missing"))


def make_tar(files: dict[str, bytes]) -> bytes:
    return tar_of(files, mode=0o640)


async def chunks_of(data: bytes, size: int = 10_000) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def extract(archive: bytes | tarfile.TarFile, name: str) -> bytes:
    tar = tarfile.open(fileobj=io.BytesIO(archive)) if isinstance(archive, bytes) else archive
    with tar:
        member = tar.extractfile(name)
        assert member is not None
        return member.read()


async def test_put_archive_from_bytes_reads_back_with_get_archive(
    container: DockerContainer,
) -> None:
    result = await container.put_archive("/tmp", make_tar({"from-bytes.bin": PAYLOAD}))
    assert result == ""
    tar = await container.get_archive("/tmp/from-bytes.bin")
    assert isinstance(tar, tarfile.TarFile)
    assert extract(tar, "from-bytes.bin") == PAYLOAD


async def tar_stream_of_zeros(name: str, size: int) -> AsyncIterator[bytes]:
    """A tar of one file of ``size`` zero bytes, made as it is sent."""
    info = tarfile.TarInfo(name)
    info.size = size
    yield info.tobuf(tarfile.PAX_FORMAT)
    block = bytes(1024 * 1024)
    for start in range(0, size, len(block)):
        yield block[: size - start]
    yield bytes(-size % tarfile.BLOCKSIZE + 2 * tarfile.BLOCKSIZE)


async def test_get_archive_keeps_a_large_archive_out_of_memory(
    container: DockerContainer,
) -> None:
    size = 32 * 1024 * 1024
    await container.put_archive("/tmp", tar_stream_of_zeros("zeros.bin", size))
    tracemalloc.start()
    try:
        tar = await container.get_archive("/tmp/zeros.bin")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * 1024 * 1024  # the 32 MiB went to a temporary file
    with tar:
        member = tar.extractfile("zeros.bin")
        assert member is not None
        total = 0
        while chunk := member.read(1024 * 1024):
            assert not chunk.strip(b"\0")
            total += len(chunk)
    assert total == size


async def test_put_archive_from_a_file_object_reads_back_with_stream_archive(
    container: DockerContainer,
) -> None:
    await container.put_archive("/tmp", io.BytesIO(make_tar({"from-file.bin": PAYLOAD})))
    stream = container.stream_archive("/tmp/from-file.bin")
    chunks = [chunk async for chunk in stream]
    assert len(chunks) > 1  # streamed, not one buffer
    assert extract(b"".join(chunks), "from-file.bin") == PAYLOAD


async def test_put_archive_from_an_async_iterable_reads_back_with_stat_archive(
    container: DockerContainer,
) -> None:
    await container.put_archive("/tmp", chunks_of(make_tar({"from-iter.bin": PAYLOAD})))
    info = await container.stat_archive("/tmp/from-iter.bin")
    assert info["name"] == "from-iter.bin"
    assert info["size"] == len(PAYLOAD)
    assert stat.S_IMODE(info["mode"]) == 0o640
    assert {"mtime", "linkTarget"} <= info.keys()
    directory = await container.stat_archive("/tmp")
    assert directory["mode"] & (1 << 31)  # Go's os.ModeDir
    assert extract(await container.get_archive("/tmp/from-iter.bin"), "from-iter.bin") == PAYLOAD


async def test_leaving_a_stream_archive_early_releases_it(container: DockerContainer) -> None:
    await container.put_archive("/tmp", make_tar({"big.bin": PAYLOAD * 4}))
    stream = container.stream_archive("/tmp/big.bin")
    async with stream:
        async for chunk in stream:
            assert chunk
            break
    assert stream.response is None
    assert (await container.stat_archive("/tmp/big.bin"))["size"] == len(PAYLOAD) * 4


async def test_put_archive_rejects_data_it_cannot_send_before_any_request(
    missing: DockerContainer,
) -> None:
    with pytest.raises(TypeError):
        await missing.put_archive("/tmp", "not bytes")
    with pytest.raises(TypeError):
        await missing.put_archive("/tmp", io.StringIO("text"))
    with pytest.raises(ValueError):
        await missing.put_archive("", b"")


async def test_archive_calls_on_a_missing_container_raise_not_found_naming_it(
    missing: DockerContainer,
) -> None:
    calls: list[Callable[[], Awaitable[Any]]] = [
        lambda: missing.get_archive("/etc"),
        lambda: missing.stat_archive("/etc"),
        lambda: missing.put_archive("/tmp", make_tar({"x": b"x"})),
        lambda: missing.put_archive("/tmp", chunks_of(make_tar({"x": b"x"}))),
    ]
    for call in calls:
        with pytest.raises(DockerNotFoundError) as exc:
            await call()
        assert missing.id in exc.value.message
    for stream in (missing.stream_archive("/etc"), missing.export()):
        with pytest.raises(DockerNotFoundError) as exc:
            async for _ in stream:
                pass
        assert missing.id in exc.value.message


@pytest.mark.engine_difference(
    ("podman", "podman5"), "podman answers the archive of a missing path without an error"
)
async def test_archive_of_a_missing_path_raises_not_found(container: DockerContainer) -> None:
    with pytest.raises(DockerNotFoundError):
        await container.get_archive("/no/such/path")
    with pytest.raises(DockerNotFoundError, match="/no/such/path"):
        await container.stat_archive("/no/such/path")
    with pytest.raises(DockerNotFoundError):
        async for _ in container.stream_archive("/no/such/path"):
            pass
    with pytest.raises(DockerError):
        await container.put_archive("/no/such/dir", make_tar({"x": b"x"}))


async def test_put_archive_of_a_broken_tar_raises(container: DockerContainer) -> None:
    with pytest.raises(DockerError):
        await container.put_archive("/tmp", b"this is not a tar archive" * 100)


async def test_export_streams_a_valid_tar_of_the_filesystem(container: DockerContainer) -> None:
    await container.put_archive("/", make_tar({"exported.txt": b"exported"}))
    chunks = [chunk async for chunk in container.export()]
    assert len(chunks) > 1
    with tarfile.open(fileobj=io.BytesIO(b"".join(chunks))) as tar:
        names = set(tar.getnames())
        assert {"bin/sh", "etc/passwd", "exported.txt"} <= names
        member = tar.extractfile("exported.txt")
        assert member is not None and member.read() == b"exported"
