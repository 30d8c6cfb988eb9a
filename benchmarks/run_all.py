"""Run every benchmark of the repository against its raw baseline and print one markdown table.

    python benchmarks/run_all.py [--socket /var/run/docker.sock] [--rounds 3] [--compat]
        [--log-mb 200] [--archive-mb 500] [--put-mb 200] [--image-mb 200] [--containers 200]

Each scenario runs this client and the raw-socket baseline written in its script
(``bench_core``, ``bench_api``, ``bench_logs_archive``, ``bench_images``), every
client in a fresh interpreter, taking turns within each round so noise on the
shared machine hits them alike; the order rotates by one place each round, so
that no client always runs in the same place (right after the same other one,
in the daemon state it left). A ratio is taken within a round (client against
the baseline of the same round) and the median over rounds is shown: speed is
the baseline's wall time over the client's (above 1 is faster than raw), CPU is
the client's process CPU over the baseline's (below 1 is cheaper than raw).

``--compat`` adds aiodocker 0.27 and docker-py 7.1, installed by pip into a venv
under /tmp (never into this environment: both packages share names with this
one's world). Where orjson is installed, the JSON scenarios run twice: as
installed, and with orjson hidden (the stdlib ``json`` path).

The load scenarios (``bench_load``: a burst under ``ulimit -n 1024``, inspects
beside open follows, idle sockets) print a table of their own after it.

Two scenarios show a second baseline beside the raw one, as its own column
(its ratio is against the same raw round): ``raw sendfile`` uploads the file
with ``loop.sendfile``; ``raw to a temp file`` is the raw client's
``get_archive``: the raw baseline of that row only counts the bytes it
receives, so it yields no tar, while this one writes them to an unnamed
temporary file (each piece as it is decoded, in the loop) and opens that as a
tar: the end result the caller of ``get_archive`` gets.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final, TypeVar

HERE: Final = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import bench_api  # noqa: E402
import bench_core  # noqa: E402
import bench_images  # noqa: E402
import bench_load  # noqa: E402
import bench_logs_archive  # noqa: E402

COMPAT_VENV: Final = Path(tempfile.gettempdir()) / "aiodocker-bench-compat"
COMPAT_PACKAGES: Final = ("aiodocker==0.27.0", "docker==7.1.0")
NO_ORJSON: Final = {**os.environ, bench_core.NO_ORJSON_ENV: "1"}
MB: Final = 1024 * 1024

T = TypeVar("T")
Measure = dict[str, float]  # wall, cpu (seconds), rss (MB, where measured)


class Row:
    """One scenario: the rounds of each client, and what the client must show."""

    def __init__(self, name: str, target: str, check: Callable[[Row], bool] | None) -> None:
        self.name = name
        self.target = target
        self.check = check
        self.rounds: dict[str, list[Measure]] = {}

    def add(self, client: str, measure: Measure) -> None:
        self.rounds.setdefault(client, []).append(measure)

    def speed(self, client: str) -> float:
        pairs = zip(self.rounds[client], self.rounds["raw"], strict=False)
        return statistics.median(base["wall"] / own["wall"] for own, base in pairs)

    def cpu(self, client: str) -> float:
        pairs = zip(self.rounds[client], self.rounds["raw"], strict=False)
        return statistics.median(own["cpu"] / base["cpu"] for own, base in pairs)

    def rss(self, client: str) -> float | None:
        values = [m["rss"] for m in self.rounds[client] if "rss" in m]
        return max(values) if values else None


def wait_for_daemon(socket_path: str, limit: float = 600) -> None:
    """Wait until the daemon answers a ping again (the test daemons here get restarted)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            with socket.socket(socket.AF_UNIX) as sock:
                sock.settimeout(2)
                sock.connect(socket_path)
                sock.sendall(b"GET /_ping HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n")
                if b" 200 " in sock.recv(64):
                    return
        except OSError:
            pass
        time.sleep(5)
    raise RuntimeError(f"the daemon at {socket_path} did not come back within {limit:.0f} s")


def turns(clients: list[str], round_index: int) -> list[str]:
    """The order the clients run in round ``round_index``: rotated by one each round.

    Over the rounds every client takes every place, so a cost that falls on one place
    (the daemon collecting the garbage of the run before, caches warmed by it) does
    not fall on one client only.
    """
    shift = round_index % len(clients)
    return clients[shift:] + clients[:shift]


def retrying(run: Callable[[], T], socket_path: str, attempts: int = 3) -> T:
    """Run ``run`` (one whole round, so pairs stay paired); redo it if the daemon went away."""
    for attempt in range(attempts):
        try:
            return run()
        except Exception as exc:
            if attempt == attempts - 1:
                raise
            print(f"  redoing a round after {type(exc).__name__}", file=sys.stderr, flush=True)
            wait_for_daemon(socket_path)
    raise AssertionError("unreachable")


# --- scenarios ------------------------------------------------------------------------------


def core_rows(options: argparse.Namespace, json_variants: list[str]) -> list[Row]:
    container = bench_core.docker_cli("create", "--name", f"aiodocker-bench-{uuid.uuid4().hex[:8]}", options.image, "true")
    ping = Row(f"{bench_core.PING_COUNT:,} sequential pings", "", None)
    inspect = Row(
        f"{bench_core.INSPECT_COUNT:,} inspects at concurrency {bench_core.CONCURRENCY}",
        "CPU <= 1.15x",
        lambda row: row.cpu("client") <= 1.15,
    )
    try:
        for round_index in range(options.rounds):
            for row, case in ((ping, "ping"), (inspect, "inspect")):
                count = bench_core.PING_COUNT if case == "ping" else bench_core.INSPECT_COUNT

                def one_round(case: str = case, count: int = count, index: int = round_index) -> dict[str, Measure]:
                    measures = {}
                    for client in turns(["raw", *json_variants], index):
                        env = NO_ORJSON if client.endswith("(json)") else None
                        name = "raw" if client == "raw" else "aiodocker"
                        result = bench_core.spawn(
                            "asyncio", name, case, options.socket, container, env=env
                        )
                        wall = count / result["rps"]
                        measures[client] = {"wall": wall, "cpu": result["cpu_us"] * count / 1e6}
                    return measures

                for client, measure in retrying(one_round, options.socket).items():
                    row.add(client, measure)
    finally:
        bench_core.docker_cli("rm", "-f", container)
    return [ping, inspect]


def api_rows(options: argparse.Namespace, json_variants: list[str], compat: str | None) -> list[Row]:
    listing = Row(
        f"`containers.list(all=True)` of {options.containers}+ containers",
        ">= 1.0x, CPU <= 1.2x (json), < 1.0x (orjson)",
        lambda row: all(row.speed(c) >= 1.0 for c in json_variants)
        and all(
            row.cpu(c) < (1.2 if c.endswith("(json)") else 1.0) for c in json_variants
        ),
    )
    lifecycle = Row(
        f"{bench_api.LIFECYCLES} container lifecycles at concurrency {bench_api.LIFECYCLE_CONCURRENCY}",
        "",
        None,
    )
    put = Row(
        f"`put_archive` of {options.put_mb} MB from a file",
        "CPU <= 0.6x",
        lambda row: row.cpu("client") <= 0.6,
    )
    imports = Row(
        '`python -c "import aiodocker"` (whole process)',
        "time <= 1.2x",
        lambda row: 1 / row.speed("client") <= 1.2,
    )
    imports_all = Row(
        '`python -c "from aiodocker.docker import *"` (every resource module; 0.27 and docker-py: their import)',
        "",
        None,
    )
    python = {"raw": sys.executable, "raw sendfile": sys.executable}
    python.update(dict.fromkeys(json_variants, sys.executable))
    compat_clients = list(bench_api.COMPAT_CLIENTS) if compat else []
    python.update(dict.fromkeys(compat_clients, compat or ""))

    workdir = Path(tempfile.mkdtemp(prefix="aiodocker-bench-"))
    wait_for_daemon(options.socket)
    asyncio.run(bench_api.make_containers(options.socket, options.image, options.containers))
    try:
        target = asyncio.run(_sleeper(options.socket, options.image))
        tar_path = workdir / "put.tar"
        bench_api.make_tar(tar_path, options.put_mb)
        cases: list[tuple[Row, str, str, list[str]]] = [
            (listing, "list", "", ["raw", *json_variants, *compat_clients]),
            (lifecycle, "lifecycle", options.image, ["raw", "client", *compat_clients]),
            (put, "put", f"{target},{tar_path}", ["raw", "raw sendfile", "client", *compat_clients]),
        ]
        for row, case, arg, clients in cases:
            for round_index in range(options.rounds):

                def one_round(
                    case: str = case, arg: str = arg, clients: list[str] = clients, index: int = round_index
                ) -> dict[str, Measure]:
                    measures = {}
                    for client in turns(clients, index):
                        env = NO_ORJSON if client.endswith("(json)") else None
                        name = "client" if client.startswith("client") else client
                        measures[client] = bench_api.spawn(
                            python[client], case, name, options.socket, arg, env=env
                        )
                    return measures

                for client, measure in retrying(one_round, options.socket).items():
                    row.add(client, measure)
            print(f"  {row.name}: done", file=sys.stderr, flush=True)
        for row, codes in ((imports, bench_api.IMPORTS), (imports_all, bench_api.IMPORTS_ALL)):
            for client, runs in bench_api.measure_imports(compat, options.rounds, codes).items():
                for run in runs:
                    row.add(client, run)
    finally:
        wait_for_daemon(options.socket)
        asyncio.run(bench_api.remove_labelled(options.socket))
        shutil.rmtree(workdir, ignore_errors=True)
    return [listing, lifecycle, put, imports, imports_all]


async def _sleeper(socket: str, image: str) -> str:
    import aiodocker

    async with aiodocker.Docker(url=f"unix://{socket}") as docker:
        container = await docker.containers.create(
            {"Image": image, "Cmd": ["sleep", "3600"], "Labels": {bench_api.LABEL: "1"}}
        )
        await container.start()
        return container.id


def stream_rows(options: argparse.Namespace) -> list[Row]:
    logs = Row(f"{options.log_mb} MB of logs (`log_messages()`)", "", None)
    log_list = Row(
        f"{options.log_mb} MB of logs through `log()` (0.27's list: held whole)", "", None
    )
    archive = Row(
        f"`get_archive` of a {options.archive_mb} MB file (0.27 API)",
        ">= 0.95x, peak RSS growth < 64 MB",
        lambda row: row.speed("client") >= 0.95 and (row.rss("client") or 0) < 64,
    )
    wait_for_daemon(options.socket)
    logs_id, archive_id = asyncio.run(
        bench_logs_archive.make_containers(options.socket, options.log_mb, options.archive_mb)
    )
    plan = [
        (logs, logs_id, {"raw": "logs/raw socket baseline", "client": "logs/client log_messages()"}),
        (log_list, logs_id, {"raw": "logs/raw socket baseline", "client": "logs/client log() (compat, a list)"}),
        (
            archive,
            archive_id,
            {
                "raw": "archive/raw socket baseline",  # counts the bytes: no tar to read
                "client": "archive/client get_archive() (compat, spooled)",
                "raw to a temp file": "archive/raw socket to a temp file",  # the same end result
            },
        ),
    ]
    try:
        for row, container, cases in plan:
            for round_index in range(options.rounds):

                def one_round(
                    cases: dict[str, str] = cases, container: str = container, index: int = round_index
                ) -> dict[str, Measure]:
                    measures = {}
                    for client in turns(list(cases), index):
                        case = cases[client]
                        r = bench_logs_archive.run_case(case, options.socket, container)
                        measures[client] = {"wall": r["wall"], "cpu": r["cpu"], "rss": r["rss_growth_mb"]}
                    return measures

                for client, measure in retrying(one_round, options.socket).items():
                    row.add(client, measure)
            print(f"  {row.name}: done", file=sys.stderr, flush=True)
    finally:
        wait_for_daemon(options.socket)
        asyncio.run(bench_logs_archive.remove_containers(options.socket, logs_id, archive_id))
    return [logs, log_list, archive]


def image_rows(options: argparse.Namespace) -> list[Row]:
    size = options.image_mb
    under_64 = "peak RSS growth < 64 MB"
    rows = {
        "save": Row(f"image save of {size} MB", under_64, lambda row: (row.rss("client") or 0) < 64),
        "load": Row(f"image load of {size} MB from a path", under_64, lambda row: (row.rss("client") or 0) < 64),
        "build": Row(f"build context of {size} MB from a directory", under_64, lambda row: (row.rss("client") or 0) < 64),
    }
    sock = options.socket
    suffix = uuid.uuid4().hex[:8]
    big = f"aiodocker-test-bench-big-{suffix}:latest"
    built = {client: f"aiodocker-test-bench-ctx-{suffix}:{client}" for client in ("raw", "client")}
    workdir = Path(tempfile.mkdtemp(prefix="aiodocker-bench-images-"))
    try:
        bench_images.make_big_image(sock, options.image, big, size, workdir)
        tar_path = workdir / "big.tar"
        bench_images.docker_cli(sock, "save", "-o", str(tar_path), big)
        context = workdir / "context"
        bench_images.make_context(options.image, size, context)
        cases = {
            "save": ({"raw": "save/raw socket", "client": "save/client save()"}, lambda c: [sock, big]),
            "load": ({"raw": "load/raw socket", "client": "load/client load()"}, lambda c: [sock, str(tar_path)]),
            "build": (
                {"raw": "build/raw socket", "client": "build/client build(path=)"},
                lambda c: [sock, str(context), built[c]],
            ),
        }
        for kind, (names, args) in cases.items():
            for round_index in range(options.rounds):

                def one_round(names: dict[str, str] = names, args: Any = args, index: int = round_index) -> dict[str, Measure]:
                    measures = {}
                    for client in turns(list(names), index):
                        case = names[client]
                        r = bench_images.run_case(case, args(client))
                        measures[client] = {"wall": r["wall"], "cpu": r["cpu"], "rss": r["rss_growth_mb"]}
                    return measures

                for client, measure in retrying(one_round, options.socket).items():
                    rows[kind].add(client, measure)
            print(f"  {rows[kind].name}: done", file=sys.stderr, flush=True)
    finally:
        for ref in [big, *built.values()]:
            subprocess.run(["docker", "-H", f"unix://{sock}", "image", "rm", "-f", ref], capture_output=True, check=False)
        shutil.rmtree(workdir, ignore_errors=True)
    return list(rows.values())


# --- set-up and report ------------------------------------------------------------------------


def compat_python() -> str:
    """The python of a venv under /tmp holding aiodocker 0.27 and docker-py 7.1 (made once)."""
    python = COMPAT_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(COMPAT_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *COMPAT_PACKAGES], check=True)
    return str(python)


def docker_version(socket: str) -> str:
    out = subprocess.run(
        ["docker", "-H", f"unix://{socket}", "version", "--format", "{{.Server.Version}}"],
        capture_output=True, text=True, check=False,
    )
    return out.stdout.strip() or "unknown"


def cell(row: Row, client: str) -> str:
    if client not in row.rounds or "raw" not in row.rounds:
        return "—"
    if row.name.startswith("`python -c"):
        return f"{1 / row.speed(client):.2f}x time ({min(m['wall'] for m in row.rounds[client]):.3f} s)"
    text = f"{row.speed(client):.2f}x, CPU {row.cpu(client):.2f}x"
    rss = row.rss(client)
    if rss is not None:
        text += f", RSS +{rss:.0f} MB"
    return text


def report(rows: list[Row], options: argparse.Namespace, json_variants: list[str], compat: bool) -> str:
    clients = [*json_variants]
    for extra in ("raw sendfile", "raw to a temp file"):  # second baselines, beside the raw one
        if any(extra in row.rounds for row in rows):
            clients.append(extra)
    if compat:
        clients += list(bench_api.COMPAT_CLIENTS)
    header = ["scenario", *("this client" if c == "client" else c for c in clients), "target", "met"]
    lines = [
        f"Run {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC on {platform.node()}: "
        f"{os.cpu_count()} cores, {platform.machine()}, Linux {platform.release()}, "
        f"Python {platform.python_version()}, Docker {docker_version(options.socket)}; "
        f"median of {options.rounds} paired rounds. Cells: speed x raw (above 1 is faster), "
        f"CPU x raw (below 1 is cheaper), peak RSS growth where measured.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for row in rows:
        met = "" if row.check is None else ("yes" if row.check(row) else "**no**")
        cells = [cell(row, client) for client in clients]
        lines.append("| " + " | ".join([row.name, *cells, row.target or "—", met or "—"]) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--socket", default="/var/run/docker.sock")
    parser.add_argument("--image", default=bench_api.IMAGE)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--containers", type=int, default=200)
    parser.add_argument("--put-mb", type=int, default=200)
    parser.add_argument("--log-mb", type=int, default=200)
    parser.add_argument("--archive-mb", type=int, default=500)
    parser.add_argument("--image-mb", type=int, default=200)
    parser.add_argument("--compat", action="store_true", help="add aiodocker 0.27 and docker-py 7.1")
    parser.add_argument(
        "--only", nargs="+", choices=["core", "api", "streams", "images", "load"],
        default=["core", "api", "streams", "images", "load"],
    )
    options = parser.parse_args()
    try:
        import orjson  # noqa: F401
    except ImportError:
        json_variants = ["client"]
    else:
        json_variants = ["client", "client (json)"]
    compat = compat_python() if options.compat else None
    rows: list[Row] = []
    try:
        if "core" in options.only:
            rows += core_rows(options, json_variants)
        if "api" in options.only:
            rows += api_rows(options, json_variants, compat)
        if "streams" in options.only:
            rows += stream_rows(options)
        if "images" in options.only:
            rows += image_rows(options)
    finally:  # a failing section still leaves the table of the sections before it
        print(report(rows, options, json_variants, compat is not None), flush=True)
    if "load" in options.only:  # its own table: counts, sockets and latencies, not ratios to raw
        load_args = ["--socket", options.socket, "--image", options.image]
        if compat is not None:
            load_args += ["--compat-python", compat]
        print("\nLoad (`bench_load.py`):\n", flush=True)
        print(bench_load.table(bench_load.parser().parse_args(load_args)), flush=True)
    return 0 if all(row.check is None or row.check(row) for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
