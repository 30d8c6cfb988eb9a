"""FakeEngine's programmable processes, faults, pulls and pushes (what no real daemon can be made to do)."""

from __future__ import annotations

import asyncio
import time

import pytest

from aiodocker import Docker
from aiodocker._humanize import human_duration
from aiodocker.exceptions import (
    DockerError,
    DockerNotFoundError,
    DockerStreamError,
    DockerTruncatedStreamError,
)
from aiodocker.testing import FakeEngine, Process
from aiodocker.testing._engine import normalize_reference


@pytest.fixture
def fake() -> FakeEngine:
    return FakeEngine(images=["busybox:latest", "example/app:1.0"])


@pytest.fixture
async def docker(fake: FakeEngine):  # type: ignore[no-untyped-def]
    async with Docker(transport=fake) as client:
        yield client


async def test_program_sets_what_an_images_containers_do(fake: FakeEngine, docker: Docker) -> None:
    fake.program("example/app:1.0", Process("ready\n", "warn\n", exit_code=4))
    container = await docker.containers.run({"Image": "example/app:1.0"})
    assert (await container.wait())["StatusCode"] == 4
    messages = [(m.stream, bytes(m.data)) async for m in container.log_messages()]
    assert messages == [(1, b"ready\n"), (2, b"warn\n")]


async def test_a_program_rule_sees_the_command(fake: FakeEngine, docker: Docker) -> None:
    fake.program("example/app", lambda argv: Process(f"args={argv}\n"))
    container = await docker.containers.run({"Image": "example/app:1.0", "Cmd": ["serve", "-v"]})
    await container.wait()
    assert await container.log(stdout=True) == ["args=['serve', '-v']\n"]


async def test_on_command_wins_over_the_image_program_and_applies_to_exec(
    fake: FakeEngine, docker: Docker
) -> None:
    fake.program("busybox", Process(duration=None))
    fake.on_command(["migrate"], Process("migrated 3\n", exit_code=0))
    container = await docker.containers.run({"Image": "busybox", "Cmd": ["sleep", "1"]})
    execution = await container.exec(["migrate", "--all"])
    async with execution.start() as stream:
        message = await stream.read_out()
    assert message is not None and bytes(message.data) == b"migrated 3\n"
    assert (await container.show())["State"]["Running"] is True  # the program: runs until stopped


async def test_duration_keeps_it_running_then_it_exits(fake: FakeEngine, docker: Docker) -> None:
    fake.program("busybox", Process(exit_code=9, duration=0.3))
    container = await docker.containers.run({"Image": "busybox"})
    assert (await container.show())["State"]["Running"] is True
    began = time.monotonic()
    assert (await container.wait())["StatusCode"] == 9
    assert time.monotonic() - began >= 0.2


async def test_health_status_shows_in_inspect_and_status(fake: FakeEngine, docker: Docker) -> None:
    fake.program("busybox", Process(duration=None, health="starting"))
    container = await docker.containers.run({"Image": "busybox"}, name="web")
    [summary] = await docker.containers.list()
    assert summary["Status"] == "Up Less than a second (health: starting)"
    fake.set_health("web", "healthy")
    assert (await container.show())["State"]["Health"]["Status"] == "healthy"
    [summary] = await docker.containers.list(filters={"health": ["healthy"]})
    assert summary["Status"].endswith("(healthy)")
    assert fake.events[-1]["Action"] == "health_status: healthy"


async def test_a_process_honouring_sigterm_stops_at_once_with_143(
    fake: FakeEngine, docker: Docker
) -> None:
    fake.program("busybox", Process(duration=None, ignores_sigterm=False))
    container = await docker.containers.run({"Image": "busybox"})
    began = time.monotonic()
    await container.stop()  # the default 10 s timeout is not waited for
    assert time.monotonic() - began < 1
    assert (await container.show())["State"]["ExitCode"] == 143


async def test_fail_answers_the_nth_call_with_an_error(fake: FakeEngine, docker: Docker) -> None:
    fake.fail("POST", "/containers/*/start", status=500, message="boom", nth=2)
    first = await docker.containers.create({"Image": "busybox", "Cmd": ["true"]})
    second = await docker.containers.create({"Image": "busybox", "Cmd": ["true"]})
    await first.start()
    with pytest.raises(DockerError) as caught:
        await second.start()
    assert (caught.value.status, caught.value.message) == (500, "boom")
    await second.start()  # only the second call failed


async def test_fail_times_repeats_the_fault(fake: FakeEngine, docker: Docker) -> None:
    fake.fail("GET", "/info", status=503, message="busy", times=2)
    for _ in range(2):
        with pytest.raises(DockerError):
            await docker.system.info()
    assert (await docker.system.info())["Containers"] == 0


async def test_cut_stream_truncates_a_pull(fake: FakeEngine, docker: Docker) -> None:
    fake.cut_stream("POST", "/images/create", after=1)
    with pytest.raises(DockerTruncatedStreamError):
        async for _ in docker.images.pull("busybox:latest", stream=True):
            pass


async def test_pull_of_a_registry_image_adds_it() -> None:
    async with Docker(transport=FakeEngine(images=[], registry=["redis:7"])) as client:
        progress = [p async for p in client.images.pull("redis:7", stream=True)]
        assert progress[-1] == {"status": "Status: Downloaded newer image for redis:7"}
        assert (await client.images.inspect("redis:7"))["RepoTags"] == ["redis:7"]
        again = [p async for p in client.images.pull("redis:7", stream=True)]
        assert again[-1] == {"status": "Status: Image is up to date for redis:7"}


async def test_pull_of_an_unknown_image_is_refused(docker: Docker) -> None:
    with pytest.raises(DockerError) as caught:
        await docker.images.pull("nosuch/thing:1")
    assert caught.value.status == 404
    assert caught.value.message.startswith("pull access denied for nosuch/thing")


async def test_push_then_pull_elsewhere(fake: FakeEngine, docker: Docker) -> None:
    await docker.images.tag("busybox:latest", "registry.local:5000/team/bb", tag="v2")
    progress = [
        p async for p in docker.images.push("registry.local:5000/team/bb", tag="v2", stream=True)
    ]
    assert progress[0] == {"status": "The push refers to repository [registry.local:5000/team/bb]"}
    assert progress[-1]["aux"]["Tag"] == "v2"
    assert "registry.local:5000/team/bb:v2" in fake.registry
    with pytest.raises(DockerStreamError):
        await docker.images.push("registry.local:5000/team/missing")


async def test_wait_for_removal(fake: FakeEngine, docker: Docker) -> None:
    container = await docker.containers.create({"Image": "busybox", "Cmd": ["true"]})
    waiter = asyncio.ensure_future(container.wait(condition="removed"))
    await asyncio.sleep(0.05)
    assert not waiter.done()
    await container.delete()
    assert (await asyncio.wait_for(waiter, 5))["StatusCode"] == 0


async def test_an_unknown_endpoint_is_a_404_page_not_found(docker: Docker) -> None:
    with pytest.raises(DockerNotFoundError) as caught:
        await docker.swarm.inspect()
    assert caught.value.message == "page not found"


async def test_the_20_10_flavour_speaks_api_1_41_and_its_messages() -> None:
    async with Docker(transport=FakeEngine(version="20.10.24")) as client:
        assert (await client.version())["ApiVersion"] == "1.41"
        container = await client.containers.run({"Image": "busybox", "Cmd": ["sleep", "9"]})
        with pytest.raises(DockerError) as caught:
            await container.delete()
        assert caught.value.message.startswith("You cannot remove a running container")
        await container.delete(force=True)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.5, "Less than a second"),
        (1, "1 second"),
        (59, "59 seconds"),
        (60, "About a minute"),
        (600, "10 minutes"),
        (3600, "About an hour"),
        (7200, "2 hours"),
        (3 * 86400, "3 days"),
        (20 * 86400, "2 weeks"),
        (90 * 86400, "3 months"),
        (800 * 86400, "2 years"),
    ],
)
def test_human_duration_rounds_like_the_daemon(seconds: float, text: str) -> None:
    assert human_duration(seconds) == text


@pytest.mark.parametrize(
    ("ref", "normal"),
    [
        ("busybox", "busybox:latest"),
        ("docker.io/library/busybox:1", "busybox:1"),
        ("localhost:5000/x", "localhost:5000/x:latest"),
        ("a/b@sha256:" + "0" * 64, "a/b@sha256:" + "0" * 64),
    ],
)
def test_references_are_normalised(ref: str, normal: str) -> None:
    assert normalize_reference(ref) == normal


async def test_output_a_killed_process_would_have_written_later_never_appears(
    docker: Docker,
) -> None:
    container = await docker.containers.run(
        {"Image": "busybox", "Cmd": ["sh", "-c", "echo early; sleep 600; echo late"]}
    )
    await container.kill()
    assert await container.log(stdout=True) == ["early\n"]
