"""Parameters newer than API 1.41: used for real on Docker 26 (1.45), gated on 20.10 (1.41).

A gate raises DockerAPIVersionError naming the version needed before anything is
sent, which these tests show by calling on objects that do not exist: a request
that went out would have failed with "not found" instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from helpers import tar_of
from testenv import engine_named

import aiodocker
from aiodocker.containers import DockerContainer
from aiodocker.exceptions import DockerAPIVersionError, DockerNotFoundError

AMD64: dict[str, str] = {"os": "linux", "architecture": "amd64"}
TRAP_INT = (
    'trap "echo got-int >>/tmp/signals; exit 0" INT; '
    'trap "echo got-term >>/tmp/signals; exit 0" TERM; '
    "echo ready; while true; do sleep 0.1; done"
)


@pytest.fixture
async def docker26() -> AsyncIterator[aiodocker.Docker]:
    async with aiodocker.Docker(url=engine_named("docker26").host) as client:
        assert await client._api.negotiate() == "v1.45"
        yield client


@pytest.fixture
async def docker20() -> AsyncIterator[aiodocker.Docker]:
    async with aiodocker.Docker(url=engine_named("docker20").host) as client:
        assert await client._api.negotiate() == "v1.41"
        yield client


async def run_container(
    client: aiodocker.Docker, name: str, cmd: list[str], **config: Any
) -> DockerContainer:
    image = engine_named("docker20").image
    container = await client.containers.create({"Image": image, "Cmd": cmd, **config}, name=name)
    await container.start()
    return container


async def exec_output(container: DockerContainer, cmd: list[str]) -> str:
    exe = await container.exec(cmd)
    async with exe.start(detach=False) as stream:
        out = b""
        while (message := await stream.read_out()) is not None:
            out += message.data
    return out.decode()


# --- Docker 26: what API 1.45 has -------------------------------------------------------


async def test_list_with_shared_size_computes_it_on_docker_26(docker26: aiodocker.Docker) -> None:
    image = engine_named("docker26").image
    plain = await docker26.images.list(filters={"reference": [image]})
    shared = await docker26.images.list(filters={"reference": [image]}, shared_size=True)
    assert [entry["SharedSize"] for entry in plain] == [-1]  # not computed
    assert len(shared) == 1 and shared[0]["SharedSize"] >= 0


@pytest.mark.parametrize("action", ["stop", "restart"])
async def test_stop_and_restart_send_the_signal_on_docker_26(
    docker26: aiodocker.Docker, make_name: Callable[..., str], action: str
) -> None:
    container = await run_container(docker26, make_name(action), ["sh", "-c", TRAP_INT])
    try:
        await container.wait_for_log("^ready$", timeout=30)
        await getattr(container, action)(signal="SIGINT", t=10)
        if action == "stop":
            await container.start()  # to read the file it wrote
        assert await exec_output(container, ["cat", "/tmp/signals"]) == "got-int\n"
    finally:
        await container.delete(force=True)


async def test_create_on_two_networks_at_once_on_docker_26(
    docker26: aiodocker.Docker, make_name: Callable[..., str]
) -> None:
    networks = [await docker26.networks.create({"Name": make_name("net")}) for _ in range(2)]
    names = [(await network.show())["Name"] for network in networks]
    container = None
    try:
        container = await docker26.containers.create(
            {
                "Image": engine_named("docker26").image,
                "Cmd": ["true"],
                "NetworkingConfig": {"EndpointsConfig": {name: {} for name in names}},
            },
            name=make_name("two-nets"),
        )
        attached = (await container.show())["NetworkSettings"]["Networks"]
        assert sorted(attached) == sorted(names)
    finally:
        if container is not None:
            await container.delete(force=True)
        for network in networks:
            await network.delete()


async def test_websocket_attaches_only_the_streams_asked_for_on_docker_26(
    docker26: aiodocker.Docker, make_name: Callable[..., str]
) -> None:
    container = await run_container(
        docker26,
        make_name("ws"),
        ["sh", "-c", "read line; echo out-$line; echo err-$line >&2; sleep 1"],
        OpenStdin=True,
        StdinOnce=True,
    )
    try:
        ws = await container.websocket(stdin=True, stdout=True, stderr=False, stream=True)
        try:
            await ws.send_bytes(b"x\n")
            received = b""
            while True:
                message = await asyncio.wait_for(ws.receive(), 10)
                if not isinstance(message.data, (bytes, str)):
                    break  # closed when the container exits
                data = message.data
                received += data if isinstance(data, bytes) else data.encode()
        finally:
            await ws.close()
        assert received == b"out-x\n"
    finally:
        await container.delete(force=True)


@pytest.mark.parametrize(
    ("call", "version"),
    [
        (lambda d, ref: d.images.push(ref, platform=AMD64), "v1.46"),
        (lambda d, ref: d.images.inspect(ref, manifests=True), "v1.48"),
        (lambda d, ref: d.images.inspect(ref, platform=AMD64), "v1.49"),
        (lambda d, ref: d.images.history(ref, platform=AMD64), "v1.48"),
        (lambda d, ref: d.images.delete(ref, platforms=[AMD64]), "v1.50"),
        (lambda d, ref: d.images.load(tar_of({"x": b""}), platform=AMD64), "v1.48"),
        (lambda d, ref: d.images.load(tar_of({"x": b""}), platform=[AMD64, AMD64]), "v1.52"),
        (lambda d, ref: d.images.save(ref, platform=AMD64).__anext__(), "v1.48"),
        (lambda d, ref: d.images.export_image(ref, platform=AMD64).__aenter__(), "v1.48"),
        (lambda d, ref: d.system.df(verbose=True), "v1.52"),
    ],
    ids=["push", "inspect-manifests", "inspect", "history", "delete", "load", "load-2", "save",
         "export", "df-verbose"],
)  # fmt: skip
async def test_newer_parameters_are_gated_before_sending_on_docker_26(
    docker26: aiodocker.Docker, make_name: Callable[..., str], call: Any, version: str
) -> None:
    missing = f"{make_name('missing')}:v1"
    with pytest.raises(DockerAPIVersionError, match=version.replace(".", r"\.")):
        await call(docker26, missing)


# --- Docker 20.10: the 1.42 and 1.44 gates ----------------------------------------------


async def test_signals_are_gated_and_shared_size_is_ignored_on_20_10(
    docker20: aiodocker.Docker, make_name: Callable[..., str]
) -> None:
    # shared_size is one of the params 0.27 sends to any daemon: 20.10 ignores it
    assert {entry["SharedSize"] for entry in await docker20.images.list(shared_size=True)} == {-1}
    missing = docker20.containers.container(make_name("missing"))
    with pytest.raises(DockerNotFoundError):
        await missing.restart()  # the same call without the signal goes out
    with pytest.raises(DockerAPIVersionError, match=r"v1\.42"):
        await missing.restart(signal="SIGINT")
    with pytest.raises(DockerNotFoundError):
        await missing.stop(signal="SIGINT")  # 0.27 sends stop's signal to any daemon


async def test_create_on_two_networks_is_gated_on_20_10(
    docker20: aiodocker.Docker, make_name: Callable[..., str]
) -> None:
    name = make_name("two-nets")
    config = {
        "Image": engine_named("docker20").image,
        "NetworkingConfig": {"EndpointsConfig": {"bridge": {}, "host": {}}},
    }
    with pytest.raises(DockerAPIVersionError, match=r"v1\.44"):
        await docker20.containers.create(config, name=name)
    with pytest.raises(DockerNotFoundError):
        await docker20.containers.get(name)  # nothing was created
