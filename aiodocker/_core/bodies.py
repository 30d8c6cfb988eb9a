"""JSON bodies: build request bodies and compare them.

Layer: ``_core``; imports the stdlib. aiodocker 0.27 exposes some of these as
``aiodocker.utils``; the package uses them from here. The 0.27-only ones
(``parse_result``, ``parse_content_type``, ``human_bool``, ``clean_filters``) live in
``aiodocker._legacy.bodies``.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = (
    "clean_map",
    "clean_networks",
    "endpoint_mac_address",
    "format_env",
    "identical",
)


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
