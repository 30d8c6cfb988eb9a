"""``docker cp`` between the host and a container: the CLI's path rules, streamed both ways.

Private module behind :meth:`DockerContainer.copy_to` and
:meth:`DockerContainer.copy_from`, which are thin entry points. Layer: resource
level; it drives the container's public archive methods (``stat_archive``,
``put_archive``, ``stream_archive``), never the core.

The rules are the docker CLI's (``docker cp``): which directory the archive is
extracted into and how its top entry is renamed depend on whether the source is
a directory, whether the destination exists (and is a directory), a trailing
``/`` and a trailing ``/.``. The pure functions here decide that; the rest
streams: the host tree is sent as a tar made while it is sent (one chunk of a
file in memory at a time), and the container's tar is extracted by a worker
thread that pulls one chunk at a time from the response.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import concurrent.futures
import json
import os
import posixpath
import stat
import tarfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from .exceptions import DockerCopyError, DockerError

if TYPE_CHECKING:
    from ._responses import ResponseStream
    from .containers import DockerContainer

__all__ = ("CopyInfo", "prepare_copy", "split_cp_arg", "copy_to", "copy_from")

_CHUNK: Final = 1024 * 1024
# Go os.FileMode bits, as the daemon's path stat reports them.
GO_MODE_DIR: Final = 1 << 31
GO_MODE_SYMLINK: Final = 1 << 27
GO_MODE_DEVICE: Final = 1 << 26
GO_MODE_IRREGULAR: Final = 1 << 19
_MAX_SYMLINKS: Final = 10
_STAT_HEADER: Final = "X-Docker-Container-Path-Stat"


# ----------------------------------------------------------------- path rules (pure)


def go_clean(path: str) -> str:
    """Go's ``filepath.Clean``: like ``normpath`` but a leading ``//`` becomes ``/``."""
    cleaned = posixpath.normpath(path)
    return "/" + cleaned.lstrip("/") if cleaned.startswith("//") else cleaned


def go_base(path: str) -> str:
    """Go's ``filepath.Base``: the last element, trailing slashes ignored."""
    if not path:
        return "."
    stripped = path.rstrip("/")
    return posixpath.basename(stripped) if stripped else "/"


def go_join(directory: str, name: str) -> str:
    """Go's ``filepath.Join`` of two elements (an absolute ``name`` stays below ``directory``)."""
    return go_clean(f"{directory}/{name}") if directory else go_clean(name)


def has_trailing_sep(path: str) -> bool:
    return path.endswith("/")


def specifies_current_dir(path: str) -> bool:
    return go_base(path) == "."


def asserts_directory(path: str) -> bool:
    """Whether ``path`` says it is a directory (``dir/`` or ``dir/.``)."""
    return has_trailing_sep(path) or specifies_current_dir(path)


def split_dir_entry(path: str) -> tuple[str, str]:
    """Split ``path`` into its parent and its entry, keeping a trailing ``/.`` as ``.``."""
    cleaned = go_clean(path)
    if specifies_current_dir(path):
        cleaned += "/."
    parent = posixpath.dirname(cleaned) or "."
    return (go_clean(parent) if parent != "/" else "/"), go_base(cleaned)


def preserve_trailing(cleaned: str, original: str) -> str:
    """Put back the trailing ``/.`` or ``/`` of ``original`` that cleaning removed."""
    if not specifies_current_dir(cleaned) and specifies_current_dir(original):
        if not has_trailing_sep(cleaned):
            cleaned += "/"
        cleaned += "."
    if not has_trailing_sep(cleaned) and has_trailing_sep(original):
        cleaned += "/"
    return cleaned


def rebase_name(path: str, resolved: str) -> tuple[str, str]:
    """After a symlink was resolved: keep ``path``'s trailing parts; the name to rebase to."""
    if specifies_current_dir(path) and not specifies_current_dir(resolved):
        resolved += "/."
    if has_trailing_sep(path) and not has_trailing_sep(resolved):
        resolved += "/"
    return resolved, (go_base(path) if go_base(path) != go_base(resolved) else "")


def split_cp_arg(arg: str) -> tuple[str, str]:
    """Split ``CONTAINER:PATH`` as the CLI does: ``("", arg)`` for a local path.

    An absolute path, an argument without ``:`` and one whose part before the
    ``:`` starts with ``.`` are local.
    """
    if arg.startswith("/"):
        return "", arg
    container, sep, path = arg.partition(":")
    if not sep or container.startswith("."):
        return "", arg
    return container, path


@dataclass
class CopyInfo:
    """What a copy knows of one side: its path, whether it exists, whether it is a directory."""

    path: str
    exists: bool = False
    is_dir: bool = False
    rebase: str = ""


def prepare_copy(src: CopyInfo, dst: CopyInfo) -> tuple[str, tuple[str, str] | None]:
    """Return the directory to extract into and the rename ``(old, new)`` of the top entry.

    Raises:
        DockerCopyError: a directory onto an existing file, or a file onto a
            directory path (``dir/``, ``dir/.``) that does not exist.
    """
    dst_dir, dst_base = split_dir_entry(dst.path)
    src_base = src.rebase or split_dir_entry(src.path)[1]
    if dst.exists and dst.is_dir:
        return dst.path, None
    if dst.exists and src.is_dir:
        raise DockerCopyError(f"cannot copy a directory onto the file {dst.path!r}", dst.path)
    if not dst.exists and not src.is_dir and asserts_directory(dst.path):
        raise DockerCopyError(f"no such directory: {dst.path!r}", dst.path)
    return dst_dir, (src_base, dst_base)


def check_file_mode(go_mode: int, what: str) -> None:
    """Refuse a device or irregular file as a copy destination, as the CLI does."""
    if go_mode & GO_MODE_DEVICE:
        raise DockerCopyError(f"{what} must be a directory or a regular file: got a device", what)
    if go_mode & GO_MODE_IRREGULAR:
        raise DockerCopyError(
            f"{what} must be a directory or a regular file: got an irregular file", what
        )


def resolve_local(path: str) -> str:
    """An absolute host path that keeps a trailing ``/`` or ``/.``."""
    return preserve_trailing(go_clean(os.path.abspath(path)), path)


# ----------------------------------------------------------------- the host side


def _eval_symlinks(path: str) -> str:
    return os.path.realpath(path, strict=True)


def host_source(path: str, follow_links: bool) -> CopyInfo:
    """Describe the host source ``path`` (absolute) as the CLI does (``-L``: follow it).

    Without ``-L`` only the symlinks before the last ``/`` are resolved.

    Raises:
        DockerCopyError: ``path`` (or a directory on its way) does not exist.
    """
    try:
        if follow_links:
            resolved, rebase = rebase_name(path, _eval_symlinks(path))
        else:
            head, _, base = path.rpartition("/")
            parent = _eval_symlinks(head + "/")
            resolved = (parent.rstrip("/") or "") + "/" + base
            same = go_base(path) == go_base(resolved)
            rebase = go_base(path) if has_trailing_sep(path) and not same else ""
        info = os.lstat(resolved)
    except OSError as exc:
        raise DockerCopyError(f"{exc.strerror or exc}: {path}", path) from exc
    return CopyInfo(resolved, True, stat.S_ISDIR(info.st_mode), rebase)


def host_destination(path: str) -> CopyInfo:
    """Describe the host destination ``path``, following symlinks at its end (10 at most).

    Raises:
        DockerCopyError: too many symlinks, or the parent directory is missing
            or not a directory.
    """
    current = path
    for _ in range(_MAX_SYMLINKS + 2):
        try:
            info = os.lstat(current)
        except FileNotFoundError:
            break
        except OSError as exc:
            raise DockerCopyError(f"{exc.strerror or exc}: {current}", current) from exc
        if not stat.S_ISLNK(info.st_mode):
            return CopyInfo(current, True, stat.S_ISDIR(info.st_mode))
        target = os.readlink(current)
        current = target if target.startswith("/") else go_join(split_dir_entry(current)[0], target)
    else:
        raise DockerCopyError(f"too many symlinks in {path}", path)
    parent = split_dir_entry(current)[0]
    try:
        parent_info = os.stat(parent)
    except OSError as exc:
        raise DockerCopyError(f"{exc.strerror or exc}: {parent}", parent) from exc
    if not stat.S_ISDIR(parent_info.st_mode):
        raise DockerCopyError(f"not a directory: {parent}", parent)
    return CopyInfo(current)


def validate_output_path(path: str) -> None:
    """The CLI's check of a host destination before anything is read from the daemon."""
    parent = posixpath.dirname(go_clean(path))
    if parent and parent != "." and not os.path.exists(parent):
        raise DockerCopyError(f"invalid output path: directory {parent!r} does not exist", path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise DockerCopyError(f"{exc.strerror or exc}: {path}", path) from exc
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        raise DockerCopyError(
            f"invalid output path: {path!r} must be a directory or a regular file", path
        )


def _walk(top: str, root: str) -> Iterator[tuple[str, str, os.stat_result]]:
    """``(path, tar name, lstat)`` of ``top`` and everything below it, in Go's Walk order."""
    try:
        info = os.lstat(top)
    except OSError:
        return
    yield top, root, info
    if not stat.S_ISDIR(info.st_mode):
        return
    try:
        names = sorted(os.listdir(top))
    except OSError:
        return
    for name in names:
        yield from _walk(posixpath.join(top, name), f"{root}/{name}")


def tar_info(
    path: str, name: str, info: os.stat_result, seen: dict[Any, str]
) -> tarfile.TarInfo | None:
    """The tar header the CLI writes for one host entry (None for a socket, which it skips)."""
    mode = info.st_mode
    entry = tarfile.TarInfo(name + "/" if stat.S_ISDIR(mode) and not name.endswith("/") else name)
    entry.mode = stat.S_IMODE(mode)
    entry.uid, entry.gid = info.st_uid, info.st_gid
    entry.uname = entry.gname = ""
    entry.mtime = int(info.st_mtime)
    if stat.S_ISREG(mode):
        key = (info.st_dev, info.st_ino)
        if info.st_nlink > 1 and key in seen:
            entry.type, entry.linkname = tarfile.LNKTYPE, seen[key]
        else:
            if info.st_nlink > 1:
                seen[key] = name
            entry.size = info.st_size
    elif stat.S_ISDIR(mode):
        entry.type = tarfile.DIRTYPE
    elif stat.S_ISLNK(mode):
        entry.type, entry.linkname = tarfile.SYMTYPE, os.readlink(path)
    elif stat.S_ISFIFO(mode):
        entry.type = tarfile.FIFOTYPE
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        entry.type = tarfile.CHRTYPE if stat.S_ISCHR(mode) else tarfile.BLKTYPE
        entry.devmajor, entry.devminor = os.major(info.st_rdev), os.minor(info.st_rdev)
    else:
        return None
    return entry


async def _file_chunks(path: str, size: int) -> AsyncIterator[bytes]:
    """``size`` bytes of the file (zeros if it shrank meanwhile), then the tar padding."""
    left = size
    file = await asyncio.to_thread(open, path, "rb")
    with file:
        while left:
            chunk = await asyncio.to_thread(file.read, min(_CHUNK, left))
            if not chunk:
                break
            left -= len(chunk)
            yield chunk
    while left:
        step = min(_CHUNK, left)
        left -= step
        yield bytes(step)
    if size % tarfile.BLOCKSIZE:
        yield bytes(tarfile.BLOCKSIZE - size % tarfile.BLOCKSIZE)


async def host_tar(top: str, root: str) -> AsyncIterator[bytes]:
    """A tar of the host tree ``top`` whose top entry is named ``root``, made as it is sent."""
    seen: dict[Any, str] = {}
    for path, name, info in _walk(top, root):
        entry = tar_info(path, name, info, seen)
        if entry is None:
            continue
        yield entry.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")
        if entry.isreg() and entry.size:
            async for chunk in _file_chunks(path, entry.size):
                yield chunk
    yield bytes(2 * tarfile.BLOCKSIZE)


# ----------------------------------------------------------------- the container side


async def _container_destination(container: DockerContainer, path: str) -> CopyInfo:
    """Stat ``path`` in the container (a symlink at its end is followed once)."""

    async def stat_of(where: str) -> dict[str, Any] | None:
        try:
            return await container.stat_archive(where)
        except DockerError:
            return None  # as the CLI: a missing path may be created; the upload says the rest

    info = CopyInfo(path)
    found = await stat_of(path)
    if found is not None and int(found.get("mode") or 0) & GO_MODE_SYMLINK:
        target = str(found.get("linkTarget") or "")
        if not target.startswith("/"):
            target = go_join(split_dir_entry(path)[0], target)
        info = CopyInfo(target)
        found = await stat_of(target)
    mode = int(found.get("mode") or 0) if found is not None else 0
    check_file_mode(mode, f"destination {container.id}:{path}")
    if found is not None:
        info.exists, info.is_dir = True, bool(mode & GO_MODE_DIR)
    return info


async def copy_to(
    container: DockerContainer, source: Any, path: str, *, follow_links: bool, archive: bool
) -> None:
    """``docker cp [-L] [-a] SOURCE CONTAINER:PATH``; see :meth:`DockerContainer.copy_to`."""
    local = isinstance(source, (str, os.PathLike))
    src = host_source(resolve_local(os.fspath(source)), follow_links) if local else None
    dst = await _container_destination(container, path)
    options: dict[str, Any] = {"no_overwrite_dir_non_dir": True, "copy_uid_gid": archive or None}
    if src is None:
        if not dst.is_dir:
            raise DockerCopyError(f"destination {container.id}:{path} must be a directory", path)
        await container.put_archive(dst.path, source, **options)
        return
    directory, rename = prepare_copy(src, dst)
    parent, base = split_dir_entry(src.path)
    root = src.rebase or base
    if rename is not None:
        root = root.replace(rename[0], rename[1], 1)
    top = parent if base == "." else posixpath.join(parent, base)
    await container.put_archive(directory, host_tar(top, root), **options)


def _decode_stat(raw: str | None) -> dict[str, Any]:
    if raw is None:
        raise DockerError(200, f"the daemon sent no {_STAT_HEADER} header")
    try:
        found = json.loads(base64.b64decode(raw))
    except (binascii.Error, ValueError) as exc:
        raise DockerError(200, f"malformed {_STAT_HEADER} header: {raw!r}") from exc
    if not isinstance(found, dict):
        raise DockerError(200, f"malformed {_STAT_HEADER} header: {raw!r}")
    return found


async def _source_path(container: DockerContainer, path: str, follow: bool) -> tuple[str, str]:
    """The container path to archive and the name to rebase it to (``-L`` on a symlink)."""
    if not follow:
        return path, ""
    try:
        found = await container.stat_archive(path)
    except DockerError:
        return path, ""  # the archive request names what is missing
    if not int(found.get("mode") or 0) & GO_MODE_SYMLINK:
        return path, ""
    target = str(found.get("linkTarget") or "")
    if not target.startswith("/"):
        target = go_join(split_dir_entry(path)[0], target)
    return rebase_name(path, target)


async def copy_from(
    container: DockerContainer, path: str, destination: Any, *, follow_links: bool
) -> dict[str, Any]:
    """``docker cp [-L] CONTAINER:PATH DEST``; see :meth:`DockerContainer.copy_from`."""
    local = isinstance(destination, (str, os.PathLike))
    target = resolve_local(os.fspath(destination)) if local else ""
    if local:
        validate_output_path(target)
    elif not callable(getattr(destination, "write", None)):
        raise TypeError(
            "copy_from() destination must be a path or a binary file object, "
            f"not {type(destination).__name__}"
        )
    source, rebase = await _source_path(container, path, follow_links)
    stream = container.stream_archive(source)
    async with stream:
        response = await stream.open()
        found = _decode_stat(response.headers.get(_STAT_HEADER))
        if not local:
            async for chunk in stream:
                await asyncio.to_thread(destination.write, chunk)
            return found
        renames = [(split_dir_entry(source)[1], rebase)] if rebase else []
        src = CopyInfo(source, True, bool(int(found.get("mode") or 0) & GO_MODE_DIR), rebase)
        directory, rename = prepare_copy(src, host_destination(target))
        if rename is not None:
            renames.append(rename)
        await _extract(stream, directory, renames)
    return found


# ----------------------------------------------------------------- streamed extraction


class _PulledReader:
    """A blocking ``read`` for a worker thread that pulls chunks from the event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, stream: ResponseStream[bytes]) -> None:
        self._loop = loop
        self._stream = stream
        self._buffer = b""
        self._eof = False
        self.pending: concurrent.futures.Future[bytes | None] | None = None
        self.cancelled = False

    async def _next(self) -> bytes | None:
        try:
            return await self._stream.__anext__()
        except StopAsyncIteration:
            return None

    def read(self, size: int = -1) -> bytes:
        while not self._buffer and not self._eof:
            if self.cancelled:
                raise OSError("the copy was cancelled")
            self.pending = asyncio.run_coroutine_threadsafe(self._next(), self._loop)
            chunk = self.pending.result()
            self._eof = chunk is None
            self._buffer = chunk or b""
        if size < 0 or size >= len(self._buffer):
            data, self._buffer = self._buffer, b""
        else:
            data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data


async def _extract(
    stream: ResponseStream[bytes], directory: str, renames: list[tuple[str, str]]
) -> None:
    reader = _PulledReader(asyncio.get_running_loop(), stream)
    work = asyncio.ensure_future(asyncio.to_thread(untar, reader, directory, renames))
    try:
        await asyncio.shield(work)
    except asyncio.CancelledError:
        reader.cancelled = True
        if reader.pending is not None:
            reader.pending.cancel()
        await asyncio.wait((work,))
        raise


def untar(reader: Any, directory: str, renames: list[tuple[str, str]]) -> None:
    """Extract the tar ``reader`` gives into ``directory`` as the CLI does (no chown)."""
    dirs: list[tuple[str, float]] = []
    try:
        with tarfile.open(fileobj=reader, mode="r|") as tar:
            for member in tar:
                name = member.name
                for old, new in renames:  # a hard link's target is renamed with it
                    name = name.replace(old, new, 1)
                    if member.islnk():
                        member.linkname = member.linkname.replace(old, new, 1)
                path = _unpack_target(directory, name, member)
                if path is not None:
                    _create(tar, member, path, directory)
                    if member.isdir():
                        dirs.append((path, member.mtime))
    except tarfile.TarError as exc:
        raise DockerError(200, f"the container's archive is not a valid tar: {exc}") from exc
    except OSError as exc:
        where = str(exc.filename or directory)
        raise DockerCopyError(f"{exc.strerror or exc}: {where}", where) from exc
    for path, mtime in dirs:
        atime = os.lstat(path).st_atime_ns
        os.utime(path, ns=(atime, int(mtime * 1e9)), follow_symlinks=False)


def _unpack_target(directory: str, name: str, member: tarfile.TarInfo) -> str | None:
    """The host path of one entry, after the CLI's checks (None: keep the existing dir)."""
    name = go_clean(name)
    if "/" in name:
        parent = go_join(directory, posixpath.dirname(name))
        if not os.path.lexists(parent):
            os.makedirs(parent, 0o755, exist_ok=True)
    path = go_join(directory, name)
    rel = posixpath.relpath(path, directory)
    if rel == ".." or rel.startswith("../"):
        raise DockerCopyError(f"{name!r} is outside of {directory!r}", name)
    try:
        existing = os.lstat(path)
    except FileNotFoundError:
        return path
    is_dir = stat.S_ISDIR(existing.st_mode)
    if is_dir and not member.isdir():
        raise DockerCopyError(f"cannot overwrite directory {path!r} with non-directory", path)
    if not is_dir and member.isdir():
        raise DockerCopyError(f"cannot overwrite non-directory {path!r} with directory", path)
    if is_dir and name == ".":
        return None
    if not is_dir:
        os.unlink(path)
    return path


def _inside(path: str, directory: str) -> bool:
    return go_clean(path).startswith(directory)


def _create(tar: tarfile.TarFile, member: tarfile.TarInfo, path: str, directory: str) -> None:
    """Create one entry, then set its mode and times (the owner stays the caller)."""
    mode = member.mode & 0o7777
    if member.isdir():
        if not os.path.isdir(path):
            os.mkdir(path, mode)
    elif member.isreg():
        data = tar.extractfile(member)
        assert data is not None  # a regular file always has data
        fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, mode)
        with open(fd, "wb") as file:
            while chunk := data.read(_CHUNK):
                file.write(chunk)
    elif member.islnk():
        target = go_join(directory, member.linkname)
        if not _inside(target, directory):
            raise DockerCopyError(f"invalid hardlink {path!r} -> {member.linkname!r}", path)
        os.link(target, path)
        return
    elif member.issym():
        if not _inside(go_join(posixpath.dirname(path), member.linkname), directory):
            raise DockerCopyError(f"invalid symlink {path!r} -> {member.linkname!r}", path)
        os.symlink(member.linkname, path)
        os.utime(path, (member.mtime, member.mtime), follow_symlinks=False)
        return
    elif member.isfifo():
        os.mkfifo(path, mode)
    elif member.ischr() or member.isblk():
        kind = stat.S_IFCHR if member.ischr() else stat.S_IFBLK
        os.mknod(path, mode | kind, os.makedev(member.devmajor, member.devminor))
    else:
        return
    os.chmod(path, mode)
    if not member.isdir():
        os.utime(path, (member.mtime, member.mtime))
