"""The protobuf wire format, for the few BuildKit messages this client reads and writes.

Layer: ``_buildkit``; imports the stdlib only.

Hand-written on purpose: the client reads about twenty fields of a handful of
messages (listed with their source in :mod:`.messages`), so a decoder of the
wire format (varint, 64-bit, length-delimited, 32-bit) plus an encoder of the
same types is smaller than generated code and its runtime-version coupling.
Unknown fields are skipped, as protobuf requires.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Final

VARINT: Final = 0
FIXED64: Final = 1
LENGTH: Final = 2
FIXED32: Final = 5

_FIXED64: Final = struct.Struct("<Q")
_FIXED32: Final = struct.Struct("<I")

Field = tuple[int, int, "int | bytes"]  # (number, wire type, value)


class WireError(ValueError):
    """The bytes are not a well-formed protobuf message."""


def read_varint(data: bytes | memoryview, pos: int) -> tuple[int, int]:
    """Return the varint at ``pos`` and the position after it."""
    result = 0
    shift = 0
    end = len(data)
    while True:
        if pos >= end:
            raise WireError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise WireError("varint longer than 10 bytes")


def iter_fields(data: bytes) -> Iterator[Field]:
    """Yield ``(number, wire_type, value)`` for each field of a message.

    Varints and fixed-width values come as unsigned ints, length-delimited
    ones as bytes. Groups (wire types 3 and 4, unused by proto3) are rejected.

    Raises:
        WireError: truncated or malformed input.
    """
    pos = 0
    end = len(data)
    while pos < end:
        key, pos = read_varint(data, pos)
        number, wire_type = key >> 3, key & 7
        if number == 0:
            raise WireError("field number 0")
        value: int | bytes
        if wire_type == VARINT:
            value, pos = read_varint(data, pos)
        elif wire_type == LENGTH:
            size, pos = read_varint(data, pos)
            if pos + size > end:
                raise WireError("truncated length-delimited field")
            value = data[pos : pos + size]
            pos += size
        elif wire_type == FIXED64:
            if pos + 8 > end:
                raise WireError("truncated 64-bit field")
            (value,) = _FIXED64.unpack_from(data, pos)
            pos += 8
        elif wire_type == FIXED32:
            if pos + 4 > end:
                raise WireError("truncated 32-bit field")
            (value,) = _FIXED32.unpack_from(data, pos)
            pos += 4
        else:
            raise WireError(f"unsupported wire type {wire_type}")
        yield number, wire_type, value


def as_int64(value: int) -> int:
    """Interpret an unsigned varint as a two's-complement int64."""
    return value - (1 << 64) if value >= 1 << 63 else value


def as_bytes(value: int | bytes) -> bytes:
    if not isinstance(value, bytes):
        raise WireError("expected a length-delimited field")
    return value


def as_str(value: int | bytes) -> str:
    return as_bytes(value).decode("utf-8", "replace")


def as_uint(value: int | bytes) -> int:
    if isinstance(value, bytes):
        raise WireError("expected a scalar field")
    return value


# --- encoding -----------------------------------------------------------------------


def encode_varint(value: int) -> bytes:
    if value < 0:
        value += 1 << 64
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def key(number: int, wire_type: int) -> bytes:
    return encode_varint(number << 3 | wire_type)


def field_varint(number: int, value: int) -> bytes:
    """A varint field; proto3 leaves a zero value out."""
    if not value:
        return b""
    return key(number, VARINT) + encode_varint(value)


def field_bytes(number: int, value: bytes | str, *, keep_empty: bool = False) -> bytes:
    """A length-delimited field (bytes, string or an encoded message)."""
    raw = value.encode() if isinstance(value, str) else value
    if not raw and not keep_empty:
        return b""
    return key(number, LENGTH) + encode_varint(len(raw)) + raw
