"""Managed plugins against the real daemon and the test registry: all 11 endpoints.

The plugin is built by tests/plugin_fixture: a static C volume driver on the test
image's filesystem. It is created locally, enabled, configured, pushed to the test
registry (127.0.0.1:5000, with auth), pulled back and upgraded.
"""

from __future__ import annotations

import asyncio
import io
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import aiodocker
from aiodocker.exceptions import DockerError, DockerNotFoundError, DockerStreamError
from tests.plugin_fixture import (
    FixtureUnavailable,
    build_plugin_dir,
    compile_plugin,
    tar_plugin_dir,
)
from tests.testenv import require, unavailable

pytestmark = pytest.mark.engine_difference(("podman", "podman5"), "podman has no plugin API")


@pytest.fixture(scope="module")
def plugin_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    try:
        return compile_plugin(tmp_path_factory.mktemp("plugin-bin") / "plugin")
    except FixtureUnavailable as exc:
        unavailable("gcc", str(exc))


@pytest.fixture(scope="module")
def plugin_dirs(
    tmp_path_factory: pytest.TempPathFactory, plugin_binary: Path, testenv: dict[str, Any]
) -> Iterator[dict[str, Path]]:
    """Two versions of the plugin directory (v1, v2 differ in their description)."""
    if shutil.which("docker") is None:
        unavailable("docker CLI", "needed to export the test image's filesystem")
    host = f"unix://{require('unix_socket')}"
    image = require("image")
    root = tmp_path_factory.mktemp("plugin")
    dirs = {
        version: build_plugin_dir(
            root / version,
            docker_host=host,
            image=image,
            binary=plugin_binary,
            description=f"aiodocker test volume plugin {version}",
        )
        for version in ("v1", "v2")
    }
    yield dirs
    shutil.rmtree(root, ignore_errors=True)


def unique_copy(source: Path, dest: Path) -> Path:
    """Copy a plugin directory, adding a unique file to its rootfs.

    The 20.10 daemon refuses to create a plugin whose rootfs is byte-identical to
    one it stores already (409 "content sha256:...: already exists"), so each
    plugin a test creates (also in concurrent test sessions) gets its own rootfs.
    """
    shutil.copytree(source, dest, symlinks=True)
    (dest / "rootfs" / "etc" / "aiodocker-test-id").write_text(uuid.uuid4().hex)
    return dest


@pytest.fixture
def fresh_plugin_dir(tmp_path: Path, plugin_dirs: dict[str, Path]) -> Callable[[str], Path]:
    """Return a factory of unique copies of the plugin directory ("v1" or "v2")."""

    def make(version: str = "v1") -> Path:
        return unique_copy(plugin_dirs[version], tmp_path / f"{version}-{uuid.uuid4().hex[:8]}")

    return make


@pytest.fixture
def plugin_dir(fresh_plugin_dir: Callable[[str], Path]) -> Path:
    return fresh_plugin_dir("v1")


@pytest.fixture
def registry_auth(testenv: dict[str, Any]) -> dict[str, str]:
    require("registry")
    return {"username": testenv["registry_user"], "password": testenv["registry_password"]}


@pytest.fixture
def no_docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No stored credentials: an empty DOCKER_CONFIG directory."""
    config_dir = tmp_path / "docker-config"
    config_dir.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(config_dir))


@pytest.fixture
async def plugin_names(
    docker: aiodocker.Docker, make_name: Callable[..., str]
) -> AsyncIterator[Callable[..., str]]:
    """Make plugin names (``registry=True``: in the test registry); remove the plugins after."""
    names: list[str] = []

    def make(hint: str = "", *, registry: bool = False, tag: str = "latest") -> str:
        name = make_name(hint)
        if registry:
            name = f"{require('registry')}/{name}"
        name = f"{name}:{tag}"
        names.append(name)
        return name

    yield make
    for name in names:
        try:
            await docker.plugins.delete(name, force=True)
        except DockerNotFoundError:
            pass


async def volume_status(docker: aiodocker.Docker, driver: str, name: str) -> dict[str, Any]:
    """Create a volume with the plugin's driver, return its Status, remove it."""
    volume = await docker.volumes.create({"Name": name, "Driver": driver})
    try:
        info = await volume.show()
    finally:
        await volume.delete()
    assert info["Driver"] == driver
    return dict(info["Status"])


async def push_plugin(
    docker: aiodocker.Docker, source: Path, name: str, auth: dict[str, str]
) -> list[dict[str, Any]]:
    await docker.plugins.create(name, source)
    return await docker.plugins.push(name, auth=auth)


# --- list / inspect / delete ------------------------------------------------------


async def test_list_reports_a_created_plugin_and_filters_by_capability(
    docker: aiodocker.Docker, plugin_dir: Path, plugin_names: Callable[..., str]
) -> None:
    name = plugin_names("list")
    await docker.plugins.create(name, plugin_dir)
    listed = await docker.plugins.list(filters={"capability": "volumedriver"})
    assert name in [p["Name"] for p in listed]
    disabled = await docker.plugins.list(filters={"enabled": "false"})
    assert name in [p["Name"] for p in disabled]
    enabled = await docker.plugins.list(filters={"enabled": "true"})
    assert name not in [p["Name"] for p in enabled]


async def test_list_rejects_an_unknown_filter(docker: aiodocker.Docker) -> None:
    with pytest.raises(DockerError) as info:
        await docker.plugins.list(filters={"no-such-filter": "x"})
    assert info.value.status == 400
    with pytest.raises(TypeError):
        await docker.plugins.list(filters=["capability"])  # type: ignore[arg-type]


async def test_inspect_returns_the_config_of_the_plugin(
    docker: aiodocker.Docker, plugin_dir: Path, plugin_names: Callable[..., str]
) -> None:
    name = plugin_names("inspect")
    await docker.plugins.create(name, plugin_dir)
    info = await docker.plugins.inspect(name)
    assert info["Name"] == name
    assert info["Enabled"] is False
    assert info["Config"]["Interface"]["Socket"] == "aiodocker.sock"
    assert (await docker.plugins.inspect(info["Id"][:12]))["Id"] == info["Id"]


async def test_inspect_of_a_missing_plugin_raises_not_found(
    docker: aiodocker.Docker, make_name: Callable[..., str]
) -> None:
    with pytest.raises(DockerNotFoundError):
        await docker.plugins.inspect(make_name("missing"))


async def test_delete_removes_the_plugin_and_returns_its_details(
    docker: aiodocker.Docker, plugin_dir: Path, plugin_names: Callable[..., str]
) -> None:
    name = plugin_names("delete")
    await docker.plugins.create(name, plugin_dir)
    removed = await docker.plugins.delete(name)
    assert removed is None or removed["Name"] == name  # Docker 20.10 sends no body
    with pytest.raises(DockerNotFoundError):
        await docker.plugins.inspect(name)


async def test_delete_of_a_missing_plugin_raises_not_found(
    docker: aiodocker.Docker, make_name: Callable[..., str]
) -> None:
    with pytest.raises(DockerNotFoundError):
        await docker.plugins.delete(make_name("missing"))


async def test_delete_refuses_an_enabled_plugin_unless_forced(
    docker: aiodocker.Docker, plugin_dir: Path, plugin_names: Callable[..., str]
) -> None:
    name = plugin_names("delete-enabled")
    await docker.plugins.create(name, plugin_dir)
    await docker.plugins.enable(name, timeout=30)
    with pytest.raises(DockerError) as info:
        await docker.plugins.delete(name)
    assert "enabled" in info.value.message
    await docker.plugins.delete(name, force=True)
    with pytest.raises(DockerNotFoundError):
        await docker.plugins.inspect(name)


# --- create ------------------------------------------------------------------------


async def _chunks(data: bytes, size: int = 50_000) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]
        await asyncio.sleep(0)


@pytest.mark.parametrize("kind", ["directory", "bytes", "file", "async-iterable", "tar-path"])
async def test_create_accepts_a_directory_tar_bytes_file_or_stream(
    docker: aiodocker.Docker,
    plugin_dir: Path,
    plugin_names: Callable[..., str],
    tmp_path: Path,
    kind: str,
) -> None:
    name = plugin_names(f"create-{kind}")
    context: Any
    if kind == "directory":
        context = plugin_dir
    else:
        data = tar_plugin_dir(plugin_dir)
        if kind == "bytes":
            context = data
        elif kind == "file":
            context = io.BytesIO(data)
        elif kind == "async-iterable":
            context = _chunks(data)
        else:
            context = tmp_path / "plugin.tar"
            context.write_bytes(data)
            context = str(context)
    await docker.plugins.create(name, context)
    info = await docker.plugins.inspect(name)
    assert info["Config"]["Description"] == "aiodocker test volume plugin v1"
    assert info["Enabled"] is False


async def test_create_rejects_bad_contexts_locally(
    docker: aiodocker.Docker, tmp_path: Path, plugin_names: Callable[..., str]
) -> None:
    name = plugin_names("bad-context")
    (tmp_path / "rootfs").mkdir()
    with pytest.raises(ValueError, match="config.json"):
        await docker.plugins.create(name, tmp_path)
    (tmp_path / "rootfs").rmdir()
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ValueError, match="rootfs"):
        await docker.plugins.create(name, tmp_path)
    with pytest.raises(ValueError, match="neither"):
        await docker.plugins.create(name, tmp_path / "missing")
    with pytest.raises(TypeError):
        await docker.plugins.create(name, 42)
    with pytest.raises(ValueError, match="invalid"):
        await docker.plugins.create("Not/A Valid:Name", tmp_path)


async def test_create_of_an_existing_name_and_of_a_bad_tar_fail_on_the_daemon(
    docker: aiodocker.Docker, plugin_dir: Path, plugin_names: Callable[..., str]
) -> None:
    name = plugin_names("exists")
    await docker.plugins.create(name, plugin_dir)
    with pytest.raises(DockerError) as info:
        await docker.plugins.create(name, plugin_dir)
    assert "exists" in info.value.message
    with pytest.raises(DockerError):
        await docker.plugins.create(plugin_names("bad-tar"), b"this is not a tar archive")


# --- enable / disable / set --------------------------------------------------------


async def test_enable_activates_the_plugin_and_disable_stops_it(
    docker: aiodocker.Docker,
    plugin_dir: Path,
    plugin_names: Callable[..., str],
    make_name: Callable[..., str],
) -> None:
    name = plugin_names("enable")
    await docker.plugins.create(name, plugin_dir)
    await docker.plugins.enable(name, timeout=30)
    assert (await docker.plugins.inspect(name))["Enabled"] is True
    # the daemon talks to the plugin: it answered Plugin.Activate and VolumeDriver calls
    assert await volume_status(docker, name, make_name("vol")) == {"greeting": "hi"}
    await docker.plugins.disable(name)
    assert (await docker.plugins.inspect(name))["Enabled"] is False


async def test_enable_and_disable_fail_in_the_wrong_state_or_for_a_missing_plugin(
    docker: aiodocker.Docker,
    plugin_dir: Path,
    plugin_names: Callable[..., str],
    make_name: Callable[..., str],
) -> None:
    name = plugin_names("states")
    await docker.plugins.create(name, plugin_dir)
    with pytest.raises(DockerError) as info:
        await docker.plugins.disable(name)
    assert "already disabled" in info.value.message
    await docker.plugins.enable(name, timeout=30)
    with pytest.raises(DockerError) as info:
        await docker.plugins.enable(name)
    assert "already enabled" in info.value.message
    await docker.plugins.disable(name, force=True)
    missing = make_name("missing")
    with pytest.raises(DockerNotFoundError):
        await docker.plugins.enable(missing)
    with pytest.raises(DockerNotFoundError):
        await docker.plugins.disable(missing)
    with pytest.raises(ValueError):
        await docker.plugins.enable(name, timeout=-1)


async def test_set_changes_a_settable_env_value_seen_by_the_plugin(
    docker: aiodocker.Docker,
    plugin_dir: Path,
    plugin_names: Callable[..., str],
    make_name: Callable[..., str],
) -> None:
    name = plugin_names("set")
    await docker.plugins.create(name, plugin_dir)
    await docker.plugins.set(name, ["GREETING=hello"])
    assert "GREETING=hello" in (await docker.plugins.inspect(name))["Settings"]["Env"]
    await docker.plugins.set(name, {"GREETING": "bonjour"})
    await docker.plugins.enable(name, timeout=30)
    try:
        assert await volume_status(docker, name, make_name("vol")) == {"greeting": "bonjour"}
    finally:
        await docker.plugins.disable(name)


async def test_set_rejects_bad_settings_an_enabled_plugin_and_a_missing_one(
    docker: aiodocker.Docker,
    plugin_dir: Path,
    plugin_names: Callable[..., str],
    make_name: Callable[..., str],
) -> None:
    name = plugin_names("set-errors")
    await docker.plugins.create(name, plugin_dir)
    with pytest.raises(TypeError):
        await docker.plugins.set(name, "GREETING=x")
    with pytest.raises(ValueError):
        await docker.plugins.set(name, ["=x"])
    with pytest.raises(DockerError):  # not declared settable in config.json
        await docker.plugins.set(name, ["NOT_SETTABLE=1"])
    with pytest.raises(DockerNotFoundError):
        await docker.plugins.set(make_name("missing"), ["GREETING=x"])
    await docker.plugins.enable(name, timeout=30)
    try:
        with pytest.raises(DockerError) as info:
            await docker.plugins.set(name, ["GREETING=x"])
        assert "disable plugin" in info.value.message
    finally:
        await docker.plugins.disable(name)


# --- the registry: push / privileges / pull / upgrade ---------------------------


async def test_push_sends_the_plugin_to_the_registry_with_auth(
    docker: aiodocker.Docker,
    plugin_dir: Path,
    plugin_names: Callable[..., str],
    registry_auth: dict[str, str],
) -> None:
    name = plugin_names("push", registry=True)
    messages = await push_plugin(docker, plugin_dir, name, registry_auth)
    assert messages[0]["status"].startswith("The push refers to repository")
    assert messages[-1]["aux"]["Tag"] == "latest"
    assert messages[-1]["aux"]["Digest"].startswith("sha256:")


async def test_push_without_credentials_is_refused_by_the_registry(
    docker: aiodocker.Docker,
    plugin_dir: Path,
    plugin_names: Callable[..., str],
    no_docker_config: None,
) -> None:
    name = plugin_names("push-anonymous", registry=True)
    await docker.plugins.create(name, plugin_dir)
    with pytest.raises(DockerStreamError) as info:  # the registry's refusal comes in-band
        await docker.plugins.push(name)
    assert "error pushing plugin" in info.value.message
    with pytest.raises(DockerNotFoundError):
        await docker.plugins.push(plugin_names("push-missing", registry=True))


async def test_privileges_lists_what_the_remote_plugin_asks_for(
    docker: aiodocker.Docker,
    plugin_dir: Path,
    plugin_names: Callable[..., str],
    registry_auth: dict[str, str],
) -> None:
    name = plugin_names("privileges", registry=True)
    await push_plugin(docker, plugin_dir, name, registry_auth)
    privileges = await docker.plugins.privileges(name, auth=registry_auth)
    assert {
        "Name": "network",
        "Description": "permissions to access a network",
        "Value": ["host"],
    } in privileges


async def test_privileges_errors_come_from_bad_references_and_the_api_version(
    docker: aiodocker.Docker,
    plugin_names: Callable[..., str],
    registry_auth: dict[str, str],
    testenv: dict[str, Any],
) -> None:
    # The 20.10 daemon answers [] (no error) for a remote it cannot fetch; the
    # install of such a remote is what fails (see the pull tests).
    assert (
        await docker.plugins.privileges(
            plugin_names("no-such-remote", registry=True), auth=registry_auth
        )
        == []
    )
    with pytest.raises(ValueError):
        await docker.plugins.privileges("Bad Reference")
    async with aiodocker.Docker(
        url=f"unix://{require('unix_socket')}", api_version="v1.99"
    ) as too_new:
        with pytest.raises(DockerError) as info:
            await too_new.plugins.privileges("busybox")
    assert info.value.status == 400
    assert "too new" in info.value.message


async def test_pull_installs_a_disabled_plugin_granting_what_it_asks_for(
    docker: aiodocker.Docker,
    plugin_dir: Path,
    plugin_names: Callable[..., str],
    registry_auth: dict[str, str],
    make_name: Callable[..., str],
) -> None:
    remote = plugin_names("pull-remote", registry=True)
    await push_plugin(docker, plugin_dir, remote, registry_auth)
    await docker.plugins.delete(remote)
    local = plugin_names("pulled")
    messages = await docker.plugins.pull(remote, name=local, auth=registry_auth)
    assert messages and all(isinstance(m, dict) for m in messages)
    info = await docker.plugins.inspect(local)
    assert info["Enabled"] is False
    assert info["PluginReference"] == remote
    await docker.plugins.enable(local, timeout=30)
    try:
        assert await volume_status(docker, local, make_name("vol")) == {"greeting": "hi"}
    finally:
        await docker.plugins.disable(local)


async def test_pull_streams_progress_when_asked(
    docker: aiodocker.Docker,
    plugin_dir: Path,
    plugin_names: Callable[..., str],
    registry_auth: dict[str, str],
) -> None:
    remote = plugin_names("pull-stream", registry=True)
    await push_plugin(docker, plugin_dir, remote, registry_auth)
    await docker.plugins.delete(remote)
    privileges = await docker.plugins.privileges(remote, auth=registry_auth)
    stream = docker.plugins.pull(remote, privileges=privileges, auth=registry_auth, stream=True)
    messages = [message async for message in stream]
    assert messages
    assert (await docker.plugins.inspect(remote))["Name"] == remote


async def test_pull_fails_for_wrong_privileges_an_existing_name_or_no_auth(
    docker: aiodocker.Docker,
    plugin_dir: Path,
    plugin_names: Callable[..., str],
    registry_auth: dict[str, str],
    no_docker_config: None,
) -> None:
    remote = plugin_names("pull-errors", registry=True)
    await push_plugin(docker, plugin_dir, remote, registry_auth)
    # the plugin still exists under the remote name: a second install conflicts
    with pytest.raises(DockerError):
        await docker.plugins.pull(remote, auth=registry_auth)
    local = plugin_names("pull-errors-local")
    with pytest.raises(DockerError) as info:  # granted nothing, but it wants host networking
        await docker.plugins.pull(remote, name=local, privileges=[], auth=registry_auth)
    assert "privileges" in info.value.message
    with pytest.raises(DockerError):
        await docker.plugins.pull(remote, name=local)  # anonymous
    with pytest.raises(DockerNotFoundError):
        await docker.plugins.inspect(local)
    with pytest.raises(TypeError):
        await docker.plugins.pull(remote, name=local, privileges="all", auth=registry_auth)  # type: ignore[arg-type]


async def test_upgrade_replaces_a_disabled_plugin_with_a_new_version(
    docker: aiodocker.Docker,
    fresh_plugin_dir: Callable[[str], Path],
    plugin_names: Callable[..., str],
    registry_auth: dict[str, str],
) -> None:
    v1 = plugin_names("upgrade", registry=True, tag="v1")
    v2 = v1.rpartition(":")[0] + ":v2"
    await push_plugin(docker, fresh_plugin_dir("v1"), v1, registry_auth)
    await docker.plugins.delete(v1)
    try:
        await push_plugin(docker, fresh_plugin_dir("v2"), v2, registry_auth)
    finally:
        await docker.plugins.delete(v2, force=True)
    local = plugin_names("upgraded")
    await docker.plugins.pull(v1, name=local, auth=registry_auth)
    assert (await docker.plugins.inspect(local))["Config"]["Description"].endswith("v1")
    messages = await docker.plugins.upgrade(local, v2, auth=registry_auth)
    assert isinstance(messages, list)
    info = await docker.plugins.inspect(local)
    assert info["Config"]["Description"].endswith("v2")
    assert info["PluginReference"] == v2


async def test_upgrade_refuses_an_enabled_or_missing_plugin(
    docker: aiodocker.Docker,
    plugin_dir: Path,
    plugin_names: Callable[..., str],
    registry_auth: dict[str, str],
) -> None:
    remote = plugin_names("upgrade-errors", registry=True)
    await push_plugin(docker, plugin_dir, remote, registry_auth)
    await docker.plugins.enable(remote, timeout=30)
    try:
        with pytest.raises(DockerError) as info:
            await docker.plugins.upgrade(remote, remote, auth=registry_auth)
        assert "disabled" in info.value.message
    finally:
        await docker.plugins.disable(remote)
    with pytest.raises(DockerNotFoundError):
        await docker.plugins.upgrade(plugin_names("upgrade-missing"), remote, auth=registry_auth)
    with pytest.raises(ValueError):
        await docker.plugins.upgrade(remote, "Bad Reference", auth=registry_auth)
