"""aiodocker's pytest plugin against the real daemon: the docker fixture labels, removes and reaps.

Runs a separate pytest session with pytester, so the plugin's ``docker`` fixture
never meets this project's own.
"""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from tests.helpers import plugin_options

INI = """
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
"""


async def _labelled_objects(url: str, label: str) -> list[str]:
    from aiodocker import Docker

    async with Docker(url=url) as client:
        found = [c.id for c in await client.containers.list(all=True, filters={"label": [label]})]
        found += [n["Id"] for n in await client.networks.list(filters={"label": [label]})]
        volumes = await client.volumes.list(filters={"label": [label]})
        found += [v["Name"] for v in volumes.get("Volumes") or []]
        return found


async def _leftover(url: str, image: str, name: str) -> str:
    from aiodocker import Docker

    async with Docker(url=url) as client:
        container = await client.containers.create(
            {
                "Image": image,
                "Cmd": ["sleep", "600"],
                "Labels": {
                    "aiodocker.testing.session": "crashed-" + name,
                    "aiodocker.testing.started": str(int(time.time()) - 7200),
                },
            },
            name=name,
        )
        return container.id


async def _exists(url: str, container_id: str) -> bool:
    from aiodocker import Docker
    from aiodocker.exceptions import DockerNotFoundError

    async with Docker(url=url) as client:
        try:
            await client.containers.get(container_id)
        except DockerNotFoundError:
            return False
        await client.containers.container(container_id).delete(force=True)
        return True


def test_docker_fixture_labels_removes_and_reaps(
    pytester: pytest.Pytester, testenv: dict[str, object], make_name: object
) -> None:
    url = f"unix://{testenv['unix_socket']}"
    image = str(testenv["image"])
    marker = uuid.uuid4().hex[:8]
    leftover_name = f"aiodocker-test-reap-{marker}"
    leftover = asyncio.run(_leftover(url, image, leftover_name))
    pytester.makeini(INI + f"aiodocker_fixtures = true\naiodocker_url = {url}\n")
    pytester.makepyfile(
        f"""
        async def test_makes_things(docker):
            labels = {{"mark": "{marker}"}}
            container = await docker.containers.create(
                {{"Image": "{image}", "Cmd": ["sleep", "600"], "Labels": labels}})
            await container.start()
            info = await container.show()
            assert info["Config"]["Labels"]["mark"] == "{marker}"
            assert info["Config"]["Labels"]["aiodocker.testing.session"]
            network = await docker.networks.create(
                {{"Name": "aiodocker-test-net-{marker}", "Labels": labels}})
            assert (await network.show())["Labels"]["aiodocker.testing.session"]
            await docker.volumes.create({{"Name": "aiodocker-test-vol-{marker}", "Labels": labels}})
            await docker.images.tag("{image}", "aiodocker-test-tag-{marker}", tag="v1")
        """
    )
    result = pytester.runpytest(*plugin_options(), "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert asyncio.run(_labelled_objects(url, f"mark={marker}")) == []
    assert asyncio.run(_exists(url, leftover)) is False, "the reaper left the crashed leftover"

    async def tag_gone() -> bool:
        from aiodocker import Docker
        from aiodocker.exceptions import DockerNotFoundError

        async with Docker(url=url) as client:
            try:
                await client.images.inspect(f"aiodocker-test-tag-{marker}:v1")
            except DockerNotFoundError:
                return True
            await client.images.delete(f"aiodocker-test-tag-{marker}:v1")
            return False

    assert asyncio.run(tag_gone())
