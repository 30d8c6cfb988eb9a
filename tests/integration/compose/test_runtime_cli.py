"""``python -m aiodocker compose up/ps/down/...`` beside the reference binary."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from compose_runtime_helpers import run_compose

from aiodocker.__main__ import main

pytestmark = pytest.mark.engine_difference(
    "podman",
    "podman 4.3 lists a container's networks by name where the ID belongs, so Compose "
    "recreates every running container on each up (test_runtime_diverge shows both tools "
    "alike there)",
)
# podman runs healthchecks from systemd timers, which the test environment lacks: a
# service_healthy dependency never resolves (docker-compose 2.40.3 waits forever too), so on
# podman the project depends on db being started
NO_HEALTHCHECKS = ("podman", "podman5")
needs_healthchecks = pytest.mark.engine_difference(
    NO_HEALTHCHECKS, "up --wait waits for health: podman without systemd runs no healthchecks"
)

COMPOSE_FILE = """
name: {name}
services:
  db:
    image: {image}
    command: ["sleep", "600"]
    healthcheck: {{test: ["CMD", "true"], interval: 1s}}
    volumes: ["data:/data"]
    stop_signal: SIGKILL
  web:
    image: {image}
    command: ["sleep", "600"]
    ports: ["127.0.0.1::80", "127.0.0.1::53/udp"]
    depends_on: {{db: {{condition: service_healthy}}}}
    stop_signal: SIGKILL
volumes:
  data: {{}}
"""


def ours(directory: Path, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["compose", "-f", str(directory / "compose.yaml"), *args], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def project_dir(tmp_path: Path, make_name: Callable[..., str], engine: Any) -> Iterator[Path]:
    text = COMPOSE_FILE.format(name=make_name("cli"), image=engine.image)
    if engine.name in NO_HEALTHCHECKS:
        text = text.replace("condition: service_healthy", "condition: service_started")
    (tmp_path / "compose.yaml").write_text(text)
    try:
        yield tmp_path
    finally:
        run_compose(tmp_path, "down", "-v", "-t", "0", host=engine.host, check=False)


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


STABLE_KEYS = (
    "Command", "CreatedAt", "ExitCode", "Health", "ID", "Image", "LocalVolumes", "Name",
    "Names", "Networks", "Project", "Service", "Size", "State",
)  # fmt: skip


def comparable(item: dict[str, Any]) -> dict[str, Any]:
    """Compose's ps JSON minus what depends on the clock or on a Go map's order."""
    stable = {key: item[key] for key in STABLE_KEYS}
    stable["Labels"] = sorted(item["Labels"].split(","))
    stable["Mounts"] = sorted(item["Mounts"].split(","))
    stable["Publishers"] = sorted(json.dumps(p, sort_keys=True) for p in item["Publishers"])
    stable["Ports"] = sorted(item["Ports"].split(", "))
    return stable


@needs_healthchecks
def test_up_ps_json_and_down_match_the_reference(project_dir: Path, engine: Any) -> None:
    code, out, up_err = ours(project_dir, "up", "-d", "--wait", "--wait-timeout", "60")
    assert code == 0, up_err
    assert out == ""  # progress goes to stderr, plain lines when it is no tty, as Compose's
    code, out, err = ours(project_dir, "ps", "--format", "json")
    assert code == 0, err
    theirs = json_lines(run_compose(project_dir, "ps", "--format", "json", host=engine.host).stdout)
    mine = [comparable(item) for item in json_lines(out)]
    reference = [comparable(item) for item in theirs]
    assert len(mine) == len(reference)
    for a, b in zip(mine, reference, strict=True):
        assert {k: (a[k], b[k]) for k in a if a[k] != b[k]} == {}
    assert {item["Service"] for item in theirs} == {"db", "web"}
    code, out, err = ours(project_dir, "ps", "--services")
    assert (code, out) == (0, "db\nweb\n")
    code, out, err = ours(project_dir, "stop", "web")
    assert code == 0, err
    code, out, _ = ours(project_dir, "ps", "-a", "--format", "json")
    states = {item["Service"]: (item["State"], item["ExitCode"]) for item in json_lines(out)}
    theirs_all = json_lines(
        run_compose(project_dir, "ps", "-a", "--format", "json", host=engine.host).stdout
    )
    assert states == {item["Service"]: (item["State"], item["ExitCode"]) for item in theirs_all}
    assert states["web"] == ("exited", 137)
    code, out, down_err = ours(project_dir, "down", "-v", "-t", "0")
    assert code == 0, down_err
    assert run_compose(project_dir, "ps", "-a", "-q", host=engine.host).stdout == ""
    # the same steps per resource as the reference's plain progress, for up and down
    reference_up = run_compose(project_dir, "up", "-d", "--wait", host=engine.host).stderr
    assert progress_steps(up_err) == progress_steps(reference_up)
    reference_down = run_compose(project_dir, "down", "-v", "-t", "0", host=engine.host).stderr
    assert progress_steps(down_err) == progress_steps(reference_down)


def progress_steps(text: str) -> dict[str, list[str]]:
    """Plain progress lines (`` Container p-db-1  Started``) as each resource's steps in order."""
    steps: dict[str, list[str]] = {}
    for line in text.splitlines():
        resource, sep, status = line.strip().rpartition("  ")
        if sep and resource.split(" ")[0] in ("Container", "Network", "Volume"):
            steps.setdefault(resource, []).append(status)
    return steps


def test_errors_exit_1_with_one_message_as_compose_does(project_dir: Path, engine: Any) -> None:
    code, _, err = ours(project_dir, "up", "-d", "nosuch")
    reference = run_compose(project_dir, "up", "-d", "nosuch", host=engine.host, check=False)
    assert (code, reference.returncode) == (1, 1)
    assert "no such service" in err and "no such service" in reference.stderr
    assert "Traceback" not in err
    code, _, err = ours(project_dir, "up", "-d", "--force-recreate", "--no-recreate")
    assert code == 1 and "incompatible" in err
    code, _, err = ours(project_dir, "up", "-d", "--pull", "sometimes")
    assert code == 1 and "invalid choice" in err


LOGS_FILE = """
name: {name}
services:
  talker:
    image: {image}
    command: ["sh", "-c", "echo out-one; echo err-one >&2; echo out-two"]
    scale: 2
  quiet-one:
    image: {image}
    command: ["sh", "-c", "printf 'no newline'"]
"""


def test_logs_match_the_reference_and_keep_streams_apart(
    project_dir: Path, engine: Any, make_name: Callable[..., str]
) -> None:
    (project_dir / "compose.yaml").write_text(
        LOGS_FILE.format(name=make_name("logs"), image=engine.image)
    )
    code, _, err = ours(project_dir, "up", "-d")
    assert code == 0, err
    run_compose(project_dir, "wait", "talker", "quiet-one", host=engine.host, check=False)
    code, out, err = ours(project_dir, "logs", "--no-color")
    assert code == 0, err
    reference = run_compose(project_dir, "logs", "--no-color", host=engine.host).stdout
    assert sorted(out.splitlines()) == sorted(reference.splitlines())
    assert "talker-2  | err-one" in out.splitlines()  # Compose: name, two spaces, bar
    code, out, _ = ours(project_dir, "logs", "--no-log-prefix", "--tail", "1", "talker")
    reference = run_compose(
        project_dir, "logs", "--no-log-prefix", "--tail", "1", "talker", host=engine.host
    ).stdout
    assert sorted(out.splitlines()) == sorted(reference.splitlines())


async def test_logs_api_keeps_stdout_and_stderr_apart(
    project_dir: Path, engine: Any, make_name: Callable[..., str], docker: Any
) -> None:
    from aiodocker.compose import load_project
    from aiodocker.compose.project import ComposeProject

    (project_dir / "compose.yaml").write_text(
        LOGS_FILE.format(name=make_name("logs"), image=engine.image)
    )
    project = ComposeProject(docker, load_project([str(project_dir / "compose.yaml")], environ={}))
    containers = await project.up(["talker"])
    for item in containers:
        await docker.containers.container(item.id).wait()
    lines = [line async for line in project.logs(["talker"], follow=True)]
    by_stream = sorted((line.container, line.stream, line.text) for line in lines)
    assert by_stream == sorted(
        (f"talker-{n}", stream, text)
        for n in (1, 2)
        for stream, text in (("stdout", "out-one"), ("stderr", "err-one"), ("stdout", "out-two"))
    )
    with pytest.raises(ValueError, match="no such service"):
        [line async for line in project.logs(["nope"])]


def test_ls_lists_projects_as_compose_does(project_dir: Path, engine: Any) -> None:
    name = json.loads(run_compose(project_dir, "config", "--format", "json").stdout)["name"]
    run_compose(project_dir, "up", "-d", "db", host=engine.host)
    run_compose(project_dir, "create", "web", host=engine.host)
    for extra in ((), ("-a",)):
        code, out, err = ours(project_dir, "ls", "--format", "json", "--filter", f"name={name}", *extra)
        assert code == 0, err
        reference = run_compose(
            project_dir, "ls", "--format", "json", "--filter", f"name={name}", *extra,
            host=engine.host,
        ).stdout  # fmt: skip
        assert json.loads(out) == json.loads(reference)
        assert [item["Name"] for item in json.loads(out)] == [name]
    run_compose(project_dir, "stop", host=engine.host)
    code, out, _ = ours(project_dir, "ls", "--format", "json", "--filter", f"name={name}")
    assert json.loads(out) == json.loads(
        run_compose(project_dir, "ls", "--format", "json", "--filter", f"name={name}",
                    host=engine.host).stdout
    ) == []  # fmt: skip


@needs_healthchecks
def test_port_and_images_match_the_reference(project_dir: Path, engine: Any) -> None:
    run_compose(project_dir, "up", "-d", "--wait", host=engine.host)
    code, out, err = ours(project_dir, "port", "web", "80")
    assert code == 0, err
    assert out == run_compose(project_dir, "port", "web", "80", host=engine.host).stdout
    assert out.startswith("127.0.0.1:")
    code, out, err = ours(project_dir, "port", "--protocol", "udp", "web", "53")
    assert (code, out) == (
        0, run_compose(project_dir, "port", "--protocol", "udp", "web", "53", host=engine.host).stdout
    )  # fmt: skip
    code, _, err = ours(project_dir, "port", "web", "81")
    assert code == 1 and "81" in err
    assert run_compose(project_dir, "port", "web", "81", host=engine.host, check=False).returncode == 1
    code, out, err = ours(project_dir, "images", "--format", "json")
    assert code == 0, err
    reference = json.loads(run_compose(project_dir, "images", "--format", "json", host=engine.host).stdout)
    keys = ("ID", "ContainerName", "Repository", "Tag", "Size")
    assert sorted(tuple(i[k] for k in keys) for i in json.loads(out)) == sorted(
        tuple(i[k] for k in keys) for i in reference
    )


async def test_top_lists_each_running_containers_processes(
    project_dir: Path, engine: Any, docker: Any
) -> None:
    from aiodocker.compose import load_project
    from aiodocker.compose.project import ComposeProject

    project = ComposeProject(docker, load_project([str(project_dir / "compose.yaml")], environ={}))
    await project.up(["db"])
    tops = await project.top()
    assert list(tops) == [f"{project.name}-db-1"]
    processes = tops[f"{project.name}-db-1"]["Processes"]
    assert any("sleep 600" in " ".join(row) for row in processes)


def test_run_one_off_exits_with_the_commands_code_as_compose_does(
    project_dir: Path, engine: Any
) -> None:
    script = ["sh", "-c", "echo out-$GREETING; echo err-line >&2; exit 3"]
    code, out, err = ours(project_dir, "run", "--rm", "-T", "--no-deps", "-e", "GREETING=hi", "db", *script)
    reference = run_compose(
        project_dir, "run", "--rm", "-T", "--no-deps", "-e", "GREETING=hi", "db", *script,
        host=engine.host, check=False,
    )  # fmt: skip
    assert (code, reference.returncode) == (3, 3)
    assert out == reference.stdout == "out-hi\n"
    assert "err-line" in err and "err-line" in reference.stderr
    assert run_compose(project_dir, "ps", "-a", "-q", host=engine.host).stdout == ""


async def test_run_detached_is_a_labelled_one_off_that_down_removes(
    project_dir: Path, engine: Any, docker: Any
) -> None:
    from aiodocker.compose import load_project
    from aiodocker.compose.project import ComposeProject

    project = ComposeProject(docker, load_project([str(project_dir / "compose.yaml")], environ={}))
    result = await project.run("web", ["sleep", "600"], detach=True)
    assert result.exit_code is None
    assert result.name.startswith(f"{project.name}-web-run-")
    info = await docker.containers.container(result.id).show()
    tags = info["Config"]["Labels"]
    assert tags["com.docker.compose.oneoff"] == "True"
    assert len(tags["com.docker.compose.slug"]) == 64 and result.name.endswith(tags["com.docker.compose.slug"][:12])
    assert "com.docker.compose.container-number" not in tags
    assert info["HostConfig"]["PortBindings"] == {}  # ports only with service_ports
    # the dependency (db, healthy) was brought up first; ps lists the one-off too, as Compose
    assert [(item.service, item.oneoff) for item in await project.ps()] == [
        ("db", False), ("web", True)
    ]  # fmt: skip
    theirs = run_compose(project_dir, "ps", "-a", "--format", "json", host=engine.host).stdout
    assert [json.loads(line)["Service"] for line in theirs.splitlines()] == ["db", "web"]
    await project.down(timeout=0)
    assert await project._list(oneoff=None) == []


def test_exec_exits_with_the_commands_code_as_compose_does(project_dir: Path, engine: Any) -> None:
    run_compose(project_dir, "up", "-d", "db", host=engine.host)
    script = ["sh", "-c", "echo in-$WHO; echo oops >&2; exit 4"]
    code, out, err = ours(project_dir, "exec", "-T", "-e", "WHO=db", "db", *script)
    reference = run_compose(
        project_dir, "exec", "-T", "-e", "WHO=db", "db", *script, host=engine.host, check=False
    )
    assert (code, reference.returncode) == (4, 4)
    assert out == reference.stdout == "in-db\n"
    assert "oops" in err and "oops" in reference.stderr
    code, _, err = ours(project_dir, "exec", "-T", "web", "true")
    assert code == 1 and "no running container" in err
    assert run_compose(project_dir, "exec", "-T", "web", "true", host=engine.host, check=False).returncode == 1


WAIT_FILE = """
name: {name}
services:
  job:
    image: {image}
    command: ["sh", "-c", "sleep 2; exit 5"]
"""


def test_wait_exits_with_the_status_as_compose_does(
    project_dir: Path, engine: Any, make_name: Callable[..., str]
) -> None:
    (project_dir / "compose.yaml").write_text(WAIT_FILE.format(name=make_name("wait"), image=engine.image))
    run_compose(project_dir, "up", "-d", host=engine.host)
    reference = run_compose(project_dir, "wait", "job", host=engine.host, check=False)
    run_compose(project_dir, "up", "-d", "--force-recreate", host=engine.host)
    code, out, err = ours(project_dir, "wait", "job")
    assert (code, reference.returncode) == (5, 5)
    assert out.split('"')[0] == reference.stdout.split('"')[0] == "container "
    assert out.endswith("exited with status code 5\n") and reference.stdout.endswith(
        "exited with status code 5\n"
    )
    code, _, err = ours(project_dir, "wait", "job")  # nothing runs any more
    assert code == 1 and "no containers" in err


@pytest.mark.engine_difference(
    "podman5", "podman sends an init event between create and start; the sequence asserted is Docker's"
)
def test_events_json_equals_composes(
    project_dir: Path, engine: Any, make_name: Callable[..., str]
) -> None:
    import os
    import subprocess
    import sys
    import time

    from compose_runtime_helpers import compose_bin

    (project_dir / "compose.yaml").write_text(WAIT_FILE.format(name=make_name("ev"), image=engine.image))
    env = {**os.environ, "DOCKER_HOST": engine.host, "PYTHONPATH": str(Path(__file__).parents[3])}
    ours_cmd = [sys.executable, "-m", "aiodocker", "compose", "events", "--json"]
    followers = [
        subprocess.Popen(cmd, cwd=project_dir, env=env, stdout=subprocess.PIPE, text=True)
        for cmd in (ours_cmd, [compose_bin(), "events", "--json"])
    ]
    try:
        time.sleep(3)  # both subscribed
        run_compose(project_dir, "up", "-d", host=engine.host)
        run_compose(project_dir, "wait", "job", host=engine.host, check=False)
        time.sleep(1)
    finally:
        outputs = []
        for process in followers:  # ended by their own ids
            process.terminate()
            outputs.append(process.communicate(timeout=30)[0])
    ours_events, their_events = ([json.loads(line) for line in out.splitlines()] for out in outputs)
    assert [e["action"] for e in their_events][:3] == ["create", "start", "die"]
    assert ours_events == their_events


ATTACHED_FILE = """
name: {name}
services:
  job:
    image: {image}
    command: ["sh", "-c", "echo bye; sleep 1; exit 3"]
  web:
    image: {image}
    command: ["sleep", "600"]
    stop_signal: SIGKILL
"""


def test_attached_up_aborts_on_exit_with_the_code_compose_gives(
    project_dir: Path, engine: Any, make_name: Callable[..., str]
) -> None:
    (project_dir / "compose.yaml").write_text(
        ATTACHED_FILE.format(name=make_name("att"), image=engine.image)
    )
    for flags in (("--abort-on-container-exit",), ("--exit-code-from", "job")):
        reference = run_compose(project_dir, "up", *flags, host=engine.host, check=False)
        run_compose(project_dir, "down", "-t", "0", host=engine.host)
        code, out, err = ours(project_dir, "up", *flags)
        assert (code, reference.returncode) == (3, 3), err
        assert "job-1  | bye" in out.splitlines() and "job-1  | bye" in reference.stdout
        assert "job-1 exited with code 3" in out
        states = {item.service: item.state for item in json_lines_ps(project_dir, engine)}
        assert states == {"job": "exited", "web": "exited"}
        run_compose(project_dir, "down", "-t", "0", host=engine.host)


def json_lines_ps(project_dir: Path, engine: Any) -> list[Any]:
    from types import SimpleNamespace

    out = run_compose(project_dir, "ps", "-a", "--format", "json", host=engine.host).stdout
    return [SimpleNamespace(service=i["Service"], state=i["State"]) for i in json_lines(out)]
