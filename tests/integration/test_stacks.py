"""Swarm stacks against the docker CLI's ``docker stack`` on both test swarms (20.10 and 26).

Each stack file under ``stacks/`` is deployed twice on the same swarm, one after
the other: by the docker CLI of the swarm's version (20.10: the system ``docker``;
26: env.json's ``docker26_cli``) and by :func:`aiodocker.compose.stack.deploy_stack`.
The stored service specs (``GET /services``), with ids and the stack name taken
out, must be equal, and so must the networks, secrets, configs and warnings. The
project dict is what ``docker compose config --format json`` prints for the file
(the package's own loader is the subject of the compose model's tests).
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from testenv import require

from aiodocker import compose
from aiodocker.__main__ import main as aiodocker_main
from aiodocker.compose.stack import Stack, deploy_stack, list_stacks
from aiodocker.exceptions import DockerError
from aiodocker.networks import DockerNetwork

if TYPE_CHECKING:
    from swarm_fixtures import SwarmCluster

pytest_plugins = ["swarm_fixtures"]
pytestmark = [pytest.mark.swarm, pytest.mark.asyncio(loop_scope="session")]

STACKS = Path(__file__).parent / "stacks"
FILES = sorted(path.name for path in STACKS.iterdir() if (path / "stack.yml").is_file())
NAMESPACE = "com.docker.stack.namespace"


def docker_cli(version: str) -> str:
    """The docker CLI of the daemon's major version."""
    if version.startswith("20."):
        path = shutil.which("docker")
        assert path, "the docker 20.10 CLI (Debian docker.io) is not installed"
        return path
    return str(require("docker26_cli"))


def stack_env(swarm: SwarmCluster, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DOCKER_HOST", "DOCKER_CONTEXT")
    }
    env.update(STACK_IMAGE=swarm.image, STACK_PREFIX=f"{swarm.name('pfx')}", **extra)
    return env


def load_project(directory: Path, env: dict[str, str]) -> compose.Project:
    """The project of ``directory/stack.yml``, loaded by this package."""
    return compose.load_project([str(directory / "stack.yml")], environ=env)


class Cli:
    """The docker CLI pointed at the swarm's manager, with a private config directory."""

    def __init__(self, swarm: SwarmCluster, binary: str, config_dir: Path) -> None:
        self.swarm = swarm
        self.binary = binary
        self.config_dir = config_dir

    async def run(
        self, *args: str, env: dict[str, str] | None = None, check: bool = True
    ) -> tuple[str, str]:
        environ = dict(env or stack_env(self.swarm))
        environ["DOCKER_CONFIG"] = str(self.config_dir)
        process = await asyncio.create_subprocess_exec(
            self.binary,
            "-H",
            self.swarm.manager.endpoint.url,
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=environ,
        )
        out, err = await process.communicate()
        if check and process.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)} failed: {err.decode()}")
        return out.decode(), err.decode()


async def cli_rm(cli: Cli, name: str) -> None:
    """``docker stack rm NAME``, again while the daemon says a network is still in use by a task.

    The CLI removes the networks right after the services, and the 26 daemon refuses
    while the services' tasks still hold them; the CLI's answer is to run it again.
    """
    for _ in range(20):
        _, err = await cli.run("stack", "rm", name, check=False)
        if "is in use by task" not in err:
            assert "Failed" not in err, err
            return
        await asyncio.sleep(1)
    raise AssertionError(f"docker stack rm {name} kept failing: {err}")


@pytest.fixture
async def cli(swarm: SwarmCluster, tmp_path: Path) -> Cli:
    version = (await swarm.manager.version())["Version"]
    return Cli(swarm, docker_cli(version), tmp_path)


async def snapshot(swarm: SwarmCluster, name: str) -> dict[str, Any]:
    """The stack's objects as stored, with ids and the stack name replaced by placeholders."""
    docker = swarm.manager
    label = {"label": [f"{NAMESPACE}={name}"]}

    async def allocated() -> bool:
        # the allocator fills a new swarm network's driver a moment after its creation
        return all(net.get("Driver") for net in await docker.networks.list(filters=label))

    await swarm.wait_for(allocated, what=f"the networks of {name} to be allocated", timeout=30)
    network_names = {net["Id"]: net["Name"] for net in await docker.networks.list()}
    services = {s["Spec"]["Name"]: s["Spec"] for s in await docker.services.list(filters=label)}
    networks = sorted(
        (
            {
                key: net.get(key)
                for key in ("Name", "Driver", "Scope", "Internal", "Attachable", "Labels")
            }
            | {
                "Options": {
                    k: v for k, v in (net.get("Options") or {}).items() if "vxlanid" not in k
                }
            }
            for net in await docker.networks.list(filters=label)
        ),
        key=lambda net: str(net["Name"]),
    )
    secrets = sorted(
        (
            {"Name": s["Spec"]["Name"], "Labels": s["Spec"].get("Labels")}
            for s in await docker.secrets.list(filters=label)
        ),
        key=lambda item: str(item["Name"]),
    )
    configs = sorted(
        (
            {
                "Name": c["Spec"]["Name"],
                "Labels": c["Spec"].get("Labels"),
                "Data": c["Spec"].get("Data"),
            }
            for c in await docker.configs.list(filters=label)
        ),
        key=lambda item: str(item["Name"]),
    )
    for spec in services.values():
        container = spec["TaskTemplate"]["ContainerSpec"]
        for ref in container.get("Secrets") or []:
            ref.pop("SecretID")
        for ref in container.get("Configs") or []:
            ref.pop("ConfigID")
        # the CLI sorts references by name only: two of one config come in either order
        for key in ("Secrets", "Configs"):
            if container.get(key):
                container[key].sort(key=lambda ref: json.dumps(ref, sort_keys=True))
        for net in spec["TaskTemplate"].get("Networks") or []:
            net["Target"] = network_names.get(net["Target"], net["Target"])
    text = json.dumps(
        {"services": services, "networks": networks, "secrets": secrets, "configs": configs}
    )
    text = text.replace(f'"{name}_', '"STACK_').replace(f'"{name}"', '"STACK"')
    result: dict[str, Any] = json.loads(text)
    return result


async def wait_removed(swarm: SwarmCluster, name: str) -> None:
    label = {"label": [f"{NAMESPACE}={name}"]}

    async def gone() -> bool:
        docker = swarm.manager
        return not (
            await docker.services.list(filters=label)
            or await docker.networks.list(filters=label)
            or await docker.secrets.list(filters=label)
            or await docker.configs.list(filters=label)
        )

    await swarm.wait_for(gone, what=f"stack {name} to be removed", timeout=60)


async def remove_network(network: DockerNetwork) -> bool:
    """Remove ``network``; False while the removed services' tasks still hold it."""
    try:
        await network.delete()
    except DockerError as exc:
        if exc.status == 404:
            return True
        return False
    return True


def warning_lines(text: str) -> list[str]:
    """The CLI's 'Ignoring ...' warnings, as our deploy reports them."""
    blocks = [block.strip() for block in text.split("\n\n") if block.strip()]
    lines = []
    for index, block in enumerate(blocks):
        if block.startswith("Ignoring unsupported options"):
            lines.append(block)
        if block == "Ignoring deprecated options:":
            reasons = []
            for following in blocks[index + 1 :]:
                if following.startswith(("Since --detach", "Ignoring", "Creating", "Updating")):
                    break
                reasons.append(following)
            if reasons:
                lines.append("Ignoring deprecated options:\n\n" + "\n\n".join(reasons))
    return lines


@pytest.mark.parametrize("case", FILES)
async def test_deploy_makes_the_objects_docker_stack_deploy_makes(
    swarm: SwarmCluster, cli: Cli, case: str
) -> None:
    directory = STACKS / case
    env = stack_env(swarm, EXT_NET=swarm.name("zz-extnet"), EXT_SECRET=swarm.name("extsecret"))
    project = load_project(directory, env)
    cli_name, our_name = swarm.name("cli"), swarm.name("our")
    # "zz-": the services' networks are sorted by name, so the external one must sort
    # after both stacks' own default networks for the two specs to list them alike
    external = "external" in case
    if external:  # what the file declares external must exist before either deploy
        network = await swarm.manager.networks.create(
            {"Name": env["EXT_NET"], "Driver": "overlay", "Scope": "swarm"}
        )
        secret = await swarm.manager.secrets.create(env["EXT_SECRET"], "token")
    try:
        _, err = await cli.run(
            "stack",
            "deploy",
            "--resolve-image",
            "never",
            "-c",
            str(directory / "stack.yml"),
            cli_name,
            env=env,
        )
        expected = await snapshot(swarm, cli_name)
        await cli_rm(cli, cli_name)
        await wait_removed(swarm, cli_name)
        result = await deploy_stack(swarm.manager, project, our_name, resolve_image="never")
        actual = await snapshot(swarm, our_name)
    finally:
        for name in (cli_name, our_name):
            await Stack(swarm.manager, name).rm()
        if external:
            await swarm.manager.secrets.delete(secret["ID"])
            await swarm.wait_for(lambda: remove_network(network), what="the external network to go")
    assert expected["services"], "the CLI deployed nothing"
    assert actual == expected
    assert result.warnings == warning_lines(err)
    assert sorted(result.created) == sorted(f"{our_name}_{key}" for key in project.services)


async def test_the_cli_manages_a_stack_this_package_deployed(swarm: SwarmCluster, cli: Cli) -> None:
    name = swarm.name("ours")
    env = stack_env(swarm)
    project = load_project(STACKS / "11-secrets-configs", env)
    try:
        await deploy_stack(
            swarm.manager, project, name, resolve_image="never", detach=False, timeout=120
        )
        out, _ = await cli.run("stack", "ls", "--format", "{{.Name}} {{.Services}}")
        assert f"{name} 1" in out.splitlines()
        out, _ = await cli.run("stack", "services", name, "--format", "{{.Name}} {{.Replicas}}")
        assert out.split() == [f"{name}_app", "1/1"]
        out, _ = await cli.run("stack", "ps", name, "--format", "{{.Name}} {{.CurrentState}}")
        assert out.startswith(f"{name}_app.1 Running")
        await cli_rm(cli, name)
        await wait_removed(swarm, name)
        assert name not in [stack.name for stack in await list_stacks(swarm.manager)]
    finally:
        await Stack(swarm.manager, name).rm()


async def test_this_package_manages_a_stack_the_cli_deployed(swarm: SwarmCluster, cli: Cli) -> None:
    name = swarm.name("cli")
    env = stack_env(swarm)
    try:
        await cli.run(
            "stack",
            "deploy",
            "--resolve-image",
            "never",
            "-c",
            str(STACKS / "10-networks" / "stack.yml"),
            name,
            env=env,
        )
        stack = Stack(swarm.manager, name)
        assert [s["Spec"]["Name"] for s in await stack.services()] == [f"{name}_db", f"{name}_web"]
        assert any(
            summary.name == name and summary.services == 2
            for summary in await list_stacks(swarm.manager)
        )

        async def both_running() -> list[dict[str, Any]] | None:
            tasks = await stack.ps(filters={"desired-state": "running"})
            running = [task for task in tasks if task["Status"]["State"] == "running"]
            return running if len(running) == 2 else None

        tasks = await swarm.wait_for(both_running, what="the CLI stack's tasks", timeout=120)
        service_ids = {s["ID"] for s in await stack.services()}
        assert {task["ServiceID"] for task in tasks} == service_ids
        # a redeploy of the same file by this package finds nothing to change
        project = load_project(STACKS / "10-networks", env)
        again = await deploy_stack(swarm.manager, project, name, resolve_image="never")
        assert (again.created, again.updated) == ([], [])
        assert sorted(again.unchanged) == [f"{name}_db", f"{name}_web"]
        removed = await stack.rm()
        assert sorted(removed.services) == [f"{name}_db", f"{name}_web"]
        assert sorted(removed.networks) == [f"{name}_back", f"{name}_front"]
        out, _ = await cli.run("stack", "ls", "--format", "{{.Name}}")
        assert name not in out.split()
        await wait_removed(swarm, name)
    finally:
        await Stack(swarm.manager, name).rm()


async def versions(swarm: SwarmCluster, name: str) -> dict[str, int]:
    services = await swarm.manager.services.list(filters={"label": [f"{NAMESPACE}={name}"]})
    return {s["Spec"]["Name"]: s["Version"]["Index"] for s in services}


async def test_redeploy_updates_only_the_changed_service_and_prunes(swarm: SwarmCluster) -> None:
    name = swarm.name("re")
    front, back = f"{name}_front", f"{name}_back"
    directory = STACKS / "02-replicated"
    try:
        # detach=False: once the tasks run, the allocator no longer touches the services
        # (it bumps their version once after creation)
        first = await deploy_stack(
            swarm.manager,
            load_project(directory, stack_env(swarm)),
            name,
            resolve_image="never",
            detach=False,
            timeout=120,
        )
        assert sorted(first.created) == [back, front]
        before = await versions(swarm, name)
        same = await deploy_stack(
            swarm.manager, load_project(directory, stack_env(swarm)), name, resolve_image="never"
        )
        assert (same.updated, sorted(same.unchanged)) == ([], [back, front])
        assert await versions(swarm, name) == before
        changed = load_project(directory, stack_env(swarm, BACK_REPLICAS="2")).to_dict()
        second = await deploy_stack(swarm.manager, changed, name, resolve_image="never")
        assert (second.updated, second.unchanged) == ([back], [front])
        after = await versions(swarm, name)
        assert after[front] == before[front]
        assert after[back] > before[back]
        spec = (await swarm.manager.services.inspect(back))["Spec"]
        assert spec["Mode"]["Replicated"]["Replicas"] == 2
        del changed["services"]["front"]
        kept = await deploy_stack(swarm.manager, changed, name, resolve_image="never")
        assert kept.removed == [] and front in await versions(swarm, name)
        pruned = await deploy_stack(swarm.manager, changed, name, resolve_image="never", prune=True)
        assert (pruned.removed, pruned.unchanged) == ([front], [back])
        assert list(await versions(swarm, name)) == [back]
    finally:
        await Stack(swarm.manager, name).rm()


async def read_in_task(swarm: SwarmCluster, service: str, *paths: str) -> list[str]:
    """The files at ``paths`` inside the running container of ``service``'s one task."""
    tasks = await swarm.manager.tasks.list(
        filters={"service": [service], "desired-state": ["running"]}
    )
    running = [task for task in tasks if task["Status"]["State"] == "running"]
    assert len(running) == 1, tasks
    task = running[0]
    node = swarm.manager if task["NodeID"] == swarm.manager_node_id else swarm.worker
    container = node.containers.container(task["Status"]["ContainerStatus"]["ContainerID"])
    contents = []
    for path in paths:
        exe = await container.exec(["cat", path])
        async with exe.start(detach=False) as stream:
            out = b""
            while (message := await stream.read_out()) is not None:
                out += message.data
        contents.append(out.decode())
    return contents


async def object_versions(swarm: SwarmCluster, name: str) -> dict[str, int]:
    """Version.Index of the stack's services, secrets and configs, by name."""
    label = {"label": [f"{NAMESPACE}={name}"]}
    docker = swarm.manager
    return {
        str(item["Spec"]["Name"]): int(item["Version"]["Index"])
        for items in (
            await docker.services.list(filters=label),
            await docker.secrets.list(filters=label),
            await docker.configs.list(filters=label),
        )
        for item in items
    }


async def test_a_changed_secret_and_config_rotate_and_the_container_sees_them(
    swarm: SwarmCluster, cli: Cli, tmp_path: Path
) -> None:
    name = swarm.name("rot")
    app, password, conf = f"{name}_app", f"{name}_password", f"{name}_app_conf"
    directory = tmp_path / "rotate"
    shutil.copytree(STACKS / "11-secrets-configs", directory)
    stack_file = directory / "stack.yml"
    # quick rolling updates: sleep as PID 1 ignores SIGTERM, and the update monitors 5 s
    stack_file.write_text(
        stack_file.read_text().replace(
            "    command: sleep 3600\n",
            "    command: sleep 3600\n    stop_grace_period: 1s\n"
            "    deploy:\n      update_config:\n        monitor: 1s\n",
        )
    )
    env = stack_env(swarm)

    async def deploy() -> Any:
        project = load_project(directory, env)
        return await deploy_stack(
            swarm.manager, project, name, resolve_image="never", detach=False, timeout=120
        )

    try:
        await deploy()
        assert await read_in_task(swarm, app, "/run/secrets/password") == ["pa55word\n"]
        (directory / "password.txt").write_text("rotated\n")
        (directory / "app.conf").write_text("User=operator\n")
        rotated = await deploy()
        assert rotated.updated == [app]
        [new_password] = rotated.secrets_created
        [new_conf] = rotated.configs_created
        assert re.fullmatch(rf"{password}_[0-9a-f]{{10}}", new_password)
        assert re.fullmatch(rf"{conf}_[0-9a-f]{{10}}", new_conf)
        assert (rotated.secrets_removed, rotated.configs_removed) == ([password], [conf])
        container = (await swarm.manager.services.inspect(app))["Spec"]["TaskTemplate"][
            "ContainerSpec"
        ]
        secrets = {ref["File"]["Name"]: ref["SecretName"] for ref in container["Secrets"]}
        assert secrets["password"] == new_password
        assert sorted((ref["File"]["Name"], ref["ConfigName"]) for ref in container["Configs"]) == [
            ("/etc/app/app.conf", new_conf),
            ("app_conf", new_conf),
        ]
        assert await read_in_task(swarm, app, "/run/secrets/password", "/etc/app/app.conf") == [
            "rotated\n",
            "User=operator\n",
        ]
        versions = await object_versions(swarm, name)
        assert password not in versions and conf not in versions  # the old ones are gone
        assert {new_password, new_conf} <= set(versions)
        labels = (await swarm.manager.secrets.inspect(new_password))["Spec"]["Labels"]
        assert labels == {NAMESPACE: name, "kind": "password"}
        same = await deploy()
        assert (same.updated, same.secrets_created, same.configs_created) == ([], [], [])
        after = await object_versions(swarm, name)
        for key in (app, new_password, new_conf):
            assert after[key] == versions[key], key
        # the CLI's rm finds the rotated objects by their stack label
        await cli_rm(cli, name)
        await wait_removed(swarm, name)
    finally:
        await Stack(swarm.manager, name).rm()


async def test_detach_false_waits_until_the_tasks_run(swarm: SwarmCluster) -> None:
    name = swarm.name("wait")
    lines: list[str] = []
    try:
        await deploy_stack(
            swarm.manager,
            load_project(STACKS / "04-jobs", stack_env(swarm)),
            name,
            resolve_image="never",
            detach=False,
            progress=lines.append,
            timeout=120,
        )
        tasks = await Stack(swarm.manager, name).ps()
        once = [t for t in tasks if t["Status"]["State"] == "complete" and t["ServiceID"]]
        assert len(once) >= 2
        assert f"{name}_once: 2/2 complete" in lines
    finally:
        await Stack(swarm.manager, name).rm()


async def python_m_aiodocker(
    swarm: SwarmCluster, *args: str, env: dict[str, str]
) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "aiodocker",
        "-H",
        swarm.manager.endpoint.url,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**env, "PYTHONPATH": str(Path(compose.__file__).parents[2])},
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_python_m_aiodocker_stack_deploys_lists_and_removes(
    swarm: SwarmCluster, cli: Cli
) -> None:
    name = swarm.name("cmd")
    env = stack_env(swarm)
    stack_file = str(STACKS / "14-unsupported" / "stack.yml")
    try:
        code, out, err = await python_m_aiodocker(
            swarm,
            "stack",
            "deploy",
            "-c",
            stack_file,
            "--resolve-image",
            "never",
            "--detach=false",
            name,
            env=env,
        )
        assert code == 0, err
        assert f"Creating service {name}_legacy" in out.splitlines()
        assert f"{name}_legacy: 1/1 running" in out.splitlines()
        assert (
            "Ignoring unsupported options: build, cgroup_parent, devices, links, network_mode, privileged, restart, security_opt, shm_size"
            in err
        )
        # the CLI sees the stack and its tasks
        cli_out, _ = await cli.run("stack", "services", name, "--format", "{{.Name}}")
        assert sorted(cli_out.split()) == [f"{name}_helper", f"{name}_legacy"]
        code, out, _ = await python_m_aiodocker(swarm, "stack", "ls", env=env)
        assert code == 0 and f"{name}   2" in out
        code, out, _ = await python_m_aiodocker(swarm, "stack", "services", name, env=env)
        assert code == 0 and f"{name}_legacy" in out
        code, out, _ = await python_m_aiodocker(
            swarm, "stack", "ps", name, "--format", "json", env=env
        )
        rows = [json.loads(line) for line in out.splitlines()]
        assert code == 0 and any(row["CurrentState"].startswith("Running ") for row in rows)
        assert f"{name}_legacy.1" in [row["Name"] for row in rows]
        code, out, _ = await python_m_aiodocker(swarm, "stack", "rm", name, env=env)
        assert code == 0
        assert (
            f"Removing service {name}_helper" in out and f"Removing network {name}_default" in out
        )
        code, _, err = await python_m_aiodocker(swarm, "stack", "rm", name, env=env)
        assert (code, err.strip()) == (0, f"Nothing found in stack: {name}")
        code, _, err = await python_m_aiodocker(
            swarm, "stack", "deploy", "-c", "/nonexistent.yml", name, env=env
        )
        assert code == 1 and "nonexistent.yml" in err and "Traceback" not in err
    finally:
        await Stack(swarm.manager, name).rm()


async def in_process_aiodocker(swarm: SwarmCluster, *args: str) -> tuple[int, str, str]:
    """``python -m aiodocker ARGS``'s main, run in a thread (a subprocess starts slowly)."""
    out, err = io.StringIO(), io.StringIO()
    argv = ["-H", swarm.manager.endpoint.url, *args]
    code = await asyncio.to_thread(aiodocker_main, argv, out, err)
    return code, out.getvalue(), err.getvalue()


_AGO = re.compile(r"(less than a second|about a minute|\d+ seconds?|\d+ minutes) ago", re.I)


def comparable_output(text: str) -> list[str]:
    """Output lines with a task's age masked, and table columns as single tabs."""
    return [re.sub(r"  +", "\t", _AGO.sub("AGO", line)).rstrip() for line in text.splitlines()]


async def test_ls_services_and_ps_print_what_the_docker_cli_prints(
    swarm: SwarmCluster, cli: Cli
) -> None:
    name = swarm.name("fmt")
    env = stack_env(swarm)
    try:
        await deploy_stack(
            swarm.manager,
            load_project(STACKS / "09-endpoints", env),
            name,
            resolve_image="never",
            detach=False,
            timeout=120,
        )
        commands = [
            ["ls"],
            ["ls", "--format", "json"],
            ["ls", "--format", "{{.Name}}: {{.Services}}"],
            ["services", name],
            ["services", name, "-q"],
            ["services", name, "--format", "json"],
            ["services", name, "-f", f"name={name}_rr", "--format", "table {{.Name}}\t{{.Mode}}"],
            ["ps", name],
            ["ps", name, "--format", "table {{.Name}}\t{{.Image}}\t{{.Node}}\t{{.Ports}}"],
            ["ps", name, "-q"],
            ["ps", name, "-q", "--no-trunc"],
            ["ps", name, "--no-resolve", "--no-trunc", "--format", "{{.ID}} {{.Name}} {{.Node}}"],
            ["ps", name, "-f", "desired-state=running", "--format", "{{json .Name}} {{.Error}}"],
            ["ps", name, "--format", "json"],
        ]
        ours = await asyncio.gather(
            *(in_process_aiodocker(swarm, "stack", *args) for args in commands)
        )
        theirs = await asyncio.gather(*(cli.run("stack", *args) for args in commands))
        for args, (code, out, err), (expected, _) in zip(commands, ours, theirs, strict=True):
            assert code == 0, (args, err)
            assert comparable_output(out) == comparable_output(expected), args
        code, _, err = await in_process_aiodocker(
            swarm, "stack", "ps", name, "--format", "{{.Nope}}"
        )
        assert (code, "unknown field 'Nope'" in err) == (1, True), err
        code, out, _ = await in_process_aiodocker(swarm, "stack", "rm", "--detach=false", name)
        assert code == 0 and f"Waiting for the stack {name} to be removed" in out
        assert await Stack(swarm.manager, name).ps() == []
    finally:
        await Stack(swarm.manager, name).rm()


async def test_resolve_image_warns_for_an_image_no_registry_has_and_changed_keeps_it(
    swarm: SwarmCluster, cli: Cli
) -> None:
    name = swarm.name("img")
    project = load_project(STACKS / "01-minimal", stack_env(swarm))
    try:
        first = await deploy_stack(swarm.manager, project, name)  # resolve_image="always"
        assert any(
            f"image {swarm.image} could not be accessed on a registry" in w for w in first.warnings
        )
        spec = (await swarm.manager.services.inspect(f"{name}_app"))["Spec"]
        assert spec["TaskTemplate"]["ContainerSpec"]["Image"] == swarm.image
        again = await deploy_stack(swarm.manager, project, name, resolve_image="changed")
        assert (again.updated, again.unchanged, again.warnings) == ([], [f"{name}_app"], [])
    finally:
        await Stack(swarm.manager, name).rm()
