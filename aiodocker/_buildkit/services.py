"""Session services besides file sync: secrets, ssh agent forwarding, registry credentials.

Layer: ``_buildkit``; imports the stdlib, ``_core.credentials`` and its siblings.

Message layouts (BuildKit ``session/secrets/secrets.proto``,
``session/sshforward/ssh.proto``, ``session/auth/auth.proto``):

    GetSecretRequest:   ID=1 (string)          GetSecretResponse:   data=1 (bytes)
    CheckAgentRequest:  ID=1 (string)          CheckAgentResponse:  (empty)
    BytesMessage:       data=1 (bytes)         ForwardAgent metadata: buildkit.ssh.id
    CredentialsRequest: Host=1 (string)        CredentialsResponse: Username=1 Secret=2

A secret's value is read when the daemon asks for it and goes only into the
response message: it is never logged, kept, or put into an error.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from .._core import credentials
from .grpc import NOT_FOUND, UNAVAILABLE, UNKNOWN, Call, GrpcError, Handler
from .sshagent import KeyAgent
from .wire import as_bytes, as_str, field_bytes, iter_fields

GET_SECRET: Final = "/moby.buildkit.secrets.v1.Secrets/GetSecret"
CHECK_AGENT: Final = "/moby.sshforward.v1.SSH/CheckAgent"
FORWARD_AGENT: Final = "/moby.sshforward.v1.SSH/ForwardAgent"
CREDENTIALS: Final = "/moby.filesync.v1.Auth/Credentials"
SSH_ID_KEY: Final = "buildkit.ssh.id"
DEFAULT_SSH_ID: Final = "default"
_AGENT_READ: Final = 64 * 1024


def _string_field(message: bytes, number: int) -> str:
    for field_number, _, value in iter_fields(message):
        if field_number == number:
            return as_str(value)
    return ""


@dataclass(frozen=True)
class Secret:
    """Where a build secret's value comes from: a file or an environment variable.

    The value is read when the daemon asks for it; ``repr`` shows the source only.
    """

    file: str | None = None
    env: str | None = None

    def __post_init__(self) -> None:
        if (self.file is None) == (self.env is None):
            raise ValueError("a Secret takes exactly one of file= and env=")

    def read(self) -> bytes | None:
        if self.env is not None:
            value = os.environ.get(self.env)
            return None if value is None else value.encode()
        assert self.file is not None
        try:
            with open(self.file, "rb") as source:
                return source.read()
        except FileNotFoundError:
            return None


class SecretsService:
    def __init__(self, secrets: Mapping[str, Secret]) -> None:
        self._secrets = dict(secrets)

    async def get_secret(self, call: Call) -> None:
        request = await call.recv()
        secret_id = _string_field(request or b"", 1)
        source = self._secrets.get(secret_id)
        value = await asyncio.to_thread(source.read) if source is not None else None
        if value is None:
            raise GrpcError(NOT_FOUND, f"secret {secret_id} not found")
        await call.send(field_bytes(1, value))


class SshAgentService:
    """Forward BuildKit's ``RUN --mount=type=ssh`` by id: to a local agent socket, or to a key agent."""

    def __init__(self, sources: Mapping[str, str | KeyAgent]) -> None:
        self._sources = dict(sources)

    async def check_agent(self, call: Call) -> None:
        request = await call.recv()
        ssh_id = _string_field(request or b"", 1) or DEFAULT_SSH_ID
        if ssh_id not in self._sources:
            raise GrpcError(NOT_FOUND, f"unset ssh forward key {ssh_id}")
        await call.send(b"")

    async def forward_agent(self, call: Call) -> None:
        ssh_id = call.first(SSH_ID_KEY) or DEFAULT_SSH_ID
        source = self._sources.get(ssh_id)
        if source is None:
            raise GrpcError(NOT_FOUND, f"unset ssh forward key {ssh_id}")
        if isinstance(source, KeyAgent):
            await self._serve_keys(call, KeyAgent(source.keys))
            return
        try:
            reader, writer = await asyncio.open_unix_connection(source)
        except OSError as exc:
            raise GrpcError(UNAVAILABLE, f"cannot reach the ssh agent for {ssh_id}: {exc}") from exc

        async def to_agent() -> None:
            while (message := await call.recv()) is not None:
                for number, _, value in iter_fields(message):
                    if number == 1:
                        writer.write(as_bytes(value))
                await writer.drain()
            if writer.can_write_eof():
                writer.write_eof()

        pump = asyncio.get_running_loop().create_task(to_agent())
        try:
            while data := await reader.read(_AGENT_READ):
                await call.send(field_bytes(1, data))
        finally:
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError, OSError):
                await pump
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    @staticmethod
    async def _serve_keys(call: Call, agent: KeyAgent) -> None:
        """Be the agent: one connection's state (its buffer) per forwarded stream."""
        while (message := await call.recv()) is not None:
            for number, _, value in iter_fields(message):
                if number != 1:
                    continue
                try:
                    answer = await asyncio.to_thread(agent.feed, as_bytes(value))
                except ValueError as exc:
                    raise GrpcError(UNKNOWN, f"ssh agent: {exc}") from exc
                if answer:
                    await call.send(field_bytes(1, answer))


class AuthService:
    """Answer registry credential requests from the docker CLI's config (config.json, helpers)."""

    def __init__(self, config_dir: str) -> None:
        self._config_dir = config_dir
        self.hosts_asked: list[str] = []

    async def credentials(self, call: Call) -> None:
        request = await call.recv()
        host = _string_field(request or b"", 1)
        self.hosts_asked.append(host)
        auth = await credentials.resolve_auth(host, config_dir=self._config_dir)
        username = secret = ""
        if auth is not None:
            if auth.identitytoken:
                secret = auth.identitytoken
            else:
                username, secret = auth.username, auth.password
                if auth.auth and not secret:
                    try:
                        decoded = base64.b64decode(auth.auth).decode()
                    except (binascii.Error, UnicodeDecodeError):
                        decoded = ""
                    username, _, secret = decoded.partition(":")
        await call.send(field_bytes(1, username) + field_bytes(2, secret))


def handlers(
    *,
    secrets: Mapping[str, Secret] | None = None,
    ssh: Mapping[str, str | KeyAgent] | None = None,
    config_dir: str | None = None,
) -> dict[str, Handler]:
    """The session handlers for what the build uses."""
    table: dict[str, Handler] = {}
    if secrets:
        table[GET_SECRET] = SecretsService(secrets).get_secret
    if ssh:
        agent = SshAgentService(ssh)
        table[CHECK_AGENT] = agent.check_agent
        table[FORWARD_AGENT] = agent.forward_agent
    if config_dir is not None:
        table[CREDENTIALS] = AuthService(config_dir).credentials
    return table
