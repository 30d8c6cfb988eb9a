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


@pytest.mark.parametrize("command", [["--json"], ["--json", "pull", "registry.example:5000/app:1"]])
async def test_cli_output_never_shows_credentials(tmp_path, command):
    import asyncio
    import os
    import sys

    from tests.fakedaemon import FakeDaemon

    config = tmp_path / "config"
    config.mkdir()
    auth = base64.b64encode(f"me:{PASSWORD}".encode()).decode()
    (config / "config.json").write_text(
        json.dumps({"auths": {"registry.example:5000": {"auth": auth, "identitytoken": TOKEN}}})
    )

    def handler(request: Request):
        if request.target.endswith("/version"):
            return http_response(200, {"ApiVersion": "1.41", "Version": "20.10", "Os": "linux"})
        if request.target.endswith("/info"):
            return http_response(200, {"Containers": 0, "Swarm": {}})
        return echo(500, "application/json")(request)

    path = str(tmp_path / "d.sock")
    daemon = await FakeDaemon(path, handler).start()
    try:
        env = {**os.environ, "DOCKER_CONFIG": str(config), "DOCKER_API_VERSION": "1.41"}
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "aiodocker", "-H", f"unix://{path}", *command,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
        )
        out, err = await asyncio.wait_for(process.communicate(), 60)
    finally:
        await daemon.stop()
    text = (out + err).decode()
    if "pull" in command:
        assert process.returncode == 1 and "registry.example:5000/app:1" in text
        assert "<redacted>" in text  # the daemon echoed them, the client hid them
        assert any("x-registry-auth" in r.headers for r in daemon.requests)  # it was sent
    else:
        assert process.returncode == 0 and json.loads(out)["daemon_api_version"] == "1.41"
    assert PASSWORD not in text and TOKEN not in text and auth not in text
