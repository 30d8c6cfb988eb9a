"""The opt-in pytest plugin of aiodocker: ``fake_docker``, ``fake_engine`` and ``docker`` fixtures.

Installing aiodocker registers this module as a pytest plugin (entry point
``aiodocker`` in ``pytest11``), but it only adds options until enabled, so it never
shadows a project's own ``docker`` fixture. Enable it with any of:

- ``pytest --aiodocker-fixtures``;
- ``aiodocker_fixtures = true`` in the ``[pytest]`` ini section (or
  ``[tool.pytest.ini_options]``);
- ``pytest_plugins = ["aiodocker.testing.fixtures"]`` in a root ``conftest.py``,
  or ``-p aiodocker.testing.fixtures`` (this works without the entry point too).

The fixtures need pytest-asyncio.
"""

from __future__ import annotations

import pytest

FIXTURES_MODULE = "aiodocker.testing.fixtures"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("aiodocker")
    group.addoption(
        "--aiodocker-fixtures",
        action="store_true",
        default=None,
        help="enable aiodocker's fixtures (fake_docker, fake_engine, docker)",
    )
    parser.addini("aiodocker_fixtures", "enable aiodocker's fixtures", type="bool", default=False)
    parser.addini(
        "aiodocker_url", "the daemon of the docker fixture (default: DOCKER_HOST, context, socket)"
    )
    parser.addini(
        "aiodocker_reap_after",
        "seconds after which objects left by a crashed session are removed (default 3600)",
        default="3600",
    )
    parser.addini(
        "aiodocker_fake_images",
        "images present in the fake engine of fake_docker (default busybox:latest)",
        type="linelist",
        default=["busybox:latest"],
    )


def pytest_configure(config: pytest.Config) -> None:
    enabled = config.getoption("aiodocker_fixtures") or config.getini("aiodocker_fixtures")
    if enabled and not config.pluginmanager.has_plugin(FIXTURES_MODULE):
        config.pluginmanager.import_plugin(FIXTURES_MODULE)
