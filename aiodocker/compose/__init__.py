"""Docker Compose projects, loaded natively: ``aiodocker.compose.load_project(...)``.

The loader follows the Compose Specification as Docker Compose v2.40.3 implements it
(its JSON schema is vendored in ``spec/compose-spec.json``): YAML with anchors and merge
keys, several files merged, interpolation, env files, ``include``, ``extends``, profiles,
validation, and normalisation into a [Project][aiodocker.compose.Project] whose
``to_json()`` equals ``docker compose config --format json``; and the same project
deployed to a Swarm cluster as ``docker stack deploy`` deploys it
([deploy_stack][aiodocker.compose.deploy_stack], [Stack][aiodocker.compose.Stack]).

This subpackage is not imported by ``import aiodocker``; it needs PyYAML.
"""

from __future__ import annotations

from ._errors import ComposeError
from ._loader import load_project, normalize_project_name
from ._model import Dependency, FileReference, Mount, Port, Project, Service
from .stack import (
    DeployResult,
    RemoveResult,
    Stack,
    StackConvertError,
    StackDeployError,
    StackSummary,
    deploy_stack,
    list_stacks,
    plan_stack,
)

__all__ = [
    "ComposeError",
    "Dependency",
    "DeployResult",
    "FileReference",
    "Mount",
    "Port",
    "Project",
    "RemoveResult",
    "Service",
    "Stack",
    "StackConvertError",
    "StackDeployError",
    "StackSummary",
    "deploy_stack",
    "list_stacks",
    "load_project",
    "normalize_project_name",
    "plan_stack",
]
