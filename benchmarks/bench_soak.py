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

    python benchmarks/bench_soak.py --seconds 60 --transports unix,tls,ssh
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import random
import ssl
import sys
import tarfile
import time
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


async def soak(transport: str, env: dict[str, Any], seconds: float, interval: float, concurrency: int) -> list[dict[str, Any]]:
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

    samples: list[dict[str, Any]] = []
    workers = [asyncio.create_task(worker()) for _ in range(concurrency)]
    start = last = time.monotonic()
    last_ops = 0
    try:
        while time.monotonic() < deadline:
            await asyncio.sleep(min(interval, max(0.0, deadline - time.monotonic())))
            now = time.monotonic()
            sample = {
                "transport": transport,
                "t": round(now - start),
                "ops/s": round((counts["ops"] - last_ops) / (now - last), 1),
                "errors": sum(errors.values()),
                "fds": len(os.listdir("/proc/self/fd")),
                "pooled": pooled(docker),
                "rss_mib": round(rss_mib(), 1),
                "tasks": len(asyncio.all_tasks()),
            }
            last, last_ops = now, counts["ops"]
            samples.append(sample)
            print(json.dumps(sample), flush=True)
        await asyncio.gather(*workers)
    finally:
        for task in workers:
            task.cancel()
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
    args = parser.parse_args()
    env = json.loads(ENV_JSON.read_text())
    table = []
    for transport in args.transports.split(","):
        samples = await soak(transport, env, args.seconds, args.interval, args.concurrency)
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
