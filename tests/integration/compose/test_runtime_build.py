"""``ComposeProject.build/pull/push`` and ``up --build`` against docker-compose 2.40.3.

On Docker 20.10 and 26 (their BuildKit serves the session). One three-service
project per test: ``app`` builds without ``image:`` (Compose names it
``{project}-app``), ``tool`` builds from an inline Dockerfile into the registry's
namespace with an extra tag, ``base`` only names the test image. The registry
needs a login: the credentials are written to the test's own ``DOCKER_CONFIG``,
where both tools find them.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from compose_runtime_helpers import run_compose
from helpers import isolated_docker_config, remove_images  # noqa: F401 (autouse)
from testenv import require

from aiodocker import Docker
from aiodocker.compose import load_project
from aiodocker.compose._cli import main
from aiodocker.compose.project import ComposeProject, ComposeServiceError

pytestmark = pytest.mark.engine_difference(
    ("podman", "podman5"), "compose builds go through BuildKit sessions, which Podman lacks"
)

COMPOSE_FILE = """
name: {name}
services:
  app:
    build:
      context: ./app
      args: {{GREETING: hello}}
      labels: {{org.example.tier: app}}
    command: ["sleep", "600"]
    stop_signal: SIGKILL
    depends_on: [tool]
  tool:
    image: {registry}/{name}-tool:v1
    build:
      context: ./app
      dockerfile_inline: |
        FROM {image}
        {copy}
        RUN --mount=type=secret,id=token cat /run/secrets/token > /tool
      tags: ["{registry}/{name}-tool:extra"]
      secrets: [{{source: token}}]
      {contexts}
    command: ["sleep", "600"]
    stop_signal: SIGKILL
  base:
    image: {image}
    command: ["sleep", "600"]
    stop_signal: SIGKILL
secrets:
  token: {{file: ./token.txt}}
"""
DOCKERFILE = "FROM {image}\nARG GREETING=hi\nRUN echo $GREETING > /greeting\n"
MANIFEST_TYPES = (
    "application/vnd.docker.distribution.manifest.v2+json, "
    "application/vnd.oci.image.manifest.v1+json"
)


@dataclass
class Setup:
    """One project directory on one engine, with the registry's login in DOCKER_CONFIG."""

    directory: Path
    name: str
    host: str
    docker: Docker
    registry: str
    docker_config: Path

    @property
    def file(self) -> str:
        return str(self.directory / "compose.yaml")

    def compose(self, *args: str, check: bool = True) -> Any:
        return run_compose(self.directory, *args, host=self.host, check=check, timeout=300)

    def project(self) -> ComposeProject:
        return ComposeProject(self.docker, load_project([self.file], environ={}))

    @property
    def images(self) -> dict[str, list[str]]:
        tool = f"{self.registry}/{self.name}-tool"
        return {"app": [f"{self.name}-app:latest"], "tool": [f"{tool}:extra", f"{tool}:v1"]}

    async def inspect(self, service: str) -> dict[str, Any]:
        info = await self.docker.images.inspect(self.images[service][0])
        return {"RepoTags": sorted(info["RepoTags"]), "Labels": info["Config"]["Labels"]}

    async def container_ids(self) -> dict[str, str]:
        return {item.name: item.id for item in await self.project().ps(all=True)}


@pytest.fixture
async def setup(
    tmp_path: Path,
    make_name: Callable[..., str],
    engine: Any,
    docker: Docker,
    docker_config: Path,
) -> AsyncIterator[Setup]:
    registry: str = require("registry")
    login = f"{require('registry_user')}:{require('registry_password')}"
    auths = {registry: {"auth": base64.b64encode(login.encode()).decode()}}
    (docker_config / "config.json").write_text(json.dumps({"auths": auths}))
    name = make_name("cbuild")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "Dockerfile").write_text(DOCKERFILE.format(image=engine.image))
    (tmp_path / "extra").mkdir()
    (tmp_path / "extra" / "hello").write_text("from a named context\n")
    (tmp_path / "token.txt").write_text("s3cret\n")
    # Docker 20.10's Dockerfile frontend has no named contexts (both tools fail there)
    named = engine.name == "docker26"
    (tmp_path / "compose.yaml").write_text(
        COMPOSE_FILE.format(
            name=name,
            image=engine.image,
            registry=registry,
            copy="COPY --from=extra hello /hello" if named else "RUN true",
            contexts="additional_contexts: {extra: ./extra}" if named else "",
        )
    )
    result = Setup(tmp_path, name, engine.host, docker, registry, docker_config)
    try:
        yield result
    finally:
        result.compose("down", "-t", "0", "--remove-orphans", check=False)
        await remove_images(docker, *[ref for refs in result.images.values() for ref in refs])
        await _delete_from_registry(registry, login, result.images["tool"])


async def _delete_from_registry(registry: str, login: str, refs: list[str]) -> None:
    secret = base64.b64encode(login.encode()).decode()
    async with aiohttp.ClientSession(headers={"Authorization": f"Basic {secret}"}) as session:
        for ref in refs:
            repository, _, tag = ref.removeprefix(f"{registry}/").rpartition(":")
            url = f"http://{registry}/v2/{repository}/manifests"
            async with session.head(f"{url}/{tag}", headers={"Accept": MANIFEST_TYPES}) as head:
                digest = head.headers.get("Docker-Content-Digest")
            if digest:
                async with session.delete(f"{url}/{digest}"):
                    pass


async def cli(setup: Setup, *args: str) -> tuple[int, str, str]:
    """``python -m aiodocker compose -f FILE ARGS`` in a thread (it runs its own loop)."""
    out, err = io.StringIO(), io.StringIO()
    argv = ["-f", setup.file, *args]
    code = await asyncio.to_thread(main, argv, out=out, err=err, environ={})
    return code, out.getvalue(), err.getvalue()


async def test_build_names_and_labels_as_compose_and_up_recreates_nothing_either_way(
    setup: Setup,
) -> None:
    code, _, err = await cli(setup, "up", "-d", "--no-build", "app")
    assert code == 1 and "not found locally and building is disabled (--no-build)" in err
    # images come first, as in Compose: the failure left no network behind
    assert not await setup.docker.networks.list(filters={"name": [f"{setup.name}_default"]})
    setup.compose("build")
    theirs = {service: await setup.inspect(service) for service in ("app", "tool")}
    assert theirs["app"]["Labels"]["com.docker.compose.project"] == setup.name  # compose's own
    await remove_images(setup.docker, *[ref for refs in setup.images.values() for ref in refs])

    built = await setup.project().build()
    assert sorted((item.service, item.image) for item in built) == [
        ("app", f"{setup.name}-app"), ("tool", f"{setup.registry}/{setup.name}-tool:v1"),
    ]  # fmt: skip
    ours = {service: await setup.inspect(service) for service in ("app", "tool")}
    assert ours == theirs
    assert ours["app"]["RepoTags"] == setup.images["app"]
    assert ours["tool"]["RepoTags"] == setup.images["tool"]

    await setup.project().up()
    before = await setup.container_ids()
    assert len(before) == 3
    code, out, err = await cli(setup, "exec", "-T", "tool", "cat", "/tool")
    assert (code, out) == (0, "s3cret\n"), err  # the build secret, from its file
    if setup.host.endswith("aiodocker-docker26/docker.sock"):
        code, out, err = await cli(setup, "exec", "-T", "tool", "cat", "/hello")
        assert (code, out) == (0, "from a named context\n"), err
    result = setup.compose("up", "-d")
    assert "Recreate" not in result.stderr, result.stderr
    assert await setup.container_ids() == before

    setup.compose("up", "-d", "--build")  # compose rebuilds (from the cache): nothing changes
    assert await setup.container_ids() == before
    await setup.project().up(build=True)
    assert await setup.container_ids() == before
    code, out, err = await cli(setup, "up", "-d", "--build", "--force-recreate", "app")
    assert code == 0, err
    assert "load build definition from Dockerfile" in out  # the builds' plain progress
    after = await setup.container_ids()
    assert after[f"{setup.name}-app-1"] != before[f"{setup.name}-app-1"]
    result = setup.compose("up", "-d")
    assert "Recreate" not in result.stderr, result.stderr
    assert await setup.container_ids() == after


async def test_push_then_pull_through_the_registry_with_the_configs_login(setup: Setup) -> None:
    project = setup.project()
    code, out, err = await cli(setup, "build", "-q", "--push", "tool")
    assert (code, out) == (0, ""), err
    code, _, err = await cli(setup, "push")
    assert code == 0, err
    assert " tool Pushed\n" in err and " app Skipped\n" in err and " base Skipped\n" in err
    tool = setup.images["tool"]
    await remove_images(setup.docker, *tool)
    setup.compose("pull", "tool")  # the reference binary finds what we pushed
    assert sorted((await setup.docker.images.inspect(tool[1]))["RepoTags"]) == [tool[1]]
    with pytest.raises(ComposeServiceError, match="extra"):  # compose pulled only :v1
        await project.push(["tool"])
    pushed = await project.push(["tool"], ignore_push_failures=True)
    assert sorted((item.image, item.status) for item in pushed) == [
        (tool[0], "failed"), (tool[1], "pushed"),
    ]  # fmt: skip

    await remove_images(setup.docker, *tool)
    pulled = await project.pull(["app", "tool"])
    assert [(item.service, item.status, item.message) for item in pulled] == [
        ("app", "skipped", "No image to be pulled"), ("tool", "pulled", ""),
    ]  # fmt: skip
    assert tool[1] in (await setup.docker.images.inspect(tool[1]))["RepoTags"]
    again = await project.pull(["tool"], policy="missing")
    assert again[0].status == "skipped" and "already present" in again[0].message

    (setup.docker_config / "config.json").write_text("{}")  # the login is gone
    with pytest.raises(ComposeServiceError, match="tool"):
        await project.pull(["tool"])
    failed = await project.pull(["tool"], ignore_pull_failures=True)
    assert failed[0].status == "failed" and failed[0].message
    for flags in ((), ("--ignore-pull-failures",)):  # exit codes as the reference's
        theirs = setup.compose("pull", *flags, "tool", check=False).returncode
        code, _, err = await cli(setup, "pull", *flags, "tool")
        assert code == theirs == (1 if not flags else 0), err
        assert f" tool Warning {failed[0].message}\n" in err  # buildable: a warning line
