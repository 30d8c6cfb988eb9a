"""Docker Compose projects, loaded natively: ``aiodocker.compose.load_project(...)``.

The loader follows the Compose Specification as Docker Compose v2.40.3 implements it
(its JSON schema is vendored in ``spec/compose-spec.json``): YAML with anchors and merge
keys, several files merged, interpolation, env files, ``include``, ``extends``, profiles,
validation, and normalisation into a [Project][aiodocker.compose.Project] whose
``to_json()`` equals ``docker compose config --format json``; and the same project
run on one engine as Docker Compose runs it
([ComposeProject][aiodocker.compose.ComposeProject]: ``up``, ``down``, ``ps``, ...), and
deployed to a Swarm cluster as ``docker stack deploy`` deploys it
([deploy_stack][aiodocker.compose.stack.deploy_stack], [Stack][aiodocker.compose.stack.Stack]).

This subpackage is not imported by ``import aiodocker``; it needs PyYAML.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._errors import ComposeError
from ._loader import load_project, normalize_project_name
from ._model import Dependency, FileReference, Mount, Port, Project, Service
from .project import (
    BuiltImage,
    ComposeContainer,
    ComposeDependencyError,
    ComposeEvent,
    ComposeProject,
    ComposeServiceError,
    ImageTransfer,
    LogLine,
    OneOff,
    ProjectSummary,
    Publisher,
    ServiceImage,
    list_projects,
)

if TYPE_CHECKING:
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

_LAZY = frozenset(
    {"DeployResult", "RemoveResult", "Stack", "StackConvertError", "StackDeployError",
     "StackSummary", "deploy_stack", "list_stacks", "plan_stack"}
)  # fmt: skip


def __getattr__(name: str) -> Any:
    # The Swarm stack deployer loads on first use: `compose up/ps/...` never needs it.
    if name in _LAZY:
        from . import stack

        return getattr(stack, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BuiltImage",
    "ComposeContainer",
    "ComposeDependencyError",
    "ComposeError",
    "ComposeEvent",
    "ComposeProject",
    "ComposeServiceError",
    "Dependency",
    "DeployResult",
    "FileReference",
    "ImageTransfer",
    "LogLine",
    "Mount",
    "OneOff",
    "Port",
    "Project",
    "ProjectSummary",
    "Publisher",
    "RemoveResult",
    "Service",
    "ServiceImage",
    "Stack",
    "StackConvertError",
    "StackDeployError",
    "StackSummary",
    "deploy_stack",
    "list_projects",
    "list_stacks",
    "load_project",
    "normalize_project_name",
    "plan_stack",
]
