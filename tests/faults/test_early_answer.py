"""A daemon that answers an upload early and stops reading: the client drops the connection.

Docker answers ``PUT /containers/{missing}/archive`` with 404 before it has read
the body. The client must then abandon the unsent rest of the body at once: a
graceful close would wait for a peer that no longer reads, keeping the socket
open (and on uvloop, making the loop fail to close with EBUSY).
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

import aiodocker
from aiodocker.exceptions import DockerNotFoundError

BODY_SIZE = 32 * 1024 * 1024  # far beyond what the socket buffers hold
MESSAGE = b'{"message":"No such container: missing"}'


def open_fds() -> set[str]:
    # without the fd listdir itself used, which is closed by the time it returns
    return {fd for fd in os.listdir("/proc/self/fd") if os.path.exists(f"/proc/self/fd/{fd}")}


async def test_an_upload_answered_early_is_dropped_not_flushed(tmp_path: Path) -> None:
    release = asyncio.Event()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(
            b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(MESSAGE)}\r\n\r\n".encode()
            + MESSAGE
        )
        await writer.drain()
        await release.wait()  # never reads the body
        writer.close()

    path = str(tmp_path / "early.sock")
    server = await asyncio.start_unix_server(serve, path)
    try:
        async with aiodocker.Docker(url=f"unix://{path}", api_version="v1.41") as docker:
            container = docker.containers.container("missing")
            fds_before = open_fds()
            with pytest.raises(DockerNotFoundError):
                await asyncio.wait_for(container.put_archive("/tmp", b"\0" * BODY_SIZE), 10)
            for _ in range(50):
                left = open_fds() - fds_before
                if len(left) <= 1:
                    break
                await asyncio.sleep(0.02)
            # only the server's side of the connection is open: the client's is gone
            # although 32 MiB of its body were never read
            assert len(left) == 1, [os.readlink(f"/proc/self/fd/{fd}") for fd in left]
    finally:
        release.set()
        server.close()
        await server.wait_closed()
