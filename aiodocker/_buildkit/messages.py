"""The field tables of every BuildKit message this client reads or writes by hand.

Layer: ``_buildkit``; imports nothing.

One entry per message, ``"package.Message": {field: (number, proto type)}``,
naming only the fields the code uses. The encoders and decoders beside this
module (:mod:`.control`, :mod:`.filesync`, :mod:`.exporters`, :mod:`.services`,
:mod:`.session`) follow these numbers; ``tests/unit/buildkit/test_buildkit_protocol.py``
checks each table against the vendored ``.proto`` files in ``spec/buildkit/``
(names, numbers, types, hence wire types) and the code's bytes against the tables.
"""

from __future__ import annotations

from typing import Final

FIELDS: Final[dict[str, dict[str, tuple[int, str]]]] = {
    # api/services/control/control.proto (decoded: control.py)
    "moby.buildkit.v1.StatusResponse": {
        "vertexes": (1, "Vertex"),
        "statuses": (2, "VertexStatus"),
        "logs": (3, "VertexLog"),
        "warnings": (4, "VertexWarning"),
    },
    "moby.buildkit.v1.Vertex": {
        "digest": (1, "string"),
        "inputs": (2, "string"),
        "name": (3, "string"),
        "cached": (4, "bool"),
        "started": (5, "google.protobuf.Timestamp"),
        "completed": (6, "google.protobuf.Timestamp"),
        "error": (7, "string"),
    },
    "moby.buildkit.v1.VertexStatus": {
        "ID": (1, "string"),
        "vertex": (2, "string"),
        "name": (3, "string"),
        "current": (4, "int64"),
        "total": (5, "int64"),
        "timestamp": (6, "google.protobuf.Timestamp"),
        "started": (7, "google.protobuf.Timestamp"),
        "completed": (8, "google.protobuf.Timestamp"),
    },
    "moby.buildkit.v1.VertexLog": {
        "vertex": (1, "string"),
        "timestamp": (2, "google.protobuf.Timestamp"),
        "stream": (3, "int64"),
        "msg": (4, "bytes"),
    },
    "moby.buildkit.v1.VertexWarning": {
        "vertex": (1, "string"),
        "level": (2, "int64"),
        "short": (3, "bytes"),
        "detail": (4, "bytes"),
        "url": (5, "string"),
    },
    "google.protobuf.Timestamp": {"seconds": (1, "int64"), "nanos": (2, "int32")},
    # tonistiigi/fsutil types/wire.proto, types/stat.proto (filesync.py, exporters.py)
    "fsutil.types.Packet": {
        "type": (1, "PacketType"),
        "stat": (2, "Stat"),
        "ID": (3, "uint32"),
        "data": (4, "bytes"),
    },
    "fsutil.types.Stat": {
        "path": (1, "string"),
        "mode": (2, "uint32"),
        "size": (5, "int64"),
        "modTime": (6, "int64"),
        "linkname": (7, "string"),
        "devmajor": (8, "int64"),
        "devminor": (9, "int64"),
    },
    # session/filesync/filesync.proto: the tar exporters' stream (exporters.py)
    "moby.filesync.v1.BytesMessage": {"data": (1, "bytes")},
    # session/secrets, session/sshforward, session/auth (services.py)
    "moby.buildkit.secrets.v1.GetSecretRequest": {"ID": (1, "string")},
    "moby.buildkit.secrets.v1.GetSecretResponse": {"data": (1, "bytes")},
    "moby.sshforward.v1.CheckAgentRequest": {"ID": (1, "string")},
    "moby.sshforward.v1.BytesMessage": {"data": (1, "bytes")},
    "moby.filesync.v1.CredentialsRequest": {"Host": (1, "string")},
    "moby.filesync.v1.CredentialsResponse": {"Username": (1, "string"), "Secret": (2, "string")},
    # grpc health (session.py)
    "grpc.health.v1.HealthCheckResponse": {"status": (1, "ServingStatus")},
}

ENUMS: Final[dict[str, dict[str, int]]] = {
    "fsutil.types.Packet.PacketType": {
        "PACKET_STAT": 0,
        "PACKET_REQ": 1,
        "PACKET_DATA": 2,
        "PACKET_FIN": 3,
        "PACKET_ERR": 4,
    },
    "grpc.health.v1.HealthCheckResponse.ServingStatus": {"SERVING": 1},
}
