"""Events follow from each action, in the daemon's order, on the fake and the real daemons."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from .conftest import Backend


async def events_since(
    backend: Backend, since: float, filters: dict[str, Any], settle: float = 1.0
) -> list[dict[str, Any]]:
    """The events from ``since`` until now (after ``settle`` seconds, which a loaded
    daemon needs to publish the last of them), filtered."""
    await asyncio.sleep(settle)
    until = time.time()
    stream = backend.docker.events.stream(since=since, until=until, filters=filters)
    # Docker may deliver one event twice (from its replay buffer and live, when it is
    # published while the request subscribes: seen once on Docker 26 under load, the
    # same timeNano twice); the same event twice is one event here
    events: list[dict[str, Any]] = []
    seen: set[tuple[Any, ...]] = set()
    async for event in stream:
        key = (event.get("timeNano"), event.get("Type"), event.get("Action"),
               (event.get("Actor") or {}).get("ID"))
        if key[0] is None or key not in seen:
            seen.add(key)
            events.append(event)
    return events


def actions(events: list[dict[str, Any]]) -> list[str]:
    return [event["Action"] for event in events]


async def container_actions(backend: Backend, since: float, container_id: str) -> list[str]:
    events = await events_since(
        backend, since, {"container": [container_id], "type": ["container"]}
    )
    return actions(events)


async def test_create_emits_create(backend: Backend) -> None:
    since = time.time() - 1
    container = await backend.create(["sleep", "600"])
    assert await container_actions(backend, since, container.id) == ["create"]


async def test_start_emits_start(backend: Backend) -> None:
    container = await backend.create(["sleep", "600"])
    since = time.time()
    await container.start()
    assert await container_actions(backend, since, container.id) == ["start"]


async def test_a_process_that_ends_emits_die_with_its_exit_code(backend: Backend) -> None:
    since = time.time() - 1
    container = await backend.run(["sh", "-c", "exit 5"])
    await container.wait(timeout=10)
    events = await events_since(
        backend, since, {"container": [container.id], "type": ["container"]}
    )
    assert actions(events) == ["create", "start", "die"]
    assert events[-1]["Actor"]["Attributes"]["exitCode"] == "5"


async def test_stop_emits_kill_kill_die_stop(backend: Backend) -> None:
    container = await backend.run(["sleep", "600"])
    since = time.time()
    await container.stop(t=0)
    events = await events_since(
        backend, since, {"container": [container.id], "type": ["container"]}
    )
    # Docker 26 logs the stop just before the die; 20.10 after it
    assert actions(events) == backend.msg(
        ["kill", "kill", "stop", "die"], ["kill", "kill", "die", "stop"]
    )
    assert [e["Actor"]["Attributes"].get("signal") for e in events[:2]] == ["15", "9"]
    die = next(e for e in events if e["Action"] == "die")
    assert die["Actor"]["Attributes"]["exitCode"] == "137"


async def test_kill_emits_kill_then_die(backend: Backend) -> None:
    container = await backend.run(["sleep", "600"])
    since = time.time()
    await container.kill()
    await container.wait(timeout=10)
    events = await events_since(
        backend, since, {"container": [container.id], "type": ["container"]}
    )
    assert actions(events) == ["kill", "die"]
    assert events[0]["Actor"]["Attributes"]["signal"] == "9"


async def test_pause_unpause_events(backend: Backend) -> None:
    container = await backend.run(["sleep", "600"])
    since = time.time()
    await container.pause()
    await container.unpause()
    assert await container_actions(backend, since, container.id) == ["pause", "unpause"]


async def test_restart_events(backend: Backend) -> None:
    container = await backend.run(["sleep", "600"])
    since = time.time()
    await container.restart(t=0)
    assert await container_actions(backend, since, container.id) == [
        "kill",
        "kill",
        *backend.msg(["stop", "die"], ["die", "stop"]),
        "start",
        "restart",
    ]


async def test_rename_event_has_the_old_name(backend: Backend) -> None:
    old = backend.make_name("old")
    container = await backend.create(["true"], name=old)
    since = time.time()
    new = backend.make_name("new")
    await container.rename(new)
    events = await events_since(
        backend, since, {"container": [container.id], "type": ["container"]}
    )
    assert actions(events) == ["rename"]
    assert events[0]["Actor"]["Attributes"]["oldName"] == "/" + old
    assert events[0]["Actor"]["Attributes"]["name"] == new


async def test_remove_emits_destroy(backend: Backend) -> None:
    container = await backend.create(["true"])
    since = time.time()
    await container.delete()
    assert await container_actions(backend, since, container.id) == ["destroy"]


async def test_force_remove_of_a_running_container(backend: Backend) -> None:
    container = await backend.run(["sleep", "600"])
    since = time.time()
    await container.delete(force=True)
    assert await container_actions(backend, since, container.id) == ["kill", "die", "destroy"]


async def test_container_event_attributes(backend: Backend) -> None:
    name = backend.make_name()
    since = time.time() - 1
    container = await backend.create(["true"], name=name, Labels={"team": "a"})
    [event] = await events_since(backend, since, {"container": [container.id]})
    assert event["Type"] == "container"
    assert event["Actor"]["ID"] == container.id
    assert event["Actor"]["Attributes"] == {"image": backend.image, "name": name, "team": "a"}
    assert event["scope"] == "local"
    assert isinstance(event["time"], int) and isinstance(event["timeNano"], int)
    assert event["status"] == "create" and event["id"] == container.id
    assert event["from"] == backend.image


async def test_network_connect_disconnect_around_a_run(backend: Backend) -> None:
    since = time.time() - 1
    container = await backend.run(["true"])
    await container.wait(timeout=10)
    events = await events_since(backend, since, {"type": ["network"], "network": ["bridge"]})
    events = [e for e in events if e["Actor"]["Attributes"].get("container") == container.id]
    assert actions(events) == ["connect", "disconnect"]
    assert all(e["Actor"]["Attributes"]["name"] == "bridge" for e in events)
    assert all(e["Actor"]["Attributes"]["container"] == container.id for e in events)


async def test_exec_events(backend: Backend) -> None:
    container = await backend.run(["sleep", "600"])
    since = time.time()
    execution = await container.exec(["sh", "-c", "exit 3"])
    async with execution.start() as stream:
        while await stream.read_out() is not None:
            pass
    await execution.wait(timeout=10)
    events = await events_since(
        backend, since, {"container": [container.id], "type": ["container"]}
    )
    assert actions(events) == ["exec_create: sh -c exit 3", "exec_start: sh -c exit 3", "exec_die"]
    # the command text is the path, a space and the arguments: "true " for no argument
    assert events[-1]["Actor"]["Attributes"]["exitCode"] == "3"
    assert events[-1]["Actor"]["Attributes"]["execID"] == execution.id


async def test_event_filter_matches_the_action_prefix(backend: Backend) -> None:
    container = await backend.run(["sleep", "600"])
    since = time.time()
    execution = await container.exec(["true"])
    await execution.start(detach=True)
    await execution.wait(timeout=10)
    events = await events_since(
        backend, since, {"container": [container.id], "event": ["exec_create"]}
    )
    assert actions(events) == ["exec_create: true "]


async def test_event_filter_by_label(backend: Backend) -> None:
    marker = backend.make_name("mark")
    since = time.time() - 1
    labelled = await backend.create(["true"], Labels={"mark": marker})
    await backend.create(["true"])
    events = await events_since(backend, since, {"label": [f"mark={marker}"]})
    assert [(e["Actor"]["ID"], e["Action"]) for e in events] == [(labelled.id, "create")]


async def test_event_filter_by_container_name(backend: Backend) -> None:
    name = backend.make_name()
    since = time.time() - 1
    container = await backend.create(["true"], name=name)
    events = await events_since(backend, since, {"container": [name]})
    assert [(e["Actor"]["ID"], e["Action"]) for e in events] == [(container.id, "create")]


async def test_volume_events(backend: Backend) -> None:
    name = backend.make_name("vol")
    since = time.time() - 1
    volume = await backend.docker.volumes.create({"Name": name})
    await volume.delete()
    events = await events_since(backend, since, {"type": ["volume"], "volume": [name]})
    assert actions(events) == ["create", "destroy"]
    assert events[0]["Actor"]["ID"] == name
    assert events[0]["Actor"]["Attributes"]["driver"] == "local"


async def test_network_create_destroy_events(backend: Backend) -> None:
    name = backend.make_name("net")
    since = time.time() - 1
    network = await backend.docker.networks.create({"Name": name})
    await network.delete()
    events = await events_since(backend, since, {"type": ["network"], "network": [network.id]})
    assert actions(events) == ["create", "destroy"]
    assert events[0]["Actor"]["Attributes"] == {"name": name, "type": "bridge"}


async def test_image_tag_and_untag_events(backend: Backend) -> None:
    repo = backend.make_name("img")
    image_id = (await backend.docker.images.inspect(backend.image))["Id"]
    since = time.time() - 1
    await backend.docker.images.tag(backend.image, repo, tag="v1")
    await backend.docker.images.delete(f"{repo}:v1")
    events = await events_since(backend, since, {"type": ["image"]})
    [tag] = [e for e in events if e["Actor"]["Attributes"].get("name") == f"{repo}:v1"]
    assert (tag["Action"], tag["Actor"]["ID"]) == ("tag", image_id)
    # an untag names the image id, not the reference
    later = events[events.index(tag) + 1 :]
    assert any(
        e["Action"] == "untag" and e["Actor"]["Attributes"] == {"name": image_id} for e in later
    )


async def test_live_events_arrive_while_following(backend: Backend) -> None:
    name = backend.make_name("live")
    seen: list[str] = []

    async def follow() -> None:
        async for event in backend.docker.events.stream(filters={"container": [name]}):
            seen.append(event["Action"])
            if event["Action"] == "destroy":
                return

    task = asyncio.ensure_future(follow())
    await asyncio.sleep(0.3)
    container = await backend.create(["true"], name=name)
    await container.start()
    await container.wait(timeout=10)
    await container.delete()
    await asyncio.wait_for(task, 10)
    assert seen == ["create", "start", "die", "destroy"]


async def test_an_unknown_event_filter_is_ignored(backend: Backend) -> None:
    since = time.time() - 1
    container = await backend.create(["true"])
    events = await events_since(backend, since, {"container": [container.id], "bogus": ["1"]})
    assert actions(events) == ["create"]
