"""Secrets stay out of errors; hostile ids and names stay inside their path segment.

(DOCKER_TLS_VERIFY / DOCKER_CERT_PATH semantics are pinned in
tests/unit/transport/test_endpoint.py, ``tls_from_env``.)
"""

from __future__ import annotations

import base64
import json
import logging
from urllib.parse import unquote

import pytest

from aiodocker.exceptions import DockerError
from aiodocker.hooks import RequestHooks, RequestInfo, RequestResult
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


# --- request injection: the request head is checked where it is written ---------------

TRANSPORTS = [pytest.param(False, id="engine"), pytest.param(True, id="aiohttp")]
SMUGGLE = "info HTTP/1.1\r\nX-Evil: 1\r\n\r\nGET /x"


def assert_one_clean_request(requests, *, forbidden: str) -> Request:
    """Exactly one request arrived, and no header or request line came from injected text."""
    (request,) = requests
    lines = request.raw_head.split(b"\r\n")
    assert lines[0].count(b" ") == 2  # METHOD SP target SP HTTP/1.1: nothing else
    assert forbidden.lower() not in request.headers
    assert not any(line.lower().startswith(forbidden.lower().encode()) for line in lines)
    return request


@pytest.mark.parametrize("through_aiohttp", TRANSPORTS)
async def test_a_header_value_with_a_line_break_is_refused_and_nothing_is_sent(
    run_case, through_aiohttp
):
    outcome = await run_case(
        lambda request: http_response(200, b'{"stream":"ok"}\n'),
        lambda docker: docker.images.build(
            fileobj=b"x" * 10, tag="t", encoding="gzip\r\nX-Injected: 1"
        ),
        through_aiohttp=through_aiohttp,
    )
    assert isinstance(outcome.error, ValueError)
    assert "Content-Encoding" in str(outcome.error)
    assert outcome.requests == []


@pytest.mark.parametrize("through_aiohttp", TRANSPORTS)
@pytest.mark.parametrize(
    ("headers", "named"),
    [
        ({"X-A": "1\nX-Injected: 1"}, "X-A"),
        ({"X-A": "1\x00"}, "X-A"),
        ({"X-A: 1\r\nX-Injected": "1"}, "X-A: 1"),
        ({"X A": "1"}, "X A"),
    ],
)
async def test_query_headers_that_would_inject_are_refused(run_case, through_aiohttp, headers, named):
    async def scenario(docker):
        async with docker._query("info", headers=headers) as response:
            return response.status

    outcome = await run_case(
        lambda request: http_response(200, {}), scenario, through_aiohttp=through_aiohttp
    )
    assert isinstance(outcome.error, ValueError)
    assert named in str(outcome.error)
    assert outcome.requests == []


@pytest.mark.parametrize("through_aiohttp", TRANSPORTS)
async def test_a_smuggled_second_request_in_a_query_path_stays_one_request(
    run_case, through_aiohttp
):
    outcome = await run_case(
        lambda request: http_response(404, {"message": "page not found"}),
        lambda docker: docker._query_json(SMUGGLE),
        through_aiohttp=through_aiohttp,
    )
    assert isinstance(outcome.error, DockerError) and outcome.error.status == 404
    request = assert_one_clean_request(outcome.requests, forbidden="X-Evil")
    assert request.target.startswith("/v1.41/info%20HTTP/1.1")


@pytest.mark.parametrize("through_aiohttp", TRANSPORTS)
@pytest.mark.parametrize("path", ["containers/a b/json", "containers/caf\u00e9/json", "x/a\x00b"])
async def test_query_paths_are_percent_encoded_as_0_27_did(run_case, through_aiohttp, path):
    from yarl import URL  # 0.27 built its URLs with yarl: its encoding is the reference

    async def scenario(docker):
        async with docker._query(path) as response:
            return response.status

    outcome = await run_case(
        lambda request: http_response(200, {}), scenario, through_aiohttp=through_aiohttp
    )
    assert outcome.value == 200
    request = assert_one_clean_request(outcome.requests, forbidden="X-Evil")
    assert request.target == URL(f"http://localhost/v1.41/{path}").raw_path


@pytest.mark.parametrize("through_aiohttp", TRANSPORTS)
@pytest.mark.parametrize(
    ("method", "path", "problem"),
    [
        ("GET", "containers/a b/json", "request target"),
        ("GET", "info\r\nX-Evil: 1", "request target"),
        ("GET", "info\x7f", "request target"),
        ("GET", "caf\u00e9", "request target"),
        ("GET /x HTTP/1.1\r\nX-Evil: 1\r\n\r\nGET", "info", "HTTP method"),
    ],
)
async def test_the_transport_refuses_a_target_or_method_that_would_break_the_request_line(
    run_case, through_aiohttp, method, path, problem
):
    outcome = await run_case(
        lambda request: http_response(200, {}),
        lambda docker: docker._api.request(method, path),
        through_aiohttp=through_aiohttp,
    )
    assert isinstance(outcome.error, ValueError)
    assert problem in str(outcome.error)
    assert outcome.requests == []


async def test_a_context_directory_name_with_a_newline_does_not_inject_a_session_header(
    run_case, tmp_path
):
    pytest.importorskip("h2")
    from aiodocker import buildkit

    context = tmp_path / "ctx\r\nX-Evil: 1"
    context.mkdir()
    (context / "Dockerfile").write_text("FROM scratch\n")

    def handler(request: Request):
        return http_response(500, {"message": "no session here"})

    outcome = await run_case(
        handler,
        lambda docker: buildkit.build(docker, path=str(context), context_sync=True),
    )
    assert isinstance(outcome.error, DockerError)
    request = assert_one_clean_request(outcome.requests, forbidden="X-Evil")
    assert request.target == "/v1.41/session"
    assert request.headers["x-docker-expose-session-name"] == "ctx%0D%0AX-Evil: 1"


# --- environment values given as Dockerfile instructions stay out of every record ------

ENV_SECRET = "pg-pw-93f1c2"
CHANGES = [f"ENV DB_PASSWORD={ENV_SECRET}", 'CMD ["/bin/sh"]']


class Recorder(RequestHooks):
    """Everything request hooks get to see, as text."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def on_request_start(self, request: RequestInfo) -> None:
        self.seen.append(repr(request))

    def on_request_end(self, request: RequestInfo, result: RequestResult) -> None:
        self.seen += [repr(request), repr(result)]

    def on_request_error(self, request: RequestInfo, error: BaseException, duration: float) -> None:
        self.seen += [repr(request), str(error), repr(error)]


def commit(docker):
    return docker.containers.container("c1").commit(repository="app", changes=CHANGES)


def import_image(docker):
    return docker.images.import_from(b"not really a tar", repo="app", changes=CHANGES)


def create(docker):  # the environment goes in the body, which no record shows
    return docker.containers.create({"Image": "app", "Env": [f"DB_PASSWORD={ENV_SECRET}"]})


ANSWERS = {
    "ok": lambda request: http_response(
        200, b'{"status":"sha256:1"}\n'
    )
    if "images/create" in request.target
    else http_response(201, {"Id": "sha256:1", "Warnings": []}),
    "error": lambda request: http_response(500, {"message": "commit failed"}),
    "redirect": lambda request: http_response(302, b"", headers={"Location": "/elsewhere"}),
    "cut": lambda request: None,
}


@pytest.mark.parametrize("answer", sorted(ANSWERS))
@pytest.mark.parametrize(
    "call", [commit, import_image, create], ids=["commit", "import", "create"]
)
@pytest.mark.parametrize("through_aiohttp", TRANSPORTS)
async def test_changes_never_appear_in_logs_hooks_spans_or_errors(
    run_case, caplog, through_aiohttp, call, answer
):
    pytest.importorskip("opentelemetry.sdk")
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from aiodocker.otel import OpenTelemetryHooks

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    recorder = Recorder()
    caplog.set_level(logging.DEBUG, logger="aiodocker")
    outcome = await run_case(
        ANSWERS[answer],
        call,
        through_aiohttp=through_aiohttp,
        hooks=[recorder, OpenTelemetryHooks(tracer_provider=provider)],
    )
    (request,) = outcome.requests
    # the daemon got it, so the checks below can fail
    assert ENV_SECRET in unquote(request.target) or ENV_SECRET.encode() in request.body
    assert (outcome.error is None) == (answer == "ok")
    spans = exporter.get_finished_spans()
    assert len(spans) == 1
    if call is not create:  # the secret is in the query: redacted, not dropped
        assert "REDACTED" in str(spans[0].attributes["url.full"])
    texts = [
        *(record.getMessage() for record in caplog.records),
        *recorder.seen,
        *(str(value) for span in spans for value in span.attributes.values()),
        *(str(event.attributes) for span in spans for event in span.events),
        str(outcome.error),
        repr(outcome.error),
        repr(outcome.value),
    ]
    assert caplog.records and recorder.seen
    for text in texts:
        assert ENV_SECRET not in text and ENV_SECRET not in unquote(text), text


@pytest.mark.parametrize("through_aiohttp", TRANSPORTS)
async def test_a_websocket_target_that_would_break_the_request_line_is_refused(
    run_case, through_aiohttp
):
    outcome = await run_case(
        lambda request: http_response(400, {"message": "no"}),
        lambda docker: docker._api.websocket("containers/a b/attach/ws"),
        through_aiohttp=through_aiohttp,
    )
    assert isinstance(outcome.error, ValueError) and "request target" in str(outcome.error)
    assert outcome.requests == []


@pytest.mark.parametrize("through_aiohttp", TRANSPORTS)
async def test_the_websocket_helper_percent_encodes_its_path_as_0_27_did(run_case, through_aiohttp):
    from yarl import URL

    outcome = await run_case(
        lambda request: http_response(400, {"message": "no websocket here"}),
        lambda docker: docker._websocket("containers/a b/attach/ws"),
        through_aiohttp=through_aiohttp,
    )
    assert isinstance(outcome.error, DockerError) and outcome.error.status == 400
    (request,) = outcome.requests
    assert request.target.partition("?")[0] == URL("http://h/v1.41/containers/a b/attach/ws").raw_path
