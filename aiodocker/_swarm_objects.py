"""What the swarm resource modules share: secret/config stores and task/service logs.

Layer: resource (private). Imports ``_core`` and ``_responses``; imported by
``configs``, ``secrets``, ``services`` and ``tasks``.

Secrets and configs are the same shape (``Spec`` = name, labels, base64 data,
templating, plus a driver for secrets), so :class:`SwarmObjectStore` holds their
behaviour once; the public classes only declare their endpoint table and their
aiodocker-compatible signatures.
"""

from __future__ import annotations

import base64
import builtins
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from ._core.request import Shape, build_path
from ._core.resource import Resource
from ._record import Record
from ._responses import ResponseStream, text_stream

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from .docker import Docker

__all__ = (
    "MissingFieldError",
    "ObjectPaths",
    "SwarmLogs",
    "SwarmObjectStore",
    "encode_data",
)


class MissingFieldError(KeyError, ValueError):
    """A required field of a spec is missing (a KeyError for aiodocker compatibility)."""


def encode_data(data: str | bytes, *, b64: bool) -> str:
    """Base64-encode object data, or pass it through if ``b64`` says it already is."""
    if b64:
        return data.decode("ascii") if isinstance(data, bytes) else data
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    return base64.b64encode(raw).decode("ascii")


class ObjectPaths(Record, kw_only=True):
    """The endpoint table of one kind of swarm object."""

    collection: str  # GET: list
    create: str  # POST: create
    item: str  # GET: inspect, DELETE: delete; one ``{}`` for the id
    update: str  # POST: update; one ``{}`` for the id


class SwarmObjectStore(Resource):
    """The behaviour shared by ``docker.secrets`` and ``docker.configs``."""

    if TYPE_CHECKING:
        docker: Docker  # 0.27 types the attribute so; annotations only, no import at run time

    _paths: ClassVar[ObjectPaths]

    async def _list_objects(
        self, filters: Mapping[str, Any] | None
    ) -> builtins.list[dict[str, Any]]:
        # aiodocker always sends ``filters`` ("{}" when there are none)
        return await self._list(self._paths.collection, filters=filters or {})

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
        return await self._api.call(
            "POST", self._paths.create, json_body=body, expect=Shape.OBJECT
        )

    async def _inspect(self, object_id: str) -> dict[str, Any]:
        path = build_path(self._paths.item, object_id)
        return await self._api.call("GET", path, expect=Shape.OBJECT)

    async def _delete(self, object_id: str) -> bool:
        await self._api.call(
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
        from copy import deepcopy  # on first use: a bare import does not load copy

        spec: dict[str, Any] = deepcopy(current.get("Spec") or {})
        if name is not None:
            spec["Name"] = name
        if data is not None:
            spec["Data"] = encode_data(data, b64=b64)
        if labels is not None:
            spec["Labels"] = dict(labels)
        spec.update((key, value) for key, value in extra.items() if value is not None)
        spec = {key: value for key, value in spec.items() if value is not None}
        await self._api.call(
            "POST",
            build_path(self._paths.update, object_id),
            params={"version": str(version)},
            json_body=spec,
            expect=Shape.NOTHING,
        )
        return True


# --- service and task logs ----------------------------------------------------


class SwarmLogs(Resource):
    """The log reading shared by ``docker.services`` and ``docker.tasks``."""

    if TYPE_CHECKING:
        docker: Docker

    def _log_text(
        self,
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
        The client's timeout bounds only the wait for the response head.

        Raises:
            TypeError: neither ``stdout`` nor ``stderr`` is requested.
        """
        if not stdout and not stderr:
            raise TypeError("Need one of stdout or stderr")
        query = {**params, "follow": follow, "stdout": stdout, "stderr": stderr}
        opener = self._opener(path, query, timeout=self._api.default_timeout)
        return self._stream_or_collect(text_stream(opener, is_tty), stream=follow, timeout=None)
