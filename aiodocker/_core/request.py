"""Request building: quoted path arguments, query encoding, error mapping.

Layer: ``_core``; imports the stdlib and ``aiodocker.exceptions``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Final, overload
from urllib.parse import quote, urlencode

from ..exceptions import DockerConflictError, DockerError, DockerNotFoundError

API_VERSION_RE: Final = re.compile(r"^v?(\d+)\.(\d+)$")

_ERROR_CLASSES: Final[dict[int, type[DockerError]]] = {
    404: DockerNotFoundError,
    409: DockerConflictError,
}


def path_arg(value: str, what: str = "identifier") -> str:
    """Quote one path argument so it can never leave its path segment.

    Raises:
        TypeError: ``value`` is not a string.
        ValueError: ``value`` is empty or a relative path segment.
    """
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, not {type(value).__name__}")
    if value in ("", ".", ".."):
        raise ValueError(f"invalid {what}: {value!r}")
    return quote(value, safe="")


def build_path(template: str, *args: str) -> str:
    """Fill ``{}`` placeholders of ``template`` with quoted path arguments."""
    return template.format(*(path_arg(a) for a in args))


def encode_value(value: Any) -> str:
    """Encode one query value: bools as "1"/"0", containers as JSON."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, separators=(",", ":"))


def encode_query(params: Mapping[str, Any] | None) -> str:
    """Encode query parameters, dropping those whose value is None."""
    if not params:
        return ""
    pairs = [(k, encode_value(v)) for k, v in params.items() if v is not None]
    return urlencode(pairs, quote_via=quote) if pairs else ""


def httpize(d: Mapping[str, Any] | None) -> dict[str, str] | None:
    """Encode query values as aiodocker 0.27 does: bools as "1"/"0", other non-str as JSON."""
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


def _filter_word(value: Any) -> Any:
    """Booleans and numbers become the strings the engine compares filter values with."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return value


@overload
def encode_filters(filters: None) -> None: ...
@overload
def encode_filters(filters: Mapping[str, Any]) -> str: ...
def encode_filters(filters: Mapping[str, Any] | None) -> str | None:
    """Encode a ``filters`` query value as the JSON the daemon wants (None stays None).

    Scalars become one-item lists; booleans and numbers become strings (``"true"``,
    ``"1"``); a mapping value (``{"label": {"a=b": True}}``) is sent as given.

    Raises:
        TypeError: ``filters`` is not a mapping.
    """
    if filters is None:
        return None
    if not isinstance(filters, Mapping):
        raise TypeError(f"filters must be a mapping, not {type(filters).__name__}")
    encoded: dict[str, Any] = {}
    for key, value in filters.items():
        if isinstance(value, (list, tuple, set, frozenset)):
            encoded[key] = [_filter_word(v) for v in value]
        elif isinstance(value, Mapping):
            encoded[key] = dict(value)
        else:
            encoded[key] = [_filter_word(value)]
    return json.dumps(encoded)


def parse_api_version(value: str) -> tuple[int, int]:
    """Parse "v1.41" or "1.41" into (1, 41).

    Raises:
        ValueError: the value is not of that form.
    """
    match = API_VERSION_RE.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"Invalid API version format: {value!r} (expected e.g. 'v1.41' or 'auto')")
    return int(match.group(1)), int(match.group(2))


def error_from_response(status: int, body: bytes, content_type: str) -> DockerError:
    """Turn an error response into the matching exception: the one mapping point."""
    message = ""
    text = body.decode("utf-8", "replace").strip()
    if text and (content_type == "application/json" or text.startswith("{")):
        try:
            payload = json.loads(text)
        except ValueError:
            payload = None
        if isinstance(payload, dict) and isinstance(payload.get("message"), str):
            message = payload["message"]
    if not message:
        message = text or f"HTTP {status} with an empty body"
    return _ERROR_CLASSES.get(status, DockerError)(status, message)
