"""Drop-in behaviour of aiodocker 0.27 against the real daemon (issue 9).

The raw aiohttp session reaching the daemon (unix and TLS), 0.27's integer
timeout rule, the semi-private helpers downstream code calls (``_query``,
``_query_json``, ``_query_chunked_post``, ``_do_query``, ``_websocket``,
``_canonicalize_url``), the 0.27 way to half-close stdin
(``stream._resp.connection.transport.write_eof()``) over unix, TLS and ssh,
``events.listen()`` with a filtered ``run()``, and inputs 0.27 passes on to the
daemon instead of refusing them.
"""

from __future__ import annotations

import asyncio
import io
import tarfile
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from helpers import (  # noqa: F401 (clean_client_env is autouse)
    clean_client_env,
    client_over,
    create_container,
    remove_container,
    tar_of,
    tls_context,
)
from yarl import URL

import aiodocker
from aiodocker.containers import DockerContainer
from aiodocker.exceptions import DockerError
from aiodocker.types import SENTINEL

# --- the raw session reaches the same daemon ---------------------------------------


@pytest.mark.engine_difference(
    ("podman", "podman5"), "podman makes up a new /info ID on every call"
)
async def test_raw_session_reaches_the_daemon_over_unix(docker: aiodocker.Docker) -> None:
    info = await docker.system.info()
    async with docker.session.get(f"{docker.docker_host}/v1.41/info") as response:
        assert response.status == 200
        assert (await response.json())["ID"] == info["ID"]


async def test_raw_session_reaches_the_daemon_over_tls(testenv: dict[str, Any]) -> None:
    if not testenv.get("tls_url"):
        pytest.skip("no TLS endpoint in the test environment")
    async with aiodocker.Docker(url=testenv["tls_url"], ssl_context=tls_context(testenv)) as docker:
        assert docker.docker_host.startswith("https://")
        info = await docker.system.info()
        async with docker.session.get(f"{docker.docker_host}/v1.41/info") as response:
            assert response.status == 200
            assert (await response.json())["ID"] == info["ID"]


async def test_raw_session_uses_tls_from_the_environment(
    testenv: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    if not testenv.get("tls_url"):
        pytest.skip("no TLS endpoint in the test environment")
    monkeypatch.setenv("DOCKER_HOST", testenv["tls_url"])
    monkeypatch.setenv("DOCKER_TLS_VERIFY", "1")
    monkeypatch.setenv("DOCKER_CERT_PATH", testenv["tls_cert_path"])
    async with aiodocker.Docker() as docker:
        assert docker.docker_host == testenv["tls_url"].replace("tcp://", "https://")
        async with docker.session.get(f"{docker.docker_host}/_ping") as response:
            assert response.status == 200 and await response.text() == "OK"


# --- timeouts ----------------------------------------------------------------------


async def test_restart_with_an_integer_timeout_waits_for_the_daemon_as_027(
    docker: aiodocker.Docker, sleeper: DockerContainer
) -> None:
    started = time.monotonic()
    await sleeper.restart(t=2, timeout=1)  # 0.27 ignores an int: no TimeoutError after 1 s
    assert time.monotonic() - started >= 2.0
    assert (await sleeper.show())["State"]["Running"] is True


# --- the semi-private helpers --------------------------------------------------------


async def test_query_yields_a_response_like_aiohttps(docker: aiodocker.Docker) -> None:
    async with docker._query("info") as response:
        assert response.status == 200 and response.ok
        assert response.url == URL(f"unix://localhost/{docker.api_version}/info")
        response.raise_for_status()
        assert "ID" in await response.json()


async def test_query_json_sends_httpized_params(
    docker: aiodocker.Docker, sleeper: DockerContainer
) -> None:
    name = (await sleeper.show())["Name"].lstrip("/")
    found = await docker._query_json(
        "containers/json", params={"all": True, "filters": {"name": [name]}}
    )
    assert [c["Id"] for c in found] == [sleeper.id]
    created = await docker._query_json("volumes/create", "POST", data={"Name": f"{name}-vol"})
    try:
        assert created["Name"] == f"{name}-vol"
    finally:
        assert await docker._query_json(f"volumes/{name}-vol", "DELETE") == ""


async def test_query_chunked_post_uploads_an_archive(
    docker: aiodocker.Docker, sleeper: DockerContainer
) -> None:
    async with docker._query_chunked_post(
        f"containers/{sleeper.id}/archive",
        "PUT",
        params={"path": "/tmp"},
        data=tar_of({"dropin.txt": b"chunked upload\n"}),
        headers={"Content-Type": "application/x-tar"},
    ) as response:
        assert response.status == 200
    archive = await sleeper.get_archive("/tmp/dropin.txt")
    with archive:
        member = archive.extractfile("dropin.txt")
        assert member is not None and member.read() == b"chunked upload\n"


async def test_do_query_returns_a_response_the_caller_releases(docker: aiodocker.Docker) -> None:
    response = await docker._do_query(
        "version",
        "GET",
        params=None,
        data=None,
        headers=None,
        timeout=SENTINEL,
        chunked=None,
        read_until_eof=True,
        versioned_api=False,
    )
    try:
        assert response.status == 200
        assert "ApiVersion" in await response.json()
    finally:
        response.release()
    assert response.released


async def test_canonicalize_url_is_a_yarl_url_under_docker_host(docker: aiodocker.Docker) -> None:
    await docker._check_version()
    assert docker._canonicalize_url("info") == URL(f"unix://localhost/{docker.api_version}/info")
    assert docker._canonicalize_url("_ping", versioned_api=False) == URL("unix://localhost/_ping")


@pytest.mark.engine_difference(
    ("podman", "podman5"), "podman has no attach/ws endpoint"
)
async def test_websocket_with_default_params_attaches_stdio(
    docker: aiodocker.Docker, image: str, make_name: Callable[..., str]
) -> None:
    container = await create_container(
        docker,
        make_name("ws"),
        {"Image": image, "Cmd": ["cat"], "OpenStdin": True, "Tty": True},
    )
    try:
        ws = await docker._websocket(f"containers/{container.id}/attach/ws")
        try:
            await ws.send_bytes(b"over the websocket\n")
            received = b""
            deadline = time.monotonic() + 10
            while b"over the websocket" not in received and time.monotonic() < deadline:
                message = await asyncio.wait_for(ws.receive(), 10)
                data = message.data
                received += data if isinstance(data, bytes) else str(data).encode()
            assert b"over the websocket" in received
        finally:
            await ws.close()
    finally:
        await remove_container(container)


# --- stdin half-close the 0.27 way ----------------------------------------------------


@pytest.fixture(params=["unix", "tls", "ssh"])
async def transport_client(
    request: pytest.FixtureRequest, testenv: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[aiodocker.Docker]:
    client = client_over(request.param, testenv, monkeypatch)
    try:
        yield client
    finally:
        await client.close()


@pytest.mark.engine_difference(
    ("docker26", "podman", "podman5"), "the unix, TLS and ssh clients of transport_client reach the main daemon only"
)
async def test_resp_connection_transport_write_eof_half_closes_stdin_of_cat(
    transport_client: aiodocker.Docker, sleeper: DockerContainer
) -> None:
    container = transport_client.containers.container(sleeper.id)
    exe = await container.exec(["cat"], stdin=True)
    stream = exe.start(detach=False)
    assert stream._resp is None  # not connected yet, as in 0.27
    async with stream:
        await stream.write_in(b"half-closed ")
        transport = stream._resp.connection.transport
        assert not transport.is_closing()
        transport.write(b"the 0.27 way\n")
        transport.write_eof()  # cat sees EOF, prints and exits; output still flows
        out = b""
        while (message := await asyncio.wait_for(stream.read_out(), 30)) is not None:
            out += message.data
        assert out == b"half-closed the 0.27 way\n"
        transport.close()
        assert transport.is_closing()
    assert (await exe.inspect())["ExitCode"] == 0


# --- events.listen() ---------------------------------------------------------------------


@pytest.mark.engine_difference(
    ("podman", "podman5"), "podman does not deliver filtered events"
)
async def test_events_listen_then_filtered_run_delivers_only_matching_events(
    docker: aiodocker.Docker, make_name: Callable[..., str]
) -> None:
    wanted, other = make_name("listened"), make_name("ignored")
    with pytest.warns(DeprecationWarning):
        subscriber = docker.events.listen()
    assert docker.events.task is None  # 0.27 starts nothing
    runner = asyncio.create_task(
        docker.events.run(filters={"type": ["volume"], "volume": [wanted]})
    )
    try:
        # the request is sent lazily: wait until the daemon answered it
        async def answered() -> None:
            while docker.events.json_stream is None or docker.events.json_stream.response is None:
                if runner.done():
                    runner.result()  # run() failed: show why
                await asyncio.sleep(0.01)

        await asyncio.wait_for(answered(), 10)
        for name in (other, wanted):
            await docker.volumes.create({"Name": name})
        for name in (other, wanted):
            await (await docker.volumes.get(name)).delete()
        actions = []
        while "destroy" not in actions:
            event = await asyncio.wait_for(subscriber.get(), 10)
            assert event is not None
            assert event["Actor"]["ID"] == wanted
            actions.append(event["Action"])
        assert actions[0] == "create"
    finally:
        await docker.events.stop()
        await asyncio.wait_for(runner, 10)


# --- what 0.27 passes on instead of refusing ----------------------------------------------


async def test_pull_of_a_malformed_digest_ref_is_judged_by_the_daemon(
    docker: aiodocker.Docker,
) -> None:
    with pytest.raises(DockerError) as info:
        await docker.images.pull("alpine@sha256:0123456789abcdef")
    assert not isinstance(info.value, ValueError)
    assert info.value.status in (400, 500)  # podman answers 500 for bad arguments


@pytest.mark.engine_difference(
    ("podman", "podman5"), "podman has no POST /build/prune"
)
async def test_prune_builds_sends_the_newer_options_to_a_141_daemon(
    docker: aiodocker.Docker,
) -> None:
    result = await docker.images.prune_builds(
        max_used_space=1 << 40, min_free_space=1, filters={"id": ["aiodocker-test-none"]}
    )
    assert "SpaceReclaimed" in result


async def test_export_image_content_reads_like_a_stream_reader(
    docker: aiodocker.Docker, image: str
) -> None:
    async with docker.images.export_image(image) as content:
        header = await content.readexactly(512)
        assert header[257:262] == b"ustar"
        content.unread_data(header)
        data = b"".join([chunk async for chunk in content.iter_chunked(64 * 1024)])
        assert content.at_eof() and content.total_bytes == len(data)
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        assert "manifest.json" in archive.getnames()


# --- 0.27's closed session and self-registering subscribers (issue 21) -------------


async def test_session_is_closed_after_async_with_whether_made_or_not(
    engine: Any,
) -> None:
    async with aiodocker.Docker(url=engine.host) as untouched:
        assert (await untouched.version())["ApiVersion"]
    assert untouched.session.closed  # never made: the closed stand-in
    with pytest.raises(RuntimeError, match="Session is closed"):
        await untouched.session.get(f"{untouched.docker_host}/_ping")
    async with aiodocker.Docker(url=engine.host) as used:
        async with used.session.get(f"{used.docker_host}/_ping") as response:
            assert response.status == 200
        made = used.session
    assert used.session is made and made.closed
    with pytest.raises(RuntimeError, match="Session is closed"):
        await made.get(f"{used.docker_host}/_ping")


@pytest.mark.engine_difference(
    ("podman", "podman5"), "podman's /events does not deliver these filtered container events"
)
async def test_a_subscriber_built_on_the_events_channel_sees_a_real_create(
    docker: aiodocker.Docker, image: str, make_name: Callable[..., str]
) -> None:
    """Supervisor's pattern: ``ChannelSubscriber(docker.events.channel)`` beside the task."""
    from aiodocker.channel import ChannelSubscriber

    name = make_name("chansub")
    direct = ChannelSubscriber(docker.events.channel)
    docker.events.subscribe(since=time.time() - 1, filters={"container": [name]})
    container = await create_container(docker, name, {"Image": image}, start=False)
    try:
        while True:
            event = await asyncio.wait_for(direct.get(), 30)
            assert event is not None, "the event stream ended early"
            if event.get("Action") == "create":
                assert event["Actor"]["ID"] == container.id
                break
    finally:
        await remove_container(container)
        await docker.events.stop()
    # stop() ends the direct subscriber too, after what was already queued
    while (event := await asyncio.wait_for(direct.get(), 5)) is not None:
        assert event["Actor"]["ID"] == container.id
