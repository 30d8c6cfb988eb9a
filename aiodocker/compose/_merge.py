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
from typing import Any, Final

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


def _merge_keys(
    base: dict[str, Any],
    over: dict[str, Any],
    merge: Callable[[str, Any, Any], Any],
    missing: Any = None,
) -> dict[str, Any]:
    """``over`` applied on ``base`` key by key: ``!reset`` drops a key, ``!override``
    replaces it, and ``merge(key, old, value)`` gives any other key's value (``old`` is
    ``missing`` where ``base`` lacks the key)."""
    result = dict(base)
    for key, value in over.items():
        if isinstance(value, Reset):
            result.pop(key, None)
        elif isinstance(value, Override):
            result[key] = strip_markers(value.value)
        else:
            result[key] = merge(key, result.get(key, missing), value)
    return result


def merge_service(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` applied on ``base`` (a new dict; both in canonical form)."""
    return _merge_keys(base, over, _merge_service_key)


def _merge_service_key(key: str, old: Any, value: Any) -> Any:
    """The value of a service's ``key`` when ``value`` is merged onto ``old``."""
    if old is None or value is None or key in _REPLACED or key.startswith("x-"):
        return strip_markers(value)
    both_lists = isinstance(old, list) and isinstance(value, list)
    if key == "logging":
        if value.get("driver") and old.get("driver") and value["driver"] != old["driver"]:
            return strip_markers(value)
        return _merge_map(old, value, "")
    if key == "healthcheck":
        merged = _merge_map(old, {k: v for k, v in value.items() if k != "test"}, "")
        if "test" in value:
            merged["test"] = strip_markers(value["test"])
        return merged
    if key == "extra_hosts" and both_lists:
        return sorted(_unique([*old, *value], _hashable))
    if key == "networks" and isinstance(old, dict) and isinstance(value, dict):
        return _merge_networks(old, value)
    if key == "ulimits":
        return {**old, **strip_markers(value)}
    if key in _SERVICE_LIST_KEYS and both_lists:
        return _unique([*old, *strip_markers(value)], _SERVICE_LIST_KEYS[key])
    return _merge_value(key, old, value)


def _merge_networks(old: dict[str, Any], value: dict[str, Any]) -> dict[str, Any]:
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
    return networks

def _hashable(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    return value


def _merge_map(base: dict[str, Any], over: dict[str, Any], parent: str) -> dict[str, Any]:
    return _merge_keys(base, over, _merge_value)


def _merge_value(key: str, old: Any, value: Any) -> Any:
    if isinstance(old, dict) and isinstance(value, dict):
        return _merge_map(old, value, key)
    if isinstance(old, list) and isinstance(value, list):
        return _unique([*old, *strip_markers(value)], _hashable)
    return strip_markers(value)


def merge_document(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Two whole canonical files merged (``over`` wins)."""
    return _merge_keys(base, over, _merge_document_key, missing=_ABSENT)


_ABSENT: Final = object()


def _merge_document_key(key: str, old: Any, value: Any) -> Any:
    if key == "services" and isinstance(old, dict):
        services = dict(old)
        for name, spec in (value or {}).items():
            if isinstance(spec, Reset):
                services.pop(name, None)
            elif name in services and isinstance(spec, dict) and not isinstance(spec, Override):
                services[name] = merge_service(services[name], spec)
            else:
                services[name] = spec
        return services
    if isinstance(old, dict) and isinstance(value, dict) and not key.startswith("x-"):
        return _merge_map(old, value, key)
    if old is _ABSENT:
        return value  # markers kept: a later file may still be merged over it
    return strip_markers(value)
