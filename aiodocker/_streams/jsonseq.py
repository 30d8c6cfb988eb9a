"""Decode Docker's streams of JSON values (pull, push, build, load, events, stats).

Layer ``_streams/``: imports only ``aiodocker.exceptions``, ``aiodocker.types`` and the
stdlib. No I/O: bytes go in through ``feed()``, values come out, and ``flush()`` says
whether the input ended cleanly.

The daemon writes one value per line, but values may also be concatenated with no
separator or separated by ``\\r\\n`` (any JSON whitespace). Two paths share the work:

* Fast path: when a chunk brings a newline, everything up to the last newline is
  decoded in one go by the stdlib's C decoder. A line is never cut inside a JSON string
  (strings cannot hold a raw newline), so this is nearly always the whole story.
* Scanner: bytes after the last newline, and a value that spans lines (pretty-printed
  JSON), are tracked by a resumable scanner that remembers nesting depth and whether
  it is inside a string, so a value is returned as soon as it is complete and no byte
  is scanned more than twice however finely the input is chunked.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

from aiodocker.exceptions import DockerStreamError, DockerTruncatedStreamError

__all__ = ("JSONSeqDecoder", "MAX_VALUE_BYTES", "check_stream_error")

# The longest JSON value (one line, as the daemon writes them) a stream may hold.
# BuildKit's progress arrives as base64 "aux" lines; BuildKit clips a step's log at
# 2 MiB, so a line of even a few clipped steps stays far below 8 MiB (6 MiB of binary
# once base64-encoded). The bound also keeps an endless line from a broken daemon to
# about 8 MiB of memory before it fails.
MAX_VALUE_BYTES: Final = 8 * 1024 * 1024

_QUOTE: Final = 0x22
_BACKSLASH: Final = 0x5C
_OPENERS: Final = frozenset(b"{[")

# Patterns, not compiled ones: re compiles (and caches) each on its first use, so an
# import that never decodes a stream does not pay for them; a decoding call looks its
# compiled patterns up once, not per value.
# Inside a container: the next byte that changes depth or opens a string.
_STRUCTURAL: Final = rb'[{}\[\]"]'
# At top level: the next byte that starts a value.
_NON_WHITESPACE: Final = rb"[^ \t\r\n]"
# After the first byte of a bare top-level scalar (number, true, false, null): its end.
_SCALAR_END: Final = rb'[ \t\r\n{}\[\]",:]'
# Always matches (maybe empty).
_WHITESPACE: Final = r"[ \t\r\n]*"
# A bare scalar that some more bytes would have made valid (true, -1.5e+3, ...).
_PARTIAL_SCALAR: Final = (
    rb"t|tr|tru|f|fa|fal|fals|n|nu|nul|-|-?(?:0|[1-9][0-9]*)(?:\.|(?:\.[0-9]+)?[eE][+-]?)"
)


class JSONSeqDecoder:
    """Split a byte stream into the JSON values it holds."""

    __slots__ = (
        "_buffer",
        "_decoder",
        "_pos",
        "_start",
        "_depth",
        "_in_string",
        "_in_scalar",
        "_multiline",
        "_error",
        "_max_value",
    )

    def __init__(self, max_value: int = MAX_VALUE_BYTES) -> None:
        self._max_value = max_value
        # Undecoded input; it always begins between two top-level values.
        self._buffer = bytearray()
        self._decoder = json.JSONDecoder()
        # Scanner state over self._buffer[:self._pos].
        self._pos = 0
        self._start = -1  # where the value being scanned began, -1 if none
        self._depth = 0
        self._in_string = False
        self._in_scalar = False
        # The value at the start of the buffer spans a newline: leave it to the scanner.
        self._multiline = False
        # Invalid input met after some values of the same chunk: raised on the next call.
        self._error: DockerStreamError | None = None

    def feed(self, data: bytes) -> list[Any]:
        """Consume ``data`` and return every value it completes.

        Valid values that precede invalid input in the same chunk are returned first;
        the error is raised by the next call.

        Raises:
            DockerStreamError: the input is not valid JSON (or not UTF-8), or one value
                is longer than ``max_value`` bytes.
        """
        if self._error is not None:
            raise self._error
        values: list[Any] = []
        if not data:
            return values
        buffer = self._buffer
        buffer += data
        try:
            while self._pos < len(buffer):
                if not self._multiline:
                    newline = buffer.rfind(b"\n", self._pos)
                    if newline >= 0:
                        self._decode_lines(newline + 1, values)
                if not self._scan(values):
                    break
                # A multi-line value just ended: the rest may take the fast path again.
        except DockerStreamError as exc:
            if not values:
                raise
            self._error = exc
        if len(buffer) > self._max_value and self._error is None:
            # What is left is one value that has not ended yet.
            self._error = DockerStreamError(
                f"a JSON value in the stream is longer than {self._max_value} bytes"
            )
            buffer.clear()
            self._reset(0)
            if not values:
                raise self._error
        return values

    def flush(self) -> list[Any]:
        """Return the value still buffered, if the input ended right after one.

        A bare number (or ``true``/``false``/``null``) at the very end is complete only
        once the input ends, so it is returned here.

        Raises:
            DockerTruncatedStreamError: the input ended inside a value.
            DockerStreamError: the rest of the input is not valid JSON.
        """
        values: list[Any] = []
        buffer = self._buffer
        try:
            if self._error is not None:
                raise self._error
            while self._scan(values):
                pass
            if self._in_scalar:
                scalar = bytes(buffer[self._start :])
                if re.fullmatch(_PARTIAL_SCALAR, scalar):
                    raise DockerTruncatedStreamError(
                        f"JSON stream ended inside a value: {scalar!r} is cut short"
                    )
                values.append(self._parse(memoryview(scalar)))
            elif self._start >= 0:
                if self._in_string:
                    missing = "a closing quote"
                else:
                    missing = f"{self._depth} closing brackets"
                raise DockerTruncatedStreamError(
                    f"JSON stream ended inside a value: {len(buffer) - self._start} bytes "
                    f"received, {missing} missing"
                )
        finally:
            self._error = None
            self._reset(len(buffer))
        return values

    def _decode_lines(self, end: int, values: list[Any]) -> None:
        """Decode ``buffer[:end]``, which ends with a newline, with the C decoder."""
        buffer = self._buffer
        with memoryview(buffer) as view, view[:end] as lines:
            text = _decode_utf8(lines)
        size = len(text)
        decode = self._decoder.raw_decode
        whitespace = re.compile(_WHITESPACE)
        pos = _skip_whitespace(whitespace, text, 0)
        while pos < size:
            try:
                value, pos = decode(text, pos)
            except json.JSONDecodeError as exc:
                if exc.pos < size:
                    raise DockerStreamError(f"invalid JSON in stream: {exc}") from exc
                # The value goes on past this newline: hand it over to the scanner.
                consumed = pos if text.isascii() else len(text[:pos].encode())
                self._reset(consumed)
                self._multiline = True
                return
            values.append(value)
            if pos < size and text[pos] == "\n":
                pos += 1  # the usual case: one value per line
            pos = _skip_whitespace(whitespace, text, pos)
        self._reset(end)

    def _scan(self, values: list[Any]) -> bool:
        """Scan the rest of the buffer, appending each value that ends in it.

        Returns True when it stopped right after a value that spanned a newline.
        """
        buffer = self._buffer
        structural = re.compile(_STRUCTURAL).search
        scalar_end = re.compile(_SCALAR_END).search
        non_whitespace = re.compile(_NON_WHITESPACE).search
        size = len(buffer)
        pos = self._pos
        start = self._start
        depth = self._depth
        in_string = self._in_string
        ended: list[tuple[int, int]] = []
        stop_early = False
        while pos < size:
            if in_string:
                quote = buffer.find(b'"', pos)
                if quote < 0:
                    pos = size
                    break
                pos = quote + 1
                backslash = quote - 1
                while buffer[backslash] == _BACKSLASH:
                    backslash -= 1
                if (quote - backslash) % 2 == 0:
                    continue  # an escaped quote
                in_string = False
                if depth:
                    continue
            elif depth:
                match = structural(buffer, pos)
                if match is None:
                    pos = size
                    break
                pos = match.end()
                byte = buffer[pos - 1]
                if byte == _QUOTE:
                    in_string = True
                    continue
                if byte in _OPENERS:
                    depth += 1
                    continue
                depth -= 1
                if depth:
                    continue
            elif self._in_scalar:
                match = scalar_end(buffer, pos)
                if match is None:
                    pos = size
                    break
                pos = match.start()
                self._in_scalar = False
            else:
                match = non_whitespace(buffer, pos)
                if match is None:
                    pos = size
                    break
                start = match.start()
                pos = start + 1
                byte = buffer[start]
                if byte == _QUOTE:
                    in_string = True
                elif byte in _OPENERS:
                    depth = 1
                else:
                    self._in_scalar = True
                continue
            # A top-level value ended at pos.
            ended.append((start, pos))
            start = -1
            if self._multiline:
                self._multiline = False
                stop_early = True
                break
        self._start, self._depth, self._in_string, self._pos = start, depth, in_string, pos
        if ended:
            self._take(ended, values)
        return stop_early

    def _take(self, ended: list[tuple[int, int]], values: list[Any]) -> None:
        """Parse the top-level values the scan found (``ended``) and drop them."""
        with memoryview(self._buffer) as view:
            for begin, end in ended:
                values.append(self._parse(view[begin:end]))
        self._consume(ended[-1][1])

    def _parse(self, data: memoryview) -> Any:
        with data:
            text = _decode_utf8(data)
        try:
            return self._decoder.decode(text)
        except json.JSONDecodeError as exc:
            raise DockerStreamError(f"invalid JSON in stream: {exc}") from exc

    def _consume(self, end: int) -> None:
        """Drop ``buffer[:end]`` and shift the scanner's positions to match."""
        del self._buffer[:end]
        self._pos -= end
        if self._start >= 0:
            self._start -= end

    def _reset(self, end: int) -> None:
        """Drop ``buffer[:end]``, which ends between values, and restart the scanner."""
        del self._buffer[:end]
        self._pos = 0
        self._start = -1
        self._depth = 0
        self._in_string = False
        self._in_scalar = False
        self._multiline = False


def _skip_whitespace(whitespace: re.Pattern[str], text: str, pos: int) -> int:
    match = whitespace.match(text, pos)
    return match.end() if match is not None else pos


def _decode_utf8(data: memoryview) -> str:
    try:
        return str(data, "utf-8")
    except UnicodeDecodeError as exc:
        raise DockerStreamError(f"JSON stream is not valid UTF-8: {exc}") from exc


def check_stream_error(item: Any) -> None:
    """Raise if ``item`` is an in-band error report of a pull/push/build/load stream.

    As aiodocker 0.27 decides it: an item reports an error when it is a dict with an
    ``error`` or an ``errorDetail`` key, whatever their values (the daemon omits both
    when there is no error).

    Raises:
        DockerStreamError: ``item`` reports an error. The message is
            ``errorDetail.message``, else ``error``, else "unknown error in Docker JSON
            stream"; ``error_detail`` is ``errorDetail`` when it is a dict,
            ``{"raw": errorDetail}`` when it is something else, ``{}`` when it is
            missing or null.
    """
    if not isinstance(item, dict) or ("error" not in item and "errorDetail" not in item):
        return
    detail = item.get("errorDetail")
    message: Any
    error_detail: dict[str, Any]
    if isinstance(detail, dict):
        message = detail.get("message") or item.get("error")
        error_detail = detail
    else:
        message = item.get("error")
        error_detail = {} if detail is None else {"raw": detail}
    if not message:
        message = "unknown error in Docker JSON stream"
    raise DockerStreamError(str(message), error_detail=error_detail)
