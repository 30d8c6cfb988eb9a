"""Every error the client raises comes through the one mapping: the right subclass.

An error status becomes its class by status (``error_from_response``); an answer
whose status is a success but whose head breaks the contract (no upgrade where one
was asked for, a header missing or malformed) is a ``DockerResponseError``, which
names the request and is also a ``ValueError``. None of them is a bare
``DockerError``.
"""

from __future__ import annotations

import base64
import io

import pytest

from aiodocker import Docker
from aiodocker.buildkit import BuildKitBuild
from aiodocker.exceptions import (
    DockerConflictError,
    DockerError,
    DockerNotFoundError,
    DockerResponseError,
)
from aiodocker.stream import Stream
from aiodocker.testing import MockTransport, Request, Response

CONTAINER = {"Id": "c1" * 32, "Config": {"Tty": False}, "State": {"Running": True}}


def docker_answering(answer: Response) -> Docker:
    """A client whose daemon answers every request but the container's inspect with ``answer``."""

    def handler(request: Request) -> Response:
        if request.method == "GET" and request.path.endswith("/json"):
            return Response(json=CONTAINER)
        return answer

    return Docker(transport=MockTransport(handler), api_version="v1.41")


@pytest.mark.parametrize(
    ("status", "cls"),
    [(404, DockerNotFoundError), (409, DockerConflictError), (500, DockerError)],
)
async def test_error_status_maps_to_its_class(status: int, cls: type[DockerError]) -> None:
    async with docker_answering(Response(status, json={"message": "boom"})) as docker:
        with pytest.raises(cls) as info:
            await docker.containers.container("c1").stat_archive("/etc")
    assert type(info.value) is cls and info.value.status == status
    assert info.value.message == "boom"


async def test_stat_archive_without_its_header_is_a_response_error() -> None:
    async with docker_answering(Response(200)) as docker:
        with pytest.raises(DockerResponseError, match="sent no X-Docker-Container-Path-Stat") as info:
            await docker.containers.container("c1").stat_archive("/etc")
    assert info.value.status == 200 and "HEAD /containers/c1/archive" in info.value.message


async def test_stat_archive_with_a_malformed_header_is_a_response_error() -> None:
    headers = {"X-Docker-Container-Path-Stat": base64.b64encode(b"{not json").decode()}
    async with docker_answering(Response(200, headers=headers)) as docker:
        with pytest.raises(DockerResponseError, match="malformed") as info:
            await docker.containers.container("c1").stat_archive("/etc")
    assert isinstance(info.value, ValueError)  # 0.27's json error was a ValueError too


async def test_exec_stream_not_upgraded_is_a_response_error() -> None:
    async def setup() -> tuple[str, dict[str, object], dict[str, object] | None, bool]:
        return "exec/abc/start", {}, {"Detach": False, "Tty": False}, False

    async with docker_answering(Response(204)) as docker:
        with pytest.raises(DockerResponseError, match="was not upgraded to a raw stream") as info:
            async with Stream(docker, setup):
                pass
    assert info.value.status == 204 and "POST /exec/abc/start" in info.value.message


async def test_buildkit_session_not_upgraded_is_a_response_error() -> None:
    async with docker_answering(Response(200, json={})) as docker:
        build = BuildKitBuild(docker, fileobj=io.BytesIO(b""))
        build._session_required = True
        with pytest.raises(DockerResponseError, match="serves no BuildKit sessions") as info:
            await build._open_session({"Upgrade": "h2c", "Connection": "Upgrade"})
    assert info.value.status == 200 and "POST /session" in info.value.message
