"""Build context of a local directory, streamed as a tar like the docker CLI sends it.

Layer: ``_core``. Imports the standard library and ``_core.dockerignore`` only.

What goes in, following the CLI's classic builder:

* every entry below ``root`` in a depth-first walk with names sorted bytewise,
  minus what ``.dockerignore`` excludes (see :mod:`.dockerignore` for the
  rules, including when an excluded directory is still walked because an
  exception lies below it; such a directory gets no entry of its own);
* the Dockerfile and ``.dockerignore`` always, even when ignored (the daemon
  drops them again after reading them);
* symlinks as symlinks (never followed), directories, regular files, FIFOs and
  device nodes; sockets are skipped;
* headers in PAX format: permission bits including setuid/setgid/sticky,
  mtime truncated to whole seconds, uid and gid 0, empty user and group
  names, a second hard link to a file already sent as a link entry, and the
  ``security.capability`` extended attribute when a file has one.

The archive is produced chunk by chunk in a worker thread and is never held
in memory as a whole.
"""

from __future__ import annotations

import asyncio
import errno
import io
import os
import stat
import tarfile
import tempfile
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import IO, Final

from .dockerignore import IgnoreMatcher, MatchState

__all__ = (
    "BuildContext",
    "iter_context_files",
    "mktar_from_dockerfile",
    "prepare_context",
    "stream_context",
)

DEFAULT_DOCKERFILE: Final = "Dockerfile"
DOCKERIGNORE: Final = ".dockerignore"
DEFAULT_CHUNK_SIZE: Final = 64 * 1024

_BLOCK: Final = tarfile.BLOCKSIZE
_END_OF_ARCHIVE: Final = b"\0" * (2 * tarfile.BLOCKSIZE)
_CAPABILITY_XATTR: Final = "security.capability"
_PAX_XATTR_PREFIX: Final = "SCHILY.xattr."
_OPEN_FLAGS: Final = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


@dataclass(frozen=True)
class BuildContext:
    """A validated context directory: its real path, Dockerfile and matcher."""

    root: str
    """Absolute path of the context directory, symlinks resolved."""
    dockerfile: str
    """The Dockerfile's path relative to ``root``, slash-separated (pass it as ``dockerfile=``)."""
    matcher: IgnoreMatcher
    """``.dockerignore`` plus the exceptions that keep the Dockerfile and itself."""


@dataclass(frozen=True)
class _Entry:
    relpath: str
    path: str
    info: os.stat_result


def _locate_dockerfile(root: str, given: str, dockerfile: str) -> str:
    candidate = dockerfile if os.path.isabs(dockerfile) else os.path.join(root, dockerfile)
    if dockerfile == DEFAULT_DOCKERFILE and not os.path.lexists(candidate):
        lowercase = os.path.join(root, DEFAULT_DOCKERFILE.lower())
        if os.path.lexists(lowercase):
            candidate = lowercase
    real = os.path.realpath(candidate)
    if not os.path.exists(real):
        raise ValueError(f"cannot locate Dockerfile {dockerfile!r} in build context {given!r}")
    if not os.path.isfile(real):
        raise ValueError(f"Dockerfile {dockerfile!r} in build context {given!r} is not a file")
    relative = os.path.relpath(real, root)
    if relative == os.pardir or relative.startswith(os.pardir + os.sep):
        raise ValueError(
            f"Dockerfile {dockerfile!r} is outside the build context {given!r}; "
            "move it into the context directory"
        )
    return relative.replace(os.sep, "/")


def prepare_context(root: str, dockerfile: str = DEFAULT_DOCKERFILE) -> BuildContext:
    """Validate ``root`` and read its ``.dockerignore``, as the CLI does before sending.

    ``dockerfile`` is relative to ``root`` (or absolute, inside it). The default
    ``Dockerfile`` falls back to ``dockerfile`` when only that exists.

    Raises:
        ValueError: ``root`` is missing or not a directory, the Dockerfile is
            missing or outside the context, or ``.dockerignore`` is malformed.
    """
    given = os.fspath(root)
    if not os.path.exists(given):
        raise ValueError(f"build context directory {given!r} does not exist")
    if not os.path.isdir(given):
        raise ValueError(f"build context {given!r} is not a directory")
    real_root = os.path.realpath(given)
    relative_dockerfile = _locate_dockerfile(real_root, given, os.fspath(dockerfile))

    try:
        with open(os.path.join(real_root, DOCKERIGNORE), "rb") as ignore_file:
            ignore_text = ignore_file.read().decode("utf-8", "surrogateescape")
    except FileNotFoundError:
        ignore_text = ""
    try:
        matcher = IgnoreMatcher(ignore_text)
    except ValueError as exc:
        raise ValueError(f"{DOCKERIGNORE} of build context {given!r}: {exc}") from None
    # The CLI sends the files it needs even when they are ignored.
    if matcher.matches(DOCKERIGNORE):
        matcher = matcher.extended("!" + DOCKERIGNORE)
    if matcher.matches(relative_dockerfile):
        matcher = matcher.extended("!" + relative_dockerfile)
    return BuildContext(real_root, relative_dockerfile, matcher)


def _sorted_entries(directory: str) -> list[os.DirEntry[str]]:
    with os.scandir(directory) as scan:
        return sorted(scan, key=lambda entry: os.fsencode(entry.name))


def _walk(context: BuildContext) -> Iterator[_Entry]:
    """Yield the entries that go into the archive, in the CLI's order."""
    matcher = context.matcher
    pending: list[tuple[str, Iterator[os.DirEntry[str]], MatchState | None]] = [
        ("", iter(_sorted_entries(context.root)), None)
    ]
    while pending:
        prefix, entries, parent_state = pending[-1]
        entry = next(entries, None)
        if entry is None:
            pending.pop()
            continue
        relpath = prefix + entry.name
        info = entry.stat(follow_symlinks=False)
        is_dir = stat.S_ISDIR(info.st_mode)
        if matcher:
            excluded, state = matcher.match_in_walk(relpath, parent_state)
        else:
            excluded, state = False, ()
        if excluded:
            if is_dir and matcher.may_reinclude_below(relpath):
                pending.append((relpath + "/", iter(_sorted_entries(entry.path)), state))
            continue
        if stat.S_ISSOCK(info.st_mode):
            continue
        yield _Entry(relpath, entry.path, info)
        if is_dir:
            pending.append((relpath + "/", iter(_sorted_entries(entry.path)), state))


def iter_context_files(root: str, dockerfile: str = DEFAULT_DOCKERFILE) -> list[str]:
    """Return the sorted relative paths of every entry the context archive holds.

    Directories are listed (without a trailing slash) only when they have an
    entry of their own; an excluded directory walked for an exception has none.

    Raises:
        ValueError: as :func:`prepare_context`.
    """
    return sorted(entry.relpath for entry in _walk(prepare_context(root, dockerfile)))


def _capability_pax(path: str) -> dict[str, str]:
    try:
        value = os.getxattr(path, _CAPABILITY_XATTR, follow_symlinks=False)
    except (OSError, AttributeError):
        return {}
    return {_PAX_XATTR_PREFIX + _CAPABILITY_XATTR: value.decode("utf-8", "surrogateescape")}


class _TarProducer:
    """Produce the archive in chunks; ``read`` runs in a worker thread.

    One lock serialises ``read`` calls. ``close`` may come from the event loop
    while a ``read`` is running: it marks the producer closed, and whoever
    holds the lock last releases the open file and the walk.
    """

    def __init__(self, context: BuildContext, chunk_size: int) -> None:
        self._entries: Iterator[_Entry] | None = _walk(context)
        self._chunk_size = chunk_size
        self._lock = threading.Lock()
        self._closing = False
        self._done = False
        self._fd: int | None = None
        self._fd_relpath = ""
        self._remaining = 0
        self._padding = 0
        self._links: dict[tuple[int, int], str] = {}

    def read(self) -> bytes:
        """Return the next chunk of the archive; ``b""`` once it is complete or closed."""
        with self._lock:
            if self._closing:
                self._release()
                return b""
            try:
                chunk = self._read_locked()
            except BaseException:
                self._release()
                raise
        if self._closing:
            self.close()
        return chunk

    def close(self) -> None:
        """Release the open file and the walk (now, or when the running ``read`` ends)."""
        self._closing = True
        if self._lock.acquire(blocking=False):
            try:
                self._release()
            finally:
                self._lock.release()

    def _release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        self._entries = None
        self._done = True

    def _read_locked(self) -> bytes:
        out = bytearray()
        while len(out) < self._chunk_size:
            if self._fd is not None:
                self._copy_file_data(out)
                continue
            if self._done or self._entries is None:
                break
            entry = next(self._entries, None)
            if entry is None:
                out += _END_OF_ARCHIVE
                self._release()
                break
            out += self._header(entry)
        return bytes(out)

    def _copy_file_data(self, out: bytearray) -> None:
        assert self._fd is not None
        wanted = min(self._remaining, self._chunk_size - len(out))
        data = os.read(self._fd, wanted)
        if not data:
            raise OSError(
                errno.EIO,
                f"build context file {self._fd_relpath!r} shrank while it was being sent",
            )
        out += data
        self._remaining -= len(data)
        if self._remaining == 0:
            os.close(self._fd)
            self._fd = None
            out += b"\0" * self._padding

    def _header(self, entry: _Entry) -> bytes:
        info = entry.info
        mode = info.st_mode
        member = tarfile.TarInfo(entry.relpath)
        member.mode = stat.S_IMODE(mode)
        member.mtime = info.st_mtime_ns // 1_000_000_000
        member.uid = member.gid = 0
        member.uname = member.gname = ""
        member.pax_headers = _capability_pax(entry.path)
        size = 0
        if stat.S_ISDIR(mode):
            member.type = tarfile.DIRTYPE
        else:
            if info.st_nlink > 1:
                key = (info.st_dev, info.st_ino)
                first = self._links.get(key)
                if first is not None:
                    member.type = tarfile.LNKTYPE
                    member.linkname = first
                    return member.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")
                self._links[key] = entry.relpath
            if stat.S_ISLNK(mode):
                member.type = tarfile.SYMTYPE
                member.linkname = os.readlink(entry.path)
            elif stat.S_ISREG(mode):
                member.type = tarfile.REGTYPE
                size = info.st_size
            elif stat.S_ISFIFO(mode):
                member.type = tarfile.FIFOTYPE
            elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
                member.type = tarfile.CHRTYPE if stat.S_ISCHR(mode) else tarfile.BLKTYPE
                member.devmajor = os.major(info.st_rdev)
                member.devminor = os.minor(info.st_rdev)
        member.size = size
        if size:
            self._fd = os.open(entry.path, _OPEN_FLAGS)
            self._fd_relpath = entry.relpath
            self._remaining = size
            self._padding = -size % _BLOCK
        return member.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


async def _produce(producer: _TarProducer) -> AsyncIterator[bytes]:
    try:
        while True:
            chunk = await asyncio.to_thread(producer.read)
            if not chunk:
                return
            yield chunk
    finally:
        producer.close()


def stream_context(
    root: str,
    *,
    dockerfile: str = DEFAULT_DOCKERFILE,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> AsyncIterator[bytes]:
    """Stream an uncompressed tar of the build context at ``root`` in chunks.

    Use it as ``async for chunk in stream_context(path): ...``. The directory
    and ``.dockerignore`` are checked when this is called, so mistakes surface
    before any request starts; files are read in a worker thread while the
    archive is consumed. Closing the iterator early releases the open file.

    Raises:
        ValueError: as :func:`prepare_context`, or ``chunk_size`` is not positive.
        OSError: (while iterating) a file cannot be read or shrank meanwhile.
    """
    if chunk_size <= 0:
        raise ValueError(f"chunk_size must be positive, not {chunk_size!r}")
    return _produce(_TarProducer(prepare_context(root, dockerfile), chunk_size))


def mktar_from_dockerfile(fileobj: IO[bytes] | IO[str] | bytes | str) -> IO[bytes]:
    """Return a gzipped tar (in a temporary file) holding ``fileobj`` as ``Dockerfile``."""
    if isinstance(fileobj, str):
        data = fileobj.encode()
    elif isinstance(fileobj, bytes):
        data = fileobj
    else:
        raw = fileobj.read()
        data = raw.encode() if isinstance(raw, str) else raw
    f = tempfile.NamedTemporaryFile()  # noqa: SIM115 - the caller owns it
    with tarfile.open(mode="w:gz", fileobj=f) as tar:
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    f.seek(0)
    return f
