"""Load: a burst of calls under a low file limit, short calls beside open streams, idle expiry.

    python benchmarks/bench_load.py [--socket /var/run/docker.sock] [--compat-python PY]

Three scenarios, each client in a fresh interpreter whose soft ``RLIMIT_NOFILE`` is
set to ``--nofile`` (default 1024, the common ``ulimit -n``) with
``resource.setrlimit`` before it imports the client:

* ``shows``: ``--shows`` (10,000) concurrent ``container.show()`` on one client.
  Every call must succeed. Reports the calls that succeeded, the peak of sockets
  open (file descriptors above the count before the burst, sampled every 5 ms),
  wall time and process CPU.
* ``follows``: ``--follows`` (100) followed logs of one running container, all
  open, then ``--inspects`` (1,000) concurrent inspects beside them; p50 and p99
  of the inspects' latency, and how many finished within ``--deadline`` s.
* ``idle``: a burst of 200 concurrent ``show()``, then ``--idle`` (30) s idle:
  the sockets still open then (aiohttp and this client close idle ones after 15 s).

``--compat-python`` names an interpreter with aiodocker 0.27 installed (a venv: the
two share the import name), run beside this client. ``run_all.py --compat`` passes
its own.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Final

HERE: Final = Path(__file__).resolve().parent
ROOT: Final = HERE.parent
IMAGE: Final = "aiodocker-test/busybox:latest"


# --- the child: one scenario, one client ----------------------------------------------------


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


class Peak:
    """Samples the open file descriptors every 5 ms while running."""

    def __init__(self) -> None:
        self.base = open_fds()
        self.peak = self.base
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            self.peak = max(self.peak, open_fds())
            await asyncio.sleep(0.005)

    def __enter__(self) -> Peak:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()

    @property
    def sockets(self) -> int:
        return self.peak - self.base


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def scenario_shows(docker: Any, container_id: str, options: argparse.Namespace) -> dict[str, Any]:
    target = docker.containers.container(container_id)
    await target.show()  # negotiation and the first connection, before the count starts
    errors: list[str] = []

    async def one() -> bool:
        try:
            await target.show()
        except Exception as exc:  # every failure is counted, the first few kept
            if len(errors) < 3:
                errors.append(f"{type(exc).__name__}: {exc}"[:200])
            return False
        return True

    started, cpu = time.perf_counter(), cpu_seconds()
    with Peak() as peak:
        results = await asyncio.gather(*(one() for _ in range(options.shows)))
    return {
        "ok": sum(results),
        "calls": options.shows,
        "peak_sockets": peak.sockets + 1,  # the idle connection from before the burst counts
        "wall": time.perf_counter() - started,
        "cpu": cpu_seconds() - cpu,
        "errors": errors,
    }


async def scenario_follows(docker: Any, container_id: str, options: argparse.Namespace) -> dict[str, Any]:
    target = docker.containers.container(container_id)
    await target.show()
    opened = 0
    all_open = asyncio.Event()

    async def follow() -> None:
        nonlocal opened
        async for _ in target.log(stdout=True, follow=True):
            opened += 1
            if opened == options.follows:
                all_open.set()
            await asyncio.sleep(3600)

    follows = [asyncio.create_task(follow()) for _ in range(options.follows)]
    try:
        try:
            await asyncio.wait_for(all_open.wait(), options.deadline)
        except asyncio.TimeoutError:
            pass
        latencies: list[float] = []

        async def inspect() -> None:
            started = time.perf_counter()
            await target.show()
            latencies.append(time.perf_counter() - started)

        tasks = [asyncio.create_task(inspect()) for _ in range(options.inspects)]
        started = time.perf_counter()
        done, pending = await asyncio.wait(tasks, timeout=options.deadline)
        wall = time.perf_counter() - started
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        failed = sum(1 for task in done if task.exception() is not None)
        latencies.sort()

        def quantile(q: float) -> float | None:
            return latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else None

        return {
            "follows_open": opened,
            "follows": options.follows,
            "ok": len(latencies),
            "failed": failed,
            "inspects": options.inspects,
            "p50": quantile(0.50),
            "p99": quantile(0.99),
            "wall": wall,
            "deadline": options.deadline,
        }
    finally:
        for task in follows:
            task.cancel()
        await asyncio.gather(*follows, return_exceptions=True)


async def scenario_idle(docker: Any, container_id: str, options: argparse.Namespace) -> dict[str, Any]:
    target = docker.containers.container(container_id)
    base = open_fds()
    await asyncio.gather(*(target.show() for _ in range(200)))
    after_burst = open_fds() - base
    await asyncio.sleep(options.idle)
    return {"after_burst": after_burst, "after_idle": open_fds() - base, "idle": options.idle}


SCENARIOS: Final = {"shows": scenario_shows, "follows": scenario_follows, "idle": scenario_idle}


def child(options: argparse.Namespace) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (options.nofile, hard))
    if options.client == "this":
        sys.path.insert(0, str(ROOT))
    import aiodocker

    async def run() -> dict[str, Any]:
        docker = aiodocker.Docker(url=f"unix://{options.socket}")
        try:
            result: dict[str, Any] = await SCENARIOS[options.scenario](docker, options.container, options)
        finally:
            await docker.close()
        result["nofile"] = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        return result

    print(json.dumps(asyncio.run(run())))


# --- the parent: containers, children, the table ---------------------------------------------


def docker_cli(socket: str, *args: str) -> str:
    out = subprocess.run(
        ["docker", "-H", f"unix://{socket}", *args], capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def run_child(python: str, client: str, scenario: str, container: str, options: argparse.Namespace) -> dict[str, Any]:
    argv = [
        python, str(Path(__file__).resolve()), "--child", scenario, "--client", client,
        "--container", container, "--socket", options.socket, "--nofile", str(options.nofile),
        "--shows", str(options.shows), "--follows", str(options.follows),
        "--inspects", str(options.inspects), "--idle", str(options.idle),
        "--deadline", str(options.deadline),
    ]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # 0.27 must not see ours
    out = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        return {"crashed": (out.stderr.strip().splitlines() or ["no output"])[-1][:200]}
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def ms(value: float | None) -> str:
    return "—" if value is None else f"{value * 1000:.0f} ms"


def cell(scenario: str, r: dict[str, Any]) -> str:
    if "crashed" in r:
        return f"crashed: {r['crashed']}"
    if scenario == "shows":
        text = (
            f"{r['ok']:,}/{r['calls']:,} ok, peak {r['peak_sockets']} sockets, "
            f"{r['wall']:.1f} s, CPU {r['cpu']:.1f} s"
        )
        if r["errors"]:
            text += f" (first error: {r['errors'][0][:80]})"
        return text
    if scenario == "follows":
        text = f"{r['follows_open']}/{r['follows']} follows open; {r['ok']:,}/{r['inspects']:,} inspects ok"
        if r["ok"] < r["inspects"]:
            text += f" within {r['deadline']:g} s"
        return text + f", p50 {ms(r['p50'])}, p99 {ms(r['p99'])}"
    return f"{r['after_burst']} after the burst, {r['after_idle']} after {r['idle']:g} s idle"


def table(options: argparse.Namespace) -> str:
    clients = {"this client": sys.executable}
    if options.compat_python:
        clients["aiodocker 0.27"] = options.compat_python
    tag = uuid.uuid4().hex[:8]
    idle_one = docker_cli(options.socket, "run", "-d", "--name", f"aiodocker-bench-load-{tag}", options.image, "sleep", "3600")
    talker = docker_cli(
        options.socket, "run", "-d", "--name", f"aiodocker-bench-talk-{tag}", options.image,
        "sh", "-c", "echo start; sleep 3600",
    )
    rows = {
        "shows": f"{options.shows:,} concurrent `show()` under `ulimit -n {options.nofile}`",
        "follows": f"{options.inspects:,} inspects beside {options.follows} open follows",
        "idle": f"sockets open after a burst of 200 and {options.idle:g} s idle",
    }
    results: dict[str, dict[str, dict[str, Any]]] = {}
    try:
        for scenario in rows:
            for name, python in clients.items():
                client = "this" if name == "this client" else "compat"
                container = talker if scenario == "follows" else idle_one
                results.setdefault(scenario, {})[name] = run_child(python, client, scenario, container, options)
                print(f"  {scenario} / {name}: {results[scenario][name]}", file=sys.stderr, flush=True)
    finally:
        subprocess.run(["docker", "-H", f"unix://{options.socket}", "rm", "-f", idle_one, talker], capture_output=True, check=False)
    header = ["scenario", *clients]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for scenario, title in rows.items():
        lines.append("| " + " | ".join([title, *(cell(scenario, results[scenario][c]) for c in clients)]) + " |")
    return "\n".join(lines)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--socket", default="/var/run/docker.sock")
    p.add_argument("--image", default=IMAGE)
    p.add_argument("--compat-python", default=None, help="a python with aiodocker 0.27 installed")
    p.add_argument("--nofile", type=int, default=1024)
    p.add_argument("--shows", type=int, default=10_000)
    p.add_argument("--follows", type=int, default=100)
    p.add_argument("--inspects", type=int, default=1_000)
    p.add_argument("--idle", type=float, default=30.0)
    p.add_argument("--deadline", type=float, default=30.0, help="seconds the follows scenario waits")
    p.add_argument("--child", choices=list(SCENARIOS), help=argparse.SUPPRESS)
    p.add_argument("--client", choices=["this", "compat"], default="this", help=argparse.SUPPRESS)
    p.add_argument("--container", help=argparse.SUPPRESS)
    return p


def main() -> int:
    options = parser().parse_args()
    if options.child:
        options.scenario = options.child
        child(options)
        return 0
    print(table(options))
    return 0


if __name__ == "__main__":
    sys.exit(main())
