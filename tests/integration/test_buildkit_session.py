"""The BuildKit session on the real Docker 26 daemon: file sync, secrets, ssh, registry auth, death."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import isolated_docker_config, remove_images  # noqa: F401 (autouse)
from testenv import require

from aiodocker import Docker, buildkit
from aiodocker.exceptions import DockerStreamError

IMAGE = "aiodocker-test/busybox:latest"


@pytest.fixture
async def bk(testenv: dict[str, Any]) -> AsyncIterator[Docker]:
    client = Docker(url=require("docker26")["host"])
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
async def new_tag(bk: Docker, make_name: Callable[..., str]) -> AsyncIterator[Callable[[], str]]:
    made: list[str] = []

    def make() -> str:
        made.append(f"{make_name('bksession')}:v1")
        return made[-1]

    yield make
    await remove_images(bk, *made)


def output(events: list[buildkit.BuildEvent]) -> str:
    return b"".join(e.data for e in events if isinstance(e, buildkit.LogLine)).decode()


async def run(
    docker: Docker, **kwargs: Any
) -> tuple[buildkit.BuildKitBuild, list[buildkit.BuildEvent]]:
    events: list[buildkit.BuildEvent] = []
    async with buildkit.BuildKitBuild(docker, **kwargs) as running:
        async for event in running:
            events.append(event)
        await running.wait()
    return running, events


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def test_file_sync_sends_only_changed_files_and_honours_dockerignore(
    bk: Docker, tmp_path: Path, new_tag: Callable[[], str]
) -> None:
    root = tmp_path / "ctx"
    (root / "src").mkdir(parents=True)
    for n in range(20):
        (root / "src" / f"f{n:02}.txt").write_text(f"content {n}\n" * 100)
    (root / "ignored.txt").write_text("must not be sent")
    (root / ".dockerignore").write_text("ignored.txt\n")
    (root / "Dockerfile").write_text(
        f"FROM {IMAGE}\nCOPY . /ctx\nRUN ls -a /ctx /ctx/src | tr '\\n' ' ' && head -1 /ctx/src/f07.txt"
        f" # {uuid.uuid4().hex}\n"
    )
    first, events = await run(bk, path=root, tag=new_tag(), context_sync=True)
    listing = output(events).split()
    assert "ignored.txt" not in listing and "f19.txt" in listing and ".dockerignore" in listing
    assert "content" in output(events)
    assert first.file_sync is not None and first.file_sync.files_sent >= 20
    (root / "src" / "f07.txt").write_text("changed content\n")
    second, events = await run(bk, path=root, tag=new_tag(), context_sync=True)
    assert "changed content" in output(events)
    assert second.file_sync is not None
    # the Dockerfile (its own sync), .dockerignore (read by the frontend) and the changed file
    assert 1 <= second.file_sync.files_sent <= 3
    assert second.file_sync.file_bytes_sent < first.file_sync.file_bytes_sent / 20


async def test_secret_from_file_and_env_reach_the_step_but_never_the_output(
    bk: Docker, tmp_path: Path, new_tag: Callable[[], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    file_value = f"file-secret-{uuid.uuid4().hex}"
    env_value = f"env-secret-{uuid.uuid4().hex}"
    secret_file = tmp_path / "token"
    secret_file.write_text(file_value)
    monkeypatch.setenv("AIODOCKER_TEST_SECRET", env_value)
    root = tmp_path / "ctx"
    root.mkdir()
    (root / "Dockerfile").write_text(
        f"FROM {IMAGE}\n"
        f"RUN --mount=type=secret,id=tok --mount=type=secret,id=envtok "
        f"echo {uuid.uuid4().hex} >/dev/null; sha256sum /run/secrets/tok /run/secrets/envtok\n"
    )
    running, events = await run(
        bk,
        path=root,
        tag=new_tag(),
        secrets={
            "tok": buildkit.Secret(file=str(secret_file)),
            "envtok": buildkit.Secret(env="AIODOCKER_TEST_SECRET"),
        },
    )
    text = output(events)
    assert hashlib.sha256(file_value.encode()).hexdigest() in text
    assert hashlib.sha256(env_value.encode()).hexdigest() in text
    everything = repr(events) + repr(running.trace.__dict__)
    assert file_value not in everything and env_value not in everything


async def test_missing_required_secret_fails_the_build_without_leaking_others(
    bk: Docker, tmp_path: Path, new_tag: Callable[[], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    value = f"other-secret-{uuid.uuid4().hex}"
    monkeypatch.setenv("AIODOCKER_TEST_SECRET", value)
    root = tmp_path / "ctx"
    root.mkdir()
    (root / "Dockerfile").write_text(
        f"FROM {IMAGE}\nRUN --mount=type=secret,id=absent,required=true echo {uuid.uuid4().hex}\n"
    )
    with pytest.raises(DockerStreamError) as caught:
        await run(
            bk,
            path=root,
            tag=new_tag(),
            secrets={"present": buildkit.Secret(env="AIODOCKER_TEST_SECRET")},
        )
    assert "absent" in caught.value.message and value not in caught.value.message


@pytest.fixture
def ssh_agent(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A real ssh-agent holding a fresh key: (socket path, key comment)."""
    if shutil.which("ssh-agent") is None or shutil.which("ssh-add") is None:
        pytest.skip("ssh-agent/ssh-add are not installed")
    socket = str(tmp_path / "agent.sock")
    comment = f"aiodocker-test-{uuid.uuid4().hex[:8]}"
    key = tmp_path / "id_ed25519"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(key)], check=True
    )
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", socket], stdout=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if os.path.exists(socket):
                break
            subprocess.run(["sleep", "0.05"], check=True)
        subprocess.run(
            ["ssh-add", str(key)],
            env={**os.environ, "SSH_AUTH_SOCK": socket},
            check=True,
            capture_output=True,
        )
        yield socket, comment
    finally:
        agent.terminate()
        agent.wait(timeout=10)


def copy_program(name: str, dest: Path) -> None:
    """Put the host's program ``name`` and the libraries it needs in ``dest``.

    The test image is a static busybox without a libc: run the copy with the copied
    loader, ``dest/ld-linux-x86-64.so.2 --library-path dest dest/NAME``.
    """
    binary = shutil.which(name)
    if binary is None:
        pytest.skip(f"{name} is not installed")
    dest.mkdir(exist_ok=True)
    shutil.copy(binary, dest / name)
    ldd = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
    for line in ldd.splitlines():
        parts = line.split()
        path = parts[2] if "=>" in parts and len(parts) > 2 else parts[0]
        if path.startswith("/"):
            shutil.copy(path, dest / os.path.basename(path))


@pytest.fixture
async def sshd_in_netns(
    tmp_path: Path, ssh_agent: tuple[str, str]
) -> AsyncIterator[tuple[int, str]]:
    """A throwaway sshd in the Docker 26 daemon's network namespace: (port, nonce file).

    Only the ssh agent's key may log in; its private key never enters the build.
    """
    netns = require("docker26").get("netns")
    if not netns or shutil.which("nsenter") is None or not os.path.exists("/usr/sbin/sshd"):
        pytest.skip("needs the docker26 network namespace, nsenter and sshd")
    home = tmp_path / "sshd"
    home.mkdir()
    host_key = home / "host_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(host_key)], check=True)
    authorized = home / "authorized_keys"
    authorized.write_text((tmp_path / "id_ed25519.pub").read_text())
    authorized.chmod(0o600)
    port = 20000 + uuid.uuid4().int % 20000
    config = home / "sshd_config"
    config.write_text(
        f"Port {port}\nHostKey {host_key}\nAuthorizedKeysFile {authorized}\n"
        "PermitRootLogin prohibit-password\nPasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\nPidFile none\n"
    )
    nonce = home / "nonce"
    nonce.write_text(f"reached-over-ssh-{uuid.uuid4().hex}")
    nonce.chmod(0o644)
    process = await asyncio.create_subprocess_exec(
        "nsenter",
        f"--net=/run/netns/{netns}",
        "/usr/sbin/sshd",
        "-D",
        "-e",
        "-f",
        str(config),
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stderr is not None
        line = await asyncio.wait_for(process.stderr.readline(), 30)
        assert b"Server listening" in line, line
        yield port, str(nonce)
    finally:
        process.terminate()
        await process.wait()


async def test_ssh_mount_forwards_the_local_agent_to_a_real_ssh_login(
    bk: Docker,
    tmp_path: Path,
    new_tag: Callable[[], str],
    ssh_agent: tuple[str, str],
    sshd_in_netns: tuple[int, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    socket, comment = ssh_agent
    port, nonce_file = sshd_in_netns
    monkeypatch.setenv("SSH_AUTH_SOCK", socket)
    # the build's RUN containers sit on the daemon's bridge: its gateway is the
    # namespace the sshd listens in
    bridge = await bk.networks.get("bridge")
    gateway = (await bridge.show())["IPAM"]["Config"][0]["Gateway"]
    root = tmp_path / "ctx"
    root.mkdir()
    copy_program("ssh", root / "tools")
    copy_program("ssh-add", root / "tools")
    tools = "/tools/ld-linux-x86-64.so.2 --library-path /tools /tools"
    ssh = (
        f"{tools}/ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
        f"-o BatchMode=yes -o IdentitiesOnly=no -p {port} root@{gateway}"
    )
    (root / "Dockerfile").write_text(
        f"FROM {IMAGE}\n"
        "COPY tools /tools\n"
        f"RUN --mount=type=ssh echo {uuid.uuid4().hex} >/dev/null; "
        f"{tools}/ssh-add -l && {ssh} cat {nonce_file}\n"
    )
    _, events = await run(bk, path=root, tag=new_tag(), ssh={"default": None}, context_sync=True)
    text = output(events)
    assert comment in text  # the agent the build sees is ours
    assert Path(nonce_file).read_text() in text  # and it logged in with it


async def test_ssh_mount_from_a_key_file_logs_in_through_the_in_process_agent(
    bk: Docker,
    tmp_path: Path,
    new_tag: Callable[[], str],
    sshd_in_netns: tuple[int, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port, nonce_file = sshd_in_netns
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)  # no agent: the key file only
    key = tmp_path / "id_ed25519"  # the key sshd_in_netns authorizes
    bridge = await bk.networks.get("bridge")
    gateway = (await bridge.show())["IPAM"]["Config"][0]["Gateway"]
    root = tmp_path / "ctx"
    root.mkdir()
    copy_program("ssh", root / "tools")
    copy_program("ssh-add", root / "tools")
    tools = "/tools/ld-linux-x86-64.so.2 --library-path /tools /tools"
    ssh = (
        f"{tools}/ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
        f"-o BatchMode=yes -o IdentitiesOnly=no -p {port} root@{gateway}"
    )
    (root / "Dockerfile").write_text(
        f"FROM {IMAGE}\n"
        "COPY tools /tools\n"
        f"RUN --mount=type=ssh,id=deploy echo {uuid.uuid4().hex} >/dev/null; "
        f"{tools}/ssh-add -l && {ssh} cat {nonce_file}\n"
    )
    running, events = await run(bk, path=root, tag=new_tag(), ssh={"deploy": [str(key)]})
    text = output(events)
    assert str(key) in text  # ssh-add -l lists the key file (our agent's comment)
    assert Path(nonce_file).read_text() in text  # and the login signed with it
    assert "PRIVATE KEY" not in text + repr(running.trace.__dict__)


async def test_session_death_fails_the_build_with_a_clear_error(
    bk: Docker, tmp_path: Path, new_tag: Callable[[], str]
) -> None:
    root = tmp_path / "ctx"
    root.mkdir()
    (root / "Dockerfile").write_text(
        f"FROM {IMAGE}\nRUN echo started-{uuid.uuid4().hex}; sleep 60\n"
    )
    loop = asyncio.get_running_loop()
    async with buildkit.BuildKitBuild(bk, path=root, tag=new_tag(), context_sync=True) as running:
        with pytest.raises(buildkit.BuildKitSessionError, match="session .* ended"):
            async for event in running:
                if isinstance(event, buildkit.LogLine):
                    began = loop.time()
                    assert running.session is not None
                    running.session._channel.close()  # type: ignore[union-attr]  # the connection dies
    assert loop.time() - began < 10


async def test_cancelling_a_build_closes_its_session_without_leaks(
    bk: Docker, tmp_path: Path, new_tag: Callable[[], str]
) -> None:
    root = tmp_path / "ctx"
    root.mkdir()
    (root / "Dockerfile").write_text(f"FROM {IMAGE}\nRUN echo go-{uuid.uuid4().hex}; sleep 60\n")
    await bk.version()  # the client's own connection exists before counting
    fds_before = open_fds()
    tasks_before = asyncio.all_tasks()
    started = asyncio.Event()

    async def build() -> None:
        async with buildkit.BuildKitBuild(
            bk,
            path=root,
            tag=new_tag(),
            context_sync=True,
            secrets={"s": buildkit.Secret(env="HOME")},
        ) as running:
            async for event in running:
                if isinstance(event, buildkit.LogLine):
                    started.set()

    task = asyncio.create_task(build())
    await asyncio.wait_for(started.wait(), 60)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0.1)
    assert asyncio.all_tasks() - tasks_before == set()
    assert open_fds() <= fds_before + 1  # at most the pooled keep-alive connection
    assert (await bk.version())["ApiVersion"]


# --- registry credentials through the session --------------------------------------------

_NETNS_FORWARDER = """
import asyncio, sys
port, path = int(sys.argv[1]), sys.argv[2]
async def pump(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()
async def handle(reader, writer):
    upstream_reader, upstream_writer = await asyncio.open_unix_connection(path)
    await asyncio.gather(pump(reader, upstream_writer), pump(upstream_reader, writer),
                         return_exceptions=True)
async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", port)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()
asyncio.run(main())
"""


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


@pytest.fixture
async def registry_in_netns(tmp_path: Path, testenv: dict[str, Any]) -> AsyncIterator[str]:
    """The test registry, reachable from the Docker 26 daemon's namespace: its address there.

    A listener inside the namespace forwards to a unix socket (files cross namespaces)
    that this process forwards to the registry.
    """
    registry: str = require("registry")
    netns = require("docker26").get("netns")
    if not netns or shutil.which("ip") is None:
        pytest.skip("the docker26 daemon's network namespace is unknown")
    host, _, port = registry.rpartition(":")
    socket = str(tmp_path / "registry.sock")

    async def forward(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(host, int(port))
        await asyncio.gather(
            _pump(reader, up_writer), _pump(up_reader, writer), return_exceptions=True
        )

    server = await asyncio.start_unix_server(forward, socket)
    inner_port = 20000 + uuid.uuid4().int % 20000
    process = await asyncio.create_subprocess_exec(
        "ip",
        "netns",
        "exec",
        netns,
        "python3",
        "-c",
        _NETNS_FORWARDER,
        str(inner_port),
        socket,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        assert (await asyncio.wait_for(process.stdout.readline(), 30)).strip() == b"ready"
        yield f"127.0.0.1:{inner_port}"
    finally:
        process.terminate()
        await process.wait()
        server.close()
        await server.wait_closed()


@pytest.fixture
async def private_image(
    bk: Docker, registry_in_netns: str, make_name: Callable[..., str]
) -> AsyncIterator[str]:
    """``repository:tag`` of an image pushed to the test registry (which needs a login).

    The Docker 26 daemon pushes it through the namespace forwarder.
    """
    import aiohttp

    registry: str = require("registry")
    auth = {
        "username": require("registry_user"),
        "password": require("registry_password"),
        "serveraddress": registry_in_netns,
    }
    path = f"{make_name('bkprivate')}:v1"
    ref = f"{registry_in_netns}/{path}"
    await bk.images.tag(IMAGE, f"{registry_in_netns}/{path.partition(':')[0]}", tag="v1")
    try:
        await bk.images.push(ref, auth=auth)
    finally:
        await bk.images.delete(ref)
    try:
        yield path
    finally:
        import base64

        login = base64.b64encode(f"{auth['username']}:{auth['password']}".encode()).decode()
        repository, _, tag = path.rpartition(":")
        url = f"http://{registry}/v2/{repository}/manifests"
        accept = "application/vnd.docker.distribution.manifest.v2+json"
        async with aiohttp.ClientSession(headers={"Authorization": f"Basic {login}"}) as http:
            async with http.head(f"{url}/{tag}", headers={"Accept": accept}) as head:
                digest = head.headers.get("Docker-Content-Digest")
            if digest:
                async with http.delete(f"{url}/{digest}"):
                    pass


async def test_private_base_image_is_pulled_with_credentials_from_config_json(
    bk: Docker,
    tmp_path: Path,
    new_tag: Callable[[], str],
    registry_in_netns: str,
    private_image: str,
    docker_config: Path,
) -> None:
    import base64
    import json

    from aiodocker._buildkit.services import CREDENTIALS

    root = tmp_path / "ctx"
    root.mkdir()
    (root / "Dockerfile").write_text(
        f"FROM {registry_in_netns}/{private_image}\nRUN echo private-base-{uuid.uuid4().hex}\n"
    )
    # without credentials the registry refuses
    with pytest.raises(DockerStreamError):
        await run(bk, path=root, tag=new_tag(), context_sync=True)
    login = base64.b64encode(
        f"{require('registry_user')}:{require('registry_password')}".encode()
    ).decode()
    (docker_config / "config.json").write_text(
        json.dumps({"auths": {registry_in_netns: {"auth": login}}})
    )
    running, events = await run(bk, path=root, tag=new_tag(), context_sync=True)
    assert "private-base-" in output(events)
    assert running.session is not None
    asked = running.session.handlers[CREDENTIALS].__self__.hosts_asked  # type: ignore[attr-defined]
    assert registry_in_netns in asked
    assert require("registry_password") not in repr(events)


def test_cli_build_with_context_sync_and_an_env_secret(
    testenv: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from aiodocker.__main__ import main

    value = f"cli-secret-{uuid.uuid4().hex}"
    monkeypatch.setenv("AIODOCKER_CLI_SECRET", value)
    root = tmp_path / "ctx"
    root.mkdir()
    (root / "Dockerfile").write_text(
        f"FROM {IMAGE}\nRUN --mount=type=secret,id=s sha256sum /run/secrets/s # {uuid.uuid4().hex}\n"
    )
    out, err = io.StringIO(), io.StringIO()
    argv = ["-H", require("docker26")["host"], "build", str(root), "--progress", "plain"]
    argv += ["--context-sync", "--secret", "id=s,env=AIODOCKER_CLI_SECRET"]
    assert main(argv, out=out, err=err) == 0, err.getvalue()
    assert hashlib.sha256(value.encode()).hexdigest() in out.getvalue()
    assert value not in out.getvalue() + err.getvalue()


# --- a session on every build: no flag needed --------------------------------------------


def login_config(docker_config: Path, registry: str) -> None:
    import base64
    import json

    login = base64.b64encode(
        f"{require('registry_user')}:{require('registry_password')}".encode()
    ).decode()
    (docker_config / "config.json").write_text(json.dumps({"auths": {registry: {"auth": login}}}))


def private_base_context(tmp_path: Path, registry: str, image: str) -> tuple[Path, str]:
    marker = f"private-base-{uuid.uuid4().hex}"
    root = tmp_path / "ctx"
    root.mkdir()
    (root / "Dockerfile").write_text(f"FROM {registry}/{image}\nRUN echo {marker}\n")
    return root, marker


async def test_a_plain_build_pulls_a_private_base_image_with_no_session_flag(
    bk: Docker,
    tmp_path: Path,
    new_tag: Callable[[], str],
    registry_in_netns: str,
    private_image: str,
    docker_config: Path,
) -> None:
    root, marker = private_base_context(tmp_path, registry_in_netns, private_image)
    login_config(docker_config, registry_in_netns)
    running, events = await run(bk, path=root, tag=new_tag())  # no context_sync, no secrets
    assert marker in output(events)
    assert running.session is not None and running.file_sync is not None
    assert running.file_sync.files_sent >= 1  # the context went by file sync, not a tar
    assert require("registry_password") not in repr(events)


async def test_images_build_with_version_2_serves_a_session_for_a_private_base_image(
    bk: Docker,
    tmp_path: Path,
    new_tag: Callable[[], str],
    registry_in_netns: str,
    private_image: str,
    docker_config: Path,
) -> None:
    root, marker = private_base_context(tmp_path, registry_in_netns, private_image)
    login_config(docker_config, registry_in_netns)
    tasks_before = asyncio.all_tasks()
    items = await bk.images.build(path=str(root), tag=new_tag(), version="2")  # 0.27's call
    assert any(item.get("id") == "moby.image.id" for item in items)
    assert marker in output(_decode(items))
    await asyncio.sleep(0)
    # the session is closed (the registry forwarder's own tasks aside)
    left = [t for t in asyncio.all_tasks() - tasks_before if "/aiodocker/" in repr(t)]
    assert left == []


def _decode(items: list[dict[str, Any]]) -> list[buildkit.BuildEvent]:
    from aiodocker._buildkit.trace import BuildTrace

    trace = BuildTrace()
    events: list[buildkit.BuildEvent] = []
    for item in items:
        events.extend(trace.feed(item))
    return events


async def test_the_cli_builds_from_a_private_base_image_with_no_flag(
    bk: Docker,
    tmp_path: Path,
    registry_in_netns: str,
    private_image: str,
    docker_config: Path,
    new_tag: Callable[[], str],
) -> None:
    import io

    from aiodocker.__main__ import main

    root, marker = private_base_context(tmp_path, registry_in_netns, private_image)
    login_config(docker_config, registry_in_netns)
    out, err = io.StringIO(), io.StringIO()
    argv = ["-H", require("docker26")["host"], "build", str(root), "--progress", "plain"]
    argv += ["-t", new_tag()]
    status = await asyncio.to_thread(main, argv, out, err)
    assert status == 0, err.getvalue()
    assert marker in out.getvalue()


OPTIONAL_MOUNTS = (
    f"FROM {IMAGE}\n"
    "RUN --mount=type=secret,id=maybe,required=false --mount=type=ssh,required=false "
    "test ! -e /run/secrets/maybe && echo optional-mounts-{nonce}\n"
)


async def test_optional_secret_and_ssh_mounts_build_with_nothing_given_as_buildx_does(
    bk: Docker, tmp_path: Path, new_tag: Callable[[], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    nonce = uuid.uuid4().hex
    root = tmp_path / "ctx"
    root.mkdir()
    (root / "Dockerfile").write_text(OPTIONAL_MOUNTS.format(nonce=nonce))
    _, events = await run(bk, path=root, tag=new_tag())
    assert f"optional-mounts-{nonce}" in output(events)
    # the 0.27 call with version="2" too (a fresh nonce: not from the cache)
    (root / "Dockerfile").write_text(OPTIONAL_MOUNTS.format(nonce=nonce + "b"))
    items = await bk.images.build(path=str(root), tag=new_tag(), version="2")
    assert f"optional-mounts-{nonce}b" in output(_decode(items))
    # the oracle builds the same Dockerfile
    buildx = require("buildx_bin")
    (root / "Dockerfile").write_text(OPTIONAL_MOUNTS.format(nonce=nonce + "c"))
    env = {**os.environ, "DOCKER_HOST": require("docker26")["host"]}
    env.pop("SSH_AUTH_SOCK", None)
    done = subprocess.run(
        [buildx, "build", "--progress", "plain", str(root)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert f"optional-mounts-{nonce}c" in done.stderr


async def test_version_2_builds_serve_a_session_on_docker_and_fall_back_to_tar_on_podman(
    docker: Docker, engine: Any, image: str, tmp_path: Path, make_name: Callable[..., str]
) -> None:
    nonce = uuid.uuid4().hex
    root = tmp_path / "ctx"
    root.mkdir()
    (root / "Dockerfile").write_text(f"FROM {image}\nRUN echo engine-{nonce}\n")
    tag = f"{make_name('bkengine')}:v1"
    try:
        items = await docker.images.build(path=str(root), tag=tag, version="2")
        streamed = "".join(str(item.get("stream", "")) for item in items)
        assert f"engine-{nonce}" in output(_decode(items)) + streamed
        if engine.name.startswith("docker"):  # BuildKit: the session sent the context
            (root / "Dockerfile").write_text(f"FROM {image}\nRUN echo engine-{nonce}-again\n")
            running, events = await run(docker, path=root, tag=tag)
            assert f"engine-{nonce}-again" in output(events)
            assert running.session is not None and running.file_sync is not None
            assert running.file_sync.files_sent >= 1
        else:  # Podman answers POST /session with 404: the tar upload, no session
            assert not any(item.get("id") == "moby.buildkit.trace" for item in items)
    finally:
        await remove_images(docker, tag)


async def test_cancelling_a_named_context_build_releases_its_grpc_connection_and_session(
    bk: Docker, tmp_path: Path, new_tag: Callable[[], str]
) -> None:
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "f").write_text("x")
    root = tmp_path / "ctx"
    root.mkdir()
    (root / "Dockerfile").write_text(
        f"FROM {IMAGE}\nCOPY --from=extra f /f\nRUN echo go-{uuid.uuid4().hex}; sleep 60\n"
    )
    await bk.version()
    fds_before = open_fds()
    tasks_before = asyncio.all_tasks()
    started = asyncio.Event()

    async def build() -> None:
        async with buildkit.BuildKitBuild(
            bk, path=root, tag=new_tag(), build_contexts={"extra": extra}
        ) as running:
            async for event in running:
                if isinstance(event, buildkit.LogLine):
                    started.set()

    task = asyncio.create_task(build())
    await asyncio.wait_for(started.wait(), 60)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0.1)
    assert asyncio.all_tasks() - tasks_before == set()
    assert open_fds() <= fds_before + 1
    assert (await bk.version())["ApiVersion"]


async def test_docker_20_buildkit_build_pulls_a_private_base_image_with_no_flag(
    tmp_path: Path, make_name: Callable[..., str], docker_config: Path, testenv: dict[str, Any]
) -> None:
    """Docker 20.10's BuildKit (version=2) asks the session for credentials as Docker 26's does."""
    import aiohttp

    registry: str = require("registry")  # the host daemon reaches it directly
    auth = {
        "username": require("registry_user"),
        "password": require("registry_password"),
        "serveraddress": registry,
    }
    repository = f"{registry}/{make_name('bk20private')}"
    tag = f"{make_name('bk20')}:v1"
    async with Docker(url=f"unix://{require('unix_socket')}") as d20:
        await d20.images.tag(IMAGE, repository, tag="v1")
        try:
            await d20.images.push(f"{repository}:v1", auth=auth)
        finally:
            await d20.images.delete(f"{repository}:v1")
        root, marker = private_base_context(
            tmp_path, registry, repository.partition("/")[2] + ":v1"
        )
        try:
            with pytest.raises(DockerStreamError):  # no credentials: refused
                await run(d20, path=root, tag=tag)
            login_config(docker_config, registry)
            running, events = await run(d20, path=root, tag=tag)
            assert marker in output(events)
            assert running.session is not None and running.file_sync is not None
        finally:
            await remove_images(d20, tag)
            login = base64.b64encode(f"{auth['username']}:{auth['password']}".encode()).decode()
            url = f"http://{registry}/v2/{repository.partition('/')[2]}/manifests"
            accept = "application/vnd.docker.distribution.manifest.v2+json"
            async with aiohttp.ClientSession(headers={"Authorization": f"Basic {login}"}) as http:
                async with http.head(f"{url}/v1", headers={"Accept": accept}) as head:
                    digest = head.headers.get("Docker-Content-Digest")
                if digest:
                    async with http.delete(f"{url}/{digest}"):
                        pass
