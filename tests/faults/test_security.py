"""Secrets stay out of errors; hostile ids and names stay inside their path segment.

(DOCKER_TLS_VERIFY / DOCKER_CERT_PATH semantics are pinned in
tests/unit/transport/test_endpoint.py, ``tls_from_env``.)
"""

from __future__ import annotations

import base64
import json

import pytest

from aiodocker.exceptions import DockerError
from tests.fakedaemon import Request, http_response

PASSWORD = "hunter2-s3cret"
TOKEN = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0.sig"


def echo(status: int, content_type: str):
    """A daemon that echoes what it was sent (headers and body) in its answer."""

    def handler(request: Request):
        auth = request.headers.get("x-registry-auth", "")
        decoded = base64.urlsafe_b64decode(auth + "==").decode() if auth else ""
        if content_type == "application/json":
            body = json.dumps({"message": f"denied for {decoded} {request.body.decode()}"})
        else:
            body = f"<html>Authorization: Bearer {TOKEN} {decoded} {request.body.decode()}</html>"
        return http_response(status, body.encode(), headers={"Content-Type": content_type})

    return handler


CREDENTIALS = {"username": "me", "password": PASSWORD, "identitytoken": TOKEN}


@pytest.mark.parametrize("status", [200, 401, 500])
@pytest.mark.parametrize("content_type", ["application/json", "text/html"])
async def test_credentials_never_appear_in_error_str_or_repr(run_case, status, content_type):
    async def scenario(docker):
        await docker.auth(**CREDENTIALS)

    outcome = await run_case(echo(status, content_type), scenario)
    if status == 200 and content_type == "application/json":
        assert outcome.error is None  # an object: the daemon's answer
        return
    assert isinstance(outcome.error, DockerError)
    for text in (str(outcome.error), repr(outcome.error)):
        assert PASSWORD not in text and TOKEN not in text


HOSTILE = ["a/b", "../images/json", "x?all=1", "x#frag", "100%", "a\x00b", "a\nHost: evil", "a\r\nX: y"]


@pytest.mark.parametrize("name", HOSTILE)
async def test_hostile_ids_stay_in_their_path_segment(run_case, name):
    outcome = await run_case(
        lambda request: http_response(200, {"Id": "x"}),
        lambda docker: docker.containers.container(name).show(),
    )
    assert outcome.error is None
    (request,) = outcome.requests
    assert request.target.startswith("/v1.41/containers/") and request.target.endswith("/json")
    segment = request.target[len("/v1.41/containers/") : -len("/json")]
    assert "/" not in segment and "?" not in segment and "#" not in segment
    assert not any(c in segment for c in "\x00\r\n ")
    assert set(request.headers) == {"host"}


@pytest.mark.parametrize("name", ["..", ".", ""])
async def test_relative_segments_are_refused_before_sending(run_case, name):
    outcome = await run_case(
        lambda request: http_response(200, {"Id": "x"}),
        lambda docker: docker.containers.container(name).show(),
    )
    assert isinstance(outcome.error, ValueError)
    assert outcome.requests == []


async def test_hostile_query_values_are_encoded_not_injected(run_case):
    outcome = await run_case(
        lambda request: http_response(200, []),
        lambda docker: docker.images.list(filter="x&all=1#\r\nHost: evil"),
    )
    (request,) = outcome.requests
    assert "\r" not in request.target and "\n" not in request.target
    assert "&all=1" not in request.target and "#" not in request.target
