"""``--progress rawjson``: each ``StatusResponse`` as a JSON document, in buildx's shape.

Layer: ``_buildkit``; imports the stdlib and :mod:`.control`.

buildx prints BuildKit's ``SolveStatus`` as JSON: ``vertexes``, ``statuses``,
``logs`` (``data`` base64) and ``warnings``, times as RFC 3339 strings, empty
fields left out (``current`` always written), each document indented by two spaces.
"""

from __future__ import annotations

import base64
import datetime
import json
from typing import Any

from .control import StatusResponse


def _time(value: float | None) -> str | None:
    if value is None:
        return None
    moment = datetime.datetime.fromtimestamp(value, tz=datetime.timezone.utc)
    return moment.isoformat().replace("+00:00", "Z")


def _compact(values: dict[str, Any], keep: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        key: value
        for key, value in values.items()
        if key in keep or value not in (None, "", 0, [], False)
    }


def status_json(response: StatusResponse) -> dict[str, Any]:
    """The JSON object buildx's rawjson progress prints for one status update."""
    document: dict[str, Any] = {}
    if response.vertexes:
        document["vertexes"] = [
            _compact(
                {
                    "digest": v.digest,
                    "inputs": list(v.inputs),
                    "name": v.name,
                    "started": _time(v.started),
                    "completed": _time(v.completed),
                    "cached": v.cached,
                    "error": v.error,
                }
            )
            for v in response.vertexes
        ]
    if response.statuses:
        document["statuses"] = [
            _compact(
                {
                    "id": s.id,
                    "vertex": s.vertex,
                    "name": s.name,
                    "total": s.total,
                    "current": s.current,
                    "timestamp": _time(s.timestamp),
                    "started": _time(s.started),
                    "completed": _time(s.completed),
                },
                keep=("current",),  # buildx always writes it
            )
            for s in response.statuses
        ]
    if response.logs:
        document["logs"] = [
            _compact(
                {
                    "vertex": log.vertex,
                    "stream": log.stream,
                    "data": base64.b64encode(log.msg).decode(),
                    "timestamp": _time(log.timestamp),
                }
            )
            for log in response.logs
        ]
    if response.warnings:
        document["warnings"] = [
            _compact(
                {
                    "vertex": w.vertex,
                    "level": w.level,
                    "short": base64.b64encode(w.short).decode(),
                    "detail": [base64.b64encode(d).decode() for d in w.detail],
                    "url": w.url,
                }
            )
            for w in response.warnings
        ]
    return document


def status_text(response: StatusResponse) -> str:
    """One status update as buildx prints it: indented JSON."""
    return json.dumps(status_json(response), indent=2)
