"""Loading a compose project: aiodocker.compose beside Docker Compose 2.40.3's ``config``.

Run: python benchmarks/bench_compose_config.py [--compose-bin PATH] [--rounds 5]

The project is generated in a temporary directory: 200 services (ports, volumes,
environment, depends_on, healthchecks, labels, build, anchors, interpolation) in
compose.yaml, and three override files (-f) that change a third of them each.

Cases, each the median of --rounds runs:
  in-process  load_project(...) + to_json() in this interpreter (warm, after one load)
  process     `python -m aiodocker compose -f ... config --format json` as a child process
  reference   `docker-compose -f ... config --format json` as a child process
Target: each of ours at most half the reference's time.  The binary comes from
--compose-bin, else env.json's ``compose_bin`` (scripts/testenv.sh installs it).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVICES = 200


def write_project(directory: Path) -> list[str]:
    lines = [
        "x-common: &common",
        "  restart: unless-stopped",
        "  labels: {tier: app}",
        "  logging: {driver: json-file, options: {max-size: 10m}}",
        "services:",
    ]
    for i in range(SERVICES):
        lines += [
            f"  svc{i}:",
            "    <<: *common",
            f"    image: registry.example/app{i}:${{TAG:-latest}}",
            f"    ports: ['{10000 + i}:80', '127.0.0.1:{20000 + i}:443/udp']",
            f"    volumes: ['./data/{i}:/data:ro', 'vol{i % 10}:/cache']",
            "    environment:",
            f"      - INDEX={i}",
            "      - MODE=${MODE:-prod}",
            "      - FLAG",
            "    healthcheck: {test: curl -f http://localhost, interval: 30s, timeout: 5s, retries: 3}",
            f"    command: serve --port 80 --name svc{i}",
            "    mem_limit: 256m",
        ]
        if i:
            lines.append(f"    depends_on: [svc{i - 1}]")
        if i % 5 == 0:
            lines.append(f"    build: {{context: ./src/{i}, args: [VERSION=1]}}")
    lines.append("volumes:")
    lines += [f"  vol{k}: {{}}" for k in range(10)]
    (directory / "compose.yaml").write_text("\n".join(lines) + "\n")
    files = ["compose.yaml"]
    for n in range(3):
        over = ["services:"]
        for i in range(n, SERVICES, 3):
            over += [
                f"  svc{i}:",
                f"    environment: [OVERRIDE{n}=yes, INDEX=o{n}]",
                f"    ports: ['{30000 + n * 1000 + i}:8080']",
                f"    labels: [layer={n}]",
            ]
        name = f"override{n}.yaml"
        (directory / name).write_text("\n".join(over) + "\n")
        files.append(name)
    (directory / ".env").write_text("TAG=1.0\nMODE=bench\n")
    return files


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def compose_bin(given: str | None) -> str:
    if given:
        return given
    path = Path(os.environ.get("AIODOCKER_TESTENV_JSON", "/var/lib/aiodocker-testenv/env.json"))
    binary: str = json.loads(path.read_text())["compose_bin"]
    return binary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compose-bin")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    binary = compose_bin(args.compose_bin)
    sys.path.insert(0, str(ROOT))
    from aiodocker.compose import load_project

    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) / "bench"
        directory.mkdir()
        files = write_project(directory)
        flags = [word for f in files for word in ("-f", f)]
        env = {"HOME": tmp, "PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT)}
        ours = load_project(files, cwd=str(directory), environ=env).to_json()
        reference = subprocess.run([binary, *flags, "config", "--format", "json"], cwd=directory, env=env,
                                   capture_output=True, text=True, check=True).stdout
        assert json.loads(ours) == json.loads(reference), "outputs differ: the benchmark would mean nothing"
        in_process, process, ref = [], [], []
        for _ in range(args.rounds):
            start = time.perf_counter()
            load_project(files, cwd=str(directory), environ=env).to_json()
            in_process.append(time.perf_counter() - start)
            process.append(timed([sys.executable, "-m", "aiodocker", "compose", *flags, "config", "--format", "json"],
                                 directory, env))
            ref.append(timed([binary, *flags, "config", "--format", "json"], directory, env))
    r = statistics.median(ref)
    print(f"compose config, {SERVICES} services + 3 override files, median of {args.rounds}:")
    print(f"  docker-compose 2.40.3 (process) {r * 1000:8.1f} ms")
    for label, values in (("aiodocker in-process", in_process), ("aiodocker process", process)):
        m = statistics.median(values)
        print(f"  {label:31s} {m * 1000:8.1f} ms  {m / r:.2f}x reference (target <= 0.50x)")


if __name__ == "__main__":
    main()
