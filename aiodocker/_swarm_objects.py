"""What the swarm resource modules share: secret/config stores and task/service logs.

Layer: resource (private). Imports ``_core``, ``_responses`` and ``_streams``; imported by
``configs``, ``secrets``, ``services`` and ``tasks``.

Secrets and configs are the same shape (``Spec`` = name, labels, base64 data,
templating, plus a driver for secrets), so :class:`SwarmObjectStore` holds their
behaviour once; the public classes only declare their endpoint table and their
aiodocker-compatible signatures.
"""

from __future__ import annotations

import base64
import builtins
import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Final

from ._core.request import Shape, build_path, encode_filters
from ._responses import ResponseStream, collect
from ._streams.frames import decoder_for
from ._streams.text import FrameText

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from ._transport.base import Response
    from .docker import Docker

__all__ = (
    "MissingFieldError",
    "ObjectPaths",
    "SwarmObjectStore",
    "encode_data",
    "log_text",
)

# Output that is not valid UTF-8 is dropped, as aiodocker's log decoding does.
LOG_DECODE_ERRORS: Final = "ignore"


class MissingFieldError(KeyError, ValueError):
    """A required field of a spec is missing (a KeyError for aiodocker compatibility)."""


def encode_data(data: str | bytes, *, b64: bool) -> str:
    """Base64-encode object data, or pass it through if ``b64`` says it already is."""
    if b64:
        return data.decode("ascii") if isinstance(data, bytes) else data
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    return base64.b64encode(raw).decode("ascii")


@dataclass(frozen=True)
class ObjectPaths:
    """The endpoint table of one kind of swarm object."""

    collection: str  # GET: list
    create: str  # POST: create
    item: str  # GET: inspect, DELETE: delete; one ``{}`` for the id
    update: str  # POST: update; one ``{}`` for the id


class SwarmObjectStore:
    """The behaviour shared by ``docker.secrets`` and ``docker.configs``."""

    _paths: ClassVar[ObjectPaths]

    def __init__(self, docker: Docker) -> None:
        self.docker = docker

    async def _list(self, filters: Mapping[str, Any] | None) -> builtins.list[dict[str, Any]]:
        # aiodocker always sends ``filters`` ("{}" when there are none)
        params = {"filters": encode_filters(filters or {})}
        return await self.docker._api.call(
            "GET", self._paths.collection, params=params, expect=Shape.OBJECTS
        )

    async def _create(
        self,
        name: str,
        data: str | bytes,
        *,
        b64: bool,
        labels: Mapping[str, str] | None,
        extra: Mapping[str, Any],
    ) -> dict[str, Any]:
        if not isinstance(name, str) or not name:
            raise ValueError(f"name must be a non-empty str, got {name!r}")
        body: dict[str, Any] = {"Name": name}
        if labels is not None:
            body["Labels"] = dict(labels)
        if data is not None:
            body["Data"] = encode_data(data, b64=b64)
        body.update((key, value) for key, value in extra.items() if value is not None)
        return await self.docker._api.call(
            "POST", self._paths.create, json_body=body, expect=Shape.OBJECT
        )

    async def _inspect(self, object_id: str) -> dict[str, Any]:
        path = build_path(self._paths.item, object_id)
        return await self.docker._api.call("GET", path, expect=Shape.OBJECT)

    async def _delete(self, object_id: str) -> bool:
        await self.docker._api.call(
            "DELETE", build_path(self._paths.item, object_id), expect=Shape.NOTHING
        )
        return True

    async def _update(
        self,
        object_id: str,
        version: int | str,
        *,
        name: str | None,
        data: str | bytes | None,
        b64: bool,
        labels: Mapping[str, str] | None,
        extra: Mapping[str, Any],
    ) -> bool:
        # The daemon replaces the whole spec: start from the current one, apply overrides.
        current = await self._inspect(object_id)
        spec: dict[str, Any] = copy.deepcopy(current.get("Spec") or {})
        if name is not None:
            spec["Name"] = name
        if data is not None:
            spec["Data"] = encode_data(data, b64=b64)
        if labels is not None:
            spec["Labels"] = dict(labels)
        spec.update((key, value) for key, value in extra.items() if value is not None)
        spec = {key: value for key, value in spec.items() if value is not None}
        await self.docker._api.call(
            "POST",
            build_path(self._paths.update, object_id),
            params={"version": str(version)},
            json_body=spec,
            expect=Shape.NOTHING,
        )
        return True


# --- service and task logs ----------------------------------------------------


def log_text(
    docker: Docker,
    path: str,
    *,
    follow: bool,
    is_tty: bool,
    stdout: bool,
    stderr: bool,
    params: Mapping[str, Any],
) -> Awaitable[builtins.list[str]] | ResponseStream[str]:
    """Read service or task logs: a list of str, or an async iterator of str with ``follow``.

    Service and task logs are multiplexed unless the service has a tty (``is_tty``).

    Raises:
        TypeError: neither ``stdout`` nor ``stderr`` is requested.
    """
    if not stdout and not stderr:
        raise TypeError("Need one of stdout or stderr")
    query = {**params, "follow": follow, "stdout": stdout, "stderr": stderr}
    api = docker._api

    def opener() -> Awaitable[Response]:
        # ``timeout`` bounds only the wait for the response head; the body may take forever
        return api.request("GET", path, params=query, timeout=api.default_timeout)

    def make_decoder(response: Response) -> FrameText:
        frames = decoder_for(response.headers.get("content-type"), is_tty)
        return FrameText(frames, LOG_DECODE_ERRORS)

    stream: ResponseStream[str] = ResponseStream(opener, make_decoder)
    if follow:
        return stream
    return collect(stream)
