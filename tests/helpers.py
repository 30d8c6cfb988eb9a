"""Small helpers shared by the integration tests (importable as ``helpers``)."""

from __future__ import annotations

import contextlib
import ctypes
import io
import os
import socket
import ssl
import tarfile
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from testenv import require

import aiodocker
from aiodocker._transport.endpoint import TLSConfig
from aiodocker._transport.tls import make_ssl_context
from aiodocker.containers import DockerContainer
from aiodocker.exceptions import DockerNotFoundError


def tar_of(files: dict[str, bytes], *, mode: int = 0o644) -> bytes:
    """An uncompressed tar holding ``files`` (name -> content), each with ``mode``."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = mode
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.fixture(autouse=True, name="docker_config")
def isolated_docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The fixture ``docker_config``: an empty DOCKER_CONFIG, no credentials from ~/.docker.

    Autouse in every module that imports it.
    """
    config_dir = tmp_path / "docker-config"
    config_dir.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(config_dir))
    return config_dir


CLIENT_ENV_VARS = (
    "DOCKER_HOST",
    "DOCKER_CONTEXT",
    "DOCKER_TLS_VERIFY",
    "DOCKER_CERT_PATH",
    "DOCKER_TLS",
    "DOCKER_API_VERSION",
    "AIODOCKER_SSH_OPTS",
)


@pytest.fixture(autouse=True)
def clean_client_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset the variables that choose and configure the daemon (not DOCKER_CONFIG).

    Autouse in every module that imports it; a test sets what it is about.
    """
    for name in CLIENT_ENV_VARS:
        monkeypatch.delenv(name, raising=False)


def tls_files(testenv: dict[str, Any]) -> dict[str, str]:
    """The paths of the test environment's TLS client material: ``ca``, ``cert``, ``key``."""
    base = Path(testenv["tls_cert_path"])
    return {"ca": str(base / "ca.pem"), "cert": str(base / "cert.pem"), "key": str(base / "key.pem")}


def tls_context(testenv: dict[str, Any]) -> ssl.SSLContext:
    """A caller's SSL context for the TLS daemon: its CA, the client certificate and key."""
    files = tls_files(testenv)
    return make_ssl_context(TLSConfig(ca=files["ca"], cert=files["cert"], key=files["key"]))


def use_tls_env(testenv: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> str:
    """Point DOCKER_TLS_VERIFY and DOCKER_CERT_PATH at the client material; return the TLS URL."""
    monkeypatch.setenv("DOCKER_TLS_VERIFY", "1")
    monkeypatch.setenv("DOCKER_CERT_PATH", testenv["tls_cert_path"])
    url: str = testenv["tls_url"]
    return url


def use_ssh_config(testenv: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> str:
    """Let ssh read the test environment's ssh config; return the URL of its host alias.

    The config also covers ``testenv["ssh_url"]`` (user, host and port spelled out).
    """
    monkeypatch.setenv("AIODOCKER_SSH_OPTS", f"-F {testenv['ssh_config']}")
    return f"ssh://{testenv['ssh_host_alias']}"


def client_over(
    transport: str, testenv: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> aiodocker.Docker:
    """A client of the main daemon over ``transport``: ``unix``, ``tls`` or ``ssh``."""
    if transport == "unix":
        return aiodocker.Docker(url=f"unix://{testenv['unix_socket']}")
    if transport == "tls":
        return aiodocker.Docker(url=require("tls"), ssl_context=tls_context(testenv))
    use_ssh_config(testenv, monkeypatch)
    return aiodocker.Docker(url=require("ssh"))


def ssh_processes(caplog: pytest.LogCaptureFixture) -> tuple[list[str], list[str]]:
    """The ``aiodocker.ssh`` records of ssh processes started, and of those that exited."""
    messages = [r.getMessage() for r in caplog.records if r.name == "aiodocker.ssh"]
    started = [m for m in messages if m.startswith("started ssh (pid ")]
    exited = [m for m in messages if " exited with status " in m]
    return started, exited


async def create_container(
    docker: aiodocker.Docker, name: str, config: dict[str, Any], *, start: bool = True
) -> DockerContainer:
    container = await docker.containers.create(config, name=name)
    if start:
        await container.start()
    return container


async def remove_images(docker: aiodocker.Docker, *refs: str) -> None:
    """Remove the images ``refs`` (forced); one that is not there is no error."""
    for ref in refs:
        try:
            await docker.images.delete(ref, force=True)
        except DockerNotFoundError:
            pass


async def remove_container(container: DockerContainer) -> None:
    try:
        await container.delete(force=True)
    except DockerNotFoundError:
        pass


CLONE_NEWNET = 0x40000000


def loopback_listener(netns: str | None) -> socket.socket:
    """A TCP socket listening on 127.0.0.1 of the network namespace ``netns``.

    None is the test process's own.  A socket stays in the namespace it was made
    in, so a short-lived thread enters ``/run/netns/NETNS`` (setns affects only the
    calling thread; needs root), makes the socket and ends.
    """

    def listen() -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        return sock

    if netns is None:
        return listen()
    made: list[socket.socket] = []
    failed: list[BaseException] = []

    def in_netns() -> None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            with open(f"/run/netns/{netns}", "rb") as handle:
                if libc.setns(handle.fileno(), CLONE_NEWNET) != 0:
                    error = ctypes.get_errno()
                    raise OSError(error, f"setns into {netns}: {os.strerror(error)}")
            made.append(listen())
        except BaseException as exc:
            failed.append(exc)

    thread = threading.Thread(target=in_netns, name=f"setns-{netns}")
    thread.start()
    thread.join()
    if failed:
        raise failed[0]
    return made[0]


@contextlib.asynccontextmanager
async def serve_to_engine(netns: str | None, app: web.Application) -> AsyncIterator[str]:
    """Serve ``app`` where an engine in ``netns`` reaches it; yield its base URL.

    The URL is ``http://127.0.0.1:PORT`` on the engine's loopback: the daemons
    treat a loopback registry or index as insecure (plain HTTP) by default.
    """
    sock = loopback_listener(netns)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        await web.SockSite(runner, sock).start()
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        await runner.cleanup()
        sock.close()


def plugin_options() -> list[str]:
    """The pytest options that load aiodocker's pytest plugin in a pytester run.

    An installed package (``pip install -e .``, as scripts/test.sh does) loads it through
    its ``pytest11`` entry point, and a ``-p`` for the same module would register it a
    second time under another name, which pytest refuses; from a bare checkout it loads
    only with ``-p``.
    """
    from importlib.metadata import distributions

    module = "aiodocker.testing.pytest_plugin"
    # every distribution, as pytest loads them: a checkout's stale aiodocker.egg-info
    # may stand before the installed one of the same name
    for dist in distributions():
        if any(ep.group == "pytest11" and ep.value == module for ep in dist.entry_points):
            return []
    return ["-p", module]
