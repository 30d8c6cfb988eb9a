"""``docker.plugins``: managed (v2) plugins: install, configure, build and publish them.

Layer: resource module; imports ``_core``, ``_responses`` and the package's leaf
modules only.

Facts followed (Engine API): ``pull`` and ``upgrade`` send the privileges the
user accepted as the JSON body, and the daemon refuses them unless they equal
what the plugin asks for (``GET /plugins/privileges``); ``pull``, ``upgrade``
and ``push`` answer with a JSON progress stream whose failures arrive in-band;
``create`` takes an uncompressed tar holding ``config.json`` and ``rootfs/``;
registry credentials travel in ``X-Registry-Auth``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Literal, cast, overload

from ._core.registry_auth import AUTH_HEADER
from ._core.request import Shape, build_path
from ._core.resource import Resource
from ._responses import ResponseStream, collect, json_stream
from .types import SENTINEL

if TYPE_CHECKING:
    from ._core.client import TimeoutArg
    from .docker import Docker
    from .models import Plugin, PluginPrivilege

__all__ = ("DockerPlugins",)

TAR_CONTENT_TYPE: Final = "application/x-tar"
PLUGIN_CONFIG: Final = "config.json"
PLUGIN_ROOTFS: Final = "rootfs"
FILE_CHUNK_SIZE: Final = 64 * 1024

_DictList = list[dict[str, Any]]
_PrivilegeList = list["PluginPrivilege"]
_Privileges = Sequence[Mapping[str, Any]]

PluginContext = bytes | bytearray | memoryview | str | os.PathLike[str] | Any


def _config_dir() -> str:
    """The docker CLI's config directory: ``DOCKER_CONFIG``, else ``~/.docker``."""
    return os.environ.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")


def _registry_of(reference: str) -> str:
    """The registry host of a plugin reference (``docker.io`` without one).

    Raises:
        ValueError: the reference is malformed.
    """
    from ._core.credentials import split_reference

    return split_reference(reference)[0]


def _privileges_body(privileges: Any) -> list[dict[str, Any]]:
    if isinstance(privileges, (str, bytes, Mapping)) or not isinstance(privileges, Sequence):
        raise TypeError(
            "privileges must be a list of {'Name', 'Description', 'Value'} mappings, "
            f"not {type(privileges).__name__}"
        )
    body = []
    for item in privileges:
        if not isinstance(item, Mapping):
            raise TypeError(f"each privilege must be a mapping, not {type(item).__name__}")
        body.append(dict(item))
    return body


def _settings_body(settings: Any) -> list[str]:
    if isinstance(settings, Mapping):
        items = [f"{key}={value}" for key, value in settings.items()]
    elif isinstance(settings, (str, bytes)) or not isinstance(settings, Sequence):
        raise TypeError(
            "settings must be a list of 'KEY=value' strings or a mapping, "
            f"not {type(settings).__name__}"
        )
    else:
        items = list(settings)
    for item in items:
        if not isinstance(item, str):
            raise TypeError(f"each setting must be a 'KEY=value' str, not {type(item).__name__}")
        if not item.partition("=")[0]:
            raise ValueError(f"setting {item!r} has no name: use 'KEY=value'")
    if not items:
        raise ValueError("settings must not be empty")
    return items


async def _read_file(fileobj: Any) -> AsyncIterator[bytes]:
    while True:
        chunk = await asyncio.to_thread(fileobj.read, FILE_CHUNK_SIZE)
        if not chunk:
            return
        if not isinstance(chunk, (bytes, bytearray)):
            raise TypeError("a plugin context file must be opened in binary mode")
        yield bytes(chunk)


def _context_body(context: PluginContext) -> bytes | AsyncIterable[bytes]:
    """Turn ``create()``'s context into a request body (a tar, streamed where possible).

    Raises:
        ValueError: a directory without ``config.json`` or ``rootfs/``, or a missing path.
        TypeError: an unsupported context type.
    """
    if isinstance(context, (bytes, bytearray, memoryview)):
        return bytes(context)
    if isinstance(context, (str, os.PathLike)):
        path = os.fspath(context)
        if os.path.isdir(path):
            if not os.path.isfile(os.path.join(path, PLUGIN_CONFIG)):
                raise ValueError(f"plugin directory {path!r} has no {PLUGIN_CONFIG}")
            if not os.path.isdir(os.path.join(path, PLUGIN_ROOTFS)):
                raise ValueError(f"plugin directory {path!r} has no {PLUGIN_ROOTFS}/ directory")
            from ._core.build_context import stream_context  # imports tarfile

            return stream_context(path, dockerfile=PLUGIN_CONFIG)
        if os.path.isfile(path):
            return _read_tar_file(path)
        raise ValueError(f"plugin context {path!r} is neither a directory nor a tar file")
    if hasattr(context, "__aiter__"):
        return context  # type: ignore[no-any-return]
    if hasattr(context, "read"):
        return _read_file(context)
    raise TypeError(
        "plugin context must be tar bytes, a binary file, an async iterable of bytes, "
        f"or a directory path, not {type(context).__name__}"
    )


async def _read_tar_file(path: str) -> AsyncIterator[bytes]:
    fileobj = await asyncio.to_thread(open, path, "rb")
    try:
        async for chunk in _read_file(fileobj):
            yield chunk
    finally:
        fileobj.close()


class DockerPlugins(Resource):
    """Managed plugins (``docker.plugins``)."""

    if TYPE_CHECKING:
        docker: Docker  # 0.27 types the attribute so; annotations only, no import at run time

    # --- helpers ---------------------------------------------------------------

    async def _auth_headers(self, reference: str, auth: Any) -> dict[str, str]:
        """``X-Registry-Auth`` for the registry of ``reference``.

        ``auth`` as in ``images.pull``; None looks the credentials up like the CLI.
        """
        from ._core import credentials

        registry = _registry_of(reference)
        if auth is not None:
            return {AUTH_HEADER: credentials.compose_auth_header(auth, registry)}
        found = await credentials.resolve_auth(registry, config_dir=_config_dir())
        return {AUTH_HEADER: found.to_header()} if found is not None else {}

    def _progress(
        self,
        method: str,
        path: str,
        *,
        reference: str,
        auth: Any,
        params: Mapping[str, Any],
        privileges: Any = SENTINEL,
        timeout: TimeoutArg,
    ) -> ResponseStream[dict[str, Any]]:
        """A progress stream; privileges (unless SENTINEL) and auth are resolved on open."""
        api = self._api
        seconds = api.seconds(timeout, long_running=True)
        remote = params.get("remote", reference)

        async def opener() -> Any:
            headers = await self._auth_headers(reference, auth)
            kwargs: dict[str, Any] = {}
            if privileges is not SENTINEL:
                accepted = privileges
                if accepted is None:
                    accepted = await self.privileges(remote, auth=auth)
                kwargs["json_body"] = _privileges_body(accepted)
            return await api.request(
                method,
                path,
                params=params,
                headers=headers,
                timeout=seconds,
                long_lived=True,
                **kwargs,
            )

        return json_stream(opener)

    # --- endpoints -------------------------------------------------------------

    async def list(self, *, filters: Mapping[str, Any] | None = None) -> list[Plugin]:
        """Return the installed plugins (``GET /plugins``).

        Args:
            filters: ``capability``, ``enabled`` (``"true"``/``"false"``; the API
                reference says ``enable``, the daemon accepts ``enabled``).
        """
        return cast("list[Plugin]", await self._list("plugins", filters=filters))

    async def privileges(self, remote: str, *, auth: Any = None) -> _PrivilegeList:
        """Return the privileges the plugin ``remote`` asks for (``GET /plugins/privileges``).

        Raises:
            ValueError: ``remote`` is not a valid reference.
            DockerError: the registry cannot be reached or has no such plugin.
        """
        headers = await self._auth_headers(remote, auth)
        result = await self._api.call(
            "GET",
            "plugins/privileges",
            params={"remote": remote},
            headers=headers,
            expect=Shape.OBJECTS,
        )
        return cast("_PrivilegeList", result)

    @overload
    def pull(
        self,
        remote: str,
        *,
        name: str | None = ...,
        privileges: _Privileges | None = ...,
        auth: Any = ...,
        stream: Literal[False] = ...,
        timeout: TimeoutArg = ...,
    ) -> Awaitable[_DictList]: ...

    @overload
    def pull(
        self,
        remote: str,
        *,
        name: str | None = ...,
        privileges: _Privileges | None = ...,
        auth: Any = ...,
        stream: Literal[True],
        timeout: TimeoutArg = ...,
    ) -> ResponseStream[dict[str, Any]]: ...

    def pull(
        self,
        remote: str,
        *,
        name: str | None = None,
        privileges: _Privileges | None = None,
        auth: Any = None,
        stream: bool = False,
        timeout: TimeoutArg = SENTINEL,
    ) -> Awaitable[_DictList] | ResponseStream[dict[str, Any]]:
        """Install the plugin ``remote`` (``POST /plugins/pull``), disabled.

        Args:
            name: the local name (default: ``remote``).
            privileges: the privileges to grant; None fetches and grants what the
                plugin asks for (as ``docker plugin install --grant-all-permissions``).
            auth: registry credentials (mapping, or base64 ``user:password``);
                None looks them up in the docker CLI's config.
            stream: return the progress stream instead of a list of its messages.

        Raises:
            ValueError: ``remote`` or ``name`` is not a valid reference.
            DockerStreamError: the pull failed (reported in-band).
            DockerError: the daemon refused the request (e.g. a plugin of that name exists).
        """
        _registry_of(remote)
        if name is not None:
            _registry_of(name)
        progress = self._progress(
            "POST",
            "plugins/pull",
            reference=remote,
            auth=auth,
            params={"remote": remote, "name": name},
            privileges=privileges,
            timeout=timeout,
        )
        return progress if stream else collect(progress)

    async def inspect(self, name: str) -> Plugin:
        """Return the plugin's details (``GET /plugins/{name}/json``).

        Raises:
            DockerNotFoundError: no such plugin.
        """
        result = await self._api.call("GET", build_path("plugins/{}/json", name), expect=Shape.OBJECT)
        return cast("Plugin", result)

    async def delete(self, name: str, *, force: bool = False) -> Plugin | None:
        """Remove the plugin (``DELETE /plugins/{name}``); return its last details.

        The API documents the details as the answer, but Docker 20.10 answers
        with an empty body: then the result is None.

        Raises:
            DockerNotFoundError: no such plugin.
            DockerError: the plugin is enabled (without ``force``) or in use.
        """
        result = await self._api.call(
            "DELETE",
            build_path("plugins/{}", name),
            params={"force": force or None},
            expect=Shape.OBJECT_OR_NOTHING,
        )
        return cast("Plugin | None", result)

    async def enable(self, name: str, *, timeout: int = 0) -> None:
        """Enable the plugin (``POST /plugins/{name}/enable``).

        Args:
            timeout: seconds the daemon waits for the plugin to activate (0: its default).

        Raises:
            DockerNotFoundError: no such plugin.
            DockerError: the plugin is already enabled or failed to start.
        """
        if isinstance(timeout, bool) or not isinstance(timeout, int) or timeout < 0:
            raise ValueError(f"timeout must be a non-negative int (seconds), not {timeout!r}")
        await self._api.call(
            "POST",
            build_path("plugins/{}/enable", name),
            params={"timeout": timeout},
            long_running=True,
            expect=Shape.NOTHING,
        )

    async def disable(self, name: str, *, force: bool = False) -> None:
        """Disable the plugin (``POST /plugins/{name}/disable``).

        Raises:
            DockerNotFoundError: no such plugin.
            DockerError: the plugin is not enabled, or in use (without ``force``).
        """
        await self._api.call(
            "POST",
            build_path("plugins/{}/disable", name),
            params={"force": force or None},
            long_running=True,
            expect=Shape.NOTHING,
        )

    @overload
    def upgrade(
        self,
        name: str,
        remote: str,
        *,
        privileges: _Privileges | None = ...,
        auth: Any = ...,
        stream: Literal[False] = ...,
        timeout: TimeoutArg = ...,
    ) -> Awaitable[_DictList]: ...

    @overload
    def upgrade(
        self,
        name: str,
        remote: str,
        *,
        privileges: _Privileges | None = ...,
        auth: Any = ...,
        stream: Literal[True],
        timeout: TimeoutArg = ...,
    ) -> ResponseStream[dict[str, Any]]: ...

    def upgrade(
        self,
        name: str,
        remote: str,
        *,
        privileges: _Privileges | None = None,
        auth: Any = None,
        stream: bool = False,
        timeout: TimeoutArg = SENTINEL,
    ) -> Awaitable[_DictList] | ResponseStream[dict[str, Any]]:
        """Replace the disabled plugin ``name`` with ``remote`` (``POST /plugins/{name}/upgrade``).

        ``privileges``, ``auth`` and ``stream`` as in :meth:`pull`.

        Raises:
            ValueError: ``remote`` is not a valid reference.
            DockerStreamError: the upgrade failed (reported in-band).
            DockerError: no such plugin, or it is enabled.
        """
        _registry_of(remote)
        progress = self._progress(
            "POST",
            build_path("plugins/{}/upgrade", name),
            reference=remote,
            auth=auth,
            params={"remote": remote},
            privileges=privileges,
            timeout=timeout,
        )
        return progress if stream else collect(progress)

    async def create(self, name: str, context: PluginContext, *, timeout: TimeoutArg = SENTINEL) -> None:
        """Create a plugin from a tar of ``config.json`` and ``rootfs/`` (``POST /plugins/create``).

        Args:
            context: the tar as bytes, a binary file or an async iterable of bytes
                (streamed), a path to such a tar, or a directory holding
                ``config.json`` and ``rootfs/`` (archived and streamed on the fly).

        Raises:
            ValueError: ``name`` is not a valid reference; a directory lacks
                ``config.json`` or ``rootfs/``.
            TypeError: ``context`` is of an unsupported type.
            DockerError: the daemon rejected the plugin (e.g. a bad config, a name in use).
        """
        _registry_of(name)
        body = _context_body(context)
        await self._api.call(
            "POST",
            "plugins/create",
            params={"name": name},
            body=body,
            headers={"Content-Type": TAR_CONTENT_TYPE},
            timeout=timeout,
            long_running=True,
            expect=Shape.NOTHING,
        )

    @overload
    def push(
        self, name: str, *, auth: Any = ..., stream: Literal[False] = ..., timeout: TimeoutArg = ...
    ) -> Awaitable[_DictList]: ...

    @overload
    def push(
        self, name: str, *, auth: Any = ..., stream: Literal[True], timeout: TimeoutArg = ...
    ) -> ResponseStream[dict[str, Any]]: ...

    def push(
        self, name: str, *, auth: Any = None, stream: bool = False, timeout: TimeoutArg = SENTINEL
    ) -> Awaitable[_DictList] | ResponseStream[dict[str, Any]]:
        """Push the plugin ``name`` to the registry its name points at.

        ``auth`` and ``stream`` as in :meth:`pull`.

        Raises:
            ValueError: ``name`` is not a valid reference.
            DockerStreamError: the push failed (reported in-band, e.g. unauthorized).
            DockerNotFoundError: no such plugin.
        """
        _registry_of(name)
        progress = self._progress(
            "POST",
            build_path("plugins/{}/push", name),
            reference=name,
            auth=auth,
            params={},
            timeout=timeout,
        )
        return progress if stream else collect(progress)

    async def set(self, name: str, settings: Sequence[str] | Mapping[str, Any]) -> None:
        """Configure the disabled plugin: env, mount sources, device paths, args.

        ``settings`` is ``["KEY=value", ...]`` (``mount.source=/path``,
        ``args=a b``...) or a mapping ``{"KEY": value}``.

        Raises:
            TypeError: ``settings`` is not a list of str or a mapping.
            ValueError: an entry has no ``KEY=``.
            DockerNotFoundError: no such plugin.
            DockerError: the plugin is enabled, or a setting is not settable.
        """
        body = _settings_body(settings)
        await self._api.call(
            "POST", build_path("plugins/{}/set", name), json_body=body, expect=Shape.NOTHING
        )
