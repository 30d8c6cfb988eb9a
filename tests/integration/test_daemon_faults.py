"""Real daemons failing under a client: dockerd killed with SIGKILL mid-stream.

Never touches the shared daemons: each test starts a throwaway dockerd of its own
(``ScratchDaemon`` of test_events.py: own data-root, exec-root, socket and network
namespace), imports the test environment's busybox rootfs into it, kills it while a
stream is open, restarts it, and removes it all afterwards. Each case asserts that
the stream ends with a ``DockerError`` (never a hang or a silent normal end) and
that the same client works again once the daemon is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import tracemalloc
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

import aiodocker
from aiodocker.exceptions import DockerError, DockerStreamError, DockerTruncatedStreamError
from tests.integration.test_events import ScratchDaemon
from tests.testenv import env_path, unavailable

IMAGE = "aiodocker-fault/busybox:latest"
DEADLINE = 30.0  # a stream must report the death of its daemon within this


class KillableDaemon(ScratchDaemon):
    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)

    async def restart(self) -> None:
        # The containerd our dockerd started outlives it and would block the new one.
        pidfile = self.exec_root / "containerd" / "containerd.pid"
        with contextlib.suppress(OSError, ValueError):
            pid = int(pidfile.read_text().strip())
            os.kill(pid, signal.SIGKILL)
            for _ in range(100):
                if not Path(f"/proc/{pid}").exists():
                    break
                await asyncio.sleep(0.05)
        self.start()
        await self.wait_ready()


@pytest.fixture
async def daemon() -> AsyncIterator[KillableDaemon]:
    if shutil.which("dockerd") is None:
        unavailable("dockerd", "the dockerd binary is needed to start a throwaway daemon")
    if os.geteuid() != 0:
        unavailable("dockerd", "starting a throwaway dockerd needs root")
    rootfs = env_path().parent / "image" / "rootfs.tar"
    if not rootfs.exists():
        unavailable("image", f"{rootfs} (the busybox rootfs of the test environment) is missing")
    root = Path(tempfile.mkdtemp(prefix="aiodf-", dir="/tmp"))  # short: socket paths < 108 bytes
    scratch = KillableDaemon(root)
    scratch.start()
    try:
        await scratch.wait_ready()
        imported = await asyncio.to_thread(
            subprocess.run,
            ["docker", "-H", scratch.url, "import", str(rootfs), IMAGE],
            capture_output=True,
            check=False,
        )
        assert imported.returncode == 0, imported.stderr
        yield scratch
    finally:
        await scratch.stop()
        kill_shims(root)
        scratch.kill_leftovers()


def kill_shims(root: Path) -> None:
    """Kill the container shims (and their containers) our daemon left, if a test failed."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            cmdline = (entry / "cmdline").read_bytes()
            if b"containerd-shim" in cmdline and str(root).encode() in cmdline:
                children = (entry / "task" / entry.name / "children").read_text().split()
                for pid in [*children, entry.name]:
                    with contextlib.suppress(OSError):
                        os.kill(int(pid), signal.SIGKILL)


async def run_busybox(docker: aiodocker.Docker, script: str) -> aiodocker.docker.DockerContainer:
    return await docker.containers.run({"Image": IMAGE, "Cmd": ["sh", "-c", script]})


async def follow_ticks_and_kill(
    docker: aiodocker.Docker, kill: Callable[[], None]
) -> tuple[aiodocker.docker.DockerContainer, DockerError]:
    """Follow the log of a container that ticks every 0.1 s and ``kill`` at the third line.

    Returns the container and the DockerError the follow raised (within DEADLINE).
    """
    container = await run_busybox(docker, "while true; do echo tick; sleep 0.1; done")
    lines: list[str] = []

    async def follow() -> None:
        async for line in container.log(stdout=True, follow=True):
            lines.append(line)
            if len(lines) == 3:
                await asyncio.to_thread(kill)

    with pytest.raises(DockerError) as info:
        await asyncio.wait_for(follow(), DEADLINE)
    assert lines[:3] == ["tick\n"] * 3
    return container, info.value


async def back_again(docker: aiodocker.Docker, daemon: KillableDaemon) -> None:
    await daemon.restart()
    assert (await docker.version())["ApiVersion"]


async def test_followed_log_raises_when_dockerd_is_killed(daemon: KillableDaemon) -> None:
    async with aiodocker.Docker(url=daemon.url) as docker:
        container, error = await follow_ticks_and_kill(docker, daemon.kill)
        assert isinstance(error, (DockerTruncatedStreamError, aiodocker.exceptions.DockerConnectionError))
        await back_again(docker, daemon)
        await container.delete(force=True)


async def test_exec_attach_ends_when_dockerd_is_killed(daemon: KillableDaemon) -> None:
    async with aiodocker.Docker(url=daemon.url) as docker:
        container = await run_busybox(docker, "sleep 300")
        exe = await container.exec(["sh", "-c", "while true; do echo x; sleep 0.1; done"])
        got = 0

        async def attach() -> None:
            nonlocal got
            async with exe.start() as stream:
                while await stream.read_out() is not None:
                    got += 1
                    if got == 3:
                        await asyncio.to_thread(daemon.kill)

        try:
            await asyncio.wait_for(attach(), DEADLINE)
        except DockerError:
            pass  # cut inside a frame: reported as truncation
        assert got >= 3
        with pytest.raises(aiodocker.exceptions.DockerConnectionError):
            await exe.inspect()  # the daemon is gone: no made-up answer
        await back_again(docker, daemon)
        await container.delete(force=True)


async def test_500_mb_stream_archive_raises_truncation_with_flat_memory(
    daemon: KillableDaemon,
) -> None:
    async with aiodocker.Docker(url=daemon.url) as docker:
        container = await run_busybox(
            docker, "dd if=/dev/zero of=/big bs=1M count=500 2>/dev/null && touch /done; sleep 300"
        )
        for _ in range(600):
            try:
                await container.stat_archive("/done")
                break
            except aiodocker.exceptions.DockerNotFoundError:
                await asyncio.sleep(0.1)
        received = 0
        tracemalloc.start()
        try:
            with pytest.raises(DockerTruncatedStreamError):
                async with container.stream_archive("/big") as stream:
                    async for chunk in stream:
                        received += len(chunk)
                        if received >= 100 * 2**20 and daemon.process.poll() is None:
                            await asyncio.to_thread(daemon.kill)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert 100 * 2**20 <= received < 500 * 2**20
        assert peak < 16 * 2**20, peak
        await back_again(docker, daemon)
        await container.delete(force=True)


# --- sshd killed in the middle of an ssh stream ------------------------------------------


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it."""
    found = [pid]
    for current in found:
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{current}/task").iterdir():
                children = (task / "children").read_text().split()
                found.extend(int(child) for child in children)
    return found


class ScratchSSHD:
    """An sshd of our own whose sessions reach the throwaway dockerd."""

    def __init__(self, root: Path, docker_url: str) -> None:
        self.root = root
        self.port = _free_port()
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(root / "host_key")],
            check=True,
        )
        ssh_dir = env_path().parent / "ssh"
        self.identity = ssh_dir / "id_ed25519"
        (root / "authorized_keys").write_bytes((ssh_dir / "id_ed25519.pub").read_bytes())
        (root / "sshd_config").write_text(
            f"Port {self.port}\nListenAddress 127.0.0.1\nHostKey {root / 'host_key'}\n"
            f"PidFile {root / 'sshd.pid'}\nAuthorizedKeysFile {root / 'authorized_keys'}\n"
            "PermitRootLogin prohibit-password\nPasswordAuthentication no\nUsePAM no\n"
            f"StrictModes no\nSetEnv DOCKER_HOST={docker_url}\n"
        )
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.root / "sshd.log", "ab") as log:
            self.process = subprocess.Popen(
                ["/usr/sbin/sshd", "-D", "-e", "-f", str(self.root / "sshd_config")],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
                start_new_session=True,
            )

    async def wait_ready(self) -> None:
        for _ in range(100):
            with contextlib.suppress(OSError):
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                return
            await asyncio.sleep(0.05)
        raise RuntimeError("sshd did not come up")

    def kill(self) -> None:
        """SIGKILL the listener and every session it forked (their dial-stdio too)."""
        assert self.process is not None
        for pid in reversed(descendants(self.process.pid)):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait(30)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_followed_log_over_ssh_raises_when_sshd_is_killed(
    daemon: KillableDaemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    if shutil.which("sshd") is None and not Path("/usr/sbin/sshd").exists():
        unavailable("ssh", "sshd is needed for a throwaway ssh server")
    root = Path(tempfile.mkdtemp(prefix="aiossh-", dir="/tmp"))
    sshd = ScratchSSHD(root, daemon.url)
    sshd.start()
    try:
        await sshd.wait_ready()
        monkeypatch.setenv(
            "AIODOCKER_SSH_OPTS",
            f"-i {sshd.identity} -o IdentitiesOnly=yes -o StrictHostKeyChecking=no "
            "-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR",
        )
        async with aiodocker.Docker(url=f"ssh://root@127.0.0.1:{sshd.port}") as docker:
            container, _ = await follow_ticks_and_kill(docker, sshd.kill)
            sshd.start()
            await sshd.wait_ready()
            await container.delete(force=True)  # the same client, over a new ssh process
    finally:
        if sshd.process is not None and sshd.process.poll() is None:
            sshd.kill()
        shutil.rmtree(root, ignore_errors=True)


# --- pull and push against a throwaway registry -------------------------------------------


class ScratchRegistry:
    """A registry of our own, in the throwaway daemon's network namespace."""

    def __init__(self, root: Path, netns: str) -> None:
        self.root = root
        self.port = _free_port()
        self.netns = netns
        (root / "registry.yml").write_text(
            "version: 0.1\nlog: {level: error}\n"
            f"storage: {{filesystem: {{rootdirectory: {root / 'data'}}}}}\n"
            f"http: {{addr: 127.0.0.1:{self.port}}}\n"
        )
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["nsenter", f"--net=/run/netns/{self.netns}", "docker-registry", "serve",
             str(self.root / "registry.yml")],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    async def wait_ready(self) -> None:
        for _ in range(100):
            probe = await asyncio.to_thread(
                subprocess.run,
                ["nsenter", f"--net=/run/netns/{self.netns}", "bash", "-c",
                 f"exec 3<>/dev/tcp/127.0.0.1/{self.port}"],
                capture_output=True,
                check=False,
            )
            if probe.returncode == 0:
                return
            await asyncio.sleep(0.05)
        raise RuntimeError("registry did not come up")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)


@pytest.fixture
async def registry(daemon: KillableDaemon) -> AsyncIterator[ScratchRegistry]:
    if shutil.which("docker-registry") is None:
        unavailable("registry", "docker-registry is needed for a throwaway registry")
    root = Path(tempfile.mkdtemp(prefix="aioreg-", dir="/tmp"))
    scratch = ScratchRegistry(root, daemon.netns)
    scratch.start()
    try:
        await scratch.wait_ready()
        yield scratch
    finally:
        if scratch.process is not None and scratch.process.poll() is None:
            scratch.kill()
        shutil.rmtree(root, ignore_errors=True)


async def big_image(docker: aiodocker.Docker, name: str) -> None:
    """Commit a 64 MiB random layer as ``name``: enough for a push or pull to take a while."""
    container = await run_busybox(docker, "dd if=/dev/urandom of=/big bs=1M count=64 2>/dev/null")
    await container.wait()
    repository, _, tag = name.rpartition(":")
    await container.commit(repository=repository, tag=tag)
    await container.delete(force=True)


async def test_push_reports_a_registry_killed_midway(
    daemon: KillableDaemon, registry: ScratchRegistry
) -> None:
    name = f"{registry.address}/big:1"
    async with aiodocker.Docker(url=daemon.url) as docker:
        await big_image(docker, name)
        events: list[dict] = []

        async def push() -> None:
            async for event in docker.images.push(name, stream=True):
                events.append(event)
                if event.get("status") == "Pushing" and registry.process.poll() is None:
                    await asyncio.to_thread(registry.kill)

        # The daemon retries the upload a few times, then reports the failure in-band.
        with pytest.raises(DockerStreamError) as info:
            await asyncio.wait_for(push(), 120)
        assert any(event.get("status") == "Pushing" for event in events)
        assert "connection refused" in info.value.message
        await docker.images.delete(name, force=True)


async def test_pull_raises_when_dockerd_is_killed_midway(
    daemon: KillableDaemon, registry: ScratchRegistry
) -> None:
    name = f"{registry.address}/big:1"
    async with aiodocker.Docker(url=daemon.url) as docker:
        await big_image(docker, name)
        await docker.images.push(name)
        await docker.images.delete(name, force=True)
        events: list[dict] = []

        async def pull() -> None:
            async for event in docker.images.pull(name, stream=True):
                events.append(event)
                if event.get("status") in ("Downloading", "Extracting"):
                    if daemon.process.poll() is None:
                        await asyncio.to_thread(daemon.kill)

        with pytest.raises(DockerError) as info:
            await asyncio.wait_for(pull(), DEADLINE)
        assert isinstance(info.value, (DockerTruncatedStreamError, aiodocker.exceptions.DockerConnectionError))
        assert events
        await back_again(docker, daemon)
