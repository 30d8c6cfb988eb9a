"""The protobuf wire codec under the BuildKit messages."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aiodocker._buildkit.wire import (
    WireError,
    as_int64,
    encode_varint,
    field_bytes,
    field_varint,
    iter_fields,
    read_varint,
)


@given(st.integers(min_value=0, max_value=2**64 - 1))
def test_varint_round_trips(value: int) -> None:
    encoded = encode_varint(value)
    assert read_varint(encoded, 0) == (value, len(encoded))


def test_negative_int64_is_ten_byte_twos_complement() -> None:
    encoded = encode_varint(-2)
    assert len(encoded) == 10
    assert as_int64(read_varint(encoded, 0)[0]) == -2


def test_known_encoding_of_150_matches_the_protobuf_documentation() -> None:
    assert field_varint(1, 150) == b"\x08\x96\x01"
    assert field_bytes(2, "testing") == b"\x12\x07testing"


def test_iter_fields_skips_nothing_and_reads_fixed_width_fields() -> None:
    data = (
        b"\x08\x96\x01" + b"\x11" + (7).to_bytes(8, "little") + b"\x1d" + (9).to_bytes(4, "little")
    )
    assert list(iter_fields(data)) == [(1, 0, 150), (2, 1, 7), (3, 5, 9)]


@pytest.mark.parametrize(
    "data",
    [b"\x08", b"\x12\x05abc", b"\x11\x00\x00", b"\x0b", b"\x00\x01", b"\xff" * 11],
    ids=["varint", "length", "fixed64", "group", "field-zero", "long-varint"],
)
def test_malformed_input_raises_wire_error(data: bytes) -> None:
    with pytest.raises(WireError):
        list(iter_fields(data))


def test_proto3_zero_values_are_left_out_unless_asked() -> None:
    assert field_varint(4, 0) == b""
    assert field_bytes(1, b"") == b""
    assert field_bytes(1, b"", keep_empty=True) == b"\x0a\x00"
