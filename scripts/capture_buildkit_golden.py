# ruff: noqa: ASYNC220,ASYNC221,ASYNC230  (a one-off capture script: blocking calls are fine)
"""Capture the protobuf messages Docker 26 sends a BuildKit session, as golden hex.

Run once against the test environment's Docker 26 (``python3 scripts/capture_buildkit_golden.py
HOST OUT.json``); the result is ``tests/data/buildkit_golden.json``, which
``tests/unit/buildkit/test_buildkit_protocol.py`` decodes. Every message kind the
daemon sends is kept once (the first seen), with the session method it came on;
the StatusResponse items come from the build's trace stream. Secret values and
file contents are test data made up here.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
import tempfile
from typing import Any

from aiodocker import Docker, buildkit
from aiodocker._buildkit import grpc
from aiodocker._buildkit.filesync import decode_packet

captured: dict[str, dict[str, str]] = {}
phase = {"export": ""}


def keep(kind: str, method: str, message: bytes) -> None:
    captured.setdefault(kind, {"method": method, "hex": message.hex()})


_recv = grpc.Call.recv


async def recording_recv(self: grpc.Call) -> bytes | None:
    message = await _recv(self)
    if message is None:
        return None
    if self.method.endswith("/DiffCopy") and "FileSend" not in self.method:
        kind = {0: "STAT", 1: "REQ", 2: "DATA", 3: "FIN", 4: "ERR"}[decode_packet(message)[0]]
        keep(f"fsutil.Packet.{kind} (FileSync, daemon as receiver)", self.method, message)
    elif "FileSend" in self.method:
        if phase["export"] == "tar":
            keep("moby.filesync.v1.BytesMessage (tar export)", self.method, message)
    else:
        keep(self.method, self.method, message)
    return message


_FORWARDER = """
import asyncio, sys
port, path = int(sys.argv[1]), sys.argv[2]
async def pump(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()
async def handle(reader, writer):
    up_reader, up_writer = await asyncio.open_unix_connection(path)
    await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer), return_exceptions=True)
async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", port)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()
asyncio.run(main())
"""


async def capture_credentials_request(docker: Docker, tmp: str) -> None:
    """FROM an image of the test registry (htpasswd): the daemon asks the session for credentials.

    The registry (127.0.0.1:5000 here) is relayed into the Docker 26 daemon's network
    namespace (aiod26) through a unix socket; the build itself fails (no credentials).
    """
    sock = os.path.join(tmp, "registry.sock")

    async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", 5000)

        async def pump(a: asyncio.StreamReader, b: asyncio.StreamWriter) -> None:
            while data := await a.read(65536):
                b.write(data)
                await b.drain()
            b.close()

        await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer), return_exceptions=True)

    server = await asyncio.start_unix_server(relay, sock)
    forwarder = await asyncio.create_subprocess_exec(
        "ip", "netns", "exec", "aiod26", sys.executable, "-c", _FORWARDER, "25999", sock,
        stdout=asyncio.subprocess.PIPE,
    )
    assert forwarder.stdout is not None
    await forwarder.stdout.readline()
    ctx = os.path.join(tmp, "private")
    os.mkdir(ctx)
    with open(os.path.join(ctx, "Dockerfile"), "w") as f:
        f.write("FROM 127.0.0.1:25999/golden/private:v1\nRUN true\n")
    try:
        await buildkit.build(docker, path=ctx, context_sync=True)
    except Exception as exc:  # no credentials: refused, as intended
        print("private build failed as expected:", str(exc)[:100])
    finally:
        forwarder.terminate()
        await forwarder.wait()
        server.close()


async def main(host: str, out: str) -> None:
    grpc.Call.recv = recording_recv  # type: ignore[method-assign]
    from aiodocker._buildkit import exporters

    original = exporters.decode_packet_full

    def recording_decode(message: bytes) -> Any:
        result = original(message)
        kind = {0: "STAT", 1: "REQ", 2: "DATA", 3: "FIN", 4: "ERR"}[result[0]]
        if kind == "STAT" and result[1] is None:
            kind = "STAT-end"
        keep(f"fsutil.Packet.{kind} (FileSend, daemon as sender)", exporters.FILE_SEND, message)
        return result

    exporters.decode_packet_full = recording_decode  # type: ignore[assignment]
    with tempfile.TemporaryDirectory() as tmp:
        ctx = os.path.join(tmp, "ctx")
        os.mkdir(ctx)
        with open(os.path.join(ctx, "Dockerfile"), "w") as f:
            f.write(
                "FROM aiodocker-test/busybox:latest\n"
                "COPY data.txt /data.txt\n"
                "RUN --mount=type=secret,id=token cat /run/secrets/token | wc -c\n"
                "RUN --mount=type=ssh ls -l $SSH_AUTH_SOCK\n"
                "RUN echo golden >&2; echo warn-free; sleep 7\n"
            )
        with open(os.path.join(ctx, "data.txt"), "w") as f:
            f.write("golden data\n")
        os.environ["GOLDEN_TOKEN"] = "not-a-real-secret"
        agent = subprocess.run(
            ["ssh-agent", "-s", "-a", os.path.join(tmp, "agent.sock")],
            capture_output=True, text=True, check=True,
        )
        pid = next(
            line.split("=")[1].split(";")[0]
            for line in agent.stdout.splitlines() if line.startswith("SSH_AGENT_PID")
        )
        try:
            async with Docker(url=host) as docker:
                trace: list[bytes] = []
                _feed = buildkit.BuildTrace.feed

                def feed(self: Any, item: dict[str, Any]) -> Any:
                    aux = item.get("aux")
                    if item.get("id") == "moby.buildkit.trace" and isinstance(aux, str):
                        trace.append(base64.b64decode(aux))
                    return _feed(self, item)

                buildkit.BuildTrace.feed = feed  # type: ignore[method-assign]
                for kind in ("local", "tar"):
                    phase["export"] = kind
                    outputs = [f"type={kind},dest={tmp}/out.{kind}"]
                    await buildkit.build(
                        docker,
                        path=ctx,
                        context_sync=True,
                        nocache=True,
                        secrets={"token": buildkit.Secret(env="GOLDEN_TOKEN")},
                        ssh={"default": os.path.join(tmp, "agent.sock")},
                        outputs=outputs,
                    )
                await capture_credentials_request(docker, tmp)
                # the first StatusResponse holding each part (vertex, status, log)
                from aiodocker._buildkit.control import decode_status_response

                for message in trace:
                    decoded = decode_status_response(message)
                    for part in ("vertexes", "statuses", "logs", "warnings"):
                        if getattr(decoded, part):
                            keep(f"moby.buildkit.v1.StatusResponse ({part})", "trace", message)
        finally:
            subprocess.run(["kill", pid], check=False)
    with open(out, "w") as f:
        json.dump(captured, f, indent=1, sort_keys=True)
        f.write("\n")
    print("\n".join(sorted(captured)))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
