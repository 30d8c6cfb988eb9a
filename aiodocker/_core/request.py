"""Request building: quoted path arguments, query encoding, error mapping.

Layer: ``_core``; imports the stdlib and ``aiodocker.exceptions``.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Mapping
from typing import Any, Final, overload
from urllib.parse import quote, urlencode

from .._json import loads
from ..exceptions import (
    DockerConflictError,
    DockerError,
    DockerNotFoundError,
    DockerResponseError,
)

# Patterns are compiled on first use (``re`` caches them): a bare ``import aiodocker``
# need not pay ~1 ms for the redaction pattern of an error message it may never see.
API_VERSION_RE: Final = r"^v?(\d+)\.(\d+)$"

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
    if value.isalnum() and value.isascii():
        return value  # an id or a plain name: nothing to quote (and never "" or "..")
    if value in ("", ".", ".."):
        raise ValueError(f"invalid {what}: {value!r}")
    return quote(value, safe="")


def build_path(template: str, *args: str) -> str:
    """Fill ``{}`` placeholders of ``template`` with quoted path arguments."""
    return template.format(*[path_arg(a) for a in args])


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
    match = re.match(API_VERSION_RE, value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"Invalid API version format: {value!r} (expected e.g. 'v1.41' or 'auto')")
    return int(match.group(1)), int(match.group(2))


EXCERPT_BYTES: Final = 200

# "password": "...", "identitytoken": "...", "auth": "..." and the like, in any JSON body.
_SECRET_FIELD: Final = r'(?i)("(?:[A-Za-z_]*(?:password|passwd|token|secret|auth|key)[A-Za-z_]*)"\s*:\s*)"(?:[^"\\]|\\.)*"?'
# Authorization-style values: "Basic dXNlcjpwYXNz", "Bearer eyJ...".
# the schemes as they stand in an Authorization header (capitalised), followed by a
# token of 6+ characters: the daemon's own "no basic auth credentials" is left alone
_SECRET_SCHEME: Final = r"\b(Basic|Bearer|BASIC|BEARER)\s+[A-Za-z0-9._~+/=-]{6,}"


def redact(text: str) -> str:
    """Hide the values of credential-like JSON fields and Authorization-style tokens."""
    text = re.sub(_SECRET_FIELD, r'\1"<redacted>"', text)
    return re.sub(_SECRET_SCHEME, r"\1 <redacted>", text)


def excerpt(body: bytes) -> str:
    """At most ``EXCERPT_BYTES`` of a body as text, credentials redacted, for error messages."""
    if not body.strip():
        return "an empty body"
    text = body[:EXCERPT_BYTES].decode("utf-8", "replace").strip()
    more = f" ... ({len(body)} bytes)" if len(body) > EXCERPT_BYTES else ""
    return repr(redact(text)) + more


def error_from_response(status: int, body: bytes, content_type: str) -> DockerError:
    """Turn an error response into the matching exception: the one mapping point.

    The daemon's JSON ``message`` is kept whole (it is what aiodocker reports); any
    other body (an HTML page from a proxy, bytes that are not UTF-8) is cut to an
    excerpt with credentials redacted.
    """
    message = ""
    if body[:1] == b"{" or content_type == "application/json":
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        if isinstance(payload, dict) and isinstance(payload.get("message"), str):
            message = redact(payload["message"])
    if not message:
        if body.strip():
            message = redact(body[:EXCERPT_BYTES].decode("utf-8", "replace").strip())
            if len(body) > EXCERPT_BYTES:
                message += f" ... ({len(body)} bytes)"
        else:
            message = f"HTTP {status} with an empty body"
    return _ERROR_CLASSES.get(status, DockerError)(status, message)


class Shape(enum.Enum):
    """What a call expects in a successful answer's body."""

    OBJECT = "a JSON object"
    OBJECT_OR_NOTHING = "a JSON object or no body"  # where daemons differ; None for none
    ARRAY = "a JSON array"  # JSON null (Go's nil slice) reads as []
    OBJECTS = "a JSON array of objects"  # the same, each item an object
    STRING = "a JSON string"
    NOTHING = "no body"  # any body is read and ignored


def unexpected(
    method: str, path: str, status: int, problem: str, body: bytes | None = None
) -> DockerResponseError:
    """The error for an answer that breaks the contract; names the request, never its query.

    ``body`` None: the body was not read (an answer whose head already breaks the
    contract, such as a success where an upgrade was asked for), so none is quoted.
    """
    path = path.partition("?")[0]
    seen = "" if body is None else f", {excerpt(body)}"
    return DockerResponseError(status, f"{method} {path}: {problem} (HTTP {status}{seen})")


def decode_body(
    method: str, path: str, status: int, body: bytes, shape: Shape, require: tuple[str, ...] = ()
) -> Any:
    """Return the JSON value of a successful answer if it has the expected shape.

    ``require`` names the fields an object must have (``"Id"`` of a created object);
    with ``Shape.OBJECTS``, every item of the array.

    Raises:
        DockerResponseError: no body where one is due, invalid UTF-8 or JSON, or a
            value of another type than ``shape``.
    """
    if shape is Shape.NOTHING:
        return None
    if not body or body.isspace():  # isspace copies nothing (strip would copy a whole listing)
        if shape is Shape.OBJECT_OR_NOTHING:
            return None
        raise unexpected(method, path, status, f"expected {shape.value}, got no body", body)
    try:
        value = loads(body)
    except UnicodeDecodeError as exc:
        raise unexpected(method, path, status, "the body is not valid UTF-8", body) from exc
    except ValueError as exc:  # json.JSONDecodeError, or a body in a UTF-16/32 disguise
        raise unexpected(method, path, status, f"the body is not valid JSON ({exc})", body) from exc
    value = check_shape(value, shape, method=method, path=path, status=status, body=body)
    if require:
        items = value if shape is Shape.OBJECTS else [value]
        for name in require:  # plain loops, no frame per item: a listing has hundreds
            for item in items:
                if name not in item:
                    raise _lacking(method, path, status, body, shape, items, require)
    return value


def _lacking(
    method: str,
    path: str,
    status: int,
    body: bytes,
    shape: Shape,
    items: list[dict[str, Any]],
    require: tuple[str, ...],
) -> DockerResponseError:
    """The error naming the first item that lacks fields of ``require``, and which."""
    index, item = next(
        (i, item) for i, item in enumerate(items) if not all(name in item for name in require)
    )
    missing = ", ".join(name for name in require if name not in item)
    where = f"item {index} of the answer" if shape is Shape.OBJECTS else "the answer"
    return unexpected(method, path, status, f"{where} has no {missing}", body)


# keyed by member name: an Enum member hashes in Python, its name in C
_TYPES: Final = {
    Shape.OBJECT.name: dict,
    Shape.OBJECT_OR_NOTHING.name: dict,
    Shape.ARRAY.name: list,
    Shape.OBJECTS.name: list,
    Shape.STRING.name: str,
}


_DICT_ONLY: Final = frozenset({dict})


def check_shape(
    value: Any, shape: Shape, *, method: str, path: str, status: int = 200, body: bytes = b""
) -> Any:
    """Return ``value`` if it has ``shape``: the one body-shape check of the package.

    Raises:
        DockerResponseError: it has another shape.
    """
    if shape is Shape.NOTHING:
        return None
    if value is None and shape in (Shape.ARRAY, Shape.OBJECTS):
        return []
    if not isinstance(value, _TYPES[shape._name_]):
        problem = f"expected {shape.value}, got a JSON {_json_type(value)}"
        raise unexpected(method, path, status, problem, body)
    # a decoder makes exact dicts: one pass over the item types in C, the loop only to name the culprit
    if shape is Shape.OBJECTS and not set(map(type, value)) <= _DICT_ONLY:
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                problem = f"expected {shape.value}, item {index} is a JSON {_json_type(item)}"
                raise unexpected(method, path, status, problem, body)
    return value


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"
