"""Logging and request hooks against the real daemons: what is recorded, and what never is."""

from __future__ import annotations

import base64
import collections
import hashlib
import json
import logging
import re
import subprocess
import sys
import uuid
from typing import Any

import aiohttp
import pytest
from helpers import ssh_processes, use_ssh_config, use_tls_env

import aiodocker
from aiodocker.exceptions import DockerError
from aiodocker.hooks import RequestHooks, RequestInfo, RequestResult
from tests.testenv import require

SECRET_ENV = "OBS_TOKEN=env-secret-4711"


def texts(records: list[logging.LogRecord]) -> str:
    """Everything a handler could print of the records: messages, args, exceptions."""
    parts = []
    for record in records:
        parts.append(record.getMessage())
        parts.append(repr(record.args))
        if record.exc_info and record.exc_info[1] is not None:
            parts.append(repr(record.exc_info[1]))
    return "\n".join(parts)


def request_lines(records: list[logging.LogRecord]) -> list[str]:
    return [r.getMessage() for r in records if r.name == "aiodocker.request"]


class Metrics(RequestHooks):
    """The docs' example: a counter of requests by method and status, plus totals."""

    def __init__(self) -> None:
        self.requests: collections.Counter[tuple[str, int]] = collections.Counter()
        self.errors = 0
        self.bytes_in = 0
        self.ends: list[tuple[RequestInfo, RequestResult]] = []

    def on_request_end(self, request: RequestInfo, result: RequestResult) -> None:
        self.requests[(request.method, result.status)] += 1
        self.bytes_in += result.bytes_received
        self.ends.append((request, result))

    def on_request_error(self, request: RequestInfo, error: BaseException, duration: float) -> None:
        self.errors += 1


# --- a container run, logged --------------------------------------------------------


async def test_a_container_run_logs_each_request_at_debug_and_never_the_env_values(
    docker, image, make_name, caplog
):
    with caplog.at_level(logging.DEBUG, logger="aiodocker"):
        container = await docker.containers.create(
            {
                "Image": image,
                "Cmd": ["sh", "-c", "echo hello; echo oops >&2"],
                "Env": [SECRET_ENV],
                "AttachStdout": True,
                "AttachStderr": True,
            },
            name=make_name("obs-run"),
        )
        try:
            async with container.attach(stdout=True, stderr=True, logs=True) as stream:
                await container.start()
                output = [message async for message in stream]
            assert {m.data for m in output} == {b"hello\n", b"oops\n"}
            assert (await container.wait())["StatusCode"] == 0
            assert sorted(await container.log(stdout=True, stderr=True)) == ["hello\n", "oops\n"]
        finally:
            await container.delete(force=True)
    lines = request_lines(caplog.records)
    cid, v = container.id, docker.api_version
    for expected in (
        f"POST /{v}/containers/create?name=",
        f"POST /{v}/containers/{cid}/start -> 204 eof",
        f"POST /{v}/containers/{cid}/attach?",
        f"POST /{v}/containers/{cid}/wait -> 200",
        f"GET /{v}/containers/{cid}/logs?",
        f"DELETE /{v}/containers/{cid}?force=1 -> 204 eof",
    ):
        assert any(line.startswith(expected) for line in lines), (expected, lines)
    attach = [line for line in lines if "/attach?" in line]
    assert "stream open (hijacked)" in attach[0]
    assert "stream closed (hijacked, eof)" in attach[1] and "B in" in attach[1]
    create = next(line for line in lines if "/containers/create" in line)
    assert " -> 201 eof in " in create and " B out, " in create
    assert "env-secret-4711" not in texts(caplog.records)
    assert not [r for r in caplog.records if r.levelno >= logging.INFO]


@pytest.mark.engine_difference(
    ("podman", "podman5"), "podman's POST /auth pings the plain-http test registry over https"
)
async def test_registry_credentials_never_appear_in_any_record(docker, image, make_name, caplog):
    registry = require("registry")
    user, password = require("registry_user"), require("registry_password")
    auth = {"username": user, "password": password, "serveraddress": registry}
    header = base64.urlsafe_b64encode(json.dumps(auth).encode()).decode()
    ref = f"{registry}/{make_name('obs')}:v1"
    await docker.images.tag(image, ref.rpartition(":")[0], tag="v1")
    try:
        with caplog.at_level(logging.DEBUG, logger="aiodocker"):
            assert (await docker.auth(**auth))["Status"]
            await docker.images.push(ref, auth=auth)
            await docker.images.pull(ref, auth=auth)
            with pytest.raises(DockerError):
                await docker.images.pull(
                    ref, auth={**auth, "password": "wrong-" + password, "identitytoken": "idtok-99"}
                )
    finally:
        await docker.images.delete(ref, force=True)
    recorded = texts(caplog.records)
    assert "/auth -> 200" in recorded and "/images/create?" in recorded
    for secret in (password, header, "idtok-99", base64.b64encode(password.encode()).decode()):
        assert secret not in recorded


# --- hooks ----------------------------------------------------------------------------


async def test_hooks_feed_a_metrics_counter_and_see_a_stream_end_when_it_ends(
    testenv, image, make_name
):
    metrics = Metrics()
    async with aiodocker.Docker(url=f"unix://{testenv['unix_socket']}", hooks=metrics) as docker:
        await docker.containers.list()
        with pytest.raises(DockerError):
            await docker.containers.get("obs-" + make_name("absent"))
        container = await docker.containers.run(
            {"Image": image, "Cmd": ["sh", "-c", "echo one; sleep 0.3; echo two"]},
            name=make_name("obs-hooks"),
        )
        try:
            lines = []
            async for line in container.log(stdout=True, follow=True):
                lines.append(line)
                if len(lines) == 1:
                    # log() inspected the container first; its stream has not ended yet
                    assert not [r for r, _ in metrics.ends if "/logs" in r.path]
            assert lines == ["one\n", "two\n"]
            request, result = metrics.ends[-1]
            assert "/logs?" in request.path and result.stream and result.end == "eof"
            assert result.bytes_received == 2 * (8 + 4)  # two multiplexed frames
            assert result.duration >= 0.2
        finally:
            await container.delete(force=True)
    assert metrics.requests[("GET", 200)] >= 3
    assert metrics.requests[("GET", 404)] == 1
    assert metrics.requests[("DELETE", 204)] == 1
    assert metrics.errors == 0 and metrics.bytes_in > 0


async def test_hooks_make_opentelemetry_spans_with_http_semantic_attributes(testenv, make_name):
    pytest.importorskip("opentelemetry.sdk")
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import SpanKind, StatusCode

    from aiodocker.otel import OpenTelemetryHooks

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    socket = testenv["unix_socket"]
    async with aiodocker.Docker(
        url=f"unix://{socket}", hooks=OpenTelemetryHooks(tracer_provider=provider)
    ) as docker:
        await docker.system.info()
        with pytest.raises(DockerError):
            await docker.volumes.get(make_name("absent"))
        v = docker.api_version
    spans = exporter.get_finished_spans()
    info = next(s for s in spans if s.attributes["url.path"] == f"/{v}/info")
    assert info.name == "GET" and info.kind == SpanKind.CLIENT
    assert info.attributes["http.request.method"] == "GET"
    assert info.attributes["http.response.status_code"] == 200
    assert info.attributes["url.full"] == f"unix://{socket}/{v}/info"
    assert info.attributes["network.transport"] == "unix"
    assert info.attributes["network.peer.address"] == socket
    assert info.attributes["http.response.body.size"] > 100
    assert info.status.status_code == StatusCode.UNSET
    missing = next(s for s in spans if s.attributes["http.response.status_code"] == 404)
    assert missing.attributes["error.type"] == "404"
    assert missing.status.status_code == StatusCode.ERROR


@pytest.mark.parametrize("transport", ["unix", "tls", "ssh", "aiohttp session"])
async def test_hooks_work_the_same_on_every_transport(transport, testenv, monkeypatch):
    kwargs: dict[str, Any] = {}
    session = None
    if transport == "unix":
        url = f"unix://{testenv['unix_socket']}"
    elif transport == "tls":
        url = use_tls_env(testenv, monkeypatch)
    elif transport == "ssh":
        url = use_ssh_config(testenv, monkeypatch)
    else:
        url = f"unix://{testenv['unix_socket']}"
        session = aiohttp.ClientSession(connector=aiohttp.UnixConnector(testenv["unix_socket"]))
        kwargs["session"] = session
    metrics = Metrics()
    try:
        async with aiodocker.Docker(url=url, hooks=metrics, **kwargs) as docker:
            info = await docker.system.info()
            async with docker.events.stream(until="1") as events:
                assert [e async for e in events] == []
            v = docker.api_version
    finally:
        if session is not None:
            await session.close()
    paths = [(request.path.partition("?")[0], result.status) for request, result in metrics.ends]
    assert paths == [("/version", 200), (f"/{v}/info", 200), (f"/{v}/events", 200)]
    _, info_result = metrics.ends[1]
    assert info_result.end == "eof" and info_result.bytes_received >= len(json.dumps(info)) // 2
    assert metrics.ends[2][1].stream and metrics.ends[2][1].end == "eof"


async def test_a_callers_aiohttp_session_keeps_its_trace_configs(testenv):
    seen: list[tuple[str, str, int]] = []

    async def on_end(session: Any, context: Any, params: aiohttp.TraceRequestEndParams) -> None:
        seen.append((params.method, params.url.path, params.response.status))

    trace = aiohttp.TraceConfig()
    trace.on_request_end.append(on_end)
    session = aiohttp.ClientSession(
        connector=aiohttp.UnixConnector(testenv["unix_socket"]), trace_configs=[trace]
    )
    metrics = Metrics()
    try:
        async with aiodocker.Docker(
            url=f"unix://{testenv['unix_socket']}", session=session, hooks=metrics
        ) as docker:
            await docker.system.info()
            v = docker.api_version
    finally:
        await session.close()
    assert ("GET", f"/{v}/info", 200) in seen
    assert [r.status for _, r in metrics.ends] == [200, 200]


# --- transport records ----------------------------------------------------------------


async def test_tls_handshake_and_pool_events_are_logged(testenv, monkeypatch, caplog):
    url = use_tls_env(testenv, monkeypatch)
    with caplog.at_level(logging.DEBUG, logger="aiodocker"):
        async with aiodocker.Docker(url=url) as docker:
            await docker.version()
            await docker.version()
    transport = [r.getMessage() for r in caplog.records if r.name == "aiodocker.transport"]
    host_port = testenv["tls_url"].removeprefix("tcp://")
    assert any(m.startswith(f"TLS handshake with https://{host_port} done: TLSv1.") for m in transport)
    assert any(m.startswith("dialed a connection to") for m in transport)
    assert any(m.startswith("reusing a connection to") for m in transport)
    assert not [r for r in caplog.records if r.levelno >= logging.INFO]


async def test_ssh_process_start_and_exit_are_logged(testenv, monkeypatch, caplog):
    with caplog.at_level(logging.DEBUG, logger="aiodocker.ssh"):
        async with aiodocker.Docker(url=use_ssh_config(testenv, monkeypatch)) as docker:
            docker._api.transport._dial.forward = False  # type: ignore[attr-defined]
            await docker.version()
    started, exited = ssh_processes(caplog)
    assert started and "docker system dial-stdio" in started[0]
    assert len(exited) == len(started)


async def test_the_ssh_master_and_its_forwarded_socket_are_logged(testenv, monkeypatch, caplog):
    url = use_ssh_config(testenv, monkeypatch)
    with caplog.at_level(logging.DEBUG, logger="aiodocker.ssh"):
        async with aiodocker.Docker(url=url) as docker:
            await docker.version()
    messages = [r.getMessage() for r in caplog.records if r.name == "aiodocker.ssh"]
    assert any(m.startswith("started an ssh master to ssh://") for m in messages)
    [forwarding] = [m for m in messages if m.startswith("forwarding ")]
    assert forwarding.endswith(f"to {testenv['unix_socket']} on {url}")
    assert not [m for m in messages if m.startswith("started ssh (pid ")]


# --- python -m aiodocker --debug --------------------------------------------------------


def run_cli(*args: str, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "aiodocker", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def test_debug_flag_logs_the_diagnostics_requests_to_stderr(testenv):
    done = run_cli("-H", f"unix://{testenv['unix_socket']}", "--debug", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["transport"] == "unix"
    version = json.loads(done.stdout)["api_version"]
    assert f"aiodocker.request DEBUG: GET /{version}/info -> 200" in done.stderr
    assert "aiodocker.docker DEBUG: negotiated API" in done.stderr
    quiet = run_cli("-H", f"unix://{testenv['unix_socket']}", "--json")
    assert quiet.returncode == 0 and "DEBUG" not in quiet.stderr


def test_debug_flag_after_pull_logs_the_pull_stream(testenv, image):
    done = run_cli("-H", f"unix://{testenv['unix_socket']}", "pull", image, "--debug")
    # the test image exists only locally: the pull reaches the daemon and fails there
    assert re.search(r"aiodocker.request DEBUG: POST /v1\.\d+/images/create\?fromImage=", done.stderr)


def test_debug_flag_after_build_logs_the_build_and_its_session_but_no_secret(tmp_path):
    pytest.importorskip("h2", reason="BuildKit sessions need the buildkit extra")
    docker26 = require("docker26")
    secret = f"build-secret-{uuid.uuid4().hex}"
    root = tmp_path / "ctx"
    root.mkdir()
    (root / "Dockerfile").write_text(
        "FROM aiodocker-test/busybox:latest\n"
        f"RUN --mount=type=secret,id=s sha256sum /run/secrets/s # {uuid.uuid4().hex}\n"
    )
    args = ["-H", docker26["host"], "build", str(root), "--progress", "plain"]
    args += ["--secret", "id=s,env=OBS_BUILD_SECRET", "--debug"]
    done = run_cli(*args, env_extra={"OBS_BUILD_SECRET": secret})
    assert done.returncode == 0, done.stderr
    assert hashlib.sha256(secret.encode()).hexdigest() in done.stdout  # the secret was served
    version = docker26["api_version"]
    assert re.search(rf"aiodocker.request DEBUG: POST /v{version}/session -> 101", done.stderr)
    assert re.search(rf"aiodocker.request DEBUG: POST /v{version}/build\?\S* -> 200", done.stderr)
    assert secret not in done.stdout + done.stderr


async def test_bytes_read_through_response_content_are_counted(testenv, image):
    metrics = Metrics()
    async with aiodocker.Docker(url=f"unix://{testenv['unix_socket']}", hooks=metrics) as docker:
        async with docker.images.export_image(image) as content:
            data = await content.read()
    request, result = metrics.ends[-1]
    assert request.path.endswith("/get") and result.end == "eof"
    assert result.bytes_received == len(data) > 100_000
