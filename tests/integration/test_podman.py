"""The same client against podman's Docker-compatible service (``podman system service``).

Each test runs on podman 4.3 (the system's) and Podman 5 (the trixie chroot's).

Podman's socket is one of the auto-detected paths; these tests make sure what
users do most works there too: version negotiation, run/wait/logs with stream
ids, exec with stdin half-closed, archives, and clean errors.
"""

from __future__ import annotations

import pytest
from helpers import tar_of
from testenv import Engine, engine_named

import aiodocker
from aiodocker.exceptions import DockerNotFoundError


@pytest.fixture(params=["podman", "podman5"])
def podman_engine(request: pytest.FixtureRequest, testenv) -> Engine:
    return engine_named(request.param)


@pytest.fixture
async def podman(podman_engine: Engine):
    async with aiodocker.Docker(url=podman_engine.host) as client:
        yield client


@pytest.fixture
def podman_image(podman_engine: Engine) -> str:
    return podman_engine.image


async def test_podman_negotiates_a_docker_api_version(podman):
    version = await podman.version()
    assert version["ApiVersion"]
    assert podman.api_version == "v" + min(version["ApiVersion"], "1.55")
    assert any(c["Name"] == "Podman Engine" for c in version.get("Components", []))


async def test_podman_runs_a_container_and_keeps_stdout_and_stderr_apart(podman, podman_image, make_name):
    container = await podman.containers.run(
        {"Image": podman_image, "Cmd": ["sh", "-c", "echo out; echo err >&2; exit 3"]},
        name=make_name("podman-run"),
    )
    try:
        assert (await container.wait())["StatusCode"] == 3
        messages = [(m.stream, m.data) async for m in container.log_messages(stdout=True, stderr=True)]
        assert messages == [(1, b"out\n"), (2, b"err\n")]
        assert await container.log(stdout=True, stderr=True) == ["out\n", "err\n"]
    finally:
        await container.delete(force=True)


async def test_podman_exec_stdin_half_close_and_exit_code(podman, podman_image, make_name):
    container = await podman.containers.run(
        {"Image": podman_image, "Cmd": ["sleep", "60"]}, name=make_name("podman-exec")
    )
    try:
        exe = await container.exec(["sh", "-c", "cat; exit 4"], stdin=True)
        async with exe.start() as stream:
            await stream.write_in(b"through podman\n")
            await stream.write_eof()
            out = b""
            while (message := await stream.read_out()) is not None:
                out += message.data
        assert out == b"through podman\n"
        assert (await exe.inspect())["ExitCode"] == 4
    finally:
        await container.delete(force=True)


async def test_podman_archive_round_trip(podman, podman_image, make_name):
    container = await podman.containers.create(
        {"Image": podman_image, "Cmd": ["true"]}, name=make_name("podman-archive")
    )
    try:
        await container.put_archive("/tmp", tar_of({"hello.txt": b"hello"}))
        archive = await container.get_archive("/tmp/hello.txt")
        member = archive.extractfile("hello.txt")
        assert member is not None and member.read() == b"hello"
    finally:
        await container.delete(force=True)


async def test_podman_missing_container_is_a_404_naming_it(podman):
    with pytest.raises(DockerNotFoundError) as info:
        await podman.containers.get("aiodocker-test-no-such-container")
    assert "aiodocker-test-no-such-container" in info.value.message
