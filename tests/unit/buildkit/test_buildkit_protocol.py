"""The hand-written BuildKit messages checked against upstream: the vendored .proto files and
golden bytes captured from Docker 26.1.5 (``scripts/capture_buildkit_golden.py``).

Three checks, each of which fails on a wrong field number:

* every table of ``aiodocker/_buildkit/messages.py`` names fields that exist in
  ``spec/buildkit/*.proto`` with the same number and type (so the same wire type);
* the bytes the code writes (fsutil packets, stats, session answers) use the
  tables' numbers and wire types, and the decoders read the tables' numbers;
* the messages Docker 26 really sent decode to what they carried, and each of
  their fields is a field of the .proto message with that wire type.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from aiodocker._buildkit import control, exporters, filesync, messages, services, session
from aiodocker._buildkit.wire import (
    FIXED32,
    FIXED64,
    LENGTH,
    VARINT,
    as_bytes,
    field_bytes,
    field_varint,
    iter_fields,
)

ROOT = Path(__file__).resolve().parents[3]
SPEC = ROOT / "spec" / "buildkit"
GOLDEN = json.loads((ROOT / "tests" / "data" / "buildkit_golden.json").read_text())

_SCALAR_WIRE = {
    "int32": VARINT, "int64": VARINT, "uint32": VARINT, "uint64": VARINT, "sint32": VARINT,
    "sint64": VARINT, "bool": VARINT, "fixed64": FIXED64, "sfixed64": FIXED64,
    "double": FIXED64, "fixed32": FIXED32, "sfixed32": FIXED32, "float": FIXED32,
    "string": LENGTH, "bytes": LENGTH,
}  # fmt: skip

_FIELD = re.compile(
    r"^(?:(repeated|optional)\s+)?(map<\s*\w+\s*,\s*[\w.]+\s*>|[\w.]+)\s+(\w+)\s*=\s*(\d+)\s*(?:\[.*\])?\s*;"
)
_ENUM_VALUE = re.compile(r"^(\w+)\s*=\s*(-?\d+)\s*;")
_BLOCK = re.compile(r"^(message|enum|service)\s+(\w+)\s*\{")


def parse_proto(text: str) -> tuple[dict[str, dict[str, tuple[int, str]]], dict[str, dict[str, int]]]:
    """Messages (``pkg.Msg`` -> field -> (number, type)) and enums of a .proto file.

    Enough of the grammar for the vendored files: package, nested message and
    enum blocks, fields with options, map fields, comments.
    """
    package = ""
    stack: list[tuple[str, str]] = []  # (kind, name)
    fields: dict[str, dict[str, tuple[int, str]]] = {}
    enums: dict[str, dict[str, int]] = {}
    for raw in text.splitlines():
        line = raw.split("//")[0].strip()
        if not line:
            continue
        if line.startswith("package "):
            package = line.split()[1].rstrip(";")
            continue
        opened = _BLOCK.match(line)
        if opened:
            stack.append((opened.group(1), opened.group(2)))
            full = ".".join([package, *(name for _, name in stack)])
            if opened.group(1) == "message":
                fields[full] = {}
            elif opened.group(1) == "enum":
                enums[full] = {}
            if line.endswith("}"):  # a one-line block: its statements, then its end
                inner = line[line.index("{") + 1 : line.rindex("}")]
                for statement in filter(None, (part.strip() for part in inner.split(";"))):
                    _statement(statement + ";", stack, package, fields, enums)
                stack.pop()
            continue
        if line.startswith("}"):
            stack.pop()
            continue
        _statement(line, stack, package, fields, enums)
    assert not stack, "unbalanced braces"
    return fields, enums


def _statement(
    line: str,
    stack: list[tuple[str, str]],
    package: str,
    fields: dict[str, dict[str, tuple[int, str]]],
    enums: dict[str, dict[str, int]],
) -> None:
    if not stack or line.startswith(("option", "rpc", "reserved")):
        return
    kind, _ = stack[-1]
    full = ".".join([package, *(name for _, name in stack)])
    if kind == "message":
        match = _FIELD.match(line)
        assert match, f"unparsed field line in {full}: {line!r}"
        fields[full][match.group(3)] = (int(match.group(4)), match.group(2).replace(" ", ""))
    elif kind == "enum":
        match = _ENUM_VALUE.match(line)
        assert match, f"unparsed enum line in {full}: {line!r}"
        enums[full][match.group(1)] = int(match.group(2))


def _load_spec() -> tuple[dict[str, dict[str, tuple[int, str]]], dict[str, dict[str, int]]]:
    fields: dict[str, dict[str, tuple[int, str]]] = {}
    enums: dict[str, dict[str, int]] = {}
    for path in sorted(SPEC.glob("*.proto")):
        more_fields, more_enums = parse_proto(path.read_text())
        for name, table in more_fields.items():
            fields.setdefault(name, {}).update(table)
        enums.update(more_enums)
    return fields, enums


SPEC_FIELDS, SPEC_ENUMS = _load_spec()


def wire_type(proto_type: str, message: str) -> int:
    if proto_type in _SCALAR_WIRE:
        return _SCALAR_WIRE[proto_type]
    package = message.rsplit(".", 1)[0]
    if f"{message}.{proto_type}" in SPEC_ENUMS or f"{package}.{proto_type}" in SPEC_ENUMS:
        return VARINT
    return LENGTH  # a message or a map


def test_the_parser_reads_fields_enums_maps_and_options() -> None:
    fields, enums = parse_proto(
        "syntax = \"proto3\";\npackage p.v1;\nmessage M {\n  // c\n  enum E { A = 0; B = 1; }\n"
        "  string s = 1 [(x) = \"y\"];\n  map<string, bytes> m = 10;\n  repeated E e = 3; // z\n}\n"
    )
    assert fields == {"p.v1.M": {"s": (1, "string"), "m": (10, "map<string,bytes>"), "e": (3, "E")}}
    assert enums == {"p.v1.M.E": {"A": 0, "B": 1}}
    with pytest.raises(AssertionError, match="unparsed"):
        parse_proto("package p;\nmessage M {\n  string s = x;\n}\n")


def test_the_vendored_specs_hold_the_messages_the_client_uses() -> None:
    assert SPEC_FIELDS["fsutil.types.Packet"]["ID"] == (3, "uint32")
    assert SPEC_FIELDS["moby.buildkit.v1.StatusResponse"]["warnings"] == (4, "VertexWarning")
    assert SPEC_ENUMS["fsutil.types.Packet.PacketType"]["PACKET_FIN"] == 3


@pytest.mark.parametrize("message", sorted(messages.FIELDS))
def test_every_field_table_matches_the_vendored_proto(message: str) -> None:
    assert message in SPEC_FIELDS, f"{message} is in no file of spec/buildkit"
    spec = SPEC_FIELDS[message]
    for name, (number, proto_type) in messages.FIELDS[message].items():
        assert name in spec, f"{message}.{name} is not in the .proto"
        spec_number, spec_type = spec[name]
        assert number == spec_number, f"{message}.{name}: {number} here, {spec_number} upstream"
        assert proto_type == spec_type, f"{message}.{name}: {proto_type} here, {spec_type} upstream"
        assert wire_type(proto_type, message) == wire_type(spec_type, message)


@pytest.mark.parametrize("enum", sorted(messages.ENUMS))
def test_every_enum_table_matches_the_vendored_proto(enum: str) -> None:
    for name, value in messages.ENUMS[enum].items():
        assert SPEC_ENUMS[enum][name] == value


# --- the code's bytes against the tables --------------------------------------------


def check_against_table(data: bytes, message: str) -> dict[str, list[Any]]:
    """Decode ``data`` by the table of ``message``: every field known, with its wire type."""
    by_number = {number: (name, t) for name, (number, t) in messages.FIELDS[message].items()}
    values: dict[str, list[Any]] = {}
    for number, wire, value in iter_fields(data):
        assert number in by_number, f"{message}: field {number} is in no table"
        name, proto_type = by_number[number]
        assert wire == wire_type(proto_type, message), f"{message}.{name}: wire type {wire}"
        values.setdefault(name, []).append(value)
    return values


def test_fsutil_packets_and_stats_written_use_the_table_numbers(tmp_path: Path) -> None:
    types = messages.ENUMS["fsutil.types.Packet.PacketType"]
    assert (filesync.PACKET_STAT, filesync.PACKET_REQ, filesync.PACKET_DATA) == (
        types["PACKET_STAT"], types["PACKET_REQ"], types["PACKET_DATA"]
    )
    assert (filesync.PACKET_FIN, filesync.PACKET_ERR) == (types["PACKET_FIN"], types["PACKET_ERR"])
    data = check_against_table(
        filesync.packet(filesync.PACKET_DATA, id=7, data=b"abc"), "fsutil.types.Packet"
    )
    assert data == {"type": [2], "ID": [7], "data": [b"abc"]}
    (tmp_path / "f").write_bytes(b"12345")
    os.symlink("f", tmp_path / "l")
    for name in ("f", "l"):
        entry = filesync.Entry(name, str(tmp_path / name), os.lstat(tmp_path / name))
        stat = check_against_table(entry.stat_message(), "fsutil.types.Stat")
        assert stat["path"] == [name.encode()]
        assert stat["size"] == [os.lstat(tmp_path / name).st_size]
    assert stat["linkname"] == [b"f"]
    # and the exporter's decoder reads a packet built from the table's numbers
    table = messages.FIELDS["fsutil.types.Packet"]
    stat_table = messages.FIELDS["fsutil.types.Stat"]
    built = (
        field_varint(table["type"][0], 0)
        + field_bytes(
            table["stat"][0],
            field_bytes(stat_table["path"][0], "a/b")
            + field_varint(stat_table["mode"][0], 0o640)
            + field_varint(stat_table["size"][0], 9)
            + field_varint(stat_table["modTime"][0], 1_700_000_000_000_000_000)
            + field_bytes(stat_table["linkname"][0], "c"),
        )
        + field_varint(table["ID"][0], 4)
    )
    kind, decoded, ident, _ = exporters.decode_packet_full(built)
    assert (kind, ident) == (0, 4)
    assert decoded == exporters.Stat("a/b", 0o640, 9, 1_700_000_000_000_000_000, "c")


class _Call:
    def __init__(self, request: bytes | None, metadata: dict[str, list[str]] | None = None):
        self._requests = [request, None]
        self.metadata = metadata or {}
        self.sent: list[bytes] = []

    async def recv(self) -> bytes | None:
        return self._requests.pop(0)

    async def send(self, message: bytes) -> None:
        self.sent.append(message)

    def first(self, key: str) -> str | None:
        values = self.metadata.get(key)
        return values[0] if values else None


def test_session_answers_use_the_table_numbers(tmp_path: Path) -> None:
    request = field_bytes(messages.FIELDS["moby.buildkit.secrets.v1.GetSecretRequest"]["ID"][0], "t")
    secret_file = tmp_path / "s"
    secret_file.write_bytes(b"value")
    call = _Call(request)
    service = services.SecretsService({"t": services.Secret(file=str(secret_file))})
    asyncio.run(service.get_secret(call))  # type: ignore[arg-type]
    answer = check_against_table(call.sent[0], "moby.buildkit.secrets.v1.GetSecretResponse")
    assert answer == {"data": [b"value"]}

    (tmp_path / "config.json").write_text(
        json.dumps({"auths": {"reg.example": {"username": "u", "password": "p"}}})
    )
    host = messages.FIELDS["moby.filesync.v1.CredentialsRequest"]["Host"][0]
    call = _Call(field_bytes(host, "reg.example"))
    asyncio.run(services.AuthService(str(tmp_path)).credentials(call))  # type: ignore[arg-type]
    answer = check_against_table(call.sent[0], "moby.filesync.v1.CredentialsResponse")
    assert answer == {"Username": [b"u"], "Secret": [b"p"]}

    call = _Call(b"")
    asyncio.run(session._health_check(call))  # type: ignore[arg-type]
    answer = check_against_table(call.sent[0], "grpc.health.v1.HealthCheckResponse")
    assert answer == {"status": [messages.ENUMS["grpc.health.v1.HealthCheckResponse.ServingStatus"]["SERVING"]]}


def test_the_status_decoder_reads_the_table_numbers() -> None:
    vertex = messages.FIELDS["moby.buildkit.v1.Vertex"]
    log = messages.FIELDS["moby.buildkit.v1.VertexLog"]
    response = messages.FIELDS["moby.buildkit.v1.StatusResponse"]
    ts = messages.FIELDS["google.protobuf.Timestamp"]
    stamp = field_varint(ts["seconds"][0], 10) + field_varint(ts["nanos"][0], 500_000_000)
    data = field_bytes(
        response["vertexes"][0],
        field_bytes(vertex["digest"][0], "sha256:a")
        + field_bytes(vertex["name"][0], "RUN x")
        + field_varint(vertex["cached"][0], 1)
        + field_bytes(vertex["started"][0], stamp)
        + field_bytes(vertex["error"][0], "boom"),
    ) + field_bytes(
        response["logs"][0],
        field_bytes(log["vertex"][0], "sha256:a")
        + field_varint(log["stream"][0], 2)
        + field_bytes(log["msg"][0], b"out"),
    )
    decoded = control.decode_status_response(data)
    assert decoded.vertexes == [
        control.Vertex(digest="sha256:a", name="RUN x", cached=True, started=10.5, error="boom")
    ]
    assert decoded.logs == [control.VertexLog(vertex="sha256:a", stream=2, msg=b"out")]


# --- golden bytes from Docker 26 -----------------------------------------------------


def _golden(kind: str) -> bytes:
    return bytes.fromhex(GOLDEN[kind]["hex"])


def check_against_spec(data: bytes, message: str) -> None:
    """Every field of ``data`` (recursively, for known sub-messages) is a field of the spec."""
    by_number = {number: (name, t) for name, (number, t) in SPEC_FIELDS[message].items()}
    package = message.rsplit(".", 1)[0]
    for number, wire, value in iter_fields(data):
        assert number in by_number, f"{message}: the daemon sent field {number}, not in the spec"
        name, proto_type = by_number[number]
        assert wire == wire_type(proto_type, message), f"{message}.{name}: wire type {wire}"
        for candidate in (proto_type, f"{package}.{proto_type}"):
            if candidate in SPEC_FIELDS:
                check_against_spec(as_bytes(value), candidate)


GOLDEN_MESSAGE = {
    "/moby.buildkit.secrets.v1.Secrets/GetSecret": "moby.buildkit.secrets.v1.GetSecretRequest",
    "/moby.sshforward.v1.SSH/CheckAgent": "moby.sshforward.v1.CheckAgentRequest",
    "/moby.filesync.v1.Auth/Credentials": "moby.filesync.v1.CredentialsRequest",
    "/grpc.health.v1.Health/Check": "grpc.health.v1.HealthCheckRequest",
    "moby.filesync.v1.BytesMessage (tar export)": "moby.filesync.v1.BytesMessage",
}


@pytest.mark.parametrize("kind", sorted(GOLDEN))
def test_every_golden_message_fits_its_proto(kind: str) -> None:
    if kind.startswith("fsutil.Packet"):
        message = "fsutil.types.Packet"
    elif kind.startswith("moby.buildkit.v1.StatusResponse"):
        message = "moby.buildkit.v1.StatusResponse"
    else:
        message = GOLDEN_MESSAGE[kind]
    check_against_spec(_golden(kind), message)


def test_golden_trace_messages_decode() -> None:
    vertexes = control.decode_status_response(_golden("moby.buildkit.v1.StatusResponse (vertexes)"))
    assert vertexes.vertexes and all(v.digest.startswith("sha256:") for v in vertexes.vertexes)
    assert all(v.name for v in vertexes.vertexes)
    statuses = control.decode_status_response(_golden("moby.buildkit.v1.StatusResponse (statuses)"))
    assert statuses.statuses[0].id and statuses.statuses[0].vertex.startswith("sha256:")
    assert statuses.statuses[0].timestamp is not None and statuses.statuses[0].timestamp > 1.7e9
    logs = control.decode_status_response(_golden("moby.buildkit.v1.StatusResponse (logs)"))
    assert logs.logs[0].msg and logs.logs[0].stream in (1, 2)


def test_golden_file_transfer_packets_decode() -> None:
    kind, stat, ident, _ = exporters.decode_packet_full(
        _golden("fsutil.Packet.STAT (FileSend, daemon as sender)")
    )
    assert kind == filesync.PACKET_STAT and stat is not None
    assert stat.path == "bin" and stat.is_dir and stat.mtime_ns > 1_500_000_000 * 10**9
    assert exporters.decode_packet_full(
        _golden("fsutil.Packet.STAT-end (FileSend, daemon as sender)")
    ) == (filesync.PACKET_STAT, None, 0, b"")
    kind, _, ident, data = exporters.decode_packet_full(
        _golden("fsutil.Packet.DATA (FileSend, daemon as sender)")
    )
    assert kind == filesync.PACKET_DATA and ident > 0 and data
    assert filesync.decode_packet(_golden("fsutil.Packet.REQ (FileSync, daemon as receiver)"))[0] == (
        filesync.PACKET_REQ
    )
    assert filesync.decode_packet(_golden("fsutil.Packet.FIN (FileSync, daemon as receiver)")) == (
        filesync.PACKET_FIN, 0, b""
    )


def test_golden_session_requests_decode() -> None:
    secret = _golden("/moby.buildkit.secrets.v1.Secrets/GetSecret")
    assert services._string_field(secret, 1) == "token"
    assert _golden("/moby.sshforward.v1.SSH/CheckAgent") == b""  # ID "" = the default agent
    host = messages.FIELDS["moby.filesync.v1.CredentialsRequest"]["Host"][0]
    assert services._string_field(_golden("/moby.filesync.v1.Auth/Credentials"), host) == (
        "127.0.0.1:25999"
    )
    assert _golden("/grpc.health.v1.Health/Check") == b""  # service "" = the whole server
    (number, wire, chunk), = iter_fields(_golden("moby.filesync.v1.BytesMessage (tar export)"))
    assert (number, wire) == (1, LENGTH)
    header = as_bytes(chunk)[:512]
    assert header[257:262] == b"ustar" and header.split(b"\0")[0] == b"bin/"
