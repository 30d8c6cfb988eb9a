"""Docker Compose and ComposeProject manage each other's projects (on Docker 20.10 and 26).

Every test brings a project up with one tool and checks it with the other, on the
engine of the test (``DOCKER_HOST`` points the reference binary at it).  Projects are
named with the session prefix and taken down with ``docker-compose down -v`` after.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from compose_runtime_helpers import oracle_config, run_compose

from aiodocker import Docker
from aiodocker.compose import load_project
from aiodocker.compose._runtime_hash import service_hash
from aiodocker.compose.project import ComposeProject, ComposeServiceError

NO_HEALTHCHECKS = ("podman", "podman5")
# podman runs healthchecks from systemd timers, which the test environment lacks: a
# service_healthy dependency never resolves (docker-compose 2.40.3 waits forever too), so
# on podman the project depends on db being started, and tests of health are skipped
pytestmark = pytest.mark.engine_difference(
    "podman",
    "podman 4.3 here has no catatonit (init: true fails, for docker-compose too), and lists a "
    "container's networks by name where the ID belongs, so Compose recreates every running "
    "container on each up (test_runtime_diverge shows both tools alike there)",
)
needs_healthchecks = pytest.mark.engine_difference(
    NO_HEALTHCHECKS, "podman without systemd runs no healthchecks (Compose waits forever too)"
)

COMPOSE_FILE = """
name: {name}
services:
  db:
    image: {image}
    command: ["sh", "-c", "touch /tmp/ready; exec sleep 600"]
    init: true
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ready"]
      interval: 1s
      start_period: 5s
    volumes: ["data:/data"]
    networks: [back]
    stop_signal: SIGKILL
  job:
    image: {image}
    command: ["true"]
  web:
    image: {image}
    command: ["sleep", "600"]
    environment:
      GREETING: "hello <world> & more"
      EMPTY: ""
    labels:
      org.example.tier: front
    ports: ["127.0.0.1::80", "127.0.0.1::53/udp"]
    expose: ["8080"]
    depends_on:
      db: {{condition: service_healthy, restart: true}}
      job: {{condition: service_completed_successfully}}
    networks:
      default: {{aliases: [www]}}
      back: {{}}
    volumes:
      - "./site:/site:ro"
      - "data:/shared"
      - {{type: tmpfs, target: /scratch}}
    tmpfs: ["/run/x"]
    restart: unless-stopped
    stop_grace_period: 3s
    stop_signal: SIGINT
    working_dir: /site
    user: "0"
    cap_add: [NET_ADMIN]
    extra_hosts: ["gateway.example:10.0.0.1"]
    healthcheck:
      test: ["CMD-SHELL", "true"]
      interval: 2s
      retries: 2
    logging: {{driver: json-file, options: {{max-size: 1m}}}}
    pull_policy: never
  worker:
    image: {image}
    command: ["sleep", "600"]
    depends_on: [web]
    scale: 2
    stop_signal: SIGKILL
networks:
  back: {{}}
volumes:
  data: {{}}
"""


@dataclass
class Setup:
    """One project directory on one engine."""

    directory: Path
    name: str
    host: str
    docker: Docker

    def compose(self, *args: str, check: bool = True) -> Any:
        return run_compose(self.directory, *args, host=self.host, check=check)

    def project(self, **kwargs: Any) -> ComposeProject:
        model = load_project([str(self.directory / "compose.yaml")], environ={})
        return ComposeProject(self.docker, model, **kwargs)

    def write(self, text: str) -> None:
        (self.directory / "compose.yaml").write_text(text)


@pytest.fixture
async def setup(
    tmp_path: Path, make_name: Callable[..., str], engine: Any, docker: Docker
) -> AsyncIterator[Setup]:
    name = make_name("cmp")
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("hi")
    result = Setup(tmp_path, name, engine.host, docker)
    text = COMPOSE_FILE.format(name=name, image=engine.image)
    if engine.name in NO_HEALTHCHECKS:  # the same project, its health dependency relaxed
        text = text.replace("condition: service_healthy", "condition: service_started")
    result.write(text)
    try:
        yield result
    finally:
        result.compose("down", "-v", "--remove-orphans", "-t", "0", check=False)


def compose_ps(setup: Setup, *args: str) -> list[dict[str, Any]]:
    out = setup.compose("ps", "--format", "json", *args).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


async def container_ids(setup: Setup) -> dict[str, str]:
    return {item.name: item.id for item in await setup.project().ps(all=True)}


def _volume_name(mount: dict[str, Any]) -> str:
    name = str(mount.get("Name") or mount.get("Source") or "")
    return "<anonymous>" if len(name) == 64 and all(c in "0123456789abcdef" for c in name) else name


async def normalised_inspect(docker: Docker, name: str) -> dict[str, Any]:
    """The parts of a container's inspect that the file decides."""
    info = await docker.containers.container(name).show()
    config = dict(info["Config"])
    host = dict(info["HostConfig"])
    networks = {
        net: {
            "Aliases": sorted(
                alias for alias in (data.get("Aliases") or []) if alias != info["Id"][:12]
            ),
            "IPAMConfig": data.get("IPAMConfig") or {},
        }
        for net, data in info["NetworkSettings"]["Networks"].items()
    }
    config.pop("Hostname", None)
    # Compose builds binds and mounts from a Go map: their order varies from run to run
    host["Binds"] = sorted(host.get("Binds") or [])
    # the files publish random host ports only: podman writes the port it picked here
    host["PortBindings"] = {
        port: [{**bind, "HostPort": "<random>" if bind.get("HostPort") else ""} for bind in binds or []]
        for port, binds in (host.get("PortBindings") or {}).items()
    }
    host["Mounts"] = sorted(json.dumps(m, sort_keys=True) for m in host.get("Mounts") or [])
    # Compose's order is a Go map's: random; podman adds HOSTNAME=<the container's ID>
    own = f"HOSTNAME={info['Config'].get('Hostname')}"
    config["Env"] = sorted(item for item in config.get("Env") or [] if item != own)
    tags = dict(config.get("Labels") or {})
    deps = "com.docker.compose.depends_on"  # a Go map's order too
    tags[deps] = ",".join(sorted(tags.get(deps, "").split(",")))
    config["Labels"] = tags
    return {
        "Name": info["Name"],
        # anonymous volumes get random names: they compare by where they are mounted
        "Config": config,
        "HostConfig": host,
        "Networks": networks,
        "Mounts": sorted(
            (m["Type"], _volume_name(m), m["Destination"], m["RW"]) for m in info["Mounts"]
        ),
    }


def differences(ours: Any, theirs: Any, path: str = "") -> list[str]:
    """Return the paths where two inspect dicts differ, with both values."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        found = []
        for key in sorted(set(ours) | set(theirs)):
            found += differences(ours.get(key), theirs.get(key), f"{path}.{key}")
        return found
    return [] if ours == theirs else [f"{path}: ours {ours!r}, compose {theirs!r}"]


async def test_up_by_us_then_ps_and_down_v_by_compose(setup: Setup) -> None:
    ours = await setup.project().up()
    names = sorted(item.name for item in ours)
    assert names == sorted(
        f"{setup.name}-{service}-{n}"
        for service, n in (("db", 1), ("job", 1), ("web", 1), ("worker", 1), ("worker", 2))
    )
    listed = compose_ps(setup, "-a")
    assert sorted(item["Name"] for item in listed) == names
    states = {item["Service"]: item["State"] for item in listed}
    assert states == {"db": "running", "job": "exited", "web": "running", "worker": "running"}
    setup.compose("down", "-v", "-t", "0")
    assert await setup.project().ps(all=True) == []
    assert not await setup.docker.volumes.list(filters={"name": [f"{setup.name}_data"]}) or (
        f"{setup.name}_data"
        not in [v["Name"] for v in (await setup.docker.volumes.list())["Volumes"] or []]
    )
    networks = [n["Name"] for n in await setup.docker.networks.list()]
    assert f"{setup.name}_default" not in networks and f"{setup.name}_back" not in networks


async def test_up_by_compose_then_ps_and_down_v_by_us(setup: Setup) -> None:
    setup.compose("up", "-d", "--pull", "never")
    theirs = sorted(item["Name"] for item in compose_ps(setup, "-a"))
    project = setup.project()
    ours = await project.ps(all=True)
    assert sorted(item.name for item in ours) == theirs
    running = sorted(item.name for item in await project.ps())
    assert running == sorted(item["Name"] for item in compose_ps(setup))
    await project.down(volumes=True, timeout=0)
    assert compose_ps(setup, "-a") == []
    volumes = [v["Name"] for v in (await setup.docker.volumes.list())["Volumes"] or []]
    assert f"{setup.name}_data" not in volumes
    networks = [n["Name"] for n in await setup.docker.networks.list()]
    assert f"{setup.name}_default" not in networks and f"{setup.name}_back" not in networks


async def test_up_by_us_then_up_by_compose_recreates_nothing(setup: Setup) -> None:
    await setup.project().up()
    before = await container_ids(setup)
    setup.compose("up", "-d", "--pull", "never")
    assert await container_ids(setup) == before


async def test_up_by_compose_then_up_by_us_recreates_nothing(setup: Setup) -> None:
    setup.compose("up", "-d", "--pull", "never")
    before = await container_ids(setup)
    await setup.project().up()
    assert await container_ids(setup) == before


async def test_the_same_file_gives_the_same_containers(setup: Setup) -> None:
    setup.compose("up", "-d", "--pull", "never")
    names = sorted(await container_ids(setup))
    theirs = {name: await normalised_inspect(setup.docker, name) for name in names}
    setup.compose("down", "-v", "-t", "0")
    await setup.project().up()
    assert sorted(await container_ids(setup)) == names
    for name in names:
        ours = await normalised_inspect(setup.docker, name)
        found = differences(ours, theirs[name])
        assert not found, f"{name}: " + "; ".join(found)


async def test_a_changed_service_is_recreated_and_compose_then_changes_nothing(
    setup: Setup,
) -> None:
    await setup.project().up()
    before = await container_ids(setup)
    text = (setup.directory / "compose.yaml").read_text()
    setup.write(text.replace("GREETING: ", "CHANGED: x\n      GREETING: "))
    await setup.project().up()
    after = await container_ids(setup)
    web = f"{setup.name}-web-1"
    assert after[web] != before[web]
    unchanged = {name: cid for name, cid in before.items() if name != web}
    assert {name: after[name] for name in unchanged} == unchanged
    env = (await setup.docker.containers.container(web).show())["Config"]["Env"]
    assert "CHANGED=x" in env
    setup.compose("up", "-d", "--pull", "never")
    assert await container_ids(setup) == after


async def test_force_recreate_and_no_recreate(setup: Setup) -> None:
    project = setup.project()
    await project.up(["db"])
    first = await container_ids(setup)
    await project.up(["db"], force_recreate=True)
    second = await container_ids(setup)
    assert second.keys() == first.keys() and second != first
    setup.write((setup.directory / "compose.yaml").read_text().replace("interval: 1s", "interval: 3s"))
    await setup.project().up(["db"], no_recreate=True)
    assert await container_ids(setup) == second
    with pytest.raises(ValueError, match="mutually exclusive"):
        await project.up(force_recreate=True, no_recreate=True)


async def test_scale_up_and_down_keeps_the_numbers_compose_uses(setup: Setup) -> None:
    project = setup.project()
    await project.up(["worker"], no_deps=True, scale={"worker": 3})
    workers = [item.name for item in await project.ps(["worker"])]
    assert workers == [f"{setup.name}-worker-{n}" for n in (1, 2, 3)]
    setup.compose("up", "-d", "--pull", "never", "--no-deps", "--scale", "worker=3", "worker")
    assert [item.name for item in await project.ps(["worker"])] == workers
    await project.up(["worker"], no_deps=True, scale={"worker": 1})
    assert [item.name for item in await project.ps(["worker"], all=True)] == [workers[0]]


async def test_orphans_are_removed_only_when_asked(setup: Setup) -> None:
    await setup.project().up(["worker"], no_deps=True)
    text = (setup.directory / "compose.yaml").read_text()
    setup.write(text[: text.index("  worker:")] + text[text.index("networks:\n  back") :])
    smaller = setup.project()
    await smaller.up(["db"])
    assert {item.service for item in await smaller.ps(all=True)} == {"db", "worker"}
    await smaller.up(["db"], remove_orphans=True)
    assert {item.service for item in await smaller.ps(all=True)} == {"db"}


async def test_lifecycle_verbs_change_what_compose_sees(setup: Setup) -> None:
    project = setup.project()
    await project.up(["db"])
    await project.pause(["db"])  # -a: podman lists a paused container only with all=1
    assert [item["State"] for item in compose_ps(setup, "-a", "db")] == ["paused"]
    await project.unpause(["db"])
    await project.stop(["db"], timeout=0)
    assert [item["State"] for item in compose_ps(setup, "-a", "db")] == ["exited"]
    await project.start(["db"])
    assert [item["State"] for item in compose_ps(setup, "db")] == ["running"]
    killed = await project.kill(["db"])
    assert [item.name for item in killed] == [f"{setup.name}-db-1"]
    await setup.docker.containers.container(killed[0].id).wait()
    await project.rm(["db"])
    assert compose_ps(setup, "-a", "db") == []
    created = await project.create(["db"])
    assert [item.state for item in created] == ["created"]


@needs_healthchecks
async def test_wait_returns_once_healthy(setup: Setup) -> None:
    result = await setup.project().up(["db"], wait=True, wait_timeout=60)
    db = setup.compose("ps", "--format", "json", "db").stdout
    assert json.loads(db)["Health"] == "healthy"
    assert [item.health for item in result] == ["healthy"] or result[0].state == "running"


async def test_a_failed_dependency_names_the_service(setup: Setup) -> None:
    text = (setup.directory / "compose.yaml").read_text()
    setup.write(text.replace('command: ["true"]', 'command: ["sh", "-c", "exit 3"]'))
    with pytest.raises(ComposeServiceError, match=r"web.*job.*exit 3"):
        await setup.project().up(["web"])
    setup.write(
        text.replace('command: ["true"]', 'command: ["sh", "-c", "exit 3"]').replace(
            "job: {condition: service_completed_successfully}",
            "job: {condition: service_completed_successfully, required: false}",
        )
    )
    await setup.project().up(["web"])
    assert [item.state for item in await setup.project().ps(["web"])] == ["running"]


async def test_a_recreated_dependency_restarts_dependents_with_restart_true(setup: Setup) -> None:
    project = setup.project()
    await project.up()
    before = await container_ids(setup)
    web = f"{setup.name}-web-1"
    started = (await setup.docker.containers.container(web).show())["State"]["StartedAt"]
    text = (setup.directory / "compose.yaml").read_text()
    setup.write(text.replace("    init: true\n", "    init: true\n    environment: {V: '2'}\n", 1))
    await setup.project().up()
    after = await container_ids(setup)
    db = f"{setup.name}-db-1"
    assert after[db] != before[db]
    assert after[web] == before[web]  # web (restart: true on db) is restarted, not recreated
    restarted = (await setup.docker.containers.container(web).show())["State"]["StartedAt"]
    assert restarted != started
    worker = f"{setup.name}-worker-1"  # depends on web without restart: left alone
    assert after[worker] == before[worker]


SECRETS_FILE = """
name: {name}
services:
  a:
    image: {image}
    command: ["sleep", "600"]
    stop_signal: SIGKILL
    secrets: [s1, {{source: s2, target: custom}}, {{source: s3, target: /abs/path}}]
    configs: [c1, {{source: c2, target: /etc/c2}}, c3]
secrets:
  s1: {{file: ./s.txt}}
  s2: {{file: ./s.txt}}
  s3: {{environment: SECRET_VALUE}}
configs:
  c1: {{file: ./c.txt}}
  c2: {{content: "inline content"}}
  c3: {{environment: SECRET_VALUE}}
"""


@pytest.mark.engine_difference(
    "podman5",
    "podman 5 runs in a chroot here: the host files a project bind-mounts are not in it",
)
async def test_secrets_and_configs_are_provided_as_compose_provides_them(
    setup: Setup, engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SECRET_VALUE", "from-env")
    (setup.directory / "s.txt").write_text("s3cret")
    (setup.directory / "c.txt").write_text("conf")
    setup.write(SECRETS_FILE.format(name=setup.name, image=engine.image))
    name = f"{setup.name}-a-1"
    script = "for f in /run/secrets/s1 /run/secrets/custom /abs/path /c1 /etc/c2 /c3; do " \
        "echo $f=$(cat $f) $(stat -c %a $f); done"  # fmt: skip

    async def contents() -> str:
        container = setup.docker.containers.container(name)
        execution = await container.exec(["sh", "-c", script])
        async with execution.start(detach=False) as stream:
            chunks = []
            while (message := await stream.read_out()) is not None:
                chunks.append(message.data.decode())
        return "".join(chunks)

    setup.compose("up", "-d", "--pull", "never")
    theirs = (await contents(), await normalised_inspect(setup.docker, name))
    before = await container_ids(setup)
    model = load_project([str(setup.directory / "compose.yaml")])
    await ComposeProject(setup.docker, model).up()
    assert await container_ids(setup) == before  # same hash: nothing recreated
    setup.compose("down", "-t", "0")
    await ComposeProject(setup.docker, model).up()
    ours = (await contents(), await normalised_inspect(setup.docker, name))
    assert "/run/secrets/custom=s3cret" in ours[0] and "/abs/path=from-env 444" in ours[0]
    assert "/etc/c2=inline content 444" in ours[0]
    assert ours[0] == theirs[0]
    found = differences(ours[1], theirs[1])
    assert not found, "; ".join(found)


NETWORKS_FILE = """
name: {name}
services:
  base:
    image: {image}
    command: ["sleep", "600"]
    stop_signal: SIGKILL
    networks:
      fixed: {{ipv4_address: {prefix}.10, aliases: [b-alias]}}
      ext: {{}}
    volumes: ["/anon", "named:/named"]
  side:
    image: {image}
    command: ["sleep", "600"]
    stop_signal: SIGKILL
    network_mode: "service:base"
    volumes_from: ["base:ro"]
    depends_on: [base]
  linker:
    image: {image}
    command: ["sleep", "600"]
    stop_signal: SIGKILL
    links: ["base:bb"]
    networks: [fixed]
    depends_on: [base]
networks:
  fixed:
    ipam: {{config: [{{subnet: {prefix}.0/24}}]}}
  ext:
    external: true
    name: {external}
volumes:
  named: {{}}
"""


@pytest.mark.engine_difference(
    ("podman", "podman5"), "podman has no links (docker-compose fails too: link is not supported)"
)
async def test_fixed_addresses_external_networks_and_shared_namespaces_match_compose(
    setup: Setup, engine: Any
) -> None:
    external = f"{setup.name}-ext"
    await setup.docker.networks.create({"Name": external})
    octet = 200 + int(setup.name[-2:], 16) % 50
    try:
        setup.write(
            NETWORKS_FILE.format(
                name=setup.name, image=engine.image, prefix=f"10.{octet}.{octet}",
                external=external,
            )
        )  # fmt: skip
        setup.compose("up", "-d", "--pull", "never")
        names = sorted(await container_ids(setup))
        theirs = {name: await normalised_inspect(setup.docker, name) for name in names}
        theirs_base_id = (await container_ids(setup))[f"{setup.name}-base-1"]
        theirs_side_hash = theirs[f"{setup.name}-side-1"]["Config"]["Labels"][
            "com.docker.compose.config-hash"
        ]
        setup.compose("down", "-v", "-t", "0")
        project = setup.project()
        await project.up()
        assert sorted(await container_ids(setup)) == names
        ours_base_id = (await container_ids(setup))[f"{setup.name}-base-1"]
        # Compose hashes side with base's container ID in it: the same rule gives the
        # reference's hash for the reference's base
        spec = dict(oracle_config(setup.directory)["services"]["side"])
        spec.update(network_mode=f"container:{theirs_base_id}", volumes_from=[theirs_base_id])
        assert service_hash(spec) == theirs_side_hash
        expected_side_hash = service_hash(
            {**spec, "network_mode": f"container:{ours_base_id}", "volumes_from": [ours_base_id]}
        )
        side_labels = (await setup.docker.containers.container(f"{setup.name}-side-1").show())[
            "Config"
        ]["Labels"]

        def ours_hash(_: str) -> str:
            return str(side_labels["com.docker.compose.config-hash"])

        base = await setup.docker.containers.container(f"{setup.name}-base-1").show()
        fixed = base["NetworkSettings"]["Networks"][f"{setup.name}_fixed"]
        assert fixed["IPAddress"] == f"10.{octet}.{octet}.10"
        assert external in base["NetworkSettings"]["Networks"]
        for name in names:
            ours = await normalised_inspect(setup.docker, name)
            if name.endswith("side-1"):
                # it names base's container by ID (in its hash too): base differs per run
                base_ids = {theirs_base_id: "<base>", ours_base_id: "<base>"}
                for run in (ours, theirs[name]):
                    host = run["HostConfig"]
                    host["NetworkMode"] = host["NetworkMode"].split(":")[0]
                    host["VolumesFrom"] = [base_ids.get(v, v) for v in host["VolumesFrom"]]
                    run["Config"]["Labels"].pop("com.docker.compose.config-hash")
                    run["Mounts"] = sorted(m[2:] for m in run["Mounts"])
                assert ours_hash(name) == expected_side_hash
            found = differences(ours, theirs[name])
            assert not found, f"{name}: " + "; ".join(found)
        before = await container_ids(setup)
        setup.compose("up", "-d", "--pull", "never")  # accepts ours: nothing recreated
        assert await container_ids(setup) == before
        await project.down(volumes=True, timeout=0)
        assert [n["Name"] for n in await setup.docker.networks.list(filters={"name": [external]})]
    finally:
        setup.compose("down", "-v", "-t", "0", check=False)
        await (await setup.docker.networks.get(external)).delete()
