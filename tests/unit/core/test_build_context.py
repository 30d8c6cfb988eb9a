"""The build context tar: which files go in, how they are encoded, and that it streams."""

from __future__ import annotations

import asyncio
import io
import os
import socket
import stat
import tarfile
import tracemalloc
from pathlib import Path

import pytest

from aiodocker._core.build_context import (
    iter_context_files,
    prepare_context,
    stream_context,
)


def make_tree(root: Path, files: dict[str, str]) -> Path:
    for relpath, content in files.items():
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        if relpath.endswith("/"):
            path.mkdir(exist_ok=True)
        else:
            path.write_text(content)
    return root


async def collect(root: Path, **kwargs: object) -> bytes:
    return b"".join([chunk async for chunk in stream_context(str(root), **kwargs)])  # type: ignore[arg-type]


def open_tar(data: bytes) -> tarfile.TarFile:
    return tarfile.open(fileobj=io.BytesIO(data), mode="r:")


@pytest.fixture
def context(tmp_path: Path) -> Path:
    root = tmp_path / "ctx"
    make_tree(
        root,
        {
            "Dockerfile": "FROM scratch\n",
            "app.py": "print('hi')\n",
            "docs/README.md": "readme",
            "docs/notes.md": "notes",
            "build/out.bin": "x" * 1000,
            "build/keep/me.txt": "keep",
            "node_modules/a/index.js": "js",
            "empty/": "",
            ".dockerignore": "# build output\nbuild\n!build/keep\n**/node_modules\n**/*.md\n!docs/README.md\n",
        },
    )
    (root / "app.py").chmod(0o755)
    (root / "link-to-app").symlink_to("app.py")
    (root / "dangling").symlink_to("does/not/exist")
    (root / "link-to-docs").symlink_to("docs")
    return root


def test_context_files_apply_dockerignore_with_exceptions(context: Path) -> None:
    assert iter_context_files(str(context)) == [
        ".dockerignore",
        "Dockerfile",
        "app.py",
        "build/keep",
        "build/keep/me.txt",
        "dangling",
        "docs",
        "docs/README.md",
        "empty",
        "link-to-app",
        "link-to-docs",
    ]


def test_dockerfile_and_dockerignore_are_sent_even_when_ignored(tmp_path: Path) -> None:
    root = make_tree(
        tmp_path,
        {
            "Dockerfile": "FROM scratch\n",
            "docker/Dockerfile.prod": "FROM scratch\n",
            "docker/other": "",
            "src/a": "",
            ".dockerignore": "*\n!src\n",
        },
    )
    assert iter_context_files(str(root)) == [".dockerignore", "Dockerfile", "src", "src/a"]
    assert iter_context_files(str(root), "docker/Dockerfile.prod") == [
        ".dockerignore",
        "docker/Dockerfile.prod",
        "src",
        "src/a",
    ]


def test_exception_with_wildcard_does_not_rescue_files_under_excluded_directory(
    tmp_path: Path,
) -> None:
    root = make_tree(
        tmp_path,
        {
            "Dockerfile": "",
            "vendor/LICENSE": "",
            "vendor/code.c": "",
            "LICENSE": "",
            ".dockerignore": "vendor\nLICENSE\n!**/LICENSE\n",
        },
    )
    assert iter_context_files(str(root)) == [".dockerignore", "Dockerfile", "LICENSE"]


def test_lowercase_dockerfile_is_found_for_the_default_name(tmp_path: Path) -> None:
    make_tree(tmp_path, {"dockerfile": "FROM scratch\n"})
    assert prepare_context(str(tmp_path)).dockerfile == "dockerfile"


def test_dockerfile_symlink_resolves_to_its_target_inside_the_context(tmp_path: Path) -> None:
    make_tree(tmp_path, {"build/Dockerfile.real": "FROM scratch\n"})
    (tmp_path / "Dockerfile").symlink_to("build/Dockerfile.real")
    assert prepare_context(str(tmp_path)).dockerfile == "build/Dockerfile.real"


def test_missing_root_raises_value_error_naming_it(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope")
    with pytest.raises(ValueError, match="nope"):
        iter_context_files(missing)
    with pytest.raises(ValueError, match="nope"):
        stream_context(missing)


def test_root_that_is_a_file_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="not a directory"):
        iter_context_files(str(tmp_path / "file"))


def test_missing_dockerfile_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot locate Dockerfile 'Dockerfile'"):
        iter_context_files(str(tmp_path))


def test_dockerfile_outside_the_context_is_rejected(tmp_path: Path) -> None:
    make_tree(tmp_path, {"Dockerfile": "", "ctx/a": ""})
    with pytest.raises(ValueError, match="outside the build context"):
        iter_context_files(str(tmp_path / "ctx"), "../Dockerfile")
    with pytest.raises(ValueError, match="outside the build context"):
        iter_context_files(str(tmp_path / "ctx"), str(tmp_path / "Dockerfile"))
    (tmp_path / "ctx" / "Dockerfile").symlink_to(tmp_path / "Dockerfile")
    with pytest.raises(ValueError, match="outside the build context"):
        iter_context_files(str(tmp_path / "ctx"))


def test_malformed_dockerignore_is_rejected_naming_the_context(tmp_path: Path) -> None:
    make_tree(tmp_path, {"Dockerfile": "", ".dockerignore": "[\n"})
    with pytest.raises(ValueError, match=r"\.dockerignore"):
        iter_context_files(str(tmp_path))


async def test_tar_stream_holds_members_modes_and_symlinks(context: Path) -> None:
    (context / "empty").chmod(0o2750)
    tar = open_tar(await collect(context, chunk_size=100))
    members = {m.name: m for m in tar.getmembers()}
    assert sorted(members) == iter_context_files(str(context))
    assert [m.name for m in tar.getmembers()][:4] == [
        ".dockerignore",
        "Dockerfile",
        "app.py",
        "build/keep",
    ]
    assert members["app.py"].isfile() and members["app.py"].mode == 0o755
    assert members["Dockerfile"].mode == stat.S_IMODE(os.lstat(context / "Dockerfile").st_mode)
    assert members["empty"].isdir() and members["empty"].mode == 0o2750
    assert members["link-to-app"].issym() and members["link-to-app"].linkname == "app.py"
    assert members["dangling"].linkname == "does/not/exist"
    assert members["link-to-docs"].issym()
    assert "link-to-docs/README.md" not in members  # symlinks are not followed
    extracted = tar.extractfile("build/keep/me.txt")
    assert extracted is not None and extracted.read() == b"keep"
    for member in members.values():
        assert (member.uid, member.gid, member.uname, member.gname) == (0, 0, "", "")
        source = os.lstat(context / member.name)
        assert member.mtime == int(source.st_mtime)


async def test_hard_links_become_link_entries_to_the_first_name(tmp_path: Path) -> None:
    make_tree(tmp_path, {"Dockerfile": "", "a/data": "payload"})
    os.link(tmp_path / "a" / "data", tmp_path / "b-data")
    tar = open_tar(await collect(tmp_path))
    first, second = tar.getmember("a/data"), tar.getmember("b-data")
    assert first.isfile() and first.size == len("payload")
    assert second.islnk() and second.linkname == "a/data" and second.size == 0


async def test_fifos_are_sent_and_sockets_skipped(tmp_path: Path) -> None:
    make_tree(tmp_path, {"Dockerfile": ""})
    os.mkfifo(tmp_path / "pipe")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(tmp_path / "sock"))
    try:
        tar = open_tar(await collect(tmp_path))
    finally:
        server.close()
    assert tar.getmember("pipe").isfifo()
    assert "sock" not in tar.getnames()
    assert "sock" not in iter_context_files(str(tmp_path))


async def test_long_and_non_ascii_names_survive(tmp_path: Path) -> None:
    long_name = "d" * 120 + "/" + "f" * 150
    make_tree(tmp_path, {"Dockerfile": "", long_name: "long", "häßlich ✓.txt": "utf8"})
    tar = open_tar(await collect(tmp_path))
    assert long_name in tar.getnames()
    assert "häßlich ✓.txt" in tar.getnames()


async def test_chunks_are_bounded_by_chunk_size(context: Path) -> None:
    sizes = [len(chunk) async for chunk in stream_context(str(context), chunk_size=4096)]
    assert all(size <= 4096 + 2 * 512 for size in sizes)
    assert sum(sizes) % 512 == 0


async def test_context_is_validated_when_stream_is_created(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="chunk_size"):
        stream_context(str(tmp_path), chunk_size=0)


async def test_closing_the_stream_early_closes_the_open_file(tmp_path: Path) -> None:
    make_tree(tmp_path, {"Dockerfile": ""})
    big = tmp_path / "big"
    with open(big, "wb") as handle:
        handle.truncate(10 * 1024 * 1024)
    stream = stream_context(str(tmp_path), chunk_size=64 * 1024)
    async for _ in stream:
        break
    assert _open_fds_to(big) == 1  # mid-way through the big file
    await stream.aclose()  # type: ignore[attr-defined]
    assert _open_fds_to(big) == 0


def _open_fds_to(path: Path) -> int:
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}") == str(path):
                count += 1
        except OSError:
            pass
    return count


async def test_cancelling_the_consumer_releases_the_file(tmp_path: Path) -> None:
    make_tree(tmp_path, {"Dockerfile": ""})
    big = tmp_path / "big"
    with open(big, "wb") as handle:
        handle.truncate(50 * 1024 * 1024)

    async def consume() -> None:
        async for _ in stream_context(str(tmp_path), chunk_size=1024):
            await asyncio.sleep(0)

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    for _ in range(100):  # a read may still be finishing in its worker thread
        if _open_fds_to(big) == 0:
            break
        await asyncio.sleep(0.01)
    assert _open_fds_to(big) == 0


async def test_file_shrinking_while_streamed_raises_naming_it(tmp_path: Path) -> None:
    make_tree(tmp_path, {"Dockerfile": "", "data": "x" * 100_000})
    stream = stream_context(str(tmp_path), chunk_size=4096)
    with pytest.raises(OSError, match="'data' shrank"):
        async for _ in stream:
            os.truncate(tmp_path / "data", 10)


async def test_unreadable_file_raises_permission_error(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads files regardless of their mode")
    make_tree(tmp_path, {"Dockerfile": "", "secret": "x"})
    (tmp_path / "secret").chmod(0)
    with pytest.raises(PermissionError):
        await collect(tmp_path)


async def test_streaming_a_200mb_file_keeps_memory_small(tmp_path: Path) -> None:
    make_tree(tmp_path, {"Dockerfile": "FROM scratch\n"})
    size = 200 * 1024 * 1024
    with open(tmp_path / "sparse.bin", "wb") as handle:
        handle.truncate(size)
    total = 0
    tracemalloc.start()
    try:
        async for chunk in stream_context(str(tmp_path)):
            total += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total > size
    assert peak < 4 * 1024 * 1024, f"peak {peak} bytes"


async def test_stream_matches_iter_context_files_with_real_mode_bits(tmp_path: Path) -> None:
    make_tree(tmp_path, {"Dockerfile": "", "bin/tool": "#!/bin/sh\n"})
    (tmp_path / "bin" / "tool").chmod(0o4755)
    tar = open_tar(await collect(tmp_path))
    assert stat.S_IMODE(tar.getmember("bin/tool").mode) == 0o4755
    assert sorted(tar.getnames()) == iter_context_files(str(tmp_path))
