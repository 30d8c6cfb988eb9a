"""The fields ``docker stack services`` and ``docker stack ps`` print, from the daemon's objects.

Layer: a leaf of the stack command line (stdlib only). Each row maps a field of the
docker CLI's formatter (``{{.Name}}``, ``{{.Replicas}}``, ...) to its text, worded as
the CLI words it, for :func:`aiodocker.compose._stack_format.render`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from .._humanize import human_duration

SERVICE_FIELDS: Final = ("ID", "Name", "Mode", "Replicas", "Image", "Ports")
TASK_FIELDS: Final = (
    "ID",
    "Name",
    "Image",
    "Node",
    "DesiredState",
    "CurrentState",
    "Error",
    "Ports",
)
# The CLI cuts a task's error to this many characters (with an ellipsis) unless --no-trunc.
_MAX_ERROR: Final = 30
_FRACTION: Final = re.compile(r"(\.\d{6})\d*")


def _short_image(image: str) -> str:
    """The image without its digest, as the CLI shows a tagged or digest-pinned image."""
    return image.split("@", 1)[0] if "@" in image else image


def _replicas(service: Mapping[str, Any]) -> tuple[str, str]:
    spec = service["Spec"]
    mode = spec.get("Mode") or {}
    status = service.get("ServiceStatus") or {}
    running, desired = status.get("RunningTasks", 0), status.get("DesiredTasks", 0)
    completed = status.get("CompletedTasks", 0)
    if "Global" in mode:
        return "global", f"{running}/{desired}"
    if "ReplicatedJob" in mode:
        total = (mode["ReplicatedJob"] or {}).get("TotalCompletions", 1)
        return "replicated job", f"{running}/{desired} ({completed}/{total} completed)"
    if "GlobalJob" in mode:
        return "global job", f"{running}/{desired} ({completed}/{desired} completed)"
    per_node = (spec["TaskTemplate"].get("Placement") or {}).get("MaxReplicas")
    extra = f" (max {per_node} per node)" if per_node else ""
    return "replicated", f"{running}/{desired}{extra}"


def _task_ports(ports: Sequence[Mapping[str, Any]]) -> str:
    return ",".join(
        f"*:{port.get('PublishedPort', 0)}->{port.get('TargetPort', 0)}/"
        f"{port.get('Protocol', 'tcp')}"
        for port in ports
    )


def _service_ports(ports: Sequence[Mapping[str, Any]]) -> str:
    """The ingress ports, consecutive ones as ranges (``*:80-81->80-81/tcp``), as the CLI."""
    ranges: list[list[Any]] = []  # [published start, end, target start, end, protocol]
    ordered = sorted(
        ports, key=lambda port: (str(port.get("Protocol", "")), port.get("PublishedPort", 0))
    )
    for port in ordered:
        if port.get("PublishMode", "ingress") != "ingress":
            continue
        published, target = port.get("PublishedPort", 0), port.get("TargetPort", 0)
        protocol = port.get("Protocol", "tcp")
        last = ranges[-1] if ranges else None
        if last and (published - last[1], target - last[3], protocol) == (1, 1, last[4]):
            last[1], last[3] = published, target
            continue
        ranges.append([published, published, target, target, protocol])

    def span(start: int, end: int) -> str:
        return f"{start}-{end}" if end > start else str(start)

    return ", ".join(
        f"*:{span(p0, p1)}->{span(t0, t1)}/{proto}" for p0, p1, t0, t1, proto in ranges
    )


def service_row(service: Mapping[str, Any]) -> dict[str, str]:
    """The fields of one line of ``docker stack services``."""
    mode, replicas = _replicas(service)
    image = str(service["Spec"]["TaskTemplate"]["ContainerSpec"].get("Image", ""))
    return {
        "ID": str(service["ID"])[:12],
        "Name": str(service["Spec"]["Name"]),
        "Mode": mode,
        "Replicas": replicas,
        "Image": _short_image(image),
        "Ports": _service_ports((service.get("Endpoint") or {}).get("Ports") or []),
    }


def _natural(text: str) -> list[Any]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def _ago(timestamp: str) -> str:
    try:
        when = datetime.fromisoformat(_FRACTION.sub(r"\1", timestamp).replace("Z", "+00:00"))
    except ValueError:
        return ""
    return human_duration(max(0.0, time.time() - when.timestamp())).lower() + " ago"


def task_rows(
    tasks: Sequence[Mapping[str, Any]],
    services: Mapping[str, str],
    nodes: Mapping[str, str],
    *,
    trunc: bool,
    table: bool,
) -> list[dict[str, str]]:
    """The lines of ``docker stack ps``, in its order: by name, the newest task first.

    ``services`` and ``nodes`` map ids to names (empty for ``--no-resolve``); a task is
    named ``SERVICE.SLOT`` (``SERVICE.NODE`` for a global service), and in a table the
    older tasks of a slot are indented with `` \\_ ``.
    """
    named = []
    for task in tasks:
        service_id, node_id = str(task.get("ServiceID", "")), str(task.get("NodeID", ""))
        suffix = task["Slot"] if task.get("Slot") else node_id
        named.append((f"{services.get(service_id, service_id)}.{suffix}", task))
    named.sort(key=lambda item: str(item[1].get("CreatedAt", "")), reverse=True)
    named.sort(key=lambda item: _natural(item[0]))
    rows, previous = [], ""
    for name, task in named:
        status = task.get("Status") or {}
        error = str(status.get("Err") or "")
        if trunc and len(error) > _MAX_ERROR:
            error = error[: _MAX_ERROR - 1] + "…"
        image = str(task["Spec"]["ContainerSpec"].get("Image", ""))
        node_id = str(task.get("NodeID", ""))
        rows.append(
            {
                "ID": str(task["ID"])[:12] if trunc else str(task["ID"]),
                "Name": f" \\_ {name}" if table and name == previous else name,
                "Image": _short_image(image) if trunc else image,
                "Node": nodes.get(node_id, node_id),
                "DesiredState": str(task.get("DesiredState", "")).capitalize(),
                "CurrentState": f"{str(status.get('State', '')).capitalize()} "
                + _ago(str(status.get("Timestamp", ""))),
                "Error": f'"{error}"' if error else "",
                "Ports": _task_ports((status.get("PortStatus") or {}).get("Ports") or []),
            }
        )
        previous = name
    return rows
