"""BuildKit builds on the real Docker 26 daemon of the test environment (env.json "docker26")."""

from __future__ import annotations

import asyncio
import base64
import io
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import isolated_docker_config, remove_images, tar_of  # noqa: F401 (autouse)
from testenv import require

from aiodocker import Docker, buildkit
from aiodocker.__main__ import main
from aiodocker.exceptions import DockerNotFoundError, DockerStreamError

IMAGE = "aiodocker-test/busybox:latest"  # present on every daemon of the test environment


@pytest.fixture
def bk_host(testenv: dict[str, Any]) -> str:
    host: str = require("docker26")["host"]
    return host


@pytest.fixture
async def bk(bk_host: str) -> AsyncIterator[Docker]:
    client = Docker(url=bk_host)
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
async def tags(bk: Docker, make_name: Callable[..., str]) -> AsyncIterator[list[str]]:
    """Tags the test builds; the images are removed afterwards."""
    made: list[str] = []
    yield made
    await remove_images(bk, *made)


@pytest.fixture
def new_tag(tags: list[str], make_name: Callable[..., str]) -> Callable[[], str]:
    def make() -> str:
        tag = f"{make_name('buildkit')}:v1"
        tags.append(tag)
        return tag

    return make


def context_dir(tmp_path: Path, dockerfile: str, **files: str) -> Path:
    root = tmp_path / "ctx"
    root.mkdir()
    (root / "Dockerfile").write_text(dockerfile)
    for name, text in files.items():
        (root / name.replace("__", ".")).write_text(text)
    return root


def output(events: list[buildkit.BuildEvent]) -> str:
    return b"".join(e.data for e in events if isinstance(e, buildkit.LogLine)).decode()


async def collect(docker: Docker, **kwargs: Any) -> tuple[str, list[buildkit.BuildEvent], float]:
    events: list[buildkit.BuildEvent] = []
    begin = time.monotonic()
    image_id = await buildkit.build(docker, progress=events.append, **kwargs)
    return image_id, events, time.monotonic() - begin


async def test_multi_stage_build_stops_at_target_and_passes_build_args(
    bk: Docker, tmp_path: Path, new_tag: Callable[[], str]
) -> None:
    greeting = f"hello-{uuid.uuid4().hex[:8]}"
    dockerfile = (
        f"FROM {IMAGE} AS base\n"
        "ARG GREETING\n"
        'RUN echo "$GREETING" > /greeting\n'
        "FROM base AS test\n"
        "RUN cat /greeting && echo built-test-stage\n"  # the build arg changes the key
        "FROM base AS final\n"
        "RUN echo never-built-final-stage && false\n"
    )
    tag = new_tag()
    image_id, events, _ = await collect(
        bk,
        path=context_dir(tmp_path, dockerfile),
        tag=tag,
        target="test",
        buildargs={"GREETING": greeting},
    )
    assert image_id.startswith("sha256:")
    assert (await bk.images.inspect(tag))["Id"] == image_id
    assert buildkit.ImageBuilt(image_id) in events
    text = output(events)
    assert greeting in text and "built-test-stage" in text
    names = [e.name for e in events if isinstance(e, buildkit.VertexStarted)]
    assert any("RUN cat /greeting" in name for name in names)
    assert not any("never-built" in name for name in names)
    completed = [e for e in events if isinstance(e, buildkit.VertexCompleted)]
    assert completed and all(e.duration >= 0 for e in completed)


async def test_cache_mount_is_reused_and_an_unchanged_rebuild_is_reported_cached(
    bk: Docker, tmp_path: Path, new_tag: Callable[[], str]
) -> None:
    cache_id = f"aiodocker-test-{uuid.uuid4().hex[:8]}"
    # the mount's id is not part of BuildKit's cache key: the command carries it too
    dockerfile = (
        f"FROM {IMAGE}\n"
        "ARG ROUND\n"
        f"RUN --mount=type=cache,id={cache_id},target=/cache "
        f"echo {cache_id} >/dev/null; if [ -f /cache/stamp ]; then echo cache-mount-hit; "
        "else echo cache-mount-miss; sleep 2; date > /cache/stamp; fi\n"
    )
    root = context_dir(tmp_path, dockerfile)
    _, first_events, first_seconds = await collect(bk, path=root, tag=new_tag())
    assert "cache-mount-miss" in output(first_events)
    _, second_events, second_seconds = await collect(bk, path=root, tag=new_tag())
    cached = [e.name for e in second_events if isinstance(e, buildkit.VertexCached)]
    assert any("--mount=type=cache" in name for name in cached)
    assert "cache-mount" not in output(second_events)
    assert second_seconds < first_seconds
    # a change above the step re-runs it: the cache mount keeps the first build's files
    _, third_events, _ = await collect(bk, path=root, tag=new_tag(), buildargs={"ROUND": "3"})
    assert "cache-mount-hit" in output(third_events)


async def test_failing_step_raises_naming_it_with_its_last_output(
    bk: Docker, tmp_path: Path, new_tag: Callable[[], str]
) -> None:
    dockerfile = (
        f"FROM {IMAGE}\n"
        f"RUN echo first-step-ok # {uuid.uuid4().hex}\n"
        "RUN echo compiling; echo 'fatal: broken thing' >&2; exit 7\n"
        "RUN echo never-reached\n"
    )
    tag = new_tag()
    events: list[buildkit.BuildEvent] = []
    with pytest.raises(DockerStreamError) as caught:
        await buildkit.build(
            bk, path=context_dir(tmp_path, dockerfile), tag=tag, progress=events.append
        )
    message = caught.value.message
    assert message.startswith('build step "[3/4] RUN echo compiling;')
    assert "exit code: 7" in message
    # stdout and stderr lines may arrive in either order
    assert sorted(message.splitlines()[-2:]) == ["  compiling", "  fatal: broken thing"]
    assert any(isinstance(e, buildkit.VertexFailed) for e in events)
    assert "never-reached" not in output(events)
    with pytest.raises(DockerNotFoundError):
        await bk.images.inspect(tag)


async def test_path_context_honours_dockerignore(
    bk: Docker, tmp_path: Path, new_tag: Callable[[], str]
) -> None:
    root = context_dir(
        tmp_path,
        f"FROM {IMAGE}\nCOPY . /ctx\nRUN ls -a /ctx # {uuid.uuid4().hex}\n",
        kept__txt="kept",
        secret__txt="nope",
        __dockerignore="secret.txt\n",
    )
    _, events, _ = await collect(bk, path=root, tag=new_tag())
    listing = output(events).split()
    assert "kept.txt" in listing and "Dockerfile" in listing
    assert "secret.txt" not in listing


async def test_fileobj_context_with_dockerfile_elsewhere(
    bk: Docker, new_tag: Callable[[], str]
) -> None:
    tar = tar_of(
        {"build/Custom": f"FROM {IMAGE}\nRUN echo from-fileobj # {uuid.uuid4().hex}\n".encode()}
    )
    _, events, _ = await collect(
        bk,
        fileobj=io.BytesIO(tar),
        encoding="identity",
        path_dockerfile="build/Custom",
        tag=new_tag(),
    )
    assert "from-fileobj" in output(events)


async def test_legacy_build_call_with_version_2_streams_trace_items(
    bk: Docker, new_tag: Callable[[], str]
) -> None:
    tar = tar_of({"Dockerfile": f"FROM {IMAGE}\nRUN true\n".encode()})
    items = await bk.images.build(fileobj=tar, encoding="identity", tag=new_tag(), version="2")
    kinds = {item.get("id") for item in items}
    assert {"moby.buildkit.trace", "moby.image.id"} <= kinds


async def test_leaving_a_build_early_releases_its_connection(
    bk: Docker, tmp_path: Path, new_tag: Callable[[], str]
) -> None:
    dockerfile = f"FROM {IMAGE}\nRUN echo started-{uuid.uuid4().hex}; sleep 30\n"
    async with buildkit.BuildKitBuild(
        bk, path=context_dir(tmp_path, dockerfile), tag=new_tag()
    ) as running:
        async for event in running:
            if isinstance(event, buildkit.LogLine):
                break
    with pytest.raises(StopAsyncIteration):
        await running.__anext__()
    assert (await bk.version())["ApiVersion"]  # the client still works


def test_cli_build_prints_plain_progress_and_the_image_id(
    bk_host: str, tmp_path: Path, new_tag: Callable[[], str]
) -> None:
    root = context_dir(tmp_path, f"FROM {IMAGE}\nRUN echo from-cli-build # {uuid.uuid4().hex}\n")
    out, err = io.StringIO(), io.StringIO()
    tag = new_tag()
    status = main(["-H", bk_host, "build", str(root), "-t", tag], out=out, err=err)
    assert status == 0, err.getvalue()
    lines = out.getvalue().splitlines()
    assert lines[-1].startswith("sha256:")
    assert any(line.startswith("#") and line.endswith(" from-cli-build") for line in lines)
    assert any(line.startswith("#") and " DONE " in line for line in lines)


def test_cli_build_failure_exits_1_with_the_step_on_stderr(bk_host: str, tmp_path: Path) -> None:
    root = context_dir(tmp_path, f"FROM {IMAGE}\nRUN exit 4\n")
    out, err = io.StringIO(), io.StringIO()
    assert main(["-H", bk_host, "build", str(root), "--progress", "plain"], out=out, err=err) == 1
    assert "[2/2] RUN exit 4" in err.getvalue() and "exit code: 4" in err.getvalue()
    assert "#2 ERROR" in out.getvalue() or "ERROR:" in out.getvalue()


@pytest.fixture
def netns_http_server(tmp_path: Path, testenv: dict[str, Any]) -> Iterator[tuple[Path, str]]:
    """An HTTP server inside the Docker 26 daemon's network namespace: (directory, base URL)."""
    netns = require("docker26").get("netns")
    if not netns or shutil.which("ip") is None:
        pytest.skip("the docker26 daemon's network namespace is unknown")
    served = tmp_path / "served"
    served.mkdir()
    server = subprocess.Popen(
        [
            "ip",
            "netns",
            "exec",
            netns,
            sys.executable,
            "-u",
            "-m",
            "http.server",
            "--bind",
            "127.0.0.1",
            "--directory",
            str(served),
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None
        banner = server.stdout.readline()  # "Serving HTTP on 127.0.0.1 port N (...)"
        port = banner.split(" port ")[1].split()[0]
        yield served, f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)
        if server.stdout is not None:
            server.stdout.close()


async def test_remote_tarball_context(
    bk: Docker, netns_http_server: tuple[Path, str], new_tag: Callable[[], str]
) -> None:
    served, url = netns_http_server
    token = uuid.uuid4().hex
    (served / "ctx.tar").write_bytes(
        tar_of({"Dockerfile": f"FROM {IMAGE}\nRUN echo from-remote-{token}\n".encode()})
    )
    _, events, _ = await collect(bk, remote=f"{url}/ctx.tar", tag=new_tag())
    assert f"from-remote-{token}" in output(events)


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_cli_build_on_a_terminal_redraws_a_step_view(
    bk_host: str, tmp_path: Path, new_tag: Callable[[], str]
) -> None:
    root = context_dir(tmp_path, f"FROM {IMAGE}\nRUN echo tty-{uuid.uuid4().hex} && sleep 0.5\n")
    out, err = FakeTty(), io.StringIO()
    assert main(["-H", bk_host, "build", str(root), "-t", new_tag()], out=out, err=err) == 0
    text = out.getvalue()
    assert "[+] Building" in text and "\x1b[" in text
    assert " => [2/2] RUN echo tty-" in text
    assert text.rstrip().splitlines()[-1].startswith("sha256:")


# --- buildx's flags, side by side with the buildx 0.13.1 oracle ----------------------------

FLAGS_DOCKERFILE = (
    "FROM {image} AS base\n"
    "ARG GREETING\n"
    'RUN echo "greeting=$GREETING" && grep -c flagged-host /etc/hosts # {nonce}\n'
    "FROM base AS final\n"
    "RUN echo never-built-{nonce}\n"
)


def flag_args(root: Path, dockerfile: Path, tags: list[str], out_dir: Path) -> list[str]:
    args = ["-f", str(dockerfile), "--target", "base", "--build-arg", "GREETING=hello-flags"]
    args += ["--label", "org.example.flag=yes", "--platform", "linux/amd64", "--network", "none"]
    args += ["--add-host", "flagged-host:10.9.8.7", "--no-cache", "--progress", "plain"]
    args += ["--iidfile", str(out_dir / "iid"), "--metadata-file", str(out_dir / "meta.json")]
    for tag in tags:
        args += ["-t", tag]
    return [*args, str(root)]


async def test_cli_flags_build_the_same_image_as_buildx(
    bk: Docker, bk_host: str, tmp_path: Path, new_tag: Callable[[], str]
) -> None:
    import json

    nonce = uuid.uuid4().hex
    root = tmp_path / "ctx"
    root.mkdir()
    elsewhere = tmp_path / "elsewhere"  # the Dockerfile lies outside the context
    elsewhere.mkdir()
    dockerfile = elsewhere / "Build.dockerfile"
    dockerfile.write_text(FLAGS_DOCKERFILE.format(image=IMAGE, nonce=nonce))
    results = {}
    for who in ("aiodocker", "buildx"):
        out_dir = tmp_path / who
        out_dir.mkdir()
        tags = [new_tag(), new_tag()]
        args = flag_args(root, dockerfile, tags, out_dir)
        if who == "aiodocker":
            out, err = io.StringIO(), io.StringIO()
            status = await asyncio.to_thread(main, ["-H", bk_host, "build", *args], out, err)
            text = out.getvalue() + err.getvalue()
        else:
            done = await asyncio.to_thread(
                subprocess.run,
                [require("buildx_bin"), "build", *args],
                env={**os.environ, "DOCKER_HOST": bk_host},
                capture_output=True,
                text=True,
                timeout=300,
            )
            status, text = done.returncode, done.stdout + done.stderr
        assert status == 0, text
        assert "greeting=hello-flags" in text and f"never-built-{nonce}" not in text
        image_id = (out_dir / "iid").read_text().strip()
        info = await bk.images.inspect(tags[1])
        assert info["Id"] == image_id
        assert (await bk.images.inspect(tags[0]))["Id"] == image_id
        meta = json.loads((out_dir / "meta.json").read_text())
        results[who] = (info["Config"]["Labels"], info["Architecture"], meta, tags)
    ours, theirs = results["aiodocker"], results["buildx"]
    assert ours[0] == theirs[0] and ours[0]["org.example.flag"] == "yes"
    assert ours[1] == theirs[1] == "amd64"
    for meta, tags in ((ours[2], ours[3]), (theirs[2], theirs[3])):
        assert meta["containerimage.config.digest"].startswith("sha256:")
        assert set(meta["image.name"].split(",")) == {f"docker.io/library/{t}" for t in tags}


def test_cli_quiet_prints_only_the_id_and_rawjson_prints_status_lines(
    bk_host: str, tmp_path: Path
) -> None:
    import json

    nonce = uuid.uuid4().hex
    root = context_dir(tmp_path, f"FROM {IMAGE}\nRUN echo raw-{nonce}\n")
    out, err = io.StringIO(), io.StringIO()
    assert main(["-H", bk_host, "build", "-q", str(root)], out=out, err=err) == 0, err.getvalue()
    assert out.getvalue().strip().startswith("sha256:") and len(out.getvalue().splitlines()) == 1
    out = io.StringIO()
    argv = ["-H", bk_host, "build", "--progress", "rawjson", "--no-cache", str(root)]
    assert main(argv, out=out, err=err) == 0, err.getvalue()
    text, _, image_id = out.getvalue().rstrip("\n").rpartition("\n")
    decoder, position, documents = json.JSONDecoder(), 0, []
    while text[position:].strip():  # buildx's layout: indented documents, one after another
        while text[position].isspace():
            position += 1
        document, position = decoder.raw_decode(text, position)
        documents.append(document)
    names = [v.get("name", "") for d in documents for v in d.get("vertexes", [])]
    assert any(name.endswith(f"RUN echo raw-{nonce}") for name in names)
    logs = [base64.b64decode(log["data"]) for d in documents for log in d.get("logs", [])]
    assert f"raw-{nonce}\n".encode() in logs
    assert image_id.startswith("sha256:")
    statuses = [s for d in documents for s in d.get("statuses", [])]
    assert all("current" in s for s in statuses)


def test_cli_refuses_a_bad_ssh_socket_before_building(bk_host: str, tmp_path: Path) -> None:
    root = context_dir(tmp_path, f"FROM {IMAGE}\nRUN --mount=type=ssh true\n")
    out, err = io.StringIO(), io.StringIO()
    argv = ["-H", bk_host, "build", "--ssh", f"default={tmp_path / 'no-agent.sock'}", str(root)]
    assert main(argv, out=out, err=err) == 1
    assert "no-agent.sock" in err.getvalue() and "#1" not in out.getvalue()  # nothing ran


NAMED = "FROM base\nCOPY --from=extra hello.txt /hello.txt\nRUN cat /hello.txt && echo {nonce}\n"


async def test_named_contexts_resolve_copy_from_and_from_as_with_buildx(
    bk: Docker, bk_host: str, tmp_path: Path, new_tag: Callable[[], str]
) -> None:
    nonce = uuid.uuid4().hex
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "hello.txt").write_text(f"from-the-extra-context-{nonce}\n")
    root = context_dir(tmp_path, NAMED.format(nonce=nonce))
    contexts = ["--build-context", f"extra={extra}"]
    contexts += ["--build-context", f"base=docker-image://{IMAGE}"]
    tag = new_tag()
    out, err = io.StringIO(), io.StringIO()
    argv = ["-H", bk_host, "build", "--progress", "plain", "-t", tag, *contexts, str(root)]
    assert await asyncio.to_thread(main, argv, out, err) == 0, err.getvalue()
    assert f"from-the-extra-context-{nonce}" in out.getvalue()
    assert (await bk.images.inspect(tag))["Id"] == out.getvalue().split()[-1]
    done = await asyncio.to_thread(
        subprocess.run,
        [require("buildx_bin"), "build", "--progress", "plain", *contexts, str(root)],
        env={**os.environ, "DOCKER_HOST": bk_host},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    # buildx reuses our steps from the cache: the same definition with the same inputs
    run_step = next(
        line.split()[0] for line in done.stderr.splitlines() if f"&& echo {nonce}" in line
    )
    assert f"{run_step} CACHED" in done.stderr
    assert f"writing image {out.getvalue().split()[-1]}" in done.stderr
    # through the API: a failing step's lines come from the daemon's own error source
    (root / "Dockerfile").write_text(
        f"FROM base\nCOPY --from=extra hello.txt /h\nRUN echo {nonce} && \\\n  exit 6\n"
    )
    with pytest.raises(DockerStreamError) as caught:
        await buildkit.build(
            bk, path=root, build_contexts={"extra": extra, "base": f"docker-image://{IMAGE}"}
        )
    assert "exit code: 6" in caught.value.message
    cause = caught.value.__cause__
    assert cause is not None and ">>>   exit 6" in getattr(cause, "source", "")
    assert source_block(caught.value.message) == getattr(cause, "source", "")


async def test_named_context_must_be_a_directory_or_a_known_scheme(
    bk: Docker, tmp_path: Path
) -> None:
    root = context_dir(tmp_path, f"FROM {IMAGE}\n")
    with pytest.raises(ValueError, match="'extra'.*not a directory"):
        buildkit.BuildKitBuild(bk, path=root, build_contexts={"extra": tmp_path / "missing"})
    with pytest.raises(ValueError, match="needs a local context"):
        buildkit.BuildKitBuild(bk, remote="http://x/ctx.tar", build_contexts={"e": tmp_path})


def source_block(text: str) -> str:
    """The ``Dockerfile:N`` block (header and the two rules) of an error output."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Dockerfile:"))
    end = lines.index("--------------------", start + 2)
    return "\n".join(lines[start : end + 1])


@pytest.mark.parametrize(
    "dockerfile",
    [
        # one-line step in the only stage, a comment above it
        "FROM {image}\n# a comment\nRUN echo a-{nonce}\nRUN exit 5\nRUN echo b\nRUN echo c\n",
        # a continued step in a named stage of a multi-stage build, ENV not counted
        "FROM {image} AS build\nENV A=1\nRUN echo one-{nonce}\n\nRUN echo two && \\\n"
        "    exit 3\nRUN echo three\nFROM {image}\nCOPY --from=build /etc/hostname /x\n",
    ],
    ids=["one-line", "continued-in-stage"],
)
async def test_failing_step_shows_its_dockerfile_lines_as_buildx_does(
    bk: Docker, bk_host: str, tmp_path: Path, dockerfile: str
) -> None:
    text = dockerfile.format(image=IMAGE, nonce=uuid.uuid4().hex)
    root = context_dir(tmp_path, text)
    with pytest.raises(DockerStreamError) as caught:
        await buildkit.build(bk, path=root)
    done = await asyncio.to_thread(
        subprocess.run,
        [require("buildx_bin"), "build", "--progress", "plain", str(root)],
        env={**os.environ, "DOCKER_HOST": bk_host},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode != 0
    assert source_block(caught.value.message) == source_block(done.stderr)
    assert ">>>" in source_block(caught.value.message)
