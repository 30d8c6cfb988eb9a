"""Small helpers shared by the integration tests (importable as ``helpers``)."""

from __future__ import annotations

import contextlib
import ctypes
import io
import os
import socket
import tarfile
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

import aiodocker
from aiodocker.containers import DockerContainer
from aiodocker.exceptions import DockerNotFoundError


def tar_of(files: dict[str, bytes], *, mode: int = 0o644) -> bytes:
    """An uncompressed tar holding ``files`` (name -> content), each with ``mode``."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = mode
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.fixture(autouse=True, name="docker_config")
def isolated_docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The fixture ``docker_config``: an empty DOCKER_CONFIG, no credentials from ~/.docker.

    Autouse in every module that imports it.
    """
    config_dir = tmp_path / "docker-config"
    config_dir.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(config_dir))
    return config_dir


async def create_container(
    docker: aiodocker.Docker, name: str, config: dict[str, Any], *, start: bool = True
) -> DockerContainer:
    container = await docker.containers.create(config, name=name)
    if start:
        await container.start()
    return container


async def remove_container(container: DockerContainer) -> None:
    try:
        await container.delete(force=True)
    except DockerNotFoundError:
        pass


CLONE_NEWNET = 0x40000000


def loopback_listener(netns: str | None) -> socket.socket:
    """A TCP socket listening on 127.0.0.1 of the network namespace ``netns``.

    None is the test process's own.  A socket stays in the namespace it was made
    in, so a short-lived thread enters ``/run/netns/NETNS`` (setns affects only the
    calling thread; needs root), makes the socket and ends.
    """

    def listen() -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        return sock

    if netns is None:
        return listen()
    made: list[socket.socket] = []
    failed: list[BaseException] = []

    def in_netns() -> None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            with open(f"/run/netns/{netns}", "rb") as handle:
                if libc.setns(handle.fileno(), CLONE_NEWNET) != 0:
                    error = ctypes.get_errno()
                    raise OSError(error, f"setns into {netns}: {os.strerror(error)}")
            made.append(listen())
        except BaseException as exc:
            failed.append(exc)

    thread = threading.Thread(target=in_netns, name=f"setns-{netns}")
    thread.start()
    thread.join()
    if failed:
        raise failed[0]
    return made[0]


@contextlib.asynccontextmanager
async def serve_to_engine(netns: str | None, app: web.Application) -> AsyncIterator[str]:
    """Serve ``app`` where an engine in ``netns`` reaches it; yield its base URL.

    The URL is ``http://127.0.0.1:PORT`` on the engine's loopback: the daemons
    treat a loopback registry or index as insecure (plain HTTP) by default.
    """
    sock = loopback_listener(netns)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        await web.SockSite(runner, sock).start()
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        await runner.cleanup()
        sock.close()
