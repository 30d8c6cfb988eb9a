"""Uploads of real files: sendfile over a plain socket; reads over TLS and where the loop has no sendfile."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import tar_of

import aiodocker
from aiodocker._transport.endpoint import TLSConfig
from aiodocker._transport.tls import make_ssl_context
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
    base = Path(testenv["tls_cert_path"])
    context = make_ssl_context(
        TLSConfig(ca=str(base / "ca.pem"), cert=str(base / "cert.pem"), key=str(base / "key.pem"))
    )
    spy = SendfileSpy(asyncio.get_running_loop(), monkeypatch)
    async with aiodocker.Docker(url=testenv["tls_url"], ssl_context=context) as docker:
        container = await make_container(docker, image, make_name("upload-tls"))
        try:
            with tar_path.open("rb") as file:
                file.seek(len(JUNK))
                await container.put_archive("/tmp", file)
            assert await read_back(container) == PAYLOAD
        finally:
            await container.delete(force=True)
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
            container = await make_container(docker, image, make_name("upload-aiohttp"))
            try:
                with tar_path.open("rb") as file:
                    file.seek(len(JUNK))
                    await container.put_archive("/tmp", file)
                assert await read_back(container) == PAYLOAD
            finally:
                await container.delete(force=True)
    finally:
        await connector.close()  # the caller's connector stays the caller's to close
