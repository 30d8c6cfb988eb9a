"""The behavioural suite: each test runs on the fake engine and on the real daemons.

The ``backend`` fixture is parametrised over ``fake`` (``FakeEngine`` imitating
Docker 26.1), ``fake20`` (imitating 20.10), ``docker20`` and ``docker26`` (the
real daemons of the test environment). The same assertions hold on all of them:
a difference is a bug in the fake, fixed there. ``AIODOCKER_BEHAVIOUR_BACKENDS``
(comma-separated) narrows the list. Real backends carry the ``integration``
marker and need the test environment (they skip without it, or fail in CI).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from typing import Any, Final

import pytest

from aiodocker import Docker
from aiodocker.containers import DockerContainer
from aiodocker.testing import FakeEngine

BACKENDS: Final = ("fake", "fake20", "docker20", "docker26")
FAKE_IMAGE: Final = "aiodocker-test/busybox:latest"


def selected_backends() -> tuple[str, ...]:
    value = os.environ.get("AIODOCKER_BEHAVIOUR_BACKENDS", "").strip()
    if not value:
        return BACKENDS
    names = tuple(n.strip() for n in value.split(",") if n.strip())
    unknown = set(names) - set(BACKENDS)
    if unknown:
        raise pytest.UsageError(f"AIODOCKER_BEHAVIOUR_BACKENDS: unknown {sorted(unknown)}")
    return names


class Backend:
    """One backend of a test: a client, the test image, and what it created."""

    def __init__(
        self,
        name: str,
        docker: Docker,
        image: str,
        make_name: Callable[..., str],
        fake: FakeEngine | None,
    ) -> None:
        self.name = name
        self.docker = docker
        self.image = image
        self.make_name = make_name
        self.fake = fake
        self.modern = name in ("fake", "docker26")  # Docker >= 23 wording
        self.containers: list[DockerContainer] = []
        self.networks: list[str] = []
        self.volumes: list[str] = []
        self.images: list[str] = []

    @property
    def is_fake(self) -> bool:
        return self.fake is not None

    def msg(self, modern: str, old: str) -> str:
        """The error message of this backend's Docker version."""
        return modern if self.modern else old

    async def create(
        self, cmd: list[str] | None = None, *, name: str | None = None, **config: Any
    ) -> DockerContainer:
        """Create a container of the test image, removed at teardown."""
        body: dict[str, Any] = {"Image": self.image, **config}
        if cmd is not None:
            body["Cmd"] = cmd
        container = await self.docker.containers.create(body, name=name or self.make_name())
        self.containers.append(container)
        return container

    async def run(self, cmd: list[str], **config: Any) -> DockerContainer:
        container = await self.create(cmd, **config)
        await container.start()
        return container

    async def exited(self, container: DockerContainer) -> None:
        """Wait for ``container`` to exit and for the container list to say so.

        Docker 26 answers ``wait`` a moment before its list (an in-memory view
        updated after the state change) shows the container as exited; a
        listing right after ``wait`` may still show it running.
        """
        await container.wait()
        for _ in range(100):
            [summary] = await self.docker.containers.list(all=True, filters={"id": [container.id]})
            if summary["State"] == "exited":
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"{container.id[:12]} not listed as exited 5 s after wait")

    async def cleanup(self) -> None:
        for container in self.containers:
            try:
                await container.delete(force=True)
            except Exception:
                pass
        for network in self.networks:
            try:
                net = await self.docker.networks.get(network)
                await net.delete()
            except Exception:
                pass
        for volume in self.volumes:
            try:
                vol = await self.docker.volumes.get(volume)
                await vol.delete()
            except Exception:
                pass
        for ref in self.images:
            try:
                await self.docker.images.delete(ref, force=True)
            except Exception:
                pass


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        params = [
            pytest.param(
                name, id=name, marks=[] if name.startswith("fake") else [pytest.mark.integration]
            )
            for name in selected_backends()
        ]
        metafunc.parametrize("backend", params, indirect=True)


@pytest.fixture
async def backend(
    request: pytest.FixtureRequest, make_name: Callable[..., str]
) -> AsyncIterator[Backend]:
    name: str = request.param
    if name.startswith("fake"):
        fake = FakeEngine(images=[FAKE_IMAGE], version="26.1.5" if name == "fake" else "20.10.24")
        client = Docker(transport=fake)
        image = FAKE_IMAGE
    else:
        request.getfixturevalue("testenv")
        from testenv import engine_named

        engine = engine_named(name)
        client = Docker(url=engine.host)
        image = engine.image
        fake = None
    chosen = Backend(name, client, image, make_name, fake)
    try:
        yield chosen
    finally:
        try:
            await chosen.cleanup()
        finally:
            await client.close()
