"""Benchmark: reading container logs and streaming an archive, client vs. raw socket.

Run it against a local daemon (not a test)::

    python benchmarks/bench_logs_archive.py [--socket /var/run/docker.sock]
        [--log-mb 200] [--archive-mb 500] [--repeat 1] [--with-compat]

It creates two containers (busybox): one that writes ``--log-mb`` MB of base64
text to stdout, one holding a ``--archive-mb`` MB file. Then every case runs in
its own subprocess, so peak memory does not mix between cases, and prints a
table: MB read, wall seconds, MB/s, client CPU seconds (``time.process_time``)
and peak RSS growth (``VmHWM`` after the case minus ``VmRSS`` before it, with the
peak reset through ``/proc/self/clear_refs`` where the kernel allows it).

The baseline is a minimal client written here: a plain asyncio unix socket,
HTTP/1.1 written by hand, chunked transfer coding and (for logs) the 8-byte
stdout/stderr frame headers decoded by hand. It does the least work that still
yields the same data.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Final

ROOT: Final = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import aiodocker  # noqa: E402
import aiodocker.containers  # noqa: E402, F401  (loaded on first use; import time is not part of a case)

IMAGE: Final = "aiodocker-test/busybox:latest"
API: Final = "v1.41"
MB: Final = 1024 * 1024
READ_SIZE: Final = 256 * 1024
ARCHIVE_RSS_LIMIT_MB: Final = 64


# --- memory and CPU accounting ------------------------------------------------------------


def _status_kb(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


# --- the raw-socket baseline ----------------------------------------------------------------


async def raw_get(socket_path: str, target: str, on_data: Callable[[bytes], object]) -> None:
    """GET ``target`` over a fresh unix connection; feed the decoded body to ``on_data``."""
    reader, writer = await asyncio.open_unix_connection(socket_path, limit=READ_SIZE * 4)
    try:
        writer.write(f"GET {target} HTTP/1.1\r\nHost: docker\r\n\r\n".encode("ascii"))
        head = await reader.readuntil(b"\r\n\r\n")
        status_line, _, header_block = head.partition(b"\r\n")
        if status_line.split()[1] != b"200":
            raise RuntimeError(f"baseline GET {target}: {status_line.decode()}")
        headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (
                line.partition(b":") for line in header_block.split(b"\r\n") if line
            )
        }
        if b"chunked" in headers.get(b"transfer-encoding", b""):
            await _read_chunked(reader, on_data)
        elif b"content-length" in headers:
            size = int(headers[b"content-length"])
            while size:
                data = await reader.read(min(size, READ_SIZE))
                if not data:
                    raise RuntimeError("baseline: body ended early")
                on_data(data)
                size -= len(data)
        else:
            while data := await reader.read(READ_SIZE):
                on_data(data)
    finally:
        writer.close()
        await writer.wait_closed()


async def _read_chunked(reader: asyncio.StreamReader, on_data: Callable[[bytes], object]) -> None:
    """Decode chunked transfer coding from large reads; one ``on_data`` call per read."""
    buffer = b""
    remaining = 0  # payload bytes still due in the current chunk
    while True:
        data = await reader.read(READ_SIZE)
        if not data:
            raise RuntimeError("baseline: body ended inside the chunked coding")
        buffer = buffer + data if buffer else data
        pos = 0
        end = len(buffer)
        pieces = []
        while pos < end:
            if remaining:
                take = min(remaining, end - pos)
                pieces.append(buffer[pos : pos + take])
                pos += take
                remaining -= take
                continue
            line_end = buffer.find(b"\r\n", pos)
            if line_end < 0:
                break
            if line_end == pos:  # the CRLF that closes a chunk's data
                pos += 2
                continue
            size = int(buffer[pos:line_end].split(b";")[0], 16)
            pos = line_end + 2
            if size == 0:
                if pieces:
                    on_data(b"".join(pieces))
                return  # (trailers are not used by the daemon)
            remaining = size
        if pieces:
            on_data(b"".join(pieces))
        buffer = buffer[pos:]


class RawDemux:
    """The smallest stdout/stderr frame splitter: counts payload bytes per stream."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.counts = [0, 0, 0, 0]
        self.frames = 0

    def feed(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        pos = 0
        end = len(buffer)
        while end - pos >= 8:
            stream = buffer[pos]
            size = int.from_bytes(buffer[pos + 4 : pos + 8], "big")
            if end - pos - 8 < size:
                break
            payload = buffer[pos + 8 : pos + 8 + size]
            self.counts[stream] += len(payload)
            self.frames += 1
            pos += 8 + size
        del buffer[:pos]


# --- the cases ------------------------------------------------------------------------------


async def case_client_log_messages(socket_path: str, container_id: str) -> int:
    async with aiodocker.Docker(url=f"unix://{socket_path}") as docker:
        total = 0
        async for message in docker.containers.container(container_id).log_messages():
            total += len(message.data)
        return total


async def case_client_log_text(socket_path: str, container_id: str) -> int:
    async with aiodocker.Docker(url=f"unix://{socket_path}") as docker:
        total = 0
        container = docker.containers.container(container_id)
        async for text in container.log(stdout=True, stderr=True, follow=True):
            total += len(text)  # base64: one byte per character
        return total


async def case_raw_logs(socket_path: str, container_id: str) -> int:
    demux = RawDemux()
    target = f"/{API}/containers/{container_id}/logs?stdout=1&stderr=1"
    await raw_get(socket_path, target, demux.feed)
    if demux.buffer:
        raise RuntimeError("baseline: log stream ended inside a frame")
    return sum(demux.counts)


async def case_client_log_list(socket_path: str, container_id: str) -> int:
    async with aiodocker.Docker(url=f"unix://{socket_path}") as docker:
        container = docker.containers.container(container_id)
        lines = await container.log(stdout=True, stderr=True)  # 0.27's list: all of it held
        return sum(map(len, lines))


async def case_client_stream_archive(socket_path: str, container_id: str) -> int:
    async with aiodocker.Docker(url=f"unix://{socket_path}") as docker:
        total = 0
        async for chunk in docker.containers.container(container_id).stream_archive("/big"):
            total += len(chunk)
        return total


async def case_client_get_archive(socket_path: str, container_id: str) -> int:
    async with aiodocker.Docker(url=f"unix://{socket_path}") as docker:
        tar = await docker.containers.container(container_id).get_archive("/big")
        with tar:
            return sum(member.size for member in tar.getmembers())


async def case_raw_archive(socket_path: str, container_id: str) -> int:
    total = 0

    def count(data: bytes) -> None:
        nonlocal total
        total += len(data)

    await raw_get(socket_path, f"/{API}/containers/{container_id}/archive?path=/big", count)
    return total


async def case_raw_archive_file(socket_path: str, container_id: str) -> int:
    """The raw client's ``get_archive``: the body written to an unnamed temp file, read as a tar.

    The same end result as the client's: a tar the caller can read, with flat memory.
    Each decoded piece is written where it arrives, in the loop, as a minimal client would.
    """
    import tarfile
    import tempfile

    with tempfile.TemporaryFile() as file:
        target = f"/{API}/containers/{container_id}/archive?path=/big"
        await raw_get(socket_path, target, file.write)
        file.seek(0)
        with tarfile.open(mode="r", fileobj=file) as tar:
            return sum(member.size for member in tar.getmembers())


CASES: Final[dict[str, tuple[str, Callable[[str, str], Awaitable[int]]]]] = {
    "logs/client log_messages()": ("logs", case_client_log_messages),
    "logs/client log(follow=True) text": ("logs", case_client_log_text),
    "logs/raw socket baseline": ("logs", case_raw_logs),
    "logs/client log() (compat, a list)": ("logs", case_client_log_list),
    "archive/client stream_archive()": ("archive", case_client_stream_archive),
    "archive/raw socket baseline": ("archive", case_raw_archive),
    "archive/raw socket to a temp file": ("archive", case_raw_archive_file),
    "archive/client get_archive() (compat, spooled)": ("archive", case_client_get_archive),
}
COMPAT_ONLY: Final = frozenset(
    {
        "archive/client get_archive() (compat, spooled)",
        "archive/raw socket to a temp file",
        "logs/client log() (compat, a list)",
    }
)


def run_case_here(name: str, socket_path: str, container_id: str) -> dict[str, Any]:
    """Run one case in this process and return its measurements."""
    _, function = CASES[name]
    reset = _reset_peak()
    rss_before = _status_kb("VmRSS")
    cpu_before = time.process_time()
    wall_before = time.perf_counter()
    size = asyncio.run(function(socket_path, container_id))
    wall = time.perf_counter() - wall_before
    cpu = time.process_time() - cpu_before
    peak = _status_kb("VmHWM")
    return {
        "bytes": size,
        "wall": wall,
        "cpu": cpu,
        "rss_growth_mb": max(0, peak - rss_before) / 1024,
        "peak_reset": reset,
    }


def run_case(name: str, socket_path: str, container_id: str) -> dict[str, Any]:
    """Run one case in a fresh interpreter, so peak RSS is its own."""
    completed = subprocess.run(
        [sys.executable, __file__, "--socket", socket_path, "--case", name, container_id],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"case {name!r} failed:\n{completed.stderr}")
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


# --- set-up ---------------------------------------------------------------------------------


async def make_containers(socket_path: str, log_mb: int, archive_mb: int) -> tuple[str, str]:
    suffix = f"{os.getpid()}-{int(time.time())}"
    raw_bytes = log_mb * MB * 3 // 4  # base64 makes 4 characters of every 3 bytes
    logs_config = {
        "Image": IMAGE,
        "Cmd": ["sh", "-c", f"head -c {raw_bytes} /dev/urandom | base64"],
        # the "local" driver serves logs about 3x faster than json-file, so the
        # daemon is less of a bottleneck for both clients; one file, no rotation
        "HostConfig": {
            "LogConfig": {
                "Type": "local",
                "Config": {
                    "max-size": f"{2 * log_mb + 64}m",
                    "max-file": "1",
                    "compress": "false",
                },
            }
        },
    }
    archive_config = {
        "Image": IMAGE,
        "Cmd": [
            "sh",
            "-c",
            f"dd if=/dev/zero of=/big bs=1M count={archive_mb} 2>/dev/null; "
            "touch /done; sleep 3600",
        ],
    }
    created: list[str] = []
    async with aiodocker.Docker(url=f"unix://{socket_path}") as docker:
        try:
            containers = []
            for kind, config in (("logs", logs_config), ("archive", archive_config)):
                container = await docker.containers.create(
                    config, name=f"aiodocker-bench-{kind}-{suffix}"
                )
                created.append(container.id)
                await container.start()
                containers.append(container)
            logs, archive = containers
            await logs.wait_exit(timeout=600)
            for _ in range(6000):
                try:
                    await archive.stat_archive("/done")
                    break
                except aiodocker.DockerError:
                    await asyncio.sleep(0.1)
        except BaseException:
            for container_id in created:
                await docker.containers.container(container_id).delete(force=True)
            raise
        return logs.id, archive.id


async def remove_containers(socket_path: str, *ids: str) -> None:
    async with aiodocker.Docker(url=f"unix://{socket_path}") as docker:
        for container_id in ids:
            try:
                await docker.containers.container(container_id).delete(force=True)
            except aiodocker.DockerError:
                pass


def print_table(rows: list[tuple[str, dict[str, Any]]]) -> None:
    header = (
        f"{'case':<50} {'MB':>8} {'seconds':>8} {'MB/s':>8} {'CPU s':>7} {'CPU/MB ms':>9} "
        f"{'peak RSS +MB':>12}"
    )
    print(header)
    print("-" * len(header))
    for name, r in rows:
        size_mb = r["bytes"] / MB
        print(
            f"{name:<50} {size_mb:8.1f} {r['wall']:8.2f} {size_mb / r['wall']:8.1f} "
            f"{r['cpu']:7.2f} {1000 * r['cpu'] / size_mb:9.2f} {r['rss_growth_mb']:12.1f}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--socket", default="/var/run/docker.sock")
    parser.add_argument("--log-mb", type=int, default=200)
    parser.add_argument("--archive-mb", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=1, help="runs per case; the best is shown")
    parser.add_argument(
        "--with-compat", action="store_true", help="also run get_archive() and log() (a list)"
    )
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("container", nargs="?", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.case:  # a child process: one measurement, printed as JSON
        print(json.dumps(run_case_here(args.case, args.socket, args.container)))
        return 0

    print(f"setting up: {args.log_mb} MB of logs, a {args.archive_mb} MB file ...", flush=True)
    logs_id, archive_id = asyncio.run(make_containers(args.socket, args.log_mb, args.archive_mb))
    rows: list[tuple[str, dict[str, Any]]] = []
    try:
        for name, (kind, _) in CASES.items():
            if name in COMPAT_ONLY and not args.with_compat:
                continue
            container_id = logs_id if kind == "logs" else archive_id
            runs = [run_case(name, args.socket, container_id) for _ in range(args.repeat)]
            rows.append((name, min(runs, key=lambda r: r["wall"])))
    finally:
        asyncio.run(remove_containers(args.socket, logs_id, archive_id))
    print()
    print_table(rows)
    if not all(r["peak_reset"] for _, r in rows):
        print("(peak RSS could not be reset: growth is measured from process start)")
    streamed = dict(rows)["archive/client stream_archive()"]["rss_growth_mb"]
    verdict = "OK" if streamed < ARCHIVE_RSS_LIMIT_MB else "TOO HIGH"
    print(
        f"\nstream_archive peak RSS growth {streamed:.1f} MB (limit {ARCHIVE_RSS_LIMIT_MB}): {verdict}"
    )
    return 0 if streamed < ARCHIVE_RSS_LIMIT_MB else 1


if __name__ == "__main__":
    sys.exit(main())
