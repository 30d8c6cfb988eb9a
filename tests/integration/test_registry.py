"""Pull, push, login and distribution against the test environment's private registry.

The registry (127.0.0.1:5000, htpasswd) needs a login for everything. Every test
runs with ``DOCKER_CONFIG`` pointing at an empty temporary directory, so the real
``~/.docker`` is neither read nor written; credentials reach the client only as
``auth=``, a temporary ``config.json`` or a credential helper on ``PATH``.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import stat
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from helpers import isolated_docker_config, remove_images, tar_of  # noqa: F401 (autouse)
from testenv import Engine, require

from aiodocker import Docker
from aiodocker.exceptions import DockerError, DockerNotFoundError, DockerStreamError
from aiodocker.images import registry_auth_header
from aiodocker.progress import Progress, run_pull_cli

MANIFEST_TYPES = (
    "application/vnd.docker.distribution.manifest.v2+json, "
    "application/vnd.oci.image.manifest.v1+json"
)


# --- helpers -----------------------------------------------------------------------------


async def build_two_layer_image(docker: Docker, base: str, ref: str, size: int) -> None:
    """Build ``ref`` = the base image plus one layer of ``size`` random bytes."""
    context = tar_of(
        {
            "Dockerfile": f"FROM {base}\nADD blob /blob\n".encode(),
            "blob": os.urandom(size),
        }
    )
    await docker.images.build(fileobj=context, encoding="identity", tag=ref)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def write_config(config_dir: Path, config: dict[str, Any]) -> None:
    (config_dir / "config.json").write_text(json.dumps(config))


async def image_exists(docker: Docker, ref: str) -> bool:
    try:
        await docker.images.inspect(ref)
    except DockerNotFoundError:
        return False
    return True


# --- fixtures ----------------------------------------------------------------------------


@pytest.fixture
def registry(testenv: dict[str, Any]) -> str:
    address: str = require("registry")
    return address


@pytest.fixture
def auth(testenv: dict[str, Any], registry: str) -> dict[str, str]:
    return {
        "username": require("registry_user"),
        "password": require("registry_password"),
        "serveraddress": registry,
    }


@pytest.fixture
async def registry_cleanup(
    registry: str, auth: dict[str, str]
) -> AsyncIterator[Callable[[str], None]]:
    """Register ``repo:tag`` references whose manifests are deleted from the registry."""
    refs: list[str] = []
    yield refs.append
    login = b64(f"{auth['username']}:{auth['password']}")
    async with aiohttp.ClientSession(headers={"Authorization": f"Basic {login}"}) as session:
        for ref in refs:
            repository, _, tag = ref.removeprefix(f"{registry}/").rpartition(":")
            url = f"http://{registry}/v2/{repository}/manifests"
            async with session.head(f"{url}/{tag}", headers={"Accept": MANIFEST_TYPES}) as head:
                digest = head.headers.get("Docker-Content-Digest")
            if digest:
                async with session.delete(f"{url}/{digest}"):
                    pass


@pytest.fixture
async def pushed(
    docker: Docker,
    image: str,
    make_name: Callable[..., str],
    registry: str,
    auth: dict[str, str],
    registry_cleanup: Callable[[str], None],
) -> AsyncIterator[str]:
    """A two-layer image pushed to the registry and absent locally."""
    ref = f"{registry}/{make_name('reg')}:v1"
    await build_two_layer_image(docker, image, ref, 3_000_000)
    registry_cleanup(ref)
    try:
        await docker.images.push(ref, auth=auth)
        await docker.images.delete(ref)
        yield ref
    finally:
        await remove_images(docker, ref)


@pytest.fixture
def credential_helper(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, auth: dict[str, str]
) -> Path:
    """Put ``docker-credential-aiodockertest`` on PATH; it logs every call to the returned file."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "helper.log"
    helper = bin_dir / "docker-credential-aiodockertest"
    helper.write_text(_helper_script(log, auth))
    helper.chmod(helper.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    return log


def _helper_script(log: Path, auth: dict[str, str]) -> str:
    answer = json.dumps(
        {
            "ServerURL": auth["serveraddress"],
            "Username": auth["username"],
            "Secret": auth["password"],
        }
    )
    listing = json.dumps({auth["serveraddress"]: auth["username"]})
    return (
        "#!/bin/sh\n"
        "read -r server || true\n"
        f'echo "$1 $server" >> "{log}"\n'
        f'if [ "$1" = get ] && [ "$server" = "{auth["serveraddress"]}" ]; then\n'
        f"  echo '{answer}'\n"
        "  exit 0\n"
        "fi\n"
        f"if [ \"$1\" = list ]; then echo '{listing}'; exit 0; fi\n"
        'echo "credentials not found in native keychain"\n'
        "exit 1\n"
    )


# --- push and pull with each source of credentials ---------------------------------------


@pytest.mark.engine_difference(("podman", "podman5"), "podman's pull/push progress lines differ from Docker's")
async def test_push_and_pull_with_explicit_dict_auth(
    docker: Docker, pushed: str, auth: dict[str, str]
) -> None:
    assert not await image_exists(docker, pushed)
    items = await docker.images.pull(pushed, auth=auth)
    assert items[-1]["status"].startswith("Status: Downloaded newer image")
    info = await docker.images.inspect(pushed)
    assert pushed in info["RepoTags"]


async def test_pull_with_base64_user_password_auth(
    docker: Docker, pushed: str, auth: dict[str, str]
) -> None:
    await docker.images.pull(pushed, auth=b64(f"{auth['username']}:{auth['password']}"))
    assert await image_exists(docker, pushed)


@pytest.mark.engine_difference(("podman", "podman5"), "podman's pull/push progress lines differ from Docker's")
async def test_push_and_pull_with_auths_in_config_json(
    docker: Docker,
    image: str,
    make_name: Callable[..., str],
    registry: str,
    auth: dict[str, str],
    docker_config: Path,
    registry_cleanup: Callable[[str], None],
) -> None:
    write_config(
        docker_config,
        {"auths": {registry: {"auth": b64(f"{auth['username']}:{auth['password']}")}}},
    )
    ref = f"{registry}/{make_name('cfg')}:v1"
    registry_cleanup(ref)
    await build_two_layer_image(docker, image, ref, 100_000)
    try:
        pushed = await docker.images.push(ref)
        assert any("aux" in item for item in pushed)
        await docker.images.delete(ref)
        await docker.images.pull(ref)
        assert await image_exists(docker, ref)
    finally:
        await remove_images(docker, ref)


async def test_pull_with_a_credential_helper_on_path(
    docker: Docker,
    pushed: str,
    registry: str,
    docker_config: Path,
    credential_helper: Path,
) -> None:
    write_config(docker_config, {"credHelpers": {registry: "aiodockertest"}})
    await docker.images.pull(pushed)
    assert await image_exists(docker, pushed)
    assert f"get {registry}" in credential_helper.read_text()
    header = await registry_auth_header(docker, pushed)
    assert header is not None
    assert await registry_auth_header(docker, "elsewhere.example/x") is None


async def test_anonymous_pull_of_a_private_image_fails_naming_the_registry(
    docker: Docker, pushed: str, registry: str
) -> None:
    with pytest.raises(DockerError) as info:
        await docker.images.pull(pushed)
    assert str(info.value) == f"[{info.value.status}] {info.value.message}"  # the daemon's words
    hint = info.value.hint or ""  # this client's explanation, also a note on 3.11+
    assert registry in hint
    assert "no credentials" in hint
    assert hint in getattr(info.value, "__notes__", [hint])
    assert not await image_exists(docker, pushed)


async def test_pull_with_a_wrong_password_names_the_registry_and_hides_the_password(
    docker: Docker, pushed: str, registry: str, auth: dict[str, str]
) -> None:
    wrong = {**auth, "password": "not-the-password-3141"}
    with pytest.raises(DockerError) as info:
        await docker.images.pull(pushed, auth=wrong)
    text = str(info.value) + repr(info.value) + (info.value.hint or "")
    assert registry in (info.value.hint or "") and "refused" in (info.value.hint or "")
    assert "not-the-password-3141" not in text
    assert auth["password"] not in text


@pytest.mark.engine_difference(
    ("podman", "podman5"), "podman words a push without credentials differently (authentication required)"
)
async def test_push_without_credentials_fails_with_a_stream_error(
    docker: Docker,
    image: str,
    make_name: Callable[..., str],
    registry: str,
) -> None:
    ref = f"{registry}/{make_name('anon')}:v1"
    await docker.images.tag(image, ref.rpartition(":")[0], tag="v1")
    try:
        with pytest.raises(DockerStreamError) as info:
            await docker.images.push(ref)
        # 0.27's words (the daemon's) stay the message; the hint names the registry
        assert info.value.message == "no basic auth credentials"
        assert info.value.args == ("no basic auth credentials",)
        assert registry in (info.value.hint or "")
        assert info.value.error_detail.get("message")
    finally:
        await remove_images(docker, ref)


@pytest.mark.engine_difference(("podman", "podman5"), "podman's message for pushing a missing image differs")
async def test_push_of_a_missing_local_image_fails(
    docker: Docker, make_name: Callable[..., str], registry: str, auth: dict[str, str]
) -> None:
    ref = f"{registry}/{make_name('missing')}:v1"
    with pytest.raises(DockerError, match="does not exist"):
        await docker.images.push(ref, auth=auth)


@pytest.mark.engine_difference(
    ("podman", "podman5"), "podman reports a missing remote image in the stream, not as 404"
)
async def test_pull_of_a_missing_image_is_not_found_and_names_it(
    docker: Docker, make_name: Callable[..., str], registry: str, auth: dict[str, str]
) -> None:
    name = make_name("absent")
    with pytest.raises(DockerNotFoundError) as info:
        await docker.images.pull(f"{registry}/{name}:v1", auth=auth)
    assert name in str(info.value)


async def test_pull_argument_errors_raise_value_error(docker: Docker, auth: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="registry host"):
        docker.images.pull("busybox", auth=auth)


async def test_malformed_references_are_judged_by_the_daemon_as_in_027(
    docker: Docker, engine: Engine
) -> None:
    with pytest.raises(DockerError) as info:
        await docker.images.pull("127.0.0.1:5000/Bad/Name")
    # podman answers 500 for bad arguments
    assert info.value.status in (400, 500) and not isinstance(info.value, ValueError)
    with pytest.raises(DockerError) as info:
        await docker.images.push("127.0.0.1:5000/x:bad tag")
    assert not isinstance(info.value, ValueError)
    if engine.name not in ("podman", "podman5"):  # podman checks the image source first
        assert info.value.message == "invalid reference format"


# --- docker.auth -------------------------------------------------------------------------


@pytest.mark.engine_difference(
    ("podman", "podman5"),
    "podman's /auth ignores registries.conf and tries HTTPS against the plain-HTTP test registry",
)
async def test_auth_accepts_good_credentials(docker: Docker, auth: dict[str, str]) -> None:
    result = await docker.auth(**auth)
    assert result["Status"] == "Login Succeeded"


@pytest.mark.engine_difference(
    ("podman", "podman5"),
    "podman's /auth ignores registries.conf and tries HTTPS against the plain-HTTP test registry",
)
async def test_auth_rejects_bad_credentials_without_showing_the_password(
    docker: Docker, auth: dict[str, str]
) -> None:
    secret = "wrong-password-2718"
    with pytest.raises(DockerError) as info:
        await docker.auth(**{**auth, "password": secret})
    text = str(info.value) + repr(info.value) + info.value.message
    assert secret not in text
    assert "401" in text or "unauthorized" in text.lower()


# --- progress ----------------------------------------------------------------------------


@pytest.mark.engine_difference(("podman", "podman5"), "podman's pull/push progress lines differ from Docker's")
async def test_pull_progress_is_monotonic_and_ends_at_100_percent(
    docker: Docker, pushed: str, auth: dict[str, str]
) -> None:
    progress = Progress()
    fractions = []
    async for _item in progress.track(docker.images.pull(pushed, auth=auth, stream=True)):
        fractions.append(progress.fraction)
    fractions.append(progress.fraction)
    assert all(b >= a for a, b in zip(fractions, fractions[1:], strict=False)), fractions
    assert fractions[-1] == 1.0
    assert progress.percent == 100
    assert any(0.0 < f < 1.0 for f in fractions), fractions
    assert len(progress.layers) >= 2
    states = {layer.status for layer in progress.layers.values()}
    assert "Already exists" in states and "Pull complete" in states
    assert progress.bytes_total >= 2_000_000
    assert progress.bytes_done == progress.bytes_total


@pytest.mark.engine_difference(("podman", "podman5"), "podman's pull/push progress lines differ from Docker's")
async def test_push_progress_ends_at_100_percent_with_layer_states(
    docker: Docker,
    image: str,
    make_name: Callable[..., str],
    registry: str,
    auth: dict[str, str],
    registry_cleanup: Callable[[str], None],
) -> None:
    ref = f"{registry}/{make_name('pushprog')}:v1"
    registry_cleanup(ref)
    await build_two_layer_image(docker, image, ref, 2_000_000)
    try:
        progress = Progress()
        fractions = []
        async for _item in progress.track(docker.images.push(ref, auth=auth, stream=True)):
            fractions.append(progress.fraction)
        assert all(b >= a for a, b in zip(fractions, fractions[1:], strict=False))
        assert progress.fraction == 1.0
        for layer in progress.layers.values():
            assert layer.done
            assert layer.status in ("Pushed", "Layer already exists") or layer.status.startswith(
                "Mounted from "
            )
        assert len(progress.layers) >= 2
    finally:
        await remove_images(docker, ref)


@pytest.mark.engine_difference(("podman", "podman5"), "podman's pull/push progress lines differ from Docker's")
async def test_pull_command_line_prints_layer_states_with_config_credentials(
    docker: Docker, pushed: str, registry: str, auth: dict[str, str], docker_config: Path
) -> None:
    write_config(
        docker_config,
        {"auths": {registry: {"auth": b64(f"{auth['username']}:{auth['password']}")}}},
    )
    out, err = io.StringIO(), io.StringIO()
    assert await run_pull_cli(docker, pushed, out=out, err=err) == 0
    lines = out.getvalue().splitlines()
    assert any(line.endswith(": Already exists") for line in lines), lines
    assert any(line.endswith(": Pull complete") for line in lines), lines
    assert lines[-1].startswith("Status: Downloaded newer image")
    assert err.getvalue() == ""


async def test_pull_command_line_reports_a_refused_pull(
    docker: Docker, pushed: str, registry: str
) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert await run_pull_cli(docker, pushed, out=out, err=err) == 1
    assert registry in err.getvalue()


# --- distribution inspect ----------------------------------------------------------------


@pytest.mark.engine_difference(("podman", "podman5"), "podman has no GET /distribution/{name}/json")
async def test_inspect_distribution_returns_descriptor_and_platforms(
    docker: Docker, pushed: str, auth: dict[str, str], docker_config: Path, registry: str
) -> None:
    info = await docker.images.inspect_distribution(pushed, auth=auth)
    assert info["Descriptor"]["digest"].startswith("sha256:")
    assert {"architecture": "amd64", "os": "linux"} in info["Platforms"]
    write_config(
        docker_config,
        {"auths": {registry: {"auth": b64(f"{auth['username']}:{auth['password']}")}}},
    )
    again = await docker.images.inspect_distribution(pushed)
    assert again["Descriptor"] == info["Descriptor"]


async def test_inspect_distribution_of_a_missing_image_fails(
    docker: Docker, make_name: Callable[..., str], registry: str, auth: dict[str, str]
) -> None:
    name = make_name("nodist")
    with pytest.raises(DockerError) as info:
        await docker.images.inspect_distribution(f"{registry}/{name}:v1", auth=auth)
    assert name in str(info.value) or "unknown" in str(info.value)
    with pytest.raises(ValueError):
        await docker.images.inspect_distribution("Not A Reference")


# --- builds that pull from the private registry ------------------------------------------


async def test_build_sends_config_credentials_for_a_private_base_image(
    docker: Docker,
    pushed: str,
    make_name: Callable[..., str],
    registry: str,
    auth: dict[str, str],
    docker_config: Path,
) -> None:
    context = tar_of({"Dockerfile": f"FROM {pushed}\nRUN test -f /blob\n".encode()})
    tag = make_name("privbase")
    with pytest.raises(DockerError) as info:
        await docker.images.build(fileobj=context, encoding="identity", tag=tag, pull=True)
    assert registry in str(info.value)
    write_config(
        docker_config,
        {"auths": {registry: {"auth": b64(f"{auth['username']}:{auth['password']}")}}},
    )
    try:
        await docker.images.build(fileobj=context, encoding="identity", tag=tag, pull=True)
        assert await image_exists(docker, tag)
    finally:
        await remove_images(docker, tag)
        await remove_images(docker, pushed)


# --- interruption ------------------------------------------------------------------------


@pytest.mark.engine_difference(("podman", "podman5"), "podman's pull/push progress lines differ from Docker's")
async def test_interrupted_pull_leaves_no_tag(
    docker: Docker,
    image: str,
    make_name: Callable[..., str],
    registry: str,
    auth: dict[str, str],
    registry_cleanup: Callable[[str], None],
) -> None:
    ref = f"{registry}/{make_name('interrupt')}:v1"
    registry_cleanup(ref)
    await build_two_layer_image(docker, image, ref, 64_000_000)
    try:
        await docker.images.push(ref, auth=auth)
        await docker.images.delete(ref)
        stream = docker.images.pull(ref, auth=auth, stream=True)
        async for item in stream:
            if item.get("status") == "Downloading":
                break
        await stream.aclose()  # type: ignore[attr-defined]
        await asyncio.sleep(1.0)
        assert not await image_exists(docker, ref)
    finally:
        await remove_images(docker, ref)
