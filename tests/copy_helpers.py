"""Helpers of the ``docker cp`` tests: a host tree, tree snapshots, the engine's docker CLI."""

from __future__ import annotations

import os
import stat
import tarfile
from pathlib import Path
from typing import Any

from testenv import Engine, require

from aiodocker.containers import DockerContainer

STAMP = 1_600_000_000  # a fixed mtime for the host tree


def cli_of(engine: Engine) -> list[str]:
    """The docker CLI of ``engine`` (20.10's own, 26's from env.json), aimed at it."""
    binary = require("docker26_cli") if engine.name == "docker26" else "/usr/bin/docker"
    return [binary, "-H", engine.host]


def make_host_tree(root: Path) -> Path:
    """Files, directories, symlinks, a hard link and a foreign owner, with fixed times."""
    src = root / "src"
    (src / "d" / "sub").mkdir(parents=True)
    (src / "f").write_bytes(b"file\n")
    (src / "f").chmod(0o640)
    (src / "d" / "sub" / "a").write_bytes(b"a" * 3000)
    (src / "d" / "sub" / "a").chmod(0o600)
    (src / "d" / "run.sh").write_bytes(b"#!/bin/sh\n")
    (src / "d" / "run.sh").chmod(0o4755)
    (src / "d" / "ln").symlink_to("sub/a")
    os.link(src / "d" / "run.sh", src / "d" / "hard")
    (src / "dl").symlink_to("d")
    (src / "fl").symlink_to("f")
    (src / "owned").write_bytes(b"owned\n")
    os.chown(src / "owned", 1234, 5678)
    (src / "d").chmod(0o750)
    for path in [*src.rglob("*"), src]:
        os.utime(path, (STAMP, STAMP), follow_symlinks=False)
    return src


def snapshot_members(members: list[tuple[str, tarfile.TarInfo, bytes]]) -> dict[str, Any]:
    """Name -> (type, mode, uid, gid, content or link, mtime) of tar members (dir times left out)."""
    found: dict[str, Any] = {}
    for name, info, data in members:
        when = None if info.isdir() else int(info.mtime)
        found[name] = (info.type, info.mode, info.uid, info.gid, data or info.linkname, when)
    return found


async def container_tree(container: DockerContainer, path: str) -> dict[str, Any]:
    """The tree at ``path`` in the container, names relative to it."""
    members = []
    with await container.get_archive(path) as tar:
        for info in tar.getmembers():
            rel = info.name.partition("/")[2]
            if info.islnk():  # a hard link names its target from the archive's top
                info.linkname = info.linkname.partition("/")[2]
            data = tar.extractfile(info).read() if info.isreg() else b""  # type: ignore[union-attr]
            members.append((rel, info, data))
    return snapshot_members(members)


def host_tree(root: Path) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        mode = info.st_mode
        if stat.S_ISLNK(mode):
            what: Any = os.readlink(path)
        elif stat.S_ISREG(mode):
            what = path.read_bytes()
        else:
            what = None
        when = None if stat.S_ISDIR(mode) else int(info.st_mtime)
        key = str(path.relative_to(root))
        found[key] = (stat.S_IFMT(mode), stat.S_IMODE(mode), info.st_uid, info.st_gid, what, when)
    return found
