"""System calls against the real daemon: info, version, ping (GET and HEAD), df, events."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

import aiodocker
from aiodocker.exceptions import DockerAPIVersionError, DockerConnectionError, DockerError
from tests.testenv import Engine, require


@pytest.fixture
async def too_new(testenv: dict[str, object]) -> AsyncIterator[aiodocker.Docker]:
    """A client pinned to an API version the daemon does not speak: it answers 400."""
    async with aiodocker.Docker(
        url=f"unix://{require('unix_socket')}", api_version="v1.99"
    ) as client:
        yield client


@pytest.fixture
async def unreachable(tmp_path: Path) -> AsyncIterator[aiodocker.Docker]:
    """A client of a socket nobody listens on."""
    async with aiodocker.Docker(url=f"unix://{tmp_path / 'nobody.sock'}") as client:
        yield client


async def test_info_describes_the_daemon(docker: aiodocker.Docker) -> None:
    info = await docker.system.info()
    assert info["ID"]
    assert "Containers" in info and "Images" in info


async def test_info_and_version_report_the_daemons_api_version_refusal(
    too_new: aiodocker.Docker,
) -> None:
    for call in (too_new.system.info, too_new.system.version, too_new.system.df):
        with pytest.raises(DockerError) as info:
            await call()
        assert info.value.status == 400
        assert "too new" in info.value.message


async def test_version_reports_the_api_version(docker: aiodocker.Docker, engine: Engine) -> None:
    version = await docker.system.version()
    assert version["ApiVersion"] == engine.api_version
    assert version == await docker.version()


@pytest.mark.engine_difference("podman", "podman's /_ping has no OSType header")
async def test_ping_get_returns_ok_and_head_returns_no_body(
    docker: aiodocker.Docker, engine: Engine
) -> None:
    assert await docker.system.ping() == "OK"
    assert await docker.system.ping(head=True) == ""
    headers = await docker.system.ping_headers()
    lowered = {k.lower(): v for k, v in headers.items()}
    assert lowered["api-version"] == engine.api_version
    assert lowered["ostype"] == "linux"


async def test_ping_is_unversioned_so_it_works_with_any_pinned_version(
    too_new: aiodocker.Docker,
) -> None:
    assert await too_new.system.ping() == "OK"


async def test_ping_of_an_unreachable_daemon_raises_connection_error(
    unreachable: aiodocker.Docker,
) -> None:
    with pytest.raises(DockerConnectionError):
        await unreachable.system.ping()
    with pytest.raises(DockerConnectionError):
        await unreachable.system.ping(head=True)
    with pytest.raises(DockerConnectionError):
        await unreachable.system.ping_headers()


@pytest.mark.engine_difference(("podman", "podman5"), "podman's /system/df has no build cache")
async def test_df_reports_usage_of_every_kind(docker: aiodocker.Docker) -> None:
    usage = await docker.system.df()
    assert {"LayersSize", "Images", "Containers", "Volumes"} <= set(usage)
    assert any(
        image["RepoTags"] and require("image") in image["RepoTags"] for image in usage["Images"]
    )


async def test_df_type_and_verbose_need_newer_apis_and_validate_locally(
    docker: aiodocker.Docker,
) -> None:
    with pytest.raises(ValueError):
        await docker.system.df(type="bogus")
    with pytest.raises(ValueError):
        await docker.system.df(type=[])
    version = await docker._api.version_tuple()
    if version >= (1, 42):
        usage = await docker.system.df(type=["volume", "image"])
        # both repeated type= values reach the daemon, and only they are computed
        assert isinstance(usage["Volumes"], list) and isinstance(usage["Images"], list)
        assert usage.get("Containers") is None
    else:
        with pytest.raises(DockerAPIVersionError, match="1.42"):
            await docker.system.df(type="volume")
    if version < (1, 52):
        with pytest.raises(DockerAPIVersionError, match="1.52"):
            await docker.system.df(verbose=True)


@pytest.mark.engine_difference(
    "podman5", "podman 5 names a removed container's event 'remove', not 'destroy'"
)
@pytest.mark.engine_difference(
    "podman", "podman's /events does not deliver these filtered container/volume events"
)
async def test_system_events_returns_raw_events_up_to_until(
    docker: aiodocker.Docker, make_name: Callable[..., str]
) -> None:
    start = time.time()
    volume = await docker.volumes.create({"Name": make_name("sysevents")})
    await volume.delete()
    stream = docker.system.events(
        since=start - 1,
        until=time.time() + 1,
        filters={"type": "volume", "volume": volume.name},
    )
    events = [event async for event in stream]
    assert [event["Action"] for event in events] == ["create", "destroy"]
    assert all(isinstance(event["time"], int) for event in events)
    assert all(event["Actor"]["ID"] == volume.name for event in events)


@pytest.mark.engine_difference("podman", "podman answers bad filters with an empty 400")
async def test_system_events_reports_bad_filters(docker: aiodocker.Docker) -> None:
    stream = docker.system.events(filters="{not json")
    with pytest.raises(DockerError) as info:
        await stream.__anext__()
    assert info.value.status in (400, 500)  # 20.10 answers 500 for malformed filter JSON
    # 20.10 and podman quote the JSON error, Docker 26 says "invalid filter"
    assert "invalid character" in info.value.message or "invalid filter" in info.value.message
