"""``SSHConnector``: aiodocker's aiohttp connector to a daemon behind ssh.

Layer: ``_transport``; imports aiohttp at module level, so only the facade
``aiodocker.ssh`` imports it (``import aiodocker`` stays free of aiohttp).

``Docker(url="ssh://...")`` does not need this: it runs ``docker system
dial-stdio`` through ssh itself. This connector is kept for code that builds
its own aiohttp session: it forwards a private local unix socket to the remote
``/var/run/docker.sock`` with the system's OpenSSH client (``ssh -L``), so the
user's ssh config, agent and known_hosts apply, and so do the extra ssh options
of ``AIODOCKER_SSH_OPTS`` (as for ``ssh://`` URLs).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import shlex
import shutil
import stat
import tempfile
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from .._pyversion import TimeoutError
from .._pyversion import timeout as timeout_after
from ..exceptions import DockerError

log = logging.getLogger("aiodocker.ssh")  # aiodocker 0.27's logger name

REMOTE_SOCKET = "/var/run/docker.sock"
READY_TIMEOUT = 30.0


def _is_socket(path: str) -> bool:
    try:
        return stat.S_ISSOCK(os.stat(path).st_mode)
    except FileNotFoundError:
        return False


class SSHConnector(aiohttp.UnixConnector):
    """An aiohttp connector whose connections reach the daemon through an ssh tunnel.

    The URL is checked first, with aiodocker 0.27's errors, before anything else.

    Raises:
        DockerError: 400 "Invalid SSH URL scheme: ..." or "SSH URL must include
            hostname"; 500 when no ssh client is installed; 400 when strict host
            key checking has no known_hosts to check against.
        ValueError: a bad port (urllib's "Port out of range ..." or "Port could not
            be cast to integer value ...").
    """

    def __init__(self, ssh_url: str, strict_host_keys: bool = True, **kwargs: Any) -> None:
        parts = urlsplit(ssh_url)
        if parts.scheme != "ssh":
            raise DockerError(400, f"Invalid SSH URL scheme: {parts.scheme}")
        if not parts.hostname:
            raise DockerError(400, "SSH URL must include hostname")
        port = parts.port  # ValueError with urllib's words for a bad port
        if parts.password:
            raise DockerError(400, "Passwords in ssh URLs are not supported; use keys or an agent")
        ssh = shutil.which("ssh")
        if ssh is None:
            raise DockerError(500, "The ssh client (OpenSSH) is required for ssh:// connections")
        known_hosts = os.path.expanduser("~/.ssh/known_hosts")
        if strict_host_keys and not os.path.exists(known_hosts):
            raise DockerError(
                400, f"Strict host key checking is on but {known_hosts} does not exist"
            )
        self._tmpdir = tempfile.mkdtemp(prefix="aiodocker-ssh-")
        self._local_socket = os.path.join(self._tmpdir, "docker.sock")
        argv = [ssh, "-nNT", "-o", "BatchMode=yes", "-o", "ExitOnForwardFailure=yes"]
        argv += ["-o", f"StrictHostKeyChecking={'yes' if strict_host_keys else 'no'}"]
        if parts.username:
            argv += ["-l", parts.username]
        if port:
            argv += ["-p", str(port)]
        argv += shlex.split(os.environ.get("AIODOCKER_SSH_OPTS", ""))
        argv += ["-L", f"{self._local_socket}:{REMOTE_SOCKET}", "--", parts.hostname]
        self._argv = argv
        self._process: asyncio.subprocess.Process | None = None
        self.ssh_url = ssh_url
        super().__init__(path=self._local_socket, **kwargs)

    async def _ensure_tunnel(self) -> None:
        if self._process is None:
            self._process = await asyncio.create_subprocess_exec(
                *self._argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
            )
            log.debug("started ssh tunnel (pid %d) for %s", self._process.pid, self.ssh_url)
        process = self._process
        try:
            async with timeout_after(READY_TIMEOUT):
                while not _is_socket(self._local_socket):
                    if process.returncode is not None:
                        stderr = await process.stderr.read() if process.stderr else b""
                        message = stderr.decode("utf-8", "replace").strip()
                        self._process = None
                        log.debug(
                            "ssh tunnel (pid %d) exited with status %s: %s",
                            process.pid,
                            process.returncode,
                            message,
                        )
                        raise DockerError(
                            900,
                            f"Cannot connect to Docker Engine via {self.ssh_url}: {message}",
                        )
                    await asyncio.sleep(0.02)
        except TimeoutError as exc:
            raise DockerError(900, f"ssh tunnel to {self.ssh_url} did not come up") from exc

    async def connect(self, req: Any, traces: Any, timeout: Any) -> Any:
        await self._ensure_tunnel()
        return await super().connect(req, traces, timeout)

    async def close(self) -> None:  # type: ignore[override]
        process, self._process = self._process, None
        if process is not None and process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 5)
            except TimeoutError:
                process.kill()
                await process.wait()
            log.debug("ssh tunnel (pid %d) exited with status %s", process.pid, process.returncode)
        shutil.rmtree(self._tmpdir, ignore_errors=True)
        result: Any = super().close()
        if inspect.isawaitable(result):
            await result
