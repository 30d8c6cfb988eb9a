"""Running a compose project: aiodocker.compose beside Docker Compose 2.40.3, wall time.

Run: python benchmarks/bench_compose.py [--compose-bin PATH] [--rounds 3] [--host URL]

The project (generated in a temporary directory, the test image, ``pull_policy:
never``) has 20 services in a three-level dependency chain: 4 roots with
healthchecks, 6 services that wait for the roots to be healthy and have healthchecks
of their own, and 10 that wait for those.  Each round, for each tool:

  up        `up -d` from nothing (networks, volume, 20 containers, health waits)
  up-again  `up -d` with nothing changed (nothing may be recreated)
  ps        `ps`
  down      `down -v`

Tools: ``api`` (ComposeProject in this interpreter), ``cli`` (`python -m aiodocker
compose ...` as a child process) and ``reference`` (`docker-compose ...`). The table
shows the median of --rounds rounds. Target: ours no slower than the reference.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
IMAGE = "aiodocker-test/busybox:latest"
STEPS = ("up", "up-again", "ps", "down")


def write_project(directory: Path, name: str) -> None:
    health = "    healthcheck: {test: ['CMD', 'true'], interval: 1s, retries: 30}\n"
    lines = [f"name: {name}\n", "services:\n"]
    levels = [[f"root{i}" for i in range(4)], [f"mid{i}" for i in range(6)],
              [f"leaf{i}" for i in range(10)]]  # fmt: skip
    for level, names in enumerate(levels):
        for index, service in enumerate(names):
            lines.append(f"  {service}:\n    image: {IMAGE}\n    pull_policy: never\n")
            lines.append("    command: ['sleep', '3600']\n    stop_signal: SIGKILL\n")
            lines.append(f"    environment: {{LEVEL: '{level}', INDEX: '{index}'}}\n")
            if level < 2:
                lines.append(health)
            if level == 0:
                lines.append("    volumes: ['data:/data']\n")
            if level > 0:
                parents = levels[level - 1]
                deps = {parents[index % len(parents)], parents[(index + 1) % len(parents)]}
                lines.append("    depends_on:\n")
                for dep in sorted(deps):
                    lines.append(f"      {dep}: {{condition: service_healthy}}\n")
    lines.append("volumes:\n  data: {}\n")
    (directory / "compose.yaml").write_text("".join(lines))


def timed(func: Callable[[], object]) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def run(cmd: list[str], directory: Path, env: dict[str, str]) -> None:
    result = subprocess.run(cmd, cwd=directory, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {result.stderr}")


def round_reference(binary: str, directory: Path, env: dict[str, str]) -> dict[str, float]:
    return {
        "up": timed(lambda: run([binary, "up", "-d"], directory, env)),
        "up-again": timed(lambda: run([binary, "up", "-d"], directory, env)),
        "ps": timed(lambda: run([binary, "ps"], directory, env)),
        "down": timed(lambda: run([binary, "down", "-v", "-t", "0"], directory, env)),
    }


def round_cli(directory: Path, env: dict[str, str]) -> dict[str, float]:
    base = [sys.executable, "-m", "aiodocker", "compose", "-f", str(directory / "compose.yaml")]
    return {
        "up": timed(lambda: run([*base, "up", "-d"], directory, env)),
        "up-again": timed(lambda: run([*base, "up", "-d"], directory, env)),
        "ps": timed(lambda: run([*base, "ps"], directory, env)),
        "down": timed(lambda: run([*base, "down", "-v", "-t", "0"], directory, env)),
    }


async def round_api(directory: Path, host: str | None) -> dict[str, float]:
    from aiodocker import Docker
    from aiodocker.compose import load_project
    from aiodocker.compose.project import ComposeProject

    times: dict[str, float] = {}
    async with Docker(url=host) as docker:
        start = time.perf_counter()
        project = ComposeProject(docker, load_project([str(directory / "compose.yaml")]))
        first = await project.up()
        times["up"] = time.perf_counter() - start
        start = time.perf_counter()
        project = ComposeProject(docker, load_project([str(directory / "compose.yaml")]))
        again = await project.up()
        times["up-again"] = time.perf_counter() - start
        if sorted(c.id for c in first) != sorted(c.id for c in again):
            raise SystemExit("up-again recreated containers")
        start = time.perf_counter()
        await project.ps()
        times["ps"] = time.perf_counter() - start
        start = time.perf_counter()
        await project.down(volumes=True, timeout=0)
        times["down"] = time.perf_counter() - start
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compose-bin")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--host", default=os.environ.get("DOCKER_HOST"))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    binary = args.compose_bin
    if binary is None:
        env_json = Path(os.environ.get("AIODOCKER_TESTENV_JSON", "/var/lib/aiodocker-testenv/env.json"))
        binary = json.loads(env_json.read_text())["compose_bin"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # the CLI runs as an installed package would: bytecode cached (outside the tree)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = tempfile.mkdtemp(prefix="bench-compose-pyc-")
    if args.host:
        env["DOCKER_HOST"] = args.host
    results: dict[str, dict[str, list[float]]] = {
        tool: {step: [] for step in STEPS} for tool in ("api", "cli", "reference")
    }
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        for _ in range(args.rounds):
            for tool in ("reference", "api", "cli"):
                write_project(directory, f"aiodocker-test-bench-{uuid.uuid4().hex[:8]}")
                if tool == "reference":
                    times = round_reference(binary, directory, env)
                elif tool == "cli":
                    times = round_cli(directory, env)
                else:
                    times = asyncio.run(round_api(directory, args.host))
                for step, value in times.items():
                    results[tool][step].append(value)
    medians = {
        tool: {step: statistics.median(values) for step, values in steps.items()}
        for tool, steps in results.items()
    }
    if args.json:
        print(json.dumps(medians, indent=2))
        return
    print(f"{'step':<10} {'reference':>10} {'api':>10} {'cli':>10} {'api/ref':>8} {'cli/ref':>8}")
    for step in STEPS:
        ref = medians["reference"][step]
        api = medians["api"][step]
        cli = medians["cli"][step]
        print(f"{step:<10} {ref:>9.2f}s {api:>9.2f}s {cli:>9.2f}s {api / ref:>8.2f} {cli / ref:>8.2f}")


if __name__ == "__main__":
    main()
