"""JSON bodies: build request bodies, compare them, and parse response bodies.

Layer: ``_core``; imports the stdlib only. These are the helpers that aiodocker 0.27
exposes as ``aiodocker.utils``; the package uses them from here.
"""

from __future__ import annotations

import codecs
import io
import json
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = (
    "clean_map",
    "clean_networks",
    "format_env",
    "human_bool",
    "identical",
    "parse_content_type",
    "parse_result",
)


def parse_content_type(ct: str) -> tuple[str, str, dict[str, str]]:
    """Split a Content-Type into (type, subtype, parameters).

    Raises:
        ValueError: there is no subtype, or a parameter is not ``key=value`` (as 0.27).
    """
    head, *raw_params = ct.lower().split(";")
    main, slash, sub = head.strip().partition("/")
    if not slash:
        raise ValueError(f"Invalid content type: {ct!r} (no subtype)")
    params: dict[str, str] = {}
    for item in raw_params:
        if not item.strip():
            continue
        key, sep, value = item.strip().partition("=")
        if not sep:
            raise ValueError(f"Invalid content type parameter {item.strip()!r} in {ct!r}")
        params[key.strip()] = value.strip().strip('"')
    return main, sub, params


async def parse_result(
    response: Any, response_type: str | None = None, *, encoding: str = "utf-8"
) -> Any:
    """Parse a response body by its content type: JSON, tar, text, or ``""`` when empty."""
    if response_type is None:
        ct = response.headers.get("content-type")
        if ct is None:
            data = await response.read()
            if not data:
                return ""
            try:
                return json.loads(data)
            except ValueError:
                return data.decode(encoding, "replace")
        main, sub, params = parse_content_type(ct)
        if sub == "json" or sub.endswith("+json"):
            response_type = "json"
        elif sub == "x-tar":
            response_type = "tar"
        elif main == "text":
            response_type = "text"
            encoding = params.get("charset", encoding)
        else:
            raise TypeError(f"Unrecognized response type: {ct}")
    data = await response.read()
    if response_type == "json":
        return json.loads(data) if data.strip() else ""
    if response_type == "tar":
        import tarfile  # only here: not worth its import on every start

        return tarfile.open(mode="r", fileobj=io.BytesIO(data))
    if response_type == "text":
        return data.decode(encoding, "replace")
    raise TypeError(f"Unrecognized response type: {response_type}")


def identical(d1: Any, d2: Any) -> bool:
    """Return whether every key of ``d1`` has an equal value in ``d2`` (recursively)."""
    if type(d1) is not type(d2):
        return False
    if isinstance(d1, dict):
        keys = set(d1.keys()) | set(d2.keys())
        for key in keys:
            if not identical(d1.get(key, {}), d2.get(key, {})):
                return False
        return True
    if isinstance(d1, list):
        return len(d1) == len(d2) and all(identical(a, b) for a, b in zip(d1, d2, strict=True))
    return bool(d1 == d2)


def human_bool(s: Any) -> bool:
    """Interpret "1", "true", "yes", "y" (any case) or a truthy value as True."""
    if isinstance(s, str):
        word = s.lower()
        if word in ("y", "yes", "true", "t", "on", "1"):
            return True
        if word in ("n", "no", "false", "f", "off", "0"):
            return False
        raise ValueError(f"{s!r} is not a recognised boolean")
    return bool(s)


def clean_map(obj: Mapping[Any, Any]) -> dict[Any, Any]:
    """Drop the items whose value is None."""
    return {k: v for k, v in obj.items() if v is not None}


def format_env(key: str, value: str | bytes | None) -> str:
    """Format one environment entry as ``KEY=VALUE`` (``KEY`` alone for None)."""
    if value is None:
        return key
    if isinstance(value, bytes):
        value = codecs.decode(value, "utf-8")
    return f"{key}={value}"


def clean_networks(networks: Iterable[str | dict[str, Any]] | None = None) -> list[Any]:
    """Turn network names into service ``Networks`` entries; dict entries pass as given."""
    if networks is None:
        return []
    if not isinstance(networks, list):
        raise TypeError("networks parameter must be a list.")
    return [{"Target": n} if isinstance(n, str) else n for n in networks]
