"""The labels and names Docker Compose v2 gives what it creates.

Private runtime module of :mod:`aiodocker.compose`: it imports only the stdlib.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

COMPOSE_VERSION: Final = "2.40.3"  # the Compose version whose behaviour this runtime follows

PREFIX: Final = "com.docker.compose."
PROJECT: Final = PREFIX + "project"
SERVICE: Final = PREFIX + "service"
CONTAINER_NUMBER: Final = PREFIX + "container-number"
ONEOFF: Final = PREFIX + "oneoff"
WORKING_DIR: Final = PREFIX + "project.working_dir"
CONFIG_FILES: Final = PREFIX + "project.config_files"
ENVIRONMENT_FILE: Final = PREFIX + "project.environment_file"
DEPENDS_ON: Final = PREFIX + "depends_on"
IMAGE: Final = PREFIX + "image"
CONFIG_HASH: Final = PREFIX + "config-hash"
VERSION: Final = PREFIX + "version"
NETWORK: Final = PREFIX + "network"
VOLUME: Final = PREFIX + "volume"
REPLACE: Final = PREFIX + "replace"
SLUG: Final = PREFIX + "slug"


def container_name(project: str, service: str, number: int, *, fixed: str | None = None) -> str:
    """Return a service container's name: ``container_name`` or ``{project}-{service}-{n}``."""
    return fixed if fixed else f"{project}-{service}-{number}"


def oneoff_name(project: str, service: str, slug: str) -> str:
    """Return a one-off (``run``) container's name: ``{project}-{service}-run-{slug[:12]}``."""
    return f"{project}-{service}-run-{slug[:12]}"


def resource_name(project: str, key: str, entry: Mapping[str, Any] | None) -> str:
    """Return a network's or volume's name: its ``name``, else ``{project}_{key}``."""
    if entry and entry.get("name"):
        return str(entry["name"])
    return f"{project}_{key}"


def depends_on_label(depends_on: Mapping[str, Mapping[str, Any]] | None) -> str:
    """Return the ``depends_on`` label: ``service:condition:restart`` items, sorted, joined."""
    items = []
    for name in sorted(depends_on or {}):
        spec = (depends_on or {})[name] or {}
        condition = spec.get("condition") or "service_started"
        restart = "true" if spec.get("restart") else "false"
        items.append(f"{name}:{condition}:{restart}")
    return ",".join(items)


def project_filter(project: str, *, oneoff: bool | None = False) -> dict[str, list[str]]:
    """Return list filters that select a project's containers (one-offs or not)."""
    labels = [f"{PROJECT}={project}"]
    if oneoff is not None:
        labels.append(f"{ONEOFF}={'True' if oneoff else 'False'}")
    return {"label": labels}


def project_labels(
    project: str,
    *,
    working_dir: str | None,
    config_files: Iterable[str],
    environment_files: Iterable[str],
) -> dict[str, str]:
    """Return the project-wide labels every service container carries."""
    labels = {PROJECT: project, VERSION: COMPOSE_VERSION}
    if working_dir:
        labels[WORKING_DIR] = working_dir
    files = ",".join(config_files)
    if files:
        labels[CONFIG_FILES] = files
    env_files = ",".join(environment_files)
    if env_files:
        labels[ENVIRONMENT_FILE] = env_files
    return labels
