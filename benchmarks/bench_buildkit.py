"""Benchmark: classic vs BuildKit builds, and a rebuild by tar upload vs BuildKit file sync.

Run it against a Docker >= 23 daemon (a script, not a test)::

    python benchmarks/bench_buildkit.py [--host unix:///run/aiodocker-docker26/docker.sock]
        [--size-mb 500] [--files 50] [--rounds 3] [--base aiodocker-test/busybox:latest]

Part 1 builds one small Dockerfile (``COPY`` of a few files, three ``RUN`` steps)
with ``nocache`` by the classic builder (``version="1"``) and by BuildKit
(``version="2"``), ``--rounds`` times each, and prints the median seconds.

Part 2 makes a context of ``--size-mb`` MB in ``--files`` random files whose
Dockerfile reads one of them through a bind mount (so no 500 MB layer is
written). Each method builds once to warm up, then one file is rewritten and the
build repeated; the table shows the rebuild's seconds and the bytes the client
sent: the tar stream for the upload, every byte written on the session
connection (HTTP/2 frames included) for file sync. Requires the
``aiodocker[buildkit]`` extra. Everything created is removed at the end.

Part 3 (``--buildx BIN``, ``--buildx-size-mb 200``) compares this client with the
buildx binary (the docker driver, against the same daemon): a cold build of a
fresh context, the rebuild after one file changed, and an export of the context's
files to a local directory (``-o type=local``, measured warm: the build steps are
cached, so the time is the export's). Both talk to the daemon through a counting
unix-socket relay in a separate process, so "MB sent" is every byte either client
wrote to the daemon (all connections) and "MB recv" every byte it read. Part 1
and 2 are skipped with ``--only-buildx``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from typing import Any

from aiodocker import Docker, buildkit
from aiodocker._core.build_context import stream_context
from aiodocker.exceptions import DockerError

SMALL_DOCKERFILE = """\
FROM {base}
COPY . /src
RUN cat /src/*.txt | wc -c
RUN for i in $(seq 1 200); do echo $i; done > /numbers
RUN sha256sum /numbers /src/*.txt
"""

BIG_DOCKERFILE = """\
FROM {base}
RUN --mount=type=bind,target=/ctx md5sum /ctx/data/f007.bin
"""


class Counter:
    def __init__(self) -> None:
        self.bytes = 0

    async def wrap(self, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        async for chunk in chunks:
            self.bytes += len(chunk)
            yield chunk


async def classic_build(docker: Docker, root: str, tag: str) -> float:
    begin = time.perf_counter()
    await docker.images.build(path=root, tag=tag, nocache=True, version="1")
    return time.perf_counter() - begin


async def buildkit_build(docker: Docker, root: str, tag: str, **kwargs: Any) -> float:
    begin = time.perf_counter()
    await buildkit.build(docker, path=root, tag=tag, **kwargs)
    return time.perf_counter() - begin


async def tar_upload_build(docker: Docker, root: str, tag: str) -> tuple[float, int]:
    counter = Counter()
    begin = time.perf_counter()
    await buildkit.build(
        docker,
        fileobj=counter.wrap(stream_context(root, chunk_size=256 * 1024)),
        encoding="identity",
        tag=tag,
    )
    return time.perf_counter() - begin, counter.bytes


async def file_sync_build(docker: Docker, root: str, tag: str) -> tuple[float, int]:
    begin = time.perf_counter()
    async with buildkit.BuildKitBuild(docker, path=root, tag=tag, context_sync=True) as running:
        await running.wait()
    assert running.session is not None
    return time.perf_counter() - begin, running.session.bytes_sent


def make_small_context(root: str, base: str) -> None:
    os.makedirs(root)
    for n in range(5):
        with open(os.path.join(root, f"part{n}.txt"), "w") as out:
            out.write(f"part {n}\n" * 1000)
    with open(os.path.join(root, "Dockerfile"), "w") as out:
        out.write(SMALL_DOCKERFILE.format(base=base))


def make_big_context(root: str, base: str, size_mb: int, files: int) -> None:
    data = os.path.join(root, "data")
    os.makedirs(data)
    per_file = size_mb * 1024 * 1024 // files
    for n in range(files):
        with open(os.path.join(data, f"f{n:03}.bin"), "wb") as out:
            out.write(os.urandom(per_file))
    with open(os.path.join(root, "Dockerfile"), "w") as out:
        out.write(BIG_DOCKERFILE.format(base=base))


EXPORT_DOCKERFILE = """\
FROM scratch
COPY data /data
"""

RELAY = r"""
import asyncio, sys
listen, target = sys.argv[1], sys.argv[2]
counts = [0, 0]

async def pump(reader, writer, index):
    try:
        while data := await reader.read(262144):
            counts[index] += len(data)
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except Exception:
        writer.close()

async def handle(reader, writer):
    up_reader, up_writer = await asyncio.open_unix_connection(target)
    await asyncio.gather(pump(reader, up_writer, 0), pump(up_reader, writer, 1))
    writer.close()
    up_writer.close()

async def main():
    await asyncio.start_unix_server(handle, listen)
    loop = asyncio.get_running_loop()
    print("ready", flush=True)
    while await loop.run_in_executor(None, sys.stdin.readline):
        print(counts[0], counts[1], flush=True)

asyncio.run(main())
"""


class Relay:
    """A counting unix-socket relay to the daemon, in its own process."""

    def __init__(self, target: str, listen: str) -> None:
        self.url = f"unix://{listen}"
        self.process = subprocess.Popen(
            [sys.executable, "-c", RELAY, listen, target],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # its connections end with the process
            text=True,
        )
        assert self.process.stdout is not None and self.process.stdin is not None
        assert self.process.stdout.readline().strip() == "ready"

    def counts(self) -> tuple[int, int]:
        assert self.process.stdout is not None and self.process.stdin is not None
        self.process.stdin.write("\n")
        self.process.stdin.flush()
        sent, received = self.process.stdout.readline().split()
        return int(sent), int(received)

    def close(self) -> None:
        self.process.terminate()
        self.process.wait()


async def measured(relay: Relay, action: Any) -> tuple[float, int, int]:
    """Run ``action`` (a coroutine function); return seconds, bytes sent, bytes received."""
    sent, received = relay.counts()
    begin = time.perf_counter()
    await action()
    seconds = time.perf_counter() - begin
    await asyncio.sleep(0.2)  # the relay's last reads
    sent2, received2 = relay.counts()
    return seconds, sent2 - sent, received2 - received


async def buildx_comparison(args: argparse.Namespace, workdir: str, tag: Any) -> None:
    target = args.host.removeprefix("unix://")
    relay = Relay(target, os.path.join(workdir, "relay.sock"))
    config = os.path.join(workdir, "buildx-config")
    os.makedirs(config)
    rows: dict[str, list[tuple[float, int, int]]] = {}
    try:
        async with Docker(url=relay.url) as docker:
            for tool in ("aiodocker", "buildx"):
                root = os.path.join(workdir, f"ctx-{tool}")
                make_big_context(root, args.base, args.buildx_size_mb, args.files)
                with open(os.path.join(root, "Dockerfile.export"), "w") as out:
                    out.write(EXPORT_DOCKERFILE)
                dest = os.path.join(workdir, f"out-{tool}")

                async def build(
                    *, export: bool = False, tool: str = tool, root: str = root, dest: str = dest
                ) -> None:
                    if tool == "buildx":
                        command = [args.buildx, "build", "--progress", "quiet", root]
                        if export:
                            command += ["-f", os.path.join(root, "Dockerfile.export")]
                            command += ["-o", f"type=local,dest={dest}"]
                        else:
                            command += ["-t", tag("buildx")]
                        env = {**os.environ, "DOCKER_HOST": relay.url, "DOCKER_CONFIG": config}
                        process = await asyncio.create_subprocess_exec(
                            *command, env=env, stdout=subprocess.DEVNULL
                        )
                        if await process.wait():
                            raise RuntimeError(f"buildx failed: {command}")
                    elif export:
                        await buildkit.build(
                            docker,
                            path=root,
                            path_dockerfile="Dockerfile.export",
                            context_sync=True,
                            outputs=[f"type=local,dest={dest}"],
                        )
                    else:
                        await buildkit.build(
                            docker, path=root, tag=tag("aiodocker"), context_sync=True
                        )

                cold = await measured(relay, build)
                touch_one(root)
                rebuild = await measured(relay, build)
                await measured(relay, lambda: build(export=True))  # builds the COPY step
                shutil.rmtree(dest)
                export = await measured(relay, lambda: build(export=True))
                rows[tool] = [cold, rebuild, export]
                shutil.rmtree(root)
                shutil.rmtree(dest, ignore_errors=True)
    finally:
        relay.close()
    print()
    print(
        f"Part 3: against buildx ({args.buildx_size_mb} MB context in {args.files} files; "
        "MB through a counting relay)"
    )
    print(f"  {'step':<31} {'aiodocker s':>11} {'buildx s':>9} {'aiodocker MB':>13} {'buildx MB':>10}")
    labels = ("cold build (sent)", "rebuild, 1 file changed (sent)", "export to local dir (recv)")
    for index, label in enumerate(labels):
        ours, theirs = rows["aiodocker"][index], rows["buildx"][index]
        column = 2 if index == 2 else 1
        print(
            f"  {label:<31} {ours[0]:>11.2f} {theirs[0]:>9.2f} "
            f"{ours[column] / 1e6:>13.3f} {theirs[column] / 1e6:>10.3f}"
        )


def touch_one(root: str) -> None:
    with open(os.path.join(root, "data", "f007.bin"), "r+b") as out:
        out.write(os.urandom(16))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="unix:///run/aiodocker-docker26/docker.sock")
    parser.add_argument("--size-mb", type=int, default=500)
    parser.add_argument("--files", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--base", default="aiodocker-test/busybox:latest")
    parser.add_argument("--buildx", help="the docker-buildx binary: adds Part 3")
    parser.add_argument("--buildx-size-mb", type=int, default=200)
    parser.add_argument("--only-buildx", action="store_true")
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="bench-buildkit-")
    tags: list[str] = []

    def tag(name: str) -> str:  # one tag per build, so none is left dangling
        tags.append(f"aiodocker-bench-{os.getpid()}-{name}:{len(tags)}")
        return tags[-1]

    if args.only_buildx:
        try:
            await buildx_comparison(args, workdir, tag)
        finally:
            await _remove(args.host, tags)
            shutil.rmtree(workdir, ignore_errors=True)
        return
    async with Docker(url=args.host) as docker:
        try:
            small = os.path.join(workdir, "small")
            make_small_context(small, args.base)
            classic = [
                await classic_build(docker, small, tag("classic")) for _ in range(args.rounds)
            ]
            kit = [
                await buildkit_build(docker, small, tag("buildkit"), nocache=True)
                for _ in range(args.rounds)
            ]
            print(f"Part 1: one Dockerfile, nocache, median of {args.rounds}")
            print(f"  {'builder':<10} {'seconds':>8}")
            print(f"  {'classic':<10} {statistics.median(classic):>8.2f}")
            print(f"  {'BuildKit':<10} {statistics.median(kit):>8.2f}")

            big = os.path.join(workdir, "big")
            make_big_context(big, args.base, args.size_mb, args.files)
            results: dict[str, list[tuple[float, int]]] = {}
            for name, method in (("tar upload", tar_upload_build), ("file sync", file_sync_build)):
                first = await method(docker, big, tag(name.replace(" ", "-")))
                touch_one(big)
                again = await method(docker, big, tag(name.replace(" ", "-")))
                results[name] = [first, again]
            print()
            print(f"Part 2: {args.size_mb} MB context in {args.files} files, one file rewritten")
            print(
                f"  {'method':<11} {'first s':>8} {'first MB':>9} {'rebuild s':>10} {'rebuild MB':>11}"
            )
            for name, ((s1, b1), (s2, b2)) in results.items():
                print(f"  {name:<11} {s1:>8.2f} {b1 / 1e6:>9.1f} {s2:>10.2f} {b2 / 1e6:>11.3f}")
            if args.buildx:
                await buildx_comparison(args, workdir, tag)
        finally:
            for name in tags:
                try:
                    await docker.images.delete(name, force=True)
                except DockerError:
                    pass
            shutil.rmtree(workdir, ignore_errors=True)


async def _remove(host: str, tags: list[str]) -> None:
    async with Docker(url=host) as docker:
        for name in tags:
            try:
                await docker.images.delete(name, force=True)
            except DockerError:
                pass


if __name__ == "__main__":
    asyncio.run(main())
