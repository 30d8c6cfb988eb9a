"""Events against real daemons: the channel interface, and the follower surviving a
dropped connection and a daemon restart.

The restart test never touches the main daemon: it starts a throwaway dockerd of
its own (own data-root, exec-root, pid file and socket under a temporary
directory, no bridge, no iptables), loads the test image into it, restarts it
while containers are created, and removes it all afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import aiodocker
from aiodocker._core.request import Shape, build_path
from aiodocker.exceptions import DockerConnectionError, DockerError
from tests.testenv import Engine, require, unavailable

EVENT_TIMEOUT = 30.0


async def create_container(
    docker: aiodocker.Docker, image: str, name: str, labels: dict[str, str]
) -> str:
    created = await docker._api.call(
        "POST",
        "containers/create",
        params={"name": name},
        json_body={"Image": image, "Cmd": ["true"], "Labels": labels},
        expect=Shape.OBJECT,
    )
    return str(created["Id"])


async def remove_container(docker: aiodocker.Docker, name: str) -> None:
    with contextlib.suppress(DockerError):
        await docker._api.call(
            "DELETE",
            build_path("containers/{}", name),
            params={"force": True},
            expect=Shape.NOTHING,
        )


async def wait_for(predicate: Callable[[], bool], timeout: float = EVENT_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for a condition")
        await asyncio.sleep(0.05)


# --- the channel interface (subscribe / run / stop) --------------------------------


@pytest.mark.engine_difference(
    ("podman", "podman5"), "podman's /events does not deliver these filtered container/volume events"
)
async def test_subscribe_sees_create_start_and_destroy_of_a_container(
    docker: aiodocker.Docker, image: str, make_name: Callable[..., str]
) -> None:
    name = make_name("subscribe")
    # since= makes the daemon replay what happened between now and the connection
    subscriber = docker.events.subscribe(
        since=time.time() - 1, filters={"type": "container", "container": name}
    )
    actions: list[str] = []
    try:
        container_id = await create_container(docker, image, name, {})
        await docker._api.call(
            "POST", build_path("containers/{}/start", container_id), expect=Shape.NOTHING
        )
        await docker._api.call(
            "POST", build_path("containers/{}/wait", container_id), expect=Shape.OBJECT
        )
        await remove_container(docker, container_id)
        while "destroy" not in actions:
            event = await asyncio.wait_for(subscriber.get(), EVENT_TIMEOUT)
            assert event is not None, "the stream ended early"
            assert event["Actor"]["ID"] == container_id
            assert isinstance(event["time"], dt.datetime)
            assert event["time"].tzinfo is None  # naive local time, as aiodocker gives
            assert isinstance(event["timeNano"], int)
            actions.append(event["Action"])
    finally:
        await remove_container(docker, name)
        await docker.events.stop()
    assert actions.index("create") < actions.index("start") < actions.index("destroy")
    assert await asyncio.wait_for(subscriber.get(), 5) is None


async def test_stop_cancels_and_awaits_the_task_and_ends_subscribers(
    docker: aiodocker.Docker,
) -> None:
    subscriber = docker.events.subscribe()
    task = docker.events.task
    assert task is not None
    await wait_for(lambda: docker.events.json_stream is not None)
    await docker.events.stop()
    assert task.done()
    assert docker.events.task is None
    assert docker.events.json_stream is None
    assert await asyncio.wait_for(subscriber.get(), 5) is None
    running = [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()]
    assert task not in running
    await docker.events.stop()  # idempotent


async def test_docker_close_stops_the_event_task(testenv: dict[str, Any]) -> None:
    client = aiodocker.Docker(url=f"unix://{require('unix_socket')}")
    client.events.subscribe()
    task = client.events.task
    assert task is not None
    await wait_for(lambda: client.events.json_stream is not None)
    await client.close()
    assert task.done()


async def test_subscribe_starts_one_task_and_a_new_one_after_stop(
    docker: aiodocker.Docker,
) -> None:
    docker.events.subscribe()
    first = docker.events.task
    docker.events.subscribe()
    assert docker.events.task is first
    docker.events.subscribe(create_task=False)
    assert docker.events.task is first
    await docker.events.stop()
    docker.events.subscribe()
    assert docker.events.task is not None and docker.events.task is not first
    await docker.events.stop()


@pytest.mark.engine_difference(
    ("podman", "podman5"), "podman's /events does not deliver these filtered container/volume events"
)
async def test_run_publishes_events_then_none_when_until_is_reached(
    docker: aiodocker.Docker, make_name: Callable[..., str]
) -> None:
    start = time.time()
    volume = await docker.volumes.create({"Name": make_name("run")})
    await volume.delete()
    subscriber = docker.events.channel.subscribe()
    await docker.events.run(
        since=start - 1, until=time.time() + 0.5, filters={"volume": [volume.name]}
    )
    items = []
    while (item := await asyncio.wait_for(subscriber.get(), 5)) is not None:
        items.append(item)
    assert [item["Action"] for item in items] == ["create", "destroy"]
    assert all(isinstance(item["time"], dt.datetime) for item in items)
    assert docker.events.json_stream is None


async def test_run_warns_when_already_running(docker: aiodocker.Docker) -> None:
    docker.events.subscribe()
    await wait_for(lambda: docker.events.json_stream is not None)
    try:
        with pytest.warns(RuntimeWarning, match="already running"):
            await docker.events.run()
    finally:
        await docker.events.stop()


async def test_listen_is_deprecated_and_starts_no_task_as_in_027(docker: aiodocker.Docker) -> None:
    with pytest.warns(DeprecationWarning, match="use subscribe"):
        subscriber = docker.events.listen()
    assert docker.events.task is None  # the caller starts run(filters=...) itself
    docker.events.subscribe()
    await wait_for(lambda: docker.events.json_stream is not None)
    await docker.events.stop()
    while (item := await asyncio.wait_for(subscriber.get(), 5)) is not None:
        assert isinstance(item, dict)  # other sessions' events may come before the end


async def test_run_raises_the_daemons_error_and_still_ends_subscribers(
    docker: aiodocker.Docker,
) -> None:
    subscriber = docker.events.channel.subscribe()
    with pytest.raises(DockerError) as info:
        await docker.events.run(filters="{not json")
    assert info.value.status in (400, 500)
    assert await asyncio.wait_for(subscriber.get(), 5) is None
    with pytest.raises(TypeError):
        await docker.events.run(since=object())


# --- the follower on the main daemon ------------------------------------------------


@pytest.mark.engine_difference(
    ("podman", "podman5"), "podman's /events does not deliver these filtered container/volume events"
)
async def test_follow_delivers_new_events_and_closing_releases_the_connection(
    docker: aiodocker.Docker, image: str, make_name: Callable[..., str]
) -> None:
    label = make_name("follow")
    names = [make_name("follow") for _ in range(3)]
    async with docker.events.follow(
        filters={"type": "container", "event": "create", "label": label}
    ) as follower:
        seen: list[str] = []
        try:
            for name in names:
                await create_container(docker, image, name, {label: "1"})
            async for event in follower:
                seen.append(event["Actor"]["Attributes"]["name"])
                if len(seen) == len(names):
                    break
        finally:
            for name in names:
                await remove_container(docker, name)
        assert seen == names
        assert follower._stream is not None  # still open: break does not close it
    assert follower._stream is None
    with pytest.raises(StopAsyncIteration):
        await follower.__anext__()


async def test_follow_raises_a_rejected_request_at_once(docker: aiodocker.Docker) -> None:
    started = time.monotonic()
    with pytest.raises(DockerError) as info:
        async for _ in docker.events.follow(filters="{not json", retries=5, backoff=1):
            pass
    assert info.value.status in (400, 500)
    assert time.monotonic() - started < 5  # not retried


class CuttableProxy:
    """A unix-socket proxy to a daemon whose live connections can be cut at will."""

    def __init__(self, path: str, upstream: str) -> None:
        self.path = path
        self.upstream = upstream
        self.writers: set[asyncio.StreamWriter] = set()
        self.server: asyncio.AbstractServer | None = None

    async def start(self) -> CuttableProxy:
        """Listen (again): new connections are passed through."""
        self.server = await asyncio.start_unix_server(self._serve, self.path)
        return self

    async def stop_listening(self) -> None:
        """Refuse new connections; those open stay open."""
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_unix_connection(self.upstream)
        except OSError:
            writer.transport.abort()
            return
        self.writers.update((writer, up_writer))
        try:
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        finally:
            self.writers.difference_update((writer, up_writer))

    def cut(self) -> None:
        """Abort every connection passing through (the client sees a reset)."""
        for writer in list(self.writers):
            writer.transport.abort()

    async def stop(self) -> None:
        await self.stop_listening()
        self.cut()


@pytest.mark.engine_difference(
    ("podman", "podman5"), "podman's /events does not deliver these filtered container/volume events"
)
async def test_follow_resumes_after_a_dropped_connection_without_duplicates(
    docker: aiodocker.Docker,
    engine: Engine,
    image: str,
    make_name: Callable[..., str],
    tmp_path: Path,
) -> None:
    socket = engine.host.removeprefix("unix://")
    proxy = await CuttableProxy(str(tmp_path / "p.sock"), socket).start()
    label = make_name("resume")
    first, second = make_name("first"), make_name("second")
    try:
        async with aiodocker.Docker(url=f"unix://{proxy.path}") as via_proxy:
            follower = via_proxy.events.follow(
                filters={"type": "container", "event": "create", "label": label}, backoff=0.1
            )
            async with follower:
                await create_container(docker, image, first, {label: "1"})
                event = await asyncio.wait_for(follower.__anext__(), EVENT_TIMEOUT)
                assert event["Actor"]["Attributes"]["name"] == first
                proxy.cut()
                await create_container(docker, image, second, {label: "1"})
                # the resumed stream starts a second before `first` and replays it
                event = await asyncio.wait_for(follower.__anext__(), EVENT_TIMEOUT)
                assert event["Actor"]["Attributes"]["name"] == second
                assert follower.reconnects == 1
                with pytest.raises(asyncio.TimeoutError):  # nothing else, no duplicate
                    await asyncio.wait_for(follower.__anext__(), 1.0)
    finally:
        await proxy.stop()
        await remove_container(docker, first)
        await remove_container(docker, second)


@pytest.mark.engine_difference(
    ("podman", "podman5"), "podman's /events does not deliver these filtered container/volume events"
)
async def test_follow_gives_up_with_a_typed_error_when_the_daemon_stays_away(
    docker: aiodocker.Docker, tmp_path: Path
) -> None:
    from aiodocker.events import DockerEventsLostError

    proxy = await CuttableProxy(str(tmp_path / "p.sock"), require("unix_socket")).start()
    async with aiodocker.Docker(url=f"unix://{proxy.path}") as via_proxy:
        # a label nothing carries: an event of another test must not end the wait early
        nothing = {"label": [f"aiodocker-never-{os.getpid()}-{id(proxy)}"]}
        follower = via_proxy.events.follow(filters=nothing, retries=2, backoff=0.05)
        pending = asyncio.ensure_future(follower.__anext__())
        await wait_for(lambda: follower._stream is not None)
        await proxy.stop()  # the daemon "goes away": no listener any more
        with contextlib.suppress(FileNotFoundError):
            os.unlink(proxy.path)
        with pytest.raises(DockerEventsLostError) as info:
            await asyncio.wait_for(pending, EVENT_TIMEOUT)
    assert isinstance(info.value, DockerConnectionError)
    assert info.value.attempts == 3
    assert isinstance(info.value.__cause__, DockerConnectionError)


# --- the follower across a restart of a throwaway dockerd ------------------------


class ScratchDaemon:
    """A dockerd of our own under a temporary directory, restartable at will."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.socket = root / "docker.sock"
        self.pidfile = root / "docker.pid"
        self.data_root = root / "data"
        self.exec_root = root / "exec"
        self.log = root / "dockerd.log"
        self.config = root / "daemon.json"
        self.config.write_text("{}")
        self.process: subprocess.Popen[bytes] | None = None
        # containerd names must be [A-Za-z0-9] runs joined by single . _ or -,
        # and mkdtemp's suffix may hold "_": derive a plain hex token instead.
        token = hashlib.sha256(root.name.encode()).hexdigest()[:8]
        namespace = f"aiodocker-events-{token}"
        # Its own network namespace: a dockerd with --bridge=none deletes the
        # docker0 bridge of the namespace it runs in, which would break the main daemon.
        self.netns = f"aiodocker-ev-{token}"
        self.args = [
            "nsenter",
            f"--net=/run/netns/{self.netns}",
            "dockerd",
            "--config-file",
            str(self.config),
            "--data-root",
            str(self.data_root),
            "--exec-root",
            str(self.exec_root),
            "--pidfile",
            str(self.pidfile),
            "-H",
            f"unix://{self.socket}",
            "--bridge=none",
            "--iptables=false",
            "--ip6tables=false",
            "--containerd-namespace",
            namespace,
            "--containerd-plugins-namespace",
            f"{namespace}-plugins",
        ]

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def start(self) -> None:
        if not os.path.exists(f"/run/netns/{self.netns}"):
            subprocess.run(["ip", "netns", "add", self.netns], check=True, capture_output=True)
            subprocess.run(
                ["nsenter", f"--net=/run/netns/{self.netns}", "ip", "link", "set", "lo", "up"],
                check=True,
                capture_output=True,
            )
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                self.args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    async def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        async with aiodocker.Docker(url=self.url) as client:
            while True:
                assert self.process is not None
                if self.process.poll() is not None:
                    raise RuntimeError(f"dockerd exited: {self.log.read_text()[-2000:]}")
                try:
                    if await client.system.ping() == "OK":
                        return
                except DockerError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"dockerd did not come up: {self.log.read_text()[-2000:]}")
                await asyncio.sleep(0.1)

    async def stop(self, timeout: float = 60.0) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.to_thread(process.wait, timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            await asyncio.to_thread(process.wait, 10)

    def kill_leftovers(self) -> None:
        """Kill a containerd our dockerd left behind, unmount, remove the directory."""
        pidfile = self.exec_root / "containerd" / "containerd.pid"
        with contextlib.suppress(OSError, ValueError):
            os.kill(int(pidfile.read_text().strip()), signal.SIGKILL)
        prefix = str(self.root) + "/"
        with open("/proc/self/mounts") as mounts:
            mounted = [line.split()[1] for line in mounts if line.split()[1].startswith(prefix)]
        for mountpoint in sorted(mounted, key=len, reverse=True):
            subprocess.run(["umount", "-R", mountpoint], capture_output=True, check=False)
        shutil.rmtree(self.root, ignore_errors=True)
        subprocess.run(["ip", "netns", "del", self.netns], capture_output=True, check=False)


@pytest.fixture
def scratch_daemon_root(testenv: dict[str, Any]) -> Iterator[Path]:
    if shutil.which("dockerd") is None:
        unavailable("dockerd", "the dockerd binary is needed to start a throwaway daemon")
    if os.geteuid() != 0:
        unavailable("dockerd", "starting a throwaway dockerd needs root")
    # short: the daemon's unix socket paths must stay below 108 bytes
    root = Path(tempfile.mkdtemp(prefix="aiodev-", dir="/tmp"))
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
async def scratch_daemon(scratch_daemon_root: Path, image: str) -> AsyncIterator[ScratchDaemon]:
    daemon = ScratchDaemon(scratch_daemon_root)
    daemon.start()
    try:
        await daemon.wait_ready()
        save = subprocess.Popen(
            ["docker", "-H", f"unix://{require('unix_socket')}", "save", image],
            stdout=subprocess.PIPE,
        )
        loaded = await asyncio.to_thread(
            subprocess.run,
            ["docker", "-H", daemon.url, "load"],
            stdin=save.stdout,
            capture_output=True,
            check=False,
        )
        assert save.stdout is not None
        save.stdout.close()
        save.wait(60)
        assert loaded.returncode == 0, loaded.stderr
        yield daemon
    finally:
        await daemon.stop()
        daemon.kill_leftovers()


@pytest.mark.parametrize("held_off", [True, False], ids=["held-off", "direct"])
async def test_follow_delivers_every_create_event_exactly_once_across_a_daemon_restart(
    scratch_daemon: ScratchDaemon, image: str, make_name: Callable[..., str], held_off: bool
) -> None:
    # held-off: the follower reaches the daemon through a transparent proxy, so that
    # the test can keep it away while the restarted daemon already logs new events:
    # those are found only through since=. direct: it talks to the daemon's socket.
    proxy = await CuttableProxy(
        str(scratch_daemon.root / "proxy.sock"), str(scratch_daemon.socket)
    ).start()
    label = make_name("restart")
    received: list[str] = []
    follower_url = f"unix://{proxy.path}" if held_off else scratch_daemon.url
    async with (
        aiodocker.Docker(url=scratch_daemon.url) as client,
        aiodocker.Docker(url=follower_url) as follower_client,
    ):
        follower = follower_client.events.follow(
            filters={"type": "container", "event": "create", "label": label},
            retries=200,
            backoff=0.05,
            max_backoff=0.2,
        )

        async def consume() -> None:
            async for event in follower:
                received.append(event["Actor"]["Attributes"]["name"])

        consumer = asyncio.ensure_future(consume())

        def got(count: int) -> bool:
            if consumer.done():
                consumer.result()  # surface the follower's error
                raise AssertionError("the follower ended")
            return len(received) >= count

        try:
            before = [make_name("before") for _ in range(3)]
            for name in before:
                await create_container(client, image, name, {label: "1"})
            # events the old daemon never sent die with it, whatever the client does
            await wait_for(lambda: got(len(before)))

            if held_off:
                await proxy.stop_listening()  # the follower's stream stays up until...
            await scratch_daemon.stop()  # ...dockerd goes down (kill -TERM)
            scratch_daemon.start()
            await scratch_daemon.wait_ready()
            during = [make_name("during") for _ in range(3)]
            for name in during:
                await create_container(client, image, name, {label: "1"})
            if held_off:
                assert follower.reconnects == 0
                await proxy.start()
            await wait_for(lambda: follower.reconnects >= 1)
            after = [make_name("after") for _ in range(3)]
            for name in after:
                await create_container(client, image, name, {label: "1"})

            expected = before + during + after
            await wait_for(lambda: got(len(expected)))
            await asyncio.sleep(1.0)  # time for any duplicate to show up
            assert got(len(expected))
        finally:
            await follower.aclose()
            await asyncio.wait_for(consumer, 10)
            await proxy.stop()
    assert sorted(received) == sorted(expected)
    assert len(received) == len(set(received)) == 9
    assert follower.reconnects == 1
