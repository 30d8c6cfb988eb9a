"""asyncio client for the Docker Engine API, a drop-in replacement for aiodocker."""

from __future__ import annotations

from typing import Any

from .docker import Docker
from .exceptions import (
    DockerContainerError,
    DockerContextError,
    DockerContextInvalidError,
    DockerContextTLSError,
    DockerError,
    DockerStreamError,
)


def __getattr__(name: str) -> Any:
    """Look ``__version__`` up on first use: importlib.metadata costs more than the package."""
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        value = version("aiodocker")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        value = "0.0.0+unknown"
    globals()["__version__"] = value
    return value


__all__ = (
    "Docker",
    "DockerContainerError",
    "DockerContextError",
    "DockerContextInvalidError",
    "DockerContextTLSError",
    "DockerError",
    "DockerStreamError",
)
