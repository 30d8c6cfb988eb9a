"""BuildKit's control API client (POST /grpc): Solve/Status over HTTP/2, errors with sources.

The daemon's controller is played by the package's own gRPC server over in-memory
pipes; the messages it receives are decoded field by field.
"""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import pytest

from aiodocker._buildkit.grpc import Call, GrpcError
from aiodocker._buildkit.h2server import GrpcServer
from aiodocker._buildkit.solve import (
    SOLVE,
    STATUS,
    GrpcClient,
    SolveError,
    decode_map,
    solve_items,
    solve_request,
    source_of_status,
)
from aiodocker._buildkit.trace import IMAGE_ID, TRACE_ID
from aiodocker._buildkit.wire import as_str, field_bytes, field_varint, iter_fields


class Pipe:
    """One direction of an in-memory connection."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()

    async def read_chunk(self) -> bytes:
        return await self.queue.get()


class ClientChannel:
    """The client's end: what the transport's detached Channel offers."""

    def __init__(self, incoming: Pipe, outgoing: Pipe) -> None:
        self.body = incoming
        self._out = outgoing
        self.closed = False

    def write(self, data: bytes) -> None:
        self._out.queue.put_nowait(data)

    async def drain(self) -> None:
        await asyncio.sleep(0)

    def close(self) -> None:
        self.closed = True
        self.body.queue.put_nowait(b"")


def fields(message: bytes) -> dict[int, list[Any]]:
    found: dict[int, list[Any]] = {}
    for number, _, value in iter_fields(message):
        found.setdefault(number, []).append(value)
    return found


async def controller(
    handlers: dict[str, Any],
) -> tuple[GrpcClient, asyncio.Task[None], ClientChannel]:
    to_server, to_client = Pipe(), Pipe()
    channel = ClientChannel(to_client, to_server)
    server = GrpcServer(
        handlers,
        read=to_server.read_chunk,
        write=to_client.queue.put_nowait,
        drain=lambda: asyncio.sleep(0),
    )
    task = asyncio.get_running_loop().create_task(server.serve())
    return GrpcClient(channel), task, channel


def test_solve_request_carries_the_frontend_exporter_and_session() -> None:
    message = solve_request(
        "ref1", "sess1", {"context:extra": "local:extra", "no-cache": ""}, {"name": "a:1,b:2"}
    )
    found = fields(message)
    assert as_str(found[1][0]) == "ref1" and as_str(found[5][0]) == "sess1"
    assert as_str(found[3][0]) == "moby" and as_str(found[6][0]) == "dockerfile.v0"
    assert decode_map(message, 7) == {"context:extra": "local:extra", "no-cache": ""}
    assert decode_map(message, 4) == {"name": "a:1,b:2"}


def status_with(type_url: str, payload: bytes) -> bytes:
    detail = field_bytes(1, type_url) + field_bytes(2, payload)
    return field_varint(1, 2) + field_bytes(2, "boom") + field_bytes(3, detail)


DOCKERFILE = "FROM x\nRUN a\nRUN b && \\\n  c\nRUN d\n"


def test_an_error_source_renders_from_json_and_protobuf_details() -> None:
    body = {
        "info": {"filename": "Dockerfile", "data": base64.b64encode(DOCKERFILE.encode()).decode()},
        "ranges": [{"start": {"line": 3}, "end": {"line": 4}}],
    }
    stack = status_with("github.com/moby/buildkit/stack.Stack+json", b"{}")
    from_json = source_of_status(
        stack
        + status_with("github.com/moby/buildkit/errdefs.Source+json", json.dumps(body).encode())
    )
    assert from_json.splitlines()[0] == "Dockerfile:3"
    assert "   3 | >>> RUN b && \\" in from_json and "   4 | >>>   c" in from_json
    info = field_bytes(1, "Dockerfile") + field_bytes(2, DOCKERFILE)
    position = lambda line: field_varint(1, line)  # noqa: E731
    ranges = field_bytes(1, position(3)) + field_bytes(2, position(4))
    proto = field_bytes(1, info) + field_bytes(2, ranges)
    assert source_of_status(status_with("type.googleapis.com/errdefs.Source", proto)) == from_json
    assert source_of_status(stack) == ""


async def test_solve_items_stream_the_trace_then_the_image_id() -> None:
    seen: dict[str, bytes] = {}
    solved = asyncio.Event()

    async def solve(call: Call) -> None:
        seen["solve"] = await call.recv() or b""
        solved.set()
        entry = field_bytes(1, "containerimage.digest") + field_bytes(2, "sha256:abc")
        await call.send(field_bytes(1, entry))

    async def status(call: Call) -> None:
        seen["status"] = await call.recv() or b""
        await call.send(b"\x0a\x02zz")  # any StatusResponse bytes, relayed as they are
        await solved.wait()

    client, server, channel = await controller({SOLVE: solve, STATUS: status})
    try:
        items = [item async for item in solve_items(client, "sess", {"filename": "Dockerfile"}, {})]
    finally:
        await client.close()
        server.cancel()
    assert items == [
        {"id": TRACE_ID, "aux": base64.b64encode(b"\x0a\x02zz").decode()},
        {"id": IMAGE_ID, "aux": {"ID": "sha256:abc"}},
    ]
    # Status asks for the ref the Solve runs under
    assert as_str(fields(seen["status"])[1][0]) == as_str(fields(seen["solve"])[1][0])
    assert channel.closed


async def test_a_failed_solve_raises_with_the_message_and_no_image_id() -> None:
    async def solve(call: Call) -> None:
        await call.recv()
        raise GrpcError(
            2, 'process "/bin/sh -c exit 3" did not complete successfully: exit code: 3'
        )

    async def status(call: Call) -> None:
        await call.recv()

    client, server, _ = await controller({SOLVE: solve, STATUS: status})
    try:
        with pytest.raises(SolveError, match="exit code: 3") as caught:
            async for _ in solve_items(client, "sess", {}, {}):
                pass
        assert caught.value.source == ""
    finally:
        await client.close()
        server.cancel()


async def test_a_call_to_an_unserved_method_fails_with_its_status() -> None:
    client, server, _ = await controller({})
    await client.start()
    try:
        with pytest.raises(SolveError, match="not served"):
            async for _ in client.call(SOLVE, b""):
                pass
    finally:
        await client.close()
        server.cancel()
