"""``docker.images``: images, builds, registries, save/load, import and distribution.

Resource module: imports ``_core`` (resource, client, request, credentials,
registry_auth, build_context), ``_responses``, ``_transport.base`` (request
bodies), ``exceptions``, ``types`` and ``models`` (annotations only).

Registry credentials (``auth=`` or the docker config, as the CLI finds them)
are the business of ``_core.registry_auth``.
"""

from __future__ import annotations

import asyncio
import builtins
import inspect
import os
import warnings
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Coroutine,
    Iterable,
    Mapping,
    Sequence,
)
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any, Final, Literal, TypeVar, cast, overload
from urllib.parse import quote, urlencode

from ._core import registry_auth
from ._core.request import Shape, build_path, encode_filters, encode_value
from ._core.resource import Resource
from ._legacy.responses import CompatContent
from ._responses import (
    AsyncGeneratorLike,
    ResponseStream,
    bytes_stream,
    json_stream,
)
from ._transport.base import FileBody, Response, file_body
from .exceptions import DockerError, DockerNotFoundError, DockerStreamError, add_note
from .types import SENTINEL

if TYPE_CHECKING:
    from typing_extensions import Unpack  # typing.Unpack from Python 3.11

    from ._build_options import BuildOptions
    from ._core.client import APIClient, TimeoutArg
    from .docker import Docker
    from .models import AttestationStatement, DistributionInspect

__all__ = ("BuildOptions", "DockerImages", "registry_auth_header")

TAR_CONTENT_TYPE: Final = "application/x-tar"
UPLOAD_CHUNK_SIZE: Final = 256 * 1024
CONTEXT_CHUNK_SIZE: Final = 256 * 1024
_PULL_CONFIRMATION: Final = "Status: "

Body = bytes | AsyncIterable[bytes]
JSONItems = list[dict[str, Any]]
Items = TypeVar("Items", bound=AsyncIterator[Any])


def __getattr__(name: str) -> Any:
    # BuildOptions is created on first access: it serves type checkers, and building
    # the TypedDict costs more than a millisecond of every import.
    if name == "BuildOptions":
        from ._build_options import BuildOptions

        return BuildOptions
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


async def registry_auth_header(docker: Docker, image: str) -> str | None:
    """Return the ``X-Registry-Auth`` value the docker CLI would send for ``image``.

    The credentials come from ``config.json`` (credential helpers, store,
    ``auths``); None means an anonymous attempt. ``docker`` is not needed for
    the lookup; it stays for the callers of this function.

    Raises:
        ValueError: ``image`` is not a valid image reference.
    """
    return await registry_auth.registry_auth_header(image)


def _query(path: str, pairs: Iterable[tuple[str, Any]]) -> str:
    """``path`` with a query string that may repeat a key (``t=a&t=b``)."""
    encoded = [(key, encode_value(value)) for key, value in pairs if value is not None]
    return f"{path}?{urlencode(encoded, quote_via=quote)}" if encoded else path


def _one(value: Any) -> list[Any]:
    return [value]


def _mapping_or_none(value: Mapping[str, Any] | None) -> list[Any]:
    return [dict(value) if value else None]


def _tags(value: str | Sequence[str] | None) -> list[Any]:
    return [value] if isinstance(value, str) else list(value or ())


def _hosts(value: Mapping[str, str] | Sequence[str] | None) -> list[Any]:
    if isinstance(value, Mapping):
        return [f"{host}:{address}" for host, address in value.items()]
    return list(value or ())


_BUILD_QUERY: Final[tuple[tuple[str, str, Callable[[Any], list[Any]]], ...]] = (
    # (keyword of build(), query parameter, encoder to the parameter's values), in the
    # order the query is sent; an encoder gives several values for a repeated key and
    # None for a parameter left out
    ("tag", "t", _tags),
    ("remote", "remote", _one),
    ("path_dockerfile", "dockerfile", _one),
    ("quiet", "q", _one),
    ("nocache", "nocache", _one),
    ("pull", "pull", _one),
    ("rm", "rm", _one),
    ("forcerm", "forcerm", _one),
    ("buildargs", "buildargs", _mapping_or_none),
    ("labels", "labels", _mapping_or_none),
    ("platform", "platform", _one),
    ("target", "target", _one),
    ("network_mode", "networkmode", _one),
    ("cache_from", "cachefrom", lambda value: [list(value) if value else None]),
    ("shm_size", "shmsize", _one),
    ("memory", "memory", _one),
    ("memswap", "memswap", _one),
    ("cpu_shares", "cpushares", _one),
    ("cpuset_cpus", "cpusetcpus", _one),
    ("cpu_period", "cpuperiod", _one),
    ("cpu_quota", "cpuquota", _one),
    ("squash", "squash", _one),
    ("version", "version", _one),
    ("session_id", "session", lambda value: [value or None]),
    ("outputs", "outputs", lambda value: [[dict(e) for e in value] if value else None]),
    ("extra_hosts", "extrahosts", _hosts),
)
"""``build()``'s keywords as query parameters (the others are the body and headers)."""

_AIOHTTP: Final = ("through_aiohttp", True)
"""``getattr`` arguments: whether a client sends through aiohttp (yes if it cannot say)."""

_NOT_FOR_SESSION_BUILD: Final = frozenset({"version", "session_id", "outputs"})
"""The keywords of ``build()`` that ``BuildKitBuild`` does not take."""


def _build_query(options: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """The query pairs of ``POST /build`` from ``build()``'s keywords (``_BUILD_QUERY``)."""
    return [
        (param, value)
        for keyword, param, encode in _BUILD_QUERY
        for value in encode(options[keyword])
    ]


def _check_build_sources(remote: Any, fileobj: Any, path: Any, encoding: str | None) -> None:
    """Check that ``build()`` has exactly one source, and an encoding with ``fileobj``.

    Raises:
        ValueError: no source, several sources, or ``fileobj`` without ``encoding``.
    """
    sources = [
        name
        for name, value in (("remote", remote), ("fileobj", fileobj), ("path", path))
        if value is not None
    ]
    if not sources:
        exc = ValueError("You need to specify either remote or fileobj")
        add_note(exc, "or path= (a directory to send as the build context)")
        raise exc
    if sources == ["remote", "fileobj"]:
        raise ValueError("You cannot specify both fileobj and remote")
    if len(sources) > 1:
        raise ValueError(f"You cannot specify more than one of {' and '.join(sources)}")
    if fileobj is not None and not encoding:
        raise ValueError("You need to specify an encoding")


def _build_body(
    fileobj: Any, path: str | os.PathLike[str] | None, encoding: str | None, dockerfile: str | None
) -> tuple[Body | None, dict[str, str], str | None]:
    """The body, headers and Dockerfile path of ``POST /build`` for its one source.

    ``path``'s context is prepared here: its Dockerfile path is the one found in it.

    Raises:
        ValueError: ``encoding`` with ``path``, or an unusable context directory.
        TypeError: ``fileobj`` of an unsupported type.
    """
    if fileobj is not None:
        assert encoding is not None
        body = _upload_body(fileobj, "fileobj")
        return body, {"Content-Type": TAR_CONTENT_TYPE, "Content-Encoding": encoding}, dockerfile
    if path is None:
        return None, {}, dockerfile
    if encoding:
        raise ValueError("encoding applies to fileobj only; a path context is sent as is")
    from ._core.build_context import prepare_context, stream_context  # imports tarfile

    context = prepare_context(os.fspath(path), dockerfile or "Dockerfile")
    body = stream_context(
        context.root, dockerfile=context.dockerfile, chunk_size=CONTEXT_CHUNK_SIZE
    )
    return body, {"Content-Type": TAR_CONTENT_TYPE}, context.dockerfile


def _with_registry_config(headers: dict[str, str]) -> Callable[[], Awaitable[dict[str, str]]]:
    """``headers`` with the docker config's registry credentials, read when the request starts."""

    async def all_headers() -> dict[str, str]:
        config = await registry_auth.registry_config_header()
        if config is None:
            return headers
        return {**headers, registry_auth.REGISTRY_CONFIG_HEADER: config}

    return all_headers


Platform = Mapping[str, str]
"""An OCI platform such as ``{"os": "linux", "architecture": "arm64", "variant": "v8"}``."""


def _platform(value: Any, what: str) -> dict[str, str] | None:
    """A platform as a dict (sent as JSON), or None.

    Raises:
        TypeError: ``value`` is not a mapping.
    """
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise TypeError(f"{what} must be a mapping such as {{'os': 'linux'}}, got {value!r}")
    return dict(value)


def _platforms(value: Platform | Iterable[Platform] | None, what: str) -> builtins.list[Any]:
    """One platform or several as a list of dicts (one query value each).

    Raises:
        TypeError: an item is not a mapping.
        ValueError: an empty list was given.
    """
    if value is None:
        return []
    items = [value] if isinstance(value, Mapping) else builtins.list(value)
    if not items:
        raise ValueError(f"{what} must name at least one platform")
    return [_platform(item, what) for item in items]


def _platforms_version(selected: builtins.list[Any], what: str) -> tuple[str, str] | None:
    """The API version (and a description) that the ``platform`` values of save/load need."""
    if not selected:
        return None
    if len(selected) > 1:
        return "1.52", f"several platforms in {what}"
    return "1.48", f"the platform argument of {what}"


async def _require_platforms(api: APIClient, selected: builtins.list[Any], what: str) -> None:
    needed = _platforms_version(selected, what)
    if needed is not None:
        await api.require_version(*needed)


def _tag_reference(repo: str, tag: str) -> str:
    """``repo`` with ``tag`` in place of any tag it has (digests stay as given)."""
    colon = repo.rfind(":")
    if colon > repo.rfind("/"):
        repo = repo[:colon]
    return f"{repo}:{tag}"


# --- request bodies --------------------------------------------------------------------


async def _iter_sync_file(fileobj: Any, *, threaded: bool) -> AsyncIterator[bytes]:
    while True:
        if threaded:
            chunk = await asyncio.to_thread(fileobj.read, UPLOAD_CHUNK_SIZE)
        else:
            chunk = fileobj.read(UPLOAD_CHUNK_SIZE)
            if inspect.isawaitable(chunk):
                chunk = await chunk
        if not chunk:
            return
        if isinstance(chunk, str):
            raise TypeError("the file must be opened in binary mode ('rb'), not text mode")
        yield bytes(chunk)


def _has_real_file(fileobj: Any) -> bool:
    try:
        fileobj.fileno()
    except (AttributeError, OSError, ValueError):
        return False
    return True


def _upload_body(data: Any, what: str) -> Body:
    """Turn bytes, a path, a binary file or an async iterable into a streamed body.

    Raises:
        TypeError: ``data`` is none of those.
    """
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    if isinstance(data, os.PathLike):
        return FileBody.of_path(os.fspath(data))
    if hasattr(data, "__aiter__"):
        return data  # type: ignore[no-any-return]
    if hasattr(data, "read"):
        return file_body(data) or _iter_sync_file(data, threaded=_has_real_file(data))
    raise TypeError(
        f"{what} must be bytes, a binary file, a path (os.PathLike) or an async iterable "
        f"of bytes, not {type(data).__name__}"
    )


# --- streams ---------------------------------------------------------------------------


class _ImageStream(AsyncGeneratorLike):
    """A JSON progress stream with checks of its own.

    * ``explain(exc)`` may add a hint to a ``DockerError`` (from the response
      status or in-band), such as which registry refused which credentials;
    * ``confirm(item)`` says whether an item proves success; if none did, the
      ``verify`` coroutine runs at the clean end and raises when the result
      is missing.
    """

    def __init__(
        self,
        inner: ResponseStream[Any],
        *,
        explain: Callable[[DockerError], None] | None = None,
        confirm: Callable[[Any], bool] | None = None,
        verify: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._inner = inner
        self._explain = explain
        self._confirm = confirm
        self._verify = verify
        self._confirmed = False
        self._ended = False

    def __aiter__(self) -> _ImageStream:
        return self

    async def __anext__(self) -> Any:
        try:
            item = await self._inner.__anext__()
        except StopAsyncIteration:
            if not self._confirmed and not self._ended and self._verify is not None:
                self._ended = True
                await self._verify()
            self._ended = True
            raise
        except DockerError as exc:
            self._ended = True
            if self._explain is not None:
                self._explain(exc)
            raise
        if not self._confirmed and self._confirm is not None and self._confirm(item):
            self._confirmed = True
        return item

    async def aclose(self) -> None:
        """Stop reading and release the connection. Idempotent."""
        self._ended = True
        await self._inner.aclose()

    close = aclose

    async def __aenter__(self) -> _ImageStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


# aiodocker 0.27's words, indentation included
GET_DEPRECATED: Final = """images.get is deprecated and will be removed in the next release,
            please use images.inspect instead."""


def _is_pull_confirmation(item: Any) -> bool:
    if not isinstance(item, dict):
        return False
    status = item.get("status")
    return isinstance(status, str) and status.startswith(_PULL_CONFIRMATION)


class DockerImages(Resource):
    """The image API: ``docker.images``."""

    if TYPE_CHECKING:
        docker: Docker  # 0.27 types the attribute so; annotations only, no import at run time

    # --- helpers ---------------------------------------------------------------------

    def _json_stream(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Callable[[], Awaitable[dict[str, str]]] | dict[str, str] | None = None,
        body: Body | None = None,
        timeout: float | None,
        requires: tuple[str, str] | None = None,
    ) -> ResponseStream[Any]:
        """A stream of the JSON items of a call, sent when first read.

        ``timeout`` bounds the wait for the response head (None: no limit);
        ``requires`` is (API version, what needs it) to check first.
        """
        api = self._api

        async def opener() -> Response:
            if requires is not None:
                await api.require_version(*requires)
            all_headers = await headers() if callable(headers) else headers
            return await api.request(
                method,
                path,
                params=params,
                headers=all_headers,
                body=body,
                timeout=timeout,
                long_lived=True,
            )

        return json_stream(opener)

    # --- listing and inspection ------------------------------------------------------

    async def list(
        self,
        *,
        filters: Mapping[str, Any] | str | None = None,
        all: bool | None = None,
        digests: bool | None = None,
        shared_size: bool | None = None,
        manifests: bool | None = None,
        identity: bool | None = None,
        **params: Any,
    ) -> builtins.list[Any]:
        """List images (``GET /images/json``).

        ``all=True`` includes intermediate images; ``digests=True`` adds
        ``RepoDigests``; ``shared_size=True`` computes ``SharedSize`` (API >= 1.42;
        sent to any daemon, as 0.27 takes it, and an older one ignores it);
        ``manifests=True`` adds the ``Manifests`` of each image (API >= 1.47) and
        ``identity=True`` the ``Identity`` of each manifest (API >= 1.54; the
        daemon wants ``manifests=True`` with it). Other ``params`` are sent as
        given, as aiodocker 0.27 sends them. A str ``filters`` (already JSON) is
        deprecated; pass a mapping.

        Raises:
            DockerAPIVersionError: ``manifests`` or ``identity`` on an older API
                (before anything is sent).
        """
        for name, value, since in (("manifests", manifests, "1.47"), ("identity", identity, "1.54")):
            if value is not None:
                await self._api.require_version(since, f"the {name} argument of images.list()")
        query = {
            **params,
            "all": all,
            "digests": digests,
            "shared-size": shared_size,
            "manifests": manifests,
            "identity": identity,
        }
        if isinstance(filters, str):
            warnings.warn(
                "Passing `filters` as a pre-encoded JSON string is "
                "deprecated and will be removed in 1.0. Pass a mapping "
                "such as {'dangling': ['true']} instead.",
                DeprecationWarning,
                stacklevel=2,
            )
            query["filters"] = filters
        elif filters is not None:
            query["filters"] = encode_filters(filters)
        result = await self._api.call("GET", "images/json", params=query, expect=Shape.OBJECTS)
        return result

    async def inspect(
        self, name: str, *, manifests: bool | None = None, platform: Platform | None = None
    ) -> dict[str, Any]:
        """Return low-level information about an image (``GET /images/{name}/json``).

        ``manifests=True`` adds the ``Manifests`` of a multi-platform image (API >= 1.48);
        ``platform`` inspects one platform of it (API >= 1.49).

        Raises:
            DockerNotFoundError: there is no such image.
            DockerAPIVersionError: ``manifests`` or ``platform`` on an older API.
        """
        if manifests is not None:
            await self._api.require_version("1.48", "the manifests argument of images.inspect()")
        platform_param = _platform(platform, "platform")
        if platform_param is not None:
            await self._api.require_version("1.49", "the platform argument of images.inspect()")
        result = await self._api.call(
            "GET",
            build_path("images/{}/json", name),
            params={"manifests": manifests, "platform": platform_param},
            expect=Shape.OBJECT,
        )
        return result

    async def attestations(
        self,
        name: str,
        *,
        platform: Mapping[str, str] | None = None,
        type: str | Iterable[str] | None = None,
        statement: bool | None = None,
    ) -> builtins.list[AttestationStatement]:
        """Return the in-toto attestation statements of an image (API >= 1.55).

        ``GET /images/{name}/attestations``; ``platform`` selects the variant
        (e.g. ``{"os": "linux", "architecture": "amd64"}``), else the host's.
        ``type`` keeps the statements of these predicate type URIs;
        ``statement=True`` includes each statement's body.

        Raises:
            DockerAPIVersionError: the daemon's API is older than 1.55.
            DockerNotFoundError: no such image, or no manifest for the platform.
        """
        await self._api.require_version("1.55", "GET /images/{name}/attestations")
        types = [type] if isinstance(type, str) else builtins.list(type or ())
        path = _query(
            build_path("images/{}/attestations", name),
            [
                ("platform", _platform(platform, "platform") or None),
                *(("type", uri) for uri in types),
                ("statement", statement),
            ],
        )
        result = await self._api.call("GET", path, expect=Shape.OBJECTS)
        return cast("builtins.list[AttestationStatement]", result)

    async def get(self, name: str) -> dict[str, Any]:
        """Deprecated alias of :meth:`inspect`."""
        warnings.warn(
            GET_DEPRECATED,
            DeprecationWarning,
            stacklevel=2,
        )
        return await self.inspect(name)

    async def history(
        self, name: str, *, platform: Platform | None = None
    ) -> builtins.list[dict[str, Any]]:
        """Return the layers an image was built from (``GET /images/{name}/history``).

        ``platform`` picks one platform of a multi-platform image (API >= 1.48).

        Raises:
            DockerNotFoundError: there is no such image.
            DockerAPIVersionError: ``platform`` on an API older than 1.48.
        """
        platform_param = _platform(platform, "platform")
        if platform_param is not None:
            await self._api.require_version("1.48", "the platform argument of images.history()")
        result = await self._api.call(
            "GET",
            build_path("images/{}/history", name),
            params={"platform": platform_param},
            expect=Shape.OBJECTS,
        )
        return result

    async def search(
        self,
        term: str,
        *,
        limit: int | None = None,
        filters: Mapping[str, Any] | None = None,
        auth: Mapping[str, Any] | str | bytes | None = None,
    ) -> JSONItems:
        """Search a registry's index for images (``GET /images/search``).

        ``term`` may start with a registry host (``registry.example.com/name``);
        otherwise Docker Hub is searched.
        """
        if not isinstance(term, str) or not term:
            raise ValueError(f"search term must be a non-empty str, not {term!r}")
        login = registry_auth.RegistryLogin(term, auth)
        try:
            result = await self._api.call(
                "GET",
                "images/search",
                params={"term": term, "limit": limit, "filters": encode_filters(filters)},
                headers=await login.headers(),
                long_running=True,
                expect=Shape.OBJECTS,
            )
        except DockerError as exc:
            login.explainer("searching", term)(exc)
            raise
        return result

    async def inspect_distribution(
        self, name: str, *, auth: Mapping[str, Any] | str | bytes | None = None
    ) -> DistributionInspect:
        """Ask the registry for an image's manifest descriptor and platforms.

        ``GET /distribution/{name}/json``; credentials as for :meth:`pull`.

        Raises:
            ValueError: ``name`` is not a valid image reference.
            DockerError: the registry refused the request or has no such image.
        """
        from ._core.credentials import split_reference

        split_reference(name)  # a malformed name is refused before any request
        login = registry_auth.RegistryLogin(name, auth)
        try:
            result = await self._api.call(
                "GET",
                build_path("distribution/{}/json", name),
                headers=await login.headers(),
                long_running=True,
                expect=Shape.OBJECT,
            )
        except DockerError as exc:
            login.explainer("inspecting", name)(exc)
            raise
        return cast("DistributionInspect", result)

    distribution_inspect = inspect_distribution

    # --- pull and push ---------------------------------------------------------------

    @overload
    def pull(
        self,
        from_image: str,
        *,
        auth: Mapping[str, Any] | str | bytes | None = None,
        tag: str | None = None,
        repo: str | None = None,
        platform: str | None = None,
        stream: Literal[False] = False,
        timeout: TimeoutArg = SENTINEL,
    ) -> Coroutine[Any, Any, JSONItems]: ...

    @overload
    def pull(
        self,
        from_image: str,
        *,
        auth: Mapping[str, Any] | str | bytes | None = None,
        tag: str | None = None,
        repo: str | None = None,
        platform: str | None = None,
        stream: Literal[True],
        timeout: TimeoutArg = SENTINEL,
    ) -> AsyncIterator[dict[str, Any]]: ...

    def pull(
        self,
        from_image: str,
        *,
        auth: Mapping[str, Any] | str | bytes | None = None,
        tag: str | None = None,
        repo: str | None = None,
        platform: str | None = None,
        stream: bool = False,
        timeout: TimeoutArg = SENTINEL,
    ) -> Coroutine[Any, Any, JSONItems] | AsyncIterator[dict[str, Any]]:
        """Pull an image from a registry (``POST /images/create?fromImage=``).

        ``tag`` defaults to ``"latest"`` unless ``from_image`` carries a tag or
        a digest; ``tag=""`` pulls every tag. Without ``auth`` the credentials
        come from the docker config (as the CLI finds them). Awaited, it
        returns the progress items once the image is present; with
        ``stream=True`` it is an async iterator of them.

        Raises:
            ValueError: ``auth`` is given but ``from_image`` names no registry
                host (a malformed reference goes to the daemon, as in 0.27).
            DockerStreamError: the daemon reported an error mid-stream, or the
                stream ended without the image being there.
        """
        from ._core.credentials import split_leniently

        _registry, ref_tag, digest = split_leniently(from_image)
        if tag is None and ref_tag is None and digest is None:
            tag = "latest"
        if auth is not None and "/" not in from_image:
            exc = ValueError("Image should have registry host when auth information is provided")
            add_note(exc, f"such as 'registry.example.com/{from_image}'")
            raise exc
        login = registry_auth.RegistryLogin(from_image, auth)

        params = {
            "fromImage": from_image,
            "tag": tag or None,
            "repo": repo,
            "platform": platform,
        }
        target = from_image
        if tag and ref_tag is None and digest is None:
            target = f"{from_image}@{tag}" if ":" in tag else f"{from_image}:{tag}"
        single = bool(tag) or ref_tag is not None or digest is not None

        async def verify() -> None:
            if single:
                try:
                    await self.inspect(target)
                    return
                except DockerNotFoundError:
                    pass
            raise DockerStreamError(
                f"pulling {target!r} ended without the daemon confirming that the image is there"
            )

        seconds = self._api.seconds(timeout, long_running=True)
        inner = self._json_stream(
            "POST",
            "images/create",
            params=params,
            headers=login.headers,
            timeout=seconds if stream else None,
        )
        result = _ImageStream(
            inner,
            explain=login.explainer("pulling", target),
            confirm=_is_pull_confirmation,
            verify=verify,
        )
        return self._stream_or_collect(result, stream=stream, timeout=seconds)

    @overload
    def push(
        self,
        name: str,
        *,
        auth: Mapping[str, Any] | str | bytes | None = None,
        tag: str | None = None,
        stream: Literal[False] = False,
        timeout: TimeoutArg = SENTINEL,
        platform: Platform | None = None,
    ) -> Coroutine[Any, Any, JSONItems]: ...

    @overload
    def push(
        self,
        name: str,
        *,
        auth: Mapping[str, Any] | str | bytes | None = None,
        tag: str | None = None,
        stream: Literal[True],
        timeout: TimeoutArg = SENTINEL,
        platform: Platform | None = None,
    ) -> AsyncIterator[dict[str, Any]]: ...

    def push(
        self,
        name: str,
        *,
        auth: Mapping[str, Any] | str | bytes | None = None,
        tag: str | None = None,
        stream: bool = False,
        timeout: TimeoutArg = SENTINEL,
        platform: Platform | None = None,
    ) -> Coroutine[Any, Any, JSONItems] | AsyncIterator[dict[str, Any]]:
        """Push an image to its registry (``POST /images/{name}/push``).

        Without ``tag`` (and no tag in ``name``) every tag of the repository
        is pushed. Without ``auth`` the credentials come from the docker
        config; an anonymous push still sends an (empty) ``X-Registry-Auth``.
        ``platform`` pushes one platform of a multi-platform image (API >= 1.46).

        Raises:
            ValueError: ``auth`` is given but ``name`` names no registry host (as 0.27).
            DockerAPIVersionError: ``platform`` on an API older than 1.46 (when the
                push starts, before anything is sent).
            DockerStreamError: the daemon or the registry reported an error mid-stream
                (a malformed ``name`` goes to the daemon, as in 0.27).
        """
        platform_param = _platform(platform, "platform")
        if auth is not None and "/" not in name:
            exc = ValueError("Image should have registry host when auth information is provided")
            add_note(exc, f"such as 'registry.example.com/{name}'")
            raise exc
        login = registry_auth.RegistryLogin(name, auth)

        async def headers() -> dict[str, str]:
            return await login.headers(anonymous=True)

        seconds = self._api.seconds(timeout, long_running=True)
        inner = self._json_stream(
            "POST",
            build_path("images/{}/push", name),
            params={"tag": tag or None, "platform": platform_param},
            headers=headers,
            timeout=seconds if stream else None,
            requires=None if platform_param is None else ("1.46", "the platform argument of push()"),
        )
        pushed = _tag_reference(name, tag) if tag else name
        result = _ImageStream(inner, explain=login.explainer("pushing", pushed))
        return self._stream_or_collect(result, stream=stream, timeout=seconds)

    # --- local changes ---------------------------------------------------------------

    async def tag(self, name: str, repo: str, *, tag: str | None = None) -> bool:
        """Give image ``name`` the reference ``repo[:tag]`` (``POST /images/{name}/tag``).

        Raises:
            DockerNotFoundError: there is no image ``name``.
            DockerError: the daemon refused ``repo``/``tag`` (0.27 lets it judge them).
        """
        await self._api.call(
            "POST",
            build_path("images/{}/tag", name),
            params={"repo": repo, "tag": tag or None},
            expect=Shape.NOTHING,
        )
        return True

    async def delete(
        self,
        name: str,
        *,
        force: bool = False,
        noprune: bool = False,
        platforms: Platform | Iterable[Platform] | None = None,
    ) -> builtins.list[Any]:
        """Remove an image (``DELETE /images/{name}``); returns what was untagged and deleted.

        ``platforms`` removes only the content of those platforms of a
        multi-platform image (API >= 1.50).

        Raises:
            DockerNotFoundError: there is no such image.
            DockerConflictError: a container uses it (pass ``force=True``).
            DockerAPIVersionError: ``platforms`` on an API older than 1.50.
        """
        selected = _platforms(platforms, "platforms")
        if selected:
            await self._api.require_version("1.50", "the platforms argument of images.delete()")
        path = _query(
            build_path("images/{}", name),
            [("force", force), ("noprune", noprune), *(("platforms", p) for p in selected)],
        )
        result = await self._api.call("DELETE", path, expect=Shape.OBJECTS)
        return result

    async def prune(self, *, filters: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Remove unused images (``POST /images/prune``); scope it with ``filters``.

        By default only dangling images go; ``{"dangling": False}`` removes every
        unused image. Returns ``ImagesDeleted`` and ``SpaceReclaimed``.
        """
        result = await self._api.call(
            "POST",
            "images/prune",
            params={"filters": encode_filters(filters)},
            long_running=True,
            expect=Shape.OBJECT,
        )
        return result

    async def prune_builds(
        self,
        *,
        reserved_space: int | None = None,
        max_used_space: int | None = None,
        min_free_space: int | None = None,
        all_builds: bool | None = None,
        filters: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Remove build cache (``POST /build/prune``).

        ``reserved_space`` is sent as ``keep-storage`` to engines older than
        API 1.48, which know it under that name. ``max_used_space`` and
        ``min_free_space`` (API 1.48) are sent as given, as 0.27 does: an older
        daemon answers and ignores them.
        """
        version = await self._api.version_tuple()
        params: dict[str, Any] = {
            "all": all_builds,
            "filters": encode_filters(filters),
            "max-used-space": max_used_space,
            "min-free-space": min_free_space,
        }
        if version >= (1, 48):
            params["reserved-space"] = reserved_space
        else:
            params["keep-storage"] = reserved_space
        result = await self._api.call(
            "POST", "build/prune", params=params, long_running=True, expect=Shape.OBJECT
        )
        return result

    # --- import, save and load -------------------------------------------------------

    @overload
    def import_from(
        self,
        source: Any,
        *,
        repo: str | None = None,
        tag: str | None = None,
        changes: Sequence[str] | str | None = None,
        message: str | None = None,
        platform: str | None = None,
        stream: Literal[False] = False,
        timeout: TimeoutArg = SENTINEL,
    ) -> Coroutine[Any, Any, JSONItems]: ...

    @overload
    def import_from(
        self,
        source: Any,
        *,
        repo: str | None = None,
        tag: str | None = None,
        changes: Sequence[str] | str | None = None,
        message: str | None = None,
        platform: str | None = None,
        stream: Literal[True],
        timeout: TimeoutArg = SENTINEL,
    ) -> AsyncIterator[dict[str, Any]]: ...

    def import_from(
        self,
        source: Any,
        *,
        repo: str | None = None,
        tag: str | None = None,
        changes: Sequence[str] | str | None = None,
        message: str | None = None,
        platform: str | None = None,
        stream: bool = False,
        timeout: TimeoutArg = SENTINEL,
    ) -> Coroutine[Any, Any, JSONItems] | AsyncIterator[dict[str, Any]]:
        """Create an image from a root filesystem tarball (``POST /images/create?fromSrc=``).

        ``source`` is an ``http(s)://`` URL the daemon downloads, or the tar
        itself (plain or compressed) as bytes, a binary file, a path
        (``os.PathLike``) or an async iterable of bytes, streamed to the
        daemon. ``changes`` are Dockerfile instructions such as
        ``'CMD ["/bin/sh"]'``. The last item's ``status`` is the new image ID.

        Raises:
            ValueError: a str ``source`` that is not an http(s) URL, or a bad ``repo``/``tag``.
            DockerStreamError: the daemon could not import the tar.
        """
        if repo is not None:
            from ._core.credentials import split_reference

            split_reference(repo if not tag else _tag_reference(repo, tag))
        elif tag:
            raise ValueError("import_from(tag=...) needs repo= as well")
        body: Body | None
        if isinstance(source, str):
            if not source.startswith(("http://", "https://")):
                raise ValueError(
                    f"a str source must be an http(s) URL, got {source!r}; "
                    "pass a pathlib.Path for a local file"
                )
            from_src, body = source, None
        else:
            from_src, body = "-", _upload_body(source, "source")
        if isinstance(changes, str):
            changes = [changes]
        pairs: list[tuple[str, Any]] = [
            ("fromSrc", from_src),
            ("repo", repo),
            ("tag", tag or None),
            ("message", message),
            ("platform", platform),
        ]
        pairs += [("changes", change) for change in changes or ()]
        seconds = self._api.seconds(timeout, long_running=True)
        inner = self._json_stream(
            "POST",
            _query("images/create", pairs),
            headers={"Content-Type": TAR_CONTENT_TYPE} if body is not None else None,
            body=body,
            timeout=seconds if stream else None,
        )
        return self._stream_or_collect(inner, stream=stream, timeout=seconds)

    def export_image(
        self,
        name: str,
        timeout: TimeoutArg = SENTINEL,
        *,
        platform: Platform | Iterable[Platform] | None = None,
    ) -> AbstractAsyncContextManager[Any]:
        """Save one image as a tar: ``async with images.export_image(name) as content``.

        ``content`` reads like ``aiohttp.StreamReader`` (``read``, ``readany``,
        ``readline``, ``iter_chunked``, ``iter_any``, ``iter_chunks``, ...). See
        :meth:`save` for several images or a plain iterator, and for ``platform``.
        """
        selected = _platforms(platform, "platform")
        path = _query(build_path("images/{}/get", name), [("platform", p) for p in selected])
        api = self._api

        @asynccontextmanager
        async def opened() -> AsyncIterator[Any]:
            await _require_platforms(api, selected, "export_image()")
            async with api.open("GET", path, timeout=timeout) as response:
                yield CompatContent(response.body)

        return opened()

    def save(
        self,
        names: str | Iterable[str],
        *,
        timeout: TimeoutArg = SENTINEL,
        platform: Platform | Iterable[Platform] | None = None,
    ) -> ResponseStream[bytes]:
        """Stream a tar of one or more images (with their tags) as bytes chunks.

        ``async for chunk in images.save(["a:1", "b:2"]): ...``; one name uses
        ``GET /images/{name}/get``, several ``GET /images/get?names=...``.
        ``platform`` saves only that platform of multi-platform images (API >= 1.48;
        several platforms need API >= 1.52).

        Raises:
            ValueError: no names were given.
            DockerAPIVersionError: (when iteration starts, before the request)
                ``platform`` on an older API.
            DockerNotFoundError: (when iteration starts) an image is missing.
        """
        selected = _platforms(platform, "platform")
        name_list = [names] if isinstance(names, str) else list(names)
        if not name_list:
            raise ValueError("save() needs at least one image name")
        for name in name_list:
            if not isinstance(name, str) or not name:
                raise ValueError(f"invalid image name {name!r}")
        platform_pairs = [("platform", p) for p in selected]
        if len(name_list) == 1:
            path = _query(build_path("images/{}/get", name_list[0]), platform_pairs)
        else:
            path = _query(
                "images/get", [*(("names", name) for name in name_list), *platform_pairs]
            )
        api = self._api
        seconds = api.seconds(timeout, long_running=True)

        async def opener() -> Response:
            await _require_platforms(api, selected, "save()")
            return await api.request("GET", path, timeout=seconds, long_lived=True)

        return bytes_stream(opener)

    @overload
    def import_image(
        self, data: Any, stream: Literal[False] = False, timeout: TimeoutArg = SENTINEL
    ) -> Coroutine[Any, Any, JSONItems]: ...

    @overload
    def import_image(
        self, data: Any, stream: Literal[True], timeout: TimeoutArg = SENTINEL
    ) -> AsyncIterator[dict[str, Any]]: ...

    @overload
    def import_image(
        self, data: Any, stream: bool, timeout: TimeoutArg = SENTINEL
    ) -> Coroutine[Any, Any, JSONItems] | AsyncIterator[dict[str, Any]]: ...

    def import_image(
        self, data: Any, stream: bool = False, timeout: TimeoutArg = SENTINEL
    ) -> Coroutine[Any, Any, JSONItems] | AsyncIterator[dict[str, Any]]:
        """Load images from a tar made by save (``POST /images/load``), as aiodocker does.

        Same as :meth:`load` with the engine's default (quiet) output.
        """
        if stream:
            return self.load(data, stream=True, timeout=timeout)
        return self.load(data, stream=False, timeout=timeout)

    @overload
    def load(
        self,
        data: Any,
        *,
        quiet: bool | None = None,
        stream: Literal[False] = False,
        timeout: TimeoutArg = SENTINEL,
        platform: Platform | Iterable[Platform] | None = None,
    ) -> Coroutine[Any, Any, JSONItems]: ...

    @overload
    def load(
        self,
        data: Any,
        *,
        quiet: bool | None = None,
        stream: Literal[True],
        timeout: TimeoutArg = SENTINEL,
        platform: Platform | Iterable[Platform] | None = None,
    ) -> AsyncIterator[dict[str, Any]]: ...

    def load(
        self,
        data: Any,
        *,
        quiet: bool | None = None,
        stream: bool = False,
        timeout: TimeoutArg = SENTINEL,
        platform: Platform | Iterable[Platform] | None = None,
    ) -> Coroutine[Any, Any, JSONItems] | AsyncIterator[dict[str, Any]]:
        """Load images from a tar made by save (``POST /images/load``), streaming it.

        ``data`` is bytes, a binary file, a path (``os.PathLike``) or an async
        iterable of bytes. ``quiet=False`` asks for per-layer progress (feed it
        to :class:`aiodocker.progress.Progress`); None keeps the engine's default.
        ``platform`` loads only that platform of a multi-platform tar (API >= 1.48;
        several platforms need API >= 1.52).

        Raises:
            TypeError: ``data`` is of an unsupported type.
            DockerAPIVersionError: ``platform`` on an older API (when the load
                starts, before the tar is sent).
            DockerStreamError: the daemon could not load the tar.
        """
        selected = _platforms(platform, "platform")
        body = _upload_body(data, "data")
        seconds = self._api.seconds(timeout, long_running=True)
        inner = self._json_stream(
            "POST",
            _query("images/load", [("quiet", quiet), *(("platform", p) for p in selected)]),
            headers={"Content-Type": TAR_CONTENT_TYPE},
            body=body,
            timeout=seconds if stream else None,
            requires=_platforms_version(selected, "load()"),
        )
        return self._stream_or_collect(inner, stream=stream, timeout=seconds)

    # --- build -----------------------------------------------------------------------

    @overload
    def build(
        self, *, stream: Literal[False] = False, **options: Unpack[BuildOptions]
    ) -> Coroutine[Any, Any, JSONItems]: ...

    @overload
    def build(
        self, *, stream: Literal[True], **options: Unpack[BuildOptions]
    ) -> AsyncIterator[dict[str, Any]]: ...

    def build(
        self,
        *,
        remote: str | None = None,
        fileobj: Any = None,
        path_dockerfile: str | None = None,
        tag: str | Sequence[str] | None = None,
        quiet: bool = False,
        nocache: bool = False,
        buildargs: Mapping[str, str] | None = None,
        pull: bool = False,
        rm: bool = True,
        forcerm: bool = False,
        labels: Mapping[str, str] | None = None,
        platform: str | None = None,
        stream: bool = False,
        encoding: str | None = None,
        timeout: TimeoutArg = SENTINEL,
        path: str | os.PathLike[str] | None = None,
        target: str | None = None,
        network_mode: str | None = None,
        extra_hosts: Mapping[str, str] | Sequence[str] | None = None,
        cache_from: Sequence[str] | None = None,
        shm_size: int | None = None,
        memory: int | None = None,
        memswap: int | None = None,
        cpu_shares: int | None = None,
        cpuset_cpus: str | None = None,
        cpu_period: int | None = None,
        cpu_quota: int | None = None,
        squash: bool | None = None,
        version: Literal["1", "2"] | None = None,
        session_id: str | None = None,
        outputs: Sequence[Mapping[str, Any]] | None = None,
    ) -> Coroutine[Any, Any, JSONItems] | AsyncIterator[dict[str, Any]]:
        """Build an image (``POST /build``) from exactly one of three sources.

        * ``fileobj``: a tar of the context (bytes, a binary file or an async
          iterable), with ``encoding`` its Content-Encoding (``"gzip"``,
          ``"identity"``, ...), as aiodocker requires;
        * ``remote``: a URL the daemon fetches (git repository, tarball, Dockerfile);
        * ``path``: a local directory, streamed as the docker CLI sends it
          (``.dockerignore`` honoured, modes and symlinks kept).

        ``version="2"`` builds with BuildKit (``"1"``: the classic builder; None: the
        daemon's default); :mod:`aiodocker.buildkit` decodes its ``moby.buildkit.trace``
        progress items. It serves a session (registry credentials, optional secret and
        ssh mounts, with ``path`` the context by file sync) on the client's own HTTP
        engine, where the engine has sessions; ``session_id`` names a session served
        elsewhere instead, and ``session_id=""`` builds without one.

        ``outputs`` is the ``outputs`` parameter as the API takes it (API >= 1.40,
        BuildKit only): ``[{"Type": "local", "Attrs": {...}}]``; an export
        other than the image needs the session :mod:`aiodocker.buildkit` serves.

        ``path_dockerfile`` is the Dockerfile's path inside the context.
        Credentials for the base images' registries are sent from the docker
        config as ``X-Registry-Config``.

        Raises:
            ValueError: no source or several sources, ``fileobj`` without
                ``encoding``, a missing or unusable context directory or Dockerfile.
            DockerStreamError: the build failed (the daemon's message, such as
                a ``RUN`` step's non-zero exit code).
        """
        options = dict(locals())  # the keywords, taken before any other local exists
        del options["self"], options["stream"]
        _check_build_sources(remote, fileobj, path, encoding)
        if version == "2" and session_id is None and not getattr(self.docker, *_AIOHTTP):
            return self._session_build(options, stream=stream)
        body, headers, dockerfile = _build_body(fileobj, path, encoding, path_dockerfile)
        seconds = self._api.seconds(timeout, long_running=True)
        query = _build_query({**options, "path_dockerfile": dockerfile})
        headers_now = _with_registry_config(headers)
        wait = seconds if stream else None
        inner = self._json_stream(
            "POST", _query("build", query), headers=headers_now, body=body, timeout=wait
        )
        return self._stream_or_collect(inner, stream=stream, timeout=seconds)

    def _session_build(
        self, options: dict[str, Any], *, stream: bool
    ) -> Coroutine[Any, Any, JSONItems] | AsyncIterator[dict[str, Any]]:
        """``build(version="2")`` with a session: BuildKit asks the client for registry
        credentials, optional secrets and ssh, and (from ``path=``) the context's files."""
        from .buildkit import BuildKitBuild  # imports the session code on first use

        kept = {k: v for k, v in options.items() if k not in _NOT_FOR_SESSION_BUILD}
        running = BuildKitBuild(self.docker, **kept)
        seconds = self._api.seconds(options["timeout"], long_running=True)
        return self._stream_or_collect(running.items(), stream=stream, timeout=seconds)
