"""Docker Compose projects, loaded natively: ``aiodocker.compose.load_project(...)``.

The loader follows the Compose Specification as Docker Compose v2.40.3 implements it
(its JSON schema is vendored in ``spec/compose-spec.json``): YAML with anchors and merge
keys, several files merged, interpolation, env files, ``include``, ``extends``, profiles,
validation, and normalisation into a [Project][aiodocker.compose.Project] whose
``to_json()`` equals ``docker compose config --format json``.

This subpackage is not imported by ``import aiodocker``; it needs PyYAML.
"""

from __future__ import annotations

from ._errors import ComposeError
from ._loader import load_project, normalize_project_name
from ._model import Dependency, FileReference, Mount, Port, Project, Service

__all__ = [
    "ComposeError",
    "Dependency",
    "FileReference",
    "Mount",
    "Port",
    "Project",
    "Service",
    "load_project",
    "normalize_project_name",
]
