"""JSON decoding of response bodies: orjson when it is installed, else the stdlib.

A leaf module: imports the stdlib (and orjson, on the first decode) only; anyone
may import it. ``loads`` gives exactly what ``json.loads`` gives. orjson is only
trusted where it agrees: it turns integers beyond 64 bits into floats (so a body
with a 19-digit number goes to ``json``), and anything it refuses (NaN, lone
surrogates, a BOM, invalid JSON) is decided by ``json``, which also raises the
error a caller would get without orjson.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Final

__all__ = ("loads",)

# bytes.translate maps every digit to "0", every byte that may precede a number
# token (",", ":", "[", "-", whitespace) to " " and anything else to "x"; a long
# integer then shows up as " " + 19 zeros, or 19 zeros at the very start. Digit
# runs inside strings (hex IDs) follow a letter or a quote and never match.
_DIGIT_CLASSES: Final = bytes(
    0x30 if chr(c) in "0123456789" else 0x20 if chr(c) in " \t\r\n,:[-" else 0x78
    for c in range(256)
)
_LONG_RUN: Final = b"0" * 19
_LONG_NUMBER: Final = b" " + _LONG_RUN


def _may_hold_long_integer(data: bytes | bytearray) -> bool:
    classes = data.translate(_DIGIT_CLASSES)
    return _LONG_NUMBER in classes or classes.startswith(_LONG_RUN)


def _choose() -> Callable[[Any], Any]:
    try:
        import orjson  # imported on first use: it costs ~5 ms at start-up
    except ImportError:
        return json.loads
    fast = orjson.loads
    refused = orjson.JSONDecodeError

    def loads_fast(data: Any) -> Any:
        if type(data) is not bytes and type(data) is not bytearray:
            return json.loads(data)
        if _may_hold_long_integer(data):
            return json.loads(data)
        try:
            return fast(data)
        except refused:
            return json.loads(data)

    return loads_fast


_decode: Callable[[Any], Any] | None = None


def loads(data: bytes | bytearray | str) -> Any:
    """Decode one JSON document exactly as ``json.loads`` does, faster when orjson is installed.

    Raises:
        ValueError: the data is not JSON (``json.JSONDecodeError``, or ``UnicodeDecodeError``).
    """
    global _decode
    decode = _decode
    if decode is None:
        decode = _decode = _choose()
    return decode(data)
