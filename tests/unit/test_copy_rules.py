"""The ``docker cp`` path rules of ``aiodocker._copy``, table by table (no daemon)."""

from __future__ import annotations

import asyncio
import io
import os
import tarfile
from pathlib import Path
from typing import Any

import pytest

from aiodocker import _copy
from aiodocker._copy import CopyInfo
from aiodocker.exceptions import DockerCopyError, DockerError


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/a/b", ("/a", "b")),
        ("/a/b/", ("/a", "b")),
        ("/a/b/.", ("/a/b", ".")),
        ("/a/b/./", ("/a/b", ".")),
        ("a", (".", "a")),
        ("/a", ("/", "a")),
        ("//a//b", ("/a", "b")),
    ],
)
def test_split_dir_entry(path: str, expected: tuple[str, str]) -> None:
    assert _copy.split_dir_entry(path) == expected


@pytest.mark.parametrize(
    ("cleaned", "original", "expected"),
    [
        ("/a/b", "a/b/", "/a/b/"),
        ("/a/b", "a/b/.", "/a/b/."),
        ("/a/b", "a/b", "/a/b"),
        ("/", "./", "/./"),
    ],
)
def test_preserve_trailing(cleaned: str, original: str, expected: str) -> None:
    assert _copy.preserve_trailing(cleaned, original) == expected


@pytest.mark.parametrize(
    ("path", "resolved", "expected"),
    [
        ("/x/link", "/x/target", ("/x/target", "link")),
        ("/x/link/", "/x/target", ("/x/target/", "link")),
        ("/x/link/.", "/x/target", ("/x/target/.", "")),
        ("/x/same", "/y/same", ("/y/same", "")),
    ],
)
def test_rebase_name(path: str, resolved: str, expected: tuple[str, str]) -> None:
    assert _copy.rebase_name(path, resolved) == expected


@pytest.mark.parametrize(
    ("arg", "expected"),
    [
        ("web:/etc", ("web", "/etc")),
        ("web:", ("web", "")),
        ("/abs/with:colon", ("", "/abs/with:colon")),
        ("./rel:colon", ("", "./rel:colon")),
        ("plain", ("", "plain")),
        ("-", ("", "-")),
    ],
)
def test_split_cp_arg(arg: str, expected: tuple[str, str]) -> None:
    assert _copy.split_cp_arg(arg) == expected


FILE = CopyInfo("/h/f", True, False)
DIR = CopyInfo("/h/d", True, True)
CONTENTS = CopyInfo("/h/d/.", True, True)
LINKED = CopyInfo("/h/real", True, True, rebase="link")


@pytest.mark.parametrize(
    ("src", "dst", "expected"),
    [
        (FILE, CopyInfo("/c/dir", True, True), ("/c/dir", None)),
        (FILE, CopyInfo("/c/file", True, False), ("/c", ("f", "file"))),
        (FILE, CopyInfo("/c/new"), ("/c", ("f", "new"))),
        (DIR, CopyInfo("/c/dir", True, True), ("/c/dir", None)),
        (DIR, CopyInfo("/c/new"), ("/c", ("d", "new"))),
        (DIR, CopyInfo("/c/new/"), ("/c", ("d", "new"))),
        (CONTENTS, CopyInfo("/c/new"), ("/c", (".", "new"))),
        (CONTENTS, CopyInfo("/c/dir", True, True), ("/c/dir", None)),
        (LINKED, CopyInfo("/c/new"), ("/c", ("link", "new"))),
    ],
)
def test_prepare_copy(
    src: CopyInfo, dst: CopyInfo, expected: tuple[str, tuple[str, str] | None]
) -> None:
    assert _copy.prepare_copy(src, dst) == expected


@pytest.mark.parametrize(
    ("src", "dst", "message"),
    [
        (DIR, CopyInfo("/c/file", True, False), "cannot copy a directory"),
        (FILE, CopyInfo("/c/new/"), "no such directory"),
        (FILE, CopyInfo("/c/new/."), "no such directory"),
    ],
)
def test_prepare_copy_refuses(src: CopyInfo, dst: CopyInfo, message: str) -> None:
    with pytest.raises(DockerCopyError, match=message) as raised:
        _copy.prepare_copy(src, dst)
    assert raised.value.path == dst.path
    assert isinstance(raised.value, ValueError) and isinstance(raised.value, DockerError)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "f").write_text("x")
    (tmp_path / "link").symlink_to("d")
    (tmp_path / "loop").symlink_to("loop")
    return tmp_path


@pytest.mark.parametrize(
    ("given", "follow", "path", "is_dir", "rebase"),
    [
        ("link", False, "link", False, ""),  # the symlink itself
        ("link", True, "d", True, "link"),  # -L: its target, named as the link
        ("link/", False, "d/", True, "link"),  # a trailing / follows it too
        ("link/.", False, "d/.", True, ""),  # the parent is resolved
        ("d/f", False, "d/f", False, ""),
    ],
)
def test_host_source(
    tree: Path, given: str, follow: bool, path: str, is_dir: bool, rebase: str
) -> None:
    real = os.path.realpath(tree)
    info = _copy.host_source(f"{real}/{given}", follow)
    assert info == CopyInfo(f"{real}/{path}", True, is_dir, rebase)


def test_host_source_missing_names_the_path(tree: Path) -> None:
    with pytest.raises(DockerCopyError, match="missing") as raised:
        _copy.host_source(f"{tree}/missing", False)
    assert raised.value.path == f"{tree}/missing"


def test_host_destination(tree: Path) -> None:
    assert _copy.host_destination(f"{tree}/link") == CopyInfo(f"{tree}/d", True, True)
    assert _copy.host_destination(f"{tree}/d/new") == CopyInfo(f"{tree}/d/new")
    with pytest.raises(DockerCopyError, match="too many symlinks"):
        _copy.host_destination(f"{tree}/loop")
    with pytest.raises(DockerCopyError, match="no/such"):
        _copy.host_destination(f"{tree}/no/such/x")
    with pytest.raises(DockerCopyError, match="(?i)not a directory"):
        _copy.host_destination(f"{tree}/d/f/x")
    with pytest.raises(DockerCopyError, match="does not exist"):
        _copy.validate_output_path(f"{tree}/no/such/x")


def tar_bytes(*entries: tuple[str, bytes | str | None]) -> io.BytesIO:
    """A tar of files (bytes), symlinks (str) and directories (None)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, what in entries:
            info = tarfile.TarInfo(name)
            if what is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif isinstance(what, str):
                info.type, info.linkname = tarfile.SYMTYPE, what
                tar.addfile(info)
            else:
                info.size = len(what)
                tar.addfile(info, io.BytesIO(what))
    buffer.seek(0)
    return buffer


def test_untar_renames_and_refuses_what_the_cli_refuses(tmp_path: Path) -> None:
    _copy.untar(tar_bytes(("d", None), ("d/a", b"a"), ("d/l", "a")), str(tmp_path), [("d", "n")])
    assert (tmp_path / "n" / "a").read_bytes() == b"a"
    assert os.readlink(tmp_path / "n" / "l") == "a"
    cases = [
        (tar_bytes(("../x", b"x")), "outside"),
        (tar_bytes(("bad", "../../etc")), "invalid symlink"),
        (tar_bytes(("n", b"file")), "cannot overwrite directory"),
        (tar_bytes(("n/a", None)), "cannot overwrite non-directory"),
        (io.BytesIO(b"not a tar" * 100), "not a valid tar"),
    ]
    for reader, message in cases:
        with pytest.raises(DockerError, match=message):
            _copy.untar(reader, str(tmp_path), [])
    assert not (tmp_path.parent / "x").exists()


async def test_host_tar_names_the_top_entry_and_links_hard_links(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a").write_bytes(b"a" * 700)
    os.link(tmp_path / "d" / "a", tmp_path / "d" / "b")
    data = b"".join([chunk async for chunk in _copy.host_tar(str(tmp_path / "d"), "new")])
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        members = {m.name: m for m in tar.getmembers()}
        assert list(members) == ["new", "new/a", "new/b"]
        assert members["new/b"].islnk() and members["new/b"].linkname == "new/a"
        assert tar.extractfile("new/a").read() == b"a" * 700  # type: ignore[union-attr]


class ChunkStream:
    """An async iterator of ``data`` in ``size``-byte chunks, optionally stalling after some."""

    def __init__(self, data: bytes, size: int, stall_after: int | None = None) -> None:
        self.chunks = [data[i : i + size] for i in range(0, len(data), size)]
        self.stall_after = stall_after
        self.served = 0

    def __aiter__(self) -> ChunkStream:
        return self

    async def __anext__(self) -> bytes:
        if self.stall_after is not None and self.served >= self.stall_after:
            await asyncio.Event().wait()  # never set: the copy hangs here until cancelled
        if self.served == len(self.chunks):
            raise StopAsyncIteration
        self.served += 1
        return self.chunks[self.served - 1]


async def test_extract_pulls_odd_chunks_and_ends_at_once_when_cancelled(tmp_path: Path) -> None:
    data = tar_bytes(("d", None), ("d/a", b"x" * 5000), ("d/b", b"y")).getvalue()
    stream: Any = ChunkStream(data, 333)
    await _copy._extract(stream, str(tmp_path), [])
    assert (tmp_path / "d" / "a").read_bytes() == b"x" * 5000
    stalled: Any = ChunkStream(data, 333, stall_after=3)
    task = asyncio.ensure_future(_copy._extract(stalled, str(tmp_path / "d"), []))
    while stalled.served < 3:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 5)
