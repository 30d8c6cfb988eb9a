"""BuildKit exporters: ``outputs=``, ``cache_from``/``cache_to`` and what the engine allows.

Layer: ``_buildkit``; imports the stdlib and its siblings.

The daemon hands an export back through the build's session, calling
``/moby.filesync.v1.FileSend/DiffCopy`` (BuildKit ``session/filesync``,
``exporter/local``, ``exporter/tar``):

* ``type=local``: the daemon is an fsutil *sender* and we the receiver. It
  sends one ``Packet{STAT}`` per entry (numbered from 0 in order), then an
  empty STAT; we ask for each regular file's bytes with ``Packet{REQ, ID}``
  and get ``DATA`` packets of that ID (several files interleave), an empty
  ``DATA`` ending a file; when everything is written we send ``FIN`` and the
  daemon answers ``FIN``. A regular file with a ``linkname`` is a hard link
  to an earlier path. Ownership is the current user's, as buildx writes it;
  modes and modification times are kept.
* ``type=tar`` (and the tarball exporters): a stream of
  ``BytesMessage{data}``, the tar itself, ended by the daemon's half-close.

Both are written to disk as they arrive: the session acknowledges HTTP/2
data only as messages are consumed, so memory stays flat whatever the size.

The ``dest`` attribute is the client's own (the daemon never sees it), as the
docker CLI and buildx do. Through ``POST /build`` the engine's embedded builder
exports one output; ``cache_to`` is inline only (``BUILDKIT_INLINE_CACHE``)
and ``cache_from`` takes registry references: anything else raises
:class:`UnsupportedByEngineError` before the build starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat as statmod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, Final

from ..exceptions import DockerError
from .filesync import (
    _GO_DEVICE,
    _GO_DIR,
    _GO_PIPE,
    _GO_SETGID,
    _GO_SETUID,
    _GO_STICKY,
    _GO_SYMLINK,
    PACKET_DATA,
    PACKET_ERR,
    PACKET_FIN,
    PACKET_REQ,
    PACKET_STAT,
    packet,
)
from .grpc import UNKNOWN, Call, GrpcError
from .wire import as_bytes, as_int64, as_str, as_uint, iter_fields

FILE_SEND: Final = "/moby.filesync.v1.FileSend/DiffCopy"
_GO_TYPE_BITS: Final = 0x8F280000  # os.ModeType: dir|symlink|named pipe|socket|device|irregular...
_WRITE_BATCH: Final = 1024 * 1024
LOCAL_TYPES: Final = ("local",)
TARBALL_TYPES: Final = ("tar", "oci", "docker")
CONTAINERD_ONLY: Final = ("oci", "docker")
KNOWN_TYPES: Final = ("local", "tar", "oci", "docker", "image", "registry", "cacheonly")


class UnsupportedByEngineError(DockerError, ValueError):
    """The engine cannot do what was asked (an exporter, a cache backend, a platform list).

    Raised before the build starts; the message names the limit.
    """

    def __init__(self, message: str) -> None:
        super().__init__(0, message)


def _split_csv(spec: str) -> dict[str, str]:
    attrs: dict[str, str] = {}
    for part in spec.split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        if not sep:
            raise ValueError(f"{spec!r}: {part!r} is not key=value")
        attrs[key.strip().lower()] = value.strip()
    return attrs


@dataclass(frozen=True)
class Output:
    """One ``outputs=`` entry: the exporter ``type``, its ``attrs`` for the daemon, and ``dest``."""

    type: str
    attrs: dict[str, str] = field(default_factory=dict)
    dest: str | None = None

    @property
    def needs_session(self) -> bool:
        return self.type in LOCAL_TYPES or (self.type in TARBALL_TYPES and self.dest is not None)

    def api_entry(self) -> dict[str, Any]:
        """The entry of ``POST /build``'s ``outputs`` parameter (``dest`` stays here)."""
        return {"Type": self.type, "Attrs": dict(self.attrs)}


def parse_output(spec: str | Mapping[str, str]) -> Output:
    """Parse an output as buildx takes it: ``type=local,dest=DIR``, a mapping, or a bare path.

    A bare ``DIR`` means ``type=local,dest=DIR`` and ``-`` means a tar on standard
    output, as ``docker buildx build -o`` reads them.

    Raises:
        ValueError: no type, an unknown type, or a local/tar output without ``dest``.
    """
    if isinstance(spec, str):
        if "=" not in spec:
            attrs = {"type": "tar", "dest": "-"} if spec == "-" else {"type": "local", "dest": spec}
        else:
            attrs = _split_csv(spec)
    else:
        attrs = {str(k).lower(): str(v) for k, v in spec.items()}
    kind = attrs.pop("type", "")
    if not kind:
        raise ValueError(f"output {spec!r} names no type= (local, tar, oci, docker, image)")
    if kind not in KNOWN_TYPES:
        raise ValueError(f"output type {kind!r} is unknown; known: {', '.join(KNOWN_TYPES)}")
    dest = attrs.pop("dest", None)
    if kind in ("local", "tar") and not dest:
        raise ValueError(f"output type={kind} needs dest= (a {'directory' if kind == 'local' else 'file'})")
    return Output(kind, attrs, dest)


@dataclass(frozen=True)
class CachePlan:
    """What ``cache_from``/``cache_to`` become on ``POST /build``."""

    cache_from: list[str]
    inline: bool


def plan_cache(cache_from: Sequence[str] | None, cache_to: Sequence[str] | None) -> CachePlan:
    """Map buildx-style cache specs onto what the embedded builder takes.

    ``cache_from``: ``REF`` or ``type=registry,ref=REF``. ``cache_to``:
    ``type=inline`` only (the cache travels in the image's config).

    Raises:
        UnsupportedByEngineError: another cache backend (local, gha, s3, registry export...).
        ValueError: a malformed spec.
    """
    refs: list[str] = []
    for spec in cache_from or ():
        if "=" not in spec:
            refs.append(spec)
            continue
        attrs = _split_csv(spec)
        kind = attrs.get("type", "registry")
        if kind != "registry":
            raise UnsupportedByEngineError(
                f"cache_from type={kind}: the engine's embedded builder (POST /build) imports "
                "cache from registry references only (type=registry,ref=REF)"
            )
        if not attrs.get("ref"):
            raise ValueError(f"cache_from {spec!r} needs ref=")
        refs.append(attrs["ref"])
    inline = False
    for spec in cache_to or ():
        attrs = _split_csv(spec) if "=" in spec else {"type": spec}
        kind = attrs.get("type", "")
        if kind != "inline":
            raise UnsupportedByEngineError(
                f"cache_to type={kind or spec}: the engine's embedded builder exports cache "
                "inline only (cache_to=['type=inline']); other cache backends need a "
                "docker-container or remote BuildKit builder"
            )
        inline = True
    return CachePlan(refs, inline)


def check_outputs(
    outputs: Sequence[Output], *, containerd_store: bool, platforms: Sequence[str] = ()
) -> None:
    """Refuse what this engine cannot export, before anything runs.

    Raises:
        UnsupportedByEngineError: several outputs; an oci/docker tarball or a
            multi-platform build without the containerd image store.
    """
    if len(outputs) > 1:
        raise UnsupportedByEngineError(
            f"{len(outputs)} outputs given: POST /build takes one output per build (the "
            "engine answers 'multiple outputs not supported')"
        )
    if len(platforms) > 1 and not containerd_store:
        raise UnsupportedByEngineError(
            f"platforms {', '.join(platforms)}: a multi-platform build needs the engine's "
            "containerd image store, which this engine does not use"
        )
    for output in outputs:
        if output.type == "cacheonly":
            raise UnsupportedByEngineError(
                "output type=cacheonly: POST /build has no cache-only export (Docker 26 "
                "answers 'exporter \"\" could not be found'); buildx reaches it through "
                "POST /grpc"
            )
        if output.type in CONTAINERD_ONLY and not containerd_store:
            raise UnsupportedByEngineError(
                f"output type={output.type}: the {output.type} exporter needs the engine's "
                "containerd image store, which this engine does not use (type=local and "
                "type=tar work)"
            )
        if output.type == "registry" and not containerd_store:
            raise UnsupportedByEngineError(
                "output type=registry: pushing from the exporter needs the containerd image "
                "store; use push=True (the image is pushed after the build)"
            )


def uses_containerd_store(info: Mapping[str, Any]) -> bool:
    """Whether ``GET /info`` shows the containerd image store (snapshotter driver type)."""
    for pair in info.get("DriverStatus") or ():
        if len(pair) == 2 and pair[0] == "driver-type":
            return "snapshotter" in str(pair[1])
    return False


# --- type=tar and the tarballs: a BytesMessage stream -----------------------------------


class TarReceiver:
    """Write the daemon's tar stream to ``dest`` (a path, or a binary file object)."""

    def __init__(self, dest: str | IO[bytes]) -> None:
        self.dest = dest
        self.bytes_received = 0

    async def diff_copy(self, call: Call) -> None:
        if isinstance(self.dest, str):
            target: IO[bytes] = open(self.dest, "wb")  # noqa: SIM115,ASYNC230 (closed below)
            owned = True
        else:
            target, owned = self.dest, False
        batch = bytearray()
        try:
            while (message := await call.recv()) is not None:
                for number, _, value in iter_fields(message):
                    if number == 1:
                        batch += as_bytes(value)
                if len(batch) >= _WRITE_BATCH:
                    self.bytes_received += len(batch)
                    await asyncio.to_thread(target.write, bytes(batch))
                    batch.clear()
            self.bytes_received += len(batch)
            await asyncio.to_thread(target.write, bytes(batch))
            await asyncio.to_thread(target.flush)
        finally:
            if owned:
                target.close()


# --- type=local: the fsutil receiver ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class Stat:
    """fsutil ``types.Stat``: path=1 mode=2 uid=3 gid=4 size=5 modTime=6 linkname=7 devmajor=8 devminor=9."""

    path: str = ""
    mode: int = 0
    size: int = 0
    mtime_ns: int = 0
    linkname: str = ""

    @property
    def is_dir(self) -> bool:
        return bool(self.mode & _GO_DIR)

    @property
    def is_symlink(self) -> bool:
        return bool(self.mode & _GO_SYMLINK)

    @property
    def is_regular(self) -> bool:
        return not self.mode & _GO_TYPE_BITS

    @property
    def permissions(self) -> int:
        result = self.mode & 0o777
        for go_bit, posix_bit in (
            (_GO_SETUID, statmod.S_ISUID),
            (_GO_SETGID, statmod.S_ISGID),
            (_GO_STICKY, statmod.S_ISVTX),
        ):
            if self.mode & go_bit:
                result |= posix_bit
        return result


def decode_stat(data: bytes) -> Stat:
    values: dict[str, Any] = {}
    for number, _, value in iter_fields(data):
        if number == 1:
            values["path"] = as_str(value)
        elif number == 2:
            values["mode"] = as_uint(value)
        elif number == 5:
            values["size"] = as_int64(as_uint(value))
        elif number == 6:
            values["mtime_ns"] = as_int64(as_uint(value))
        elif number == 7:
            values["linkname"] = as_str(value)
    return Stat(**values)


def decode_packet_full(message: bytes) -> tuple[int, Stat | None, int, bytes]:
    """Return (type, stat or None, ID, data) of an fsutil ``Packet``."""
    kind = ident = 0
    stat: Stat | None = None
    data = b""
    for number, _, value in iter_fields(message):
        if number == 1:
            kind = as_uint(value)
        elif number == 2:
            stat = decode_stat(as_bytes(value))
        elif number == 3:
            ident = as_uint(value)
        elif number == 4:
            data = as_bytes(value)
    return kind, stat, ident, data


class _OpenFile:
    def __init__(self, final: str, stat: Stat) -> None:
        self.final = final
        self.stat = stat
        self.temp = os.path.join(
            os.path.dirname(final), f".{os.path.basename(final)}.aiodocker-part"
        )
        self.file: IO[bytes] | None = None
        self.batch = bytearray()

    def write(self, data: bytes) -> None:
        if self.file is None:
            self.file = open(self.temp, "wb")  # noqa: SIM115 (closed in finish/abort)
        self.file.write(data)

    def finish(self) -> None:
        if self.file is None:
            self.file = open(self.temp, "wb")  # noqa: SIM115
        self.file.close()
        os.chmod(self.temp, self.stat.permissions)
        os.utime(self.temp, ns=(self.stat.mtime_ns, self.stat.mtime_ns))
        os.replace(self.temp, self.final)

    def abort(self) -> None:
        if self.file is not None:
            self.file.close()
        with contextlib.suppress(OSError):
            os.unlink(self.temp)


class LocalReceiver:
    """Receive a ``type=local`` export into ``dest`` (created if missing; merged into)."""

    def __init__(self, dest: str) -> None:
        self.dest = os.path.abspath(dest)
        self.files_received = 0
        self.bytes_received = 0

    def _target(self, relpath: str) -> str:
        parts = [p for p in relpath.replace("\\", "/").split("/") if p not in ("", ".")]
        if not parts or ".." in parts:
            raise GrpcError(UNKNOWN, f"refusing export path {relpath!r}")
        path = os.path.join(self.dest, *parts)
        parent = os.path.realpath(os.path.dirname(path))
        root = os.path.realpath(self.dest)
        if parent != root and not parent.startswith(root + os.sep):
            raise GrpcError(UNKNOWN, f"export path {relpath!r} leaves the destination")
        return path

    def _make(self, stat: Stat) -> str:
        path = self._target(stat.path)
        if stat.is_dir:
            if not os.path.isdir(path) or os.path.islink(path):
                _remove(path)
                os.mkdir(path, 0o700)
            return path
        _remove(path)
        if stat.is_symlink:
            os.symlink(stat.linkname, path)
            os.utime(path, ns=(stat.mtime_ns, stat.mtime_ns), follow_symlinks=False)
        elif stat.mode & _GO_PIPE:
            os.mkfifo(path, stat.permissions)
        elif stat.mode & _GO_DEVICE:
            pass  # device nodes need privileges buildx does not have either; skipped
        return path

    async def diff_copy(self, call: Call) -> None:
        await asyncio.to_thread(os.makedirs, self.dest, exist_ok=True)
        wanted: dict[int, _OpenFile] = {}
        links: list[tuple[str, str]] = []
        dirs: list[tuple[str, Stat]] = []
        number = 0
        listed = False
        try:
            while not listed or wanted:
                message = await call.recv()
                if message is None:
                    raise GrpcError(UNKNOWN, "the export ended before all files arrived")
                kind, stat, ident, data = decode_packet_full(message)
                if kind == PACKET_STAT:
                    if stat is None:
                        listed = True
                        continue
                    ident, number = number, number + 1
                    if stat.is_regular and stat.linkname:
                        links.append((self._target(stat.linkname), self._target(stat.path)))
                    elif stat.is_regular:
                        wanted[ident] = _OpenFile(self._target(stat.path), stat)
                        await call.send(packet(PACKET_REQ, id=ident))
                    else:
                        path = await asyncio.to_thread(self._make, stat)
                        if stat.is_dir:
                            dirs.append((path, stat))
                elif kind == PACKET_DATA:
                    entry = wanted.get(ident)
                    if entry is None:
                        raise GrpcError(UNKNOWN, f"invalid file request {ident}")
                    if data:
                        entry.batch += data
                        if len(entry.batch) >= _WRITE_BATCH:
                            await self._flush(entry)
                    else:
                        await self._flush(entry)
                        del wanted[ident]
                        await asyncio.to_thread(entry.finish)
                        self.files_received += 1
                elif kind == PACKET_ERR:
                    raise GrpcError(UNKNOWN, f"error from sender: {data.decode(errors='replace')}")
            await asyncio.to_thread(_finish_tree, links, dirs)
        finally:
            for entry in wanted.values():
                entry.abort()
        await call.send(packet(PACKET_FIN))
        while await call.recv() is not None:
            pass

    async def _flush(self, entry: _OpenFile) -> None:
        if entry.batch:
            chunk = bytes(entry.batch)
            entry.batch.clear()
            self.bytes_received += len(chunk)
            await asyncio.to_thread(entry.write, chunk)


def _remove(path: str) -> None:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if statmod.S_ISDIR(info.st_mode):
        import shutil

        shutil.rmtree(path)
    else:
        os.unlink(path)


def _finish_tree(links: list[tuple[str, str]], dirs: list[tuple[str, Stat]]) -> None:
    for source, path in links:
        _remove(path)
        os.link(source, path)
    for path, stat in reversed(dirs):  # deepest last-listed first: children before parents
        os.chmod(path, stat.permissions)
        os.utime(path, ns=(stat.mtime_ns, stat.mtime_ns))
