"""aiodocker 0.27's body helpers that only its ``aiodocker.utils`` and ``Docker._query_json`` use.

Layer: ``_legacy`` (0.27 compatibility); imports the stdlib, ``_core.request`` and
``aiodocker.exceptions``.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from typing import Any, Final

from .._core.request import unexpected
from ..exceptions import DockerResponseError

__all__ = ("clean_filters", "human_bool", "parse_content_type", "parse_result")


def parse_content_type(ct: str) -> tuple[str, str, dict[str, str]]:
    """Split a Content-Type into (type, subtype, parameters), all lower-cased, as 0.27 does.

    Raises:
        ValueError: the type is not exactly ``type/subtype``, or a parameter is
            not ``key=value``; with 0.27's messages.
    """
    head, *raw_params = ct.split(";")
    kinds = head.split("/")
    if len(kinds) != 2:
        raise ValueError(f'Invalid mime-type component: "{head}"')
    params: dict[str, str] = {}
    for item in raw_params:
        option = item.strip()
        if not option:
            continue
        key, sep, value = option.partition("=")
        if not sep:
            raise ValueError(f'Invalid option component: "{option}"')
        params[key.lower()] = value.lower()
    return kinds[0].lower(), kinds[1].lower(), params


async def parse_result(
    response: Any, response_type: str | None = None, *, encoding: str = "utf-8"
) -> Any:
    """Parse a response body by its content type: JSON, tar, text, or ``""`` when empty.

    Raises:
        DockerResponseError: the body is not what its type says (invalid JSON or
            text in ``encoding``, or no tar archive); also a ``ValueError``, as
            0.27's ``json.JSONDecodeError`` was.
        TypeError: the content type is none of those.
    """
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
            encoding = params.get("charset", encoding).strip('"')
        else:
            raise TypeError(f"Unrecognized response type: {ct}")
    data = await response.read()
    if response_type == "json":
        try:
            return json.loads(data) if data.strip() else ""
        except UnicodeDecodeError as exc:
            raise _bad_body(response, "the body is not valid UTF-8", data) from exc
        except ValueError as exc:  # json.JSONDecodeError
            raise _bad_body(response, f"the body is not valid JSON ({exc})", data) from exc
    if response_type == "tar":
        import tarfile  # only here: not worth its import on every start

        try:
            return tarfile.open(mode="r", fileobj=io.BytesIO(data))
        except tarfile.TarError as exc:
            raise _bad_body(response, "the body is not a tar archive", data) from exc
    if response_type == "text":
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise _bad_body(response, f"the body is not valid {encoding} text", data) from exc
    raise TypeError(f"Unrecognized response type: {response_type}")


def _bad_body(response: Any, problem: str, body: bytes) -> DockerResponseError:
    """The contract error for ``response``, which may be any aiohttp-like response."""
    url = getattr(response, "url", "")
    path = str(getattr(url, "path", url))
    method = str(getattr(response, "method", "GET"))
    return unexpected(method, path, int(getattr(response, "status", 200)), problem, body)


_TRUE_WORDS: Final = frozenset({"true", "yes", "y", "1"})
_FALSE_WORDS: Final = frozenset({"false", "no", "n", "0"})


def human_bool(s: Any) -> bool:
    """Interpret "true", "yes", "y", "1" (any case) as True, their opposites as False.

    Any other value counts by its truth.

    Raises:
        ValueError: a string that is none of these words (0.27's message).
    """
    if isinstance(s, str):
        word = s.lower()
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
        raise ValueError(f"Cannot interpret {s!r} as boolean.")
    return bool(s)


def clean_filters(filters: Mapping[str, Any] | None = None) -> str:
    """Return filters as JSON with every value that is not a list wrapped in one, as 0.27 does.

    Values are not otherwise converted (``{"a": 1}`` gives ``{"a": [1]}``);
    None gives ``"{}"``. The client's own requests use
    ``request.encode_filters``, which also turns values into the strings the
    daemon expects.

    Raises:
        TypeError: ``filters`` is not a mapping.
    """
    if filters is None:
        return "{}"
    if not isinstance(filters, Mapping):
        raise TypeError("filters must be a mapping")
    return json.dumps(
        {key: value if isinstance(value, list) else [value] for key, value in filters.items()}
    )


