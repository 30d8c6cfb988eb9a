"""Services and tasks against a real two-node swarm: replicas, logs, update, rollback.

The last tests use the fake daemon (no swarm needed) to see the ``X-Registry-Auth``
header that service creation sends, which a real daemon never shows back.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import pytest_asyncio

import aiodocker
from aiodocker._core.request import Shape, build_path
from aiodocker.exceptions import DockerError, DockerNotFoundError
from tests.fakedaemon import VERSION_1_41, FakeDaemon, Request, http_response

if TYPE_CHECKING:
    from swarm_fixtures import SwarmCluster

pytest_plugins = ["swarm_fixtures"]
pytestmark = [pytest.mark.swarm, pytest.mark.asyncio(loop_scope="session")]

SECOND: int = 1_000_000_000  # nanoseconds
# Update and roll back both tasks at once, and watch them for 1 s only: converges fast.
FAST_UPDATES: dict[str, Any] = {
    "Parallelism": 2,
    "Delay": 0,
    "Monitor": SECOND,
    "FailureAction": "pause",
}
TICKER = 'i=0; while true; do i=$((i+1)); echo "tick $i $GREETING $(hostname)"; sleep 1; done'
LINE = re.compile(r"^tick (\d+) hello (\S+)\n$")


def ticker_template(image: str) -> dict[str, Any]:
    return {
        "ContainerSpec": {
            "Image": image,
            "Command": ["sh", "-c", TICKER],
            "Env": {"GREETING": "hello"},
            "StopGracePeriod": SECOND,
        },
        "RestartPolicy": {"Condition": "any", "Delay": SECOND},
    }


async def running_tasks(swarm: SwarmCluster, service: str) -> list[dict[str, Any]]:
    tasks = await swarm.manager.tasks.list(filters={"service": service, "desired-state": "running"})
    return [task for task in tasks if task["Status"]["State"] == "running"]


async def converge(swarm: SwarmCluster, service: str, image: str, count: int) -> list[Any]:
    """Wait until exactly ``count`` tasks of ``service`` run ``image``; return them."""

    async def converged() -> list[dict[str, Any]]:
        tasks = await swarm.manager.tasks.list(
            filters={"service": service, "desired-state": "running"}
        )
        if len(tasks) != count:
            return []
        if all(
            task["Status"]["State"] == "running" and task["Spec"]["ContainerSpec"]["Image"] == image
            for task in tasks
        ):
            return tasks
        return []

    return await swarm.wait_for(
        converged, what=f"{count} tasks of {service} running {image}", timeout=180
    )


async def create_network(swarm: SwarmCluster, name: str) -> str:
    result = await swarm.manager._api.call(
        "POST",
        "networks/create",
        json_body={"Name": name, "Driver": "overlay", "Attachable": True}, expect=Shape.OBJECT,
    )
    return str(result["Id"])


async def delete_service(swarm: SwarmCluster, name: str) -> None:
    try:
        await swarm.manager.services.delete(name)
    except DockerNotFoundError:
        pass


class Ticker:
    """The service most tests share: 2 replicas printing numbered lines."""

    def __init__(self, name: str, network: str, template: dict[str, Any], result: Any) -> None:
        self.name = name
        self.network = network
        self.template = template
        self.template_before = copy.deepcopy(template)
        self.result = result


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def ticker(swarm: SwarmCluster) -> AsyncIterator[Ticker]:
    name = swarm.name("ticker")
    network = swarm.name("net")
    network_id = await create_network(swarm, network)
    template = ticker_template(swarm.image)
    try:
        result = await swarm.manager.services.create(
            template,
            name=name,
            labels={"aiodocker.test": "ticker"},
            mode={"Replicated": {"Replicas": 2}},
            update_config=FAST_UPDATES,
            rollback_config=FAST_UPDATES,
            networks=[network],
            endpoint_spec={"Mode": "vip"},
        )
        await converge(swarm, name, swarm.image, 2)
        yield Ticker(name, network_id, template, result)
    finally:
        await delete_service(swarm, name)
        await swarm.wait_for(
            lambda: _no_tasks(swarm, name), what=f"the tasks of {name} to go", timeout=60
        )
        try:
            await swarm.manager._api.call("DELETE", build_path("networks/{}", network_id), expect=Shape.NOTHING)
        except DockerError:
            pass


async def _no_tasks(swarm: SwarmCluster, service: str) -> bool:
    try:
        return not await swarm.manager.tasks.list(filters={"service": service})
    except DockerError:
        return True


# --- create --------------------------------------------------------------------


async def test_services_create_runs_two_replicas_one_on_each_node(
    swarm: SwarmCluster, ticker: Ticker
) -> None:
    assert set(ticker.result) >= {"ID"}
    tasks = await running_tasks(swarm, ticker.name)
    assert len(tasks) == 2
    assert {task["NodeID"] for task in tasks} == {swarm.manager_node_id, swarm.worker_node_id}


async def test_services_create_sends_every_aiodocker_argument(
    swarm: SwarmCluster, ticker: Ticker
) -> None:
    service = await swarm.manager.services.inspect(ticker.name)
    spec = service["Spec"]
    assert service["ID"] == ticker.result["ID"]
    assert spec["Name"] == ticker.name
    assert spec["Labels"] == {"aiodocker.test": "ticker"}
    assert spec["Mode"] == {"Replicated": {"Replicas": 2}}
    assert spec["UpdateConfig"]["Parallelism"] == 2
    assert spec["RollbackConfig"]["Monitor"] == SECOND
    assert spec["EndpointSpec"]["Mode"] == "vip"
    networks = spec.get("TaskTemplate", {}).get("Networks") or spec.get("Networks")
    assert [net["Target"] for net in networks] == [ticker.network]


async def test_services_create_sends_env_as_key_value_strings_without_changing_the_callers_dict(
    swarm: SwarmCluster, ticker: Ticker
) -> None:
    service = await swarm.manager.services.inspect(ticker.name)
    assert service["Spec"]["TaskTemplate"]["ContainerSpec"]["Env"] == ["GREETING=hello"]
    assert ticker.template == ticker.template_before


async def test_services_create_checks_the_image_and_the_registry_before_any_request(
    swarm: SwarmCluster,
) -> None:
    with pytest.raises(KeyError, match="Image"):
        await swarm.manager.services.create({"ContainerSpec": {"Command": ["true"]}})
    with pytest.raises(KeyError, match="registry"):
        await swarm.manager.services.create(
            ticker_template(swarm.image), auth={"username": "u", "password": "p"}
        )
    with pytest.raises(ValueError, match="task_template or spec"):
        await swarm.manager.services.create(
            ticker_template(swarm.image), spec={"TaskTemplate": ticker_template(swarm.image)}
        )
    with pytest.raises(ValueError, match="Image"):  # MissingFieldError is a ValueError too
        await swarm.manager.services.create(spec={"TaskTemplate": {"ContainerSpec": {}}})


async def test_services_create_with_a_taken_name_fails_with_409(
    swarm: SwarmCluster, ticker: Ticker
) -> None:
    with pytest.raises(DockerError) as caught:
        await swarm.manager.services.create(ticker_template(swarm.image), name=ticker.name)
    assert caught.value.status == 409


async def test_services_create_from_a_whole_spec_with_keyword_overrides(
    swarm: SwarmCluster,
) -> None:
    name = swarm.name("global")
    spec = {
        "Name": "overridden-by-the-keyword",
        "Labels": {"aiodocker.test": "spec"},
        "TaskTemplate": ticker_template(swarm.image),
        "Mode": {"Global": {}},
        "EndpointSpec": {"Mode": "dnsrr"},
    }
    before = copy.deepcopy(spec)
    try:
        result = await swarm.manager.services.create(spec=spec, name=name)
        assert spec == before
        service = await swarm.manager.services.inspect(result["ID"])
        assert service["Spec"]["Name"] == name
        assert service["Spec"]["Mode"] == {"Global": {}}
        assert service["Spec"]["EndpointSpec"]["Mode"] == "dnsrr"
        assert service["Spec"]["TaskTemplate"]["ContainerSpec"]["Env"] == ["GREETING=hello"]
        tasks = await converge(swarm, name, swarm.image, 2)  # global: one task per node
        assert {task["NodeID"] for task in tasks} == {swarm.manager_node_id, swarm.worker_node_id}

        # update(spec=...): a whole new spec
        new_spec = copy.deepcopy(service["Spec"])
        new_spec["Labels"] = {"aiodocker.test": "spec-updated"}
        new_spec["TaskTemplate"]["ContainerSpec"]["Env"] = {"GREETING": "bonjour"}
        assert await swarm.manager.services.update(name, service["Version"]["Index"], spec=new_spec)
        updated = await swarm.manager.services.inspect(name)
        assert updated["Spec"]["Labels"] == {"aiodocker.test": "spec-updated"}
        assert updated["Spec"]["TaskTemplate"]["ContainerSpec"]["Env"] == ["GREETING=bonjour"]

        # a stale version is refused
        with pytest.raises(DockerError) as caught:
            await swarm.manager.services.update(name, service["Version"]["Index"], spec=new_spec)
        assert "out of sequence" in caught.value.message
    finally:
        await delete_service(swarm, name)


# --- list, inspect ---------------------------------------------------------------


async def test_services_list_filters_by_name_and_label(swarm: SwarmCluster, ticker: Ticker) -> None:
    by_name = await swarm.manager.services.list(filters={"name": ticker.name})
    assert [service["Spec"]["Name"] for service in by_name] == [ticker.name]
    by_label = await swarm.manager.services.list(filters={"label": "aiodocker.test=ticker"})
    assert [service["Spec"]["Name"] for service in by_label] == [ticker.name]
    assert ticker.name in {
        service["Spec"]["Name"] for service in await swarm.manager.services.list()
    }


async def test_services_list_with_an_unknown_filter_fails_with_400(swarm: SwarmCluster) -> None:
    with pytest.raises(DockerError) as caught:
        await swarm.manager.services.list(filters={"bogus": "x"})
    assert caught.value.status == 400


async def test_services_inspect_by_name_and_by_id(swarm: SwarmCluster, ticker: Ticker) -> None:
    by_name = await swarm.manager.services.inspect(ticker.name)
    by_id = await swarm.manager.services.inspect(ticker.result["ID"])
    assert by_name["ID"] == by_id["ID"] == ticker.result["ID"]


async def test_services_inspect_of_a_missing_service_fails_with_404(swarm: SwarmCluster) -> None:
    with pytest.raises(DockerNotFoundError):
        await swarm.manager.services.inspect("aiodocker-test-no-such-service")


# --- logs ------------------------------------------------------------------------


async def ticker_lines(lines: list[str]) -> dict[str, list[int]]:
    """Map each replica's hostname to the tick numbers it printed."""
    hosts: dict[str, list[int]] = {}
    for line in lines:
        match = LINE.match(line)
        assert match, f"unexpected log item {line!r}"
        hosts.setdefault(match.group(2), []).append(int(match.group(1)))
    return hosts


async def test_services_logs_returns_the_output_of_both_replicas(
    swarm: SwarmCluster, ticker: Ticker
) -> None:
    async def both_replicas() -> dict[str, list[int]]:
        lines = await swarm.manager.services.logs(ticker.name, stdout=True, stderr=True)
        hosts = await ticker_lines(lines)
        return hosts if len(hosts) == 2 and all(len(v) >= 2 for v in hosts.values()) else {}

    hosts = await swarm.wait_for(both_replicas, what="log lines of both replicas", timeout=60)
    for ticks in hosts.values():
        assert ticks == list(range(1, len(ticks) + 1))  # nothing lost, nothing doubled
    tail = await swarm.manager.services.logs(ticker.name, stdout=True, tail=1)
    assert len(tail) == 2  # the last line of each task


async def test_services_logs_follow_yields_new_lines_until_left(
    swarm: SwarmCluster, ticker: Ticker
) -> None:
    stream = swarm.manager.services.logs(ticker.name, stdout=True, follow=True, tail=0)
    seen: list[str] = []
    async with asyncio.timeout(30):
        async for line in stream:
            seen.append(line)
            if len(seen) == 4:
                break
    assert len(await ticker_lines(seen)) >= 1
    await stream.aclose()


async def test_services_logs_needs_stdout_or_stderr_and_an_existing_service(
    swarm: SwarmCluster,
) -> None:
    with pytest.raises(TypeError, match="stdout or stderr"):
        swarm.manager.services.logs("anything")
    with pytest.raises(DockerNotFoundError):
        await swarm.manager.services.logs("aiodocker-test-no-such-service", stdout=True)


# --- tasks -------------------------------------------------------------------------


async def test_tasks_list_and_inspect_show_the_replicas(
    swarm: SwarmCluster, ticker: Ticker
) -> None:
    tasks = await swarm.manager.tasks.list(filters={"service": ticker.name})
    assert len(tasks) >= 2
    task = await swarm.manager.tasks.inspect(tasks[0]["ID"])
    assert task["ID"] == tasks[0]["ID"]
    assert task["ServiceID"] == ticker.result["ID"]


async def test_tasks_list_with_an_unknown_filter_fails_and_inspect_of_a_missing_task_404s(
    swarm: SwarmCluster,
) -> None:
    with pytest.raises(DockerError) as caught:
        await swarm.manager.tasks.list(filters={"bogus": "x"})
    assert caught.value.status == 400
    with pytest.raises(DockerNotFoundError):
        await swarm.manager.tasks.inspect("nosuchtask")


async def test_tasks_logs_returns_the_output_of_a_task_on_either_node(
    swarm: SwarmCluster, ticker: Ticker
) -> None:
    tasks = await running_tasks(swarm, ticker.name)
    hosts_seen = set()
    for task in tasks:  # one runs on the manager, the other on the worker
        lines = await swarm.manager.tasks.logs(task["ID"], stdout=True)
        hosts = await ticker_lines(lines)
        assert len(hosts) == 1
        hosts_seen |= set(hosts)
        following = swarm.manager.tasks.logs(task["ID"], stdout=True, follow=True, tail=1)
        async with asyncio.timeout(30):
            first = await anext(following)
        await following.aclose()
        assert LINE.match(first)
    assert len(hosts_seen) == 2


async def test_tasks_logs_needs_stdout_or_stderr_and_an_existing_task(swarm: SwarmCluster) -> None:
    with pytest.raises(TypeError, match="stdout or stderr"):
        swarm.manager.tasks.logs("anything", follow=True)
    with pytest.raises(DockerNotFoundError):
        await swarm.manager.tasks.logs("nosuchtask", stderr=True)


# --- update and rollback ------------------------------------------------------------------


async def test_services_update_changes_the_image_and_rollback_restores_it(
    swarm: SwarmCluster, ticker: Ticker
) -> None:
    before = await swarm.manager.services.inspect(ticker.name)
    assert await swarm.manager.services.update(
        ticker.name, before["Version"]["Index"], image=swarm.image_v2
    )
    tasks = await converge(swarm, ticker.name, swarm.image_v2, 2)
    assert {task["NodeID"] for task in tasks} == {swarm.manager_node_id, swarm.worker_node_id}
    updated = await swarm.manager.services.inspect(ticker.name)
    assert updated["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"] == swarm.image_v2
    assert updated["PreviousSpec"]["TaskTemplate"]["ContainerSpec"]["Image"] == swarm.image
    # the rest of the spec is kept
    assert updated["Spec"]["Labels"] == before["Spec"]["Labels"]
    assert updated["Spec"]["TaskTemplate"]["ContainerSpec"]["Env"] == ["GREETING=hello"]

    assert await swarm.manager.services.update(
        ticker.name, updated["Version"]["Index"], rollback=True
    )
    await converge(swarm, ticker.name, swarm.image, 2)
    rolled_back = await swarm.manager.services.inspect(ticker.name)
    assert rolled_back["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"] == swarm.image
    assert rolled_back["Spec"]["Labels"] == before["Spec"]["Labels"]


async def test_services_update_needs_an_image_a_rollback_or_a_spec(
    swarm: SwarmCluster, ticker: Ticker
) -> None:
    with pytest.raises(ValueError, match="image"):
        await swarm.manager.services.update(ticker.name, 1)
    with pytest.raises(ValueError, match="spec"):
        await swarm.manager.services.update(ticker.name, 1, image="x", spec={})


async def test_services_update_with_a_stale_version_or_of_a_missing_service_fails(
    swarm: SwarmCluster, ticker: Ticker
) -> None:
    with pytest.raises(DockerError) as caught:
        await swarm.manager.services.update(ticker.name, 1, image=swarm.image)
    assert "out of sequence" in caught.value.message
    with pytest.raises(DockerNotFoundError):
        await swarm.manager.services.update("aiodocker-test-no-such-service", 1, image="x")


async def test_services_rollback_without_a_previous_spec_fails(swarm: SwarmCluster) -> None:
    name = swarm.name("fresh")
    try:
        result = await swarm.manager.services.create(
            ticker_template(swarm.image), name=name, mode={"Replicated": {"Replicas": 0}}
        )
        service = await swarm.manager.services.inspect(result["ID"])
        with pytest.raises(DockerError) as caught:
            await swarm.manager.services.update(name, service["Version"]["Index"], rollback=True)
        assert "previous" in caught.value.message.lower()
    finally:
        await delete_service(swarm, name)


# --- delete ---------------------------------------------------------------------------------


async def test_services_delete_removes_the_service_and_a_second_delete_404s(
    swarm: SwarmCluster,
) -> None:
    name = swarm.name("doomed")
    await swarm.manager.services.create(
        ticker_template(swarm.image), name=name, mode={"Replicated": {"Replicas": 0}}
    )
    assert await swarm.manager.services.delete(name) is True
    with pytest.raises(DockerNotFoundError):
        await swarm.manager.services.inspect(name)
    with pytest.raises(DockerNotFoundError):
        await swarm.manager.services.delete(name)


# --- registry credentials (fake daemon: the header is never shown back) -----------------------


def service_daemon_handler(request: Request) -> bytes:
    if request.target == "/version":
        return http_response(200, VERSION_1_41)
    if request.target.endswith("/services/create"):
        return http_response(201, {"ID": "fakeserviceid", "Warnings": None})
    if request.target.endswith("/services/web"):
        spec = {"Name": "web", "TaskTemplate": {"ContainerSpec": {"Image": "old:1"}}}
        return http_response(200, {"ID": "fakeserviceid", "Version": {"Index": 7}, "Spec": spec})
    if "/services/web/update" in request.target:
        return http_response(200, {"Warnings": None})
    return http_response(404, {"message": f"unexpected {request.target}"})


@pytest_asyncio.fixture(loop_scope="session")
async def fake_daemon(tmp_path: Path) -> AsyncIterator[FakeDaemon]:
    fake = await FakeDaemon(str(tmp_path / "d.sock"), service_daemon_handler).start()
    try:
        yield fake
    finally:
        await fake.stop()


def decoded_auth(request: Request) -> dict[str, Any] | None:
    header = request.headers.get("x-registry-auth")
    if header is None:
        return None
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(header))
    return decoded


@pytest.fixture
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    config_dir = tmp_path / "docker-config"
    config_dir.mkdir()
    secret = base64.b64encode(b"alice:wonderland").decode()
    (config_dir / "config.json").write_text(
        json.dumps({"auths": {"registry.example:5000": {"auth": secret}}})
    )
    monkeypatch.setenv("DOCKER_CONFIG", str(config_dir))
    return config_dir


async def test_services_create_sends_credentials_from_the_docker_config(
    fake_daemon: FakeDaemon, docker_config: Path
) -> None:
    async with aiodocker.Docker(url=f"unix://{fake_daemon.path}") as docker:
        template = {"ContainerSpec": {"Image": "registry.example:5000/team/app:1"}}
        await docker.services.create(template, name="web")
        await docker.services.create({"ContainerSpec": {"Image": "other.example/app"}}, name="web")
        await docker.services.create(template, name="web", with_registry_auth=False)
    creates = [r for r in fake_daemon.requests if r.target.endswith("/services/create")]
    found = decoded_auth(creates[0])
    assert found is not None
    assert found["username"] == "alice" and found["password"] == "wonderland"
    assert decoded_auth(creates[1]) is None  # no credentials for that registry
    assert decoded_auth(creates[2]) is None  # lookup turned off


async def test_services_create_sends_explicit_auth_for_the_given_registry(
    fake_daemon: FakeDaemon, docker_config: Path
) -> None:
    async with aiodocker.Docker(url=f"unix://{fake_daemon.path}") as docker:
        await docker.services.create(
            {"ContainerSpec": {"Image": "registry.example:5000/team/app:1"}},
            auth={"username": "bob", "password": "builder"},
            registry="registry.example:5000",
        )
    found = decoded_auth(fake_daemon.requests[-1])
    assert found == {
        "username": "bob",
        "password": "builder",
        "serveraddress": "registry.example:5000",
    }


async def test_services_update_of_the_image_sends_credentials_and_rollback_does_not(
    fake_daemon: FakeDaemon, docker_config: Path
) -> None:
    async with aiodocker.Docker(url=f"unix://{fake_daemon.path}") as docker:
        await docker.services.update("web", 7, image="registry.example:5000/team/app:2")
        await docker.services.update("web", 7, rollback=True)
    updates = [r for r in fake_daemon.requests if "/update" in r.target]
    found = decoded_auth(updates[0])
    assert found is not None and found["username"] == "alice"
    body = json.loads(updates[0].body)
    assert body["TaskTemplate"]["ContainerSpec"]["Image"] == "registry.example:5000/team/app:2"
    assert "version=7" in updates[0].target
    assert decoded_auth(updates[1]) is None
    assert "rollback=previous" in updates[1].target
