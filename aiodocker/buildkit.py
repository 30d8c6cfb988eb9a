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
``nocache``, ...), without ``stream``, ``version`` and ``session_id``.

Every build serves a BuildKit session (on the client's own HTTP engine, on
engines that have sessions; Podman's 404 means the tar upload): registry
credentials from the docker config, optional secret and ssh mounts, and:

* ``context_sync`` (default: wherever a session runs): with ``path``, the
  daemon pulls the context through BuildKit's file sync instead of a tar
  upload; on a rebuild only changed files cross, and ``.dockerignore`` applies
  as with the upload. ``True`` requires it, ``False`` sends the tar;
* ``secrets={"id": Secret(file=...) | Secret(env=...)}`` for
  ``RUN --mount=type=secret,id=...``;
* ``ssh={"default": None}`` for ``RUN --mount=type=ssh``: each id maps to an
  agent socket (None meaning ``SSH_AUTH_SOCK``) or to key files, which an
  in-process agent serves; every source is checked before the build starts;
* ``build_contexts={"name": DIR | "docker-image://REF"}`` for
  ``COPY --from=name`` and ``FROM name``: solved through the daemon's BuildKit
  control API (``POST /grpc``), since ``POST /build`` cannot name contexts;
* ``path_dockerfile`` may be an absolute path outside the context.
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

If the session dies during the build, the build fails with
:class:`BuildKitSessionError`. A failed step's error shows its Dockerfile
lines as buildx prints them.
"""

from __future__ import annotations

import asyncio
import contextlib
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
from ._buildkit.sshagent import check_ssh_sources
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
from ._core.request import unexpected
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
_NO_SESSIONS: Final = (400, 404, 405)  # how engines without BuildKit answer POST /session


def _check_arguments(
    build_kwargs: Mapping[str, Any],
    context_sync: bool | None,
    build_contexts: Mapping[str, Any] | None,
) -> None:
    """The checks of ``BuildKitBuild``'s arguments that need nothing else.

    Raises:
        TypeError: a keyword that ``BuildKitBuild`` sets itself.
        ValueError: file sync or named contexts without a local context.
    """
    for reserved in ("stream", "version", "session_id"):
        if reserved in build_kwargs:
            raise TypeError(f"BuildKitBuild sets {reserved}= itself")
    if context_sync and build_kwargs.get("path") is None:
        raise ValueError("context_sync=True needs path=")
    if build_contexts and build_kwargs.get("path") is None:
        raise ValueError("build_contexts= needs a local context directory (path=)")
    if build_contexts and context_sync is False:
        raise ValueError("build_contexts= are sent by file sync: not with context_sync=False")


def _parse_outputs(
    outputs: Sequence[str | Mapping[str, str]] | str | Mapping[str, str] | None,
) -> list[Output]:
    """``outputs=`` parsed, with the checks that need no engine.

    Raises:
        ValueError: an output that cannot be parsed or is not supported.
    """
    if isinstance(outputs, str | Mapping):
        outputs = [outputs]
    parsed = [parse_output(spec) for spec in outputs or ()]
    check_outputs(parsed, containerd_store=True)  # the engine-free checks, now
    return parsed


def _apply_cache(build_kwargs: dict[str, Any], cache_to: Sequence[str] | None) -> None:
    """Put ``cache_from=``/``cache_to=`` into the build's keywords as the API takes them."""
    cache = plan_cache(build_kwargs.pop("cache_from", None), cache_to)
    if cache.cache_from:
        build_kwargs["cache_from"] = cache.cache_from
    if cache.inline:
        build_kwargs["buildargs"] = {
            **(build_kwargs.get("buildargs") or {}),
            "BUILDKIT_INLINE_CACHE": "1",
        }


def _all_tags(tag: str | Sequence[str] | None, outputs: Sequence[Output]) -> list[str]:
    """``tag=``'s names, then those of ``type=image,name=a,b`` outputs (as buildx takes them)."""
    tags = [tag] if isinstance(tag, str) else list(tag or ())
    for output in outputs:
        if output.type == "image" and output.attrs.get("name"):
            names = [n.strip() for n in output.attrs["name"].split(",") if n.strip()]
            tags += [n for n in names if n not in tags]
    return tags


class BuildKitBuild:
    """One BuildKit build: an async iterator of :data:`BuildEvent`.

    Nothing is sent before the first event is asked for. After the last
    event, :attr:`image_id` holds the built image's id.

    Raises:
        ValueError: ``context_sync`` or ``build_contexts`` without ``path``; a
            session asked for with a client that uses aiohttp
            (``session=``/``connector=``); a missing context directory or
            Dockerfile; an ssh source that cannot be used (a socket that does
            not answer, a missing, unreadable or passphrase-protected key); a
            malformed output or cache spec; ``push=True`` without ``tag``;
            ``outputs=`` together with ``build_contexts=``.
        UnsupportedByEngineError: what the engine cannot do (see the module
            docstring), here or before the build is sent.
        ImportError: ssh key files without ``cryptography``.

    Raises (while iterating):
        DockerStreamError: the build failed; the message names the failed
            step, shows its Dockerfile lines and ends with its last output lines.
        BuildKitSessionError: the session's connection ended during the build.
        DockerResponseError: the engine has no sessions but the build needs one.
    """

    def __init__(
        self,
        docker: Docker,
        *,
        context_sync: bool | None = None,
        secrets: Mapping[str, Secret] | None = None,
        ssh: Mapping[str, str | Sequence[str] | None] | None = None,
        build_contexts: Mapping[str, str | os.PathLike[str]] | None = None,
        outputs: Sequence[str | Mapping[str, str]] | None = None,
        push: bool = False,
        cache_to: Sequence[str] | None = None,
        **build_kwargs: Any,
    ) -> None:
        _check_arguments(build_kwargs, context_sync, build_contexts)
        self._outputs: list[Output] = _parse_outputs(outputs)
        _apply_cache(build_kwargs, cache_to)
        self._push = push or any(
            o.type == "image" and o.attrs.get("push", "").lower() in ("1", "true")
            for o in self._outputs
        )
        self._tags = _all_tags(build_kwargs.get("tag"), self._outputs)
        if self._tags:
            build_kwargs["tag"] = self._tags
        if self._push and not self._tags:
            raise ValueError("push=True needs tag= (the names to push)")
        self._export = next((o for o in self._outputs if o.needs_session), None)
        if build_contexts and self._outputs:
            raise ValueError(
                "outputs= with build_contexts= is not supported: named contexts are solved "
                "through POST /grpc, whose exporters this client does not drive yet"
            )
        explicit = bool(context_sync or secrets or ssh or build_contexts or self._export)
        if explicit and docker.through_aiohttp:
            raise ValueError(
                "a BuildKit session needs the client's own HTTP engine: with session= or "
                "connector= requests go through aiohttp, which cannot hand over the HTTP/2 "
                "connection of POST /session"
            )
        self._docker = docker
        self._kwargs = build_kwargs
        # what the build needs of a session; without one (an engine without
        # POST /session) the build can still run when nothing here was asked for
        self._session_required = explicit
        self._session_wanted = not docker.through_aiohttp
        self._secrets = dict(secrets or {})
        self._ssh = check_ssh_sources(ssh or {})
        self._config_dir = default_config_dir(os.environ, os.path.expanduser("~"))
        self._plan_context(build_kwargs, context_sync, build_contexts)
        self._stream: AsyncIterator[dict[str, Any]] | None = None
        self._pending: deque[BuildEvent] = deque()
        self._closed = False
        self.session: Session | None = None
        self.file_sync: FileSyncService | None = None
        self.exporter: LocalReceiver | TarReceiver | None = None
        self.pushed: list[str] = []
        self.trace = BuildTrace()

    def _plan_context(
        self,
        build_kwargs: dict[str, Any],
        context_sync: bool | None,
        build_contexts: Mapping[str, str | os.PathLike[str]] | None,
    ) -> None:
        """How the context goes: by file sync or as a tar, and the named contexts.

        Raises:
            ValueError: an unusable context directory or Dockerfile.
        """
        self._sync_dirs: dict[str, str] = {}
        self._tar_kwargs = build_kwargs
        self._contexts: dict[str, str] = {}
        self._grpc: Any = None
        sync = context_sync if context_sync is not None else self._session_wanted
        if sync and build_kwargs.get("path") is not None:
            self._sync_dirs, self._kwargs, outside = _sync_layout(build_kwargs)
            # a Dockerfile outside the context needs the file sync: no tar fallback
            self._session_required = self._session_required or outside
        elif build_kwargs.get("path") is not None:
            prepare_context(  # the tar upload's checks, before anything is sent
                os.fspath(build_kwargs["path"]),
                build_kwargs.get("path_dockerfile") or "Dockerfile",
            )
        self._dockerfile = _local_dockerfile(build_kwargs)
        if build_contexts:
            for name, value in build_contexts.items():
                self._contexts[name] = _named_context(name, value, self._sync_dirs)
            self._frontend_attrs, self._exporter_attrs = _solve_attrs(self._kwargs)

    def _source_lines(self, vertex_name: str) -> str:
        """The local Dockerfile's lines that the failed vertex ran ("" when unknown)."""
        from ._buildkit.sourcelines import source_lines

        path = self._dockerfile
        if path is None:
            return ""
        try:
            with open(path, encoding="utf-8", errors="replace") as file:
                text = file.read(1 << 20)
        except OSError:
            return ""
        return source_lines(os.path.basename(path), text, vertex_name)

    @property
    def uses_session(self) -> bool:
        """Whether the build serves a BuildKit session (every build on the client's own engine)."""
        return self._session_wanted

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
        outputs = self._api_outputs()
        if outputs:
            self._kwargs = {**self._kwargs, "outputs": outputs}
            self._tar_kwargs = {**self._tar_kwargs, "outputs": outputs}
        if not self._session_wanted:
            return self._docker.images.build(
                stream=True, version="2", session_id="", **self._tar_kwargs
            )
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
            self.file_sync = filesync.FileSyncService(self._sync_dirs)
            table[filesync.DIFF_COPY] = self.file_sync.diff_copy
        self._add_exporter(table)
        session = Session(table, name=name, key=key)
        channel = await self._open_session(session.headers())
        if channel is None:  # the engine has no sessions (Podman): the tar upload
            self.file_sync = None
            self._session_wanted = False
            return self._docker.images.build(
                stream=True, version="2", session_id="", **self._tar_kwargs
            )
        self.session = session
        session.start(channel)
        if self._contexts:  # POST /build cannot name contexts: BuildKit's Solve can
            return await self._solve(session)
        return self._docker.images.build(
            stream=True, version="2", session_id=session.id, **self._kwargs
        )

    async def _solve(self, session: Session) -> AsyncIterator[dict[str, Any]]:
        from ._buildkit.solve import GrpcClient, solve_items

        api = self._docker.core
        response = await api.request(
            "POST",
            "grpc",
            headers={"Upgrade": "h2c", "Connection": "Upgrade"},
            timeout=api.seconds(None, long_running=True),
        )
        if response.status != 101:
            response.release()
            raise unexpected(
                "POST", "/grpc", response.status,
                "was not upgraded to HTTP/2: this engine does not serve BuildKit's "
                "control API, which named contexts need",
            )  # fmt: skip
        self._grpc = GrpcClient(response.detach())
        attrs = dict(self._frontend_attrs)
        for name, value in self._contexts.items():
            attrs[f"context:{name}"] = value
        return solve_items(self._grpc, session.id, attrs, self._exporter_attrs)

    async def _open_session(self, headers: dict[str, str]) -> Any:
        """The upgraded connection of ``POST /session``; None when the engine has no sessions."""
        api = self._docker.core
        try:
            response = await api.request(
                "POST", "session", headers=headers, timeout=api.seconds(None, long_running=True)
            )
        except DockerError as exc:
            if exc.status in _NO_SESSIONS and not self._session_required:
                return None
            raise
        if response.status != 101:
            response.release()
            if response.status in _NO_SESSIONS and not self._session_required:
                return None
            raise unexpected(
                "POST", "/session", response.status,
                "was not upgraded to HTTP/2: this engine serves no BuildKit sessions, which "
                + (
                    "the context's file sync, secrets and ssh need"
                    if self._session_required
                    else "the build needs"
                ),
            )
        return response.detach()

    async def items(self) -> AsyncIterator[dict[str, Any]]:
        """The build's raw JSON items (as ``images.build(stream=True)``), its session served.

        The session is closed when the items end, fail or are left.
        """
        try:
            stream = await self._start()
            self._stream = stream
            while True:
                try:
                    item = await self._next_item(stream)
                except StopAsyncIteration:
                    return
                yield item
        finally:
            await self.aclose()

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
                known = getattr(exc, "source", "")  # the daemon's own (a Solve's error)
                source = _constant(known) if known else self._source_lines
                raise self.trace.explain(exc, source) from exc
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
            grpc, self._grpc = self._grpc, None
            if grpc is not None:
                await grpc.close()
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
    iidfile: str | None = None,
    metadata_file: str | None = None,
    **build_kwargs: Any,
) -> int:
    """Build showing progress on ``out``; return the exit status.

    ``progress``: ``auto`` redraws a compact view when ``out`` is a terminal
    and prints buildx-style plain lines otherwise; ``plain``, ``tty``;
    ``rawjson`` prints each status update as an indented JSON document; ``quiet`` prints
    nothing but the image id. The image id is printed at the end (and written
    to ``iidfile``; ``metadata_file`` gets the result as JSON); errors go to
    ``err`` (default ``sys.stderr``) and give status 1.
    """
    error_out = err if err is not None else sys.stderr
    interactive = progress == "tty" or (progress == "auto" and _isatty(out))
    plain = PlainRenderer()
    display = TtyDisplay()
    last_draw = 0.0
    failed: BaseException | None = None
    try:
        async with BuildKitBuild(docker, **build_kwargs) as running:
            if progress == "rawjson":
                from ._buildkit.rawjson import status_text

                running.trace.listener = lambda response: out.write(status_text(response) + "\n")
            async for event in running:
                if progress in ("quiet", "rawjson"):
                    continue
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
        if image_id is not None:  # an export-only build made no image to name
            _write_results(image_id, build_kwargs.get("tag"), iidfile, metadata_file)
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


def _write_results(
    image_id: str, tag: str | Sequence[str] | None, iidfile: str | None, metadata: str | None
) -> None:
    """``--iidfile`` and ``--metadata-file`` as buildx writes them for the engine's image store."""
    if iidfile:
        with open(iidfile, "w", encoding="utf-8") as file:
            file.write(image_id)
    if metadata:
        import json

        tags = [tag] if isinstance(tag, str) else list(tag or ())
        document: dict[str, str] = {
            "containerimage.config.digest": image_id,
            "containerimage.digest": image_id,
        }
        if tags:
            from ._core.credentials import split_reference

            names = []
            for name in tags:  # buildx names them in full: docker.io/library/app:latest
                registry, repository, tag_part, digest = split_reference(name)
                full = f"{registry}/{repository}:{tag_part or 'latest'}"
                names.append(f"{full}@{digest}" if digest else full)
            document["image.name"] = ",".join(names)
        with open(metadata, "w", encoding="utf-8") as file:
            json.dump(document, file, indent=2)


def _local_dockerfile(kwargs: Mapping[str, Any]) -> str | None:
    """The Dockerfile's path on disk when the context is a local directory."""
    if kwargs.get("path") is None:
        return None
    root = os.fspath(kwargs["path"])
    name = os.fspath(kwargs.get("path_dockerfile") or "Dockerfile")
    path = name if os.path.isabs(name) else os.path.join(root, name)
    if name == "Dockerfile" and not os.path.exists(path):
        path = os.path.join(root, "dockerfile")
    return path


_CONTEXT_SCHEMES: Final = ("docker-image://", "oci-layout://", "target:", "https://", "http://")
_SOLVE_KEYWORDS: Final = frozenset(
    {"path", "path_dockerfile", "remote", "tag", "buildargs", "labels", "target", "nocache"}
    | {"pull", "platform", "network_mode", "extra_hosts", "rm", "forcerm", "quiet", "timeout"}
)


def _constant(text: str) -> Callable[[str], str]:
    return lambda _name: text


def _named_context(name: str, value: str | os.PathLike[str], dirs: dict[str, str]) -> str:
    """The frontend's ``context:NAME`` value; a directory joins the synced ``dirs``."""
    if not name or "=" in name or name in ("context", "dockerfile"):
        raise ValueError(f"build context name {name!r} is not usable")
    text = os.fspath(value)
    if text.startswith(_CONTEXT_SCHEMES) or text.startswith("git@"):
        return text
    if not os.path.isdir(text):
        raise ValueError(f"build context {name!r}: {text!r} is not a directory")
    dirs[name] = os.path.realpath(text)
    return f"local:{name}"


def _solve_attrs(kwargs: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """Frontend and exporter attributes of a Solve, from ``images.build``'s keywords."""
    unserved = sorted(
        k for k, v in kwargs.items() if v not in (None, False) and k not in _SOLVE_KEYWORDS
    )
    if unserved:
        raise ValueError(f"with build_contexts=, {', '.join(unserved)} cannot be passed")
    attrs: dict[str, str] = {"filename": kwargs.get("path_dockerfile") or "Dockerfile"}
    if kwargs.get("target"):
        attrs["target"] = kwargs["target"]
    for key, value in (kwargs.get("buildargs") or {}).items():
        attrs[f"build-arg:{key}"] = value
    for key, value in (kwargs.get("labels") or {}).items():
        attrs[f"label:{key}"] = value
    if kwargs.get("nocache"):
        attrs["no-cache"] = ""
    attrs["image-resolve-mode"] = "pull" if kwargs.get("pull") else "default"
    if kwargs.get("platform"):
        attrs["platform"] = kwargs["platform"]
    network = kwargs.get("network_mode")
    if network in ("host", "none"):
        attrs["force-network-mode"] = network
    elif network not in (None, "", "default"):
        raise ValueError(f"network mode {network!r} is not supported by BuildKit")
    hosts = kwargs.get("extra_hosts")
    if hosts:
        pairs = hosts.items() if isinstance(hosts, Mapping) else (h.split(":", 1) for h in hosts)
        attrs["add-hosts"] = ",".join(f"{host}={address}" for host, address in pairs)
    tag = kwargs.get("tag")
    tags = [tag] if isinstance(tag, str) else list(tag or ())
    return attrs, ({"name": ",".join(tags)} if tags else {})


def _sync_layout(kwargs: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, Any], bool]:
    """The directories a file-sync build serves, its build keywords, and whether the
    Dockerfile lies outside the context (then only the file sync can send it)."""
    rest = dict(kwargs)
    root = os.fspath(rest.pop("path"))
    dockerfile = os.fspath(rest.pop("path_dockerfile", None) or "Dockerfile")
    if os.path.isabs(dockerfile):
        real_root, real_file = os.path.realpath(root), os.path.realpath(dockerfile)
        if os.path.commonpath([real_root, real_file]) != real_root:
            if not os.path.isdir(real_root):
                raise ValueError(f"build context directory {root!r} does not exist")
            if not os.path.isfile(real_file):
                raise ValueError(f"Dockerfile {dockerfile!r} does not exist")
            rest.update(remote="client-session", path_dockerfile=os.path.basename(real_file))
            return {"context": real_root, "dockerfile": os.path.dirname(real_file)}, rest, True
    context = prepare_context(root, dockerfile)
    full = os.path.join(context.root, context.dockerfile)
    rest.update(remote="client-session", path_dockerfile=os.path.basename(full))
    return {"context": context.root, "dockerfile": os.path.dirname(full)}, rest, False


def _isatty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
