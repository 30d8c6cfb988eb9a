"""Recreates, changed networks and volumes, and env-file labels: ComposeProject as Compose.

One project per tool goes through the same steps on the engine of the test: up; a
changed service (recreated: the ``replace`` label) with an explicit ``--env-file``; a
changed network (removed and created again, its containers kept); a changed volume
(kept without ``-y``, recreated with its containers with ``-y``). After each step the
observable state of both projects, normalised, must be equal, and is checked against
what Docker Compose 2.40 is known to do; then each tool's ``up`` on the other's project
recreates nothing. It runs on podman too (the reference binary
talks to its Docker API); podman 4.3 makes Compose recreate more, as noted below.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from compose_runtime_helpers import compose_bin, run_compose

from aiodocker import Docker
from aiodocker.compose import load_project
from aiodocker.compose.project import ComposeProject

FILE = """
name: {name}
services:
  a:
    image: {image}
    command: ["sleep", "600"]
    stop_signal: SIGKILL
    environment: {{X: "{x}"}}
    networks: {{n1: {{aliases: [al1]}}}}
    volumes: ["v1:/data"]
  b:
    image: {image}
    command: ["sleep", "600"]
    stop_signal: SIGKILL
    container_name: {name}-fixed
    environment: {{X: "{x}"}}
networks:
  n1: {{labels: {{step: "{net}"}}}}
volumes:
  v1: {{labels: {{step: "{vol}"}}}}
"""

ENV_LABEL = "com.docker.compose.project.environment_file"
REPLACE_LABEL = "com.docker.compose.replace"
HASH_LABEL = "com.docker.compose.config-hash"


class Side:
    """One project directory driven by one tool."""

    def __init__(self, directory: Path, name: str, image: str, host: str, docker: Docker):
        self.directory, self.name, self.image, self.host = directory, name, image, host
        self.docker = docker
        directory.mkdir()
        (directory / ".env").write_text("DEFAULT_ENV=1\n")
        (directory / "extra.env").write_text("EXTRA_ENV=1\n")

    def write(self, x: str, net: str, vol: str) -> None:
        text = FILE.format(name=self.name, image=self.image, x=x, net=net, vol=vol)
        (self.directory / "compose.yaml").write_text(text)

    async def up(self, *, ours: bool, env_file: bool = False, yes: bool = False) -> None:
        if ours:
            model = load_project(
                env_files=["extra.env"] if env_file else None,
                environ={},
                cwd=str(self.directory),
            )
            await ComposeProject(self.docker, model).up(assume_yes=yes)
            return
        args = (["--env-file", "extra.env"] if env_file else []) + ["up", "-d"]
        env = {**os.environ, "DOCKER_HOST": self.host}
        for key in ("COMPOSE_PROJECT_NAME", "COMPOSE_FILE", "COMPOSE_ENV_FILES"):
            env.pop(key, None)
        result = subprocess.run(  # stdin at EOF: Compose's prompts are answered "no"
            [compose_bin(), *args, *(["-y"] if yes else [])],
            cwd=self.directory,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr

    async def state(self) -> dict[str, Any]:
        """The observable state, with this side's names and IDs taken out."""
        out: dict[str, Any] = {}
        for key, container in (("a", f"{self.name}-a-1"), ("b", f"{self.name}-fixed")):
            info = await self.docker.containers.container(container).show()
            found = info["Config"]["Labels"]
            networks = info["NetworkSettings"]["Networks"]
            replace = found.get(REPLACE_LABEL)
            out[key] = {
                "id": info["Id"],
                "running": info["State"]["Running"],
                "replace": None if replace is None else replace.replace(self.name, "<p>"),
                "env_file": (found.get(ENV_LABEL) or "").replace(str(self.directory), "<dir>"),
                "networks": {
                    net.replace(self.name, "<p>"): {
                        "id": value["NetworkID"],
                        "aliases": sorted(
                            alias.replace(self.name, "<p>")
                            for alias in value.get("Aliases") or ()
                            if alias != info["Id"][:12]
                        ),
                    }
                    for net, value in networks.items()
                },
            }
        volume = await (await self.docker.volumes.get(f"{self.name}_v1")).show()
        out["volume"] = {"step": volume["Labels"].get("step"), "hash": volume["Labels"][HASH_LABEL]}
        network = await (await self.docker.networks.get(f"{self.name}_n1")).show()
        out["network"] = {"id": network["Id"], "step": network["Labels"].get("step")}
        return out


def _changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """What a step did, in terms equal across tools (IDs only as kept or changed)."""
    return {
        "a_kept": before["a"]["id"] == after["a"]["id"],
        "b_kept": before["b"]["id"] == after["b"]["id"],
        "network_kept": before["network"]["id"] == after["network"]["id"],
        "a_on_new_network": after["a"]["networks"]["<p>_n1"]["id"] == after["network"]["id"],
        "volume_hash_kept": before["volume"]["hash"] == after["volume"]["hash"],
        "volume_step": after["volume"]["step"],
        "network_step": after["network"]["step"],
        **{
            f"{key}_{field}": after[key][field]
            for key in ("a", "b")
            for field in ("running", "replace", "env_file", "networks")
            if field != "networks"
        },
        "a_aliases": {net: value["aliases"] for net, value in after["a"]["networks"].items()},
    }


async def test_recreate_network_volume_and_env_file_as_compose(
    tmp_path: Path, make_name: Callable[..., str], engine: Any, docker: Docker
) -> None:
    sides = {
        ours: Side(tmp_path / ("ours" if ours else "oracle"), make_name("dvg"), engine.image,
                   engine.host, docker)
        for ours in (True, False)
    }  # fmt: skip
    steps: dict[bool, list[dict[str, Any]]] = {True: [], False: []}
    plan: list[tuple[tuple[str, str, str], dict[str, bool]]] = [
        (("1", "1", "1"), {}),  # first up: only the default .env (no label)
        (("2", "1", "1"), {"env_file": True}),  # a and b changed: recreated
        (("2", "2", "1"), {"env_file": True}),  # n1 changed: recreated, a kept
        (("2", "2", "2"), {"env_file": True}),  # v1 changed: kept (prompt answered no)
        (("2", "2", "2"), {"env_file": True, "yes": True}),  # -y: v1 and a recreated
    ]
    try:
        for ours, side in sides.items():
            previous: dict[str, Any] | None = None
            for (x, net, vol), flags in plan:
                side.write(x, net, vol)
                await side.up(ours=ours, **flags)
                current = await side.state()
                steps[ours].append(_changes(previous or current, current))
                previous = current
        assert steps[True] == steps[False]
        kept_by_other: dict[bool, tuple[bool, bool]] = {}
        for ours, side in sides.items():  # then the other tool's up keeps both containers
            before = await side.state()
            await side.up(ours=not ours, env_file=True)
            after = await side.state()
            same = [before[key]["id"] == after[key]["id"] for key in ("a", "b")]
            kept_by_other[ours] = (same[0], same[1])
        assert kept_by_other[True] == kept_by_other[False]
        if engine.name != "podman":  # podman 4.3: see below
            assert kept_by_other[True] == (True, True)
        first, recreate, network, kept, recreated = steps[False]
        assert first["a_replace"] is None and first["a_env_file"] == ""
        assert recreate["a_replace"] == "a-1" and not recreate["a_kept"]
        assert recreate["b_replace"] == "<p>-fixed" and not recreate["b_kept"]
        assert recreate["a_env_file"] == "<dir>/extra.env"
        if engine.name == "podman":
            # podman 4.3 gives a network an ID made from its name (the same after it is
            # created again) and lists a container's networks with the name where the
            # ID belongs: Compose then recreates every running container on every up
            assert network["network_kept"] and not network["b_kept"] and network["a_kept"]
            assert not kept["b_kept"] and not recreated["b_kept"]
            assert kept_by_other[True] == (False, False)
            return
        assert recreate["a_aliases"]["<p>_n1"] == ["<p>-a-1", "a", "al1"]
        assert network["a_kept"] and not network["network_kept"] and network["a_running"]
        assert network["a_on_new_network"] and network["a_aliases"]["<p>_n1"] == []
        assert kept["volume_hash_kept"] and kept["volume_step"] == "1" and kept["a_kept"]
        assert not recreated["volume_hash_kept"] and recreated["volume_step"] == "2"
        assert not recreated["a_kept"] and recreated["a_replace"] is None
        assert recreated["b_kept"] and recreated["a_running"]
    finally:
        for side in sides.values():
            run_compose(side.directory, "down", "-v", "-t", "0", host=side.host, check=False)
