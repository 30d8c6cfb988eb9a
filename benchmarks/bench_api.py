"""Benchmark: listing, container lifecycles, put_archive and import time, client vs. raw socket.

Run it against a local daemon (a script, not a test)::

    python benchmarks/bench_api.py [--socket /var/run/docker.sock] [--containers 200]
        [--put-mb 200] [--rounds 3] [--compat-python /tmp/venv/bin/python]

Cases (each client in a fresh interpreter per round; clients take turns within
a round, so machine noise hits them alike):

  list       ``containers.list(all=True)`` with ``--containers`` containers, 300 times
  lifecycle  40 create/start/wait/delete of busybox ``true`` at concurrency 8
  exec       400 exec round trips (create, attached start read to its end, inspect) of
             ``echo hi`` in one running container, at concurrency 16
  put        ``put_archive`` of a ``--put-mb`` MB tar from a file on disk
  import     ``python -c "import <client>"`` (whole process, bytecode cached)

The baselines are written here: a kept-alive asyncio unix socket speaking
HTTP/1.1 by hand with ``json.loads`` (list, lifecycle), a Content-Length upload
read from the file (put; a second baseline sends it with ``loop.sendfile``), and
``python -c "import asyncio, json"`` (import: what the raw client imports).
With ``--compat-python`` (a venv holding aiodocker 0.27 and docker 7.1, never
the main environment: both are named ``aiodocker``/``docker``) those clients are
measured beside.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Final

ROOT: Final = Path(__file__).resolve().parent.parent
IMAGE: Final = "aiodocker-test/busybox:latest"
API: Final = "v1.41"
LIST_CALLS: Final = 300  # a listing takes dockerd 13-25 ms, and the clients differ by 1-2 % of that
LIFECYCLES: Final = 40
LIFECYCLE_CONCURRENCY: Final = 8
EXECS: Final = 400
EXEC_CONCURRENCY: Final = 16
EXEC_CMD: Final = ["echo", "hi"]
LABEL: Final = "aiodocker-bench"
CHUNK: Final = 256 * 1024
NO_ORJSON_ENV: Final = "AIODOCKER_BENCH_NO_ORJSON"  # set: the client runs as if orjson were absent
IMPORTS: Final = {
    "raw": "import asyncio, json",
    "client": "import aiodocker",
    "aiodocker 0.27": "import aiodocker",
    "docker-py 7.1": "import docker",
}
# The client loads a resource module (containers, images, ...) on a sub-API's first
# use; this star import loads them all, as 0.27 and docker-py do at import.
IMPORTS_ALL: Final = {**IMPORTS, "client": "from aiodocker.docker import *"}


# --- the raw client ---------------------------------------------------------------------


class RawConnection:
    """HTTP/1.1 over a kept-alive unix socket, parsed by hand: the least a client can do."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, path: str) -> RawConnection:
        reader, writer = await asyncio.open_unix_connection(path, limit=CHUNK)
        return cls(reader, writer)

    async def request(self, method: str, target: str, body: bytes | None = None) -> tuple[int, bytes]:
        head = f"{method} {target} HTTP/1.1\r\nHost: docker\r\n"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        elif method == "POST":
            head += "Content-Length: 0\r\n"
        self.writer.write(head.encode() + b"\r\n" + (body or b""))
        return await self.response()

    async def response(self) -> tuple[int, bytes]:
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        length, chunked = None, False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if length is not None:
            return status, await self.reader.readexactly(length)
        if not chunked:
            return status, b""
        parts = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")
                return status, b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)

    def close(self) -> None:
        self.writer.close()


async def raw_list(socket: str, _arg: str) -> int:
    conn = await RawConnection.open(socket)
    try:
        count = 0
        for _ in range(LIST_CALLS):
            status, body = await conn.request("GET", f"/{API}/containers/json?all=1")
            assert status == 200
            count = len(json.loads(body))
        return count
    finally:
        conn.close()


async def raw_lifecycle(socket: str, image: str) -> int:
    pool: asyncio.Queue[RawConnection] = asyncio.Queue()
    for _ in range(LIFECYCLE_CONCURRENCY):
        pool.put_nowait(await RawConnection.open(socket))
    config = json.dumps({"Image": image, "Cmd": ["true"], "Labels": {LABEL: "1"}}).encode()

    async def one() -> None:
        conn = await pool.get()
        try:
            status, body = await conn.request("POST", f"/{API}/containers/create", config)
            assert status == 201, body
            cid = json.loads(body)["Id"]
            assert (await conn.request("POST", f"/{API}/containers/{cid}/start"))[0] == 204
            status, body = await conn.request("POST", f"/{API}/containers/{cid}/wait")
            assert status == 200 and json.loads(body)["StatusCode"] == 0
            assert (await conn.request("DELETE", f"/{API}/containers/{cid}"))[0] == 204
        finally:
            pool.put_nowait(conn)

    await asyncio.gather(*(one() for _ in range(LIFECYCLES)))
    while not pool.empty():
        pool.get_nowait().close()
    return LIFECYCLES


async def raw_exec(socket: str, container: str) -> int:
    """Create on a kept-alive connection, start attached on its own (the daemon hijacks it)."""
    pool: asyncio.Queue[RawConnection] = asyncio.Queue()
    for _ in range(EXEC_CONCURRENCY):
        pool.put_nowait(await RawConnection.open(socket))
    config = json.dumps({"Cmd": EXEC_CMD, "AttachStdout": True, "AttachStderr": True}).encode()
    start = json.dumps({"Detach": False, "Tty": False}).encode()

    async def one() -> None:
        conn = await pool.get()
        try:
            status, body = await conn.request("POST", f"/{API}/containers/{container}/exec", config)
            assert status == 201, body
            eid = json.loads(body)["Id"]
            stream = await RawConnection.open(socket)
            try:
                stream.writer.write(
                    f"POST /{API}/exec/{eid}/start HTTP/1.1\r\nHost: docker\r\n"
                    "Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(start)}\r\n\r\n".encode()
                    + start
                )
                head = await stream.reader.readuntil(b"\r\n\r\n")
                assert head.startswith(b"HTTP/1.1 101"), head
                output = await stream.reader.read()  # frames of 8-byte headers, to EOF
                assert output[8:] == b"hi\n", output
            finally:
                stream.close()
            status, body = await conn.request("GET", f"/{API}/exec/{eid}/json")
            assert status == 200 and json.loads(body)["ExitCode"] == 0, body
        finally:
            pool.put_nowait(conn)

    await asyncio.gather(*(one() for _ in range(EXECS)))
    while not pool.empty():
        pool.get_nowait().close()
    return EXECS


async def _raw_put(socket: str, arg: str, *, sendfile: bool) -> int:
    container, tar_path = arg.split(",", 1)
    size = os.path.getsize(tar_path)
    conn = await RawConnection.open(socket)
    try:
        conn.writer.write(
            f"PUT /{API}/containers/{container}/archive?path=/tmp HTTP/1.1\r\nHost: docker\r\n"
            f"Content-Type: application/x-tar\r\nContent-Length: {size}\r\n\r\n".encode()
        )
        with open(tar_path, "rb") as file:
            if sendfile:
                await asyncio.get_running_loop().sendfile(conn.writer.transport, file)
            else:
                while chunk := file.read(CHUNK):
                    conn.writer.write(chunk)
                    await conn.writer.drain()
        status, _ = await conn.response()
        assert status == 200, status
        return size
    finally:
        conn.close()


async def raw_put(socket: str, arg: str) -> int:
    return await _raw_put(socket, arg, sendfile=False)


async def raw_put_sendfile(socket: str, arg: str) -> int:
    return await _raw_put(socket, arg, sendfile=True)


# --- this client and aiodocker 0.27 (the same API) ----------------------------------------


async def client_list(socket: str, _arg: str) -> int:
    import aiodocker

    async with aiodocker.Docker(url=f"unix://{socket}") as docker:
        count = 0
        for _ in range(LIST_CALLS):
            count = len(await docker.containers.list(all=True))
        return count


async def client_lifecycle(socket: str, image: str) -> int:
    import aiodocker

    async with aiodocker.Docker(url=f"unix://{socket}") as docker:
        sem = asyncio.Semaphore(LIFECYCLE_CONCURRENCY)
        config = {"Image": image, "Cmd": ["true"], "Labels": {LABEL: "1"}}

        async def one() -> None:
            async with sem:
                container = await docker.containers.create(config)
                await container.start()
                assert (await container.wait())["StatusCode"] == 0
                await container.delete()

        await asyncio.gather(*(one() for _ in range(LIFECYCLES)))
    return LIFECYCLES


async def client_exec(socket: str, container_id: str) -> int:
    import aiodocker

    async with aiodocker.Docker(url=f"unix://{socket}") as docker:
        sem = asyncio.Semaphore(EXEC_CONCURRENCY)
        container = docker.containers.container(container_id)

        async def one() -> None:
            async with sem:
                exe = await container.exec(EXEC_CMD)
                output = b""
                async with exe.start() as stream:
                    while (message := await stream.read_out()) is not None:
                        output += message.data
                assert output == b"hi\n", output
                assert (await exe.inspect())["ExitCode"] == 0

        await asyncio.gather(*(one() for _ in range(EXECS)))
    return EXECS


async def client_put(socket: str, arg: str) -> int:
    import aiodocker

    container, tar_path = arg.split(",", 1)
    async with aiodocker.Docker(url=f"unix://{socket}") as docker:
        with open(tar_path, "rb") as file:
            await docker.containers.container(container).put_archive("/tmp", file)
    return os.path.getsize(tar_path)


# --- docker-py 7.1 (blocking; the low-level API, so no per-item inspects) -------------------


async def dockerpy_list(socket: str, _arg: str) -> int:
    import docker

    client = docker.APIClient(base_url=f"unix://{socket}", version=API[1:])
    count = 0
    for _ in range(LIST_CALLS):
        count = len(client.containers(all=True))
    client.close()
    return count


async def dockerpy_lifecycle(socket: str, image: str) -> int:
    import concurrent.futures

    import docker

    def one(_: int) -> None:
        client = docker.APIClient(base_url=f"unix://{socket}", version=API[1:])
        cid = client.create_container(image, ["true"], labels={LABEL: "1"})["Id"]
        client.start(cid)
        assert client.wait(cid)["StatusCode"] == 0
        client.remove_container(cid)
        client.close()

    with concurrent.futures.ThreadPoolExecutor(LIFECYCLE_CONCURRENCY) as pool:
        list(pool.map(one, range(LIFECYCLES)))
    return LIFECYCLES


async def dockerpy_put(socket: str, arg: str) -> int:
    import docker

    container, tar_path = arg.split(",", 1)
    client = docker.APIClient(base_url=f"unix://{socket}", version=API[1:])
    with open(tar_path, "rb") as file:
        client.put_archive(container, "/tmp", file)
    client.close()
    return os.path.getsize(tar_path)


RUNNERS: Final[dict[str, dict[str, Callable[[str, str], Awaitable[int]]]]] = {
    "list": {
        "raw": raw_list,
        "client": client_list,
        "aiodocker 0.27": client_list,
        "docker-py 7.1": dockerpy_list,
    },
    "lifecycle": {
        "raw": raw_lifecycle,
        "client": client_lifecycle,
        "aiodocker 0.27": client_lifecycle,
        "docker-py 7.1": dockerpy_lifecycle,
    },
    "exec": {
        "raw": raw_exec,
        "client": client_exec,
        "aiodocker 0.27": client_exec,
    },
    "put": {
        "raw": raw_put,
        "raw sendfile": raw_put_sendfile,
        "client": client_put,
        "aiodocker 0.27": client_put,
        "docker-py 7.1": dockerpy_put,
    },
}
COMPAT_CLIENTS: Final = ("aiodocker 0.27", "docker-py 7.1")


# --- driver -------------------------------------------------------------------------------


def child(case: str, client: str, socket: str, arg: str) -> dict[str, float]:
    """Run one case in this process: a warm-up for the small cases, then the measured run."""
    if client == "client":
        sys.path.insert(0, str(ROOT))
        if os.environ.get(NO_ORJSON_ENV):
            sys.modules["orjson"] = None  # type: ignore[assignment]  # decode with json
    if client != "raw" and not client.startswith("raw "):  # import time is a case of its own,
        # and so is the client's loading of the containers module on first use
        __import__("docker" if client.startswith("docker-py") else "aiodocker.containers")
    function = RUNNERS[case][client]
    if case in ("list", "exec"):  # warm-up
        asyncio.run(function(socket, arg))
    cpu0, wall0 = time.process_time(), time.perf_counter()
    units = asyncio.run(function(socket, arg))
    return {"wall": time.perf_counter() - wall0, "cpu": time.process_time() - cpu0, "units": units}


def spawn(
    python: str, case: str, client: str, socket: str, arg: str, *, env: dict[str, str] | None = None
) -> dict[str, float]:
    completed = subprocess.run(
        [python, __file__, "--child", case, client, "--socket", socket, "--arg", arg],
        capture_output=True,
        text=True,
        check=False,
        cwd="/",  # so no aiodocker package in the working directory shadows the venv's
        env=env,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{case}/{client} failed:\n{completed.stderr}")
    result: dict[str, float] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def import_seconds(python: str, code: str, *, cwd: str) -> float:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    start = time.perf_counter()
    subprocess.run([python, "-c", code], check=True, cwd=cwd, env=env)
    return time.perf_counter() - start


def measure_imports(
    compat_python: str | None, rounds: int, codes: dict[str, str] = IMPORTS
) -> dict[str, list[dict[str, float]]]:
    """Whole-process import time, the clients taking turns; bytecode is written first."""
    clients = {"raw": sys.executable, "client": sys.executable}
    if compat_python:
        clients.update(dict.fromkeys(COMPAT_CLIENTS, compat_python))
    # the client imports from the repository, the others from their environment
    cwds = {name: str(ROOT) if name == "client" else "/" for name in clients}
    for name, python in clients.items():
        import_seconds(python, codes[name], cwd=cwds[name])  # writes __pycache__
    results: dict[str, list[dict[str, float]]] = {name: [] for name in clients}
    for _ in range(rounds):
        for name, python in clients.items():
            # the best of 7 starts: process start-up noise only ever adds
            best = min(import_seconds(python, codes[name], cwd=cwds[name]) for _ in range(7))
            results[name].append({"wall": best, "cpu": best, "units": 1})
    return results


async def make_containers(socket: str, image: str, count: int) -> list[str]:
    sys.path.insert(0, str(ROOT))
    import aiodocker

    async with aiodocker.Docker(url=f"unix://{socket}") as docker:
        sem = asyncio.Semaphore(8)

        async def one(index: int) -> str:
            async with sem:
                container = await docker.containers.create(
                    {"Image": image, "Cmd": ["true"], "Labels": {LABEL: "1", "index": str(index)}},
                    name=f"aiodocker-bench-{uuid.uuid4().hex[:8]}-{index}",
                )
                return container.id

        return list(await asyncio.gather(*(one(i) for i in range(count))))


async def remove_labelled(socket: str) -> None:
    import aiodocker

    async with aiodocker.Docker(url=f"unix://{socket}") as docker:
        for container in await docker.containers.list(
            all=True, filters={"label": [f"{LABEL}=1"]}
        ):
            await container.delete(force=True)


def make_tar(path: Path, size_mb: int) -> None:
    with tarfile.open(path, "w") as tar:
        info = tarfile.TarInfo("put.bin")
        info.size = size_mb * 1024 * 1024
        with open("/dev/urandom", "rb") as random:
            data = random.read(1024 * 1024)

        class Repeat:
            def __init__(self) -> None:
                self.left = info.size

            def read(self, n: int = -1) -> bytes:
                n = min(self.left, len(data) if n < 0 else min(n, len(data)))
                self.left -= n
                return data[:n]

        tar.addfile(info, Repeat())  # type: ignore[arg-type]


def run(options: argparse.Namespace) -> dict[str, dict[str, list[dict[str, float]]]]:
    """Every case, every client, ``options.rounds`` rounds; returns the raw measurements."""
    socket = options.socket
    results: dict[str, dict[str, list[dict[str, float]]]] = {}
    pythons = {"raw": sys.executable, "raw sendfile": sys.executable, "client": sys.executable}
    if options.compat_python:
        pythons.update(dict.fromkeys(COMPAT_CLIENTS, options.compat_python))
    workdir = Path(tempfile.mkdtemp(prefix="aiodocker-bench-api-"))
    asyncio.run(make_containers(socket, options.image, options.containers))
    try:
        sys.path.insert(0, str(ROOT))
        import aiodocker

        async def target() -> str:
            async with aiodocker.Docker(url=f"unix://{socket}") as docker:
                container = await docker.containers.create(
                    {"Image": options.image, "Cmd": ["sleep", "3600"], "Labels": {LABEL: "1"}}
                )
                await container.start()
                return container.id

        put_container = asyncio.run(target())
        tar_path = workdir / "put.tar"
        make_tar(tar_path, options.put_mb)
        args = {
            "list": "",
            "lifecycle": options.image,
            "exec": put_container,
            "put": f"{put_container},{tar_path}",
        }
        for case in options.cases:
            if case == "import":
                results[case] = measure_imports(options.compat_python, options.rounds)
                continue
            clients = [c for c in RUNNERS[case] if c in pythons]
            results[case] = {c: [] for c in clients}
            for _ in range(options.rounds):
                for client in clients:
                    results[case][client].append(
                        spawn(pythons[client], case, client, socket, args[case])
                    )
            print(f"  {case}: done", file=sys.stderr, flush=True)
    finally:
        asyncio.run(remove_labelled(socket))
        for path in workdir.iterdir():
            path.unlink()
        workdir.rmdir()
    return results


def paired(rounds: list[dict[str, float]], base: list[dict[str, float]]) -> tuple[float, float]:
    """Median over rounds of (throughput ratio, CPU ratio) against the baseline's same round."""
    speed = statistics.median(b["wall"] / r["wall"] for r, b in zip(rounds, base, strict=True))
    cpu = statistics.median(r["cpu"] / b["cpu"] for r, b in zip(rounds, base, strict=True))
    return speed, cpu


def print_table(results: dict[str, dict[str, list[dict[str, float]]]]) -> None:
    print(f"{'case':<10}{'client':<16}{'best s':>9}{'CPU s':>8}{'x raw speed':>13}{'x raw CPU':>11}")
    for case, clients in results.items():
        base = clients["raw"]
        for client, rounds in clients.items():
            speed, cpu = paired(rounds, base)
            best = min(r["wall"] for r in rounds)
            cpu_s = min(r["cpu"] for r in rounds)
            print(f"{case:<10}{client:<16}{best:>9.3f}{cpu_s:>8.3f}{speed:>13.2f}{cpu:>11.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--socket", default="/var/run/docker.sock")
    parser.add_argument("--image", default=IMAGE)
    parser.add_argument("--containers", type=int, default=200)
    parser.add_argument("--put-mb", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cases", nargs="+", default=["list", "lifecycle", "exec", "put", "import"])
    parser.add_argument("--compat-python", help="a venv's python with aiodocker 0.27 and docker 7.1")
    parser.add_argument("--json", action="store_true", help="print the measurements as JSON")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--arg", default="", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        print(json.dumps(child(options.child[0], options.child[1], options.socket, options.arg)))
        return 0
    results = run(options)
    if options.json:
        print(json.dumps(results))
    else:
        print_table(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
