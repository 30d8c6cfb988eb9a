"""``copy_to``/``copy_from`` against the real ``docker cp`` as the oracle, on each engine.

Each case is done twice, by this package and by the engine's docker CLI, into
twin directories; the trees that result (names, types, contents, modes, symlink
targets, owners, file times) must be equal, and a case one side refuses the
other must refuse too.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
import textwrap
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from copy_helpers import STAMP, cli_of, container_tree, host_tree, make_host_tree
from testenv import Engine

import aiodocker
from aiodocker.containers import DockerContainer
from aiodocker.exceptions import DockerCopyError, DockerError, DockerNotFoundError

pytestmark = pytest.mark.filterwarnings("error::ResourceWarning")


def seed_tar(names: list[str]) -> bytes:
    """The pre-existing state of each case directory: ``exists/`` and the file ``efile``."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name in names:
            for entry, kind in ((f"{name}/exists", tarfile.DIRTYPE), (f"{name}/efile", None)):
                info = tarfile.TarInfo(entry)
                info.mtime = STAMP
                if kind is not None:
                    info.type, info.mode = kind, 0o755
                    tar.addfile(info)
                else:
                    info.size = 2
                    tar.addfile(info, io.BytesIO(b"e\n"))
    return buffer.getvalue()


@pytest.fixture
async def box(
    docker: aiodocker.Docker, image: str, make_name: Callable[..., str]
) -> AsyncIterator[DockerContainer]:
    """A running container whose configured user is ``nobody`` (so ``-a`` matters)."""
    created = await docker.containers.create(
        {"Image": image, "Cmd": ["sleep", "300"], "User": "nobody"}, name=make_name("cp")
    )
    await created.start()
    yield created
    await created.delete(force=True)


# (source below the host tree, destination below the case directory, CLI flags)
TO_CASES = [
    ("f", "new", ""),
    ("f", "exists", ""),
    ("f", "exists/", ""),
    ("f", "efile", ""),
    ("d", "newd", ""),
    ("d", "newd2/", ""),
    ("d", "exists", ""),
    ("d/.", "exists", ""),
    ("d/.", "newd", ""),
    ("dl", "link", ""),
    ("dl", "linkL", "-L"),
    ("dl/", "slash", ""),
    ("fl", "exists", "-L"),
    ("owned", "exists", ""),
    ("owned", "exists", "-a"),
    ("d", "efile", ""),  # a directory onto a file: refused
    ("f", "nodir/", ""),  # a file onto a missing directory path: refused
    ("f", "no/such/parent", ""),  # the parent is missing: refused
    ("missing", "x", ""),  # no such source: refused
    ("-", "exists", ""),  # a tar on stdin
    ("-", "newt", ""),  # a tar on stdin to a missing directory: refused
]


async def test_copy_to_gives_the_trees_docker_cp_gives(
    box: DockerContainer, engine: Engine, tmp_path: Path
) -> None:
    src = make_host_tree(tmp_path)
    stdin_tar = seed_tar(["tar-member"])
    names = [f"c{number}" for number in range(len(TO_CASES))]
    for side in ("ours", "cli"):
        await box.put_archive("/", seed_tar([f"w/{side}/{name}" for name in names]))
    outcomes = []
    for name, (source, dest, flags) in zip(names, TO_CASES, strict=True):
        host = "-" if source == "-" else str(src / source) + ("/" if source.endswith("/") else "")
        try:
            await box.copy_to(
                io.BytesIO(stdin_tar) if host == "-" else host,
                f"/w/ours/{name}/{dest}",
                follow_links="-L" in flags,
                archive="-a" in flags,
            )
            ours_ok = True
        except DockerError:
            ours_ok = False
        cli = subprocess.run(
            [*cli_of(engine), "cp", *flags.split(), host, f"{box.id}:/w/cli/{name}/{dest}"],
            input=stdin_tar,
            capture_output=True,
            check=False,
        )
        outcomes.append((name, source, dest, flags, ours_ok, cli.returncode == 0))
    assert [o for o in outcomes if o[4] != o[5]] == []
    podman = engine.name.startswith("podman")  # Podman creates a missing parent directory
    assert sum(1 for o in outcomes if o[4]) == (17 if podman else 16)
    ours, theirs = await container_tree(box, "/w/ours"), await container_tree(box, "/w/cli")
    assert ours == theirs
    assert ours["c14/exists/owned"][2:4] == (65534, 65534)  # -a: the container's user
    without = ours["c13/exists/owned"][2:4]  # Docker keeps the host's ids, Podman chowns
    assert without == ((65534, 65534) if podman else (1234, 5678))
    assert ours["c8/newd/ln"][4] == "sub/a"


FROM_CASES = [
    ("s/f", "new", ""),
    ("s/f", "exists", ""),
    ("s/f", "efile", ""),
    ("s/d", "newd", ""),
    ("s/d", "exists", ""),
    ("s/d/.", "exists", ""),
    ("s/d/.", "newd", ""),
    ("s/dl", "link", ""),
    ("s/dl", "linkL", "-L"),
    ("s/dl/", "slash", ""),
    ("s/owned", "exists", "-a"),
    ("s/d", "efile", ""),  # a directory onto a file: refused
    ("s/f", "nodir/", ""),  # refused
    ("s/f", "no/such/parent", ""),  # refused
    ("s/missing", "x", ""),  # refused
    ("s/d/sub", "exists/sub", ""),  # merges into an existing directory
]


async def test_copy_from_gives_the_trees_docker_cp_gives(
    box: DockerContainer, engine: Engine, tmp_path: Path
) -> None:
    src = make_host_tree(tmp_path)
    subprocess.run([*cli_of(engine), "cp", str(src), f"{box.id}:/s"], check=True)
    outcomes = []
    for number, (source, dest, flags) in enumerate(FROM_CASES):
        for side in ("ours", "cli"):
            (tmp_path / side / f"c{number}" / "exists" / "sub").mkdir(parents=True)
            (tmp_path / side / f"c{number}" / "efile").write_bytes(b"e\n")
        try:
            await box.copy_from(
                f"/{source}",
                str(tmp_path / "ours" / f"c{number}" / dest) + ("/" if dest.endswith("/") else ""),
                follow_links="-L" in flags,
            )
            ours_ok = True
        except DockerError:
            ours_ok = False
        target = str(tmp_path / "cli" / f"c{number}" / dest) + ("/" if dest.endswith("/") else "")
        cli = subprocess.run(
            [*cli_of(engine), "cp", *flags.split(), f"{box.id}:/{source}", target],
            capture_output=True,
            check=False,
        )
        outcomes.append((number, source, dest, ours_ok, cli.returncode == 0))
    assert [o for o in outcomes if o[3] != o[4]] == []
    assert sum(1 for o in outcomes if o[3]) == 12
    ours, theirs = host_tree(tmp_path / "ours"), host_tree(tmp_path / "cli")
    assert ours == theirs
    assert ours["c8/linkL/ln"][4] == "sub/a"
    assert ours["c3/newd/run.sh"][1] == 0o4755


async def test_tar_to_stdout_is_the_cli_s_and_errors_are_typed(
    box: DockerContainer, engine: Engine, tmp_path: Path
) -> None:
    src = make_host_tree(tmp_path)
    await box.copy_to(str(src), "/s")
    out = io.BytesIO()
    found = await box.copy_from("/s/d", out)
    assert found["name"] == "d" and found["mode"] & (1 << 31)
    cli = subprocess.run(
        [*cli_of(engine), "cp", f"{box.id}:/s/d", "-"], capture_output=True, check=True
    )
    assert out.getvalue() == cli.stdout
    with tarfile.open(fileobj=io.BytesIO(out.getvalue())) as tar:
        assert "d/sub/a" in tar.getnames()
    with pytest.raises(DockerCopyError, match="missing"):
        await box.copy_to(str(src / "missing"), "/tmp")
    with pytest.raises(DockerCopyError) as refused:
        await box.copy_to(str(src / "d"), "/s/f")
    assert refused.value.path == "/s/f" and isinstance(refused.value, ValueError)
    podman = engine.name.startswith("podman")  # Podman's 404 does not name the path
    with pytest.raises(DockerNotFoundError, match="no such file" if podman else "/no/such"):
        await box.copy_from("/no/such", str(tmp_path / "x"))
    with pytest.raises(DockerCopyError, match="does not exist"):
        await box.copy_from("/s/f", str(tmp_path / "no" / "dir" / "x"))
    with pytest.raises(DockerCopyError, match="must be a directory"):
        await box.copy_to(io.BytesIO(seed_tar(["x"])), "/s/f")


MEMORY_SCRIPT = textwrap.dedent(
    """
    import asyncio, resource, sys
    import aiodocker

    async def main(host, cid, big, back):
        async with aiodocker.Docker(url=host) as docker:
            box = docker.containers.container(cid)
            await box.copy_from("/etc/hostname", back + ".warm")
            before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            await box.copy_to(big, "/tmp/big")
            await box.copy_from("/tmp/big", back)
            after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(before, after)

    asyncio.run(main(*sys.argv[1:]))
    """
)


async def test_a_200_mib_copy_both_ways_keeps_memory_flat(
    box: DockerContainer, engine: Engine, tmp_path: Path
) -> None:
    big, back = tmp_path / "big", tmp_path / "back"
    size = 200 * 1024 * 1024
    with open(big, "wb") as file:
        file.truncate(size)  # sparse: no disk, but 200 MiB read and sent
        file.seek(size // 2)
        file.write(b"middle")
    done = subprocess.run(
        [sys.executable, "-c", MEMORY_SCRIPT, engine.host, box.id, str(big), str(back)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    before, after = (int(value) for value in done.stdout.split())
    assert (after - before) * 1024 < 32 * 1024 * 1024, done.stdout  # KiB on Linux
    assert back.stat().st_size == size
    with open(back, "rb") as file:
        file.seek(size // 2)
        assert file.read(6) == b"middle"
