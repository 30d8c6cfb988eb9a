"""JSON bodies: build request bodies, compare them, and parse response bodies.

Layer: ``_core``; imports the stdlib, ``.request`` and ``aiodocker.exceptions``. These
are the helpers that aiodocker 0.27 exposes as ``aiodocker.utils``; the package uses
them from here.
"""

from __future__ import annotations

import codecs
import io
import json
from collections.abc import Iterable, Mapping
from typing import Any, Final

from ..exceptions import DockerResponseError
from .request import unexpected

__all__ = (
    "clean_filters",
    "clean_map",
    "clean_networks",
    "endpoint_mac_address",
    "format_env",
    "human_bool",
    "identical",
    "parse_content_type",
    "parse_result",
)


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


def clean_map(obj: Mapping[Any, Any]) -> dict[Any, Any]:
    """Drop the items whose value is None."""
    return {k: v for k, v in obj.items() if v is not None}


def endpoint_mac_address(config: Mapping[str, Any]) -> dict[str, Any]:
    """Move a create body's container-wide ``MacAddress`` to its network's endpoint.

    API 1.52 dropped ``Config.MacAddress`` on ``POST /containers/create``: the
    address goes in ``NetworkingConfig.EndpointsConfig[network].MacAddress`` of
    the network the container joins, ``HostConfig.NetworkMode`` (``bridge``
    when unset or ``default``). The caller's mapping is not modified.

    Raises:
        ValueError: the network mode gives the container no endpoint of its own
            (``host``, ``none``, ``container:<id>``), or that endpoint already
            has another ``MacAddress``.
    """
    body = dict(config)
    mac = body.pop("MacAddress")
    mode = (body.get("HostConfig") or {}).get("NetworkMode") or "default"
    network = "bridge" if mode == "default" else mode
    if network in ("host", "none") or network.startswith("container:"):
        raise ValueError(
            f"MacAddress {mac!r} cannot be set with NetworkMode {mode!r}: "
            "the container has no network endpoint of its own"
        )
    networking = dict(body.get("NetworkingConfig") or {})
    endpoints = dict(networking.get("EndpointsConfig") or {})
    endpoint = dict(endpoints.get(network) or {})
    if endpoint.get("MacAddress") not in (None, "", mac):
        raise ValueError(
            f"MacAddress {mac!r} differs from the MacAddress {endpoint['MacAddress']!r} "
            f"of the endpoint of network {network!r}"
        )
    endpoint["MacAddress"] = mac
    endpoints[network] = endpoint
    networking["EndpointsConfig"] = endpoints
    body["NetworkingConfig"] = networking
    return body


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
