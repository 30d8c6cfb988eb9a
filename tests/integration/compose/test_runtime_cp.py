"""``ComposeProject.cp`` and ``python -m aiodocker compose cp`` beside docker-compose's ``cp``.

One project of two ``web`` containers, brought up by the reference binary; each
copy is done by both tools into twin paths and the results must be equal.
"""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from compose_runtime_helpers import compose_bin, run_compose
from copy_helpers import cli_of, container_tree, host_tree, make_host_tree

import aiodocker
from aiodocker.__main__ import main
from aiodocker.compose import load_project
from aiodocker.compose.project import ComposeProject, ComposeServiceError
from aiodocker.exceptions import DockerError

pytestmark = pytest.mark.engine_difference(
    ("podman", "podman5"), "the compose interoperability tests target Docker engines"
)

COMPOSE_FILE = """
name: {name}
services:
  web:
    image: {image}
    command: ["sleep", "600"]
    stop_signal: SIGKILL
    deploy: {{replicas: 2}}
"""


@pytest.fixture
def project_dir(tmp_path: Path, make_name: Callable[..., str], engine: Any) -> Iterator[Path]:
    directory = tmp_path / "project"
    directory.mkdir()
    (directory / "compose.yaml").write_text(
        COMPOSE_FILE.format(name=make_name("cp"), image=engine.image)
    )
    run_compose(directory, "up", "-d", host=engine.host)
    try:
        yield directory
    finally:
        run_compose(directory, "down", "-v", "-t", "0", host=engine.host, check=False)


async def ours(directory: Path, *args: str) -> tuple[int, str, str]:
    """Our CLI, in a thread (it runs its own event loop)."""
    out, err = io.StringIO(), io.StringIO()
    argv = ["compose", "-f", str(directory / "compose.yaml"), *args]
    code = await asyncio.to_thread(main, argv, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


async def test_cp_copies_as_docker_compose_cp(
    project_dir: Path, tmp_path: Path, engine: Any, docker: aiodocker.Docker
) -> None:
    src = make_host_tree(tmp_path)
    project = ComposeProject(docker, load_project([str(project_dir / "compose.yaml")], environ={}))
    theirs = run_compose
    # into every container of the service, and into number 2 only
    done = await project.cp(str(src / "d"), "web:/ours")
    assert sorted(item.number for item in done) == [1, 2]
    theirs(project_dir, "cp", str(src / "d"), "web:/theirs", host=engine.host)
    assert [item.number for item in await project.cp(str(src / "f"), "web:/tmp/o", index=2)] == [2]
    theirs(project_dir, "cp", "--index", "2", str(src / "f"), "web:/tmp/t", host=engine.host)
    boxes = {item.number: docker.containers.container(item.id) for item in await project.ps()}
    for box in boxes.values():
        mine = await container_tree(box, "/ours")
        assert mine == await container_tree(box, "/theirs") and "sub/a" in mine
    assert await container_tree(boxes[2], "/tmp/o") == await container_tree(boxes[2], "/tmp/t")
    for path in ("/tmp/o", "/tmp/t"):
        with pytest.raises(DockerError):
            await boxes[1].stat_archive(path)
    # out of the service: its first container, or number --index; and our CLI beside it
    newest = (await docker.containers.list(filters={"id": [b.id for b in boxes.values()]}))[0]
    first = docker.containers.container(newest["Id"])  # the one Compose reads from
    await first.copy_to(str(src / "f"), "/tmp/f")
    await first.copy_to(str(src / "fl"), "/tmp/one")  # a symlink to /tmp/f
    (tmp_path / "out" / "ours").mkdir(parents=True)
    (tmp_path / "out" / "theirs").mkdir(parents=True)
    code, _, err = await ours(
        project_dir, "cp", "-L", "web:/tmp/one", str(tmp_path / "out/ours/one")
    )
    assert code == 0, err
    theirs(
        project_dir, "cp", "-L", "web:/tmp/one", str(tmp_path / "out/theirs/one"), host=engine.host
    )
    code, _, err = await ours(
        project_dir, "cp", "--index", "2", "web:/ours/.", str(tmp_path / "out/ours/d")
    )
    assert code == 0, err
    theirs(
        project_dir, "cp", "--index", "2", "web:/theirs/.", str(tmp_path / "out/theirs/d"),
        host=engine.host,
    )  # fmt: skip
    mine = host_tree(tmp_path / "out" / "ours")
    assert mine == host_tree(tmp_path / "out" / "theirs") and mine["one"][4] == b"file\n"
    # refusals: the same exit code as Compose's
    for args in (
        ("web:/no/such", str(tmp_path / "x")),
        ("--index", "3", str(src / "f"), "web:/tmp"),
        ("web:/tmp", "web:/tmp"),
        ("nosuch:/tmp", str(tmp_path / "x")),
    ):
        expected = theirs(project_dir, "cp", *args, host=engine.host, check=False).returncode
        code = (await ours(project_dir, "cp", *args))[0]
        assert (code, expected) == (1, 1), args
    with pytest.raises(ComposeServiceError, match="#3"):
        await project.cp(str(src / "f"), "web:/tmp", index=3)


async def test_cp_streams_a_tar_through_stdin_and_stdout(
    project_dir: Path, tmp_path: Path, engine: Any, docker: aiodocker.Docker
) -> None:
    src = make_host_tree(tmp_path)
    project = ComposeProject(docker, load_project([str(project_dir / "compose.yaml")], environ={}))
    tar = subprocess.run(["tar", "-C", str(src), "-cf", "-", "d"], capture_output=True, check=True)
    for number in (1, 2):  # Compose reads from whichever the daemon lists first
        await project.cp(io.BytesIO(tar.stdout), "web:/tmp", index=number)
    with pytest.raises(ValueError, match="one container"):
        await project.cp(io.BytesIO(tar.stdout), "web:/tmp")
    out = io.BytesIO()
    await project.cp("web:/tmp/d", out)
    box = docker.containers.container((await project.ps())[0].id)
    reference = subprocess.run(
        [*cli_of(engine), "cp", f"{box.id}:/tmp/d", "-"], capture_output=True, check=True
    )
    assert out.getvalue() == reference.stdout
    composed = subprocess.run(
        [compose_bin(), "cp", "web:/tmp/d", "-"],
        cwd=project_dir,
        env={**os.environ, "DOCKER_HOST": engine.host},
        capture_output=True,
        check=True,
    )
    assert composed.stdout == reference.stdout
