"""spool(): a whole body into a spooled temporary file, written as it is read."""

from __future__ import annotations

import asyncio
import tempfile
from typing import Any

import pytest

from aiodocker import _responses
from aiodocker._responses import SPOOL_BATCH, SPOOL_MEMORY_LIMIT, spool
from aiodocker.exceptions import DockerTruncatedStreamError


class FakeBody:
    """Hands out the given chunks, then ``b""``; ``end`` replaces that end (an error, a wait)."""

    def __init__(self, chunks: list[bytes], end: BaseException | asyncio.Event | None = None):
        self.chunks = list(chunks)
        self.end = end

    async def read_chunk(self) -> bytes:
        await asyncio.sleep(0)
        if self.chunks:
            return self.chunks.pop(0)
        if isinstance(self.end, BaseException):
            raise self.end
        if isinstance(self.end, asyncio.Event):
            await self.end.wait()
        return b""


class FakeResponse:
    def __init__(self, body: FakeBody) -> None:
        self.body = body
        self.released = False

    def release(self) -> None:
        self.released = True


@pytest.fixture
def files(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every spooled file spool() makes, to see whether it was closed."""
    made: list[Any] = []

    class Recorded(tempfile.SpooledTemporaryFile):  # type: ignore[type-arg]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(tempfile, "SpooledTemporaryFile", Recorded)
    return made


async def closed(file: Any) -> None:
    for _ in range(500):
        if file.closed:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the spooled file was never closed")


def pieces(total: int, size: int) -> list[bytes]:
    """``total`` bytes that say where they came from, cut into ``size``-byte chunks."""
    data = b"".join(i.to_bytes(4, "big") for i in range(total // 4))
    return [data[i : i + size] for i in range(0, len(data), size)]


async def test_a_small_body_is_kept_whole_in_memory_and_rewound(files):
    chunks = pieces(64 * 1024, 1000)
    response = FakeResponse(FakeBody(chunks))
    file = await spool(response)  # type: ignore[arg-type]
    assert file.read() == b"".join(chunks)
    assert response.released
    assert not files[0]._rolled  # never touched the disk
    file.close()


@pytest.mark.parametrize("size", [4093, 32 * 1024, SPOOL_MEMORY_LIMIT + 17])
async def test_a_body_past_the_memory_limit_goes_to_disk_whole_and_in_order(files, size):
    chunks = pieces(3 * SPOOL_MEMORY_LIMIT + 5 * SPOOL_MEMORY_LIMIT // 7, size)
    response = FakeResponse(FakeBody(chunks))
    file = await spool(response)  # type: ignore[arg-type]
    assert file.read() == b"".join(chunks)
    assert files[0]._rolled
    assert response.released
    file.close()


async def test_a_body_that_breaks_off_closes_the_file_and_raises(files):
    cut = DockerTruncatedStreamError("connection closed before the response body was complete")
    response = FakeResponse(FakeBody(pieces(3 * SPOOL_MEMORY_LIMIT, 64 * 1024), end=cut))
    with pytest.raises(DockerTruncatedStreamError):
        await spool(response)  # type: ignore[arg-type]
    assert response.released
    await closed(files[0])  # at once, or when a batch being written is done


async def test_cancelling_mid_body_closes_the_file_at_once(files):
    never = asyncio.Event()
    response = FakeResponse(FakeBody(pieces(2 * SPOOL_MEMORY_LIMIT, 64 * 1024), end=never))
    task = asyncio.create_task(spool(response))  # type: ignore[arg-type]
    while not files or not files[0]._rolled:  # on disk: a batch was written
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert response.released
    assert files[0].closed


async def test_short_writes_resume_where_they_stopped(files, monkeypatch):
    """writev may write less than asked (a signal, a full pipe of a FUSE file): nothing is lost."""
    real_writev = _responses.os.writev
    calls = []

    def short_writev(fd: int, buffers: list[Any]) -> int:
        data = b"".join(bytes(b) for b in buffers)
        calls.append(len(buffers))
        return real_writev(fd, [data[: max(1, len(data) // 3 - 5)]])  # cuts inside a piece

    monkeypatch.setattr(_responses.os, "writev", short_writev)
    chunks = pieces(3 * SPOOL_MEMORY_LIMIT + 1234, 4093)
    file = await spool(FakeResponse(FakeBody(chunks)))  # type: ignore[arg-type]
    assert file.read() == b"".join(chunks)
    assert len(calls) > 3 * 3  # every batch took several calls
    file.close()


async def test_without_writev_the_batches_are_joined_and_written(files, monkeypatch):
    monkeypatch.delattr(_responses.os, "writev")
    chunks = pieces(2 * SPOOL_MEMORY_LIMIT + 99, 32 * 1024)
    file = await spool(FakeResponse(FakeBody(chunks)))  # type: ignore[arg-type]
    assert file.read() == b"".join(chunks)
    assert files[0]._rolled
    file.close()


async def test_batches_reach_the_file_as_pieces_not_joined(files, monkeypatch):
    """The pieces of a batch go to writev as they came: no join per batch."""
    real_writev = _responses.os.writev
    seen: list[int] = []

    def counting_writev(fd: int, buffers: list[Any]) -> int:
        seen.append(len(buffers))
        return real_writev(fd, buffers)

    monkeypatch.setattr(_responses.os, "writev", counting_writev)
    chunks = pieces(2 * SPOOL_MEMORY_LIMIT, 64 * 1024)
    file = await spool(FakeResponse(FakeBody(chunks)))  # type: ignore[arg-type]
    assert file.read() == b"".join(chunks)
    # the memory's worth when the spool goes to disk, then a batch at a time
    assert seen[0] == SPOOL_MEMORY_LIMIT // (64 * 1024)
    assert len(seen) > 1 and all(n == SPOOL_BATCH // (64 * 1024) for n in seen[1:])
    file.close()
