"""``Docker(transport=MockTransport(handler))``: the handler sees each request, its answer reaches the caller."""

from __future__ import annotations

import asyncio

import pytest

from aiodocker import Docker
from aiodocker.exceptions import (
    DockerConflictError,
    DockerNotFoundError,
    DockerTruncatedStreamError,
)
from aiodocker.testing import MockTransport, Request, Response, frame

VERSION = {"ApiVersion": "1.45", "MinAPIVersion": "1.24", "Version": "26.1.5"}


def with_version(inner):  # type: ignore[no-untyped-def]
    def handler(request: Request) -> Response:
        if request.path == "/version":
            return Response(json=VERSION)
        return inner(request)  # type: ignore[no-any-return]

    return handler


async def test_plain_handler_answers_json_and_sees_path_params_and_body() -> None:
    seen: list[Request] = []

    def handler(request: Request) -> Response:
        seen.append(request)
        if request.path == "/containers/create":
            return Response(201, json={"Id": "c1" * 32, "Warnings": []})
        return Response(json={"Id": "c1" * 32, "Name": "/web", "State": {"Running": False}})

    transport = MockTransport(with_version(handler))
    async with Docker(transport=transport) as docker:
        container = await docker.containers.create({"Image": "busybox"}, name="web")
        assert container.id == "c1" * 32
    create = seen[0]
    assert create.method == "POST"
    assert create.version == "1.45"
    assert create.params == {"name": "web"}
    assert create.json() == {"Image": "busybox"}
    assert [r.path for r in transport.requests] == ["/version", "/containers/create"]
    assert transport.closed


async def test_async_handler_and_error_statuses_map_to_the_error_tree() -> None:
    async def handler(request: Request) -> Response:
        await asyncio.sleep(0)
        if request.path.startswith("/containers/missing"):
            return Response.error(404, "No such container: missing")
        return Response.error(409, "Conflict. The container name is already in use")

    async with Docker(transport=MockTransport(with_version(handler))) as docker:
        with pytest.raises(DockerNotFoundError, match="No such container: missing"):
            await docker.containers.get("missing")
        with pytest.raises(DockerConflictError):
            await docker.containers.create({"Image": "x"}, name="taken")


async def test_streamed_json_lines_arrive_one_document_at_a_time() -> None:
    progress = [{"status": "Pulling from library/busybox", "id": "latest"}, {"status": "Done"}]

    def handler(request: Request) -> Response:
        if request.path == "/images/busybox:latest/json":
            return Response(json={"Id": "sha256:" + "1" * 64})
        assert request.path == "/images/create"
        assert request.params["fromImage"] == "busybox:latest"
        return Response(stream=progress)

    async with Docker(transport=MockTransport(with_version(handler))) as docker:
        got = [item async for item in docker.images.pull("busybox:latest", stream=True)]
    assert got == progress


async def test_a_stream_cut_short_raises_truncated() -> None:
    def handler(request: Request) -> Response:
        if request.path == "/images/busybox:latest/json":
            return Response(json={"Id": "sha256:" + "1" * 64})
        return Response(stream=[{"status": "one"}], cut_short=True)

    async with Docker(transport=MockTransport(with_version(handler))) as docker:
        with pytest.raises(DockerTruncatedStreamError):
            async for _ in docker.images.pull("busybox:latest", stream=True):
                pass


async def test_hijacked_exec_stream_demultiplexes_frames_and_receives_stdin() -> None:
    exec_id = "e" * 64
    written: list[bytes] = []

    def handler(request: Request) -> Response:
        if request.path.endswith("/exec"):
            return Response(201, json={"Id": exec_id})
        if request.path == f"/exec/{exec_id}/json":
            return Response(
                json={"ID": exec_id, "ProcessConfig": {"tty": False}, "OpenStdin": True}
            )
        if request.path == f"/exec/{exec_id}/start":
            assert request.headers["upgrade"] == "tcp"
            return Response.hijacked(
                [frame(1, "out\n"), frame(2, "err\n")], on_input=written.append
            )
        return Response(json={"Id": "c" * 64, "Config": {"Tty": False}})

    async with Docker(transport=MockTransport(with_version(handler))) as docker:
        container = docker.containers.container("c" * 64)
        execution = await container.exec(["cat"], stdin=True)
        async with execution.start() as stream:
            await stream.write_in(b"hello")
            messages = []
            while (message := await stream.read_out()) is not None:
                messages.append((message.stream, message.data))
    assert messages == [(1, b"out\n"), (2, b"err\n")]
    assert written[0] == b"hello"


async def test_handler_returning_something_else_is_a_type_error() -> None:
    async with Docker(transport=MockTransport(lambda r: {"no": "response"})) as docker:  # type: ignore[arg-type,return-value]
        with pytest.raises(TypeError, match="not an aiodocker.testing.Response"):
            await docker.version()


def test_transport_cannot_be_combined_with_session_or_context() -> None:
    with pytest.raises(ValueError, match="transport="):
        Docker(transport=MockTransport(lambda r: Response()), context="x")
