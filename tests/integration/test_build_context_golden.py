"""Golden tests: our build context equals what the docker CLI's classic builder sends.

Two witnesses:

* the tar the CLI itself sends, captured by pointing ``DOCKER_BUILDKIT=0 docker
  build`` at a fake daemon socket that records the body of ``POST /build``
  (needs only the docker CLI binary): member order, types, modes, sizes, link
  targets, mtimes, owners and contents must all be equal;
* the real daemon of the test environment: ``COPY . /ctx`` then ``find`` in
  the image lists exactly our files (plus the parent directories that
  extracting re-included children creates).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import shutil
import socket
import tarfile
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

from testenv import require, unavailable

from aiodocker._core.build_context import iter_context_files, stream_context

CLI_TIMEOUT = 120.0
LIST_BEGIN = "<<<CONTEXT-LIST"
LIST_END = "CONTEXT-LIST>>>"

# Comments, exceptions, ** in every position, leading "/" and "./", a trailing
# "/", ?, classes, escapes, an excluded directory with a re-included child,
# a wildcard exception that cannot rescue files under an excluded directory,
# and a directory exception that the CLI's walk evaluates with parent results.
RICH_DOCKERIGNORE = """\
# comment line
  # indented: a pattern, not a comment (matches nothing here)

*.md
!README*.md
**/guide.md
**/__pycache__
**/*.pyc
/build
!build/keep
build/keep/sub
**/node_modules
**.log
!logs/2024
**/secret.env
temp?
vendor
!**/LICENSE
file\\[1\\].txt
./config/
!config/app.env
weird+name(?).txt
"""

RICH_FILES = {
    "README.md": "readme",
    "README-dev.md": "dev",
    "CHANGES.md": "changes",
    "docs/README.md": "docs readme",
    "docs/guide.md": "guide",
    "docs/deep/guide.md": "deep guide",
    "docs/deep/other.md": "other",
    "src/main.py": "print('main')\n",
    "src/util/helper.py": "",
    "src/util/__pycache__/helper.cpython-311.pyc": "pyc",
    "src/stray.pyc": "pyc",
    "build/out.o": "obj",
    "build/keep/artifact": "artifact",
    "build/keep/sub/x": "x",
    "build/tmp/y": "y",
    "node_modules/pkg/index.js": "js",
    "web/node_modules/pkg/index.js": "js",
    "web/app.js": "app",
    "app.log": "log",
    "server.logx": "not a log",
    "logs/app.log": "log",
    "logs/2024/app.log": "log",
    "logs/2024/summary.txt": "summary",
    "secret.env": "top secret",
    "config/secret.env": "secret",
    "config/app.env": "app env",
    "config/other.conf": "other",
    "temp1": "",
    "tempab": "",
    "temp/inner": "",
    "vendor/LICENSE": "license",
    "vendor/lib.c": "c",
    "LICENSE": "license",
    "file[1].txt": "brackets",
    "file1.txt": "plain",
    "weird+name(1).txt": "weird",
    "with space.txt": "space",
    "ünïcödé.txt": "unicode",
    "empty/": "",
    "deep/a/b/c/d/e.txt": "deep",
}


def make_rich_context(root: Path, dockerfile: str) -> Path:
    """Create the shared test tree with ``dockerfile`` as its Dockerfile."""
    for relpath, content in RICH_FILES.items():
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        if relpath.endswith("/"):
            path.mkdir(exist_ok=True)
        else:
            path.write_text(content)
    (root / "Dockerfile").write_text(dockerfile)
    (root / ".dockerignore").write_text(RICH_DOCKERIGNORE)
    (root / "src" / "main.py").chmod(0o755)
    (root / "empty").chmod(0o2775)
    (root / "link-to-src").symlink_to("src")
    (root / "dangling").symlink_to("no/such/target")
    (root / "abs-link").symlink_to("/etc/hostname")
    os.link(root / "src" / "util" / "helper.py", root / "hardlink-to-helper.py")
    return root


# --- the CLI's own tar, captured with a fake daemon -----------------------------------------


def docker_cli() -> str:
    path = shutil.which("docker")
    if path is None:
        unavailable("docker-cli", "the docker CLI binary is not on PATH")
    return path


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = bytearray()
        while True:
            size = int((await reader.readline()).split(b";")[0].strip(), 16)
            if size == 0:
                while (await reader.readline()) not in (b"\r\n", b""):
                    pass
                return bytes(body)
            body += await reader.readexactly(size)
            await reader.readline()
    return await reader.readexactly(int(headers.get("content-length", "0")))


@asynccontextmanager
async def fake_daemon(socket_path: str, captured: list[bytes]) -> AsyncIterator[None]:
    """Serve /_ping and record the body of every POST .../build."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request_line = await reader.readline()
                if not request_line:
                    return
                method, target, _ = request_line.decode("latin-1").split(" ", 2)
                headers: dict[str, str] = {}
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await _read_body(reader, headers)
                if target.split("?")[0].endswith("/build"):
                    captured.append(body)
                    payload = b'{"stream":"captured\\n"}\r\n{"aux":{"ID":"sha256:' + b"0" * 64
                    payload += b'"}}\r\n'
                else:
                    payload = b"OK"
                head = (
                    "HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nOstype: linux\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
                )
                writer.write(head.encode() + (b"" if method == "HEAD" else payload))
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()

    server = await asyncio.start_unix_server(handle, socket_path)
    try:
        yield
    finally:
        server.close()
        await server.wait_closed()


async def capture_cli_context(tmp_path: Path, context: Path, *cli_args: str) -> bytes:
    """Return the tar that ``DOCKER_BUILDKIT=0 docker build`` sends for ``context``."""
    cli = docker_cli()
    socket_path = str(tmp_path / "fake-daemon.sock")
    config_dir = tmp_path / "docker-config"
    config_dir.mkdir(exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "DOCKER_CONFIG": str(config_dir),
        "DOCKER_HOST": f"unix://{socket_path}",
        "DOCKER_BUILDKIT": "0",
    }
    captured: list[bytes] = []
    async with fake_daemon(socket_path, captured):
        process = await asyncio.create_subprocess_exec(
            cli,
            "build",
            *cli_args,
            str(context),
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await asyncio.wait_for(process.communicate(), CLI_TIMEOUT)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    assert process.returncode == 0, (out + err).decode(errors="replace")
    assert len(captured) == 1, "the CLI did not POST /build exactly once"
    return captured[0]


def describe_tar(data: bytes) -> list[tuple[Any, ...]]:
    """Every member with the attributes the daemon uses, in archive order."""
    described = []
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        for member in tar:
            digest = None
            if member.isfile():
                extracted = tar.extractfile(member)
                assert extracted is not None
                digest = hashlib.sha256(extracted.read()).hexdigest()
            described.append(
                (
                    member.name,
                    member.type,
                    member.mode,
                    member.size,
                    member.linkname,
                    member.mtime,
                    member.uid,
                    member.gid,
                    member.uname,
                    member.gname,
                    member.devmajor if member.ischr() or member.isblk() else 0,
                    digest,
                )
            )
    return described


async def our_context(context: Path, dockerfile: str = "Dockerfile") -> bytes:
    chunks = [chunk async for chunk in stream_context(str(context), dockerfile=dockerfile)]
    return b"".join(chunks)


@contextmanager
def bound_socket(path: Path) -> Iterator[None]:
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    try:
        yield
    finally:
        server.close()


async def test_rich_context_equals_the_tar_the_cli_sends(tmp_path: Path) -> None:
    context = make_rich_context(tmp_path / "ctx", "FROM scratch\n")
    os.mkfifo(context / "fifo")
    with bound_socket(context / "socket"):
        cli_tar = await capture_cli_context(tmp_path, context)
        ours = await our_context(context)
    assert describe_tar(ours) == describe_tar(cli_tar)
    assert iter_context_files(str(context)) == sorted(m[0] for m in describe_tar(cli_tar))


IGNORED_BUILD_FILES = """\
*
!src
"""


async def test_ignored_dockerfile_and_dockerignore_are_sent_like_the_cli(tmp_path: Path) -> None:
    context = make_rich_context(tmp_path / "ctx", "FROM scratch\n")
    (context / ".dockerignore").write_text(IGNORED_BUILD_FILES)
    cli_tar = await capture_cli_context(tmp_path, context)
    assert describe_tar(await our_context(context)) == describe_tar(cli_tar)
    names = [m[0] for m in describe_tar(cli_tar)]
    assert "Dockerfile" in names and ".dockerignore" in names


async def test_dockerfile_in_an_excluded_directory_is_sent_like_the_cli(tmp_path: Path) -> None:
    context = make_rich_context(tmp_path / "ctx", "FROM scratch\n")
    (context / "docker").mkdir()
    (context / "docker" / "Dockerfile.prod").write_text("FROM scratch\n")
    (context / "docker" / "other").write_text("")
    (context / ".dockerignore").write_text("docker\n.dockerignore\n*.md\n")
    dockerfile = str(context / "docker" / "Dockerfile.prod")
    cli_tar = await capture_cli_context(tmp_path, context, "-f", dockerfile)
    ours = await our_context(context, "docker/Dockerfile.prod")
    assert describe_tar(ours) == describe_tar(cli_tar)


async def test_parent_result_quirks_match_the_cli_walk(tmp_path: Path) -> None:
    context = tmp_path / "ctx"
    for relpath in ["a/b/c", "a/b/d/e", "a/x", "p/q/r.log", "p/q/s.txt", "Dockerfile"]:
        (context / relpath).parent.mkdir(parents=True, exist_ok=True)
        (context / relpath).write_text(relpath)
    (context / ".dockerignore").write_text("a\n!a/b\na\n**.log\n!p/q\n")
    cli_tar = await capture_cli_context(tmp_path, context)
    assert describe_tar(await our_context(context)) == describe_tar(cli_tar)


# --- what the real daemon copies -------------------------------------------------------------


async def run_cli(host: str, *args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        docker_cli(),
        "-H",
        host,
        *args,
        env={**os.environ, "DOCKER_BUILDKIT": "0"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        out, _ = await asyncio.wait_for(process.communicate(), CLI_TIMEOUT)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return process.returncode, out.decode("utf-8", "surrogateescape")


def with_parents(paths: list[str]) -> set[str]:
    result = set(paths)
    for path in paths:
        parts = path.split("/")
        result.update("/".join(parts[:i]) for i in range(1, len(parts)))
    return result


async def test_daemon_copies_exactly_our_context_files(
    tmp_path: Path, image: str, make_name: Callable[..., str]
) -> None:
    socket_path = require("daemon")
    host = f"unix://{socket_path}"
    dockerfile = (
        f"FROM {image}\n"
        "COPY . /ctx\n"
        f'RUN echo "{LIST_BEGIN}" && cd /ctx && find . && echo "{LIST_END}"\n'
    )
    context = make_rich_context(tmp_path / "ctx", dockerfile)
    tag = make_name("golden-ctx")
    try:
        status, output = await run_cli(host, "build", "--rm", "--force-rm", "-t", tag, str(context))
        assert status == 0, output
    finally:
        await run_cli(host, "image", "rm", "-f", tag)
    listing = output.split(LIST_BEGIN + "\n", 1)[1].split(LIST_END, 1)[0]
    copied = {line[2:] for line in listing.splitlines() if line.startswith("./")}
    assert copied == with_parents(iter_context_files(str(context)))
