"""BuildKit builds: typed progress events, the image id, errors that name the failed step.

Layer: resource module (beside ``images.py``, which it drives); imports
``_buildkit`` and the leaves. ``import aiodocker`` does not import it.

    from aiodocker import Docker, buildkit

    async with Docker() as docker:
        image_id = await buildkit.build(docker, path="ctx", tag="app:dev", progress=print)

        async with buildkit.BuildKitBuild(docker, path="ctx", target="test") as build:
            async for event in build:          # VertexStarted, LogLine, ...
                ...
            print(build.image_id)

The keyword arguments are those of :meth:`DockerImages.build` (``path``,
``fileobj`` + ``encoding``, ``remote``, ``tag``, ``buildargs``, ``target``,
``nocache``, ...), without ``stream``, ``version`` and ``session_id``, plus
what needs a BuildKit session (the ``aiodocker[buildkit]`` extra, for ``h2``):

* ``context_sync=True`` (with ``path``): the daemon pulls the context through
  BuildKit's file sync instead of a tar upload; on a rebuild only changed
  files cross, and ``.dockerignore`` applies as with the upload;
* ``secrets={"id": Secret(file=...) | Secret(env=...)}`` for
  ``RUN --mount=type=secret,id=...``;
* ``ssh={"default": None}`` for ``RUN --mount=type=ssh``: each id maps to an
  agent socket, None meaning ``SSH_AUTH_SOCK``;
* ``outputs=["type=local,dest=DIR"]`` (or ``type=tar,dest=FILE``, a mapping,
  a bare directory): the result is written locally, streamed through the
  session, instead of (``local``, ``tar``) or besides the image; ``oci`` and
  ``docker`` tarballs need the engine's containerd image store;
* ``push=True``: each ``tag`` is pushed once the build succeeded, with the
  docker config's credentials;
* ``cache_from=["REF" | "type=registry,ref=REF"]`` (a session answers the
  registry's credential requests) and ``cache_to=["type=inline"]``.

What the engine's embedded builder cannot do (several outputs, a cache
backend other than inline, oci/docker tarballs or several platforms without
the containerd image store) raises :class:`UnsupportedByEngineError` (a
``DockerError`` and a ``ValueError``) before anything is sent.

A session also answers the daemon's registry credential requests from the
docker config (as ``pull`` does). If the session dies during the build, the
build fails with :class:`BuildKitSessionError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, TextIO

from ._buildkit.exporters import (
    LocalReceiver,
    Output,
    TarReceiver,
    UnsupportedByEngineError,
    check_outputs,
    parse_output,
    plan_cache,
    uses_containerd_store,
)
from ._buildkit.render import PlainRenderer, TtyDisplay
from ._buildkit.services import Secret
from ._buildkit.session import BuildKitSessionError, Session, shared_key
from ._buildkit.trace import (
    BuildEvent,
    BuildTrace,
    BuildWarning,
    ImageBuilt,
    LogLine,
    StatusChanged,
    VertexCached,
    VertexCompleted,
    VertexFailed,
    VertexStarted,
)
from ._core.build_context import prepare_context
from ._transport.endpoint import default_config_dir
from .exceptions import DockerError, DockerStreamError, DockerTruncatedStreamError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from ._buildkit.filesync import FileSyncService
    from .docker import Docker

__all__ = [
    "BuildEvent",
    "BuildKitBuild",
    "BuildKitSessionError",
    "Secret",
    "BuildWarning",
    "ImageBuilt",
    "LogLine",
    "PlainRenderer",
    "StatusChanged",
    "TtyDisplay",
    "UnsupportedByEngineError",
    "VertexCached",
    "VertexCompleted",
    "VertexFailed",
    "VertexStarted",
    "build",
    "run_build_cli",
]

_REDRAW_INTERVAL: Final = 0.1


class BuildKitBuild:
    """One BuildKit build: an async iterator of :data:`BuildEvent`.

    Nothing is sent before the first event is asked for. After the last
    event, :attr:`image_id` holds the built image's id.

    Raises:
        ValueError: ``context_sync`` without ``path``; a session with a client
            that uses aiohttp (``session=``/``connector=``); a malformed
            output or cache spec; ``push=True`` without ``tag``.
        UnsupportedByEngineError: what the engine cannot do (see the module
            docstring), here or before the build is sent.
        ImportError: a session is needed and ``h2`` is not installed.

    Raises (while iterating):
        DockerStreamError: the build failed; the message names the failed
            step and ends with its last output lines.
        BuildKitSessionError: the session's connection ended during the build.
    """

    def __init__(
        self,
        docker: Docker,
        *,
        context_sync: bool = False,
        secrets: Mapping[str, Secret] | None = None,
        ssh: Mapping[str, str | None] | None = None,
        outputs: Sequence[str | Mapping[str, str]] | None = None,
        push: bool = False,
        cache_to: Sequence[str] | None = None,
        **build_kwargs: Any,
    ) -> None:
        for reserved in ("stream", "version", "session_id"):
            if reserved in build_kwargs:
                raise TypeError(f"BuildKitBuild sets {reserved}= itself")
        if context_sync and build_kwargs.get("path") is None:
            raise ValueError("context_sync=True needs path=")
        if isinstance(outputs, str | Mapping):
            outputs = [outputs]
        self._outputs: list[Output] = [parse_output(spec) for spec in outputs or ()]
        check_outputs(self._outputs, containerd_store=True)  # the engine-free checks, now
        cache = plan_cache(build_kwargs.pop("cache_from", None), cache_to)
        if cache.cache_from:
            build_kwargs["cache_from"] = cache.cache_from
        if cache.inline:
            build_kwargs["buildargs"] = {
                **(build_kwargs.get("buildargs") or {}),
                "BUILDKIT_INLINE_CACHE": "1",
            }
        self._push = push or any(
            o.type == "image" and o.attrs.get("push", "").lower() in ("1", "true")
            for o in self._outputs
        )
        tags = build_kwargs.get("tag")
        self._tags = [tags] if isinstance(tags, str) else list(tags or ())
        for output in self._outputs:  # type=image,name=a,b: more names, as buildx takes them
            if output.type == "image" and output.attrs.get("name"):
                names = [n.strip() for n in output.attrs["name"].split(",") if n.strip()]
                self._tags += [n for n in names if n not in self._tags]
        if self._tags:
            build_kwargs["tag"] = self._tags
        if self._push and not self._tags:
            raise ValueError("push=True needs tag= (the names to push)")
        self._export = next((o for o in self._outputs if o.needs_session), None)
        # a cache import reads a registry: the daemon asks the session for its credentials
        self._cache_import = bool(cache.cache_from)
        needs_session = bool(context_sync or secrets or ssh or self._export or self._cache_import)
        if needs_session and importlib.util.find_spec("h2") is None:
            raise ImportError(
                "a BuildKit session (context_sync, secrets, ssh, outputs, cache_from) needs "
                "the h2 package: "
                "pip install 'aiodocker[buildkit]'"
            )
        if needs_session and docker.through_aiohttp:
            raise ValueError(
                "a BuildKit session needs the client's own HTTP engine: with session= or "
                "connector= requests go through aiohttp, which cannot hand over the HTTP/2 "
                "connection of POST /session"
            )
        self._docker = docker
        self._kwargs = build_kwargs
        self._context_sync = context_sync
        self._secrets = dict(secrets or {})
        self._ssh = {name: _agent_socket(name, path) for name, path in (ssh or {}).items()}
        self._config_dir = default_config_dir(os.environ, os.path.expanduser("~"))
        self._sync_dirs: dict[str, str] = {}
        if context_sync:
            context = prepare_context(
                os.fspath(build_kwargs.pop("path")),
                build_kwargs.pop("path_dockerfile", None) or "Dockerfile",
            )
            dockerfile = os.path.join(context.root, context.dockerfile)
            self._sync_dirs = {"context": context.root, "dockerfile": os.path.dirname(dockerfile)}
            build_kwargs.update(
                remote="client-session", path_dockerfile=os.path.basename(dockerfile)
            )
        self._stream: AsyncIterator[dict[str, Any]] | None = None
        self._pending: deque[BuildEvent] = deque()
        self._closed = False
        self.session: Session | None = None
        self.file_sync: FileSyncService | None = None
        self.exporter: LocalReceiver | TarReceiver | None = None
        self.pushed: list[str] = []
        self.trace = BuildTrace()

    @property
    def uses_session(self) -> bool:
        return bool(
            self._context_sync or self._secrets or self._ssh or self._export or self._cache_import
        )

    async def _check_engine(self) -> None:
        """Refuse what needs the containerd image store when the engine lacks it."""
        platform = str(self._kwargs.get("platform") or "")
        platforms = [p for p in platform.split(",") if p.strip()]
        needs_store = len(platforms) > 1 or any(
            o.type in ("oci", "docker", "registry") for o in self._outputs
        )
        if needs_store:
            info = await self._docker.system.info()
            check_outputs(
                self._outputs, containerd_store=uses_containerd_store(info), platforms=platforms
            )

    def _api_outputs(self) -> list[dict[str, Any]] | None:
        entries = []
        for output in self._outputs:
            if output.type == "image" or (output.type == "docker" and output.dest is None):
                continue  # the default: the image goes to the engine's store
            entries.append(output.api_entry())
        return entries or None

    def _add_exporter(self, table: dict[str, Any]) -> None:
        export = self._export
        if export is None:
            return
        from ._buildkit.exporters import FILE_SEND

        assert export.dest is not None
        if export.type == "local":
            self.exporter = LocalReceiver(export.dest)
        else:
            self.exporter = TarReceiver(sys.stdout.buffer if export.dest == "-" else export.dest)
        table[FILE_SEND] = self.exporter.diff_copy

    async def _push_tags(self) -> None:
        for name in self._tags:
            await self._docker.images.push(name)
            self.pushed.append(name)

    async def _start(self) -> AsyncIterator[dict[str, Any]]:
        await self._check_engine()
        kwargs = dict(self._kwargs)
        outputs = self._api_outputs()
        if outputs:
            kwargs["outputs"] = outputs
        if not self.uses_session:
            return self._docker.images.build(stream=True, version="2", **kwargs)
        from ._buildkit import filesync, services

        table = services.handlers(
            secrets=self._secrets,
            ssh=self._ssh,
            config_dir=self._config_dir,
        )
        name = key = "aiodocker"
        if self._sync_dirs:
            root = self._sync_dirs["context"]
            name, key = os.path.basename(root), shared_key(root)
        if self._sync_dirs:
            self.file_sync = filesync.FileSyncService(self._sync_dirs)
            table[filesync.DIFF_COPY] = self.file_sync.diff_copy
        self._add_exporter(table)
        session = Session(table, name=name, key=key)
        self.session = session
        session.start(await self._open_session(session.headers()))
        return self._docker.images.build(stream=True, version="2", session_id=session.id, **kwargs)

    async def _open_session(self, headers: dict[str, str]) -> Any:
        api = self._docker.core
        response = await api.request(
            "POST", "session", headers=headers, timeout=api.seconds(None, long_running=True)
        )
        if response.status != 101:
            response.release()
            raise DockerError(
                response.status,
                f"POST /session was not upgraded to HTTP/2 (status {response.status})",
            )
        return response.detach()

    async def _next_item(self, stream: AsyncIterator[dict[str, Any]]) -> dict[str, Any]:
        session = self.session
        if session is None:
            return await stream.__anext__()
        item = asyncio.ensure_future(stream.__anext__())
        try:
            waiting: set[asyncio.Future[Any]] = {item, session.dead}
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            item.cancel()
            with contextlib.suppress(BaseException):
                await item
            raise
        if item.done():
            result: dict[str, Any] = item.result()
            return result
        item.cancel()
        with contextlib.suppress(BaseException):
            await item
        session.dead.result()  # raises BuildKitSessionError
        raise BuildKitSessionError("the BuildKit session ended before the build")

    @property
    def image_id(self) -> str | None:
        """The built image's id (``sha256:...``), once the daemon sent it."""
        return self.trace.image_id

    def __aiter__(self) -> BuildKitBuild:
        return self

    async def __anext__(self) -> BuildEvent:
        while not self._pending:
            if self._closed:
                raise StopAsyncIteration
            try:
                if self._stream is None:
                    self._stream = await self._start()
                item = await self._next_item(self._stream)
            except StopAsyncIteration:
                await self.aclose()
                if self._push and not self.pushed and self.image_id is not None:
                    await self._push_tags()
                raise
            except DockerTruncatedStreamError:
                await self.aclose()
                raise
            except DockerStreamError as exc:
                await self.aclose()
                raise self.trace.explain(exc) from exc
            except BaseException:
                await self.aclose()
                raise
            self._pending.extend(self.trace.feed(item))
        return self._pending.popleft()

    @property
    def makes_image(self) -> bool:
        """Whether the build ends in an image (False when ``outputs`` export elsewhere only)."""
        return not self._outputs or self._api_outputs() is None

    async def wait(self) -> str | None:
        """Run the build to its end and return the image id (None for a local/tar export).

        Raises:
            DockerStreamError: the build failed, or made an image but reported no id.
        """
        async for _ in self:
            pass
        if self.image_id is None and self.makes_image:
            raise DockerStreamError("the BuildKit build ended without reporting an image id")
        return self.image_id

    async def aclose(self) -> None:
        """Stop the build's stream and its session; release their connections. Idempotent."""
        self._closed = True
        stream, self._stream = self._stream, None
        session = self.session  # kept: its counters stay readable
        try:
            closer = getattr(stream, "aclose", None)
            if closer is not None:
                await closer()
        finally:
            if session is not None:
                await session.close()

    async def __aenter__(self) -> BuildKitBuild:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


async def build(
    docker: Docker,
    *,
    progress: Callable[[BuildEvent], object] | None = None,
    **build_kwargs: Any,
) -> str | None:
    """Build with BuildKit and return the image id; ``progress`` sees every event.

    The id is None when ``outputs`` exported the result elsewhere only
    (``type=local``, ``type=tar``): no image was made.

    Raises:
        DockerStreamError: the build failed (naming the failed step, with its
            last output lines).
    """
    async with BuildKitBuild(docker, **build_kwargs) as running:
        async for event in running:
            if progress is not None:
                progress(event)
        return await running.wait()


# --- python -m aiodocker build DIR ----------------------------------------------------


async def run_build_cli(
    docker: Docker,
    *,
    out: TextIO,
    err: TextIO | None = None,
    progress: str = "auto",
    **build_kwargs: Any,
) -> int:
    """Build showing progress on ``out`` (``progress``: auto, plain or tty); return the exit status.

    ``auto`` redraws a compact view when ``out`` is a terminal and prints
    buildx-style plain lines otherwise. The image id is printed at the end;
    errors go to ``err`` (default ``sys.stderr``) and give status 1.
    """
    error_out = err if err is not None else sys.stderr
    interactive = progress == "tty" or (progress == "auto" and _isatty(out))
    plain = PlainRenderer()
    display = TtyDisplay()
    last_draw = 0.0
    failed: BaseException | None = None
    try:
        async with BuildKitBuild(docker, **build_kwargs) as running:
            async for event in running:
                if interactive:
                    display.update(event)
                    now = time.monotonic()
                    if now - last_draw >= _REDRAW_INTERVAL:
                        last_draw = now
                        out.write(display.frame())
                        out.flush()
                    continue
                for line in plain.render(event):
                    out.write(line + "\n")
                out.flush()
            image_id = await running.wait()
    except (DockerError, ValueError, OSError, ImportError) as exc:
        failed = exc
    if interactive:
        out.write(display.frame(final=failed is None))
    if failed is not None:
        out.flush()
        error_out.write(f"ERROR: {getattr(failed, 'message', None) or failed}\n")
        error_out.flush()
        return 1
    if image_id is not None:
        out.write(f"{image_id}\n")
    out.flush()
    return 0


def _agent_socket(name: str, path: str | None) -> str:
    if path:
        return path
    socket: str | None = os.environ.get("SSH_AUTH_SOCK")
    if not socket:
        raise ValueError(f"ssh id {name!r}: no socket given and SSH_AUTH_SOCK is not set")
    return socket


def _isatty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
