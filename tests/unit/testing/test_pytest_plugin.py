"""aiodocker's pytest plugin: opt-in, a fake_docker fixture, a labelled and reaped docker fixture.

Each test runs a separate pytest session with pytester, so the plugin's ``docker``
fixture never meets this project's own.
"""

from __future__ import annotations

import pytest

from tests.helpers import plugin_options

INI = """
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
"""

USES_FAKE = """
async def test_fake(fake_docker, fake_engine):
    container = await fake_docker.containers.run(
        {"Image": "busybox:latest", "Cmd": ["echo", "hi"]}, name="one")
    assert (await container.wait())["StatusCode"] == 0
    assert await container.log(stdout=True) == ["hi\\n"]
    assert [c["Names"] for c in await fake_docker.containers.list(all=True)] == [["/one"]]
    assert "one" in [c.name for c in fake_engine.containers.values()]
"""


def test_without_opting_in_there_is_no_fixture(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(USES_FAKE)
    result = pytester.runpytest(*plugin_options(), "-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'fake_docker' not found*"])


def test_the_command_line_flag_enables_fake_docker(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(USES_FAKE)
    result = pytester.runpytest(
        *plugin_options(), "--aiodocker-fixtures", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=1)


def test_the_ini_option_enables_it_and_sets_the_fake_images(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI + "aiodocker_fixtures = true\naiodocker_fake_images =\n    alpine:3\n")
    pytester.makepyfile(
        """
        import pytest
        from aiodocker.exceptions import DockerNotFoundError

        async def test_images(fake_docker):
            assert (await fake_docker.images.inspect("alpine:3"))["RepoTags"] == ["alpine:3"]
            with pytest.raises(DockerNotFoundError):
                await fake_docker.images.inspect("busybox:latest")
        """
    )
    result = pytester.runpytest(*plugin_options(), "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_the_fixtures_module_loads_directly(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(USES_FAKE)
    result = pytester.runpytest("-p", "aiodocker.testing.fixtures", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
