"""Compose's merge rules, on files in canonical form (``-f`` overrides, ``extends``).

Mappings merge key by key; scalars and ``command``, ``entrypoint``, ``healthcheck.test`` and
``ulimits`` entries are replaced; lists are appended, and the ones Compose keys are then
made unique (the later entry replaces the earlier one in its place): ports by address and
protocol, volumes by target, secrets and configs by target, ``env_file`` by path, the
string lists by value.  ``logging`` merges only when both sides name the same driver.
``!reset`` removes a value and ``!override`` replaces it whole.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._yaml import Override, Reset

_REPLACED = frozenset({"command", "entrypoint", "ulimits_entry"})


def _port_key(port: dict[str, Any]) -> Any:
    return (port.get("host_ip", ""), port.get("published", ""), port.get("target"), port.get("protocol"))


def _unique(items: list[Any], key: Callable[[Any], Any]) -> list[Any]:
    index: dict[Any, int] = {}
    result: list[Any] = []
    for item in items:
        k = key(item)
        if k in index:
            result[index[k]] = item
        else:
            index[k] = len(result)
            result.append(item)
    return result


def _target(ref: dict[str, Any]) -> Any:
    return ref.get("target") or f"/{ref.get('source')}"


_SERVICE_LIST_KEYS: dict[str, Callable[[Any], Any]] = {
    "ports": _port_key,
    "volumes": lambda v: v.get("target"),
    "secrets": _target,
    "configs": _target,
    "env_file": lambda e: e.get("path"),
    "devices": lambda d: d.get("target"),
}


def strip_markers(value: Any) -> Any:
    """Drop ``!reset`` values and unwrap ``!override`` ones in a tree that overrides nothing."""
    if isinstance(value, Override):
        return strip_markers(value.value)
    if isinstance(value, dict):
        return {k: strip_markers(v) for k, v in value.items() if not isinstance(v, Reset)}
    if isinstance(value, list):
        return [strip_markers(v) for v in value if not isinstance(v, Reset)]
    return value


def merge_service(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` applied on ``base`` (a new dict; both in canonical form)."""
    result = dict(base)
    for key, value in over.items():
        if isinstance(value, Reset):
            result.pop(key, None)
            continue
        if isinstance(value, Override):
            result[key] = strip_markers(value.value)
            continue
        old = result.get(key)
        if old is None or value is None or key in _REPLACED or key.startswith("x-"):
            result[key] = strip_markers(value)
        elif key == "logging":
            if value.get("driver") and old.get("driver") and value["driver"] != old["driver"]:
                result[key] = strip_markers(value)
            else:
                result[key] = _merge_map(old, value, "")
        elif key == "healthcheck":
            merged = _merge_map(old, {k: v for k, v in value.items() if k != "test"}, "")
            if "test" in value:
                merged["test"] = strip_markers(value["test"])
            result[key] = merged
        elif key == "extra_hosts" and isinstance(old, list) and isinstance(value, list):
            result[key] = sorted(_unique([*old, *value], _hashable))
        elif key == "networks" and isinstance(old, dict) and isinstance(value, dict):
            networks = dict(old)
            for name, spec in value.items():
                if isinstance(spec, Reset):
                    networks.pop(name, None)
                elif spec is None and name in networks:
                    continue  # a bare name keeps what the base says about the network
                elif isinstance(networks.get(name), dict) and isinstance(spec, dict):
                    networks[name] = _merge_map(networks[name], spec, name)
                else:
                    networks[name] = strip_markers(spec)
            result[key] = networks
        elif key == "ulimits":
            merged_limits = dict(old)
            merged_limits.update(strip_markers(value))
            result[key] = merged_limits
        elif key in _SERVICE_LIST_KEYS and isinstance(old, list) and isinstance(value, list):
            result[key] = _unique([*old, *strip_markers(value)], _SERVICE_LIST_KEYS[key])
        elif isinstance(old, list) and isinstance(value, list):
            result[key] = _unique([*old, *strip_markers(value)], _hashable)
        elif isinstance(old, dict) and isinstance(value, dict):
            result[key] = _merge_map(old, value, key)
        else:
            result[key] = strip_markers(value)
    return result


def _hashable(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    return value


def _merge_map(base: dict[str, Any], over: dict[str, Any], parent: str) -> dict[str, Any]:
    result = dict(base)
    for key, value in over.items():
        if isinstance(value, Reset):
            result.pop(key, None)
            continue
        if isinstance(value, Override):
            result[key] = strip_markers(value.value)
            continue
        old = result.get(key)
        if isinstance(old, dict) and isinstance(value, dict):
            result[key] = _merge_map(old, value, key)
        elif isinstance(old, list) and isinstance(value, list):
            result[key] = _unique([*old, *strip_markers(value)], _hashable)
        else:
            result[key] = strip_markers(value)
    return result


def merge_document(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Two whole canonical files merged (``over`` wins)."""
    result = dict(base)
    for key, value in over.items():
        if isinstance(value, Reset):
            result.pop(key, None)
        elif isinstance(value, Override):
            result[key] = strip_markers(value.value)
        elif key == "services" and isinstance(result.get(key), dict):
            services = dict(result[key])
            for name, spec in (value or {}).items():
                if isinstance(spec, Reset):
                    services.pop(name, None)
                elif name in services and isinstance(spec, dict) and not isinstance(spec, Override):
                    services[name] = merge_service(services[name], spec)
                else:
                    services[name] = spec
            result[key] = services
        elif isinstance(result.get(key), dict) and isinstance(value, dict) and not key.startswith("x-"):
            result[key] = _merge_map(result[key], value, key)
        elif key not in result:
            result[key] = value  # markers kept: a later file may still be merged over it
        else:
            result[key] = strip_markers(value)
    return result
