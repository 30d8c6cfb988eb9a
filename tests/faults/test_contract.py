"""Fault injection: the response contract on the paths that parse bodies their own way.

The semi-public ``_query_json``/``_query`` (0.27's helpers), a core response's
``json()``, the containers list and inspect, ``stats(stream=False)``,
``system.ping`` and ``DockerNetwork.delete``: a body or status the call does not
expect raises ``DockerResponseError`` (never a raw ``JSONDecodeError``,
``UnicodeDecodeError``, ``tarfile.ReadError`` or ``ValueError``, never a made-up
result). Every case also passes the ``run_case`` checks (no fd or task left,
bounded memory).
"""

from __future__ import annotations

from typing import Any

import pytest

from aiodocker.exceptions import DockerNotFoundError, DockerResponseError
from aiodocker.networks import DockerNetwork
from tests.fakedaemon import http_response


def answer(data: Any) -> Any:
    return lambda request: data


def response_error(outcome: Any, *words: str) -> DockerResponseError:
    error = outcome.error
    assert isinstance(error, DockerResponseError), repr(error)
    for word in words:
        assert word in str(error), str(error)
    return error


# --- 0.27's semi-public helpers and a core response's json() -------------------------

BAD_BODIES = {
    "json-broken": ("application/json", b'{"Name": ', "not valid JSON"),
    "json-not-utf8": ("application/json", b'{"Name": "\xff\xfe"}', "not valid UTF-8"),
    "text-not-utf8": ("text/plain; charset=utf-8", b"caf\xe9", "not valid utf-8 text"),
    "tar-not-a-tar": ("application/x-tar", b"this is not a tar archive" * 40, "not a tar archive"),
    "tar-empty": ("application/x-tar", b"", "not a tar archive"),
}


@pytest.mark.parametrize("case", BAD_BODIES)
async def test_query_json_on_a_bad_body_raises_a_response_error(run_case, case):
    content_type, body, problem = BAD_BODIES[case]
    raw = http_response(200, body, headers={"Content-Type": content_type})
    outcome = await run_case(answer(raw), lambda d: d._query_json("info"))
    error = response_error(outcome, problem, "GET /v1.41/info", "HTTP 200")
    assert isinstance(error, ValueError)  # 0.27 raised json.JSONDecodeError here
    assert error.__cause__ is not None


async def test_query_json_error_quotes_the_body_with_credentials_redacted(run_case):
    body = b'{"username": "u", "password": "hunter2", "auth": "dTpodW50ZXIy"'
    raw = http_response(200, body, headers={"Content-Type": "application/json"})
    outcome = await run_case(answer(raw), lambda d: d._query_json("auth", "POST"))
    error = response_error(outcome, "POST /v1.41/auth", '"username": "u"')
    assert "hunter2" not in str(error) and "hunter2" not in repr(error)
    assert "dTpodW50ZXIy" not in str(error)


async def test_query_json_still_reads_good_bodies(run_case):
    raw = http_response(200, {"Name": "x"})
    outcome = await run_case(answer(raw), lambda d: d._query_json("info"))
    assert outcome.value == {"Name": "x"}


JSON_BODIES = {
    "broken": (b"[1, 2", "not valid JSON"),
    "not-utf8": (b'"\xc3\x28"', "not valid UTF-8"),
}


@pytest.mark.parametrize("case", JSON_BODIES)
async def test_query_response_json_on_a_bad_body_raises_a_response_error(run_case, case):
    body, problem = JSON_BODIES[case]

    async def scenario(docker):
        async with docker._query("info") as response:
            return await response.json()

    raw = http_response(200, body, headers={"Content-Type": "application/json"})
    outcome = await run_case(answer(raw), scenario)
    response_error(outcome, problem, "GET /v1.41/info", "HTTP 200")


@pytest.mark.parametrize("case", JSON_BODIES)
async def test_core_response_json_on_a_bad_body_raises_a_response_error(run_case, case):
    body, _ = JSON_BODIES[case]

    async def scenario(docker):
        response = await docker.core.request("GET", "info")
        return await response.json()

    raw = http_response(200, body, headers={"Content-Type": "application/json"})
    outcome = await run_case(answer(raw), scenario)
    error = response_error(outcome, "GET", "not valid JSON", "HTTP 200")
    assert error.__cause__ is not None


@pytest.mark.parametrize("body", [b"", b"  \n", b'{"a": [1]}'])
async def test_core_response_json_reads_good_and_empty_bodies(run_case, body):
    async def scenario(docker):
        response = await docker.core.request("GET", "info")
        return await response.json()

    outcome = await run_case(answer(http_response(200, body)), scenario)
    assert outcome.value == ({"a": [1]} if body.strip() else None)


# --- containers without an Id ---------------------------------------------------------

async def test_containers_list_with_an_entry_lacking_its_id_raises(run_case):
    body = [{"Id": "a" * 64, "Names": ["/one"]}, {"Names": ["/two"]}]
    outcome = await run_case(answer(http_response(200, body)), lambda d: d.containers.list())
    response_error(outcome, "GET /v1.41/containers/json", "item 1 of the answer has no Id")


async def test_containers_get_whose_answer_lacks_the_id_raises(run_case):
    outcome = await run_case(
        answer(http_response(200, {"Name": "/one"})), lambda d: d.containers.get("one")
    )
    response_error(outcome, "GET /v1.41/containers/one/json", "the answer has no Id")


async def test_containers_list_and_get_with_ids_succeed(run_case):
    def handler(request):
        if request.target.startswith("/v1.41/containers/json"):
            return http_response(200, [{"Id": "a" * 64}, {"Id": "b" * 64}])
        return http_response(200, {"Id": "c" * 64, "Name": "/c"})

    async def scenario(docker):
        listed = await docker.containers.list()
        got = await docker.containers.get("c")
        return [c.id for c in listed], got.id

    outcome = await run_case(handler, scenario)
    assert outcome.value == (["a" * 64, "b" * 64], "c" * 64)


# --- stats(stream=False) is one object -------------------------------------------------

STATS_ANSWERS = {
    "empty-200": (http_response(200, b"", headers={"Content-Type": "application/json"}), "got no body"),
    "204": (b"HTTP/1.1 204 No Content\r\n\r\n", "got no body"),
    "null": (http_response(200, None), "got a JSON null"),
    "string": (http_response(200, "hello"), "got a JSON string"),
    "array": (http_response(200, [{"read": "x"}]), "got a JSON array"),
    "two-objects": (
        http_response(200, b'{"read": "x"}\n{"read": "y"}\n', headers={"Content-Type": "application/json"}),
        "not valid JSON",
    ),
}


@pytest.mark.parametrize("case", STATS_ANSWERS)
async def test_stats_once_that_is_not_one_object_raises(run_case, case):
    raw, problem = STATS_ANSWERS[case]
    outcome = await run_case(
        answer(raw), lambda d: d.containers.container("c1").stats(stream=False)
    )
    response_error(outcome, "GET /v1.41/containers/c1/stats", problem)


async def test_stats_once_returns_the_one_object_in_a_list(run_case):
    outcome = await run_case(
        answer(http_response(200, {"read": "x", "cpu_stats": {}})),
        lambda d: d.containers.container("c1").stats(stream=False),
    )
    assert outcome.value == [{"read": "x", "cpu_stats": {}}]
    assert "stream=0" in outcome.requests[0].target


# --- ping --------------------------------------------------------------------------------

TEXT = {"Content-Type": "text/plain; charset=utf-8"}
PING_ANSWERS = {
    "204": (b"HTTP/1.1 204 No Content\r\n\r\n", "expected 200"),
    "201-ok": (http_response(201, b"OK", headers=TEXT), "expected 200"),
    "empty-200": (http_response(200, b"", headers=TEXT), 'expected "OK"'),
    "not-utf8": (http_response(200, b"O\xffK", headers=TEXT), 'expected "OK"'),
    "html-page": (http_response(200, b"<html>proxy login</html>", headers={"Content-Type": "text/html"}), "proxy login"),
    "json": (http_response(200, {"OK": True}), 'expected "OK"'),
}


@pytest.mark.parametrize("case", PING_ANSWERS)
async def test_ping_that_is_no_ping_answer_raises(run_case, case):
    raw, problem = PING_ANSWERS[case]
    outcome = await run_case(answer(raw), lambda d: d.system.ping())
    response_error(outcome, "GET /_ping", problem)


@pytest.mark.parametrize("body", [b"OK", b"OK\n"])
async def test_ping_returns_the_daemons_ok(run_case, body):
    outcome = await run_case(answer(http_response(200, body, headers=TEXT)), lambda d: d.system.ping())
    assert outcome.value == body.decode()


async def test_head_ping_needs_a_200_and_returns_nothing(run_case):
    def handler(request):
        if request.target == "/_ping" and request.method == "HEAD" and not handler.seen:
            handler.seen = True
            return b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nAPI-Version: 1.41\r\n\r\n"
        return b"HTTP/1.1 204 No Content\r\n\r\n"

    handler.seen = False

    async def scenario(docker):
        first = await docker.system.ping(head=True)
        try:
            await docker.system.ping(head=True)
        except DockerResponseError as exc:
            return first, str(exc)
        return first, None

    outcome = await run_case(handler, scenario)
    first, error = outcome.value
    assert first == ""
    assert error is not None and "HEAD /_ping" in error and "expected 200" in error


# --- networks.delete -------------------------------------------------------------------

async def test_network_delete_is_true_on_204(run_case):
    outcome = await run_case(
        answer(b"HTTP/1.1 204 No Content\r\n\r\n"), lambda d: DockerNetwork(d, "n1").delete()
    )
    assert outcome.value is True
    assert outcome.requests[0].method == "DELETE"
    assert outcome.requests[0].target == "/v1.41/networks/n1"


@pytest.mark.parametrize("status", [200, 202])
async def test_network_delete_with_another_success_status_raises(run_case, status):
    outcome = await run_case(
        answer(http_response(status, b"")), lambda d: DockerNetwork(d, "n1").delete()
    )
    error = response_error(outcome, "DELETE /v1.41/networks/n1", "expected 204")
    assert error.status == status


async def test_network_delete_of_a_missing_network_is_not_found(run_case):
    outcome = await run_case(
        answer(http_response(404, {"message": "network n1 not found"})),
        lambda d: DockerNetwork(d, "n1").delete(),
    )
    assert isinstance(outcome.error, DockerNotFoundError), repr(outcome.error)
