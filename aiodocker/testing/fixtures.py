"""aiodocker's pytest fixtures (loaded by ``pytest_plugin`` when enabled, or with ``-p``).

- ``fake_engine``: a fresh :class:`~aiodocker.testing.FakeEngine` per test, with
  the ini option ``aiodocker_fake_images`` as its images.
- ``fake_docker``: a ``Docker`` on that engine.
- ``docker``: a ``Docker`` on the real daemon (ini ``aiodocker_url``, else the
  usual ``DOCKER_HOST``/context/socket). Each container, network and volume it
  creates carries the labels ``aiodocker.testing.session`` (this session's id)
  and ``aiodocker.testing.started`` (the session's start, unix seconds); all of
  them, and the tags it made, are removed when the test ends. Before the first
  test, objects of other sessions older than ``aiodocker_reap_after`` seconds
  (a crashed run's leftovers) are removed: the reaper.
"""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from typing import Any, Final

import pytest
import pytest_asyncio

from .. import Docker
from .._transport.base import Response, Transport
from ._engine import FakeEngine

SESSION_LABEL: Final = "aiodocker.testing.session"
STARTED_LABEL: Final = "aiodocker.testing.started"
_LABELLED: Final = re.compile(r"^(/v\d+\.\d+)?/(containers|networks|volumes)/create$")
_TAG: Final = re.compile(r"^(/v\d+\.\d+)?/images/(.+)/tag$")

__all__ = ["LabellingTransport", "docker", "fake_docker", "fake_engine", "reap"]


class LabellingTransport:
    """A transport that adds labels to every container, network and volume created.

    It wraps another transport and records the image tags made through it
    (``tags``), which cannot carry labels.
    """

    def __init__(self, inner: Transport, labels: Mapping[str, str]) -> None:
        self.inner = inner
        self.labels = dict(labels)
        self.description = f"{inner.description} (labelled)"
        self.tags: list[str] = []

    async def request(
        self,
        method: str,
        target: str,
        headers: Mapping[str, str] | None = None,
        body: bytes | AsyncIterable[bytes] | None = None,
        *,
        long_lived: bool = False,
    ) -> Response:
        path, _, query = target.partition("?")
        if method == "POST" and _LABELLED.match(path):
            config = json.loads(body) if isinstance(body, bytes) and body.strip() else {}
            config["Labels"] = {**(config.get("Labels") or {}), **self.labels}
            body = json.dumps(config).encode()
            headers = {**(headers or {}), "Content-Type": "application/json"}
        response = await self.inner.request(method, target, headers, body, long_lived=long_lived)
        match = _TAG.match(path)
        if method == "POST" and match and response.status < 300:
            from urllib.parse import parse_qs

            params = {k: v[-1] for k, v in parse_qs(query).items()}
            self.tags.append(f"{params.get('repo', '')}:{params.get('tag') or 'latest'}")
        return response

    async def websocket(self, target: str) -> Any:
        return await self.inner.websocket(target)

    async def close(self) -> None:
        await self.inner.close()


def _real_transport(url: str | None) -> tuple[Transport, str]:
    """The default transport to the daemon ``url`` resolves to (as ``Docker(url)`` builds it)."""
    from .._transport import open_engine
    from .._transport.endpoint import resolve_endpoint

    endpoint = resolve_endpoint(url, None, env=os.environ, home=os.path.expanduser("~"))
    ssl_context = None
    if endpoint.scheme == "tcp" and endpoint.tls is not None:
        from .._transport.tls import make_ssl_context

        ssl_context = make_ssl_context(endpoint.tls, context_name=endpoint.context_name)
    engine = open_engine(
        endpoint.scheme, endpoint.address, ssl_context=ssl_context, description=endpoint.url
    )
    return engine, endpoint.url


async def reap(docker: Docker, *, session: str | None, older_than: float | None) -> list[str]:
    """Remove labelled containers, networks and volumes; return what was removed.

    ``session`` given: those of that session. ``older_than`` given: those of
    other sessions started more than that many seconds ago.
    """
    now = time.time()

    def doomed(labels: Mapping[str, str] | None) -> bool:
        labels = labels or {}
        owner = labels.get(SESSION_LABEL)
        if owner is None:
            return False
        if session is not None and owner == session:
            return True
        if older_than is None or owner == session:
            return False
        try:
            started = float(labels.get(STARTED_LABEL, "inf"))
        except ValueError:
            return False
        return now - started > older_than

    removed: list[str] = []
    selector = {"label": [SESSION_LABEL]}
    for container in await docker.containers.list(all=True, filters=selector):
        if doomed(container["Labels"]):
            await container.delete(force=True, v=True)
            removed.append(f"container {container.id[:12]}")
    for network in await docker.networks.list(filters=selector):
        if doomed(network.get("Labels")):
            await (await docker.networks.get(network["Id"])).delete()
            removed.append(f"network {network['Name']}")
    volumes = await docker.volumes.list(filters=selector)
    for volume in volumes.get("Volumes") or []:
        if doomed(volume.get("Labels")):
            await (await docker.volumes.get(volume["Name"])).delete()
            removed.append(f"volume {volume['Name']}")
    return removed


_SESSION_KEY: Final = pytest.StashKey[dict[str, Any]]()


def _ini(config: pytest.Config, name: str, default: Any) -> Any:
    """An ini option of ``pytest_plugin``; its default when that module is not loaded."""
    try:
        return config.getini(name) or default
    except ValueError:  # loaded with ``-p aiodocker.testing.fixtures`` alone
        return default


def _session_state(config: pytest.Config) -> dict[str, Any]:
    state = config.stash.get(_SESSION_KEY, None)
    if state is None:
        state = {"id": uuid.uuid4().hex[:12], "started": int(time.time()), "reaped": False}
        config.stash[_SESSION_KEY] = state
    return state


@pytest.fixture
def fake_engine(pytestconfig: pytest.Config) -> FakeEngine:
    """A fresh in-memory engine holding the ``aiodocker_fake_images`` images."""
    images = _ini(pytestconfig, "aiodocker_fake_images", ["busybox:latest"])
    return FakeEngine(images=images)


@pytest_asyncio.fixture
async def fake_docker(fake_engine: FakeEngine) -> AsyncIterator[Docker]:
    """A ``Docker`` client on ``fake_engine``; closed after the test."""
    client = Docker(transport=fake_engine)
    try:
        yield client
    finally:
        await client.close()


@pytest_asyncio.fixture
async def docker(pytestconfig: pytest.Config) -> AsyncIterator[Docker]:
    """A ``Docker`` client on the real daemon whose objects are labelled and removed."""
    state = _session_state(pytestconfig)
    url = _ini(pytestconfig, "aiodocker_url", None)
    inner, resolved = _real_transport(url)
    transport = LabellingTransport(
        inner, {SESSION_LABEL: state["id"], STARTED_LABEL: str(state["started"])}
    )
    client = Docker(url=resolved, transport=transport)
    try:
        if not state["reaped"]:
            state["reaped"] = True
            await reap(
                client,
                session=None,
                older_than=float(_ini(pytestconfig, "aiodocker_reap_after", 3600)),
            )
        yield client
    finally:
        try:
            await reap(client, session=state["id"], older_than=None)
            for tag in transport.tags:
                try:
                    await client.images.delete(tag)
                except Exception:  # already removed by the test
                    pass
        finally:
            await client.close()
