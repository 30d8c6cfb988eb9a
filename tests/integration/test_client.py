"""The client core against the real daemon over every transport."""

from __future__ import annotations

import hashlib
import json
import shutil
import ssl
from pathlib import Path

import pytest
from helpers import (  # noqa: F401 (the two fixtures are autouse)
    clean_client_env,
    isolated_docker_config,
    tls_context,
    tls_files,
    use_ssh_config,
)

import aiodocker
from aiodocker._core.request import Shape
from aiodocker._transport.endpoint import TLSConfig
from aiodocker._transport.tls import make_ssl_context
from aiodocker.exceptions import DockerConnectionError, DockerError


def write_context(config_dir: Path, name: str, host: str, tls: dict[str, str] | None = None) -> None:
    digest = hashlib.sha256(name.encode()).hexdigest()
    meta = config_dir / "contexts" / "meta" / digest
    meta.mkdir(parents=True)
    (meta / "meta.json").write_text(
        json.dumps({"Name": name, "Metadata": {}, "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": False}}})
    )
    if tls:
        tls_dir = config_dir / "contexts" / "tls" / digest / "docker"
        tls_dir.mkdir(parents=True)
        for kind, path in tls.items():
            shutil.copy(path, tls_dir / f"{kind}.pem")


async def answers(docker: aiodocker.Docker) -> str:
    version = await docker.version()
    assert version["ApiVersion"]
    return docker.endpoint.source


# --- precedence, with every lower-priority source set and pointing elsewhere ---------


@pytest.fixture
def layered(docker_config, monkeypatch, testenv):
    """Every source set, each pointing at a different address; only some are alive."""
    config = docker_config  # DOCKER_CONFIG points at it
    write_context(config, "tls-ctx", testenv["tls_url"], tls_files(testenv))
    write_context(config, "env-ctx", "unix:///nonexistent/env-ctx.sock")
    write_context(config, "current-ctx", "unix:///nonexistent/current-ctx.sock")
    (config / "config.json").write_text(json.dumps({"currentContext": "current-ctx"}))
    monkeypatch.setenv("DOCKER_CONTEXT", "env-ctx")
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker-host.sock")
    return config


async def test_url_beats_every_other_source(layered, testenv):
    async with aiodocker.Docker(url=f"unix://{testenv['unix_socket']}", context="tls-ctx") as docker:
        assert await answers(docker) == "url"
        assert docker.endpoint.scheme == "unix"


async def test_context_argument_beats_docker_host_and_below(layered):
    async with aiodocker.Docker(context="tls-ctx") as docker:
        assert await answers(docker) == "context"
        assert docker.endpoint.scheme == "tcp" and docker.ssl_context is not None


async def test_docker_host_beats_docker_context_and_config(layered, monkeypatch, testenv):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{testenv['unix_socket']}")
    async with aiodocker.Docker() as docker:
        assert await answers(docker) == "DOCKER_HOST"


async def test_docker_context_beats_current_context(layered, monkeypatch):
    monkeypatch.delenv("DOCKER_HOST")
    monkeypatch.setenv("DOCKER_CONTEXT", "tls-ctx")
    async with aiodocker.Docker() as docker:
        assert await answers(docker) == "DOCKER_CONTEXT"


async def test_current_context_beats_auto_detection(layered, monkeypatch):
    monkeypatch.delenv("DOCKER_HOST")
    monkeypatch.delenv("DOCKER_CONTEXT")
    (layered / "config.json").write_text(json.dumps({"currentContext": "tls-ctx"}))
    async with aiodocker.Docker() as docker:
        assert await answers(docker) == "currentContext"
        assert docker.endpoint.context_name == "tls-ctx"


async def test_auto_detection_finds_the_real_socket_when_nothing_is_set(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    async with aiodocker.Docker() as docker:
        assert await answers(docker) == "auto-detect"
        assert docker.endpoint.tried[0] == "/var/run/docker.sock"


async def test_a_dead_higher_priority_source_is_never_skipped_silently(layered):
    async with aiodocker.Docker() as docker:  # DOCKER_HOST points at a missing socket
        with pytest.raises(DockerConnectionError, match="docker-host.sock"):
            await docker.version()


def test_missing_named_context_is_an_error_not_a_fallback(layered):
    with pytest.raises(aiodocker.DockerContextInvalidError) as info:
        aiodocker.Docker(context="no-such-context")
    assert info.value.context_name == "no-such-context"


# --- TLS ------------------------------------------------------------------------------


async def test_mutual_tls_via_environment_variables(monkeypatch, testenv):
    monkeypatch.setenv("DOCKER_HOST", testenv["tls_url"])
    monkeypatch.setenv("DOCKER_TLS_VERIFY", "1")
    monkeypatch.setenv("DOCKER_CERT_PATH", testenv["tls_cert_path"])
    async with aiodocker.Docker() as docker:
        assert docker.ssl_context is not None
        assert (await docker.version())["ApiVersion"]
        # a 200-container listing exercises more than one TLS record
        assert isinstance(await docker._api.call("GET", "containers/json", params={"all": True}, expect=Shape.OBJECTS), list)


async def test_mutual_tls_via_a_context(tmp_path, monkeypatch, testenv):
    write_context(tmp_path, "remote", testenv["tls_url"], tls_files(testenv))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    async with aiodocker.Docker(context="remote") as docker:
        assert await answers(docker) == "context"


async def test_mutual_tls_via_a_caller_ssl_context(testenv):
    async with aiodocker.Docker(url=testenv["tls_url"], ssl_context=tls_context(testenv)) as docker:
        assert (await docker.version())["ApiVersion"]


async def test_tls_port_without_client_certificate_is_refused(testenv):
    files = tls_files(testenv)
    context = make_ssl_context(TLSConfig(ca=files["ca"], cert=None, key=None))
    async with aiodocker.Docker(url=testenv["tls_url"], ssl_context=context) as docker:
        with pytest.raises(DockerError) as info:
            await docker.version()
    assert info.value.status in (900,) or "certificate" in info.value.message.lower()


async def test_plain_text_on_the_tls_port_fails_clearly(testenv):
    async with aiodocker.Docker(url=testenv["tls_url"]) as docker:
        assert docker.ssl_context is None
        with pytest.raises(DockerError) as info:
            await docker.version()
    assert info.value.status == 400
    assert "HTTPS" in info.value.message or "TLS" in info.value.message


async def test_wrong_ca_is_refused(tmp_path, testenv):
    context = ssl.create_default_context()  # system CAs do not know the test CA
    async with aiodocker.Docker(url=testenv["tls_url"], ssl_context=context) as docker:
        with pytest.raises(DockerConnectionError, match="TLS handshake"):
            await docker.version()


# --- ssh ------------------------------------------------------------------------------


async def test_ssh_reaches_the_daemon_through_the_ssh_config(testenv, monkeypatch):
    async with aiodocker.Docker(url=use_ssh_config(testenv, monkeypatch)) as docker:
        assert (await docker.version())["ApiVersion"]
        infos = [await docker._api.call("GET", "info", expect=Shape.OBJECT) for _ in range(5)]
        assert all(i["ID"] == infos[0]["ID"] for i in infos)


@pytest.mark.parametrize("forward", [True, False], ids=["forwarded-socket", "dial-stdio"])
async def test_ssh_reuses_connections_instead_of_one_process_per_request(testenv, monkeypatch, forward):
    async with aiodocker.Docker(url=use_ssh_config(testenv, monkeypatch)) as docker:
        dialer = docker._api.transport._dial  # type: ignore[attr-defined]
        dialer.forward = forward
        connections = set()
        for _ in range(10):
            await docker._api.call("GET", "info", expect=Shape.OBJECT)
            connections.update(docker._api.transport._idle)  # type: ignore[attr-defined]
        assert len(connections) == 1
        assert len(dialer._processes) == (0 if forward else 1)


async def test_ssh_refuses_an_unknown_host_key(testenv, tmp_path, monkeypatch):
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    monkeypatch.setenv(
        "AIODOCKER_SSH_OPTS",
        f"-i {testenv['ssh_identity']} -o UserKnownHostsFile={empty} -o GlobalKnownHostsFile={empty}",
    )
    async with aiodocker.Docker(url="ssh://root@localhost:2222") as docker:
        with pytest.raises(DockerConnectionError, match="Host key verification failed"):
            await docker.version()


# --- auth -------------------------------------------------------------------------------


@pytest.mark.engine_difference(
    ("podman", "podman5"),
    "podman's /auth ignores registries.conf and tries HTTPS against the plain-HTTP test registry",
)
async def test_auth_succeeds_with_good_credentials(docker, testenv):
    result = await docker.auth(
        username=testenv["registry_user"],
        password=testenv["registry_password"],
        serveraddress=testenv["registry"],
    )
    assert result["Status"] == "Login Succeeded"


async def test_auth_fails_with_bad_credentials_and_hides_the_password(docker, testenv):
    secret = "wrong-Pa55word-never-shown"
    with pytest.raises(DockerError) as info:
        await docker.auth(username=testenv["registry_user"], password=secret,
                          serveraddress=testenv["registry"])
    assert info.value.status in (401, 500)
    for text in (str(info.value), repr(info.value), info.value.message):
        assert secret not in text


async def test_version_over_unix_reports_the_daemon(docker):
    version = await docker.version()
    assert {"Version", "ApiVersion", "Os", "Arch", "KernelVersion"} <= version.keys()
    assert docker.api_version == "v" + min(version["ApiVersion"], "1.55")


async def test_close_leaves_no_ssh_process_behind(testenv, monkeypatch):
    """dial-stdio sessions end with close(); the forwarding master's end is in test_ssh_mux."""
    docker = aiodocker.Docker(url=use_ssh_config(testenv, monkeypatch))
    dialer = docker._api.transport._dial  # type: ignore[attr-defined]
    dialer.forward = False
    await docker.version()
    processes = list(dialer._processes)
    await docker.close()
    assert processes and all(p.returncode is not None for p in processes)


async def test_ssh_connector_of_aiodocker_reaches_the_daemon_and_cleans_up(testenv, monkeypatch):
    from aiodocker.ssh import SSHConnector

    monkeypatch.setenv("AIODOCKER_SSH_OPTS", f"-F {testenv['ssh_config']}")
    connector = SSHConnector("ssh://root@127.0.0.1:2222", strict_host_keys=False)
    try:
        async with aiodocker.Docker(connector=connector) as docker:
            assert (await docker.version())["ApiVersion"]
        assert not connector.closed  # the caller owns it
    finally:
        await connector.close()
    assert connector._process is None


async def test_exec_through_a_caller_connector_reads_output_and_half_closes(image, make_name):
    import aiohttp

    connector = aiohttp.UnixConnector("/var/run/docker.sock")
    try:
        async with aiodocker.Docker(url="unix:///var/run/docker.sock", connector=connector) as docker:
            container = await docker.containers.run(
                {"Image": image, "Cmd": ["sleep", "60"]}, name=make_name("aiohttp-exec")
            )
            try:
                exe = await container.exec(["cat"], stdin=True)
                async with exe.start() as stream:
                    await stream.write_in(b"through aiohttp\n")
                    await stream.write_eof()
                    out = b""
                    while (message := await stream.read_out()) is not None:
                        out += message.data
                assert out == b"through aiohttp\n"
                assert (await exe.inspect())["ExitCode"] == 0
            finally:
                await container.delete(force=True)
    finally:
        await connector.close()
