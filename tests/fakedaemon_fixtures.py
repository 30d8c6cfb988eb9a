"""Fixtures for unit tests against ``tests/fakedaemon.py``, shared by the files that use them.

A test module imports the ones it needs (``from tests.fakedaemon_fixtures import
clean_env, daemon, docker, routes``); ``clean_env`` is autouse there. ``routes`` maps a
path suffix to the handler that answers it (``/version`` answers API 1.41 already); a
test fills it before its first request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import aiodocker
from tests.fakedaemon import FakeDaemon, Handler, routed

__all__ = ("clean_env", "daemon", "docker", "routes")

# The variables that would point the client at another daemon, version or certificate.
ENV_VARIABLES = (
    "DOCKER_HOST",
    "DOCKER_CONTEXT",
    "DOCKER_API_VERSION",
    "DOCKER_TLS_VERIFY",
    "DOCKER_CERT_PATH",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No daemon, version or TLS setting from the environment; an empty config directory."""
    for name in ENV_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    config_dir = tmp_path / "docker-config"
    config_dir.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(config_dir))
    return config_dir


@pytest.fixture
def routes() -> dict[str, Handler]:
    return {}


@pytest.fixture
async def daemon(tmp_path: Path, routes: dict[str, Handler]) -> AsyncIterator[FakeDaemon]:
    fake = await FakeDaemon(str(tmp_path / "d.sock"), routed(routes)).start()
    yield fake
    await fake.stop()


@pytest.fixture
async def docker(daemon: FakeDaemon) -> AsyncIterator[aiodocker.Docker]:
    client = aiodocker.Docker(url=f"unix://{daemon.path}")
    yield client
    await client.close()
