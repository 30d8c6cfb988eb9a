"""The session's gRPC-over-HTTP/2 server, headers and file sync walk, without a daemon.

The daemon's side is played by an ``h2`` client connection over in-memory pipes.
"""

from __future__ import annotations

import asyncio
import os
import stat
import struct
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from testenv import in_ci

try:
    import h2.config
    import h2.connection as h2_connection
    import h2.events
except ImportError:  # the aiodocker[buildkit] extra is missing: a broken set-up in CI
    if in_ci():
        raise
    pytest.skip("the BuildKit session needs the aiodocker[buildkit] extra", allow_module_level=True)

from aiodocker._buildkit.filesync import (  # noqa: E402
    PACKET_DATA,
    PACKET_FIN,
    PACKET_REQ,
    PACKET_STAT,
    FileSyncService,
    decode_options,
    decode_packet,
    go_file_mode,
    packet,
    walk,
)
from aiodocker._buildkit.grpc import (  # noqa: E402
    NOT_FOUND,
    UNIMPLEMENTED,
    Call,
    GrpcError,
    encode_message,
)
from aiodocker._buildkit.h2server import GrpcServer  # noqa: E402
from aiodocker._buildkit.services import GET_SECRET, Secret, SecretsService  # noqa: E402
from aiodocker._buildkit.session import (  # noqa: E402
    HEALTH_CHECK,
    case_variants,
    session_headers,
    shared_key,
)
from aiodocker._buildkit.session import _health_check as health_check  # noqa: E402
from aiodocker._buildkit.wire import as_bytes, field_bytes, iter_fields  # noqa: E402


def frame(message: bytes) -> bytes:
    return struct.pack(">BI", 0, len(message)) + message


def unframe(data: bytes) -> list[bytes]:
    messages = []
    while data:
        _, size = struct.unpack_from(">BI", data)
        messages.append(data[5 : 5 + size])
        data = data[5 + size :]
    return messages


class FakeDaemon:
    """An h2 client speaking to a GrpcServer through two queues."""

    def __init__(self) -> None:
        self.to_server: asyncio.Queue[bytes] = asyncio.Queue()
        self.conn = h2_connection.H2Connection(h2.config.H2Configuration(client_side=True))
        self.conn.initiate_connection()
        self.data: dict[int, bytearray] = {}
        self.headers: dict[int, dict[str, str]] = {}
        self.ended: dict[int, asyncio.Event] = {}
        self.sent = 0

    def flush(self) -> None:
        data = self.conn.data_to_send()
        if data:
            self.to_server.put_nowait(data)

    def server_wrote(self, data: bytes) -> None:
        self.sent += len(data)
        for event in self.conn.receive_data(data):
            if isinstance(event, h2.events.ResponseReceived | h2.events.TrailersReceived):
                self.headers.setdefault(event.stream_id, {}).update(
                    {k.decode(): v.decode() for k, v in event.headers}
                )
            elif isinstance(event, h2.events.DataReceived):
                self.data.setdefault(event.stream_id, bytearray()).extend(event.data)
                self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, h2.events.StreamEnded):
                self.ended.setdefault(event.stream_id, asyncio.Event()).set()
        self.flush()

    async def read(self) -> bytes:
        return await self.to_server.get()

    def call(
        self, method: str, *messages: bytes, metadata: list[tuple[str, str]] = (), end: bool = True
    ) -> int:  # type: ignore[assignment]
        stream_id = self.conn.get_next_available_stream_id()
        self.ended[stream_id] = asyncio.Event()
        headers = [
            (":method", "POST"),
            (":scheme", "http"),
            (":path", method),
            (":authority", "localhost"),
            ("content-type", "application/grpc"),
            *metadata,
        ]
        self.conn.send_headers(stream_id, headers)
        for message in messages:
            self.conn.send_data(stream_id, frame(message))
        if end:
            self.conn.end_stream(stream_id)
        self.flush()
        return stream_id

    def send(self, stream_id: int, message: bytes, *, end: bool = False) -> None:
        self.conn.send_data(stream_id, frame(message), end_stream=end)
        self.flush()


@pytest.fixture
async def served() -> AsyncIterator[tuple[FakeDaemon, dict[str, Any]]]:
    daemon = FakeDaemon()
    handlers: dict[str, Any] = {HEALTH_CHECK: health_check}

    async def drain() -> None:
        await asyncio.sleep(0)

    server = GrpcServer(handlers, read=daemon.read, write=daemon.server_wrote, drain=drain)
    daemon.flush()
    task = asyncio.create_task(server.serve())
    yield daemon, handlers
    daemon.to_server.put_nowait(b"")
    await asyncio.wait_for(task, 5)


async def finished(daemon: FakeDaemon, stream_id: int) -> tuple[dict[str, str], list[bytes]]:
    await asyncio.wait_for(daemon.ended[stream_id].wait(), 5)
    return daemon.headers[stream_id], unframe(bytes(daemon.data.get(stream_id, b"")))


async def test_health_check_is_answered_serving(served: tuple[FakeDaemon, dict[str, Any]]) -> None:
    daemon, _ = served
    headers, messages = await finished(daemon, daemon.call(HEALTH_CHECK, b""))
    assert headers["grpc-status"] == "0" and headers["content-type"] == "application/grpc"
    assert messages == [b"\x08\x01"]  # status = SERVING


async def test_unknown_method_is_unimplemented(served: tuple[FakeDaemon, dict[str, Any]]) -> None:
    daemon, _ = served
    headers, messages = await finished(daemon, daemon.call("/x.Y/Z", b""))
    assert headers["grpc-status"] == str(UNIMPLEMENTED) and messages == []
    assert "/x.Y/Z" in headers["grpc-message"]


async def test_large_response_crosses_flow_control_windows(
    served: tuple[FakeDaemon, dict[str, Any]],
) -> None:
    daemon, handlers = served
    big = os.urandom(300_000)  # far above the 65,535-byte initial window

    async def echo_big(call: Call) -> None:
        await call.recv()
        await call.send(big)
        await call.send(big[:10])

    handlers["/t.T/Big"] = echo_big
    headers, messages = await finished(daemon, daemon.call("/t.T/Big", b""))
    assert headers["grpc-status"] == "0" and messages == [big, big[:10]]


async def test_handler_error_becomes_status_and_message(
    served: tuple[FakeDaemon, dict[str, Any]],
) -> None:
    daemon, handlers = served

    async def fail(call: Call) -> None:
        raise GrpcError(NOT_FOUND, "secret x not found")

    handlers["/t.T/Fail"] = fail
    headers, _ = await finished(daemon, daemon.call("/t.T/Fail", b""))
    assert headers["grpc-status"] == str(NOT_FOUND)
    assert headers["grpc-message"] == "secret x not found"


async def test_secret_is_sent_only_in_the_response_and_missing_is_not_found(
    served: tuple[FakeDaemon, dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    daemon, handlers = served
    (tmp_path / "tok").write_bytes(b"s3cret-file")
    monkeypatch.setenv("AIODOCKER_UNIT_SECRET", "s3cret-env")
    service = SecretsService(
        {"f": Secret(file=str(tmp_path / "tok")), "e": Secret(env="AIODOCKER_UNIT_SECRET")}
    )
    handlers[GET_SECRET] = service.get_secret
    for secret_id, value in (("f", b"s3cret-file"), ("e", b"s3cret-env")):
        headers, messages = await finished(
            daemon, daemon.call(GET_SECRET, field_bytes(1, secret_id))
        )
        assert headers["grpc-status"] == "0"
        assert [as_bytes(v) for _, _, v in iter_fields(messages[0])] == [value]
    headers, _ = await finished(daemon, daemon.call(GET_SECRET, field_bytes(1, "nope")))
    assert headers["grpc-status"] == str(NOT_FOUND) and "s3cret" not in headers["grpc-message"]
    assert "s3cret" not in repr(Secret(env="AIODOCKER_UNIT_SECRET"))


def test_grpc_message_percent_encodes_only_what_the_spec_requires() -> None:
    assert encode_message("a/b: 100% é") == "a/b: 100%25 %C3%A9"


def test_secret_needs_exactly_one_source() -> None:
    with pytest.raises(ValueError):
        Secret()
    with pytest.raises(ValueError):
        Secret(file="a", env="B")


# --- file sync ------------------------------------------------------------------------


def make_tree(root: Path) -> None:
    (root / "a").mkdir()
    (root / "a" / "b.txt").write_text("b")
    (root / "a.txt").write_text("a" * 10)
    (root / "Dockerfile").write_text("FROM scratch\n")
    (root / "logs").mkdir()
    (root / "logs" / "keep.log").write_text("k")
    (root / "logs" / "drop.log").write_text("d")
    (root / "link").symlink_to("a.txt")


def test_walk_is_depth_first_bytewise_and_keeps_parents_of_reincluded(tmp_path: Path) -> None:
    make_tree(tmp_path)
    paths = [e.relpath for e in walk(str(tmp_path), excludes=[], includes=[])]
    assert paths == [
        "Dockerfile",
        "a",
        "a/b.txt",
        "a.txt",
        "link",
        "logs",
        "logs/drop.log",
        "logs/keep.log",
    ]
    paths = [
        e.relpath
        for e in walk(str(tmp_path), excludes=["logs", "!logs/keep.log", "a"], includes=[])
    ]
    assert paths == ["Dockerfile", "a.txt", "link", "logs", "logs/keep.log"]


def test_walk_include_patterns_keep_matches_and_their_parents(tmp_path: Path) -> None:
    make_tree(tmp_path)
    assert [e.relpath for e in walk(str(tmp_path), excludes=[], includes=["Dockerfile"])] == [
        "Dockerfile"
    ]
    assert [e.relpath for e in walk(str(tmp_path), excludes=[], includes=["a/b.txt"])] == [
        "a",
        "a/b.txt",
    ]
    assert [e.relpath for e in walk(str(tmp_path), excludes=[], includes=["logs/*.log"])] == [
        "logs",
        "logs/drop.log",
        "logs/keep.log",
    ]


def test_go_file_mode_bits() -> None:
    assert go_file_mode(stat.S_IFREG | 0o644) == 0o644
    assert go_file_mode(stat.S_IFDIR | 0o755) == (1 << 31) | 0o755
    assert go_file_mode(stat.S_IFLNK | 0o777) == (1 << 27) | 0o777
    assert go_file_mode(stat.S_IFREG | stat.S_ISUID | 0o755) == (1 << 23) | 0o755


def test_encoded_options_are_unescaped() -> None:
    options = decode_options(
        {
            "exclude-patterns": ["caf%C3%A9", "x+y"],
            "exclude-patterns-encoded": ["1"],
            "dir-name": ["context"],
        }
    )
    assert options["exclude-patterns"] == ["café", "x y"]
    assert options["dir-name"] == ["context"]


async def test_diff_copy_sends_stats_then_only_requested_files(
    served: tuple[FakeDaemon, dict[str, Any]], tmp_path: Path
) -> None:
    daemon, handlers = served
    make_tree(tmp_path)
    service = FileSyncService({"context": str(tmp_path)})
    handlers["/moby.filesync.v1.FileSync/DiffCopy"] = service.diff_copy
    stream_id = daemon.call(
        "/moby.filesync.v1.FileSync/DiffCopy",
        metadata=[("dir-name", "context"), ("exclude-patterns", "logs")],
        end=False,
    )
    await asyncio.sleep(0.1)
    stats = [decode_packet(m) for m in unframe(bytes(daemon.data[stream_id]))]
    assert [kind for kind, _, _ in stats] == [PACKET_STAT] * 6  # 5 entries + the end marker
    daemon.send(stream_id, packet(PACKET_REQ, id=3))  # a.txt (0 Dockerfile, 1 a, 2 a/b.txt)
    daemon.send(stream_id, packet(PACKET_FIN), end=True)
    headers, messages = await finished(daemon, stream_id)
    rest = [decode_packet(m) for m in messages[6:]]
    assert rest == [(PACKET_DATA, 3, b"a" * 10), (PACKET_DATA, 3, b""), (PACKET_FIN, 0, b"")]
    assert headers["grpc-status"] == "0"
    assert service.files_sent == 1 and service.file_bytes_sent == 10


async def test_diff_copy_refuses_unknown_directories(
    served: tuple[FakeDaemon, dict[str, Any]], tmp_path: Path
) -> None:
    daemon, handlers = served
    handlers["/moby.filesync.v1.FileSync/DiffCopy"] = FileSyncService(
        {"context": str(tmp_path)}
    ).diff_copy
    headers, _ = await finished(
        daemon, daemon.call("/moby.filesync.v1.FileSync/DiffCopy", metadata=[("dir-name", "/etc")])
    )
    assert headers["grpc-status"] == str(NOT_FOUND)


# --- session headers -------------------------------------------------------------------


def test_method_headers_are_case_variants_of_one_field() -> None:
    methods = [f"/s.S/M{n}" for n in range(5)]
    headers = session_headers("id1", "ctx", "key", methods)
    method_fields = {
        k: v for k, v in headers.items() if k.lower() == "x-docker-expose-session-grpc-method"
    }
    assert sorted(method_fields.values()) == methods
    assert len(set(method_fields)) == 5
    assert headers["Upgrade"] == "h2c" and headers["X-Docker-Expose-Session-Uuid"] == "id1"
    assert len(set(case_variants("ab", 4))) == 4
    with pytest.raises(ValueError):
        case_variants("ab", 5)


def test_shared_key_is_stable_per_directory(tmp_path: Path) -> None:
    assert shared_key(str(tmp_path)) == shared_key(str(tmp_path) + "/")
    assert shared_key(str(tmp_path)) != shared_key(str(tmp_path / "x"))


async def test_session_builds_refuse_the_aiohttp_engine(tmp_path: Path) -> None:
    import aiohttp

    from aiodocker import Docker
    from aiodocker.buildkit import BuildKitBuild

    connector = aiohttp.UnixConnector(str(tmp_path / "none.sock"))
    docker = Docker(url=f"unix://{tmp_path / 'none.sock'}", connector=connector)
    try:
        with pytest.raises(ValueError, match="own HTTP engine"):
            BuildKitBuild(docker, path=str(tmp_path), context_sync=True)
        with pytest.raises(ValueError, match="cannot locate Dockerfile"):  # checked up front
            BuildKitBuild(docker, path=str(tmp_path))
        (tmp_path / "Dockerfile").write_text("FROM scratch\n")
        # the tar upload without a session: fine, and nothing asked for needs one
        assert not BuildKitBuild(docker, path=str(tmp_path)).uses_session
    finally:
        await docker.close()
        await connector.close()
