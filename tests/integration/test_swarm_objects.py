"""Secrets and configs against a real swarm, and mounted into a service's containers."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import pytest
import pytest_asyncio

from aiodocker.exceptions import DockerError, DockerNotFoundError

if TYPE_CHECKING:
    from swarm_fixtures import SwarmCluster

    from aiodocker.configs import DockerConfigs
    from aiodocker.secrets import DockerSecrets

pytest_plugins = ["swarm_fixtures"]
pytestmark = [pytest.mark.swarm, pytest.mark.asyncio(loop_scope="session")]

KINDS = ["secrets", "configs"]


def store(swarm: SwarmCluster, kind: str) -> DockerSecrets | DockerConfigs:
    api: DockerSecrets | DockerConfigs = getattr(swarm.manager, kind)
    return api


@pytest_asyncio.fixture(loop_scope="session")
async def cleanup(swarm: SwarmCluster) -> AsyncIterator[list[tuple[str, str]]]:
    """Collect (kind, id) pairs to delete after the test."""
    created: list[tuple[str, str]] = []
    yield created
    for kind, object_id in reversed(created):
        try:
            await store(swarm, kind).delete(object_id)
        except DockerNotFoundError:
            pass


# --- the shared shape: each test runs for secrets and for configs --------------------


@pytest.mark.parametrize("kind", KINDS)
async def test_create_and_inspect_keep_name_labels_and_data(
    swarm: SwarmCluster, kind: str, cleanup: list[tuple[str, str]]
) -> None:
    name = swarm.name(kind)
    created = await store(swarm, kind).create(name, "päyload", labels={"aiodocker.test": kind})
    cleanup.append((kind, created["ID"]))
    info = await store(swarm, kind).inspect(created["ID"])
    assert info["ID"] == created["ID"]
    assert info["Spec"]["Name"] == name
    assert info["Spec"]["Labels"] == {"aiodocker.test": kind}
    if kind == "configs":
        assert base64.b64decode(info["Spec"]["Data"]).decode() == "päyload"
    else:
        assert "Data" not in info["Spec"]  # the daemon never shows a secret's data
    assert (await store(swarm, kind).inspect(name))["ID"] == created["ID"]


@pytest.mark.parametrize("kind", KINDS)
async def test_create_with_b64_sends_the_data_as_given(
    swarm: SwarmCluster, kind: str, cleanup: list[tuple[str, str]]
) -> None:
    encoded = base64.b64encode(b"\x00\x01binary").decode()
    created = await store(swarm, kind).create(swarm.name(kind), encoded, b64=True)
    cleanup.append((kind, created["ID"]))
    if kind == "configs":
        info = await store(swarm, kind).inspect(created["ID"])
        assert info["Spec"]["Data"] == encoded


@pytest.mark.parametrize("kind", KINDS)
async def test_create_with_a_taken_name_fails_with_409(
    swarm: SwarmCluster, kind: str, cleanup: list[tuple[str, str]]
) -> None:
    name = swarm.name(kind)
    cleanup.append((kind, (await store(swarm, kind).create(name, "one"))["ID"]))
    with pytest.raises(DockerError) as caught:
        await store(swarm, kind).create(name, "two")
    assert caught.value.status == 409


@pytest.mark.parametrize("kind", KINDS)
async def test_list_filters_by_name_and_label(
    swarm: SwarmCluster, kind: str, cleanup: list[tuple[str, str]]
) -> None:
    name = swarm.name(kind)
    label = f"aiodocker.test.list={name}"
    created = await store(swarm, kind).create(name, "x", labels={"aiodocker.test.list": name})
    cleanup.append((kind, created["ID"]))
    by_name = await store(swarm, kind).list(filters={"name": name})
    assert [item["ID"] for item in by_name] == [created["ID"]]
    by_label = await store(swarm, kind).list(filters={"label": label})
    assert [item["ID"] for item in by_label] == [created["ID"]]
    assert created["ID"] in {item["ID"] for item in await store(swarm, kind).list()}


@pytest.mark.parametrize("kind", KINDS)
async def test_list_with_an_unknown_filter_fails_with_400(swarm: SwarmCluster, kind: str) -> None:
    with pytest.raises(DockerError) as caught:
        await store(swarm, kind).list(filters={"bogus": "x"})
    assert caught.value.status == 400


@pytest.mark.parametrize("kind", KINDS)
async def test_inspect_of_a_missing_object_fails_with_404(swarm: SwarmCluster, kind: str) -> None:
    with pytest.raises(DockerNotFoundError):
        await store(swarm, kind).inspect("aiodocker-test-no-such-object")


@pytest.mark.parametrize("kind", KINDS)
async def test_update_changes_labels_and_keeps_the_rest(
    swarm: SwarmCluster, kind: str, cleanup: list[tuple[str, str]]
) -> None:
    name = swarm.name(kind)
    created = await store(swarm, kind).create(name, "same data", labels={"v": "1"})
    cleanup.append((kind, created["ID"]))
    info = await store(swarm, kind).inspect(created["ID"])
    assert await store(swarm, kind).update(
        created["ID"], info["Version"]["Index"], labels={"v": "2", "extra": "yes"}
    )
    updated = await store(swarm, kind).inspect(created["ID"])
    assert updated["Spec"]["Labels"] == {"v": "2", "extra": "yes"}
    assert updated["Spec"]["Name"] == name
    assert updated["Version"]["Index"] > info["Version"]["Index"]
    if kind == "configs":
        assert updated["Spec"]["Data"] == info["Spec"]["Data"]


@pytest.mark.parametrize("kind", KINDS)
async def test_update_of_anything_but_labels_is_refused_by_the_daemon(
    swarm: SwarmCluster, kind: str, cleanup: list[tuple[str, str]]
) -> None:
    """API 1.41 allows label changes only: new data or a new name fail with 400."""
    name = swarm.name(kind)
    created = await store(swarm, kind).create(name, "old data")
    cleanup.append((kind, created["ID"]))
    version = (await store(swarm, kind).inspect(created["ID"]))["Version"]["Index"]
    with pytest.raises(DockerError) as caught:
        await store(swarm, kind).update(created["ID"], version, data="new data")
    assert caught.value.status == 400
    assert "only updates to Labels are allowed" in caught.value.message
    with pytest.raises(DockerError) as caught:
        await store(swarm, kind).update(created["ID"], version, name=swarm.name("renamed"))
    assert caught.value.status == 400
    with pytest.raises(DockerNotFoundError):
        await store(swarm, kind).update("aiodocker-test-no-such-object", 1, labels={})


@pytest.mark.parametrize("kind", KINDS)
async def test_update_with_a_stale_version_fails(
    swarm: SwarmCluster, kind: str, cleanup: list[tuple[str, str]]
) -> None:
    created = await store(swarm, kind).create(swarm.name(kind), "x")
    cleanup.append((kind, created["ID"]))
    info = await store(swarm, kind).inspect(created["ID"])
    await store(swarm, kind).update(created["ID"], info["Version"]["Index"], labels={"a": "1"})
    with pytest.raises(DockerError) as caught:
        await store(swarm, kind).update(created["ID"], info["Version"]["Index"], labels={"a": "2"})
    assert "out of sequence" in caught.value.message


@pytest.mark.parametrize("kind", KINDS)
async def test_delete_removes_the_object_and_a_second_delete_404s(
    swarm: SwarmCluster, kind: str
) -> None:
    created = await store(swarm, kind).create(swarm.name(kind), "x")
    assert await store(swarm, kind).delete(created["ID"]) is True
    with pytest.raises(DockerNotFoundError):
        await store(swarm, kind).inspect(created["ID"])
    with pytest.raises(DockerNotFoundError):
        await store(swarm, kind).delete(created["ID"])


# --- what differs ---------------------------------------------------------------------


async def test_configs_create_sends_templating(
    swarm: SwarmCluster, cleanup: list[tuple[str, str]]
) -> None:
    created = await swarm.manager.configs.create(
        swarm.name("tpl"), "{{.Service.Name}}", templating={"Name": "golang"}
    )
    cleanup.append(("configs", created["ID"]))
    info = await swarm.manager.configs.inspect(created["ID"])
    assert info["Spec"]["Templating"] == {"Name": "golang"}


async def test_secrets_create_sends_the_driver(swarm: SwarmCluster) -> None:
    """No secrets driver plugin is installed: the daemon names the one we asked for."""
    with pytest.raises(DockerError) as caught:
        await swarm.manager.secrets.create(
            swarm.name("driven"), "x", driver={"Name": "aiodocker-no-such-driver"}
        )
    assert "aiodocker-no-such-driver" in caught.value.message


async def test_secrets_and_configs_need_a_manager(swarm: SwarmCluster) -> None:
    for kind in KINDS:
        with pytest.raises(DockerError) as caught:
            await getattr(swarm.worker, kind).list()
        assert caught.value.status == 503


# --- mounted into a service --------------------------------------------------------------


async def test_secret_and_templated_config_are_mounted_into_the_service_containers(
    swarm: SwarmCluster, cleanup: list[tuple[str, str]]
) -> None:
    secret_name = swarm.name("mounted-secret")
    config_name = swarm.name("mounted-config")
    service_name = swarm.name("reader")
    secret = await swarm.manager.secrets.create(secret_name, "s3cret value")
    cleanup.append(("secrets", secret["ID"]))
    config = await swarm.manager.configs.create(
        config_name, "service={{.Service.Name}}", templating={"Name": "golang"}
    )
    cleanup.append(("configs", config["ID"]))
    file_mode = {"UID": "0", "GID": "0", "Mode": 0o444}
    template: dict[str, Any] = {
        "ContainerSpec": {
            "Image": swarm.image,
            "Command": [
                "sh",
                "-c",
                f"echo secret=$(cat /run/secrets/{secret_name}); echo config=$(cat /app.conf); "
                "sleep 3600",
            ],
            "Secrets": [
                {
                    "SecretID": secret["ID"],
                    "SecretName": secret_name,
                    "File": {"Name": secret_name, **file_mode},
                }
            ],
            "Configs": [
                {
                    "ConfigID": config["ID"],
                    "ConfigName": config_name,
                    "File": {"Name": "/app.conf", **file_mode},
                }
            ],
            "StopGracePeriod": 1_000_000_000,
        },
    }
    try:
        await swarm.manager.services.create(
            template, name=service_name, mode={"Replicated": {"Replicas": 2}}
        )

        async def both_read() -> list[str]:
            lines = await swarm.manager.services.logs(service_name, stdout=True, stderr=True)
            return lines if len(lines) >= 4 else []

        lines = await swarm.wait_for(both_read, what="both replicas to print", timeout=120)
        assert sorted(lines) == sorted(
            ["secret=s3cret value\n", f"config=service={service_name}\n"] * 2
        )
        # a secret that a service uses cannot be deleted
        with pytest.raises(DockerError) as caught:
            await swarm.manager.secrets.delete(secret["ID"])
        assert caught.value.status == 400
        assert "in use" in caught.value.message
    finally:
        try:
            await swarm.manager.services.delete(service_name)
        except DockerNotFoundError:
            pass
        await swarm.wait_for(
            lambda: _unused(swarm, service_name), what="the service to go", timeout=60
        )


async def _unused(swarm: SwarmCluster, service: str) -> bool:
    try:
        return not await swarm.manager.tasks.list(filters={"service": service})
    except DockerNotFoundError:  # the filter names a service that is gone
        return True
