"""Exporters on the real Docker 26 daemon, compared with buildx 0.13.1 (the oracle).

``outputs=`` local and tar give the file tree and member list buildx gives for the
same Dockerfile; a large tar export streams with flat memory; ``push=True`` reaches
the (authenticated) test registry; ``cache_to=["type=inline"]`` writes the inline
cache metadata buildx writes; what the engine cannot do is refused up front, where
buildx refuses it too.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import stat
import subprocess
import sys
import tarfile
import tracemalloc
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import isolated_docker_config, remove_images  # noqa: F401 (autouse)
from testenv import in_ci, require

try:
    import h2  # noqa: F401
except ImportError:  # the aiodocker[buildkit] extra is missing: a broken set-up in CI
    if in_ci():
        raise
    pytest.skip("the BuildKit session needs the aiodocker[buildkit] extra", allow_module_level=True)

import test_buildkit_session  # noqa: E402

from aiodocker import Docker, buildkit  # noqa: E402
from aiodocker.__main__ import main  # noqa: E402

IMAGE = "aiodocker-test/busybox:latest"
# the fixture: the test registry as the Docker 26 daemon's namespace reaches it
registry_in_netns = test_buildkit_session.registry_in_netns

TREE_DOCKERFILE = f"""\
FROM {IMAGE} AS base
RUN mkdir -p /out/sub/deeper /out/empty \\
 && printf 'hello\\n' > /out/a.txt && chmod 0751 /out/a.txt \\
 && printf 'x' > /out/sub/b && ln /out/sub/b /out/sub/hard \\
 && ln -s a.txt /out/link && ln -s /nowhere /out/dangling \\
 && printf 'setuid' > /out/sub/su && chmod 4755 /out/sub/su \\
 && chmod 0700 /out/sub/deeper && printf '' > /out/sub/deeper/empty-file \\
 && head -c 3000000 /dev/urandom > /out/big && touch -d '2001-02-03 04:05:06' /out/a.txt
FROM scratch
COPY --from=base /out /
"""


@pytest.fixture
async def bk(testenv: dict[str, Any]) -> AsyncIterator[Docker]:
    client = Docker(url=require("docker26")["host"])
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
def buildx(docker_config: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    binary = require("buildx_bin")
    host = require("docker26")["host"]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "DOCKER_HOST": host, "DOCKER_CONFIG": str(docker_config)}
        return subprocess.run(
            [binary, "build", "--progress", "plain", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    return run


@pytest.fixture
def context(tmp_path: Path) -> Path:
    root = tmp_path / "ctx"
    root.mkdir()
    # a fresh line per test run keeps the steps from being served from another run's cache
    (root / "Dockerfile").write_text(TREE_DOCKERFILE + f"LABEL run={uuid.uuid4().hex}\n")
    return root


def tree(root: Path) -> dict[str, tuple[Any, ...]]:
    """Every entry below ``root``: type, permission bits, mtime, content digest or link target."""
    entries: dict[str, tuple[Any, ...]] = {}
    inodes: dict[int, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            info = path.lstat()
            rel = str(path.relative_to(root))
            if stat.S_ISLNK(info.st_mode):
                entries[rel] = ("link", os.readlink(path))
            elif stat.S_ISDIR(info.st_mode):
                entries[rel] = ("dir", oct(stat.S_IMODE(info.st_mode)), info.st_mtime_ns)
            else:
                first = inodes.setdefault(info.st_ino, rel)
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                entries[rel] = (
                    "file", oct(stat.S_IMODE(info.st_mode)), info.st_mtime_ns, digest,
                    first if first != rel else None,
                )  # fmt: skip
    return entries


def members(path: Path) -> list[tuple[Any, ...]]:
    with tarfile.open(path) as archive:
        return [
            (m.name, m.type, oct(m.mode), m.linkname, m.size, m.mtime, m.uid, m.gid)
            for m in archive.getmembers()
        ]


async def run(docker: Docker, **kwargs: Any) -> buildkit.BuildKitBuild:
    async with buildkit.BuildKitBuild(docker, **kwargs) as running:
        async for _ in running:
            pass
        await running.wait()
    return running


async def test_local_output_gives_the_file_tree_buildx_gives(
    bk: Docker, context: Path, tmp_path: Path, buildx: Callable[..., Any]
) -> None:
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    running = await run(bk, path=context, outputs=[f"type=local,dest={ours}"])
    assert running.image_id is None and not running.makes_image
    assert isinstance(running.exporter, buildkit.LocalReceiver)
    assert running.exporter.files_received >= 5
    result = buildx("-o", f"type=local,dest={theirs}", str(context))
    assert result.returncode == 0, result.stderr
    expected = tree(theirs)
    assert tree(ours) == expected
    assert expected["sub/hard"][4] == "sub/b" or expected["sub/b"][4] == "sub/hard"
    assert expected["sub/su"][1] == "0o4755" and expected["link"] == ("link", "a.txt")
    assert expected["a.txt"][2] == 981173106 * 10**9  # 2001-02-03T04:05:06Z kept


async def test_tar_output_gives_the_members_buildx_gives(
    bk: Docker, context: Path, tmp_path: Path, buildx: Callable[..., Any]
) -> None:
    ours, theirs = tmp_path / "ours.tar", tmp_path / "theirs.tar"
    await run(bk, path=context, context_sync=True, outputs=[f"type=tar,dest={ours}"])
    result = buildx("-o", f"type=tar,dest={theirs}", str(context))
    assert result.returncode == 0, result.stderr
    assert members(ours) == members(theirs)
    assert "big" in [m[0] for m in members(ours)]
    assert ours.read_bytes() == theirs.read_bytes()


@pytest.mark.parametrize("kind", ["tar", "local"])
async def test_a_large_export_streams_with_flat_memory(
    bk: Docker, tmp_path: Path, kind: str
) -> None:
    root = tmp_path / "ctx"
    root.mkdir()
    size = 160 * 1024 * 1024
    (root / "Dockerfile").write_text(
        f"FROM {IMAGE} AS base\nRUN head -c {size} /dev/zero > /big # {uuid.uuid4().hex}\n"
        "FROM scratch\nCOPY --from=base /big /big\n"
    )
    dest = tmp_path / f"big.{kind}"
    tracemalloc.start()
    try:
        running = await run(bk, path=root, outputs=[f"type={kind},dest={dest}"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    written = (dest / "big" if kind == "local" else dest).stat().st_size
    assert written >= size
    assert running.exporter is not None and running.exporter.bytes_received == written
    assert peak < 24 * 1024 * 1024, f"peak Python memory {peak / 1e6:.1f} MB for a 160 MB export"


async def test_push_sends_each_tag_to_the_registry_with_config_credentials(
    bk: Docker,
    tmp_path: Path,
    docker_config: Path,
    registry_in_netns: str,
    make_name: Callable[..., str],
) -> None:
    import aiohttp

    user, password = require("registry_user"), require("registry_password")
    login = base64.b64encode(f"{user}:{password}".encode()).decode()
    (docker_config / "config.json").write_text(
        json.dumps({"auths": {registry_in_netns: {"auth": login}}})
    )
    root = tmp_path / "ctx"
    root.mkdir()
    marker = uuid.uuid4().hex
    (root / "Dockerfile").write_text(f"FROM {IMAGE}\nRUN echo {marker} > /marker\n")
    repository = make_name("bkpush")
    tag = f"{registry_in_netns}/{repository}:v1"
    registry = require("registry")
    url = f"http://{registry}/v2/{repository}/manifests/v1"
    accept = {"Accept": "application/vnd.docker.distribution.manifest.v2+json"}
    try:
        # push=true of an image output names the tag, as buildx's -o type=image,name=..,push=true
        running = await run(bk, path=root, outputs=[f"type=image,name={tag},push=true"])
        assert running.pushed == [tag] and running.image_id
        async with aiohttp.ClientSession(headers={"Authorization": f"Basic {login}"}) as http:
            async with http.get(url, headers=accept) as response:
                assert response.status == 200
                digest = response.headers["Docker-Content-Digest"]
                manifest = await response.json(content_type=None)
            # the pushed config is the built image's
            assert manifest["config"]["digest"] == running.image_id
            async with http.delete(f"http://{registry}/v2/{repository}/manifests/{digest}"):
                pass
    finally:
        await remove_images(bk, tag)


async def test_push_without_credentials_fails_with_the_registry_error(
    bk: Docker, tmp_path: Path, registry_in_netns: str, make_name: Callable[..., str]
) -> None:
    from aiodocker.exceptions import DockerStreamError

    root = tmp_path / "ctx"
    root.mkdir()
    (root / "Dockerfile").write_text(f"FROM {IMAGE}\nRUN echo {uuid.uuid4().hex}\n")
    tag = f"{registry_in_netns}/{make_name('bkpush')}:v1"
    try:
        with pytest.raises(DockerStreamError, match="(?i)auth|denied|credentials"):
            await run(bk, path=root, tag=tag, push=True)
    finally:
        await remove_images(bk, tag)


async def _image_config(docker: Docker, ref: str) -> dict[str, Any]:
    async with docker.images.export_image(ref) as content:
        data = await content.read()
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        manifest = json.load(archive.extractfile("manifest.json"))  # type: ignore[arg-type]
        config: dict[str, Any] = json.load(archive.extractfile(manifest[0]["Config"]))  # type: ignore[arg-type]
    return config


async def test_inline_cache_is_written_into_the_image_as_buildx_writes_it(
    bk: Docker, context: Path, buildx: Callable[..., Any], make_name: Callable[..., str]
) -> None:
    ours, plain, theirs = (f"{make_name('bkcache')}:v1" for _ in range(3))
    try:
        await run(bk, path=context, tag=ours, cache_to=["type=inline"])
        await run(bk, path=context, tag=plain)
        result = buildx("--cache-to", "type=inline", "-t", theirs, str(context))
        assert result.returncode == 0, result.stderr
        key = "moby.buildkit.cache.v0"
        assert key in await _image_config(bk, theirs)
        assert key in await _image_config(bk, ours)
        assert key not in await _image_config(bk, plain)
    finally:
        await remove_images(bk, ours, plain, theirs)


async def test_cache_from_a_registry_reference_reaches_the_daemon(
    bk: Docker, context: Path, make_name: Callable[..., str]
) -> None:
    """An unreachable cache source is only a warning to BuildKit: the build succeeds."""
    tag = f"{make_name('bkcache')}:v1"
    names: list[str] = []
    try:
        image_id = await buildkit.build(
            bk,
            path=context,
            tag=tag,
            cache_from=["type=registry,ref=127.0.0.1:9/none:cache"],
            progress=lambda event: names.append(getattr(event, "name", "")),
        )
        assert image_id
        assert "importing cache manifest from 127.0.0.1:9/none:cache" in names
    finally:
        await remove_images(bk, tag)


@pytest.mark.parametrize(
    ("ours", "theirs", "limit"),
    [
        ({"outputs": ["type=oci,dest={tmp}/x.tar"]}, ["-o", "type=oci,dest={tmp}/y.tar"],
         "containerd image store"),
        ({"outputs": ["type=docker,dest={tmp}/x.tar"]}, ["-o", "type=docker,dest={tmp}/y.tar"],
         "containerd image store"),
        ({"cache_to": ["type=registry,ref=127.0.0.1:9/c"]},
         ["--cache-to", "type=registry,ref=127.0.0.1:9/c"], "inline only"),
        ({"platform": "linux/amd64,linux/arm64"}, ["--platform", "linux/amd64,linux/arm64"],
         "multi-platform"),
        ({"outputs": ["type=local,dest={tmp}/a", "type=tar,dest={tmp}/b.tar"]},
         ["-o", "type=local,dest={tmp}/c", "-o", "type=tar,dest={tmp}/d.tar"],
         "one output per build"),
        ({"outputs": ["type=cacheonly"]}, ["-o", "type=cacheonly"], "no cache-only export"),
    ],
    ids=["oci", "docker", "cache-registry", "multi-platform", "two-outputs", "cacheonly"],
)  # fmt: skip
async def test_what_the_engine_cannot_do_is_refused_before_anything_runs(
    bk: Docker,
    context: Path,
    tmp_path: Path,
    buildx: Callable[..., Any],
    ours: dict[str, Any],
    theirs: list[str],
    limit: str,
) -> None:
    kwargs = json.loads(json.dumps(ours).replace("{tmp}", str(tmp_path)))
    before = set(tmp_path.iterdir())
    running = None
    with pytest.raises(buildkit.UnsupportedByEngineError, match=limit):
        running = buildkit.BuildKitBuild(bk, path=context, **kwargs)
        async for _ in running:
            pass
    if running is not None:
        assert running.session is None  # no session opened, no build sent
    assert set(tmp_path.iterdir()) == before
    result = buildx(*(arg.replace("{tmp}", str(tmp_path)) for arg in theirs), str(context))
    if limit in ("one output per build", "no cache-only export"):
        # buildx drives the engine's BuildKit through POST /grpc, which takes several
        # exporters and none; POST /build answers "multiple outputs not supported" and
        # 'exporter "" could not be found'
        assert result.returncode == 0, result.stderr
    else:
        assert result.returncode != 0 and "not supported" in result.stderr


def test_cli_output_flag_writes_the_tar_buildx_writes(
    context: Path, tmp_path: Path, buildx: Callable[..., Any]
) -> None:
    out, err = io.StringIO(), io.StringIO()
    ours, theirs = tmp_path / "ours.tar", tmp_path / "theirs.tar"
    host = require("docker26")["host"]
    argv = ["-H", host, "build", str(context), "--progress", "plain", "-o", f"type=tar,dest={ours}"]
    assert main(argv, out=out, err=err) == 0, err.getvalue()
    assert "sha256:" not in out.getvalue().splitlines()[-1]  # no image: none printed
    result = buildx("-o", f"type=tar,dest={theirs}", str(context))
    assert result.returncode == 0, result.stderr
    assert members(ours) == members(theirs)
    err = io.StringIO()
    argv = ["-H", host, "build", str(context), "--cache-to", "type=local,dest=x"]
    assert main(argv, out=io.StringIO(), err=err) == 1
    assert "inline only" in err.getvalue()


def test_cli_output_dash_streams_the_tar_to_stdout_as_buildx_does(
    context: Path, tmp_path: Path, docker_config: Path
) -> None:
    """``-o -``: the tar on standard output, the progress on standard error."""
    host = require("docker26")["host"]
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root), "DOCKER_CONFIG": str(docker_config)}
    ours = subprocess.run(
        [sys.executable, "-m", "aiodocker", "-H", host, "build", str(context), "-o", "-",
         "--progress", "plain"],
        env=env, capture_output=True, timeout=300,
    )  # fmt: skip
    assert ours.returncode == 0, ours.stderr.decode()
    assert b"DONE" in ours.stderr
    env["DOCKER_HOST"] = host
    theirs = subprocess.run(
        [require("buildx_bin"), "build", "--progress", "plain", "-o", "-", str(context)],
        env=env, capture_output=True, timeout=300,
    )  # fmt: skip
    assert theirs.returncode == 0, theirs.stderr.decode()
    (tmp_path / "ours.tar").write_bytes(ours.stdout)
    (tmp_path / "theirs.tar").write_bytes(theirs.stdout)
    assert members(tmp_path / "ours.tar") == members(tmp_path / "theirs.tar")


async def test_inline_cache_pushed_to_a_registry_is_imported_with_cache_from(
    bk: Docker,
    tmp_path: Path,
    docker_config: Path,
    registry_in_netns: str,
    make_name: Callable[..., str],
) -> None:
    """Build with ``cache_to=["type=inline"]`` and push; drop the local cache records of
    the step (only those); build with ``cache_from`` the pushed reference: the step is
    cached, and it is not without ``cache_from`` (the session gives the import the
    registry's credentials)."""
    import aiohttp

    registry = require("registry")
    login = base64.b64encode(
        f"{require('registry_user')}:{require('registry_password')}".encode()
    ).decode()
    (docker_config / "config.json").write_text(
        json.dumps({"auths": {registry_in_netns: {"auth": login}}})
    )
    root = tmp_path / "ctx"
    root.mkdir()
    marker = uuid.uuid4().hex
    (root / "Dockerfile").write_text(f"FROM {IMAGE}\nRUN echo {marker} > /marker\n")
    repository = make_name("bkinline")
    pushed = f"{registry_in_netns}/{repository}:cache"
    local = f"{make_name('bkinline')}:v1"

    async def drop_step_cache() -> None:
        usage = await bk.system.df(type="build-cache")
        ids = [r["ID"] for r in usage.get("BuildCache") or () if marker in r.get("Description", "")]
        assert ids, "the step left no cache record"
        await bk.images.prune_builds(filters={"id": ids})

    async def step_cached(**kwargs: Any) -> bool:
        events: list[buildkit.BuildEvent] = []
        await buildkit.build(bk, path=root, tag=local, progress=events.append, **kwargs)
        await remove_images(bk, local)
        return any(
            isinstance(e, buildkit.VertexCached) and marker in e.name for e in events
        )

    try:
        await run(bk, path=root, tag=pushed, cache_to=["type=inline"], push=True)
        await remove_images(bk, pushed)
        await drop_step_cache()
        assert not await step_cached()
        await drop_step_cache()
        assert await step_cached(cache_from=[pushed])
    finally:
        await remove_images(bk, pushed, local)
        async with aiohttp.ClientSession(headers={"Authorization": f"Basic {login}"}) as http:
            url = f"http://{registry}/v2/{repository}/manifests/cache"
            accept = {"Accept": "application/vnd.docker.distribution.manifest.v2+json"}
            async with http.head(url, headers=accept) as head:
                digest = head.headers.get("Docker-Content-Digest")
            if digest:
                async with http.delete(f"http://{registry}/v2/{repository}/manifests/{digest}"):
                    pass
