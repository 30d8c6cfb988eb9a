"""Helpers that are part of aiodocker's public surface (kept at ``aiodocker.utils``)."""

from __future__ import annotations

import codecs
import io
import json
from collections.abc import Iterable, Mapping
from typing import IO, Any

from ._core import credentials

__all__ = (
    "clean_filters",
    "clean_map",
    "clean_networks",
    "compose_auth_header",
    "format_env",
    "httpize",
    "human_bool",
    "identical",
    "mktar_from_dockerfile",
    "parse_content_type",
    "parse_result",
)


def compose_auth_header(auth: Any, registry_addr: str | None = None) -> str:
    """Encode registry credentials for the ``X-Registry-Auth`` header (URL-safe base64 JSON)."""
    return credentials.compose_auth_header(auth, registry_addr)


def parse_content_type(ct: str) -> tuple[str, str, dict[str, str]]:
    """Split a Content-Type into (type, subtype, parameters)."""
    head, *raw_params = ct.lower().split(";")
    main, slash, sub = head.strip().partition("/")
    if not slash:
        raise ValueError(f"Invalid content type: {ct!r} (no subtype)")
    params: dict[str, str] = {}
    for item in raw_params:
        key, sep, value = item.strip().partition("=")
        if sep:
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
        import tarfile

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


def httpize(d: Mapping[str, Any] | None) -> dict[str, str] | None:
    """Encode query values as aiodocker does: bools as "1"/"0", other non-str as JSON."""
    if d is None:
        return None
    converted: dict[str, str] = {}
    for key, value in d.items():
        if isinstance(value, bool):
            converted[key] = "1" if value else "0"
        elif isinstance(value, str):
            converted[key] = value
        else:
            converted[key] = json.dumps(value)
    return converted


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


def clean_filters(filters: Mapping[str, Any] | None = None) -> str:
    """Encode filters as the JSON the daemon wants; scalars become one-item lists."""
    if filters is None:
        return "{}"
    if not isinstance(filters, Mapping):
        raise TypeError("filters must be a mapping")
    cleaned: dict[str, Any] = {}
    for key, value in filters.items():
        if isinstance(value, (list, tuple, set, frozenset)):
            cleaned[key] = list(value)
        elif isinstance(value, Mapping):
            cleaned[key] = dict(value)
        else:
            cleaned[key] = [value]
    return json.dumps(cleaned)


def mktar_from_dockerfile(fileobj: IO[bytes] | IO[str] | bytes | str) -> IO[bytes]:
    """Return a gzipped tar (in a temporary file) holding ``fileobj`` as ``Dockerfile``."""
    if isinstance(fileobj, str):
        data = fileobj.encode()
    elif isinstance(fileobj, bytes):
        data = fileobj
    else:
        raw = fileobj.read()
        data = raw.encode() if isinstance(raw, str) else raw
    import tarfile
    import tempfile

    f = tempfile.NamedTemporaryFile()  # noqa: SIM115 - the caller owns it
    with tarfile.open(mode="w:gz", fileobj=f) as tar:
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    f.seek(0)
    return f


