"""Containers against the real daemon: every endpoint, its success and its errors."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest

import aiodocker
from aiodocker._core.request import Shape, build_path
from aiodocker.containers import DockerContainer
from aiodocker.exceptions import (
    DockerConflictError,
    DockerContainerError,
    DockerError,
    DockerNotFoundError,
)
from aiodocker.execs import Exec
from aiodocker.stream import Message

MakeContainer = Callable[..., Awaitable[DockerContainer]]

# PID 1 that exits at once on SIGTERM (busybox sleep as PID 1 would ignore it).
SLEEPER = ["sh", "-c", "trap 'exit 0' TERM; echo ready; sleep 300 & wait"]


@pytest.fixture
async def make_container(
    docker: aiodocker.Docker, image: str, make_name: Callable[..., str]
) -> AsyncIterator[MakeContainer]:
    """Create (and by default start) containers; force-remove them after the test."""
    created: list[DockerContainer] = []

    async def make(
        cmd: list[str] | None = None, *, start: bool = True, hint: str = "", **config: Any
    ) -> DockerContainer:
        body = {"Image": image, "Cmd": cmd or SLEEPER, **config}
        container = await docker.containers.create(body, name=make_name(hint))
        created.append(container)
        if start:
            await container.start()
        return container

    yield make
    for container in created:
        try:
            await container.delete(force=True, v=True)
        except DockerNotFoundError:
            pass


@pytest.fixture
def missing(docker: aiodocker.Docker, make_name: Callable[..., str]) -> DockerContainer:
    """A handle on a container that does not exist."""
    return docker.containers.container(make_name("missing"))


def assert_not_found(exc: pytest.ExceptionInfo[DockerError], container: DockerContainer) -> None:
    assert exc.value.status == 404
    assert container.id in exc.value.message


# --- DockerContainer itself ------------------------------------------------------


def test_container_id_comes_from_id_then_ID_then_Id(docker: aiodocker.Docker) -> None:
    assert DockerContainer(docker, id="a", ID="b", Id="c").id == "a"
    assert DockerContainer(docker, ID="b", Id="c").id == "b"
    container = DockerContainer(docker, Id="c", Name="/x")
    assert container.id == "c" and container._id == "c"
    assert container["Name"] == "/x" and "Name" in container and "State" not in container
    assert container.logs.container is container and container.docker is docker


def test_container_without_id_raises_value_error(docker: aiodocker.Docker) -> None:
    with pytest.raises(ValueError, match="explicit container ID"):
        DockerContainer(docker, Name="x")


# --- DockerContainers --------------------------------------------------------------


async def test_create_returns_a_container_that_only_knows_its_id(
    docker: aiodocker.Docker, image: str, make_container: MakeContainer
) -> None:
    container = await make_container(start=False)
    assert "id" in container and "Id" not in container
    info = await container.show()
    assert info["Id"] == container.id and info["State"]["Status"] == "created"
    assert "Id" in container


async def test_create_with_a_missing_image_raises_not_found(
    docker: aiodocker.Docker, make_name: Callable[..., str]
) -> None:
    with pytest.raises(DockerNotFoundError) as exc:
        await docker.containers.create(
            {"Image": "aiodocker-test/no-such-image:none"}, name=make_name("noimage")
        )
    assert "no-such-image" in exc.value.message


async def test_create_rejects_bad_arguments_before_any_request(
    docker: aiodocker.Docker,
) -> None:
    with pytest.raises(TypeError):
        await docker.containers.create([("Image", "x")])  # type: ignore[arg-type]


@pytest.mark.engine_difference(
    ("podman", "podman5"), "podman answers 500, not 400/409, for bad arguments, taken names and wrong states"
)
async def test_create_with_a_taken_name_raises_conflict(
    docker: aiodocker.Docker, image: str, make_container: MakeContainer
) -> None:
    container = await make_container(start=False)
    name = (await container.show())["Name"].lstrip("/")
    with pytest.raises(DockerConflictError):
        await docker.containers.create({"Image": image}, name=name)


async def test_list_returns_containers_built_from_list_entries(
    docker: aiodocker.Docker, make_container: MakeContainer, make_name: Callable[..., str]
) -> None:
    label = make_name("label")
    container = await make_container(start=False, Labels={label: "1"})
    running = await docker.containers.list(filters={"label": label})
    assert running == []
    found = await docker.containers.list(all=True, filters={"label": [label]})
    assert [c.id for c in found] == [container.id]
    assert isinstance(found[0], DockerContainer) and found[0]["Labels"] == {label: "1"}


@pytest.mark.engine_difference(
    ("podman", "podman5"), "podman answers 500, not 400/409, for bad arguments, taken names and wrong states"
)
async def test_list_with_an_invalid_filter_raises(docker: aiodocker.Docker) -> None:
    with pytest.raises(DockerError) as exc:
        await docker.containers.list(filters={"no-such-filter": "x"})
    assert exc.value.status == 400


async def test_get_returns_the_inspected_container(
    docker: aiodocker.Docker, make_container: MakeContainer
) -> None:
    container = await make_container(start=False)
    got = await docker.containers.get(container.id)
    assert got.id == container.id and got["Config"]["Cmd"] == SLEEPER


async def test_get_of_a_missing_container_raises_not_found_naming_it(
    docker: aiodocker.Docker, missing: DockerContainer
) -> None:
    with pytest.raises(DockerNotFoundError) as exc:
        await docker.containers.get(missing.id)
    assert_not_found(exc, missing)
    with pytest.raises(ValueError):
        await docker.containers.get("")


async def test_create_or_replace_keeps_an_identical_container_and_replaces_a_changed_one(
    docker: aiodocker.Docker, image: str, make_name: Callable[..., str]
) -> None:
    # As in aiodocker, "identical" compares the config with the inspect data, key by key.
    name = make_name("cor")
    config = {"Image": image, "Cmd": SLEEPER}
    first = await docker.containers.create_or_replace(name, config)
    try:
        await first.start()
        same = await docker.containers.create_or_replace(name, await first.show())
        assert same.id == first.id
        changed = await docker.containers.create_or_replace(name, config)
        assert changed.id != first.id
        with pytest.raises(DockerNotFoundError):
            await first.show()
        assert (await changed.show())["Name"] == f"/{name}"
    finally:
        await docker.containers.container(name).delete(force=True)


async def test_create_or_replace_rejects_bad_arguments(docker: aiodocker.Docker) -> None:
    with pytest.raises(TypeError):
        await docker.containers.create_or_replace("x", "config")  # type: ignore[arg-type]


async def test_run_creates_and_starts_a_container(
    docker: aiodocker.Docker, image: str, make_name: Callable[..., str]
) -> None:
    container = await docker.containers.run({"Image": image, "Cmd": SLEEPER}, name=make_name())
    try:
        assert (await container.show())["State"]["Running"] is True
    finally:
        await container.delete(force=True)


async def test_run_pulls_a_missing_image_then_creates(
    docker: aiodocker.Docker,
    image: str,
    make_name: Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    repo = make_name("pulled")
    pulls: list[tuple[str, Any]] = []

    async def fake_pull(name: str, *, auth: Any = None) -> list[dict[str, Any]]:
        # stands in for a registry: the "pulled" image is a tag of the test image
        pulls.append((name, auth))
        await docker._api.call(
            "POST", build_path("images/{}/tag", image), params={"repo": repo, "tag": "latest"}, expect=Shape.NOTHING
        )
        return []

    monkeypatch.setattr(docker.images, "pull", fake_pull)
    container = await docker.containers.run(
        {"Image": f"{repo}:latest", "Cmd": SLEEPER}, auth={"username": "u"}, name=make_name()
    )
    try:
        assert pulls == [(f"{repo}:latest", {"username": "u"})]
        assert (await container.show())["State"]["Running"] is True
    finally:
        await container.delete(force=True)
        await docker._api.call("DELETE", build_path("images/{}", f"{repo}:latest"), expect=Shape.OBJECTS)


async def test_run_start_failure_raises_container_error_with_the_id(
    docker: aiodocker.Docker, image: str, make_name: Callable[..., str]
) -> None:
    name = make_name("nostart")
    with pytest.raises(DockerContainerError) as exc:
        await docker.containers.run({"Image": image, "Cmd": ["/no/such/binary"]}, name=name)
    try:
        assert exc.value.container_id
        assert exc.value.status >= 400
        info = await docker.containers.get(exc.value.container_id)
        assert info["Name"] == f"/{name}"
    finally:
        await docker.containers.container(exc.value.container_id).delete(force=True)


def test_containers_exec_returns_an_exec_handle_without_a_request(
    docker: aiodocker.Docker,
) -> None:
    exe = docker.containers.exec("abc")
    assert isinstance(exe, Exec) and exe.id == "abc"


async def test_containers_exec_of_a_missing_exec_raises_not_found(
    docker: aiodocker.Docker,
) -> None:
    with pytest.raises(DockerNotFoundError):
        await docker.containers.exec("0" * 64).inspect()


async def test_prune_removes_only_stopped_containers_with_the_label(
    docker: aiodocker.Docker, make_container: MakeContainer, make_name: Callable[..., str]
) -> None:
    label = make_name("prune")
    stopped = await make_container(start=False, Labels={label: "1"})
    running = await make_container(Labels={label: "1"})
    result = await docker.containers.prune(filters={"label": [label]})
    assert result["ContainersDeleted"] == [stopped.id]
    with pytest.raises(DockerNotFoundError):
        await stopped.show()
    assert (await running.show())["State"]["Running"]


@pytest.mark.engine_difference(
    ("podman", "podman5"), "podman answers 500, not 400/409, for bad arguments, taken names and wrong states"
)
async def test_prune_with_an_invalid_filter_raises(docker: aiodocker.Docker) -> None:
    with pytest.raises(DockerError) as exc:
        await docker.containers.prune(filters={"no-such-filter": "x"})
    assert exc.value.status == 400
    with pytest.raises(TypeError):
        await docker.containers.prune(filters=["label=x"])  # type: ignore[arg-type]


# --- lifecycle ---------------------------------------------------------------------


async def test_show_refreshes_the_known_data(make_container: MakeContainer) -> None:
    container = await make_container(start=False)
    info = await container.show(size=True)
    assert container._container is info and "SizeRootFs" in info


@pytest.mark.engine_difference(("podman", "podman5"), "podman's 404 bodies do not name the missing object")
async def test_lifecycle_calls_on_a_missing_container_raise_not_found_naming_it(
    missing: DockerContainer,
) -> None:
    calls: list[Callable[[], Awaitable[Any]]] = [
        missing.show,
        missing.start,
        missing.stop,
        missing.restart,
        missing.kill,
        missing.wait,
        missing.delete,
        lambda: missing.rename("x-new-name"),
        missing.pause,
        missing.unpause,
        missing.top,
        missing.changes,
        lambda: missing.update(CpuShares=512),
        lambda: missing.resize(h=10, w=10),
        lambda: missing.commit(),
        lambda: missing.port(80),
        lambda: missing.exec(["true"]),
        missing.wait_exit,
    ]
    for call in calls:
        with pytest.raises(DockerNotFoundError) as exc:
            await call()
        assert_not_found(exc, missing)


async def test_start_then_stop_changes_the_running_state(make_container: MakeContainer) -> None:
    container = await make_container(start=False)
    await container.start()
    assert (await container.show())["State"]["Running"] is True
    await container.wait_for_log("^ready$", timeout=30)  # the TERM trap is set
    await container.stop(t=5)
    state = (await container.show())["State"]
    assert state["Running"] is False and state["ExitCode"] == 0


@pytest.mark.engine_difference("docker26", "API 1.45 has stop's signal: no gate to hit")
async def test_stop_rejects_bad_arguments_before_any_request(
    make_container: MakeContainer, missing: DockerContainer
) -> None:
    with pytest.raises(TypeError):
        await missing.stop(t="5")  # type: ignore[arg-type]
    container = await make_container()
    # signal (API 1.42) goes to the 1.41 test daemon as 0.27 sends it; it answers
    await container.stop(signal="SIGINT", t=1)
    assert (await container.show())["State"]["Running"] is False


async def test_restart_starts_the_container_again(make_container: MakeContainer) -> None:
    container = await make_container()
    before = (await container.show())["State"]["StartedAt"]
    await container.restart(t=1)
    state = (await container.show())["State"]
    assert state["Running"] is True and state["StartedAt"] != before


async def test_kill_sends_the_signal(make_container: MakeContainer) -> None:
    container = await make_container()
    await container.kill(signal="SIGKILL")
    assert (await container.wait())["StatusCode"] == 137


@pytest.mark.engine_difference(
    "podman", "podman answers 500, not 400/409, for bad arguments, taken names and wrong states"
)
async def test_kill_of_a_stopped_container_raises_conflict(make_container: MakeContainer) -> None:
    container = await make_container(start=False)
    with pytest.raises(DockerConflictError):
        await container.kill()
    with pytest.raises(TypeError):
        await container.kill(signal=1.5)  # type: ignore[arg-type]


async def test_wait_returns_the_status_code(make_container: MakeContainer) -> None:
    container = await make_container(["sh", "-c", "exit 3"])
    result = await container.wait(condition="not-running", timeout=30)
    assert result["StatusCode"] == 3


async def test_wait_sends_any_condition_to_the_daemon(missing: DockerContainer) -> None:
    # not refused locally: the daemon answers (20.10 looks the container up first,
    # Docker 26 and podman check the condition first)
    with pytest.raises(DockerError) as info:
        await missing.wait(condition="whenever")
    assert info.value.status in (400, 404)


async def test_delete_removes_the_container(make_container: MakeContainer) -> None:
    container = await make_container(start=False)
    await container.delete(v=True)
    with pytest.raises(DockerNotFoundError):
        await container.show()


@pytest.mark.engine_difference(
    ("podman", "podman5"), "podman answers 500, not 400/409, for bad arguments, taken names and wrong states"
)
async def test_delete_of_a_running_container_without_force_raises_conflict(
    make_container: MakeContainer,
) -> None:
    container = await make_container()
    with pytest.raises(DockerConflictError):
        await container.delete()
    await container.delete(force=True)
    with pytest.raises(DockerNotFoundError):
        await container.show()


async def test_rename_changes_the_name(
    make_container: MakeContainer, make_name: Callable[..., str]
) -> None:
    container = await make_container(start=False)
    new_name = make_name("renamed")
    await container.rename(new_name)
    assert (await container.show())["Name"] == f"/{new_name}"


async def test_rename_to_an_empty_name_is_refused_by_the_daemon(
    make_container: MakeContainer,
) -> None:
    container = await make_container(start=False)
    with pytest.raises(DockerError) as info:
        await container.rename("")
    assert info.value.status in (400, 500)  # podman answers 500 for bad arguments


async def test_pause_and_unpause_freeze_and_resume(make_container: MakeContainer) -> None:
    container = await make_container()
    await container.pause()
    assert (await container.show())["State"]["Paused"] is True
    await container.unpause()
    # dockerd 20.10 sets Paused again when containerd's "paused" event is handled
    # after the unpause answered (seen under load): the state settles within moments
    for _ in range(50):
        if (await container.show())["State"]["Paused"] is False:
            break
        await asyncio.sleep(0.1)
    assert (await container.show())["State"]["Paused"] is False


@pytest.mark.engine_difference(
    ("podman", "podman5"), "podman answers 500, not 400/409, for bad arguments, taken names and wrong states"
)
async def test_pause_of_a_stopped_container_raises_conflict(
    make_container: MakeContainer,
) -> None:
    container = await make_container(start=False)
    with pytest.raises(DockerConflictError):
        await container.pause()
    with pytest.raises(DockerError):
        await container.unpause()


@pytest.mark.engine_difference("podman", "podman's top returns the ps output as one column")
async def test_top_lists_processes_with_ps_args(make_container: MakeContainer) -> None:
    container = await make_container()
    result = await container.top(ps_args="-o pid,comm")
    assert result["Titles"] == ["PID", "COMMAND"]
    assert any("sleep" in row[-1] for row in result["Processes"])


@pytest.mark.engine_difference("podman", "podman's top of a stopped container succeeds")
@pytest.mark.engine_difference("podman5", "podman 5 refuses top of a stopped container with 500, not 409")
async def test_top_of_a_stopped_container_raises_conflict(make_container: MakeContainer) -> None:
    container = await make_container(start=False)
    with pytest.raises(DockerConflictError):
        await container.top()


async def test_port_returns_host_bindings(make_container: MakeContainer) -> None:
    container = await make_container(
        ExposedPorts={"80/tcp": {}, "53/udp": {}},
        HostConfig={
            "PortBindings": {
                "80/tcp": [{"HostIp": "127.0.0.1", "HostPort": ""}],
                "53/udp": [{"HostIp": "127.0.0.1", "HostPort": ""}],
            }
        },
    )
    tcp = await container.port(80)
    assert tcp and tcp[0]["HostIp"] == "127.0.0.1" and int(tcp[0]["HostPort"]) > 0
    udp = await container.port("53")
    assert udp and int(udp[0]["HostPort"]) > 0
    assert await container.port("53/udp") == udp
    assert await container.port(8080) is None


@pytest.mark.engine_difference("podman", "podman's stats entries have no 'id'")
async def test_stats_streams_dicts_or_returns_one(make_container: MakeContainer) -> None:
    container = await make_container()
    one = await container.stats(stream=False)
    assert isinstance(one, list) and len(one) == 1 and "memory_stats" in one[0]
    stream = container.stats(stream=True)
    async with stream:
        async for item in stream:
            assert item["id"] == container.id
            break
    assert stream.response is None  # released on leaving


@pytest.mark.engine_difference("podman", "podman's 404 bodies do not name the missing object")
async def test_stats_of_a_missing_container_raises_not_found(missing: DockerContainer) -> None:
    with pytest.raises(DockerNotFoundError) as exc:
        await missing.stats(stream=False)
    assert_not_found(exc, missing)
    with pytest.raises(DockerNotFoundError):
        async for _ in missing.stats():
            pass


async def test_resize_sets_the_tty_size(make_container: MakeContainer) -> None:
    container = await make_container(["sh", "-c", "sleep 1; stty size; sleep 300"], Tty=True)
    await container.resize(h=33, w=101)
    assert await container.wait_for_log(r"^\d+ \d+$", timeout=30) == "33 101"


async def test_resize_rejects_bad_sizes_before_any_request(missing: DockerContainer) -> None:
    with pytest.raises(ValueError):
        await missing.resize(h=0, w=10)
    with pytest.raises(TypeError):
        await missing.resize(h=10, w="80")  # type: ignore[arg-type]


async def test_changes_lists_added_files(make_container: MakeContainer) -> None:
    container = await make_container(["sh", "-c", "touch /added-file; sleep 300"])
    for _ in range(50):
        changes = await container.changes()
        if any(change["Path"] == "/added-file" for change in changes):
            break
        await asyncio.sleep(0.1)
    assert {"Path": "/added-file", "Kind": 1} in changes


@pytest.mark.engine_difference("podman", "podman 4.3 has no POST /containers/{id}/update")
async def test_update_changes_resource_limits(make_container: MakeContainer) -> None:
    container = await make_container()
    result = await container.update(
        {"CpuShares": 512}, RestartPolicy={"Name": "on-failure", "MaximumRetryCount": 2}
    )
    assert "Warnings" in result
    host_config = (await container.show())["HostConfig"]
    assert host_config["CpuShares"] == 512
    assert host_config["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 2}


@pytest.mark.engine_difference("podman", "podman 4.3 has no POST /containers/{id}/update")
async def test_update_rejects_bad_arguments(
    make_container: MakeContainer, missing: DockerContainer
) -> None:
    with pytest.raises(ValueError):
        await missing.update()
    with pytest.raises(TypeError):
        await missing.update("CpuShares=1")  # type: ignore[arg-type]
    container = await make_container()
    with pytest.raises(DockerError) as exc:
        await container.update(CpuShares="lots")
    assert exc.value.status >= 400 and "CpuShares" in exc.value.message


@pytest.mark.engine_difference(
    "podman", "podman's commit wants a JSON body (Decode(): EOF without one)"
)
@pytest.mark.engine_difference(
    "podman5", "podman 5's commit answers the image ID without 'sha256:', its inspect with it"
)
async def test_commit_creates_an_image(
    docker: aiodocker.Docker, make_container: MakeContainer, make_name: Callable[..., str]
) -> None:
    container = await make_container(["sh", "-c", "echo hi > /committed; sleep 300"])
    await asyncio.sleep(0.3)
    repo = make_name("commit")
    result = await container.commit(
        repository=repo,
        tag="v1",
        message="a message",
        author="someone",
        changes=["ENV COMMITTED=1", "LABEL made=by-test"],
    )
    try:
        image = await docker._api.call("GET", build_path("images/{}/json", f"{repo}:v1"), expect=Shape.OBJECT)
        assert image["Id"] == result["Id"]
        assert image["Comment"] == "a message" and image["Author"] == "someone"
        assert "COMMITTED=1" in image["Config"]["Env"]
        assert image["Config"]["Labels"]["made"] == "by-test"
    finally:
        await docker._api.call("DELETE", build_path("images/{}", f"{repo}:v1"), expect=Shape.OBJECTS)


async def test_commit_sends_a_tag_without_repository_as_027(missing: DockerContainer) -> None:
    with pytest.raises(DockerError) as info:  # not refused locally: the daemon answered
        await missing.commit(tag="v1")
    assert info.value.status in (404, 500)  # podman fails to decode the missing body: 500


# --- attach, exec, websocket -------------------------------------------------------


@pytest.mark.engine_difference(
    "podman", "podman's hijacked exec/attach stream carries a stray newline before the frames"
)
async def test_attach_keeps_stdout_and_stderr_apart(make_container: MakeContainer) -> None:
    container = await make_container(["sh", "-c", "echo out; echo err >&2; sleep 1"])
    messages: list[Message] = []
    async with container.attach(stdout=True, stderr=True, logs=True) as stream:
        while (message := await stream.read_out()) is not None:
            messages.append(message)
    by_stream: dict[int, bytes] = {}
    for message in messages:
        by_stream[message.stream] = by_stream.get(message.stream, b"") + message.data
    assert by_stream == {1: b"out\n", 2: b"err\n"}


async def test_attach_to_a_missing_container_raises_not_found(missing: DockerContainer) -> None:
    with pytest.raises(DockerNotFoundError) as exc:
        async with missing.attach(stdout=True):
            pass
    assert_not_found(exc, missing)


async def test_attach_stdin_round_trips_through_cat(make_container: MakeContainer) -> None:
    container = await make_container(["cat"], OpenStdin=True, StdinOnce=True, AttachStdin=True)
    async with container.attach(stdin=True, stdout=True, stderr=True) as stream:
        await stream.write_in(b"hello\n")
        await stream.write_eof()
        out = b""
        while (message := await stream.read_out()) is not None:
            out += message.data
    assert out == b"hello\n"


async def test_exec_runs_a_command_and_returns_an_exec(make_container: MakeContainer) -> None:
    container = await make_container()
    exe = await container.exec(
        "sh -c 'echo $GREETING from $(pwd) as $(id -u)'",
        environment={"GREETING": "hello"},
        workdir="/tmp",
        user="1000",
    )
    assert isinstance(exe, Exec)
    async with exe.start() as stream:
        out = b""
        while (message := await stream.read_out()) is not None:
            out += message.data
    assert out == b"hello from /tmp as 1000\n"
    info = await exe.inspect()
    assert info["ProcessConfig"]["entrypoint"] == "sh" and info["ExitCode"] == 0


async def test_exec_positional_arguments_follow_aiodocker_order(
    make_container: MakeContainer,
) -> None:
    container = await make_container()
    exe = await container.exec(["true"], True, False, False, True)
    info = await exe.inspect()
    assert info["OpenStdout"] is True and info["OpenStderr"] is False
    assert info["ProcessConfig"]["tty"] is True


async def test_exec_rejects_wrong_types_and_leaves_values_to_the_daemon(
    make_container: MakeContainer, missing: DockerContainer
) -> None:
    container = await make_container()
    with pytest.raises(DockerError) as info:
        await container.exec("")
    # "No exec command specified", the daemon's words (podman answers 500)
    assert info.value.status in (400, 500)
    for kwargs in ({"stdout": False, "stderr": True, "tty": True}, {"detach_keys": "ctrl-x"}):
        assert (await container.exec(["ls"], **kwargs)).id  # 0.27 sends these as given
    with pytest.raises(TypeError):
        await missing.exec(["ls", 1])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        await missing.exec(["ls"], environment="A=1")


@pytest.mark.engine_difference(
    ("podman", "podman5"), "podman answers 500, not 400/409, for bad arguments, taken names and wrong states"
)
async def test_exec_in_a_stopped_container_raises_conflict(make_container: MakeContainer) -> None:
    container = await make_container(start=False)
    with pytest.raises(DockerConflictError):
        await container.exec(["true"])


@pytest.mark.engine_difference(("podman", "podman5"), "podman has no GET /containers/{id}/attach/ws")
async def test_websocket_attaches_stdio(make_container: MakeContainer) -> None:
    container = await make_container(["cat"], OpenStdin=True, Tty=True)
    ws = await container.websocket()
    try:
        await ws.send_bytes(b"ping\n")
        received = b""
        deadline = time.monotonic() + 10
        while b"ping" not in received and time.monotonic() < deadline:
            message = await asyncio.wait_for(ws.receive(), 10)
            data = message.data
            received += data if isinstance(data, bytes) else str(data).encode()
        assert b"ping" in received
    finally:
        await ws.close()


@pytest.mark.engine_difference(("podman", "podman5"), "podman has no GET /containers/{id}/attach/ws")
async def test_websocket_keywords_replay_the_logs_and_end_without_stream(
    make_container: MakeContainer,
) -> None:
    container = await make_container(["sh", "-c", "echo early-output; sleep 60"])
    for _ in range(200):
        if "early-output" in "".join(await container.log(stdout=True)):
            break
        await asyncio.sleep(0.05)
    # logs=True replays what was printed before; stream=False ends the websocket after it
    ws = await container.websocket(stdout=True, logs=True, stream=False)
    received = b""
    try:
        while True:
            message = await asyncio.wait_for(ws.receive(), 10)
            if message.type not in (aiohttp.WSMsgType.BINARY, aiohttp.WSMsgType.TEXT):
                break
            data = message.data
            received += data if isinstance(data, bytes) else str(data).encode()
    finally:
        await ws.close()
    assert b"early-output" in received


async def test_websocket_to_a_missing_container_raises_not_found(
    missing: DockerContainer,
) -> None:
    with pytest.raises(DockerNotFoundError) as exc:
        await missing.websocket()
    assert_not_found(exc, missing)


# --- readiness helpers -------------------------------------------------------------


async def test_wait_exit_returns_the_exit_code(make_container: MakeContainer) -> None:
    container = await make_container(["sh", "-c", "sleep 0.3; exit 7"])
    assert await container.wait_exit(timeout=30) == 7


async def test_wait_exit_times_out(make_container: MakeContainer) -> None:
    container = await make_container()
    start = time.monotonic()
    with pytest.raises(TimeoutError):
        await container.wait_exit(timeout=0.3)
    assert time.monotonic() - start < 5
    assert (await container.show())["State"]["Running"]


HEALTHCHECK = {"Interval": 100_000_000, "Timeout": 1_000_000_000, "Retries": 1}


@pytest.mark.engine_difference(
    ("podman", "podman5"), "podman runs healthchecks from systemd timers, absent here"
)
async def test_wait_healthy_returns_once_healthy(make_container: MakeContainer) -> None:
    container = await make_container(
        ["sh", "-c", "sleep 0.5; touch /ready; sleep 300"],
        Healthcheck={"Test": ["CMD-SHELL", "test -e /ready"], **HEALTHCHECK, "Retries": 100},
    )
    info = await container.wait_healthy(timeout=30)
    assert info["State"]["Health"]["Status"] == "healthy"


@pytest.mark.engine_difference(
    ("podman", "podman5"), "podman runs healthchecks from systemd timers, absent here"
)
async def test_wait_healthy_raises_when_unhealthy(make_container: MakeContainer) -> None:
    container = await make_container(
        Healthcheck={"Test": ["CMD-SHELL", "echo broken; exit 1"], **HEALTHCHECK}
    )
    with pytest.raises(DockerContainerError, match="unhealthy: broken") as exc:
        await container.wait_healthy(timeout=30)
    assert exc.value.container_id == container.id


@pytest.mark.engine_difference(
    "podman", "podman runs healthchecks from systemd timers, absent here"
)
async def test_wait_healthy_raises_without_a_healthcheck(make_container: MakeContainer) -> None:
    container = await make_container()
    with pytest.raises(DockerContainerError, match="no healthcheck"):
        await container.wait_healthy(timeout=30)


async def test_wait_healthy_raises_when_the_container_exits(
    make_container: MakeContainer,
) -> None:
    container = await make_container(
        ["sh", "-c", "exit 4"],
        Healthcheck={"Test": ["CMD-SHELL", "true"], "Interval": 10_000_000_000},
    )
    await container.wait()
    with pytest.raises(DockerContainerError, match="exit code 4"):
        await container.wait_healthy(timeout=30)


async def test_wait_healthy_times_out(make_container: MakeContainer) -> None:
    container = await make_container(
        Healthcheck={"Test": ["CMD-SHELL", "true"], "Interval": 60_000_000_000},
    )
    with pytest.raises(TimeoutError):
        await container.wait_healthy(timeout=0.5)


async def test_wait_for_log_returns_the_matching_line(make_container: MakeContainer) -> None:
    container = await make_container(
        ["sh", "-c", "echo starting; sleep 0.3; echo 'listening on port 8080' >&2; sleep 300"]
    )
    line = await container.wait_for_log(r"listening on port \d+", timeout=30)
    assert line == "listening on port 8080"


async def test_wait_for_log_raises_when_the_container_exits_without_a_match(
    make_container: MakeContainer,
) -> None:
    container = await make_container(["sh", "-c", "echo nothing here"])
    with pytest.raises(DockerContainerError, match="no output line matched"):
        await container.wait_for_log("ready", timeout=30)


async def test_wait_for_log_times_out(make_container: MakeContainer) -> None:
    container = await make_container()
    with pytest.raises(TimeoutError):
        await container.wait_for_log("never", timeout=0.3)
    with pytest.raises(TypeError):
        await container.wait_for_log(42, timeout=0.3)  # type: ignore[arg-type]
