"""Containers against a fake daemon: framing choice, query encoding, local argument checks."""

from __future__ import annotations

import asyncio
import base64
import io
import json
from collections.abc import AsyncIterator, Callable
from urllib.parse import parse_qs, urlsplit

import pytest

import aiodocker
from aiodocker import channel as compat_channel
from aiodocker import containers as containers_module
from aiodocker import jsonstream, multiplexed
from aiodocker._streams import channel as core_channel
from aiodocker._streams.frames import encode_frame
from aiodocker.containers import DockerContainer
from aiodocker.exceptions import (
    DockerContainerError,
    DockerError,
    DockerStreamError,
    DockerTruncatedStreamError,
)
from aiodocker.stream import Message
from tests.fakedaemon import Answer, FakeDaemon, Hang, Pause, Request, chunked, http_response

MULTIPLEXED = "application/vnd.docker.multiplexed-stream"
FRAMES = encode_frame(1, b"out \xe2\x82") + encode_frame(2, b"err\n") + encode_frame(1, b"\xac\n")

Routes = dict[tuple[str, str], Callable[[Request], Answer]]


def streamed(body: bytes, content_type: str | None = None, *, end: bool = True) -> bytes:
    headers = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
    if content_type:
        headers += f"Content-Type: {content_type}\r\n"
    pieces = [body[i : i + 5] for i in range(0, len(body), 5)]  # cut everywhere
    return headers.encode() + b"\r\n" + chunked(*pieces, end=end)


def inspect(tty: bool) -> bytes:
    return http_response(200, {"Id": "abc", "Config": {"Tty": tty}})


class Daemon:
    """A fake daemon answering per (method, path without version and query)."""

    def __init__(self, fake: FakeDaemon, routes: Routes) -> None:
        self.fake = fake
        self.routes = routes

    @property
    def requests(self) -> list[Request]:
        return self.fake.requests

    def calls(self) -> list[tuple[str, str]]:
        return [(r.method, _path(r)) for r in self.requests]

    def query(self, index: int = -1) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.requests[index].target).query)


def _path(request: Request) -> str:
    path = urlsplit(request.target).path
    return path.split("/", 2)[2] if path.startswith("/v1.") else path.lstrip("/")


@pytest.fixture
async def make_daemon(tmp_path: object) -> AsyncIterator[Callable[[Routes], Daemon]]:
    fakes: list[FakeDaemon] = []

    async def start(routes: Routes) -> Daemon:
        def handler(request: Request) -> Answer:
            key = (request.method, _path(request))
            if key in routes:
                return routes[key](request)
            return http_response(404, {"message": f"no route for {key}"})

        fake = await FakeDaemon(f"{tmp_path}/d{len(fakes)}.sock", handler).start()
        fakes.append(fake)
        return Daemon(fake, routes)

    yield start  # type: ignore[misc]
    for fake in fakes:
        await fake.stop()


@pytest.fixture
async def client() -> AsyncIterator[Callable[[Daemon], aiodocker.Docker]]:
    clients: list[aiodocker.Docker] = []

    def make(daemon: Daemon) -> aiodocker.Docker:
        docker = aiodocker.Docker(url=f"unix://{daemon.fake.path}", api_version="v1.41")
        clients.append(docker)
        return docker

    yield make
    for docker in clients:
        await docker.close()


# --- framing choice ---------------------------------------------------------------------


async def test_log_trusts_a_multiplexed_content_type_without_inspecting(make_daemon, client):
    daemon = await make_daemon(
        {("GET", "containers/abc/logs"): lambda r: streamed(FRAMES, MULTIPLEXED)}
    )
    container = client(daemon).containers.container("abc")
    assert await container.log(stdout=True, stderr=True) == ["out ", "err\n", "\u20ac\n"]
    assert daemon.calls() == [("GET", "containers/abc/logs")]
    assert daemon.query() == {"stdout": ["1"], "stderr": ["1"], "follow": ["0"]}


async def test_log_without_content_type_asks_the_tty_setting_once(make_daemon, client):
    daemon = await make_daemon(
        {
            ("GET", "containers/abc/logs"): lambda r: streamed(FRAMES),
            ("GET", "containers/abc/json"): lambda r: inspect(tty=True),
        }
    )
    container = client(daemon).containers.container("abc")
    raw = [m async for m in container.log_messages()]
    assert b"".join(m.data for m in raw) == FRAMES and {m.stream for m in raw} == {1}
    again = [m async for m in container.log_messages(follow=True)]
    assert b"".join(m.data for m in again) == FRAMES
    assert daemon.calls().count(("GET", "containers/abc/json")) == 1  # then cached


async def test_log_messages_of_a_non_tty_container_keep_stream_ids(make_daemon, client):
    daemon = await make_daemon(
        {
            ("GET", "containers/abc/logs"): lambda r: streamed(FRAMES),
            ("GET", "containers/abc/json"): lambda r: inspect(tty=False),
        }
    )
    container = client(daemon).containers.container("abc")
    assert [m async for m in container.log_messages()] == [
        Message(1, b"out \xe2\x82"),
        Message(2, b"err\n"),
        Message(1, b"\xac\n"),
    ]


async def test_a_log_stream_cut_inside_a_frame_raises(make_daemon, client):
    daemon = await make_daemon(
        {("GET", "containers/abc/logs"): lambda r: streamed(FRAMES[:-2], MULTIPLEXED)}
    )
    container = client(daemon).containers.container("abc")
    with pytest.raises(DockerTruncatedStreamError):
        await container.log(stdout=True)


# --- wait_for_log when a follow does not end ------------------------------------------
# Podman 4.3 can miss an exit that races the follow's start and then follows for ever;
# wait_for_log must still answer once the container stopped.


def follow_for_ever(*lines: bytes) -> Callable[[Request], Answer]:
    """A logs route: with follow=1 it sends ``lines`` and never ends; without, it sends all
    of them and ends."""

    def route(request: Request) -> Answer:
        frames = b"".join(encode_frame(1, line) for line in lines)
        if parse_qs(urlsplit(request.target).query)["follow"] == ["1"]:
            return [streamed(frames, MULTIPLEXED, end=False), Hang()]
        return streamed(frames, MULTIPLEXED)

    return route


def state(running: bool) -> Callable[[Request], Answer]:
    return lambda r: http_response(200, {"Id": "abc", "State": {"Running": running}})


WAITED = http_response(200, {"StatusCode": 0, "Error": None})


@pytest.fixture
def short_grace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(containers_module, "_FOLLOW_END_GRACE", 0.2)


async def test_wait_for_log_reads_the_log_again_when_the_follow_outlives_the_exit(
    make_daemon, client, short_grace
):
    daemon = await make_daemon(
        {
            ("GET", "containers/abc/logs"): follow_for_ever(b"booting\n", b"ready\n"),
            ("POST", "containers/abc/wait"): lambda r: WAITED,
            ("GET", "containers/abc/json"): state(running=False),
        }
    )
    container = client(daemon).containers.container("abc")
    # The follow sent only what the reread sees too; a pattern it already matched
    # never reaches the reread.
    assert await asyncio.wait_for(container.wait_for_log("^ready$", timeout=None), 5) == "ready"
    reads = [daemon.query(i)["follow"] for i, r in enumerate(daemon.requests) if "logs" in r.target]
    assert reads == [["1"]]
    with pytest.raises(DockerContainerError, match="no output line matched 'never'"):
        await asyncio.wait_for(container.wait_for_log("never", timeout=None), 5)
    reads = [daemon.query(i)["follow"] for i, r in enumerate(daemon.requests) if "logs" in r.target]
    assert reads == [["1"], ["1"], ["0"]]
    assert daemon.calls()[-3:] == [
        ("POST", "containers/abc/wait"),
        ("GET", "containers/abc/json"),
        ("GET", "containers/abc/logs"),
    ]


async def test_wait_for_log_finds_in_the_reread_a_line_the_follow_never_sent(
    make_daemon, client, short_grace
):
    lines = iter([(b"booting\n",), (b"booting\n", b"ready at last\n")])

    def logs(request: Request) -> Answer:
        return follow_for_ever(*next(lines))(request)

    daemon = await make_daemon(
        {
            ("GET", "containers/abc/logs"): logs,
            ("POST", "containers/abc/wait"): lambda r: WAITED,
            ("GET", "containers/abc/json"): state(running=False),
        }
    )
    container = client(daemon).containers.container("abc")
    line = await asyncio.wait_for(container.wait_for_log("ready", timeout=None, since=7), 5)
    assert line == "ready at last"
    sent = [daemon.query(i) for i, r in enumerate(daemon.requests) if "logs" in r.target]
    assert [q["follow"] for q in sent] == [["1"], ["0"]]
    assert all(q["since"] == ["7"] and q["stdout"] == q["stderr"] == ["1"] for q in sent)


async def test_wait_for_log_keeps_following_a_container_that_runs_again(
    make_daemon, client, short_grace
):
    waits = iter([WAITED])

    def wait(request: Request) -> Answer:
        return next(waits, [Hang()])  # the second wait lasts until it is cancelled

    def logs(request: Request) -> Answer:
        head = streamed(b"", MULTIPLEXED, end=False)
        return [head, Pause(0.6), chunked(encode_frame(1, b"ready\n"), end=False), Hang()]

    daemon = await make_daemon(
        {
            ("GET", "containers/abc/logs"): logs,
            ("POST", "containers/abc/wait"): wait,
            ("GET", "containers/abc/json"): state(running=True),  # restarted
        }
    )
    container = client(daemon).containers.container("abc")
    assert await asyncio.wait_for(container.wait_for_log("ready", timeout=None), 5) == "ready"
    assert daemon.calls().count(("GET", "containers/abc/logs")) == 1
    assert daemon.calls().count(("POST", "containers/abc/wait")) == 2


async def test_wait_for_log_does_not_wait_for_the_grace_when_the_follow_ends(
    make_daemon, client, monkeypatch
):
    monkeypatch.setattr(containers_module, "_FOLLOW_END_GRACE", 60)
    daemon = await make_daemon(
        {
            ("GET", "containers/abc/logs"): lambda r: streamed(
                encode_frame(1, b"no newline at the end"), MULTIPLEXED
            ),
            ("POST", "containers/abc/wait"): lambda r: WAITED,
        }
    )
    container = client(daemon).containers.container("abc")
    assert await asyncio.wait_for(container.wait_for_log("newline", timeout=None), 5) == (
        "no newline at the end"
    )
    with pytest.raises(DockerContainerError, match="stopped and no output line matched"):
        await asyncio.wait_for(container.wait_for_log("ready", timeout=None), 5)


async def test_wait_for_log_raises_the_waits_error_when_the_follow_does_not_end(
    make_daemon, client, short_grace
):
    daemon = await make_daemon(
        {
            ("GET", "containers/abc/logs"): follow_for_ever(b"booting\n"),
            ("POST", "containers/abc/wait"): lambda r: http_response(
                500, {"message": "wait broke"}, reason="Internal Server Error"
            ),
        }
    )
    container = client(daemon).containers.container("abc")
    with pytest.raises(DockerError, match="wait broke") as caught:
        await asyncio.wait_for(container.wait_for_log("ready", timeout=None), 5)
    assert caught.value.status == 500


async def test_wait_for_log_times_out_while_both_hang(make_daemon, client):
    daemon = await make_daemon(
        {
            ("GET", "containers/abc/logs"): follow_for_ever(b"booting\n"),
            ("POST", "containers/abc/wait"): lambda r: [Hang()],
        }
    )
    container = client(daemon).containers.container("abc")
    with pytest.raises(asyncio.TimeoutError):  # the builtin TimeoutError from 3.11 on
        await container.wait_for_log("ready", timeout=0.3)
    # Both connections were let go: the daemon sees them closed.
    for _ in range(100):
        if not daemon.fake.open_writers:
            break
        await asyncio.sleep(0.01)
    assert not daemon.fake.open_writers


# --- query and body encoding ----------------------------------------------------------


async def test_delete_sends_flags_only_when_true(make_daemon, client):
    daemon = await make_daemon({("DELETE", "containers/abc"): lambda r: http_response(204)})
    container = client(daemon).containers.container("abc")
    await container.delete()
    assert daemon.query() == {}
    await container.delete(force=True, link=True)
    assert daemon.query() == {"force": ["1"], "link": ["1"]}


async def test_stop_and_kill_send_only_given_arguments(make_daemon, client):
    ok: Callable[[Request], bytes] = lambda r: http_response(204)  # noqa: E731
    daemon = await make_daemon(
        {("POST", "containers/abc/stop"): ok, ("POST", "containers/abc/kill"): ok}
    )
    container = client(daemon).containers.container("abc")
    await container.stop()
    assert daemon.query() == {}
    await container.stop(t=3)
    assert daemon.query() == {"t": ["3"]}
    await container.kill(signal=9)
    assert daemon.query() == {"signal": ["9"]}


async def test_exec_sends_the_split_command_and_environment(make_daemon, client):
    daemon = await make_daemon(
        {("POST", "containers/abc/exec"): lambda r: http_response(201, {"Id": "e1"})}
    )
    container = client(daemon).containers.container("abc")
    exe = await container.exec(
        "sh -c 'echo hi'", stdin=True, environment={"A": "1"}, detach_keys="ctrl-x"
    )
    assert exe.id == "e1"
    body = json.loads(daemon.requests[-1].body)
    assert body == {
        "AttachStdin": True,
        "AttachStdout": True,
        "AttachStderr": True,
        "Tty": False,
        "Privileged": False,
        "Cmd": ["sh", "-c", "echo hi"],
        "Env": ["A=1"],
        "DetachKeys": "ctrl-x",
    }


async def test_commit_joins_changes_and_maps_parameter_names(make_daemon, client):
    daemon = await make_daemon({("POST", "commit"): lambda r: http_response(201, {"Id": "i"})})
    container = client(daemon).containers.container("abc")
    result = await container.commit(
        repository="r", tag="t", message="m", author="a", changes=["ENV A=1", "ENV B=2"]
    )
    assert result == {"Id": "i"}
    assert daemon.query() == {
        "container": ["abc"],
        "repo": ["r"],
        "tag": ["t"],
        "comment": ["m"],
        "author": ["a"],
        "changes": ["ENV A=1\nENV B=2"],
        "pause": ["1"],
    }


async def test_put_archive_streams_a_file_object_as_a_tar(make_daemon, client):
    daemon = await make_daemon({("PUT", "containers/abc/archive"): lambda r: http_response(200)})
    container = client(daemon).containers.container("abc")
    payload = b"x" * 600_000
    assert await container.put_archive("/tmp", io.BytesIO(payload)) == ""
    request = daemon.requests[-1]
    assert request.headers["transfer-encoding"] == "chunked"
    assert request.headers["content-type"] == "application/x-tar"
    assert request.body == payload
    await container.put_archive("/tmp", bytearray(b"abc"))
    assert daemon.requests[-1].headers["content-length"] == "3"


async def test_stat_archive_decodes_the_path_stat_header(make_daemon, client):
    stat = {"name": "f", "size": 3, "mode": 420, "mtime": "t", "linkTarget": ""}
    header = base64.b64encode(json.dumps(stat).encode()).decode()
    daemon = await make_daemon(
        {
            ("HEAD", "containers/abc/archive"): lambda r: http_response(
                200, headers={"X-Docker-Container-Path-Stat": header}
            ),
            ("HEAD", "containers/bad/archive"): lambda r: http_response(
                200, headers={"X-Docker-Container-Path-Stat": "%%%"}
            ),
        }
    )
    docker = client(daemon)
    assert await docker.containers.container("abc").stat_archive("/f") == stat
    with pytest.raises(DockerError, match="malformed"):
        await docker.containers.container("bad").stat_archive("/f")


async def test_stats_does_not_raise_in_band_errors(make_daemon, client):
    daemon = await make_daemon(
        {("GET", "containers/abc/stats"): lambda r: streamed(b'{"error": "x"}\n')}
    )
    container = client(daemon).containers.container("abc")
    assert await container.stats(stream=False) == [{"error": "x"}]
    assert daemon.query() == {"stream": ["0"]}


async def test_bad_arguments_raise_before_any_request(make_daemon, client):
    daemon = await make_daemon({})
    docker = client(daemon)
    container = docker.containers.container("abc")
    with pytest.raises(TypeError):
        container.log()
    with pytest.raises(TypeError):
        await container.put_archive("/", 42)
    with pytest.raises(ValueError):
        await container.update()
    with pytest.raises(ValueError):
        await container.wait_healthy(interval=0)
    with pytest.raises(ValueError):
        container.stream_archive("")
    with pytest.raises(ValueError):
        await docker.containers.get("..")
    assert daemon.requests == []


async def test_container_paths_quote_the_id() -> None:
    docker = aiodocker.Docker(url="unix:///nonexistent.sock")
    try:
        container = DockerContainer(docker, id="../images/json")
        assert container._path("containers/{}/json") == "containers/..%2Fimages%2Fjson/json"
    finally:
        await docker.close()


# --- compatibility modules ---------------------------------------------------------------


def test_channel_module_re_exports_the_stream_channel() -> None:
    assert compat_channel.Channel is core_channel.Channel
    assert compat_channel.ChannelSubscriber is core_channel.ChannelSubscriber


async def test_multiplexed_and_jsonstream_helpers_read_query_responses(make_daemon, client):
    daemon = await make_daemon(
        {
            ("GET", "containers/abc/logs"): lambda r: streamed(FRAMES),
            ("GET", "events"): lambda r: streamed(b'{"a": 1}\n{"error": "boom"}\n'),
        }
    )
    docker = client(daemon)
    async with docker._query("containers/abc/logs") as response:
        assert await multiplexed.multiplexed_result_list(response) == [
            "out ",
            "err\n",
            "\u20ac\n",
        ]
    async with docker._query("containers/abc/logs") as response:
        items = [i async for i in multiplexed.multiplexed_result_stream(response, is_tty=True)]
        assert "out " in "".join(items) and "err\n" in "".join(items)  # raw: headers kept
    async with docker._query("events") as response:
        assert await jsonstream.json_stream_list(response, raise_on_error=False) == [
            {"a": 1},
            {"error": "boom"},
        ]
    async with docker._query("events") as response:
        with pytest.raises(DockerStreamError, match="boom"):
            await jsonstream.json_stream_list(response, lambda v: v.get("a"))


async def test_a_listed_container_is_freed_without_the_cycle_collector() -> None:
    import gc
    import weakref

    docker = aiodocker.Docker(url="unix:///nonexistent.sock")
    gc.disable()
    try:
        container = DockerContainer(docker, Id="abc", Names=["/x"])
        alive = weakref.ref(container)
        del container
        assert alive() is None  # no reference cycle: refcounting frees it
        follower = DockerContainer(docker, Id="abc").logs  # made on first use, still there
        assert follower.container.id == "abc"
    finally:
        gc.enable()
        await docker.close()


async def test_listed_containers_keep_the_daemons_dicts_and_0_27s_id_precedence(
    make_daemon, client
):
    answer = [
        {"Id": "a1", "Names": ["/one"], "State": "running"},
        {"ID": "b2", "Id": "ignored-b"},  # 0.27 takes id, then ID, then Id
        {"id": "c3", "ID": "ignored-c", "Id": "ignored-c"},
    ]
    daemon = await make_daemon(
        {
            ("GET", "containers/json"): lambda r: http_response(200, answer),
            ("GET", "containers/a1/json"): lambda r: http_response(200, answer[0]),
        }
    )
    docker = client(daemon)
    listed = await docker.containers.list(all=True)
    assert [c.id for c in listed] == ["a1", "b2", "c3"]
    assert [c["Names"] for c in listed[:1]] == [["/one"]]
    assert all(c.docker is docker and isinstance(c, DockerContainer) for c in listed)
    assert (await listed[0].show())["State"] == "running"  # bound to the client's core
    got = await docker.containers.get("a1")
    assert got.id == "a1" and got["Names"] == ["/one"]
