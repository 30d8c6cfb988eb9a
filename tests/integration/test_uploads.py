"""Uploads of real files (put_archive, load, import_image, build): sendfile over a plain unix,
tcp or ssh socketpair; reads over TLS, for file-likes without a fileno and where the loop has none."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import remove_images, tar_of, tls_context, use_ssh_config

import aiodocker
from aiodocker.containers import DockerContainer
from aiodocker.exceptions import DockerNotFoundError

pytestmark = pytest.mark.filterwarnings("error::ResourceWarning")

PAYLOAD = os.urandom(1024 * 1024) * 8  # 8 MiB: far beyond what the daemon discards unread
JUNK = b"not part of the tar"


@pytest.fixture
def tar_path(tmp_path: Path) -> Path:
    """A file holding junk, then a tar of ``payload.bin`` (the upload starts after the junk)."""
    path = tmp_path / "upload.tar"
    path.write_bytes(JUNK + tar_of({"payload.bin": PAYLOAD}))
    return path


class SendfileSpy:
    """Counts the bytes given to ``loop.sendfile`` (which still does the work)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, monkeypatch: pytest.MonkeyPatch) -> None:
        self.counts: list[int] = []
        real = loop.sendfile

        async def spy(transport: Any, file: Any, offset: int = 0, count: int | None = None, **kw: Any) -> int:
            sent = await real(transport, file, offset, count, **kw)
            self.counts.append(sent)
            return sent

        monkeypatch.setattr(loop, "sendfile", spy)


async def make_container(docker: aiodocker.Docker, image: str, name: str) -> DockerContainer:
    container = await docker.containers.create({"Image": image, "Cmd": ["sleep", "300"]}, name=name)
    await container.start()
    return container


async def read_back(container: DockerContainer) -> bytes:
    with await container.get_archive("/tmp/payload.bin") as tar:
        member = tar.extractfile("payload.bin")
        assert member is not None
        return member.read()


async def put_and_read_back(docker: aiodocker.Docker, image: str, name: str, tar_path: Path) -> bytes:
    """Put the tar, from past its junk, into a new container ``name``; return what arrived."""
    container = await make_container(docker, image, name)
    try:
        with tar_path.open("rb") as file:
            file.seek(len(JUNK))
            await container.put_archive("/tmp", file)
        return await read_back(container)
    finally:
        await container.delete(force=True)


@pytest.fixture
async def container(
    docker: aiodocker.Docker, image: str, make_name: Callable[..., str]
) -> AsyncIterator[DockerContainer]:
    created = await make_container(docker, image, make_name("upload"))
    yield created
    await created.delete(force=True)


@pytest.mark.not_on_uvloop(
    "uvloop has no loop.sendfile; there files go by reads "
    "(test_a_loop_without_sendfile_sends_the_file_by_reads)"
)
async def test_put_archive_of_a_real_file_goes_by_sendfile_from_its_position(
    container: DockerContainer, tar_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = SendfileSpy(asyncio.get_running_loop(), monkeypatch)
    with tar_path.open("rb") as file:
        file.seek(len(JUNK))
        assert await container.put_archive("/tmp", file) == ""
        assert file.tell() == tar_path.stat().st_size  # read to its end, as aiodocker leaves it
    assert spy.counts == [tar_path.stat().st_size - len(JUNK)]
    assert await read_back(container) == PAYLOAD


@pytest.mark.not_on_uvloop(
    "uvloop has no loop.sendfile; there files go by reads "
    "(test_a_loop_without_sendfile_sends_the_file_by_reads)"
)
async def test_load_from_a_path_goes_by_sendfile(
    docker: aiodocker.Docker, image: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    saved = tmp_path / "image.tar"
    with saved.open("wb") as out:
        async for chunk in docker.images.save(image):
            out.write(chunk)
    spy = SendfileSpy(asyncio.get_running_loop(), monkeypatch)
    result = await docker.images.load(saved)
    assert spy.counts == [saved.stat().st_size]
    assert any(image in str(item.get("stream", "")) for item in result)


async def test_a_missing_container_answers_not_found_while_a_file_is_sent(
    docker: aiodocker.Docker, make_name: Callable[..., str], tar_path: Path
) -> None:
    missing = docker.containers.container(make_name("missing"))
    with tar_path.open("rb") as file, pytest.raises(DockerNotFoundError):
        await missing.put_archive("/tmp", file)
    assert (await docker.version())["ApiVersion"]  # the client still works


async def test_put_archive_of_a_real_file_over_tls_sends_by_reads(
    testenv: dict[str, Any],
    image: str,
    make_name: Callable[..., str],
    tar_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spy = SendfileSpy(asyncio.get_running_loop(), monkeypatch)
    async with aiodocker.Docker(url=testenv["tls_url"], ssl_context=tls_context(testenv)) as docker:
        assert await put_and_read_back(docker, image, make_name("upload-tls"), tar_path) == PAYLOAD
    assert spy.counts == []  # TLS cannot take the kernel's copy


async def test_a_loop_without_sendfile_sends_the_file_by_reads(
    container: DockerContainer, tar_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # uvloop's loop.sendfile is asyncio's abstract one: it raises NotImplementedError
    async def no_sendfile(*args: Any, **kwargs: Any) -> int:
        raise NotImplementedError

    monkeypatch.setattr(asyncio.get_running_loop(), "sendfile", no_sendfile)
    with tar_path.open("rb") as file:
        file.seek(len(JUNK))
        await container.put_archive("/tmp", file)
        assert file.tell() == tar_path.stat().st_size
    assert await read_back(container) == PAYLOAD


async def test_put_archive_of_a_real_file_through_a_caller_connector(
    testenv: dict[str, Any],
    image: str,
    make_name: Callable[..., str],
    tar_path: Path,
) -> None:
    import aiohttp

    # aiohttp gets the file body as an async iterable: read in a thread, sent chunked
    connector = aiohttp.UnixConnector(testenv["unix_socket"])
    try:
        async with aiodocker.Docker(
            url=f"unix://{testenv['unix_socket']}", connector=connector
        ) as docker:
            assert await put_and_read_back(docker, image, make_name("upload-aiohttp"), tar_path) == PAYLOAD
    finally:
        await connector.close()  # the caller's connector stays the caller's to close


# --- import_image and build contexts: the same body path as put_archive -----------------


def build_context_path(tmp_path: Path, image: str) -> Path:
    """Junk, then a build context whose RUN fails unless ``payload.bin`` arrived intact."""
    digest = hashlib.md5(PAYLOAD).hexdigest()
    dockerfile = (
        f"FROM {image}\nCOPY payload.bin /payload.bin\n"
        f'RUN test "$(md5sum < /payload.bin)" = "{digest}  -"\n'
    )
    path = tmp_path / "context.tar"
    path.write_bytes(JUNK + tar_of({"Dockerfile": dockerfile.encode(), "payload.bin": PAYLOAD}))
    return path


async def build_from(docker: aiodocker.Docker, fileobj: Any, tag: str) -> None:
    try:
        await docker.images.build(fileobj=fileobj, encoding="identity", tag=tag, forcerm=True)
        assert (await docker.images.inspect(tag))["Id"]
    finally:
        await remove_images(docker, tag)


async def saved_image(docker: aiodocker.Docker, image: str, path: Path) -> Path:
    """``image`` saved to ``path`` after the junk."""
    with path.open("wb") as out:
        out.write(JUNK)
        async for chunk in docker.images.save(image):
            out.write(chunk)
    return path


@pytest.mark.not_on_uvloop(
    "uvloop has no loop.sendfile; there files go by reads "
    "(test_a_loop_without_sendfile_sends_the_file_by_reads)"
)
async def test_import_image_of_a_real_file_goes_by_sendfile_from_its_position(
    docker: aiodocker.Docker, image: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    saved = await saved_image(docker, image, tmp_path / "image.tar")
    spy = SendfileSpy(asyncio.get_running_loop(), monkeypatch)
    with saved.open("rb") as file:
        file.seek(len(JUNK))
        result = await docker.images.import_image(file)
    assert spy.counts == [saved.stat().st_size - len(JUNK)]
    assert any(image in str(item.get("stream", "")) for item in result)


@pytest.mark.engine_difference("podman", "podman builds with buildah: RUN output differs")
@pytest.mark.not_on_uvloop(
    "uvloop has no loop.sendfile; there files go by reads "
    "(test_a_loop_without_sendfile_sends_the_file_by_reads)"
)
async def test_build_from_a_real_file_goes_by_sendfile_from_its_position(
    docker: aiodocker.Docker,
    image: str,
    make_name: Callable[..., str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    context = build_context_path(tmp_path, image)
    spy = SendfileSpy(asyncio.get_running_loop(), monkeypatch)
    with context.open("rb") as file:
        file.seek(len(JUNK))
        await build_from(docker, file, make_name("sendfile-build") + ":v1")
    assert spy.counts == [context.stat().st_size - len(JUNK)]


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(256 * 1024):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        pass


@pytest.fixture
async def plain_tcp_url(testenv: dict[str, Any]) -> AsyncIterator[str]:
    """``tcp://127.0.0.1:PORT``: a plain tcp listener that relays to the daemon's unix socket."""
    tasks: set[asyncio.Task[None]] = set()
    writers: list[asyncio.StreamWriter] = []

    async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_unix_connection(testenv["unix_socket"])
        writers.extend((writer, up_writer))
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        for w in (writer, up_writer):
            w.close()

    def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.ensure_future(relay(reader, writer))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"tcp://127.0.0.1:{port}"
    server.close()
    for w in writers:
        w.close()
    for task in list(tasks):
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await server.wait_closed()


@pytest.mark.not_on_uvloop(
    "uvloop has no loop.sendfile; there files go by reads "
    "(test_a_loop_without_sendfile_sends_the_file_by_reads)"
)
async def test_import_image_and_build_over_plain_tcp_go_by_sendfile(
    plain_tcp_url: str,
    image: str,
    make_name: Callable[..., str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with aiodocker.Docker(url=plain_tcp_url) as docker:
        saved = await saved_image(docker, image, tmp_path / "image.tar")
        context = build_context_path(tmp_path, image)
        spy = SendfileSpy(asyncio.get_running_loop(), monkeypatch)
        with saved.open("rb") as file:
            file.seek(len(JUNK))
            await docker.images.import_image(file)
        with context.open("rb") as file:
            file.seek(len(JUNK))
            await build_from(docker, file, make_name("tcp-build") + ":v1")
    assert spy.counts == [
        saved.stat().st_size - len(JUNK),
        context.stat().st_size - len(JUNK),
    ]


async def test_import_image_and_build_over_tls_send_by_reads(
    testenv: dict[str, Any],
    image: str,
    make_name: Callable[..., str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with aiodocker.Docker(url=testenv["tls_url"], ssl_context=tls_context(testenv)) as docker:
        saved = await saved_image(docker, image, tmp_path / "image.tar")
        context = build_context_path(tmp_path, image)
        spy = SendfileSpy(asyncio.get_running_loop(), monkeypatch)
        with saved.open("rb") as file:
            file.seek(len(JUNK))
            result = await docker.images.import_image(file)
            assert file.tell() == saved.stat().st_size
        assert any(image in str(item.get("stream", "")) for item in result)
        with context.open("rb") as file:
            file.seek(len(JUNK))
            await build_from(docker, file, make_name("tls-build") + ":v1")
    assert spy.counts == []  # TLS cannot take the kernel's copy


async def test_import_image_and_build_of_file_likes_without_fileno_send_by_reads(
    docker: aiodocker.Docker,
    image: str,
    make_name: Callable[..., str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    saved = await saved_image(docker, image, tmp_path / "image.tar")
    context = build_context_path(tmp_path, image)
    spy = SendfileSpy(asyncio.get_running_loop(), monkeypatch)
    in_memory = io.BytesIO(saved.read_bytes()[len(JUNK) :])
    result = await docker.images.import_image(in_memory)
    assert any(image in str(item.get("stream", "")) for item in result)
    await build_from(
        docker, io.BytesIO(context.read_bytes()[len(JUNK) :]), make_name("bytesio-build") + ":v1"
    )
    assert spy.counts == []


@pytest.mark.not_on_uvloop(
    "uvloop has no loop.sendfile; there files go by reads "
    "(test_a_loop_without_sendfile_sends_the_file_by_reads)"
)
async def test_import_image_of_a_real_file_over_ssh_goes_by_sendfile_into_the_local_socketpair(
    testenv: dict[str, Any], image: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with aiodocker.Docker(url=use_ssh_config(testenv, monkeypatch)) as docker:
        saved = await saved_image(docker, image, tmp_path / "image.tar")
        spy = SendfileSpy(asyncio.get_running_loop(), monkeypatch)
        with saved.open("rb") as file:
            file.seek(len(JUNK))
            result = await docker.images.import_image(file)
    # ssh's stdio is one end of a local socketpair, not a pipe: the kernel copies the
    # file into it and ssh encrypts what it reads; only TLS in this process needs reads
    assert spy.counts == [saved.stat().st_size - len(JUNK)]
    assert any(image in str(item.get("stream", "")) for item in result)
