"""Builds against the real daemon: every source (fileobj, path, remote), options and failures."""

from __future__ import annotations

import asyncio
import gzip
import io
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from aiohttp import web
from helpers import (  # noqa: F401 (isolated_docker_config is autouse)
    isolated_docker_config,
    remove_images,
    serve_to_engine,
    tar_of,
)
from testenv import Engine

from aiodocker import Docker
from aiodocker.exceptions import DockerError, DockerStreamError

# --- helpers -----------------------------------------------------------------------------


def output_of(items: list[dict[str, object]]) -> str:
    return "".join(str(item.get("stream", "")) for item in items)


@pytest.fixture
def tag(make_name: Callable[..., str]) -> str:
    return f"{make_name('build')}:v1"


@pytest.fixture
async def cleanup(docker: Docker) -> AsyncIterator[list[str]]:
    refs: list[str] = []
    yield refs
    await remove_images(docker, *refs)


# --- failures ----------------------------------------------------------------------------


@pytest.mark.engine_difference(
    ("podman", "podman5"), "podman builds with buildah: other messages, labels and options"
)
async def test_failing_run_raises_stream_error_with_the_daemons_message(
    docker: Docker, image: str, tag: str, cleanup: list[str]
) -> None:
    cleanup.append(tag)
    context = tar_of({"Dockerfile": f"FROM {image}\nRUN echo about to fail && exit 3\n".encode()})
    with pytest.raises(DockerStreamError) as info:
        # forcerm: the daemon removes the failed step's container too (nothing left behind)
        await docker.images.build(fileobj=context, encoding="identity", tag=tag, forcerm=True)
    assert "returned a non-zero code: 3" in info.value.message
    assert info.value.error_detail["code"] == 3
    assert "exit 3" in info.value.error_detail["message"]


@pytest.mark.engine_difference(
    ("podman", "podman5"), "podman builds with buildah: other messages, labels and options"
)
async def test_failing_run_in_a_stream_raises_after_the_steps_output(
    docker: Docker, image: str, tag: str, cleanup: list[str]
) -> None:
    cleanup.append(tag)
    context = tar_of({"Dockerfile": f"FROM {image}\nRUN echo step-output && false\n".encode()})
    seen = []
    with pytest.raises(DockerStreamError, match="non-zero code: 1"):
        async for item in docker.images.build(
            fileobj=context, encoding="identity", tag=tag, stream=True, forcerm=True
        ):
            seen.append(item)
    assert "step-output" in output_of(seen)


async def test_unknown_instruction_and_missing_base_image_fail(
    docker: Docker, make_name: Callable[..., str], tag: str, cleanup: list[str]
) -> None:
    cleanup.append(tag)
    bad = tar_of({"Dockerfile": b"FROM scratch\nFROBNICATE now\n"})
    with pytest.raises(DockerError, match="(?i)frobnicate"):
        await docker.images.build(fileobj=bad, encoding="identity", tag=tag)
    missing = make_name("no-base")
    # a base image the (offline) daemon has to fetch from the test registry
    context = tar_of({"Dockerfile": f"FROM 127.0.0.1:5000/{missing}:v1\n".encode()})
    with pytest.raises(DockerError, match=missing):
        await docker.images.build(fileobj=context, encoding="identity", tag=tag)


def test_build_argument_errors(docker: Docker, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="either remote or fileobj") as info:
        docker.images.build()  # 0.27's words; path= is named in a note
    assert info.value.args == ("You need to specify either remote or fileobj",)
    with pytest.raises(ValueError, match="more than one"):
        docker.images.build(remote="http://127.0.0.1/x", path=tmp_path)
    with pytest.raises(ValueError, match="encoding"):
        docker.images.build(fileobj=io.BytesIO(b""))
    with pytest.raises(ValueError, match="does not exist"):
        docker.images.build(path=tmp_path / "nope")
    with pytest.raises(ValueError, match="Dockerfile"):
        docker.images.build(path=tmp_path)


# --- sources -----------------------------------------------------------------------------


async def test_build_from_a_directory_honours_dockerignore(
    docker: Docker, image: str, tag: str, cleanup: list[str], tmp_path: Path
) -> None:
    cleanup.append(tag)
    root = tmp_path / "context"
    (root / "logs").mkdir(parents=True)
    (root / "src" / "deep").mkdir(parents=True)
    (root / "Dockerfile").write_text(
        f"FROM {image}\nCOPY . /ctx\nRUN cd /ctx && find . -type f | sort\n"
    )
    (root / ".dockerignore").write_text(
        "# comment lines are ignored\n**/*.log\n!logs/keep.log\nsecret.txt\n"
    )
    (root / "secret.txt").write_text("do not send")
    (root / "logs" / "drop.log").write_text("x")
    (root / "logs" / "keep.log").write_text("kept")
    (root / "src" / "deep" / "trace.log").write_text("x")
    (root / "src" / "deep" / "code.py").write_text("print('hi')\n")
    script = root / "src" / "run.sh"
    script.write_text("#!/bin/sh\necho run\n")
    script.chmod(0o755)
    os.symlink("run.sh", root / "src" / "link.sh")

    items = await docker.images.build(path=root, tag=tag, rm=True)
    listing = [line for line in output_of(items).splitlines() if line.startswith("./")]
    assert listing == [
        "./.dockerignore",
        "./Dockerfile",
        "./logs/keep.log",
        "./src/deep/code.py",
        "./src/run.sh",
    ]
    process = await asyncio.create_subprocess_exec(
        "docker",
        "run",
        "--rm",
        tag,
        "sh",
        "-c",
        "ls -l /ctx/src/link.sh; /ctx/src/run.sh",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    text = output.decode()
    assert "link.sh -> run.sh" in text and "run" in text.splitlines()[-1], text


@pytest.mark.engine_difference(
    ("podman", "podman5"), "podman builds with buildah: other messages, labels and options"
)
async def test_build_from_a_directory_with_another_dockerfile(
    docker: Docker, image: str, tag: str, cleanup: list[str], tmp_path: Path
) -> None:
    cleanup.append(tag)
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "App.dockerfile").write_text(f"FROM {image}\nLABEL which=app\n")
    await docker.images.build(path=tmp_path, path_dockerfile="docker/App.dockerfile", tag=tag)
    info = await docker.images.inspect(tag)
    assert info["Config"]["Labels"] == {"which": "app"}


@pytest.mark.engine_difference(
    ("podman", "podman5"), "podman stores short image names as docker.io/library/NAME"
)
async def test_build_from_a_gzip_tar_fileobj_with_encoding(
    docker: Docker, image: str, tag: str, cleanup: list[str]
) -> None:
    cleanup.append(tag)
    context = gzip.compress(
        tar_of(
            {
                "Dockerfile": f"FROM {image}\nCOPY hello.txt /hello.txt\n".encode(),
                "hello.txt": b"hello gzip\n",
            }
        )
    )
    items = await docker.images.build(fileobj=io.BytesIO(context), encoding="gzip", tag=tag)
    assert any("Successfully built" in str(item.get("stream", "")) for item in items)
    assert any("aux" in item for item in items)
    assert tag in (await docker.images.inspect(tag))["RepoTags"]


@pytest.mark.engine_difference(
    ("podman", "podman5"), "podman builds with buildah: other messages, labels and options"
)
async def test_build_with_path_dockerfile_inside_a_tar(
    docker: Docker, image: str, tag: str, cleanup: list[str], tmp_path: Path
) -> None:
    cleanup.append(tag)
    archive = tmp_path / "context.tar"
    archive.write_bytes(
        tar_of(
            {
                "build/Special.dockerfile": f"FROM {image}\nLABEL from=special\n".encode(),
                "Dockerfile": b"FROM scratch\nLABEL from=default\n",
            }
        )
    )
    with archive.open("rb") as fileobj:
        await docker.images.build(
            fileobj=fileobj,
            encoding="identity",
            path_dockerfile="build/Special.dockerfile",
            tag=tag,
        )
    assert (await docker.images.inspect(tag))["Config"]["Labels"] == {"from": "special"}


@pytest.mark.engine_difference(
    ("podman", "podman5"), "podman's build does not take a remote Dockerfile URL as its context"
)
async def test_build_from_a_remote_dockerfile_url(
    docker: Docker, engine: Engine, image: str, tag: str, cleanup: list[str]
) -> None:
    cleanup.append(tag)

    async def dockerfile(request: web.Request) -> web.Response:
        return web.Response(text=f"FROM {image}\nLABEL source=remote\n")

    app = web.Application()
    app.router.add_get("/Dockerfile", dockerfile)
    async with serve_to_engine(engine.netns, app) as url:
        await docker.images.build(remote=f"{url}/Dockerfile", tag=tag)
    assert (await docker.images.inspect(tag))["Config"]["Labels"] == {"source": "remote"}


async def test_build_from_an_unreachable_remote_fails(docker: Docker, tag: str) -> None:
    with pytest.raises(DockerError):
        await docker.images.build(remote="http://127.0.0.1:9/Dockerfile", tag=tag)


# --- options -----------------------------------------------------------------------------


@pytest.mark.engine_difference(
    ("podman", "podman5"), "podman builds with buildah: other messages, labels and options"
)
async def test_build_options_reach_the_builder(
    docker: Docker, image: str, make_name: Callable[..., str], cleanup: list[str]
) -> None:
    first, second = f"{make_name('opt')}:a", f"{make_name('opt')}:b"
    cleanup.extend([first, second])
    dockerfile = (
        f"FROM {image} AS base\n"
        "ARG GREETING\n"
        'RUN echo "greeting=$GREETING"\n'
        "RUN grep -q 'aiodocker-host' /etc/hosts && echo host-ok\n"
        "RUN df -k /dev/shm | tail -1\n"
        "RUN ip -o link | cut -d: -f2 | tr -d ' ' | sort | tr '\\n' ',' && echo\n"
        "FROM base AS broken\n"
        "RUN exit 1\n"
    )
    items = await docker.images.build(
        fileobj=tar_of({"Dockerfile": dockerfile.encode()}),
        encoding="identity",
        tag=[first, second],
        buildargs={"GREETING": "hi-there"},
        labels={"aiodocker.test": "yes"},
        target="base",
        extra_hosts={"aiodocker-host": "10.11.12.13"},
        network_mode="none",
        shm_size=32 * 1024 * 1024,
        nocache=True,
        forcerm=True,
    )
    text = output_of(items)
    assert "greeting=hi-there" in text
    assert "host-ok" in text
    assert " 32768 " in text
    assert "lo," in text and "eth0" not in text  # network mode none: loopback only
    info = await docker.images.inspect(first)
    assert set(info["RepoTags"]) == {first, second}
    assert info["Config"]["Labels"]["aiodocker.test"] == "yes"


@pytest.mark.engine_difference(
    ("podman", "podman5"), "podman builds with buildah: other messages, labels and options"
)
async def test_build_quiet_and_cache_from(
    docker: Docker, image: str, make_name: Callable[..., str], cleanup: list[str]
) -> None:
    base, derived = f"{make_name('cache')}:a", f"{make_name('cache')}:b"
    cleanup.extend([base, derived])
    context = tar_of({"Dockerfile": f"FROM {image}\nRUN echo cached > /c\n".encode()})
    await docker.images.build(fileobj=context, encoding="identity", tag=base)
    items = await docker.images.build(
        fileobj=context, encoding="identity", tag=derived, quiet=True, cache_from=[base]
    )
    # quiet: only the image id is reported
    text = output_of(items).strip()
    assert text.startswith("sha256:")
    assert (await docker.images.inspect(derived))["Id"] == text
    assert (await docker.images.inspect(base))["Id"] == text


async def test_build_stream_yields_progress_then_ends(
    docker: Docker, image: str, tag: str, cleanup: list[str]
) -> None:
    cleanup.append(tag)
    context = tar_of({"Dockerfile": f"FROM {image}\nRUN echo streamed\n".encode()})
    items = [
        item
        async for item in docker.images.build(
            fileobj=context, encoding="identity", tag=tag, stream=True
        )
    ]
    assert "streamed" in output_of(items)
    assert f"Successfully tagged {tag}" in output_of(items)
