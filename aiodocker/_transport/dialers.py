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
import shutil
import socket
import ssl
import sys
import tempfile
from collections.abc import Callable, Sequence
from typing import BinaryIO, Final, TypeVar, cast

from .._pyversion import TimeoutError
from .._pyversion import timeout as timeout_after
from ..exceptions import DockerConnectionError
from .base import describe_error

P = TypeVar("P", bound=asyncio.BaseProtocol)

TLS_LOG: Final = logging.getLogger("aiodocker.transport")
SSH_LOG: Final = logging.getLogger("aiodocker.ssh")

CONNECT_TIMEOUT: Final = 30.0
SSH_STDERR_LIMIT: Final = 4096
SSH_SESSIONS_PER_MASTER: Final = 8
SSH_MASTER_PERSIST: Final = 60
SSH_PARALLEL_HANDSHAKES: Final = 4  # well under sshd's default MaxStartups of 10


def _connect_error(address: str, exc: BaseException, stage: str = "connecting") -> DockerConnectionError:
    """The error for a failed dial, naming its cause; a timeout says what timed out, after how long."""
    if isinstance(exc, TimeoutError):
        reason = f"{stage} timed out after {CONNECT_TIMEOUT:g} s"
    else:
        reason = describe_error(exc)
    return DockerConnectionError(f"Cannot connect to Docker Engine via {address} [{reason}]")


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
        stage = "the TCP connection"
        try:
            async with timeout_after(CONNECT_TIMEOUT):
                if self.ssl_context is None:
                    _, protocol = await loop.create_connection(factory, self.host, self.port)
                    _set_keepalive(protocol)
                    return protocol
                from .tlsstream import TLSTransport  # loaded by the first TLS dial only

                app = factory()
                # TLS hands the app decrypted bytes by data_received, which http.Connection
                # takes besides the buffered reads the loop uses on a plain socket
                tls = TLSTransport(self.ssl_context, self.host, cast(asyncio.Protocol, app))
                raw, _ = await loop.create_connection(tls.protocol, self.host, self.port)
                stage = "the TLS handshake"
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
                f"TLS handshake with {self.address} failed [{describe_error(exc)}]"
            ) from exc
        except (OSError, TimeoutError) as exc:
            raise _connect_error(self.address, exc, stage) from exc


def _set_keepalive(protocol: asyncio.BaseProtocol) -> None:
    transport = getattr(protocol, "transport", None)
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)


def _exists(path: str) -> bool:
    """Whether a file in the dialer's private directory exists (local, does not block)."""
    return os.path.exists(path)


def _open_log(path: str) -> BinaryIO:
    """Create a log file in the dialer's private directory (local, does not block)."""
    return open(path, "wb+")


class _Master:
    """One ssh ``ControlMaster`` connection and how many of our sessions run over it."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.sessions = 0


class SSHDialer:
    """Reach the daemon over ssh: a forwarded socket, or ``docker system dial-stdio``.

    First the dialer asks the remote docker CLI for its daemon's address
    (``docker context inspect``, which honours the remote ``DOCKER_HOST``). When
    that is a unix socket, an ssh ``ControlMaster`` forwards a local socket to it
    (OpenSSH's streamlocal forwarding) and every connection is a connect to that
    local socket: a channel of the one ssh connection, with no process on either
    side. Each ``dial-stdio`` session instead runs the remote user's shell and its
    startup files and the docker CLI (0.5-0.9 s per connection measured here, with
    a ``.bashrc`` that runs ``pyenv init``; a forwarded connection took 10-30 ms).
    When the daemon's address is not a unix socket, or sshd does not forward
    (``AllowStreamLocalForwarding no``), the dialer uses ``dial-stdio`` from then
    on; ``forward=False`` asks for it from the start.

    A ``dial-stdio`` session runs ``ssh [user@]host -- docker system dial-stdio``.
    The process's stdin and stdout are one end of a socket pair, so the pool
    sees an ordinary socket (with half-close) and reuses it for keep-alive;
    the user's ssh config, agent and known_hosts apply as for any ``ssh``.
    ``BatchMode`` makes an unknown host key or a password prompt fail at once.

    The sessions share ssh connections: the dialer starts OpenSSH
    ``ControlMaster`` processes on sockets in a private temporary directory
    and runs each ``dial-stdio`` as a multiplexed session of one of them, at
    most ``SSH_SESSIONS_PER_MASTER`` per master (under sshd's default
    ``MaxSessions`` of 10). So 200 concurrent connections cost 25 ssh
    handshakes, not 200, at most ``SSH_PARALLEL_HANDSHAKES`` at a time. ``close()``
    stops the masters and removes the directory; a master left behind by a
    process that died without ``close()`` exits ``SSH_MASTER_PERSIST`` seconds
    after its last session.
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
        forward: bool = True,
    ) -> None:
        self.host = host
        self.user = user
        self.port = port
        self.ssh_command = ssh_command
        self.options = tuple(options)
        self.strict_host_keys = strict_host_keys
        self._processes: set[asyncio.subprocess.Process] = set()
        self._reapers: set[asyncio.Task[None]] = set()
        self._directory: str | None = None
        self._masters: list[_Master] = []
        self._started_masters = 0
        self._session_master: dict[asyncio.subprocess.Process, _Master] = {}
        self._handshakes: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None
        self.forward = forward  # False once forwarding turned out impossible
        self._remote_socket: str | None = None  # the daemon's socket on the remote host
        self._forward: tuple[_Master, str] | None = None  # the master and its local socket
        self._forward_lock: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None

    @property
    def address(self) -> str:
        user = f"{self.user}@" if self.user else ""
        port = f":{self.port}" if self.port else ""
        return f"ssh://{user}{self.host}{port}"

    def _ssh(self, control: Sequence[str]) -> list[str]:
        """ssh and its options. ssh takes the first value of an option, so ``control``
        and BatchMode win over the user's options, and the user's ConnectTimeout wins."""
        argv = [self.ssh_command, "-o", "BatchMode=yes", *control]
        if not self.strict_host_keys:
            argv += ["-o", "StrictHostKeyChecking=no"]
        argv += list(self.options)
        if self.user:
            argv += ["-l", self.user]
        if self.port:
            argv += ["-p", str(self.port)]
        import shlex  # ssh endpoints only

        extra = os.environ.get("AIODOCKER_SSH_OPTS", "")
        argv += shlex.split(extra)
        return argv + ["-o", f"ConnectTimeout={int(CONNECT_TIMEOUT)}", "-T"]

    def argv(self, control_path: str | None = None) -> list[str]:
        """The command line of one session, multiplexed over the master at ``control_path``."""
        control = ["-o", "ControlMaster=no", "-o", f"ControlPath={control_path}"] if control_path else []
        return self._ssh(control) + ["--", self.host, "docker", "system", "dial-stdio"]

    def _master_ssh(self, path: str) -> list[str]:
        control = ["-o", "ControlMaster=yes", "-o", f"ControlPath={path}"]
        return self._ssh(control + ["-o", f"ControlPersist={SSH_MASTER_PERSIST}"])

    async def _start_master(self) -> _Master:
        if self._directory is None:
            self._directory = tempfile.mkdtemp(prefix="aiodocker-ssh-")
        self._started_masters += 1
        path = os.path.join(self._directory, f"m{self._started_masters}")
        # ssh goes to the background once the control socket listens.
        argv = self._master_ssh(path) + ["-f", "-N", "--", self.host]
        # ssh's stderr goes to a file: the master it leaves in the background keeps it open.
        with _open_log(f"{path}.log") as log:
            try:
                process = await asyncio.create_subprocess_exec(
                    *argv,
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=asyncio.subprocess.DEVNULL,
                    stderr=log,
                    start_new_session=True,
                )
            except OSError as exc:
                raise _connect_error(self.address, exc) from exc
            try:
                async with timeout_after(CONNECT_TIMEOUT + 5):
                    status = await process.wait()
            except BaseException:
                process.kill()
                await process.wait()
                raise
            if status != 0 or not _exists(path):
                log.seek(0)
                message = log.read(SSH_STDERR_LIMIT).decode("utf-8", "replace").strip()
                raise DockerConnectionError(
                    f"Cannot connect to Docker Engine via {self.address}: ssh exited with "
                    f"status {status}: {message or 'no message'}"
                )
        import shlex

        SSH_LOG.debug("started an ssh master to %s: %s", self.address, shlex.join(argv))
        return _Master(path)

    def _free_master(self) -> _Master | None:
        for master in list(self._masters):
            if not _exists(master.path):  # it exited: idle too long, or the server went away
                if master.sessions == 0:
                    self._masters.remove(master)
            elif master.sessions < SSH_SESSIONS_PER_MASTER:
                return master
        return None

    async def _reserve_session(self) -> _Master:
        master = self._free_master()
        if master is None:
            loop = asyncio.get_running_loop()
            if self._handshakes is None or self._handshakes[0] is not loop:
                self._handshakes = (loop, asyncio.Semaphore(SSH_PARALLEL_HANDSHAKES))  # one loop's
            async with self._handshakes[1]:
                master = self._free_master()
                if master is None:
                    master = await self._start_master()
                    self._masters.append(master)
        master.sessions += 1
        return master

    async def __call__(self, factory: Callable[[], P]) -> P:
        if self.forward:
            protocol = await self._dial_forwarded(factory)
            if protocol is not None:
                return protocol
        return await self._dial_stdio(factory)

    async def _dial_forwarded(self, factory: Callable[[], P]) -> P | None:
        """Connect to the master's forwarded socket; None if there can be none."""
        path = await self._forwarded()
        if path is None:
            return None
        try:
            return await _connect_unix(factory, path)
        except (OSError, TimeoutError):
            self._forward = None  # the master exited (the server went away): set up another
        path = await self._forwarded()
        if path is None:
            return None
        try:
            return await _connect_unix(factory, path)
        except (OSError, TimeoutError) as exc:
            raise _connect_error(self.address, exc) from exc

    async def _forwarded(self) -> str | None:
        """The local socket a master forwards to the daemon's, set up on first use."""
        forward = self._forward
        if forward is not None and _exists(forward[0].path):
            return forward[1]
        loop = asyncio.get_running_loop()
        if self._forward_lock is None or self._forward_lock[0] is not loop:
            self._forward_lock = (loop, asyncio.Lock())  # one loop's
        async with self._forward_lock[1]:
            forward = self._forward
            if forward is not None and _exists(forward[0].path):
                return forward[1]
            if forward is not None and forward[0] in self._masters and not forward[0].sessions:
                self._masters.remove(forward[0])  # it exited
            self._forward = None
            if not self.forward:
                return None
            master = await self._start_master()
            self._masters.append(master)  # stopped by close(); dial-stdio sessions may use it
            path = await self._forward_over(master)
            if path is None:
                self.forward = False
                return None
            self._forward = (master, path)
            return path

    async def _forward_over(self, master: _Master) -> str | None:
        """Forward a local socket to the daemon's over ``master``; None if that cannot work."""
        control = self._control(master)
        if self._remote_socket is None:
            inspect = ["docker", "context", "inspect", "--format", "'{{.Endpoints.docker.Host}}'"]
            status, output = await _run(control + ["--", self.host, *inspect])
            address = output.strip()
            if status != 0 or not address.startswith("unix://"):
                SSH_LOG.debug(
                    "not forwarding a socket to %s: the remote docker CLI's daemon is %r "
                    "(status %s); using docker system dial-stdio",
                    self.address,
                    address,
                    status,
                )
                return None
            self._remote_socket = address[len("unix://") :]
        path = f"{master.path}.sock"
        status, _ = await _run(
            control + ["-O", "forward", "-L", f"{path}:{self._remote_socket}", "--", self.host]
        )
        if status != 0 or not await _answers_http(path):
            SSH_LOG.debug(
                "ssh to %s does not forward %s (status %s); using docker system dial-stdio",
                self.address,
                self._remote_socket,
                status,
            )
            return None
        SSH_LOG.debug("forwarding %s to %s on %s", path, self._remote_socket, self.address)
        return path

    async def _dial_stdio(self, factory: Callable[[], P]) -> P:
        loop = asyncio.get_running_loop()
        master = await self._reserve_session()
        argv = self.argv(master.path)
        ours, theirs = socket.socketpair()
        try:
            process = await asyncio.create_subprocess_exec(
                *argv,
                stdin=theirs.fileno(),
                stdout=theirs.fileno(),
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            ours.close()
            master.sessions -= 1
            raise _connect_error(self.address, exc) from exc
        finally:
            theirs.close()
        if SSH_LOG.isEnabledFor(logging.DEBUG):
            import shlex

            SSH_LOG.debug("started ssh (pid %d) to %s: %s", process.pid, self.address, shlex.join(argv))
        self._processes.add(process)
        self._session_master[process] = master
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
                self._session_master.pop(process).sessions -= 1
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
        self._forward = None
        masters, self._masters = self._masters, []
        await asyncio.gather(*(self._stop_master(m) for m in masters), return_exceptions=True)
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)
            self._directory = None

    async def _stop_master(self, master: _Master) -> None:
        if not _exists(master.path):
            return
        await _run([*self._control(master), "-O", "exit", "--", self.host], timeout=5.0)

    def _control(self, master: _Master) -> list[str]:
        """The ssh command line that sends a control command to ``master``."""
        return self._ssh(["-o", "ControlMaster=no", "-o", f"ControlPath={master.path}"])


async def _connect_unix(factory: Callable[[], P], path: str) -> P:
    async with timeout_after(CONNECT_TIMEOUT):
        _, protocol = await asyncio.get_running_loop().create_unix_connection(factory, path)
    return protocol


async def _run(argv: Sequence[str], timeout: float = CONNECT_TIMEOUT) -> tuple[int | None, str]:
    """Run a short ssh command; its exit status (None if it timed out) and its output."""
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        async with timeout_after(timeout):
            output, _ = await process.communicate()
    except TimeoutError:
        process.kill()
        await process.wait()
        return None, ""
    except BaseException:
        process.kill()
        await process.wait()
        raise
    return process.returncode, output.decode("utf-8", "replace")


async def _answers_http(path: str) -> bool:
    """Whether a daemon answers through a forwarded socket (sshd may refuse to connect it)."""
    try:
        async with timeout_after(CONNECT_TIMEOUT):
            reader, writer = await asyncio.open_unix_connection(path)
            try:
                writer.write(b"GET /_ping HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n")
                status_line = await reader.readline()
            finally:
                writer.close()
    except (OSError, TimeoutError):
        return False
    return status_line.startswith(b"HTTP/1.")


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
