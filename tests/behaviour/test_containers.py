"""Containers behave alike on the fake engine and on the real daemons."""

from __future__ import annotations

import asyncio
import re

import pytest

from aiodocker.exceptions import DockerConflictError, DockerError, DockerNotFoundError

from .conftest import Backend

NOT_RUNNING_CMD = ["sleep", "600"]


async def test_create_gives_a_64_hex_id_and_created_state(backend: Backend) -> None:
    container = await backend.create(NOT_RUNNING_CMD)
    assert re.fullmatch(r"[0-9a-f]{64}", container.id)
    info = await container.show()
    assert info["State"]["Status"] == "created"
    assert info["State"]["Running"] is False
    assert info["State"]["StartedAt"] == "0001-01-01T00:00:00Z"


async def test_create_keeps_name_with_slash(backend: Backend) -> None:
    name = backend.make_name("named")
    container = await backend.create(NOT_RUNNING_CMD, name=name)
    info = await container.show()
    assert info["Name"] == "/" + name


async def test_create_keeps_labels(backend: Backend) -> None:
    container = await backend.create(NOT_RUNNING_CMD, Labels={"team": "a", "tier": "web"})
    info = await container.show()
    assert info["Config"]["Labels"] == {"team": "a", "tier": "web"}


async def test_create_keeps_cmd_env_and_image(backend: Backend) -> None:
    container = await backend.create(["echo", "x"], Env=["A=1"])
    info = await container.show()
    assert info["Config"]["Cmd"] == ["echo", "x"]
    assert "A=1" in info["Config"]["Env"]
    assert info["Config"]["Image"] == backend.image
    assert info["Path"] == "echo" and info["Args"] == ["x"]
    image = await backend.docker.images.inspect(backend.image)
    assert info["Image"] == image["Id"]


async def test_create_without_cmd_uses_the_image_cmd(backend: Backend) -> None:
    container = await backend.create()
    info = await container.show()
    image = await backend.docker.images.inspect(backend.image)
    assert info["Config"]["Cmd"] == image["Config"]["Cmd"]


async def test_create_taken_name_is_409_with_the_daemons_message(backend: Backend) -> None:
    name = backend.make_name("taken")
    first = await backend.create(NOT_RUNNING_CMD, name=name)
    with pytest.raises(DockerConflictError) as caught:
        await backend.create(NOT_RUNNING_CMD, name=name)
    assert caught.value.status == 409
    assert caught.value.message == (
        f'Conflict. The container name "/{name}" is already in use by container '
        f'"{first.id}". You have to remove (or rename) that container to be able to reuse '
        "that name."
    )


@pytest.mark.parametrize("bad", ["bad name", "-leading", "a/b"])
async def test_create_invalid_name_is_400(backend: Backend, bad: str) -> None:
    with pytest.raises(DockerError) as caught:
        await backend.create(NOT_RUNNING_CMD, name=bad)
    assert caught.value.status == 400
    assert caught.value.message == (
        f"Invalid container name ({bad}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
    )


async def test_create_of_a_missing_image_is_404(backend: Backend) -> None:
    with pytest.raises(DockerNotFoundError) as caught:
        await backend.docker.containers.create(
            {"Image": "aiodocker-test/no-such-image:latest"}, name=backend.make_name()
        )
    assert caught.value.message == "No such image: aiodocker-test/no-such-image:latest"


@pytest.mark.parametrize("how", ["id", "short-id", "name"])
async def test_inspect_finds_by_id_prefix_and_name(backend: Backend, how: str) -> None:
    name = backend.make_name()
    container = await backend.create(NOT_RUNNING_CMD, name=name)
    ref = {"id": container.id, "short-id": container.id[:12], "name": name}[how]
    found = await backend.docker.containers.get(ref)
    assert found.id == container.id


async def test_inspect_missing_is_404_no_such_container(backend: Backend) -> None:
    name = backend.make_name("missing")
    with pytest.raises(DockerNotFoundError) as caught:
        await backend.docker.containers.get(name)
    assert caught.value.message == f"No such container: {name}"


async def test_start_makes_it_running_with_a_pid(backend: Backend) -> None:
    container = await backend.run(NOT_RUNNING_CMD)
    state = (await container.show())["State"]
    assert state["Status"] == "running" and state["Running"] is True
    assert state["Pid"] > 0
    assert state["StartedAt"] != "0001-01-01T00:00:00Z"


async def test_start_twice_is_not_an_error(backend: Backend) -> None:
    container = await backend.run(NOT_RUNNING_CMD)
    await container.start()
    assert (await container.show())["State"]["Running"] is True


async def test_start_of_missing_container_is_404(backend: Backend) -> None:
    with pytest.raises(DockerNotFoundError):
        await backend.docker.containers.container(backend.make_name()).start()


@pytest.mark.parametrize("code", [0, 1, 3, 42])
async def test_wait_returns_the_exit_code(backend: Backend, code: int) -> None:
    container = await backend.run(["sh", "-c", f"exit {code}"])
    result = await container.wait()
    assert result["StatusCode"] == code
    state = (await container.show())["State"]
    assert state["Status"] == "exited" and state["ExitCode"] == code


async def test_wait_of_stopped_container_returns_at_once(backend: Backend) -> None:
    container = await backend.run(["true"])
    await container.wait()
    result = await asyncio.wait_for(container.wait(), 5)
    assert result["StatusCode"] == 0


async def test_a_short_process_ends_by_itself(backend: Backend) -> None:
    container = await backend.run(["sleep", "0.3"])
    assert (await container.wait(timeout=10))["StatusCode"] == 0
    assert (await container.show())["State"]["Status"] == "exited"


async def test_stop_kills_a_sigterm_ignoring_pid1_with_137(backend: Backend) -> None:
    container = await backend.run(NOT_RUNNING_CMD)
    await container.stop(t=0)
    state = (await container.show())["State"]
    assert state["Status"] == "exited"
    assert state["ExitCode"] == 137
    assert state["FinishedAt"] != "0001-01-01T00:00:00Z"


async def test_stop_of_a_stopped_container_is_not_an_error(backend: Backend) -> None:
    container = await backend.run(["true"])
    await container.wait()
    await container.stop(t=0)
    assert (await container.show())["State"]["Status"] == "exited"


@pytest.mark.parametrize(("signal", "code"), [("SIGKILL", 137), ("9", 137), ("SIGINT", 130)])
async def test_kill_with_a_signal_sets_the_exit_code(
    backend: Backend, signal: str, code: int
) -> None:
    container = await backend.run(
        ["sh", "-c", "trap 'exit 130' INT; sleep 600 & wait"]
        if signal == "SIGINT"
        else NOT_RUNNING_CMD
    )
    if backend.is_fake and signal == "SIGINT":
        pass  # the fake's default: a signal other than SIGTERM ends the process with 128+n
    await container.kill(signal=signal)
    assert (await container.wait(timeout=10))["StatusCode"] == code


async def test_kill_of_a_stopped_container_is_409(backend: Backend) -> None:
    name = backend.make_name()
    container = await backend.create(NOT_RUNNING_CMD, name=name)
    with pytest.raises(DockerConflictError) as caught:
        await backend.docker.containers.container(name).kill()
    assert caught.value.message == backend.msg(
        f"cannot kill container: {name}: container {container.id} is not running",
        f"Cannot kill container: {name}: Container {container.id} is not running",
    )


async def test_restart_runs_it_again_with_a_new_start_time(backend: Backend) -> None:
    container = await backend.run(NOT_RUNNING_CMD)
    first = (await container.show())["State"]["StartedAt"]
    await container.restart(t=0)
    state = (await container.show())["State"]
    assert state["Running"] is True
    assert state["StartedAt"] != first


async def test_restart_of_an_exited_container_starts_it(backend: Backend) -> None:
    container = await backend.run(["true"])
    await container.wait()
    await container.restart(t=0)
    await container.wait()
    assert (await container.show())["State"]["StartedAt"] != "0001-01-01T00:00:00Z"


async def test_pause_and_unpause(backend: Backend) -> None:
    container = await backend.run(NOT_RUNNING_CMD)
    await container.pause()
    state = (await container.show())["State"]
    assert state["Status"] == "paused" and state["Paused"] is True and state["Running"] is True
    await container.unpause()
    state = (await container.show())["State"]
    assert state["Status"] == "running" and state["Paused"] is False


async def test_pause_of_a_created_container_is_409(backend: Backend) -> None:
    container = await backend.create(NOT_RUNNING_CMD)
    with pytest.raises(DockerConflictError) as caught:
        await container.pause()
    assert caught.value.message == backend.msg(
        f"container {container.id} is not running", f"Container {container.id} is not running"
    )


async def test_unpause_of_a_running_container_is_a_500(backend: Backend) -> None:
    container = await backend.run(NOT_RUNNING_CMD)
    with pytest.raises(DockerError) as caught:
        await container.unpause()
    assert caught.value.status == 500  # not a 409: the daemons answer so
    assert caught.value.message == f"Container {container.id} is not paused"


async def test_rename_changes_the_name(backend: Backend) -> None:
    container = await backend.create(NOT_RUNNING_CMD)
    new = backend.make_name("renamed")
    await container.rename(new)
    assert (await container.show())["Name"] == "/" + new
    assert (await backend.docker.containers.get(new)).id == container.id


async def test_rename_to_the_same_name_is_400(backend: Backend) -> None:
    name = backend.make_name()
    container = await backend.create(NOT_RUNNING_CMD, name=name)
    with pytest.raises(DockerError) as caught:
        await container.rename(name)
    assert caught.value.status == 400
    assert caught.value.message == "Renaming a container with the same name as its current name"


async def test_rename_to_a_taken_name_is_409(backend: Backend) -> None:
    taken = backend.make_name()
    other = await backend.create(NOT_RUNNING_CMD, name=taken)
    container = await backend.create(NOT_RUNNING_CMD)
    with pytest.raises(DockerConflictError) as caught:
        await container.rename(taken)
    assert f'"/{taken}" is already in use by container "{other.id}"' in caught.value.message


async def test_delete_removes_it(backend: Backend) -> None:
    container = await backend.create(NOT_RUNNING_CMD)
    await container.delete()
    with pytest.raises(DockerNotFoundError):
        await container.show()


async def test_delete_of_a_running_container_is_409(backend: Backend) -> None:
    container = await backend.run(NOT_RUNNING_CMD)
    name = (await container.show())["Name"]
    with pytest.raises(DockerConflictError) as caught:
        await container.delete()
    assert caught.value.message == backend.msg(
        f'cannot remove container "{name}": container is running: stop the container '
        "before removing or force remove",
        f"You cannot remove a running container {container.id}. Stop the container before "
        "attempting removal or force remove",
    )


async def test_delete_of_a_paused_container_is_409(backend: Backend) -> None:
    container = await backend.run(NOT_RUNNING_CMD)
    await container.pause()
    name = (await container.show())["Name"]
    with pytest.raises(DockerConflictError) as caught:
        await container.delete()
    assert caught.value.message == backend.msg(
        f'cannot remove container "{name}": container is paused and must be unpaused first',
        f"You cannot remove a paused container {container.id}. Unpause and then stop the "
        "container before attempting removal or force remove",
    )
    await container.delete(force=True)


async def test_force_delete_of_a_running_container(backend: Backend) -> None:
    container = await backend.run(NOT_RUNNING_CMD)
    await container.delete(force=True)
    with pytest.raises(DockerNotFoundError):
        await container.show()


async def test_delete_of_a_missing_container_is_404(backend: Backend) -> None:
    name = backend.make_name()
    with pytest.raises(DockerNotFoundError) as caught:
        await backend.docker.containers.container(name).delete()
    assert caught.value.message == f"No such container: {name}"


async def test_status_strings(backend: Backend) -> None:
    label = {"aiodocker.behaviour": backend.make_name()}
    created = await backend.create(NOT_RUNNING_CMD, Labels=label)
    running = await backend.run(NOT_RUNNING_CMD, Labels=label)
    exited = await backend.run(["sh", "-c", "exit 2"], Labels=label)
    await backend.exited(exited)
    paused = await backend.run(NOT_RUNNING_CMD, Labels=label)
    await paused.pause()
    listed = await backend.docker.containers.list(
        all=True, filters={"label": [f"aiodocker.behaviour={label['aiodocker.behaviour']}"]}
    )
    status = {c.id: (c["State"], c["Status"]) for c in listed}
    assert status[created.id] == ("created", "Created")
    assert status[running.id][0] == "running"
    assert re.fullmatch(r"Up (Less than a second|\d+ seconds?)", status[running.id][1])
    assert status[exited.id][0] == "exited"
    assert re.fullmatch(r"Exited \(2\) (Less than a second|\d+ seconds?) ago", status[exited.id][1])
    assert status[paused.id][0] == "paused"
    assert re.fullmatch(r"Up (Less than a second|\d+ seconds?) \(Paused\)", status[paused.id][1])


async def test_list_summary_fields(backend: Backend) -> None:
    name = backend.make_name()
    container = await backend.run(["sleep", "600"], name=name, Labels={"k": "v"})
    [summary] = await backend.docker.containers.list(filters={"name": [name]})
    assert summary["Id"] == container.id
    assert summary["Names"] == ["/" + name]
    assert summary["Image"] == backend.image
    assert summary["Command"] == "sleep 600"
    assert summary["Labels"] == {"k": "v"}
    assert isinstance(summary["Created"], int)


async def test_list_without_all_shows_running_only(backend: Backend) -> None:
    label = f"aiodocker.behaviour={backend.make_name()}"
    key, _, value = label.partition("=")
    running = await backend.run(NOT_RUNNING_CMD, Labels={key: value})
    await backend.create(NOT_RUNNING_CMD, Labels={key: value})
    listed = await backend.docker.containers.list(filters={"label": [label]})
    assert [c.id for c in listed] == [running.id]
    everything = await backend.docker.containers.list(all=True, filters={"label": [label]})
    assert len(everything) == 2


@pytest.mark.parametrize("status", ["created", "running", "exited", "paused"])
async def test_list_filter_status(backend: Backend, status: str) -> None:
    key, value = "aiodocker.behaviour", backend.make_name()
    made = {
        "created": await backend.create(NOT_RUNNING_CMD, Labels={key: value}),
        "running": await backend.run(NOT_RUNNING_CMD, Labels={key: value}),
        "exited": await backend.run(["true"], Labels={key: value}),
        "paused": await backend.run(NOT_RUNNING_CMD, Labels={key: value}),
    }
    await backend.exited(made["exited"])
    await made["paused"].pause()
    listed = await backend.docker.containers.list(
        all=True, filters={"label": [f"{key}={value}"], "status": [status]}
    )
    assert [c.id for c in listed] == [made[status].id]


async def test_list_filter_label_key_and_value(backend: Backend) -> None:
    key = "aiodocker.behaviour"
    value = backend.make_name()
    a = await backend.create(NOT_RUNNING_CMD, Labels={key: value, "colour": "red"})
    b = await backend.create(NOT_RUNNING_CMD, Labels={key: value, "colour": "blue"})
    by_value = await backend.docker.containers.list(
        all=True, filters={"label": [f"{key}={value}", "colour=red"]}
    )
    assert [c.id for c in by_value] == [a.id]
    by_key = await backend.docker.containers.list(
        all=True, filters={"label": [f"{key}={value}", "colour"]}
    )
    assert {c.id for c in by_key} == {a.id, b.id}


async def test_list_filter_id_prefix(backend: Backend) -> None:
    container = await backend.create(NOT_RUNNING_CMD)
    listed = await backend.docker.containers.list(all=True, filters={"id": [container.id[:16]]})
    assert [c.id for c in listed] == [container.id]


async def test_list_filter_name_is_a_substring_match(backend: Backend) -> None:
    name = backend.make_name("sub")
    container = await backend.create(NOT_RUNNING_CMD, name=name)
    listed = await backend.docker.containers.list(all=True, filters={"name": [name[-10:]]})
    assert [c.id for c in listed] == [container.id]


async def test_list_filter_exited_code(backend: Backend) -> None:
    key, value = "aiodocker.behaviour", backend.make_name()
    ok = await backend.run(["true"], Labels={key: value})
    bad = await backend.run(["false"], Labels={key: value})
    await backend.exited(ok)
    await backend.exited(bad)
    listed = await backend.docker.containers.list(
        all=True, filters={"label": [f"{key}={value}"], "exited": ["1"]}
    )
    assert [c.id for c in listed] == [bad.id]


async def test_list_filter_ancestor(backend: Backend) -> None:
    key, value = "aiodocker.behaviour", backend.make_name()
    container = await backend.create(NOT_RUNNING_CMD, Labels={key: value})
    listed = await backend.docker.containers.list(
        all=True, filters={"label": [f"{key}={value}"], "ancestor": [backend.image]}
    )
    assert [c.id for c in listed] == [container.id]


async def test_list_orders_newest_first_and_limit(backend: Backend) -> None:
    key, value = "aiodocker.behaviour", backend.make_name()
    first = await backend.create(NOT_RUNNING_CMD, Labels={key: value})
    second = await backend.create(NOT_RUNNING_CMD, Labels={key: value})
    listed = await backend.docker.containers.list(all=True, filters={"label": [f"{key}={value}"]})
    assert [c.id for c in listed] == [second.id, first.id]


async def test_list_unknown_filter_is_400(backend: Backend) -> None:
    with pytest.raises(DockerError) as caught:
        await backend.docker.containers.list(filters={"bogus": ["1"]})
    assert caught.value.status == 400
    assert caught.value.message == backend.msg("invalid filter 'bogus'", "Invalid filter 'bogus'")


async def test_list_bad_status_filter_is_400(backend: Backend) -> None:
    with pytest.raises(DockerError) as caught:
        await backend.docker.containers.list(filters={"status": ["bogus"]})
    assert caught.value.message == backend.msg(
        "invalid filter 'status=bogus'", "Invalid filter 'status=bogus'"
    )


async def test_prune_removes_stopped_labelled_containers(backend: Backend) -> None:
    key, value = "aiodocker.behaviour", backend.make_name()
    stopped = await backend.run(["true"], Labels={key: value})
    running = await backend.run(NOT_RUNNING_CMD, Labels={key: value})
    await backend.exited(stopped)
    result = await backend.docker.containers.prune(filters={"label": [f"{key}={value}"]})
    assert result["ContainersDeleted"] == [stopped.id]
    assert (await running.show())["State"]["Running"] is True


async def test_hostname_defaults_to_the_short_id(backend: Backend) -> None:
    container = await backend.create(NOT_RUNNING_CMD)
    assert (await container.show())["Config"]["Hostname"] == container.id[:12]


async def test_container_is_on_the_bridge_network(backend: Backend) -> None:
    container = await backend.run(NOT_RUNNING_CMD)
    networks = (await container.show())["NetworkSettings"]["Networks"]
    assert list(networks) == ["bridge"]
    assert networks["bridge"]["IPAddress"]


async def test_run_helper_creates_and_starts(backend: Backend) -> None:
    name = backend.make_name()
    container = await backend.docker.containers.run(
        {"Image": backend.image, "Cmd": NOT_RUNNING_CMD}, name=name
    )
    backend.containers.append(container)
    assert (await container.show())["State"]["Running"] is True
