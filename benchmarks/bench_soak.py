"""Load and soak: mixed work at high concurrency, sampled every few seconds.

Runs, per transport (unix, TLS, ssh, from the test environment's env.json), ``--seconds``
(default 180) of mixed work by ``--concurrency`` (default 200) workers: inspect, list,
follow-and-abandon logs, an exec round trip, put and get archive, and a short events
window. Every ``--interval`` seconds (default 10) it prints ops/s, errors, open fds,
pooled connections, RSS and the asyncio task count. Target: zero errors, and fds, RSS
and tasks flat after warm-up (the last sample within 5 % of the first one taken at or
after ``--warmup`` seconds, default 30: the pool fills and the interpreter's heap and
generational GC settle in that time). The table gives that first sample, the last, and
the change of fds, RSS and tasks between them.

Each sample also gives glibc's heap figures (``mallinfo2``): ``heap_used_mib``, the
bytes malloc has handed out and not had back, and ``heap_free_mib``, the free bytes
it keeps inside its arenas. A leak grows the first; fragmentation grows the second
while the first stays flat. Diagnostics, for finding where memory goes:
``--malloc-trim`` gives free heap pages back to the kernel (``malloc_trim(0)``)
before each sample, ``--gc-every N`` runs a full ``gc.collect()`` every N seconds
(cyclic garbage otherwise waits for the rare full collection; it adds a task),
``--objects`` prints the Python object types whose count grew most between the
first sample after warm-up and the last, and ``--tracemalloc`` the source lines
whose allocations grew most between them (slow).

    python benchmarks/bench_soak.py --seconds 60 --transports unix,tls,ssh
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import gc
import io
import json
import os
import random
import ssl
import sys
import tarfile
import threading
import time
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiodocker  # noqa: E402
from aiodocker._transport.endpoint import TLSConfig  # noqa: E402
from aiodocker._transport.tls import make_ssl_context  # noqa: E402

ENV_JSON = Path("/var/lib/aiodocker-testenv/env.json")
NAME = f"aiodocker-soak-{os.getpid()}"


def tar_of(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def client(transport: str, env: dict[str, Any]) -> aiodocker.Docker:
    if transport == "unix":
        return aiodocker.Docker(url=f"unix://{env['unix_socket']}")
    if transport == "tls":
        base = Path(env["tls_cert_path"])
        context: ssl.SSLContext = make_ssl_context(
            TLSConfig(ca=str(base / "ca.pem"), cert=str(base / "cert.pem"), key=str(base / "key.pem"))
        )
        return aiodocker.Docker(url=env["tls_url"], ssl_context=context)
    os.environ["AIODOCKER_SSH_OPTS"] = f"-F {env['ssh_config']}"
    return aiodocker.Docker(url=f"ssh://{env['ssh_host_alias']}")


async def one_op(docker: aiodocker.Docker, container: Any, kind: str) -> None:
    if kind == "inspect":
        await container.show()
    elif kind == "list":
        await docker.containers.list(filters={"name": [NAME]})
    elif kind == "logs":
        stream = container.log(stdout=True, follow=True, tail=1)
        async for _ in stream:
            break  # follow, then abandon
        await stream.aclose()
    elif kind == "exec":
        exe = await container.exec(["echo", "hi"])
        async with exe.start(detach=False) as stream:
            while await stream.read_out() is not None:
                pass
    elif kind == "archive":
        name = f"f{random.randrange(1 << 30)}"
        await container.put_archive("/tmp", tar_of(name, b"x" * 1024))
        tar = await container.get_archive(f"/tmp/{name}")
        tar.close()
    else:  # events: a short window
        since = int(time.time())
        stream = docker.system.events(since=since, until=since + 1)
        async for _ in stream:
            pass


KINDS = ["inspect", "list", "logs", "exec", "archive", "events"]
WEIGHTS = [30, 15, 15, 15, 15, 10]


def pooled(docker: aiodocker.Docker) -> int:
    transport: Any = docker._api.transport
    return len(getattr(transport, "_idle", ())) + len(getattr(transport, "_active", ()))


def rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost",
        )
    ]


LIBC = ctypes.CDLL(None) if sys.platform == "linux" else None
if LIBC is not None and hasattr(LIBC, "mallinfo2"):
    LIBC.mallinfo2.restype = _MallInfo2


def heap_mib() -> dict[str, float]:
    """glibc's bytes in use (mmapped chunks included) and free bytes kept in its arenas."""
    if LIBC is None or not hasattr(LIBC, "mallinfo2"):
        return {}
    info = LIBC.mallinfo2()
    return {
        "heap_used_mib": round((info.uordblks + info.hblkhd) / 2**20, 1),
        "heap_free_mib": round(info.fordblks / 2**20, 1),
    }


def type_counts() -> Counter[str]:
    return Counter(type(obj).__qualname__ for obj in gc.get_objects())


def print_growth(title: str, before: Counter[str], after: Counter[str]) -> None:
    grown = Counter(after)
    grown.subtract(before)
    print(f"  {title}:", flush=True)
    for name, count in grown.most_common(10):
        if count > 0:
            print(f"    {count:+8d}  {name}", flush=True)


async def soak(transport: str, env: dict[str, Any], args: argparse.Namespace) -> list[dict[str, Any]]:
    seconds, interval, concurrency = args.seconds, args.interval, args.concurrency
    docker = client(transport, env)
    container = await docker.containers.run(
        {"Image": env["image"], "Cmd": ["sh", "-c", "while true; do echo tick; sleep 1; done"]},
        name=f"{NAME}-{transport}",
    )
    counts: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    deadline = time.monotonic() + seconds

    async def worker() -> None:
        while time.monotonic() < deadline:
            kind = random.choices(KINDS, WEIGHTS)[0]
            try:
                await one_op(docker, container, kind)
                counts["ops"] += 1
            except Exception as exc:  # counted and shown: the target is zero
                errors[f"{kind}: {type(exc).__name__}: {str(exc)[:80]}"] += 1

    async def collector() -> None:
        while True:
            await asyncio.sleep(args.gc_every)
            gc.collect()

    samples: list[dict[str, Any]] = []
    workers = [asyncio.create_task(worker()) for _ in range(concurrency)]
    collecting = asyncio.create_task(collector()) if args.gc_every else None
    start = last = time.monotonic()
    last_ops = 0
    first_types: Counter[str] | None = None
    first_snapshot: tracemalloc.Snapshot | None = None
    if args.tracemalloc:
        tracemalloc.start(8)
    try:
        while time.monotonic() < deadline:
            await asyncio.sleep(min(interval, max(0.0, deadline - time.monotonic())))
            now = time.monotonic()
            if args.malloc_trim and LIBC is not None:
                LIBC.malloc_trim(0)
            sample = {
                "transport": transport,
                "t": round(now - start),
                "ops/s": round((counts["ops"] - last_ops) / (now - last), 1),
                "errors": sum(errors.values()),
                "fds": len(os.listdir("/proc/self/fd")),
                "pooled": pooled(docker),
                "rss_mib": round(rss_mib(), 1),
                "tasks": len(asyncio.all_tasks()),
                "threads": threading.active_count(),
                **heap_mib(),
            }
            last, last_ops = now, counts["ops"]
            samples.append(sample)
            print(json.dumps(sample), flush=True)
            if sample["t"] >= args.warmup:
                if args.objects:
                    types = type_counts()
                    if first_types is None:
                        first_types = types
                    last_types = types
                if args.tracemalloc:
                    snapshot = tracemalloc.take_snapshot()
                    if first_snapshot is None:
                        first_snapshot = snapshot
                    last_snapshot = snapshot
        await asyncio.gather(*workers)
        if first_types is not None:
            print_growth("object types grown since the first sample after warm-up", first_types, last_types)
        if first_snapshot is not None:
            print("  allocations grown since the first sample after warm-up:", flush=True)
            for stat in last_snapshot.compare_to(first_snapshot, "traceback")[:10]:
                print(f"    {stat.size_diff / 1024:+9.1f} KiB {stat.count_diff:+7d} blocks", flush=True)
                for line in stat.traceback.format()[-6:]:
                    print(f"      {line}", flush=True)
            tracemalloc.stop()
    finally:
        for task in workers:
            task.cancel()
        if collecting is not None:
            collecting.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        await container.delete(force=True)
        await docker.close()
    for error, count in errors.most_common(5):
        print(f"  {count} x {error}", flush=True)
    return samples


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180.0, help="per transport")
    parser.add_argument("--interval", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=30.0, help="seconds before the first sample compared")
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--transports", default="unix,tls,ssh")
    parser.add_argument("--malloc-trim", action="store_true", help="malloc_trim(0) before each sample")
    parser.add_argument("--gc-every", type=float, default=0.0, help="full gc.collect() every N seconds")
    parser.add_argument("--objects", action="store_true", help="print the object types that grew")
    parser.add_argument("--tracemalloc", action="store_true", help="print the allocations that grew (slow)")
    args = parser.parse_args()
    env = json.loads(ENV_JSON.read_text())
    table = []
    for transport in args.transports.split(","):
        samples = await soak(transport, env, args)
        warm = [sample for sample in samples if sample["t"] >= args.warmup] or samples[-1:]
        if warm:
            table.append((warm[0], warm[-1]))
    print("\ntransport  sample  t(s)  ops/s  errors  fds  pooled  rss_mib  tasks")
    for first, last in table:
        for label, sample in (("first", first), ("last", last)):
            print(
                f"{sample['transport']:<10} {label:<6} {sample['t']:>5} {sample['ops/s']:>6} "
                f"{sample['errors']:>7} {sample['fds']:>4} {sample['pooled']:>7} "
                f"{sample['rss_mib']:>8} {sample['tasks']:>6}"
            )
        change = {key: 100 * (last[key] - first[key]) / first[key] for key in ("fds", "rss_mib", "tasks")}
        print(f"{'':<10} change fds {change['fds']:+.1f} %, RSS {change['rss_mib']:+.1f} %, "
              f"tasks {change['tasks']:+.1f} %")


if __name__ == "__main__":
    asyncio.run(main())
