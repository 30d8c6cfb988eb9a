"""asyncio client for the Docker Engine API, a drop-in replacement for aiodocker."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from .docker import Docker
from .exceptions import (
    DockerContainerError,
    DockerContextError,
    DockerContextInvalidError,
    DockerContextTLSError,
    DockerError,
    DockerStreamError,
)

try:
    __version__ = version("aiodocker")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = (
    "Docker",
    "DockerContainerError",
    "DockerContextError",
    "DockerContextInvalidError",
    "DockerContextTLSError",
    "DockerError",
    "DockerStreamError",
)
