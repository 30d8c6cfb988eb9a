"""Benchmark: image save, image load and build-context upload, client vs. raw socket.

Run it against a local daemon (a script, not a test)::

    python benchmarks/bench_images.py [--socket /var/run/docker.sock] [--size-mb 500]
        [--base aiodocker-test/busybox:latest] [--keep]

Set-up: an image of ``--size-mb`` MB (``FROM base`` + ``RUN dd`` from /dev/urandom),
its ``docker save`` tar on disk, and a context directory of ``--size-mb`` MB of
random files with a Dockerfile of just ``FROM base`` + ``LABEL`` (so the daemon
does little beyond receiving the context). Every case runs in a fresh
interpreter and reports MB moved, wall seconds, MB/s, client CPU seconds and
peak RSS growth (``VmHWM`` after the case minus ``VmRSS`` before it, the peak
being reset through ``/proc/self/clear_refs``). Everything created is removed
at the end unless ``--keep``.

Cases:
  save   GET /images/{name}/get, every byte read and dropped
  load   POST /images/load with the tar streamed from disk
  build  POST /build with the context directory streamed as a tar

The baseline is written here with the least work that moves the same bytes:
an asyncio unix socket, HTTP/1.1 by hand, chunked coding decoded by hand (save),
a Content-Length upload from the file (load), and ``tarfile`` in stream mode
writing chunked frames straight to a blocking socket (build).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Final

ROOT: Final = Path(__file__).resolve().parent.parent
RSS_LIMIT_MB: Final = 64
CHUNK: Final = 1024 * 1024
CONTEXT_FILE_MB: Final = 25
API: Final = "v1.41"

# --- measurement -------------------------------------------------------------------------


def _status_kb(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")
    except OSError:
        return False
    return True


def measure(run: Callable[[], Awaitable[int]]) -> dict[str, Any]:
    """Run one case in this process; return bytes moved, times and peak RSS growth."""
    reset = _reset_peak()
    rss_before = _status_kb("VmRSS")
    cpu_before = time.process_time()
    start = time.perf_counter()
    moved = asyncio.run(run())
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu_before
    peak = _status_kb("VmHWM")
    return {
        "bytes": moved,
        "wall": wall,
        "cpu": cpu,
        "rss_growth_mb": max(0, peak - rss_before) / 1024,
        "peak_reset": reset,
    }


# --- the raw-socket baseline --------------------------------------------------------------


async def _raw_head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name:
            headers[name.strip().lower()] = value.strip()
    return status, headers


async def _raw_drain_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> int:
    """Read a body (chunked or sized) and drop it; return its length."""
    total = 0
    if "chunked" in headers.get("transfer-encoding", ""):
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                return total
            remaining = size
            while remaining:
                data = await reader.read(min(remaining, CHUNK))
                if not data:
                    raise RuntimeError("body ended early")
                remaining -= len(data)
            total += size
            await reader.readexactly(2)
    length = int(headers.get("content-length", "0"))
    remaining = length
    while remaining:
        data = await reader.read(min(remaining, CHUNK))
        if not data:
            raise RuntimeError("body ended early")
        remaining -= len(data)
    return length


async def raw_save(sock_path: str, image: str) -> int:
    reader, writer = await asyncio.open_unix_connection(sock_path, limit=CHUNK)
    try:
        name = image.replace("/", "%2F").replace(":", "%3A")
        writer.write(f"GET /{API}/images/{name}/get HTTP/1.1\r\nHost: docker\r\n\r\n".encode())
        status, headers = await _raw_head(reader)
        if status != 200:
            raise RuntimeError(f"save failed with {status}")
        return await _raw_drain_body(reader, headers)
    finally:
        writer.close()


async def raw_load(sock_path: str, tar_path: str) -> int:
    size = os.path.getsize(tar_path)
    reader, writer = await asyncio.open_unix_connection(sock_path, limit=CHUNK)
    try:
        writer.write(
            (
                f"POST /{API}/images/load?quiet=1 HTTP/1.1\r\nHost: docker\r\n"
                f"Content-Type: application/x-tar\r\nContent-Length: {size}\r\n\r\n"
            ).encode()
        )
        with open(tar_path, "rb") as source:
            while chunk := source.read(CHUNK):
                writer.write(chunk)
                await writer.drain()
        status, headers = await _raw_head(reader)
        body_size = await _raw_drain_body(reader, headers)
        if status != 200 or body_size == 0:
            raise RuntimeError(f"load failed with {status}")
        return size
    finally:
        writer.close()


class _ChunkedSocketFile:
    """A write-only file that sends what it gets as HTTP chunks on a blocking socket."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.sent = 0

    def write(self, data: bytes) -> int:
        if data:
            self.sock.sendall(b"%x\r\n" % len(data))
            self.sock.sendall(data)
            self.sock.sendall(b"\r\n")
            self.sent += len(data)
        return len(data)


def _raw_build_blocking(sock_path: str, context: str, tag: str) -> int:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(sock_path)
    try:
        sock.sendall(
            (
                f"POST /{API}/build?t={tag}&rm=1 HTTP/1.1\r\nHost: docker\r\n"
                "Content-Type: application/x-tar\r\nTransfer-Encoding: chunked\r\n"
                "Connection: close\r\n\r\n"
            ).encode()
        )
        out = _ChunkedSocketFile(sock)
        with tarfile.open(fileobj=out, mode="w|", bufsize=CHUNK) as tar:  # type: ignore[call-overload]
            for name in sorted(os.listdir(context)):
                tar.add(os.path.join(context, name), arcname=name)
        sock.sendall(b"0\r\n\r\n")
        response = bytearray()
        while data := sock.recv(CHUNK):
            response += data
        if b" 200 " not in response[:20] or b"Successfully built" not in response:
            raise RuntimeError(f"build failed: {bytes(response[-300:])!r}")
        return out.sent
    finally:
        sock.close()


async def raw_build(sock_path: str, context: str, tag: str) -> int:
    return await asyncio.to_thread(_raw_build_blocking, sock_path, context, tag)


# --- this client ---------------------------------------------------------------------------


def _client(sock_path: str) -> Any:
    from aiodocker import Docker

    return Docker(url=f"unix://{sock_path}")


async def client_save(sock_path: str, image: str) -> int:
    async with _client(sock_path) as docker:
        total = 0
        async for chunk in docker.images.save(image):
            total += len(chunk)
        return total


async def client_load(sock_path: str, tar_path: str) -> int:
    async with _client(sock_path) as docker:
        result = await docker.images.load(Path(tar_path))
        if not any("Loaded image" in str(item.get("stream", "")) for item in result):
            raise RuntimeError(f"load failed: {result!r}")
        return os.path.getsize(tar_path)


async def client_build(sock_path: str, context: str, tag: str) -> int:
    async with _client(sock_path) as docker:
        await docker.images.build(path=context, tag=tag)
        return sum(os.path.getsize(os.path.join(context, name)) for name in os.listdir(context))


CASES: Final[dict[str, Callable[..., Awaitable[int]]]] = {
    "save/raw socket": raw_save,
    "save/client save()": client_save,
    "load/raw socket": raw_load,
    "load/client load()": client_load,
    "build/raw socket": raw_build,
    "build/client build(path=)": client_build,
}


# --- driver --------------------------------------------------------------------------------


def run_case(case: str, args: list[str]) -> dict[str, Any]:
    """Run one case in a fresh interpreter, so its peak RSS is its own."""
    completed = subprocess.run(
        [sys.executable, __file__, "--worker", case, *args],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"case {case!r} failed:\n{completed.stderr}")
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def docker_cli(sock_path: str, *args: str) -> str:
    completed = subprocess.run(
        ["docker", "-H", f"unix://{sock_path}", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args)} failed: {completed.stderr.strip()}")
    return completed.stdout


def make_big_image(sock_path: str, base: str, tag: str, size_mb: int, workdir: Path) -> None:
    build_dir = workdir / "big-image"
    build_dir.mkdir()
    (build_dir / "Dockerfile").write_text(
        f"FROM {base}\nRUN dd if=/dev/urandom of=/big bs=1M count={size_mb}\n"
    )
    env = {**os.environ, "DOCKER_BUILDKIT": "0"}
    completed = subprocess.run(
        ["docker", "-H", f"unix://{sock_path}", "build", "-q", "-t", tag, str(build_dir)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"building the big image failed: {completed.stderr.strip()}")


def make_context(base: str, size_mb: int, directory: Path) -> None:
    directory.mkdir()
    (directory / "Dockerfile").write_text(f"FROM {base}\nLABEL aiodocker.bench=context\n")
    remaining = size_mb
    index = 0
    while remaining > 0:
        this = min(CONTEXT_FILE_MB, remaining)
        with open(directory / f"data-{index:03d}.bin", "wb") as out:
            for _ in range(this):
                out.write(os.urandom(1024 * 1024))
        remaining -= this
        index += 1


def worker(case: str, args: list[str]) -> None:
    function = CASES[case]
    if "client" in case:
        sys.path.insert(0, str(ROOT))  # this repository's client, not whichever is installed
        import aiodocker.images  # noqa: F401  (import time is not part of the case)
    result = measure(lambda: function(*args))
    print(json.dumps(result))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--socket", default="/var/run/docker.sock")
    parser.add_argument("--size-mb", type=int, default=500)
    parser.add_argument("--base", default="aiodocker-test/busybox:latest")
    parser.add_argument("--keep", action="store_true", help="keep the images and files")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.worker:
        worker(options.worker[0], options.worker[1:])
        return 0

    sock = options.socket
    suffix = uuid.uuid4().hex[:8]
    big = f"aiodocker-test-bench-big-{suffix}:latest"
    built = [f"aiodocker-test-bench-ctx-{suffix}:{impl}" for impl in ("raw", "client")]
    workdir = Path(tempfile.mkdtemp(prefix="aiodocker-bench-"))
    rows: list[tuple[str, dict[str, Any]]] = []
    try:
        print(f"setting up: {options.size_mb} MB image and context in {workdir} ...", flush=True)
        make_big_image(sock, options.base, big, options.size_mb, workdir)
        tar_path = workdir / "big.tar"
        docker_cli(sock, "save", "-o", str(tar_path), big)
        context = workdir / "context"
        make_context(options.base, options.size_mb, context)

        for case in CASES:
            kind = case.split("/")[0]
            if kind == "save":
                args = [sock, big]
            elif kind == "load":
                args = [sock, str(tar_path)]
            else:
                args = [sock, str(context), built[0] if "raw" in case else built[1]]
            rows.append((case, run_case(case, args)))
            print(f"  {case}: done", flush=True)
    finally:
        if not options.keep:
            for ref in [big, *built]:
                subprocess.run(
                    ["docker", "-H", f"unix://{sock}", "image", "rm", "-f", ref],
                    capture_output=True,
                    check=False,
                )
            shutil.rmtree(workdir, ignore_errors=True)

    print()
    header = f"{'case':28} {'MB':>8} {'seconds':>8} {'MB/s':>8} {'CPU s':>7} {'peak RSS +MB':>12}"
    print(header)
    print("-" * len(header))
    for case, r in rows:
        mb = r["bytes"] / 1e6
        print(
            f"{case:28} {mb:8.1f} {r['wall']:8.2f} {mb / r['wall']:8.1f} "
            f"{r['cpu']:7.2f} {r['rss_growth_mb']:12.1f}"
        )
    if not all(r["peak_reset"] for _case, r in rows):
        print("(peak RSS could not be reset: growth is measured from process start)")
    client_rows = [(case, r) for case, r in rows if "client" in case]
    worst = max(r["rss_growth_mb"] for _case, r in client_rows)
    verdict = "OK" if worst < RSS_LIMIT_MB else "TOO HIGH"
    print(f"\nclient peak RSS growth at most {worst:.1f} MB (limit {RSS_LIMIT_MB} MB): {verdict}")
    return 0 if worst < RSS_LIMIT_MB else 1


if __name__ == "__main__":
    sys.exit(main())
