"""Dialers: open a byte stream to the daemon for a protocol object.

Layer: ``_transport``; imports the stdlib, ``aiodocker.exceptions`` and its
siblings. A dialer is ``async (factory) -> protocol``: it opens a unix socket,
a tcp connection (optionally TLS through :mod:`.tlsstream`), the stdio of an
``ssh ... docker system dial-stdio`` process, or a Windows named pipe.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shlex
import socket
import ssl
import sys
from collections.abc import Callable, Sequence
from typing import Final, TypeVar, cast

from .._compat import TimeoutError
from .._compat import timeout as timeout_after
from ..exceptions import DockerConnectionError
from .tlsstream import TLSTransport

P = TypeVar("P", bound=asyncio.Protocol)

TLS_LOG: Final = logging.getLogger("aiodocker.transport")
SSH_LOG: Final = logging.getLogger("aiodocker.ssh")

CONNECT_TIMEOUT: Final = 30.0
SSH_STDERR_LIMIT: Final = 4096


def _connect_error(address: str, exc: BaseException) -> DockerConnectionError:
    return DockerConnectionError(f"Cannot connect to Docker Engine via {address} [{exc}]")


class UnixDialer:
    def __init__(self, path: str) -> None:
        self.path = path

    async def __call__(self, factory: Callable[[], P]) -> P:
        loop = asyncio.get_running_loop()
        try:
            async with timeout_after(CONNECT_TIMEOUT):
                _, protocol = await loop.create_unix_connection(factory, self.path)
        except (OSError, TimeoutError) as exc:
            raise _connect_error(f"unix://{self.path}", exc) from exc
        return protocol


class TCPDialer:
    def __init__(self, host: str, port: int, ssl_context: ssl.SSLContext | None = None) -> None:
        self.host = host
        self.port = port
        self.ssl_context = ssl_context

    @property
    def address(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.ssl_context else 'tcp'}://{host}:{self.port}"

    async def __call__(self, factory: Callable[[], P]) -> P:
        loop = asyncio.get_running_loop()
        try:
            async with timeout_after(CONNECT_TIMEOUT):
                if self.ssl_context is None:
                    _, protocol = await loop.create_connection(factory, self.host, self.port)
                    _set_keepalive(protocol)
                    return protocol
                app = factory()
                tls = TLSTransport(self.ssl_context, self.host, app)
                raw, _ = await loop.create_connection(tls.protocol, self.host, self.port)
                try:
                    await tls.handshake()
                except BaseException:
                    raw.close()
                    raise
                if TLS_LOG.isEnabledFor(logging.DEBUG):
                    tls_object = tls.get_extra_info("ssl_object")
                    TLS_LOG.debug(
                        "TLS handshake with %s done: %s, %s",
                        self.address,
                        tls_object.version(),
                        tls_object.cipher()[0],
                    )
                return app
        except ssl.SSLError as exc:
            if TLS_LOG.isEnabledFor(logging.DEBUG):
                TLS_LOG.debug("TLS handshake with %s failed: %s", self.address, exc)
            raise DockerConnectionError(
                f"TLS handshake with {self.address} failed [{exc}]"
            ) from exc
        except (OSError, TimeoutError) as exc:
            raise _connect_error(self.address, exc) from exc


def _set_keepalive(protocol: asyncio.Protocol) -> None:
    transport = getattr(protocol, "transport", None)
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)


class SSHDialer:
    """Run ``ssh [user@]host -- docker system dial-stdio`` per connection.

    The process's stdin and stdout are one end of a socket pair, so the pool
    sees an ordinary socket (with half-close) and reuses it for keep-alive;
    the user's ssh config, agent and known_hosts apply as for any ``ssh``.
    ``BatchMode`` makes an unknown host key or a password prompt fail at once.
    """

    def __init__(
        self,
        host: str,
        *,
        user: str | None = None,
        port: int | None = None,
        ssh_command: str = "ssh",
        options: Sequence[str] = (),
        strict_host_keys: bool = True,
    ) -> None:
        self.host = host
        self.user = user
        self.port = port
        self.ssh_command = ssh_command
        self.options = tuple(options)
        self.strict_host_keys = strict_host_keys
        self._processes: set[asyncio.subprocess.Process] = set()
        self._reapers: set[asyncio.Task[None]] = set()

    @property
    def address(self) -> str:
        user = f"{self.user}@" if self.user else ""
        port = f":{self.port}" if self.port else ""
        return f"ssh://{user}{self.host}{port}"

    def argv(self) -> list[str]:
        argv = [self.ssh_command, "-o", "BatchMode=yes", "-o", f"ConnectTimeout={int(CONNECT_TIMEOUT)}"]
        if not self.strict_host_keys:
            argv += ["-o", "StrictHostKeyChecking=no"]
        argv += list(self.options)
        if self.user:
            argv += ["-l", self.user]
        if self.port:
            argv += ["-p", str(self.port)]
        extra = os.environ.get("AIODOCKER_SSH_OPTS", "")
        argv += shlex.split(extra)
        argv += ["-T", "--", self.host, "docker", "system", "dial-stdio"]
        return argv

    async def __call__(self, factory: Callable[[], P]) -> P:
        loop = asyncio.get_running_loop()
        ours, theirs = socket.socketpair()
        try:
            process = await asyncio.create_subprocess_exec(
                *self.argv(),
                stdin=theirs.fileno(),
                stdout=theirs.fileno(),
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            ours.close()
            raise _connect_error(self.address, exc) from exc
        finally:
            theirs.close()
        if SSH_LOG.isEnabledFor(logging.DEBUG):
            argv = shlex.join(self.argv())
            SSH_LOG.debug("started ssh (pid %d) to %s: %s", process.pid, self.address, argv)
        self._processes.add(process)
        try:
            _, protocol = await loop.create_unix_connection(factory, sock=ours)
        except BaseException:
            ours.close()
            await self._reap(process)
            raise
        protocol.on_lost = lambda: self._reap_later(loop, process)  # type: ignore[attr-defined]
        protocol.diagnose = lambda: self._diagnose(process)  # type: ignore[attr-defined]
        return protocol

    def _reap_later(self, loop: asyncio.AbstractEventLoop, process: asyncio.subprocess.Process) -> None:
        task = loop.create_task(self._reap(process))
        self._reapers.add(task)
        task.add_done_callback(self._reapers.discard)

    async def _diagnose(self, process: asyncio.subprocess.Process) -> str:
        """Say why the connection failed, in ssh's own words."""
        try:
            await asyncio.wait_for(process.wait(), 5.0)
        except TimeoutError:
            return f"Cannot connect to Docker Engine via {self.address}: ssh did not answer"
        message = ""
        if process.stderr is not None:
            try:
                data = await asyncio.wait_for(process.stderr.read(SSH_STDERR_LIMIT), 1.0)
                message = data.decode("utf-8", "replace").strip()
            except (TimeoutError, OSError):
                pass
        return (
            f"Cannot connect to Docker Engine via {self.address}: ssh exited with "
            f"status {process.returncode}: {message or 'no message'}"
        )

    async def _reap(self, process: asyncio.subprocess.Process) -> None:
        try:
            await asyncio.wait_for(process.wait(), 2.0)
        except TimeoutError:
            try:
                process.kill()
            except ProcessLookupError:
                pass
            await process.wait()
        finally:
            if process in self._processes:  # the first of concurrent reapers says it
                self._processes.discard(process)
                SSH_LOG.debug(
                    "ssh (pid %d) to %s exited with status %s",
                    process.pid,
                    self.address,
                    process.returncode,
                )

    async def close(self) -> None:
        """Wait for every ssh process this dialer started to end."""
        for process in list(self._processes):
            if process.returncode is None:
                try:
                    process.terminate()
                except ProcessLookupError:
                    pass
        await asyncio.gather(*(self._reap(p) for p in list(self._processes)), return_exceptions=True)
        while self._reapers:
            await asyncio.gather(*list(self._reapers), return_exceptions=True)


class NamedPipeDialer:
    """Windows named pipes (``npipe:////./pipe/docker_engine``), Proactor loop only."""

    def __init__(self, path: str) -> None:
        self.path = path

    async def __call__(self, factory: Callable[[], P]) -> P:
        if sys.platform != "win32":
            raise DockerConnectionError(
                f"Cannot connect to Docker Engine via npipe://{self.path}: "
                "named pipes exist only on Windows"
            )
        loop = asyncio.get_running_loop()
        create = getattr(loop, "create_pipe_connection", None)
        if create is None:
            raise DockerConnectionError(
                "named pipes need the Proactor event loop (asyncio.WindowsProactorEventLoopPolicy)"
            )
        try:
            _, protocol = await create(factory, self.path)
        except OSError as exc:
            raise _connect_error(f"npipe://{self.path}", exc) from exc
        return cast(P, protocol)
