"""Only GET and HEAD are resent after a reused connection dies before any answer."""

from __future__ import annotations

import pytest

from aiodocker._core.request import Shape
from aiodocker.exceptions import DockerConnectionError
from tests.fakedaemon import Close, Request, http_response


def stale_after_first(request: Request):
    """Answer the first request, then close every reused connection without answering."""
    if request.connection_id == 1 and request.target != "/v1.41/_first":
        return None  # the kept-alive connection dies before any byte of the answer
    if request.target.endswith("containers/create"):
        return http_response(201, {"Id": "c1", "Warnings": []})
    return http_response(200, {"ok": True})


async def prime(docker) -> None:
    await docker._api.call("GET", "_first", expect=Shape.OBJECT)


async def test_post_on_a_dead_reused_connection_is_sent_once_and_says_so(run_case):
    async def scenario(docker):
        await prime(docker)
        await docker.containers.create({"Image": "busybox"}, name="x")

    outcome = await run_case(stale_after_first, scenario)
    assert isinstance(outcome.error, DockerConnectionError)
    assert "may or may not have been applied" in str(outcome.error)
    assert "POST /v1.41/containers/create" in str(outcome.error)
    creates = [r for r in outcome.requests if r.target.startswith("/v1.41/containers/create")]
    assert len(creates) == 1


@pytest.mark.parametrize("method", ["DELETE", "PUT"])
async def test_other_methods_are_not_resent_either(run_case, method):
    async def scenario(docker):
        await prime(docker)
        await docker._api.call(method, "volumes/v1", expect=Shape.NOTHING)

    outcome = await run_case(stale_after_first, scenario)
    assert isinstance(outcome.error, DockerConnectionError)
    assert "may or may not have been applied" in str(outcome.error)
    assert sum(r.method == method for r in outcome.requests) == 1


@pytest.mark.parametrize("method", ["GET", "HEAD"])
async def test_get_and_head_are_resent_once_on_a_new_connection(run_case, method):
    async def scenario(docker):
        await prime(docker)
        response, _ = await docker._api.raw(method, "_ping", versioned=False)
        return response.status

    outcome = await run_case(stale_after_first, scenario)
    assert outcome.value == 200
    sent = [r for r in outcome.requests if r.target == "/_ping"]
    assert [r.connection_id for r in sent] == [1, 2]


async def test_get_is_not_resent_once_bytes_of_the_answer_arrived(run_case):
    def handler(request: Request):
        if request.target == "/v1.41/_first":
            return http_response(200, {"ok": True})
        return [b"HTTP/1.1 200 OK\r\nContent-Len", Close()]  # part of a head, then gone

    async def scenario(docker):
        await prime(docker)
        await docker.version()

    outcome = await run_case(handler, scenario)
    assert isinstance(outcome.error, DockerConnectionError)
    assert sum(r.target == "/v1.41/version" for r in outcome.requests) == 1
