"""The compose runtime's pure parts: durations, create bodies, labels, dependency order."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from aiodocker.compose import _runtime_labels as labels
from aiodocker.compose._runtime_convert import (
    ProjectContext,
    byte_size,
    create_body,
    duration_nanos,
    ordered_networks,
)
from aiodocker.compose.project import ComposeContainer, ComposeProject


@pytest.mark.parametrize(
    ("text", "nanos"),
    [
        ("1s", 1_000_000_000),
        ("1m30s", 90_000_000_000),
        ("1.5s", 1_500_000_000),
        ("500ms", 500_000_000),
        ("2h", 7_200_000_000_000),
        ("10us", 10_000),
        ("0", 0),
        (3, 3_000_000_000),
    ],
)
def test_go_durations_become_nanoseconds(text: Any, nanos: int) -> None:
    assert duration_nanos(text, "x") == nanos


@pytest.mark.parametrize("text", ["", "1", "s", "1x", "1s2", True, None])
def test_a_bad_duration_is_refused_naming_the_key(text: Any) -> None:
    with pytest.raises(ValueError, match="services.a.healthcheck.interval"):
        duration_nanos(text, "services.a.healthcheck.interval")


def test_byte_sizes_must_be_normalised() -> None:
    assert byte_size("67108864", "shm_size") == 67108864
    assert byte_size(5, "shm_size") == 5
    with pytest.raises(ValueError, match="shm_size"):
        byte_size("64m", "shm_size")


def context() -> ProjectContext:
    return ProjectContext(
        name="proj",
        networks={"default": {"name": "proj_default"}, "back": {"name": "custom-back"}},
        volumes={"data": {"name": "proj_data"}},
        labels=labels.project_labels(
            "proj", working_dir="/w", config_files=["/w/a.yaml", "/w/b.yaml"],
            environment_files=[],
        ),
    )


def test_create_body_carries_composes_labels_and_names() -> None:
    service = {
        "image": "busybox",
        "command": ["sleep", "1"],
        "environment": {"B": "2", "A": "1", "U": None},
        "depends_on": {"z": {"condition": "service_healthy", "restart": True}, "a": {}},
        "networks": {"default": None, "back": {"aliases": ["b1"], "priority": 10}},
        "volumes": [
            {"type": "volume", "source": "data", "target": "/data", "volume": {}},
            {"type": "bind", "source": "/h", "target": "/c", "read_only": True,
             "bind": {"create_host_path": True}},
            {"type": "tmpfs", "target": "/t", "tmpfs": {"size": "1024"}},
        ],
        "ports": [{"target": 80, "published": "8080", "protocol": "tcp", "host_ip": "127.0.0.1"}],
        "cap_add": ["net_admin", "CAP_SYS_TIME"],
        "restart": "on-failure:3",
        "healthcheck": {"test": ["CMD", "true"], "interval": "1s", "retries": 3},
        "stop_grace_period": "1m",
        "extra_hosts": ["h=10.0.0.1"],
    }  # fmt: skip
    body = create_body(
        context(), "web", service, container="proj-web-2", number=2, config_hash="abc",
        image_id="sha256:1",
    )  # fmt: skip
    assert body["Labels"] == {
        "com.docker.compose.project": "proj",
        "com.docker.compose.version": labels.COMPOSE_VERSION,
        "com.docker.compose.project.working_dir": "/w",
        "com.docker.compose.project.config_files": "/w/a.yaml,/w/b.yaml",
        "com.docker.compose.service": "web",
        "com.docker.compose.container-number": "2",
        "com.docker.compose.oneoff": "False",
        "com.docker.compose.config-hash": "abc",
        "com.docker.compose.depends_on": "a:service_started:false,z:service_healthy:true",
        "com.docker.compose.image": "sha256:1",
    }
    assert body["Env"] == ["A=1", "B=2", "U"]
    host = body["HostConfig"]
    assert host["NetworkMode"] == "custom-back"  # the highest priority is the primary
    assert body["NetworkingConfig"]["EndpointsConfig"] == {
        "custom-back": {"Aliases": ["proj-web-2", "web", "b1"]}
    }
    assert host["Binds"] == ["proj_data:/data:rw", "/h:/c:ro"]
    assert host["Mounts"] == [{"Type": "tmpfs", "Target": "/t", "TmpfsOptions": {"SizeBytes": 1024}}]
    assert host["PortBindings"] == {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]}
    assert host["CapAdd"] == ["CAP_NET_ADMIN", "CAP_SYS_TIME"]
    assert host["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
    assert host["ExtraHosts"] == ["h:10.0.0.1"]
    assert body["Healthcheck"] == {"Test": ["CMD", "true"], "Interval": 1_000_000_000, "Retries": 3}
    assert body["StopTimeout"] == 60


def test_network_mode_service_needs_the_other_container() -> None:
    service = {"image": "busybox", "network_mode": "service:db"}
    with pytest.raises(ValueError, match="network_mode"):
        create_body(context(), "web", service, container="c", number=1, config_hash="h",
                    image_id="i")  # fmt: skip
    body = create_body(
        context(), "web", service, container="c", number=1, config_hash="h", image_id="i",
        resolve_service={"db": "proj-db-1"}.__getitem__,
    )  # fmt: skip
    assert body["HostConfig"]["NetworkMode"] == "container:proj-db-1"
    assert "NetworkingConfig" not in body


def test_primary_network_is_by_priority_then_name() -> None:
    assert ordered_networks({"networks": {"b": None, "a": None}}) == ["a", "b"]
    assert ordered_networks({"networks": {"b": {"priority": 1}, "a": None}}) == ["b", "a"]


def test_names_follow_compose() -> None:
    assert labels.container_name("p", "web", 3) == "p-web-3"
    assert labels.container_name("p", "web", 3, fixed="mine") == "mine"
    assert labels.resource_name("p", "net", {}) == "p_net"
    assert labels.resource_name("p", "net", {"name": "given"}) == "given"
    assert labels.oneoff_name("p", "web", "0123456789abcdef") == "p-web-run-0123456789ab"


class Recorder:
    """A stand-in client: nothing of it is used by the ordering under test."""


def project(services: dict[str, Any], parallelism: int = 8) -> ComposeProject:
    return ComposeProject(
        Recorder(),  # type: ignore[arg-type]
        {"name": "p", "services": services},
        parallelism=parallelism,
    )


async def test_services_run_after_their_dependencies_and_in_parallel_under_the_bound() -> None:
    services = {
        "db": {"image": "x"},
        "cache": {"image": "x"},
        "api": {"image": "x", "depends_on": {"db": {}, "cache": {}}},
        "web": {"image": "x", "depends_on": {"api": {}}},
        "w1": {"image": "x"}, "w2": {"image": "x"}, "w3": {"image": "x"},
    }  # fmt: skip
    events: list[tuple[str, str]] = []
    running = 0
    peak = 0

    async def action(name: str) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        events.append(("start", name))
        await asyncio.sleep(0.01)
        events.append(("end", name))
        running -= 1

    await project(services, parallelism=2)._in_order(list(services), action)
    order = [name for kind, name in events if kind == "start"]
    ends = [name for kind, name in events if kind == "end"]
    assert peak == 2
    assert order.index("api") > max(ends.index("db"), ends.index("cache"))
    assert order.index("web") > ends.index("api")
    assert set(order) == set(services)

    events.clear()
    await project(services)._in_order(list(services), action, reverse=True)
    order = [name for kind, name in events if kind == "start"]
    ends = [name for kind, name in events if kind == "end"]
    assert order.index("db") > ends.index("api") and order.index("api") > ends.index("web")


async def test_a_failing_service_stops_its_dependents_and_raises() -> None:
    services = {"db": {"image": "x"}, "web": {"image": "x", "depends_on": {"db": {}}}}
    ran: list[str] = []

    async def action(name: str) -> None:
        ran.append(name)
        if name == "db":
            raise RuntimeError("db broke")

    with pytest.raises(RuntimeError, match="db broke"):
        await project(services)._in_order(list(services), action)
    assert ran == ["db"]


def test_selection_adds_dependencies_unless_no_deps() -> None:
    services = {"db": {"image": "x"}, "web": {"image": "x", "depends_on": {"db": {}}}}
    assert project(services)._select(["web"], with_deps=True) == ["db", "web"]
    assert project(services)._select(["web"], with_deps=False) == ["web"]
    with pytest.raises(ValueError, match="no such service: 'nope'"):
        project(services)._select(["nope"], with_deps=True)


def test_a_project_without_a_name_or_with_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="no name"):
        ComposeProject(Recorder(), {"services": {}})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="normalised JSON mapping"):
        ComposeProject(Recorder(), 42)  # type: ignore[arg-type]


def test_containers_from_the_listing_read_composes_labels() -> None:
    item = ComposeContainer.from_summary(
        {
            "Id": "abc", "Names": ["/p-web-2"], "Image": "busybox", "Command": "sleep 1",
            "State": "running", "Status": "Up 3 seconds (healthy)", "Created": 1,
            "Labels": {"com.docker.compose.project": "p", "com.docker.compose.service": "web",
                       "com.docker.compose.container-number": "2",
                       "com.docker.compose.oneoff": "False",
                       "com.docker.compose.config-hash": "h"},
            "Ports": [{"IP": "127.0.0.1", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"}],
        }
    )  # fmt: skip
    assert (item.name, item.service, item.number, item.oneoff) == ("p-web-2", "web", 2, False)
    assert item.health == "healthy" and item.config_hash == "h"
    assert item.publishers[0].to_json() == {
        "URL": "127.0.0.1", "TargetPort": 80, "PublishedPort": 8080, "Protocol": "tcp"
    }  # fmt: skip


def test_only_explicit_env_files_reach_the_project_label(tmp_path: Any) -> None:
    from aiodocker.compose import load_project

    (tmp_path / "compose.yaml").write_text("services:\n  a:\n    image: x:${TAG}\n")
    (tmp_path / ".env").write_text("TAG=default\n")
    (tmp_path / "one.env").write_text("TAG=one\n")
    (tmp_path / "two.env").write_text("TAG=two\n")
    cwd = str(tmp_path)
    default = load_project(environ={}, cwd=cwd)
    assert default.environment_files == [] and default.services["a"]["image"] == "x:default"
    given = load_project(env_files=["one.env", "./two.env"], environ={}, cwd=cwd)
    expected = [f"{tmp_path}/one.env", f"{tmp_path}/two.env"]
    assert given.environment_files == expected and given.services["a"]["image"] == "x:two"
    from_env = load_project(environ={"COMPOSE_ENV_FILES": "one.env"}, cwd=cwd)
    assert from_env.environment_files == [f"{tmp_path}/one.env"]
    assert from_env.services["a"]["image"] == "x:one"
    body = create_body(
        ComposeProject(object(), given)._context,  # type: ignore[arg-type]
        "a", given.services["a"], container="p-a-1", number=1, config_hash="h", image_id="i",
    )  # fmt: skip
    assert body["Labels"][labels.ENVIRONMENT_FILE] == ",".join(expected)
    bare = ComposeProject(object(), default)._context  # type: ignore[arg-type]
    assert labels.ENVIRONMENT_FILE not in bare.labels


def test_up_takes_yes_for_a_changed_volume() -> None:
    import argparse

    from aiodocker.compose._runtime_cli import add_commands

    parser = argparse.ArgumentParser()
    add_commands(parser.add_subparsers(dest="command"))
    assert parser.parse_args(["up", "-d", "-y"]).assume_yes is True
    assert parser.parse_args(["up", "--yes"]).assume_yes is True
    assert parser.parse_args(["up"]).assume_yes is False
