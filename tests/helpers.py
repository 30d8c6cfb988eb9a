"""Small helpers shared by the integration tests (importable as ``helpers``)."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path
from typing import Any

import pytest

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
