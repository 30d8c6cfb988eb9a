"""Request overhead of this client beside a raw-socket client and plain aiohttp.

Run: python benchmarks/bench_core.py [--socket /var/run/docker.sock] [--loops asyncio,uvloop]

Cases (each client in its own subprocess, so CPU accounting is clean):
  ping     2,000 sequential GET /_ping
  inspect  5,000 GET /containers/{id}/json at concurrency 64
Every case runs on each event loop: asyncio's own and uvloop. Clients take
turns over 5 rounds (each a fresh process with a warm-up); each figure is the
client's best round. Prints, per loop, requests per second and client CPU
microseconds per request, and each client's ratios to the raw-socket baseline
on the same loop (target: >= 0.8x throughput, <= 1.25x CPU per request).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time

PING_COUNT = 2000
INSPECT_COUNT = 5000
CONCURRENCY = 64
NO_ORJSON_ENV = "AIODOCKER_BENCH_NO_ORJSON"  # set: the client runs as if orjson were absent


class RawConnection:
    """The least a client can do: HTTP/1.1 over a kept-alive unix socket, parsed by hand."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, path: str) -> RawConnection:
        reader, writer = await asyncio.open_unix_connection(path)
        return cls(reader, writer)

    async def get(self, target: str) -> bytes:
        self.writer.write(f"GET {target} HTTP/1.1\r\nHost: docker\r\n\r\n".encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        length = None
        chunked = False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if length is not None:
            return await self.reader.readexactly(length)
        if not chunked:
            raise RuntimeError("raw client expects a sized or chunked body")
        parts = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)

    def close(self) -> None:
        self.writer.close()


async def run_raw(case: str, socket: str, container: str) -> None:
    if case == "ping":
        conn = await RawConnection.open(socket)
        for _ in range(PING_COUNT):
            assert await conn.get("/_ping") == b"OK"
        conn.close()
        return
    pool: asyncio.Queue[RawConnection] = asyncio.Queue()
    for _ in range(CONCURRENCY):
        pool.put_nowait(await RawConnection.open(socket))

    async def one() -> None:
        conn = await pool.get()
        try:
            json.loads(await conn.get(f"/v1.41/containers/{container}/json"))
        finally:
            pool.put_nowait(conn)

    await asyncio.gather(*(one() for _ in range(INSPECT_COUNT)))
    while not pool.empty():
        pool.get_nowait().close()


async def run_aiodocker(case: str, socket: str, container: str) -> None:
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    if os.environ.get(NO_ORJSON_ENV):
        sys.modules["orjson"] = None  # type: ignore[assignment]  # decode with json
    import aiodocker
    from aiodocker._core.request import Shape

    async with aiodocker.Docker(url=f"unix://{socket}") as docker:
        if case == "ping":
            for _ in range(PING_COUNT):
                await docker._api.call("GET", "_ping", versioned=False, expect=Shape.NOTHING)
            return
        sem = asyncio.Semaphore(CONCURRENCY)
        inspect = docker._api.call
        path = f"containers/{container}/json"

        async def one() -> None:
            async with sem:
                await inspect("GET", path, expect=Shape.OBJECT)

        await asyncio.gather(*(one() for _ in range(INSPECT_COUNT)))


async def run_aiohttp(case: str, socket: str, container: str) -> None:
    import aiohttp

    connector = aiohttp.UnixConnector(socket, limit=CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as session:
        if case == "ping":
            for _ in range(PING_COUNT):
                async with session.get("http://docker/_ping") as response:
                    await response.read()
            return
        url = f"http://docker/v1.41/containers/{container}/json"

        async def one() -> None:
            async with session.get(url) as response:
                await response.json()

        await asyncio.gather(*(one() for _ in range(INSPECT_COUNT)))


async def run_aiodocker_api(case: str, socket: str, container: str) -> None:
    """The same through the public API: ``docker.system.ping()`` and ``container.show()``."""
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import aiodocker

    async with aiodocker.Docker(url=f"unix://{socket}") as docker:
        if case == "ping":
            for _ in range(PING_COUNT):
                await docker.system.ping()
            return
        sem = asyncio.Semaphore(CONCURRENCY)
        target = docker.containers.container(container)

        async def one() -> None:
            async with sem:
                await target.show()

        await asyncio.gather(*(one() for _ in range(INSPECT_COUNT)))


RUNNERS = {
    "raw": run_raw,
    "aiodocker": run_aiodocker,
    "aiodocker-api": run_aiodocker_api,
    "aiohttp": run_aiohttp,
}


LOOPS = ("asyncio", "uvloop")


def measure(loop: str, client: str, case: str, socket: str, container: str) -> dict[str, float]:
    """Run one case in this process (called in a child) and return its numbers."""
    count = PING_COUNT if case == "ping" else INSPECT_COUNT
    cpu0, wall0 = time.process_time(), time.perf_counter()
    if loop == "uvloop":
        import uvloop

        uvloop.run(RUNNERS[client](case, socket, container))
    else:
        asyncio.run(RUNNERS[client](case, socket, container))
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return {"rps": count / wall, "cpu_us": cpu / count * 1e6}


ROUNDS = 5


def child(loop: str, client: str, case: str, socket: str, container: str) -> dict[str, float]:
    """One warm-up round, then one measured round."""
    measure(loop, client, case, socket, container)
    return measure(loop, client, case, socket, container)


def spawn(
    loop: str,
    client: str,
    case: str,
    socket: str,
    container: str,
    *,
    env: dict[str, str] | None = None,
) -> dict[str, float]:
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            loop,
            client,
            case,
            "--socket",
            socket,
            "--container",
            container,
        ],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    result: dict[str, float] = json.loads(out.stdout)
    return result


def docker_cli(*args: str) -> str:
    return subprocess.run(
        ["docker", *args], check=True, capture_output=True, text=True
    ).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--socket", default="/var/run/docker.sock")
    parser.add_argument("--image", default="aiodocker-test/busybox:latest")
    parser.add_argument("--container", default="")
    parser.add_argument("--loops", default=",".join(LOOPS), help="comma-separated: asyncio,uvloop")
    parser.add_argument("--cases", default="ping,inspect", help="comma-separated: ping,inspect")
    parser.add_argument(
        "--clients", default="raw,aiodocker,aiodocker-api,aiohttp", help="raw is always run"
    )
    parser.add_argument("--child", nargs=3, metavar=("LOOP", "CLIENT", "CASE"))
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child, args.socket, args.container)))
        return
    loops = [loop for loop in args.loops.split(",") if loop]
    unknown = set(loops) - set(LOOPS)
    if unknown:
        parser.error(f"unknown loop(s): {', '.join(sorted(unknown))}")
    cases = [case for case in args.cases.split(",") if case]
    clients = ["raw", *(c for c in args.clients.split(",") if c and c != "raw")]
    container = docker_cli("create", "--name", "aiodocker-bench-core", args.image, "true")
    try:
        # Clients take turns round by round, so a noisy stretch of the machine hits
        # all of them alike; each figure is the client's best round.
        rounds: dict[tuple[str, str, str], list[dict[str, float]]] = {}
        for case in cases:
            for _ in range(ROUNDS):
                for loop in loops:
                    for client in clients:
                        result = spawn(loop, client, case, args.socket, container)
                        rounds.setdefault((loop, client, case), []).append(result)
        rows = {
            key: {"rps": max(r["rps"] for r in results), "cpu_us": min(r["cpu_us"] for r in results)}
            for key, results in rounds.items()
        }
    finally:
        docker_cli("rm", "-f", container)
    print(
        f"{'loop':<9}{'case':<28}{'client':<15}{'req/s':>10}{'CPU us/req':>12}"
        f"{'x raw rps':>11}{'x raw CPU':>11}"
    )
    for loop in loops:
        for case, label in (
            ("ping", f"{PING_COUNT} sequential /_ping"),
            ("inspect", f"{INSPECT_COUNT} inspects @{CONCURRENCY}"),
        ):
            if case not in cases:
                continue
            base = rows[(loop, "raw", case)]
            for client in clients:
                row = rows[(loop, client, case)]
                print(
                    f"{loop:<9}{label:<28}{client:<15}{row['rps']:>10.0f}{row['cpu_us']:>12.1f}"
                    f"{row['rps'] / base['rps']:>11.2f}{row['cpu_us'] / base['cpu_us']:>11.2f}"
                )


if __name__ == "__main__":
    main()
