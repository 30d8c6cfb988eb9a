"""Fault injection: a daemon that misbehaves in one way at a time.

Every case asserts its outcome (a result, a ``DockerError`` subclass, or
``asyncio.TimeoutError``); the ``run_case`` harness (conftest.py) asserts that no fd
or task is left after ``close()`` and that peak memory grew by less than 16 MB.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import tarfile
from typing import Any

import pytest

from aiodocker.exceptions import (
    DockerAPIVersionError,
    DockerConflictError,
    DockerConnectionError,
    DockerError,
    DockerNotFoundError,
    DockerResponseError,
    DockerStreamError,
    DockerTruncatedStreamError,
)
from tests.fakedaemon import (
    VERSION_1_41,
    Close,
    Hang,
    Pause,
    Repeat,
    Request,
    chunked,
    http_response,
)

VERSION_JSON = json.dumps(VERSION_1_41).encode()
JSON_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
STREAM_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
MUX_HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n"
)
TAR_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/x-tar\r\nTransfer-Encoding: chunked\r\n\r\n"


def answer(data: Any) -> Any:
    return lambda request: data


async def version(docker):
    return await docker.version()


def check_error(outcome, cls: type[BaseException], match: str = "") -> BaseException:
    assert isinstance(outcome.error, cls), repr(outcome.error)
    if match:
        assert match in str(outcome.error), str(outcome.error)
    return outcome.error


# --- HTTP framing -------------------------------------------------------------------

FULL = http_response(200, VERSION_1_41)
CHUNKED_FULL = JSON_HEAD + b"Transfer-Encoding: chunked\r\n\r\n" + chunked(VERSION_JSON[:10], VERSION_JSON[10:])

CUTS = {
    "nothing": b"",
    "mid-status-line": FULL[:7],
    "after-status-line": FULL[: FULL.index(b"\r\n") + 2],
    "mid-header": FULL[: FULL.index(b"Content-Type") + 5],
    "before-blank-line": FULL[: FULL.index(b"\r\n\r\n") + 2],
    "after-head": FULL[: FULL.index(b"\r\n\r\n") + 4],
    "mid-body": FULL[:-10],
    "chunked-mid-size": CHUNKED_FULL[: CHUNKED_FULL.index(b"\r\n\r\n") + 5],
    "chunked-mid-data": CHUNKED_FULL[: CHUNKED_FULL.index(b"\r\n\r\n") + 9],
    "chunked-before-terminator": CHUNKED_FULL[:-5],
}


@pytest.mark.parametrize("cut", CUTS)
async def test_response_cut_short_raises_a_docker_error(run_case, cut):
    outcome = await run_case(answer([CUTS[cut], Close()]), version)
    error = check_error(outcome, DockerError)
    assert isinstance(error, (DockerConnectionError, DockerTruncatedStreamError))


BAD_FRAMING = {
    "chunk-size-not-hex": JSON_HEAD + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    "chunk-size-negative": JSON_HEAD + b"Transfer-Encoding: chunked\r\n\r\n-2\r\n{}\r\n0\r\n\r\n",
    "chunk-size-overflows": JSON_HEAD + b"Transfer-Encoding: chunked\r\n\r\n" + b"f" * 40 + b"\r\n{}",
    "chunk-longer-than-sent": JSON_HEAD + b"Transfer-Encoding: chunked\r\n\r\n100\r\n{}\r\n",
    "chunk-missing-crlf": JSON_HEAD + b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}XX0\r\n\r\n",
    "two-content-lengths": JSON_HEAD + b"Content-Length: 2\r\nContent-Length: 5\r\n\r\n{}",
    "length-and-chunked": JSON_HEAD + b"Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
    "length-not-a-number": JSON_HEAD + b"Content-Length: ten\r\n\r\n{}",
    "garbage-status-line": b"HELLO WORLD\r\n\r\n",
    "status-not-a-number": b"HTTP/1.1 abc OK\r\nContent-Length: 0\r\n\r\n",
    "binary-garbage": bytes(range(256)),
    "http2-preface": b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00",
    "http2-settings-frame": b"\x00\x00\x12\x04\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00\x64",
    "header-without-colon": b"HTTP/1.1 200 OK\r\nContent-Type application/json\r\n\r\n{}",
}


@pytest.mark.parametrize("case", BAD_FRAMING)
async def test_malformed_framing_raises_a_docker_error(run_case, case):
    outcome = await run_case(answer([BAD_FRAMING[case], Pause(0.05), Close()]), version)
    check_error(outcome, DockerError)


OVERSIZED_HEADS = {
    "endless-header-value": [b"HTTP/1.1 200 OK\r\nX-Big: ", Repeat(b"a" * 65536)],
    "endless-status-line": [b"HTTP/1.1 200 ", Repeat(b"O" * 65536)],
    "many-headers": [b"HTTP/1.1 200 OK\r\n", Repeat(b"X-H: v\r\n" * 8192)],
    "endless-100-continue": [Repeat(b"HTTP/1.1 100 Continue\r\n\r\n" * 2000)],
}


@pytest.mark.parametrize("case", OVERSIZED_HEADS)
async def test_oversized_response_head_is_refused_with_bounded_memory(run_case, case):
    outcome = await run_case(answer(OVERSIZED_HEADS[case]), version)
    check_error(outcome, DockerResponseError, "response head exceeds")


# --- statuses and bodies -------------------------------------------------------------

BODIES = {
    "json": b'{"message": "daemon says no"}',
    "html": b"<html><body><h1>Bad Gateway</h1>" + b"x" * 400 + b"</body></html>",
    "empty": b"",
    "non-utf8": b"\xff\xfe\x00bad \xc3\x28",
}
STATUSES = [201, 204, 301, 302, 304, 307, 400, 401, 404, 409, 500, 503]


@pytest.mark.parametrize("body", BODIES)
@pytest.mark.parametrize("status", STATUSES)
async def test_status_and_body_map_to_the_contract(run_case, status, body):
    data = BODIES[body]
    headers = {"Content-Type": "application/json" if body == "json" else "text/html"}
    if status in (301, 302, 307):
        headers["Location"] = "/v1.41/images/json"
    if status in (204, 304):
        raw = f"HTTP/1.1 {status} X\r\nServer: fake\r\n\r\n".encode()
        data = b""
    else:
        raw = http_response(status, data, headers=headers)
    outcome = await run_case(answer(raw), version)
    assert len(outcome.requests) == 1  # a redirect is never followed
    if status == 201 and body == "json":  # a 2xx with the declared shape is a success
        assert outcome.value == {"message": "daemon says no"}
        return
    error = check_error(outcome, DockerError)
    assert error.status == status
    if status >= 400:
        expected = {404: DockerNotFoundError, 409: DockerConflictError}.get(status, DockerError)
        assert type(error) is expected
        if body == "json":
            assert error.message == "daemon says no"
        assert len(error.message.encode()) < 260
    else:
        assert isinstance(error, DockerResponseError)
        assert "GET /v1.41/version" in error.message


async def test_201_with_a_json_object_is_a_success(run_case):
    outcome = await run_case(answer(http_response(201, VERSION_1_41)), version)
    assert outcome.value == VERSION_1_41


async def test_100_continue_before_the_answer_is_skipped(run_case):
    raw = b"HTTP/1.1 100 Continue\r\n\r\n" + http_response(200, VERSION_1_41)
    outcome = await run_case(answer(raw), version)
    assert outcome.value == VERSION_1_41


async def test_101_without_an_upgrade_request_is_an_error(run_case):
    raw = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: tcp\r\nConnection: Upgrade\r\n\r\n"
    outcome = await run_case(answer([raw, Close()]), version)
    check_error(outcome, DockerResponseError, "informational status 101")


async def test_304_on_starting_a_running_container_is_a_success(run_case):
    raw = b"HTTP/1.1 304 Not Modified\r\n\r\n"
    outcome = await run_case(answer(raw), lambda d: d.containers.container("c1").start())
    assert outcome.error is None


# --- JSON of the wrong type, broken JSON ------------------------------------------------

WRONG_JSON = {
    "version-list": ("version", b"[1, 2]", "got a JSON array"),
    "version-string": ("version", b'"1.41"', "got a JSON string"),
    "version-number": ("version", b"41", "got a JSON number"),
    "version-null": ("version", b"null", "got a JSON null"),
    "version-broken": ("version", b'{"ApiVersion": ', "not valid JSON"),
    "version-trailing-garbage": ("version", b"{} {}", "not valid JSON"),
    "version-not-utf8": ("version", b'{"a": "\xff"}', "not valid UTF-8"),
    "list-object": ("list", b'{"Id": "x"}', "got a JSON object"),
    "list-of-numbers": ("list", b"[1, 2]", "item 0 is a JSON number"),
    "list-broken": ("list", b'[{"Id": "x"}', "not valid JSON"),
    "inspect-array": ("inspect", b"[]", "got a JSON array"),
    "images-string": ("images", b'"none"', "got a JSON string"),
}


async def _wrong_json_call(docker, what):
    if what == "version":
        return await docker.version()
    if what == "list":
        return await docker.containers.list()
    if what == "inspect":
        return await docker.containers.container("c1").show()
    return await docker.images.list()


@pytest.mark.parametrize("case", WRONG_JSON)
async def test_wrong_or_broken_json_raises_a_response_error(run_case, case):
    what, body, problem = WRONG_JSON[case]
    raw = http_response(200, body, headers={"Content-Type": "application/json"})
    outcome = await run_case(answer(raw), lambda d: _wrong_json_call(d, what))
    error = check_error(outcome, DockerResponseError, problem)
    assert error.__cause__ is not None or "got a JSON" in problem or "item" in problem


async def test_null_list_reads_as_empty_list(run_case):
    raw = http_response(200, b"null", headers={"Content-Type": "application/json"})
    outcome = await run_case(answer(raw), lambda d: d.containers.container("c1").changes())
    assert outcome.value == []


# --- negotiation ----------------------------------------------------------------------

NEGOTIATION = {
    "list": b"[]",
    "broken": b'{"ApiVersion"',
    "banana": b'{"ApiVersion": "banana"}',
    "html": b"<html>hello</html>",
    "empty": b"",
}


@pytest.mark.parametrize("case", NEGOTIATION)
async def test_negotiation_with_an_unusable_version_says_how_to_skip_it(run_case, case):
    raw = http_response(200, NEGOTIATION[case], headers={"Content-Type": "application/json"})
    outcome = await run_case(answer(raw), lambda d: d.containers.list(), api_version="auto")
    error = check_error(outcome, DockerAPIVersionError, "negotiation failed")
    assert 'api_version="v1.' in str(error)
    assert error.__cause__ is not None


async def test_negotiation_with_a_daemon_claiming_1_99_uses_our_newest(run_case):
    def handler(request: Request):
        if request.target == "/version":
            return http_response(200, {**VERSION_1_41, "ApiVersion": "1.99"})
        return http_response(200, [])

    outcome = await run_case(handler, lambda d: d.containers.list(), api_version="auto")
    assert outcome.value == []
    assert outcome.requests[-1].target.startswith("/v1.55/containers/json")


async def test_negotiation_with_a_redirect_is_refused(run_case):
    raw = http_response(301, b"", headers={"Location": "http://elsewhere/version"})
    outcome = await run_case(answer(raw), lambda d: d.containers.list(), api_version="auto")
    check_error(outcome, DockerAPIVersionError, "negotiation failed")


# --- JSON-lines streams ----------------------------------------------------------------

def pull_stream(*parts: bytes, end: bool = True) -> bytes:
    return STREAM_HEAD + chunked(*parts, end=end)


async def pull(docker):
    return await docker.images.pull("busybox:latest")


async def test_jsonlines_error_in_the_middle_raises_stream_error(run_case):
    raw = pull_stream(b'{"status": "a"}\n', b'{"error": "boom", "errorDetail": {"message": "boom"}}\n', b'{"status": "b"}\n')
    outcome = await run_case(answer(raw), pull)
    check_error(outcome, DockerStreamError, "boom")


async def test_jsonlines_non_json_line_raises_stream_error(run_case):
    raw = pull_stream(b'{"status": "a"}\n', b"this is not json\n")
    outcome = await run_case(answer(raw), pull)
    check_error(outcome, DockerStreamError, "invalid JSON")


async def test_jsonlines_cut_inside_a_value_is_truncation(run_case):
    raw = pull_stream(b'{"status": "a"}\n{"status": "b', end=True)
    outcome = await run_case(answer(raw), pull)
    check_error(outcome, DockerTruncatedStreamError)


async def test_jsonlines_cut_without_chunk_terminator_is_truncation(run_case):
    raw = pull_stream(b'{"status": "a"}\n', end=False)
    outcome = await run_case(answer([raw, Close()]), pull)
    check_error(outcome, DockerTruncatedStreamError)


async def test_jsonlines_endless_line_fails_with_bounded_memory(run_case):
    chunk = b"%x\r\n%s\r\n" % (65536, b"A" * 65536)
    script = [STREAM_HEAD, chunked(b'{"aux": "', end=False), Repeat(chunk, 300)]
    outcome = await run_case(answer(script), pull)
    check_error(outcome, DockerStreamError, "longer than")


# --- multiplexed frames ------------------------------------------------------------------

async def logs(docker):
    return await docker.containers.container("c1", Config={"Tty": False}).log(stdout=True, stderr=True)


async def test_multiplexed_frame_with_a_bad_stream_type_raises(run_case):
    raw = MUX_HEAD + chunked(b"\x07\x00\x00\x00\x00\x00\x00\x02hi")
    outcome = await run_case(answer(raw), logs)
    check_error(outcome, DockerStreamError, "malformed multiplexed frame header")


async def test_multiplexed_frame_with_nonzero_padding_raises(run_case):
    raw = MUX_HEAD + chunked(b"\x01\x00\x01\x00\x00\x00\x00\x02hi")
    outcome = await run_case(answer(raw), logs)
    check_error(outcome, DockerStreamError, "malformed multiplexed frame header")


async def test_multiplexed_huge_length_cut_short_is_truncation(run_case):
    raw = MUX_HEAD + chunked(b"\x01\x00\x00\x00\xff\xff\xff\xff" + b"x" * 100)
    outcome = await run_case(answer(raw), logs)
    check_error(outcome, DockerTruncatedStreamError, "bytes missing")


async def test_multiplexed_huge_length_streamed_stays_bounded(run_case):
    chunk = b"%x\r\n%s\r\n" % (65536, b"x" * 65536)
    script = [MUX_HEAD, chunked(b"\x01\x00\x00\x00\xff\xff\xff\xff", end=False), Repeat(chunk, 400), Close()]

    async def scenario(docker):
        received = 0
        stream = docker.containers.container("c1", Config={"Tty": False}).log_messages(
            stdout=True, stderr=True, follow=True
        )
        try:
            async for message in stream:
                received += len(message.data)
        finally:
            await stream.aclose()
        return received

    outcome = await run_case(answer(script), scenario)
    check_error(outcome, DockerTruncatedStreamError)


# --- timeouts and cancellation on every stream kind ------------------------------------

def stall(head: bytes, first: bytes) -> Any:
    return answer([head, chunked(first, end=False), Hang()])


UPGRADE_HEAD = b"HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n"
FRAME = b"\x01\x00\x00\x00\x00\x00\x00\x02hi"


def hijack_stall(request: Request) -> Any:
    """Answer an exec inspect, then upgrade any other request and stall after one frame."""
    if "/exec/" in request.target and request.target.endswith("/json"):
        return http_response(200, {"ID": "e1", "ProcessConfig": {"tty": False}, "Running": True})
    return [UPGRADE_HEAD + FRAME, Hang()]


def websocket_stall(request: Request) -> Any:
    """Complete a websocket handshake (RFC 6455), send one text frame, then stall."""
    import base64
    import hashlib

    key = request.headers["sec-websocket-key"] + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
    accept = base64.b64encode(hashlib.sha1(key.encode()).digest()).decode()
    head = (
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Accept: {accept}\r\nSec-WebSocket-Protocol: chat\r\n\r\n"
    ).encode()
    return [head + b"\x81\x02hi", Hang()]


def buildkit_stall(request: Request) -> Any:
    """Upgrade POST /session (and never speak HTTP/2 on it); stall the build's progress."""
    if request.target.endswith("/session"):
        return [b"HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n", Hang()]
    return [STREAM_HEAD, chunked(b'{"id": "moby.buildkit.trace", "aux": ""}\n', end=False), Hang()]


STREAMS = {
    "logs-follow": stall(MUX_HEAD, FRAME),
    "pull": stall(STREAM_HEAD, b'{"status": "a"}\n'),
    "push": stall(STREAM_HEAD, b'{"status": "a"}\n'),
    "build": stall(STREAM_HEAD, b'{"stream": "Step 1/1"}\n'),
    "import": stall(STREAM_HEAD, b'{"status": "a"}\n'),
    "load": stall(STREAM_HEAD, b'{"stream": "a"}\n'),
    "stats": stall(STREAM_HEAD, b'{"read": "x"}\n'),
    "events": stall(STREAM_HEAD, b'{"Type": "container"}\n'),
    "stream-archive": stall(TAR_HEAD, b"\x00" * 512),
    "export": stall(TAR_HEAD, b"\x00" * 512),
    "exec-hijacked": hijack_stall,
    "attach-hijacked": hijack_stall,
    "websocket": websocket_stall,
    "buildkit-session": buildkit_stall,
}


async def consume(docker, kind):
    container = docker.containers.container("c1", Config={"Tty": False})
    if kind in ("exec-hijacked", "attach-hijacked"):
        if kind == "exec-hijacked":
            hijacked = docker.containers.exec("e1").start(detach=False)
        else:
            hijacked = container.attach(stdout=True, stderr=True)
        async with hijacked:
            while await hijacked.read_out() is not None:
                pass
        return
    if kind == "websocket":
        ws = await container.websocket()
        try:
            async for _ in ws:
                pass
        finally:
            await ws.close()
        return
    if kind == "logs-follow":
        stream = container.log_messages(stdout=True, follow=True)
    elif kind == "pull":
        stream = docker.images.pull("busybox", stream=True)
    elif kind == "push":
        stream = docker.images.push("127.0.0.1:5000/busybox", stream=True)
    elif kind == "build":
        stream = docker.images.build(remote="http://127.0.0.1:9/ctx.tar", stream=True)
    elif kind == "import":
        stream = docker.images.import_from("http://127.0.0.1:9/rootfs.tar", stream=True)
    elif kind == "load":
        stream = docker.images.load(b"\x00" * 1024, stream=True)
    elif kind == "buildkit-session":
        from aiodocker.buildkit import BuildKitBuild, Secret

        stream = BuildKitBuild(docker, remote="http://127.0.0.1:9/ctx.tar", secrets={"s": Secret(env="HOME")})
    elif kind == "stats":
        stream = container.stats(stream=True)
    elif kind == "events":
        stream = docker.system.events()
    elif kind == "stream-archive":
        stream = container.stream_archive("/etc")
    else:
        stream = container.export()
    try:
        async for _ in stream:
            pass
    finally:
        await stream.aclose()


def load_stream_modules() -> None:
    """Import what the streams load on first use, so the 0.3 s below times the stream only.

    The sub-APIs' modules, BuildKit's session and h2 load lazily; run_case traces
    memory, which makes a first import several times slower, and on a loaded machine
    that alone outlasted the timeout before any request was sent.
    """
    import importlib

    for name in ("containers", "images", "system", "events", "execs", "buildkit",
                 "_buildkit.session", "_buildkit.grpc", "_buildkit.h2server", "_buildkit.services"):
        importlib.import_module(f"aiodocker.{name}")
    importlib.import_module("h2.connection")


@pytest.mark.parametrize("kind", STREAMS)
async def test_stalled_stream_times_out_and_leaves_nothing(run_case, kind):
    load_stream_modules()
    outcome = await run_case(STREAMS[kind], lambda d: asyncio.wait_for(consume(d, kind), 0.3))
    check_error(outcome, asyncio.TimeoutError)
    assert outcome.requests, "the stream was never opened"


@pytest.mark.parametrize("kind", STREAMS)
async def test_stalled_stream_cancelled_leaves_nothing(run_case, kind):
    async def scenario(docker):
        task = asyncio.ensure_future(consume(docker, kind))
        await asyncio.sleep(0.2)
        assert not task.done(), task
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return "cancelled"

    outcome = await run_case(STREAMS[kind], scenario)
    assert outcome.value == "cancelled", repr(outcome.error)


async def test_call_that_never_answers_times_out(run_case):
    outcome = await run_case(answer([Hang()]), lambda d: asyncio.wait_for(d.version(), 0.3))
    check_error(outcome, asyncio.TimeoutError)


# --- hijacked exec and attach --------------------------------------------------------------

def exec_daemon(start_answer: Any):
    def handler(request: Request):
        if request.target.endswith("/json") and "/exec/" in request.target:
            return http_response(200, {"ID": "e1", "ProcessConfig": {"tty": False}, "Running": False})
        if request.target.endswith("/start"):
            return start_answer
        return http_response(404, {"message": "no"})

    return handler


async def exec_output(docker):
    exe = docker.containers.exec("e1")
    stream = exe.start(detach=False)
    async with stream:
        out = []
        while (message := await stream.read_out()) is not None:
            out.append(message)
        return out


HIJACK = {
    "close-at-once": (None, DockerConnectionError),
    # old daemons hijack with 200: the JSON that follows is no multiplexed stream
    "200-without-upgrade-json": (http_response(200, {"a": 1}), DockerStreamError),
    "404": (http_response(404, {"message": "No such exec instance"}), DockerNotFoundError),
    "409-not-running": (http_response(409, {"message": "container not running"}), DockerConflictError),
    "upgrade-then-close": ([b"HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n", Close()], None),
    "upgrade-then-cut-frame": ([b"HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n\x01\x00\x00\x00\x00\x00\x00\x09abc", Close()], DockerTruncatedStreamError),
    "redirect": (http_response(302, b"", headers={"Location": "/elsewhere"}), DockerResponseError),
}


@pytest.mark.parametrize("case", HIJACK)
async def test_hijacked_exec_faults(run_case, case):
    start_answer, error = HIJACK[case]
    outcome = await run_case(exec_daemon(start_answer), exec_output)
    if error is None:
        assert outcome.error is None and outcome.value == [], repr(outcome.error)
    else:
        check_error(outcome, error)


async def test_hijacked_attach_closed_at_once(run_case):
    async def scenario(docker):
        stream = docker.containers.container("c1", Config={"Tty": False}).attach(stdout=True)
        async with stream:
            return await stream.read_out()

    outcome = await run_case(answer(None), scenario)
    check_error(outcome, DockerConnectionError)


# --- archives ------------------------------------------------------------------------------

NOT_TARS = {
    "empty": b"",
    "text": b"this is not a tar archive" * 40,
    "truncated-tar": None,
}


@pytest.mark.parametrize("case", NOT_TARS)
async def test_archive_body_that_is_not_a_tar_raises_response_error(run_case, case):
    data = NOT_TARS[case]
    if data is None:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            info = tarfile.TarInfo("f")
            info.size = 4096
            tar.addfile(info, io.BytesIO(os.urandom(4096)))
        data = buffer.getvalue()[:700]
    raw = http_response(200, data, headers={"Content-Type": "application/x-tar"})
    outcome = await run_case(answer(raw), lambda d: d.containers.container("c1").get_archive("/etc"))
    if case == "truncated-tar" and outcome.error is None:
        # tarfile reads members lazily: the cut shows when the member is read
        with pytest.raises(tarfile.TarError):
            outcome.value.extractfile("f").read()
        return
    check_error(outcome, DockerResponseError, "not a tar archive")


# --- connecting ---------------------------------------------------------------------------------

async def test_missing_socket_raises_connection_error(tmp_path):
    import aiodocker

    docker = aiodocker.Docker(url=f"unix://{tmp_path}/none.sock", api_version="v1.41")
    try:
        with pytest.raises(DockerConnectionError, match="none.sock"):
            await docker.version()
    finally:
        await docker.close()


async def test_refused_socket_raises_connection_error(tmp_path):
    import socket

    import aiodocker

    path = str(tmp_path / "refuse.sock")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(path)  # bound, never listening: connect() is refused
    docker = aiodocker.Docker(url=f"unix://{path}", api_version="v1.41")
    try:
        with pytest.raises(DockerConnectionError):
            await docker.version()
    finally:
        await docker.close()
        listener.close()


# --- objects without the field the method needs ------------------------------------------

MISSING_FIELDS = {
    "container-create": lambda d: d.containers.create({"Image": "busybox"}),
    "exec-create": lambda d: d.containers.container("c1").exec(["true"]),
    "network-create": lambda d: d.networks.create({"Name": "n"}),
    "network-get": lambda d: d.networks.get("n"),
    "volume-create": lambda d: d.volumes.create({"Name": "v"}),
    "volume-get": lambda d: d.volumes.get("v"),
}


@pytest.mark.parametrize("case", MISSING_FIELDS)
async def test_object_without_its_id_raises_response_error(run_case, case):
    raw = http_response(201, {"Warnings": []})
    outcome = await run_case(answer(raw), MISSING_FIELDS[case])
    check_error(outcome, DockerResponseError, "the answer has no")


async def test_semi_public_query_keeps_0_27s_304_success_and_refuses_redirects(run_case):
    def handler(request: Request):
        if request.target.endswith("/start"):
            return b"HTTP/1.1 304 Not Modified\r\n\r\n"
        return http_response(301, b"", headers={"Location": "/v1.41/images/json"})

    async def scenario(docker):
        async with docker._query("containers/c1/start", "POST") as response:
            status = response.status
        with pytest.raises(DockerResponseError, match="redirect"):
            async with docker._query("containers/..%2Fimages/json"):
                pass
        return status

    outcome = await run_case(handler, scenario)
    assert outcome.value == 304
    assert len(outcome.requests) == 2


# --- output that never ends a line ---------------------------------------------------------

RAW_HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n"
)
NO_NEWLINE_CHUNK = b"%x\r\n%s\r\n" % (65536, b"y" * 65536)


async def test_followed_log_without_newlines_comes_in_bounded_pieces(run_case):
    script = [RAW_HEAD, Repeat(NO_NEWLINE_CHUNK, 320), chunked(b"end\n"), Close()]  # 20 MiB

    async def scenario(docker):
        container = docker.containers.container("c1", Config={"Tty": True})
        sizes = [len(line) async for line in container.log(stdout=True, follow=True)]
        return sizes

    outcome = await run_case(answer(script), scenario)
    assert outcome.error is None, repr(outcome.error)
    assert sum(outcome.value) == 320 * 65536 + 4
    assert max(outcome.value) <= 1024 * 1024


async def test_readline_on_a_body_without_newlines_returns_bounded_pieces(run_case):
    script = [RAW_HEAD, Repeat(NO_NEWLINE_CHUNK, 64), chunked(b"end\n"), Close()]  # 4 MiB

    async def scenario(docker):
        sizes = []
        async with docker._query("containers/c1/logs") as response:
            while line := await response.content.readline():
                sizes.append(len(line))
        return sizes

    outcome = await run_case(answer(script), scenario)
    assert sum(outcome.value) == 64 * 65536 + 4
    assert max(outcome.value) <= 1024 * 1024 and len(outcome.value) >= 4
