"""``docker.containers``: create, inspect, control and stream containers.

A public module at aiodocker's import path (``DockerContainers``,
``DockerContainer``). Layer: resource module; it calls the daemon through the
core (``self._api``, from :class:`~aiodocker._core.resource.Resource`), decodes
streamed bodies with ``_responses`` and ``_streams``, and builds the hijacked
``Stream``/``Exec`` objects of :mod:`aiodocker.stream` and :mod:`aiodocker.execs`.

Every streamed result here (logs, stats, archives, export) is a
:class:`~aiodocker._responses.ResponseStream`, never an async generator: leaving
it early (``break``, ``aclose()``, cancellation, an exception in the consumer)
releases its connection at once.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import io
import json
import os
import re
from collections.abc import AsyncIterable, AsyncIterator, Coroutine, Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, Final, Literal, cast, overload

from ._core.bodies import endpoint_mac_address, identical
from ._core.request import EXCERPT_BYTES, Shape, build_path, encode_filters, unexpected
from ._core.resource import Resource, cancel_and_wait, with_deadline
from ._responses import (
    ResponseStream,
    bytes_stream,
    json_stream,
    message_stream,
    spool,
    text_stream,
)
from ._streams.frames import Message
from ._streams.text import LineSplitter
from ._transport.base import file_body
from .exceptions import DockerContainerError, DockerError, DockerNotFoundError, add_note
from .logs import DockerLog
from .types import SENTINEL, JSONObject, PortInfo

if TYPE_CHECKING:
    import tarfile

    import aiohttp  # the websocket's type, as 0.27 declares it; annotations only

    from ._core.client import TimeoutArg
    from .docker import Docker
    from .execs import Exec
    from .models import ContainerInspectResponse, ContainerUpdateResponse, FilesystemChange
    from .stream import Stream

__all__ = ("DockerContainers", "DockerContainer")

PATH_STAT_HEADER: Final = "X-Docker-Container-Path-Stat"
ARCHIVE_CONTENT_TYPE: Final = "application/x-tar"
# Container states in which a container will never become healthy by itself.
_FINAL_STATES: Final = frozenset({"exited", "dead", "removing"})
_FILE_CHUNK: Final = 256 * 1024
# How long wait_for_log gives a followed log to end after the container stopped.
_FOLLOW_END_GRACE: Final = 2.0


def _check_str(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, not {type(value).__name__}")
    if not value:
        raise ValueError(f"{what} must not be empty")
    return value


def _check_int(value: object, what: str, *, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, not {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{what} must be >= {minimum}, got {value}")
    return value


def _check_signal(value: object, what: str = "signal") -> str | None:
    """A signal name or number as sent (0.27 sends any, the daemon judges it)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise TypeError(f"{what} must be a str or an int, not {type(value).__name__}")


def _check_config(config: object, what: str = "config") -> Mapping[str, Any]:
    if not isinstance(config, Mapping):
        raise TypeError(f"{what} must be a mapping, not {type(config).__name__}")
    return config


def _command_args(cmd: str | Sequence[str]) -> list[str]:
    """An exec command as a list: a str is split like a shell would."""
    if isinstance(cmd, str):
        import shlex  # only for a str command

        args = shlex.split(cmd)
    else:
        args = list(cmd)
    if not all(isinstance(arg, str) for arg in args):
        raise TypeError("exec() cmd must be a str or a sequence of str")
    return args


def _env_entries(environment: Mapping[str, str] | Sequence[str]) -> list[str]:
    """An exec environment as ``["K=V", ...]``: a mapping is formatted, a sequence kept."""
    if isinstance(environment, Mapping):
        return [f"{key}={value}" for key, value in environment.items()]
    if isinstance(environment, str):
        raise TypeError("environment must be a mapping or a sequence of 'KEY=VALUE'")
    env = list(environment)
    if not all(isinstance(item, str) for item in env):
        raise TypeError("environment entries must be 'KEY=VALUE' strings")
    return env


class DockerContainers(Resource):
    """``docker.containers``: list, create, run and look up containers."""

    if TYPE_CHECKING:
        docker: Docker  # 0.27 types the attribute so; annotations only, no import at run time

    async def list(self, **kwargs: Any) -> list[DockerContainer]:
        """List containers (``GET /containers/json``); ``all=True`` includes stopped ones.

        A ``filters`` mapping is encoded as JSON (scalars become one-item lists).
        """
        params = dict(kwargs)
        if isinstance(params.get("filters"), Mapping):
            params["filters"] = encode_filters(params["filters"])
        data = await self._api.call(
            "GET", "containers/json", params=params, expect=Shape.OBJECTS, require=("Id",)
        )
        return DockerContainer._of(self.docker, data)

    async def create_or_replace(self, name: str, config: JSONObject) -> DockerContainer:
        """Return container ``name``, re-created from ``config`` if its settings differ.

        A container whose inspect data is not :func:`~aiodocker.utils.identical` to
        ``config`` is stopped (if running), removed and created again.
        """
        _check_config(config)
        container: DockerContainer | None = None
        try:
            container = await self.get(name)
        except DockerError:
            container = None
        if container is not None and not identical(config, container._container):
            if container._container.get("State", {}).get("Running", False):
                await container.stop()
            await container.delete()
            container = None
        if container is None:
            container = await self.create(config, name=name)
        return container

    async def create(
        self, config: JSONObject, *, name: str | None = None, platform: str | None = None
    ) -> DockerContainer:
        """Create a container (``POST /containers/create``).

        The result only knows its id (``{"id": ...}``); call ``show()`` for the rest.
        ``platform`` (``os[/arch[/variant]]``) picks the image variant to run.
        ``NetworkingConfig.EndpointsConfig`` may name several networks from API 1.44
        on; older engines take one at create (connect the rest afterwards).

        Raises:
            DockerNotFoundError: the image does not exist locally.
            DockerConflictError: the name is taken.
            DockerAPIVersionError: several networks on an API older than 1.44.
            ValueError: from API 1.52 on, where a container-wide ``MacAddress`` is
                moved to the endpoint of the container's network: ``NetworkMode`` is
                host, none or container:<id>, or the endpoint has another address.
        """
        _check_config(config)
        if name is not None:
            _check_str(name, "name")
        if platform is not None:
            _check_str(platform, "platform")
        networking = config.get("NetworkingConfig") or {}
        if len(networking.get("EndpointsConfig") or {}) > 1:
            await self._api.require_version(
                "1.44", "creating a container on several networks (NetworkingConfig.EndpointsConfig)"
            )
        body = dict(config)
        if body.get("MacAddress") and await self._api.version_tuple() >= (1, 52):
            body = endpoint_mac_address(body)  # 1.52 ignores the container-wide field
        data = await self._api.call(
            "POST",
            "containers/create",
            params={"name": name or None, "platform": platform},
            json_body=body,
            expect=Shape.OBJECT,
            require=("Id",),
        )
        return DockerContainer(self.docker, id=data["Id"])

    async def run(
        self,
        config: JSONObject,
        *,
        auth: Mapping[str, Any] | str | bytes | None = None,
        name: str | None = None,
    ) -> DockerContainer:
        """Create and start a container, pulling its image first if it is missing.

        Raises:
            DockerContainerError: the container was created but did not start; its
                ``container_id`` names it (it is not removed).
        """
        _check_config(config)
        try:
            container = await self.create(config, name=name)
        except DockerError as exc:
            if exc.status != 404 or "Image" not in config:
                raise
            await self.docker.images.pull(config["Image"], auth=auth)
            container = await self.create(config, name=name)
        try:
            await container.start()
        except DockerError as exc:
            raise DockerContainerError(exc.status, exc.message, container.id) from exc
        return container

    async def get(self, container_id: str, **kwargs: Any) -> DockerContainer:
        """Inspect a container by id or name (``GET /containers/{id}/json``).

        Raises:
            DockerNotFoundError: no such container.
        """
        path = build_path("containers/{}/json", container_id)
        data = await self._api.call(
            "GET", path, params=kwargs, expect=Shape.OBJECT, require=("Id",)
        )
        return DockerContainer._of(self.docker, [data])[0]

    def container(self, container_id: str, **kwargs: Any) -> DockerContainer:
        """Return a handle on a container without asking the daemon."""
        return DockerContainer(self.docker, **{"id": container_id, **kwargs})

    def exec(self, exec_id: str) -> Exec:
        """Return a handle on an existing exec instance."""
        from .execs import Exec

        return Exec(self.docker, exec_id)

    async def prune(self, *, filters: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Remove stopped containers (``POST /containers/prune``).

        Returns ``{"ContainersDeleted": [...] | None, "SpaceReclaimed": int}``.
        """
        return await self._prune("containers/prune", filters)


def _container_id(data: Mapping[str, Any]) -> str:
    """The id of a container's data: ``id``, else ``ID``, else ``Id``, as 0.27 picks it.

    Raises:
        ValueError: none of them is there.
    """
    for key in ("id", "ID", "Id"):
        if key in data:
            return data[key]  # type: ignore[no-any-return]
    exc = ValueError("DockerContainer should be initialized with explicit container ID.")
    add_note(exc, "pass id=, ID= or Id=")
    raise exc


class DockerContainer(Resource):
    """One container. ``c[key]`` and ``key in c`` read the last known inspect data.

    The id comes from the keyword ``id``, else ``ID``, else ``Id``.

    Raises:
        ValueError: no id was given.
    """

    if TYPE_CHECKING:
        docker: Docker

    def __init__(self, docker: Docker, **kwargs: Any) -> None:
        super().__init__(docker)
        self._container: dict[str, Any] = kwargs
        self._id: str = _container_id(kwargs)

    @classmethod
    def _of(cls, docker: Docker, answer: list[dict[str, Any]]) -> list[DockerContainer]:
        """One for each dict of the daemon's answer (each has ``Id``), kept as is.

        A listing makes hundreds, so ``Resource.__init__`` runs once, on a prototype
        whose attributes each container copies in one ``dict.update``: no
        ``__init__`` call per item, and no copy of the dict (``cls(docker, **data)``).
        """
        prototype = cls.__new__(cls)
        Resource.__init__(prototype, docker)
        shared = prototype.__dict__
        new = cls.__new__
        made = []
        for data in answer:
            container = new(cls)
            container.__dict__.update(shared)
            container._container = data
            # 0.27 prefers id and ID to Id
            container._id = _container_id(data) if "id" in data or "ID" in data else data["Id"]
            made.append(container)
        return made

    @cached_property
    def logs(self) -> DockerLog:
        """The container's log follower, made on first use.

        It and the container refer to each other: a cycle only the garbage
        collector frees, which made listing hundreds of containers cost twice
        the CPU when every listed one carried it.
        """
        return DockerLog(self.docker, self)

    @property
    def id(self) -> str:
        return self._id

    def __repr__(self) -> str:
        return f"<DockerContainer id={self._id[:12]!r}>"

    def __getitem__(self, key: str) -> Any:
        return self._container[key]

    def __contains__(self, key: object) -> bool:
        return key in self._container

    def _path(self, template: str = "containers/{}") -> str:
        return build_path(template, self._id)

    # --- inspect and lifecycle ---------------------------------------------------

    async def show(self, **kwargs: Any) -> dict[str, Any]:
        """Inspect the container (``GET /containers/{id}/json``) and keep the result.

        Raises:
            DockerNotFoundError: no such container.
        """
        data = await self._api.call(
            "GET", self._path("containers/{}/json"), params=kwargs, expect=Shape.OBJECT
        )
        self._container = data
        return data

    async def start(self, **kwargs: Any) -> None:
        """Start the container (``POST /containers/{id}/start``).

        Keyword arguments are sent as the JSON body, as aiodocker does.
        """
        extra: dict[str, Any] = {"json_body": kwargs} if kwargs else {}
        await self._api.call(
            "POST", self._path("containers/{}/start"), **extra, expect=Shape.NOTHING
        )

    async def stop(
        self, *, t: int | None = None, signal: str | None = None, timeout: TimeoutArg = SENTINEL
    ) -> None:
        """Stop the container: ``signal`` (default SIGTERM), then SIGKILL after ``t`` seconds.

        ``signal`` is an API 1.42 parameter; it is sent to any daemon, as 0.27 does
        (an older one ignores it). ``timeout`` bounds the HTTP call (none by default).
        """
        if t is not None:
            _check_int(t, "t", minimum=-1)
        sig = _check_signal(signal)
        await self._api.call(
            "POST",
            self._path("containers/{}/stop"),
            params={"t": t, "signal": sig},
            timeout=timeout,
            long_running=True,
            expect=Shape.NOTHING,
        )

    async def restart(
        self, *, t: int | None = None, timeout: TimeoutArg = SENTINEL, signal: str | None = None
    ) -> None:
        """Restart the container: ``signal`` (default SIGTERM), then SIGKILL after ``t`` seconds.

        ``signal`` needs API 1.42.

        Raises:
            DockerAPIVersionError: ``signal`` was given and the API in use is older than 1.42.
        """
        if t is not None:
            _check_int(t, "t", minimum=-1)
        sig = _check_signal(signal)
        if sig is not None:
            await self._api.require_version("1.42", "the signal argument of restart()")
        await self._api.call(
            "POST",
            self._path("containers/{}/restart"),
            params={"t": t, "signal": sig},
            timeout=timeout,
            long_running=True,
            expect=Shape.NOTHING,
        )

    async def kill(self, *, signal: str | None = None, timeout: TimeoutArg = SENTINEL) -> None:
        """Send a signal to the container (SIGKILL by default).

        Raises:
            DockerConflictError: the container is not running.
        """
        sig = _check_signal(signal)
        await self._api.call(
            "POST",
            self._path("containers/{}/kill"),
            params={"signal": sig},
            timeout=timeout,
            long_running=True,
            expect=Shape.NOTHING,
        )

    async def wait(
        self, *, timeout: TimeoutArg = SENTINEL, condition: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """Block until the container stops; return ``{"StatusCode": int, "Error": ...}``.

        Args:
            condition: ``"not-running"`` (default), ``"next-exit"`` or ``"removed"``;
                the daemon judges any other value (as in 0.27).
        """
        data = await self._api.call(
            "POST",
            self._path("containers/{}/wait"),
            params={"condition": condition, **kwargs},
            timeout=timeout,
            long_running=True,
            long_lived=True,  # a long poll: it must not hold up short requests
            expect=Shape.OBJECT,
        )
        return data

    async def delete(
        self,
        *,
        force: bool = False,
        v: bool = False,
        link: bool = False,
        timeout: TimeoutArg = SENTINEL,
    ) -> None:
        """Remove the container; ``force`` kills it first, ``v`` removes its anonymous volumes."""
        params = {name: True for name, flag in (("force", force), ("v", v), ("link", link)) if flag}
        await self._api.call(
            "DELETE",
            self._path(),
            params=params,
            timeout=timeout,
            long_running=True,
            expect=Shape.NOTHING,
        )

    async def rename(self, newname: str) -> None:
        """Rename the container (``POST /containers/{id}/rename``)."""
        await self._api.call(
            "POST",
            self._path("containers/{}/rename"),
            params={"name": newname},
            expect=Shape.NOTHING,
        )

    async def pause(self) -> None:
        """Freeze every process of the container."""
        await self._api.call("POST", self._path("containers/{}/pause"), expect=Shape.NOTHING)

    async def unpause(self) -> None:
        """Resume a paused container."""
        await self._api.call(
            "POST", self._path("containers/{}/unpause"), expect=Shape.NOTHING
        )

    async def top(self, *, ps_args: str | None = None) -> dict[str, Any]:
        """List the container's processes: ``{"Titles": [...], "Processes": [[...]]}``."""
        data = await self._api.call(
            "GET", self._path("containers/{}/top"), params={"ps_args": ps_args}, expect=Shape.OBJECT
        )
        return data

    async def changes(self) -> list[FilesystemChange]:
        """List filesystem changes: ``[{"Path": ..., "Kind": 0 changed, 1 added, 2 deleted}]``."""
        data = await self._api.call(
            "GET", self._path("containers/{}/changes"), expect=Shape.ARRAY
        )
        return cast("list[FilesystemChange]", data)

    async def update(
        self, config: JSONObject | None = None, **resources: Any
    ) -> ContainerUpdateResponse:
        """Change resource limits or the restart policy of the container.

        Takes the body of ``POST /containers/{id}/update`` as a mapping and/or keyword
        arguments in the API's spelling (``Memory=``, ``CpuShares=``,
        ``RestartPolicy={"Name": "on-failure"}``...); keywords win. Returns
        ``{"Warnings": [...]}``.

        Raises:
            ValueError: nothing to update.
        """
        body: dict[str, Any] = dict(_check_config(config)) if config is not None else {}
        body.update(resources)
        if not body:
            raise ValueError("update() needs at least one setting to change")
        data = await self._api.call(
            "POST", self._path("containers/{}/update"), json_body=body, expect=Shape.OBJECT
        )
        return cast("ContainerUpdateResponse", data)

    async def resize(self, *, h: int, w: int) -> None:
        """Resize the container's tty to ``h`` rows and ``w`` columns."""
        _check_int(h, "h", minimum=1)
        _check_int(w, "w", minimum=1)
        await self._api.call(
            "POST",
            self._path("containers/{}/resize"),
            params={"h": h, "w": w},
            expect=Shape.NOTHING,
        )

    async def port(self, private_port: int | str) -> list[PortInfo] | None:
        """Return the host bindings of a container port (``"80"``, ``80`` or ``"53/udp"``).

        A bare number is looked up as tcp, then udp. None when it is not published.
        """
        if "NetworkSettings" not in self._container:
            await self.show()
        port = str(private_port)
        settings = (self._container.get("NetworkSettings") or {}).get("Ports")
        if settings is None:
            return None
        if "/" in port:
            return settings.get(port)  # type: ignore[no-any-return]
        bindings = settings.get(port + "/tcp")
        if bindings is None:
            bindings = settings.get(port + "/udp")
        return bindings  # type: ignore[no-any-return]

    async def commit(
        self,
        *,
        repository: str | None = None,
        tag: str | None = None,
        message: str | None = None,
        author: str | None = None,
        changes: str | Sequence[str] | None = None,
        config: dict[str, Any] | None = None,
        pause: bool = True,
        timeout: TimeoutArg = SENTINEL,
    ) -> dict[str, Any]:
        """Create an image from the container (``POST /commit``); return ``{"Id": ...}``.

        ``changes`` are Dockerfile instructions (a sequence is joined with newlines).
        """
        if changes is not None and not isinstance(changes, str):
            changes = "\n".join(changes)
        params = {
            "container": self._id,
            "repo": repository,
            "tag": tag,
            "comment": message,
            "author": author,
            "changes": changes,
            "pause": pause,
        }
        extra: dict[str, Any] = {"json_body": config} if config is not None else {}
        data = await self._api.call(
            "POST",
            "commit",
            params=params,
            timeout=timeout,
            long_running=True,
            **extra,
            expect=Shape.OBJECT,
        )
        return data

    # --- output: logs and stats --------------------------------------------------

    async def _tty(self) -> bool:
        """Whether the container has a tty (from the known inspect data, else inspect)."""
        config = self._container.get("Config")
        if not isinstance(config, Mapping) or "Tty" not in config:
            config = (await self.show()).get("Config") or {}
        return bool(config.get("Tty"))

    def _log_params(
        self, stdout: bool, stderr: bool, follow: bool, kwargs: Mapping[str, Any]
    ) -> dict[str, Any]:
        if not stdout and not stderr:
            raise TypeError("Need one of stdout or stderr")
        for reserved in ("stdout", "stderr", "follow"):
            if reserved in kwargs:
                raise TypeError(f"{reserved} is a named argument of log()")
        return {"stdout": bool(stdout), "stderr": bool(stderr), "follow": bool(follow), **kwargs}

    @overload
    def log(
        self,
        *,
        stdout: bool = ...,
        stderr: bool = ...,
        follow: Literal[False] = ...,
        timeout: TimeoutArg = ...,
        **kwargs: Any,
    ) -> Coroutine[Any, Any, list[str]]: ...

    @overload
    def log(
        self,
        *,
        stdout: bool = ...,
        stderr: bool = ...,
        follow: Literal[True],
        timeout: TimeoutArg = ...,
        **kwargs: Any,
    ) -> ResponseStream[str]: ...

    @overload
    def log(
        self,
        *,
        stdout: bool = ...,
        stderr: bool = ...,
        follow: bool,
        timeout: TimeoutArg = ...,
        **kwargs: Any,
    ) -> Coroutine[Any, Any, list[str]] | ResponseStream[str]: ...

    def log(
        self,
        *,
        stdout: bool = False,
        stderr: bool = False,
        follow: bool = False,
        timeout: TimeoutArg = SENTINEL,
        **kwargs: Any,
    ) -> Coroutine[Any, Any, list[str]] | ResponseStream[str]:
        """Read the container's output as text, stdout and stderr merged.

        ``follow=False`` returns an awaitable list of str; ``follow=True`` an async
        iterator of str that ends when the container stops (no idle read timeout).
        Each item is the text of one output frame (a raw chunk for a tty container),
        decoded incrementally per stream with invalid UTF-8 dropped; a frame that
        only holds part of a character yields nothing until the rest arrives.
        kwargs: ``since``, ``until``, ``timestamps``, ``tail``, ``details``.

        ``timeout`` bounds the whole call when ``follow=False``, and only the wait
        for the response head when ``follow=True``. See :meth:`log_messages` to keep
        stdout and stderr apart.

        ``follow=False`` holds the whole log in memory: 0.27's return type is a list.
        For a chatty container iterate :meth:`log_messages` instead (``follow=False``
        streams what is logged so far and ends), which keeps memory flat.

        Raises:
            TypeError: neither stdout nor stderr was asked for.
            DockerNotFoundError: no such container.
        """
        params = self._log_params(stdout, stderr, follow, kwargs)
        seconds = self._api.seconds(timeout, long_running=True)
        opener = self._opener(self._path("containers/{}/logs"), params, timeout=seconds)
        return self._stream_or_collect(
            text_stream(opener, self._tty), stream=follow, timeout=seconds
        )

    def log_messages(
        self,
        *,
        stdout: bool = True,
        stderr: bool = True,
        follow: bool = False,
        timeout: TimeoutArg = SENTINEL,
        **kwargs: Any,
    ) -> ResponseStream[Message]:
        """Read the container's output as ``Message(stream, data)``, keeping the stream id.

        ``stream`` is 1 for stdout and 2 for stderr (always 1 for a tty container);
        ``data`` is the raw bytes of one frame. An async iterator, with or without
        ``follow``; ``timeout`` bounds the wait for the response head. Other kwargs
        as for :meth:`log`.

        Raises:
            TypeError: neither stdout nor stderr was asked for.
            DockerNotFoundError: no such container.
            DockerTruncatedStreamError: the stream ended inside a frame.
        """
        params = self._log_params(stdout, stderr, follow, kwargs)
        seconds = self._api.seconds(timeout, long_running=True)
        opener = self._opener(self._path("containers/{}/logs"), params, timeout=seconds)
        return message_stream(opener, self._tty)

    @overload
    def stats(
        self, *, stream: Literal[True] = ..., timeout: TimeoutArg = ...
    ) -> ResponseStream[dict[str, Any]]: ...

    @overload
    def stats(
        self, *, stream: Literal[False], timeout: TimeoutArg = ...
    ) -> Coroutine[Any, Any, list[dict[str, Any]]]: ...

    @overload
    def stats(
        self, *, stream: bool, timeout: TimeoutArg = ...
    ) -> ResponseStream[dict[str, Any]] | Coroutine[Any, Any, list[dict[str, Any]]]: ...

    def stats(
        self, *, stream: bool = True, timeout: TimeoutArg = SENTINEL
    ) -> ResponseStream[dict[str, Any]] | Coroutine[Any, Any, list[dict[str, Any]]]:
        """Read resource usage statistics (``GET /containers/{id}/stats``).

        ``stream=True`` gives an async iterator of dicts (about one a second),
        ``stream=False`` an awaitable list holding one dict. In-band errors are not
        raised. ``timeout`` bounds the wait for the response head when streaming, else the call.

        Raises:
            DockerResponseError: with ``stream=False``, the answer is not one JSON object.
        """
        path = self._path("containers/{}/stats")
        if not stream:
            return self._stats_once(path, timeout)
        seconds = self._api.seconds(timeout, long_running=True)
        opener = self._opener(path, {"stream": True}, timeout=seconds)
        items: ResponseStream[dict[str, Any]] = json_stream(opener, check_errors=False)
        return items

    async def _stats_once(self, path: str, timeout: TimeoutArg) -> list[dict[str, Any]]:
        data = await self._api.call(
            "GET",
            path,
            params={"stream": False},
            timeout=timeout,
            long_running=True,
            expect=Shape.OBJECT,
        )
        return [data]

    # --- archives and export -----------------------------------------------------

    async def get_archive(self, path: str) -> tarfile.TarFile:
        """Return a tar archive of ``path`` in the container, as aiodocker does.

        The archive is spooled: up to 512 KiB in memory, beyond that in an unnamed
        temporary file, so memory stays flat on any size. The file is removed when
        the ``TarFile`` is garbage-collected. See :meth:`stream_archive` to process
        the tar as it arrives, without a temporary file.

        Raises:
            DockerNotFoundError: no such container, or no such path in it.
        """
        import tarfile
        import weakref

        _check_str(path, "path")
        target = self._path("containers/{}/archive")
        response = await self._api.request("GET", target, params={"path": path})
        status = response.status
        file = await spool(response)
        try:
            tar = tarfile.open(mode="r", fileobj=file)
        except tarfile.TarError as exc:
            file.seek(0)
            head = file.read(EXCERPT_BYTES)
            file.close()
            raise unexpected("GET", target, status, "the body is not a tar archive", head) from exc
        except BaseException:
            file.close()
            raise
        weakref.finalize(tar, file.close)  # TarFile never closes a file it was given
        return tar

    def stream_archive(self, path: str, *, timeout: TimeoutArg = SENTINEL) -> ResponseStream[bytes]:
        """Stream a tar archive of ``path`` as byte chunks, never holding all of it.

        The stat of ``path`` is in the ``X-Docker-Container-Path-Stat`` header of
        ``stream.response`` once the first chunk was read. ``timeout`` bounds the wait
        for the response head.

        Raises:
            DockerNotFoundError: no such container, or no such path in it.
        """
        _check_str(path, "path")
        seconds = self._api.seconds(timeout, long_running=True)
        target = self._path("containers/{}/archive")
        return bytes_stream(self._opener(target, {"path": path}, timeout=seconds))

    async def stat_archive(self, path: str) -> dict[str, Any]:
        """Describe ``path`` in the container without reading it (``HEAD .../archive``).

        Returns ``{"name", "size", "mode", "mtime", "linkTarget"}``; ``mode`` is a Go
        ``os.FileMode`` (permission bits, plus high bits such as 1 << 31 for a directory).

        Raises:
            DockerNotFoundError: no such container, or no such path in it.
        """
        _check_str(path, "path")
        try:
            response, _ = await self._api.raw(
                "HEAD", self._path("containers/{}/archive"), params={"path": path}
            )
        except DockerNotFoundError as exc:
            if "empty body" not in exc.message:
                raise
            # HEAD answers carry no body: name what was not found ourselves.
            raise DockerNotFoundError(404, f"No such container or path: {self._id}:{path}") from exc
        raw = response.headers.get(PATH_STAT_HEADER)
        if raw is None:
            raise unexpected(
                "HEAD", "/" + self._path("containers/{}/archive"), response.status,
                f"the daemon sent no {PATH_STAT_HEADER} header",
            )  # fmt: skip
        try:
            stat = json.loads(base64.b64decode(raw))
        except (binascii.Error, ValueError) as exc:
            raise unexpected(
                "HEAD", "/" + self._path("containers/{}/archive"), response.status,
                f"malformed {PATH_STAT_HEADER} header: {raw!r}",
            ) from exc  # fmt: skip
        return stat  # type: ignore[no-any-return]

    async def put_archive(
        self,
        path: str,
        data: bytes | bytearray | memoryview | AsyncIterable[bytes] | Any,
        *,
        no_overwrite_dir_non_dir: bool | None = None,
        copy_uid_gid: bool | None = None,
        timeout: TimeoutArg = SENTINEL,
    ) -> str:
        """Extract a tar archive into directory ``path`` of the container.

        ``data`` is bytes, a binary file object (read in chunks) or an async
        iterable of bytes; the last two are streamed, never held whole. A
        regular file goes by ``sendfile`` over a plain unix or tcp socket. Returns
        ``""`` (the empty body, as aiodocker does).

        Raises:
            TypeError: ``data`` is none of those (a text file, a str...).
            DockerNotFoundError: no such container, or no such directory in it.
        """
        _check_str(path, "path")
        body: bytes | AsyncIterable[bytes]
        if isinstance(data, (bytes, bytearray, memoryview)):
            body = bytes(data)
        elif isinstance(data, AsyncIterable):
            body = data
        elif isinstance(data, io.TextIOBase):
            raise TypeError("put_archive() needs a binary file, not a text file")
        elif callable(getattr(data, "read", None)):
            body = file_body(data) or _read_file(data)
        else:
            raise TypeError(
                "put_archive() data must be bytes, a binary file object or an async "
                f"iterable of bytes, not {type(data).__name__}"
            )
        params = {
            "path": path,
            "noOverwriteDirNonDir": no_overwrite_dir_non_dir,
            "copyUIDGID": copy_uid_gid,
        }
        await self._api.call(
            "PUT",
            self._path("containers/{}/archive"),
            params=params,
            body=body,
            headers={"Content-Type": ARCHIVE_CONTENT_TYPE},
            timeout=timeout,
            long_running=True,
            expect=Shape.NOTHING,
        )
        return ""

    async def copy_to(
        self,
        host_path: str | os.PathLike[str] | Any,
        container_path: str,
        *,
        follow_links: bool = False,
        archive: bool = False,
    ) -> None:
        """Copy ``host_path`` into the container as ``docker cp`` does (streamed).

        ``host_path`` is a file or directory on the host (``dir/.`` copies the
        directory's contents), or, for the CLI's ``-``, a tar archive: a binary
        file object or an async iterable of bytes, extracted into the directory
        ``container_path``. ``follow_links`` (``-L``) copies what a symlink
        ``host_path`` points to; ``archive`` (``-a``) asks the daemon to keep the
        files' uid/gid as archive mode does. The tar is made while it is sent:
        one chunk of one file in memory at a time.

        Raises:
            DockerCopyError: the source is missing, a directory would replace a
                file, a file would create a directory path (``dir/``), or a tar
                goes to something that is not a directory.
            DockerNotFoundError: no such container, or the destination's parent
                does not exist in it.
            DockerError: the daemon refused the extraction (a directory would
                be replaced by a file...).
        """
        from . import _copy

        _check_str(container_path, "container_path")
        await _copy.copy_to(
            self, host_path, container_path, follow_links=follow_links, archive=archive
        )

    async def copy_from(
        self,
        container_path: str,
        host_path: str | os.PathLike[str] | Any,
        *,
        follow_links: bool = False,
    ) -> dict[str, Any]:
        """Copy ``container_path`` out of the container as ``docker cp`` does (streamed).

        ``host_path`` is a path on the host, or, for the CLI's ``-``, a binary
        file object that receives the tar archive as the daemon sends it (e.g.
        ``sys.stdout.buffer``). The archive is extracted as it arrives, never held
        whole; files are owned by the calling user, with the container's modes
        and times. ``follow_links`` (``-L``) copies what a symlink points to.
        Returns the daemon's stat of the copied path (``name``, ``size``,
        ``mode``, ``mtime``, ``linkTarget``).

        Raises:
            DockerCopyError: the destination's parent is missing, a directory
                would replace a file or the reverse, or a file would create a
                directory path (``dir/``).
            DockerNotFoundError: no such container, or no such path in it.
        """
        from . import _copy

        _check_str(container_path, "container_path")
        return await _copy.copy_from(self, container_path, host_path, follow_links=follow_links)

    def export(self, *, timeout: TimeoutArg = SENTINEL) -> ResponseStream[bytes]:
        """Stream the container's filesystem as a tar archive, in byte chunks.

        ``timeout`` bounds the wait for the response head.
        """
        seconds = self._api.seconds(timeout, long_running=True)
        return bytes_stream(self._opener(self._path("containers/{}/export"), timeout=seconds))

    # --- attach and exec -----------------------------------------------------------

    def attach(
        self,
        *,
        stdout: bool = False,
        stderr: bool = False,
        stdin: bool = False,
        detach_keys: str | None = None,
        logs: bool = False,
        timeout: TimeoutArg = SENTINEL,
    ) -> Stream:
        """Attach to the container's stdio over a hijacked connection.

        Connects lazily (on ``async with`` or the first read or write).
        """
        from .stream import Stream

        if detach_keys is not None:
            _check_str(detach_keys, "detach_keys")
        path = self._path("containers/{}/attach")

        async def setup() -> tuple[str, dict[str, Any], dict[str, Any] | None, bool]:
            params = {
                "detachKeys": detach_keys,
                "logs": logs,
                "stdin": stdin,
                "stdout": stdout,
                "stderr": stderr,
                "stream": True,
            }
            info = await self.show()
            return path, params, None, bool((info.get("Config") or {}).get("Tty"))

        return Stream(self.docker, setup, timeout=timeout)

    async def websocket(
        self,
        *,
        stdin: bool | None = None,
        stdout: bool | None = None,
        stderr: bool | None = None,
        logs: bool | None = None,
        stream: bool | None = None,
        detach_keys: str | None = None,
        **params: Any,
    ) -> aiohttp.ClientWebSocketResponse:
        """Attach over a websocket (``GET .../attach/ws``); an aiohttp ``ClientWebSocketResponse``.

        With no arguments, stdin, stdout, stderr and stream are all attached (as
        0.27 does). ``logs`` replays the output so far; ``detach_keys`` overrides
        the key sequence that detaches. Other ``params`` are sent as given.
        """
        named = {
            "stdin": stdin,
            "stdout": stdout,
            "stderr": stderr,
            "logs": logs,
            "stream": stream,
            "detachKeys": detach_keys,
        }
        params.update((key, value) for key, value in named.items() if value is not None)
        if not params:
            params = {"stdin": True, "stdout": True, "stderr": True, "stream": True}
        ws = await self._api.websocket(self._path("containers/{}/attach/ws"), params)
        # text frames decoded (aiohttp's default), the type 0.27 declares
        return cast("aiohttp.ClientWebSocketResponse", ws)

    async def exec(
        self,
        cmd: str | Sequence[str],
        stdout: bool = True,
        stderr: bool = True,
        stdin: bool = False,
        tty: bool = False,
        privileged: bool = False,
        user: str = "",
        environment: Mapping[str, str] | Sequence[str] | None = None,
        workdir: str | None = None,
        detach_keys: str | None = None,
    ) -> Exec:
        """Create an exec instance (``POST /containers/{id}/exec``); start it with ``start()``.

        A str ``cmd`` is split like a shell would; a mapping ``environment`` becomes
        ``["K=V", ...]``.

        Values are sent as given and judged by the daemon, as in 0.27.

        Raises:
            TypeError: ``cmd`` or ``environment`` hold something else than str.
        """
        from .execs import Exec

        body: dict[str, Any] = {
            "AttachStdin": bool(stdin),
            "AttachStdout": bool(stdout),
            "AttachStderr": bool(stderr),
            "Tty": bool(tty),
            "Privileged": bool(privileged),
            "Cmd": _command_args(cmd),
        }
        if environment is not None:
            body["Env"] = _env_entries(environment)
        if workdir is not None:
            body["WorkingDir"] = _check_str(workdir, "workdir")
        if detach_keys is not None:
            body["DetachKeys"] = detach_keys
        if user:
            body["User"] = _check_str(user, "user")
        data = await self._api.call(
            "POST",
            self._path("containers/{}/exec"),
            json_body=body,
            expect=Shape.OBJECT,
            require=("Id",),
        )
        return Exec(self.docker, data["Id"], tty=tty)

    # --- readiness helpers -----------------------------------------------------

    async def wait_exit(self, *, timeout: float | None = None) -> int:
        """Wait until the container is not running and return its exit code.

        Returns at once for a container that already stopped (or never started).

        Raises:
            TimeoutError: it still runs after ``timeout`` seconds (None: no limit).
        """
        result = await with_deadline(
            lambda: self.wait(timeout=None, condition="not-running"), timeout
        )
        error = result.get("Error")
        if error and error.get("Message"):
            raise DockerContainerError(0, f"waiting failed: {error['Message']}", self._id)
        return int(result["StatusCode"])

    async def wait_healthy(
        self, *, timeout: float | None = 60.0, interval: float = 0.2
    ) -> ContainerInspectResponse:
        """Wait until the container's healthcheck reports ``healthy``; return the inspect data.

        Polls the container every ``interval`` seconds.

        Raises:
            DockerContainerError: the container has no healthcheck, became unhealthy,
                or stopped (status 0; the message says which).
            TimeoutError: it is not healthy after ``timeout`` seconds (None: no limit).
        """
        if interval <= 0:
            raise ValueError(f"interval must be positive, got {interval!r}")
        return await with_deadline(lambda: self._poll_health(interval), timeout)

    async def _poll_health(self, interval: float) -> ContainerInspectResponse:
        while True:
            info = cast("ContainerInspectResponse", await self.show())
            state = info.get("State") or {}
            health = state.get("Health")
            check = (info.get("Config") or {}).get("Healthcheck") or {}
            test = check.get("Test") or []
            if test[:1] == ["NONE"] or (not test and health is None):
                raise DockerContainerError(
                    0, f"container {self._id[:12]} has no healthcheck", self._id
                )
            status = (health or {}).get("Status")
            if status == "healthy":
                return info
            if state.get("Status") in _FINAL_STATES:
                raise DockerContainerError(
                    0,
                    f"container {self._id[:12]} stopped before it became healthy "
                    f"(status {state.get('Status')}, exit code {state.get('ExitCode')})",
                    self._id,
                )
            if status == "unhealthy":
                log = (health or {}).get("Log") or [{}]
                output = str(log[-1].get("Output", "")).strip()
                raise DockerContainerError(
                    0,
                    f"container {self._id[:12]} is unhealthy" + (f": {output}" if output else ""),
                    self._id,
                )
            await asyncio.sleep(interval)

    async def wait_for_log(
        self,
        pattern: str | re.Pattern[str],
        *,
        timeout: float | None = 60.0,
        stdout: bool = True,
        stderr: bool = True,
        since: int | float | None = None,
    ) -> str:
        """Wait until a line of output matches ``pattern``; return that line.

        ``pattern`` is a regular expression (a str is compiled; use ``re.escape``
        for literal text), searched in each line without its line ending. Output
        written before the call counts too, unless ``since`` (a Unix time) skips it.

        Raises:
            DockerContainerError: the container stopped and no line matched (status 0).
            TimeoutError: no line matched within ``timeout`` seconds (None: no limit).
        """
        regex = re.compile(pattern) if isinstance(pattern, str) else pattern
        if not isinstance(regex, re.Pattern):
            raise TypeError(f"pattern must be a str or re.Pattern, not {type(pattern).__name__}")
        options: dict[str, Any] = {"stdout": stdout, "stderr": stderr}
        if since is not None:
            options["since"] = since
        return await with_deadline(lambda: self._find_line(regex, options), timeout)

    async def _find_line(self, regex: re.Pattern[str], options: dict[str, Any]) -> str:
        follow = asyncio.ensure_future(_search(self.log_messages(follow=True, **options), regex))
        try:
            line = await self._follow_until_stopped(follow, regex, options)
        finally:
            await cancel_and_wait(follow)
        if line is None:
            raise DockerContainerError(
                0,
                f"container {self._id[:12]} stopped and no output line matched {regex.pattern!r}",
                self._id,
            )
        return line

    async def _follow_until_stopped(
        self, follow: asyncio.Future[str | None], regex: re.Pattern[str], options: dict[str, Any]
    ) -> str | None:
        # A followed log ends when the container stops, but Podman 4.3 can miss an exit
        # that races the follow's start and follow forever. So a wait runs beside it;
        # once the container stopped, the follow has _FOLLOW_END_GRACE seconds to end,
        # and then the whole log is read again without follow: that sees every line
        # the follow would have.
        while not follow.done():
            stopped = asyncio.ensure_future(self.wait())
            try:
                await asyncio.wait((follow, stopped), return_when=asyncio.FIRST_COMPLETED)
                if not follow.done():
                    await asyncio.wait((follow,), timeout=_FOLLOW_END_GRACE)
            finally:
                await cancel_and_wait(stopped)
            if follow.done():
                break
            stopped.result()  # the wait's own error, if it failed
            state = (await self.show()).get("State") or {}
            if not (state.get("Running") or state.get("Restarting")):
                await cancel_and_wait(follow)
                return await _search(self.log_messages(follow=False, **options), regex)
        return follow.result()


async def _search(stream: ResponseStream[Message], regex: re.Pattern[str]) -> str | None:
    """The first line of ``stream`` that ``regex`` matches, or None once the stream ended."""
    splitters: dict[int, LineSplitter] = {}
    async with stream:
        async for message in stream:
            splitter = splitters.setdefault(message.stream, LineSplitter())
            for raw in splitter.feed(message.data):
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                if regex.search(line):
                    return line
    for splitter in splitters.values():
        for raw in splitter.flush():
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if regex.search(line):
                return line
    return None


async def _read_file(fileobj: Any) -> AsyncIterator[bytes]:
    """Read a binary file object in chunks (blocking reads, as aiodocker does)."""
    while True:
        chunk = fileobj.read(_FILE_CHUNK)
        if not chunk:
            return
        if not isinstance(chunk, (bytes, bytearray, memoryview)):
            raise TypeError(
                f"put_archive() file object must return bytes, not {type(chunk).__name__}"
            )
        yield bytes(chunk)
