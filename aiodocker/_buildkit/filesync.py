"""BuildKit file sync: serve ``/moby.filesync.v1.FileSync/DiffCopy`` from local directories.

Layer: ``_buildkit``; imports the stdlib, ``_core.dockerignore`` and its siblings.

Facts followed (tonistiigi/fsutil ``send.go``, ``stat.go``, ``types/wire.proto``,
``types/stat.proto``; BuildKit ``session/filesync/filesync.go``):

* the call's metadata names the directory (``dir-name``) and filters it:
  ``exclude-patterns`` (.dockerignore rules), ``include-patterns`` and
  ``followpaths`` (paths wanted); values are URL-query-escaped when
  ``<key>-encoded`` is set;
* we, the sender, walk the directory depth-first with names sorted bytewise
  and send one ``Packet{type=STAT, stat}`` per entry, then an empty STAT
  packet; the entries are numbered from 0 in that order;
* the daemon compares the stats with its copy from the last build under the
  same shared key and asks only for what changed: ``Packet{type=REQ, ID}``;
  we answer with ``DATA`` packets of that ID, then an empty ``DATA`` packet;
* the daemon ends with ``FIN``, which we echo; ``ERR`` carries an error text.

    Packet: type=1 (enum) stat=2 ID=3 (uint32) data=4
    Stat:   path=1 mode=2 (Go os.FileMode bits) uid=3 gid=4 size=5
            modTime=6 (ns) linkname=7 devmajor=8 devminor=9

uid and gid are sent as 0, as the docker CLI does.
"""

from __future__ import annotations

import asyncio
import os
import stat as statmod
import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Final

from .._core.dockerignore import IgnoreMatcher, IgnorePattern, MatchState
from .grpc import NOT_FOUND, UNKNOWN, Call, GrpcError
from .wire import as_bytes, as_uint, field_bytes, field_varint, iter_fields

DIFF_COPY: Final = "/moby.filesync.v1.FileSync/DiffCopy"

PACKET_STAT: Final = 0
PACKET_REQ: Final = 1
PACKET_DATA: Final = 2
PACKET_FIN: Final = 3
PACKET_ERR: Final = 4

CHUNK_SIZE: Final = 256 * 1024

# Go's os.FileMode type bits
_GO_DIR: Final = 1 << 31
_GO_SYMLINK: Final = 1 << 27
_GO_DEVICE: Final = 1 << 26
_GO_PIPE: Final = 1 << 25
_GO_SETUID: Final = 1 << 23
_GO_SETGID: Final = 1 << 22
_GO_CHARDEV: Final = 1 << 21
_GO_STICKY: Final = 1 << 20


def go_file_mode(mode: int) -> int:
    """Translate a POSIX ``st_mode`` into Go's ``os.FileMode`` bits."""
    result = mode & 0o777
    if mode & statmod.S_ISUID:
        result |= _GO_SETUID
    if mode & statmod.S_ISGID:
        result |= _GO_SETGID
    if mode & statmod.S_ISVTX:
        result |= _GO_STICKY
    if statmod.S_ISDIR(mode):
        result |= _GO_DIR
    elif statmod.S_ISLNK(mode):
        result |= _GO_SYMLINK
    elif statmod.S_ISFIFO(mode):
        result |= _GO_PIPE
    elif statmod.S_ISCHR(mode):
        result |= _GO_DEVICE | _GO_CHARDEV
    elif statmod.S_ISBLK(mode):
        result |= _GO_DEVICE
    return result


@dataclass(frozen=True, slots=True)
class Entry:
    relpath: str
    path: str
    info: os.stat_result

    @property
    def is_regular(self) -> bool:
        return statmod.S_ISREG(self.info.st_mode)

    def stat_message(self) -> bytes:
        info = self.info
        data = field_bytes(1, self.relpath) + field_varint(2, go_file_mode(info.st_mode))
        if not statmod.S_ISDIR(info.st_mode):
            data += field_varint(5, info.st_size)
        data += field_varint(6, info.st_mtime_ns)
        if statmod.S_ISLNK(info.st_mode):
            data += field_bytes(7, os.readlink(self.path))
        if statmod.S_ISCHR(info.st_mode) or statmod.S_ISBLK(info.st_mode):
            data += field_varint(8, os.major(info.st_rdev)) + field_varint(
                9, os.minor(info.st_rdev)
            )
        return data


def packet(kind: int, *, stat: bytes | None = None, id: int = 0, data: bytes = b"") -> bytes:
    message = field_varint(1, kind)
    if stat is not None:
        message += field_bytes(2, stat, keep_empty=True)
    return message + field_varint(3, id) + field_bytes(4, data)


def decode_packet(message: bytes) -> tuple[int, int, bytes]:
    """Return (type, ID, data) of a Packet."""
    kind = ident = 0
    data = b""
    for number, _, value in iter_fields(message):
        if number == 1:
            kind = as_uint(value)
        elif number == 3:
            ident = as_uint(value)
        elif number == 4:
            data = as_bytes(value)
    return kind, ident, data


def decode_options(metadata: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """The call's metadata with ``<key>-encoded`` values unescaped (as BuildKit encodes them)."""
    options: dict[str, list[str]] = {}
    for key, values in metadata.items():
        encoded = metadata.get(key + "-encoded", [""])[0].lower() in ("1", "t", "true")
        options[key] = [urllib.parse.unquote_plus(v) for v in values] if encoded else list(values)
    return options


class _Includes:
    """``include-patterns`` and ``followpaths``: a path is kept if it or a parent matches."""

    def __init__(self, patterns: list[str]) -> None:
        self._texts = [p.strip("/") for p in patterns if p.strip("/")]
        self._patterns = [c for c in map(IgnorePattern.compile, self._texts) if c is not None]

    def __bool__(self) -> bool:
        return bool(self._texts)

    def matches(self, relpath: str) -> bool:
        parts = relpath.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        return any(p.match(prefix) for p in self._patterns for prefix in prefixes)

    def may_hold_matches(self, dirpath: str) -> bool:
        prefix = dirpath + "/"
        for text in self._texts:
            literal = text
            for index, char in enumerate(text):
                if char in "*?[\\":
                    literal = text[:index]
                    break
            if literal == text:
                if text.startswith(prefix):
                    return True
            elif literal.startswith(prefix) or prefix.startswith(literal):
                return True
        return False


def walk(root: str, *, excludes: list[str], includes: list[str]) -> Iterator[Entry]:
    """Yield the entries to sync, in fsutil's order (depth-first, names sorted bytewise).

    A directory that is itself filtered out but holds wanted entries is sent
    just before its first wanted entry, as fsutil does.
    """
    matcher = IgnoreMatcher.from_patterns(excludes)
    wanted = _Includes(includes)
    pending: list[tuple[str, Iterator[os.DirEntry[str]], MatchState | None, bool]] = [
        ("", iter(_sorted(root)), None, False)
    ]
    unsent: list[Entry] = []  # filtered-out directories above the walk position
    while pending:
        prefix, entries, parent_state, parent_included = pending[-1]
        entry = next(entries, None)
        if entry is None:
            pending.pop()
            if unsent and unsent[-1].relpath == prefix.rstrip("/"):
                unsent.pop()
            continue
        relpath = prefix + entry.name
        info = entry.stat(follow_symlinks=False)
        is_dir = statmod.S_ISDIR(info.st_mode)
        if statmod.S_ISSOCK(info.st_mode):
            continue
        excluded, state = matcher.match_in_walk(relpath, parent_state) if matcher else (False, ())
        included = parent_included or not wanted or wanted.matches(relpath)
        item = Entry(relpath, entry.path, info)
        if not excluded and included:
            yield from unsent
            unsent.clear()
            yield item
            if is_dir:
                pending.append((relpath + "/", iter(_sorted(entry.path)), state, bool(wanted)))
        elif is_dir and (
            (excluded and included and matcher.may_reinclude_below(relpath))
            or (not excluded and not included and wanted.may_hold_matches(relpath))
        ):
            unsent.append(item)
            pending.append((relpath + "/", iter(_sorted(entry.path)), state, False))


def _sorted(directory: str) -> list[os.DirEntry[str]]:
    with os.scandir(directory) as scan:
        return sorted(scan, key=lambda entry: os.fsencode(entry.name))


class FileSyncService:
    """Serves DiffCopy for named directories (``{"context": DIR, "dockerfile": DIR}``)."""

    def __init__(self, dirs: Mapping[str, str]) -> None:
        self.dirs = dict(dirs)
        self.files_sent = 0
        self.file_bytes_sent = 0

    async def diff_copy(self, call: Call) -> None:
        options = decode_options(call.metadata)
        name = (options.get("dir-name") or [""])[0]
        root = self.dirs.get(name)
        if root is None:
            raise GrpcError(NOT_FOUND, f"no access allowed to dir {name!r}")
        entries = await asyncio.to_thread(
            lambda: list(
                walk(
                    root,
                    excludes=options.get("exclude-patterns", []),
                    includes=options.get("include-patterns", []) + options.get("followpaths", []),
                )
            )
        )
        files: dict[int, str] = {}
        for number, entry in enumerate(entries):
            if entry.is_regular:
                files[number] = entry.path
            await call.send(packet(PACKET_STAT, stat=entry.stat_message()))
        await call.send(packet(PACKET_STAT))
        while True:
            message = await call.recv()
            if message is None:
                return
            kind, ident, data = decode_packet(message)
            if kind == PACKET_REQ:
                path = files.pop(ident, None)
                if path is None:
                    raise GrpcError(UNKNOWN, f"invalid file id {ident}")
                await self._send_file(call, ident, path)
            elif kind == PACKET_FIN:
                await call.send(packet(PACKET_FIN))
                return
            elif kind == PACKET_ERR:
                raise GrpcError(UNKNOWN, f"error from receiver: {data.decode(errors='replace')}")

    async def _send_file(self, call: Call, ident: int, path: str) -> None:
        self.files_sent += 1
        with open(path, "rb") as file:  # noqa: ASYNC230 (reads go to a thread below)
            while chunk := await asyncio.to_thread(file.read, CHUNK_SIZE):
                self.file_bytes_sent += len(chunk)
                await call.send(packet(PACKET_DATA, id=ident, data=chunk))
        await call.send(packet(PACKET_DATA, id=ident))
