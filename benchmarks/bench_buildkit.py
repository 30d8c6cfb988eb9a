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
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
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
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="bench-buildkit-")
    tags: list[str] = []

    def tag(name: str) -> str:  # one tag per build, so none is left dangling
        tags.append(f"aiodocker-bench-{os.getpid()}-{name}:{len(tags)}")
        return tags[-1]

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
        finally:
            for name in tags:
                try:
                    await docker.images.delete(name, force=True)
                except DockerError:
                    pass
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
