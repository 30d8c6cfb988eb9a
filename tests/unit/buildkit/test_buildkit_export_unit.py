"""Exporters without a daemon: output and cache specs, the engine's limits, the fsutil
receiver and the tar stream over a real HTTP/2 session, and flow control that waits
for the handler (flat memory)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest
import test_buildkit_session_unit as session_unit
from test_buildkit_session_unit import FakeDaemon, finished

from aiodocker._buildkit.exporters import (
    FILE_SEND,
    LocalReceiver,
    Output,
    TarReceiver,
    UnsupportedByEngineError,
    check_outputs,
    parse_output,
    plan_cache,
    uses_containerd_store,
)
from aiodocker._buildkit.filesync import (
    _GO_DIR,
    _GO_SYMLINK,
    PACKET_DATA,
    PACKET_FIN,
    PACKET_REQ,
    PACKET_STAT,
    decode_packet,
    packet,
)
from aiodocker._buildkit.grpc import UNKNOWN, Call
from aiodocker._buildkit.wire import field_bytes, field_varint
from aiodocker.exceptions import DockerError

Served = tuple[FakeDaemon, dict[str, Any]]
served = session_unit.served  # the fixture: an h2 daemon talking to a GrpcServer


def test_outputs_parse_as_buildx_reads_them() -> None:
    assert parse_output("type=local,dest=out") == Output("local", {}, "out")
    assert parse_output("out") == Output("local", {}, "out")
    assert parse_output("-") == Output("tar", {}, "-")
    assert parse_output({"type": "tar", "dest": "x.tar"}) == Output("tar", {}, "x.tar")
    image = parse_output("type=image,name=a/b,push=true")
    assert image == Output("image", {"name": "a/b", "push": "true"}, None)
    assert image.api_entry() == {"Type": "image", "Attrs": {"name": "a/b", "push": "true"}}
    assert parse_output("type=local,dest=d").needs_session
    assert not parse_output("type=image").needs_session
    with pytest.raises(ValueError, match="needs dest="):
        parse_output("type=local")
    with pytest.raises(ValueError, match="unknown"):
        parse_output("type=floppy,dest=a")
    with pytest.raises(ValueError, match="names no type"):
        parse_output("dest=a")
    with pytest.raises(ValueError, match="not key=value"):
        parse_output("type=local,dest")


def test_cache_specs_map_onto_the_embedded_builder() -> None:
    plan = plan_cache(["a/b:cache", "type=registry,ref=c/d"], ["type=inline"])
    assert plan.cache_from == ["a/b:cache", "c/d"] and plan.inline
    assert plan_cache(None, None) == plan_cache([], [])
    for bad_to in (["type=registry,ref=x"], ["type=local,dest=d"], ["type=gha"]):
        with pytest.raises(UnsupportedByEngineError, match="inline only") as info:
            plan_cache(None, bad_to)
        assert isinstance(info.value, DockerError) and isinstance(info.value, ValueError)
    with pytest.raises(UnsupportedByEngineError, match="registry references only"):
        plan_cache(["type=local,src=d"], None)
    with pytest.raises(ValueError, match="needs ref="):
        plan_cache(["type=registry"], None)


def test_engine_limits_are_named() -> None:
    local, oci = parse_output("type=local,dest=d"), parse_output("type=oci,dest=x.tar")
    check_outputs([local], containerd_store=False)
    check_outputs([oci], containerd_store=True)
    with pytest.raises(UnsupportedByEngineError, match="one output per build"):
        check_outputs([local, parse_output("type=tar,dest=t")], containerd_store=True)
    with pytest.raises(UnsupportedByEngineError, match="containerd image store"):
        check_outputs([oci], containerd_store=False)
    with pytest.raises(UnsupportedByEngineError, match="no cache-only export"):
        check_outputs([parse_output("type=cacheonly")], containerd_store=True)
    with pytest.raises(UnsupportedByEngineError, match="multi-platform build needs"):
        check_outputs([], containerd_store=False, platforms=["linux/amd64", "linux/arm64"])
    assert uses_containerd_store({"DriverStatus": [["driver-type", "io.containerd.snapshotter.v1"]]})
    assert not uses_containerd_store({"DriverStatus": [["Backing Filesystem", "extfs"]]})
    assert not uses_containerd_store({})


def stat(path: str, mode: int, *, size: int = 0, mtime: int = 0, linkname: str = "") -> bytes:
    return (
        field_bytes(1, path)
        + field_varint(2, mode)
        + field_varint(5, size)
        + field_varint(6, mtime)
        + field_bytes(7, linkname)
    )


async def _recv_from_server(daemon: FakeDaemon, stream_id: int, count: int) -> list[bytes]:
    from test_buildkit_session_unit import unframe

    for _ in range(500):
        messages = unframe(bytes(daemon.data.get(stream_id, b"")))
        if len(messages) >= count:
            return messages
        await asyncio.sleep(0.01)
    raise AssertionError(f"the receiver sent {messages}, wanted {count} messages")


async def test_local_export_receives_a_tree_with_modes_links_and_interleaved_files(
    served: Served, tmp_path: Path
) -> None:
    daemon, handlers = served
    receiver = LocalReceiver(str(tmp_path / "out"))
    handlers[FILE_SEND] = receiver.diff_copy
    mtime = 1_600_000_000_123_456_789
    stats = [
        stat("bin", _GO_DIR | 0o755, mtime=mtime),  # 0
        stat("bin/tool", 0o751, size=6, mtime=mtime),  # 1
        stat("bin/tool-link", _GO_SYMLINK | 0o777, linkname="tool"),  # 2
        stat("bin/tool-hard", 0o751, linkname="bin/tool"),  # 3: a hard link
        stat("readme", 0o640, size=4, mtime=mtime),  # 4
    ]
    stream_id = daemon.call(FILE_SEND, *(packet(PACKET_STAT, stat=s) for s in stats), end=False)
    daemon.send(stream_id, packet(PACKET_STAT))
    requests = await _recv_from_server(daemon, stream_id, 2)
    assert sorted(decode_packet(m)[:2] for m in requests) == [(PACKET_REQ, 1), (PACKET_REQ, 4)]
    # the sender's workers interleave files
    for ident, data in ((1, b"too"), (4, b"te"), (1, b"l\n!"), (4, b"xt"), (4, b""), (1, b"")):
        daemon.send(stream_id, packet(PACKET_DATA, id=ident, data=data))
    messages = await _recv_from_server(daemon, stream_id, 3)
    assert decode_packet(messages[2])[0] == PACKET_FIN
    daemon.send(stream_id, packet(PACKET_FIN), end=True)
    headers, _ = await finished(daemon, stream_id)
    assert headers["grpc-status"] == "0"
    out = tmp_path / "out"
    assert (out / "bin" / "tool").read_bytes() == b"tool\n!"
    assert (out / "readme").read_bytes() == b"text"
    assert os.readlink(out / "bin" / "tool-link") == "tool"
    assert (out / "bin" / "tool-hard").stat().st_ino == (out / "bin" / "tool").stat().st_ino
    assert (out / "bin" / "tool").stat().st_mode & 0o7777 == 0o751
    assert (out / "readme").stat().st_mode & 0o7777 == 0o640
    assert (out / "bin").stat().st_mtime_ns == mtime
    assert (out / "readme").stat().st_mtime_ns == mtime
    assert sorted(p.name for p in out.iterdir()) == ["bin", "readme"]  # no temporary files
    assert receiver.files_received == 2 and receiver.bytes_received == 10


async def test_local_export_refuses_paths_leaving_the_destination(
    served: Served, tmp_path: Path
) -> None:
    daemon, handlers = served
    (tmp_path / "out").mkdir()
    os.symlink(str(tmp_path), tmp_path / "out" / "escape")
    handlers[FILE_SEND] = LocalReceiver(str(tmp_path / "out")).diff_copy
    for bad in ("../evil", "escape/evil"):
        stream_id = daemon.call(FILE_SEND, packet(PACKET_STAT, stat=stat(bad, 0o644, size=1)))
        headers, _ = await finished(daemon, stream_id)
        assert headers["grpc-status"] == str(UNKNOWN)
        assert bad in headers["grpc-message"]
    assert not (tmp_path / "evil").exists()


async def test_tar_export_writes_the_byte_stream(served: Served, tmp_path: Path) -> None:
    daemon, handlers = served
    receiver = TarReceiver(str(tmp_path / "out.tar"))
    handlers[FILE_SEND] = receiver.diff_copy
    chunks = [os.urandom(10_000) for _ in range(25)]
    stream_id = daemon.call(FILE_SEND, *(field_bytes(1, c) for c in chunks))
    headers, _ = await finished(daemon, stream_id)
    assert headers["grpc-status"] == "0"
    assert (tmp_path / "out.tar").read_bytes() == b"".join(chunks)
    assert receiver.bytes_received == 250_000


async def test_data_is_acknowledged_only_once_the_handler_took_it(served: Served) -> None:
    """A handler that does not read holds the daemon back: the window stays closed."""
    daemon, handlers = served
    release = asyncio.Event()
    got: list[int] = []

    async def slow(call: Call) -> None:
        await release.wait()
        while (message := await call.recv()) is not None:
            got.append(len(message))

    handlers["/t.T/Slow"] = slow
    stream_id = daemon.call("/t.T/Slow", end=False)
    chunk = b"x" * 16_000
    sent = 0
    for _ in range(400):  # up to 6.4 MB, far above the 4 MiB stream window
        if daemon.conn.local_flow_control_window(stream_id) < len(chunk) + 5:
            break
        daemon.send(stream_id, chunk)
        sent += 1
        await asyncio.sleep(0)
    await asyncio.sleep(0.05)
    window = daemon.conn.local_flow_control_window(stream_id)
    assert window < len(chunk) + 5, "the server reopened the window before the handler read"
    assert sent * (len(chunk) + 5) <= 4 * 1024 * 1024
    release.set()
    for _ in range(200):
        await asyncio.sleep(0.01)
        if daemon.conn.local_flow_control_window(stream_id) > 1024 * 1024:
            break
    assert daemon.conn.local_flow_control_window(stream_id) > 1024 * 1024
    daemon.send(stream_id, chunk, end=True)
    headers, _ = await finished(daemon, stream_id)
    assert headers["grpc-status"] == "0" and len(got) == sent + 1
