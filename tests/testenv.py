"""Describe the real-daemon test environment that scripts/testenv.sh brings up.

The script writes ``/var/lib/aiodocker-testenv/env.json`` (``AIODOCKER_TESTENV_JSON``
moves it).  Tests read it through :func:`load_testenv` and ask for one component
with :func:`require`, which skips the test when the component is missing, or fails
it when running in CI (``CI=true``), where a missing component is a broken set-up.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, NoReturn

import pytest

DEFAULT_ENV_PATH: Final = Path("/var/lib/aiodocker-testenv/env.json")
ENV_PATH_VARIABLE: Final = "AIODOCKER_TESTENV_JSON"
SETUP_HINT: Final = "run `sudo bash scripts/testenv.sh` (or scripts/test.sh)"

# Short names for the components; any key of env.json is accepted as well.
COMPONENT_KEYS: Final[dict[str, str]] = {
    "daemon": "unix_socket",
    "tls": "tls_url",
    "ssh": "ssh_url",
    "swarm": "swarm_daemons",
}


def env_path() -> Path:
    """Return the path of env.json (``AIODOCKER_TESTENV_JSON`` overrides the default)."""
    return Path(os.environ.get(ENV_PATH_VARIABLE) or DEFAULT_ENV_PATH)


def load_testenv() -> dict[str, Any] | None:
    """Return the contents of env.json, or None when the file does not exist.

    Raises:
        ValueError: the file exists but is not a JSON object.
    """
    path = env_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        env = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(env, dict):
        raise ValueError(f"{path} must hold a JSON object, not {type(env).__name__}")
    return env


def in_ci() -> bool:
    """Return True when running in CI, where a missing component is an error."""
    return os.environ.get("CI") == "true"


def unavailable(component: str, reason: str) -> NoReturn:
    """Skip the running test (fail it in CI) because ``component`` is unavailable."""
    message = f"test environment component {component!r} is unavailable: {reason}"
    if in_ci():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def require(component: str) -> Any:
    """Return the env.json entry of ``component``; skip (fail in CI) when it is missing.

    ``component`` is a key of env.json (``"registry"``, ``"swarm_daemons"``, ...) or
    one of the short names ``daemon``, ``tls``, ``ssh``, ``swarm``.  An entry that is
    absent, null or empty counts as missing.
    """
    env = load_testenv()
    if env is None:
        unavailable(component, f"{env_path()} does not exist; {SETUP_HINT}")
    key = COMPONENT_KEYS.get(component, component)
    value = env.get(key)
    if value is None or value == "" or value == [] or value == {}:
        unavailable(component, f"{key!r} is missing or empty in {env_path()}; {SETUP_HINT}")
    return value


# --------------------------------------------------------------------------
# engines

ENGINES: Final = ("docker20", "docker26", "podman", "podman5")


@dataclass(frozen=True)
class Engine:
    """One engine of the test environment: ``name`` is one of ENGINES.

    ``netns`` names the network namespace the engine runs in (None: the test
    process's own), whose 127.0.0.1 is not the test process's.
    """

    name: str
    host: str
    image: str
    api_version: str
    netns: str | None = None


def engine_named(name: str) -> Engine:
    """Return the engine ``name`` of the test environment (skip, or fail in CI, without it)."""
    if name == "docker20":
        return Engine(
            name, f"unix://{require('unix_socket')}", require("image"), require("api_version")
        )
    if name == "docker26":
        entry = require("docker26")
        return Engine(
            name, entry["host"], require("image"), entry["api_version"], entry.get("netns")
        )
    if name == "podman":
        return Engine(
            name,
            f"unix://{require('podman_socket')}",
            require("podman_image"),
            require("podman_api_version"),
        )
    if name == "podman5":
        entry = require("podman5")
        return Engine(name, entry["host"], entry["image"], entry["api_version"], entry.get("netns"))
    raise pytest.UsageError(f"unknown engine {name!r}")
