"""Helpers of the compose runtime tests: the reference Docker Compose binary and projects."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from testenv import require


def compose_bin() -> str:
    """Return the path of the reference ``docker-compose`` (skip, or fail in CI, without it)."""
    path: str = require("compose_bin")
    return path


def run_compose(
    directory: Path, *args: str, host: str | None = None, check: bool = True, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run the reference binary in ``directory`` (talking to ``host``); return the result."""
    env = {**os.environ}
    env.pop("COMPOSE_PROJECT_NAME", None)
    env.pop("COMPOSE_FILE", None)
    if host is not None:
        env["DOCKER_HOST"] = host
    result = subprocess.run(
        [compose_bin(), *args],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"docker-compose {' '.join(args)} failed: {result.stderr}")
    return result


def oracle_config(directory: Path, *args: str) -> dict[str, Any]:
    """Return ``docker-compose [args] config --format json`` of the project in ``directory``."""
    result = run_compose(directory, *args, "config", "--format", "json")
    config: dict[str, Any] = json.loads(result.stdout)
    return config


def oracle_hashes(directory: Path, *args: str) -> dict[str, str]:
    """Return ``docker-compose config --hash '*'`` as {service: hash}."""
    result = run_compose(directory, *args, "config", "--hash", "*")
    pairs = (line.split() for line in result.stdout.splitlines() if line.strip())
    return {name: digest for name, digest in pairs}
