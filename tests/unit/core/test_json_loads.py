"""``aiodocker._json.loads`` decodes exactly as ``json.loads``, with or without orjson."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aiodocker import _json

EDGE_CASES = [
    b"18446744073709551616",  # 2**64: orjson would give a float
    b'{"Size": 123456789012345678901234567890}',
    b"[-9223372036854775809, 9223372036854775807, 1e400, -0.0, 5e-324]",
    b'{"Id": "1234567890123456789012abcdef", "n": 1234567890123456789}',
    '{"Name": "caf\u00e9 \u65e5\u672c \U0001f433", "k\u00fc": "\\u00e9"}'.encode(),
    b'["\\ud800", "\\ud83d\\udc33"]',  # a lone surrogate orjson refuses; a valid pair
    b"NaN",
    b"[Infinity, -Infinity]",
    b"\xef\xbb\xbf{}",  # a UTF-8 byte-order mark
    b'{"a": 1, "a": 2}',
    b"  \r\n[1, 2.5, true, false, null]\n",
]

INVALID = [b"", b"{", b"[1,]", b"\xff\xfe", b'{"a": 1} x', b"01"]


def _same(a: Any, b: Any) -> bool:
    # repr tells 1 from 1.0 and True from 1, keeps key order, and nan == nan
    return repr(a) == repr(b)


@pytest.fixture(params=["orjson", "stdlib"])
def decoder(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    if request.param == "orjson":
        pytest.importorskip("orjson")
    else:
        monkeypatch.setitem(sys.modules, "orjson", None)  # import orjson now fails
    monkeypatch.setattr(_json, "_decode", None)
    yield request.param


def test_orjson_is_used_when_installed_and_json_otherwise(decoder: str) -> None:
    _json.loads(b"{}")
    assert (_json._decode is json.loads) == (decoder == "stdlib")


@pytest.mark.parametrize("data", EDGE_CASES)
def test_edge_cases_decode_as_the_stdlib_does(decoder: str, data: bytes) -> None:
    assert _same(_json.loads(data), json.loads(data))
    assert _same(_json.loads(bytearray(data)), json.loads(data))


def test_big_integers_stay_exact_ints(decoder: str) -> None:
    value = _json.loads(b'{"a": [18446744073709551616, -99999999999999999999]}')
    assert value == {"a": [2**64, -99999999999999999999]}
    assert all(type(n) is int for n in value["a"])


@pytest.mark.parametrize("data", INVALID)
def test_invalid_json_raises_the_stdlib_error(decoder: str, data: bytes) -> None:
    with pytest.raises(ValueError) as expected:
        json.loads(data)
    with pytest.raises(type(expected.value)):
        _json.loads(data)


def test_str_input_decodes_too(decoder: str) -> None:
    assert _json.loads('{"\u00e9": 1}') == {"\u00e9": 1}


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(value=JSON_VALUES, ascii_only=st.booleans())
def test_any_document_decodes_as_the_stdlib_does(value: Any, ascii_only: bool) -> None:
    # the installed decoder: orjson when it is installed (lone surrogates make invalid UTF-8)
    data = json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    try:
        expected = json.loads(data)
    except ValueError as exc:
        with pytest.raises(type(exc)):
            _json.loads(data)
        return
    assert _same(_json.loads(data), expected)
