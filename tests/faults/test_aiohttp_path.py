"""The response contract holds when the caller brings an aiohttp connector."""

from __future__ import annotations

import aiohttp
import pytest

import aiodocker
from aiodocker._core.request import Shape
from aiodocker.exceptions import DockerConnectionError, DockerResponseError
from tests.fakedaemon import FakeDaemon, Request, http_response


async def with_connector(path: str, scenario):
    connector = aiohttp.UnixConnector(path)
    docker = aiodocker.Docker(url=f"unix://{path}", connector=connector, api_version="v1.41")
    try:
        return await scenario(docker)
    finally:
        await docker.close()
        await connector.close()


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        (http_response(301, b"", headers={"Location": "/v1.41/images/json"}), "redirect"),
        (http_response(200, [1]), "got a JSON array"),
        (http_response(204, b""), "got no body"),
        (http_response(200, b"{", headers={"Content-Type": "application/json"}), "not valid JSON"),
    ],
)
async def test_bad_answers_through_aiohttp_raise_response_error(tmp_path, answer, problem):
    path = str(tmp_path / "d.sock")
    daemon = await FakeDaemon(path, lambda request: answer).start()
    try:
        with pytest.raises(DockerResponseError, match=problem):
            await with_connector(path, lambda docker: docker.version())
    finally:
        await daemon.stop()
    assert len(daemon.requests) == 1  # a redirect is not followed


async def test_post_on_a_dead_kept_alive_aiohttp_connection_is_not_sent_twice(tmp_path):
    def handler(request: Request):
        if request.connection_id == 1 and request.method == "POST":
            return None  # the kept-alive connection dies before any answer
        if request.method == "POST":
            return http_response(201, {"Id": "c1"})
        return http_response(200, {"ok": True})

    async def scenario(docker):
        await docker.version()
        await docker.containers.create({"Image": "busybox"})

    path = str(tmp_path / "d.sock")
    daemon = await FakeDaemon(path, handler).start()
    try:
        with pytest.raises(DockerConnectionError):
            await with_connector(path, scenario)
    finally:
        await daemon.stop()
    assert sum(r.method == "POST" for r in daemon.requests) == 1


@pytest.mark.skipif(
    not hasattr(aiohttp, "ClientMiddlewareType"),
    reason="aiohttp < 3.12 has no client middlewares: its PUT/DELETE resend cannot be stopped "
    "(documented in docs/guides/connecting.md)",
)
@pytest.mark.parametrize("method", ["PUT", "DELETE"])
async def test_put_and_delete_on_a_dead_kept_alive_aiohttp_connection_are_not_resent(
    run_case, method
):
    def handler(request: Request):
        if request.connection_id == 1 and request.method == method:
            return None  # the kept-alive connection dies before any answer
        return http_response(200, {"ok": True})

    async def scenario(docker):
        await docker.version()
        await docker._api.call(method, "volumes/v1", expect=Shape.NOTHING)

    outcome = await run_case(handler, scenario, through_aiohttp=True)
    assert isinstance(outcome.error, DockerConnectionError)
    assert f"{method} /v1.41/volumes/v1" in str(outcome.error)
    assert "may or may not have been applied" in str(outcome.error)
    assert [r.method for r in outcome.requests] == ["GET", method]


@pytest.mark.parametrize("method", ["GET", "HEAD"])
async def test_get_and_head_through_aiohttp_are_still_resent_once(run_case, method):
    def handler(request: Request):
        if request.target != "/_ping":
            return http_response(200, {"ok": True})
        if request.connection_id == 1:
            return None  # the kept-alive connection dies before any answer
        return http_response(200, b"")  # no body bytes: the same answer fits a HEAD

    async def scenario(docker):
        await docker.version()
        response, _ = await docker._api.raw(method, "_ping", versioned=False)
        return response.status

    outcome = await run_case(handler, scenario, through_aiohttp=True)
    assert outcome.value == 200
    assert [r.connection_id for r in outcome.requests if r.target == "/_ping"] == [1, 2]
