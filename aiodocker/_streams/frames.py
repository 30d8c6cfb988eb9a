"""Decode Docker's multiplexed stdout/stderr framing, and raw (tty) output.

Layer ``_streams/``: imports only ``aiodocker.exceptions``, ``aiodocker.types`` and the
stdlib. No I/O: bytes go in through ``feed()``, messages come out, and ``flush()``
says whether the input ended cleanly.

A multiplexed stream is a sequence of frames. Each frame is an 8-byte header (stream
type byte, three zero bytes, big-endian 32-bit payload length) followed by the payload.
"""

from __future__ import annotations

import struct
from typing import Final, NamedTuple, TypeAlias

from aiodocker.exceptions import DockerStreamError, DockerTruncatedStreamError

__all__ = (
    "STDIN",
    "STDOUT",
    "STDERR",
    "SYSTEMERR",
    "HEADER_SIZE",
    "MULTIPLEXED_STREAM_TYPE",
    "RAW_STREAM_TYPE",
    "Message",
    "FrameDecoder",
    "RawDecoder",
    "decoder_for",
    "encode_frame",
)

STDIN: Final = 0
STDOUT: Final = 1
STDERR: Final = 2
SYSTEMERR: Final = 3
HEADER_SIZE: Final = 8
MAX_PAYLOAD_SIZE: Final = 0xFFFFFFFF
# A frame is buffered until it is whole only up to this size; the received part of a
# larger one is handed out in pieces, so a header announcing 4 GiB costs nothing up
# front and never more than this while its payload arrives.
MAX_BUFFERED_PAYLOAD: Final = 1024 * 1024

MULTIPLEXED_STREAM_TYPE: Final = "application/vnd.docker.multiplexed-stream"
RAW_STREAM_TYPE: Final = "application/vnd.docker.raw-stream"

# The first header word is the stream type in the high byte and three zero bytes.
_HEADER: Final = struct.Struct(">LL")
_VALID_TYPE_WORDS: Final = frozenset(stream << 24 for stream in range(SYSTEMERR + 1))


# What feed() accepts: a transport may hand over a view of a buffer it reuses.
BytesLike: TypeAlias = "bytes | bytearray | memoryview"


class Message(NamedTuple):
    """One chunk of container output and the stream it was written to."""

    stream: int
    data: bytes


class FrameDecoder:
    """Split a multiplexed byte stream into ``Message`` objects, keeping the stream id.

    Frames may be cut at any byte, including inside the header; a frame is returned once
    all of it has arrived, except that a frame larger than ``MAX_BUFFERED_PAYLOAD``
    comes out in pieces of at least that size. Zero-length frames carry nothing and are
    dropped.
    """

    __slots__ = ("_buffer", "_stream", "_need")

    def __init__(self) -> None:
        # Bytes of an incomplete header or payload carried over from earlier chunks.
        self._buffer = bytearray()
        # Stream id and payload size of the frame whose header has been read (-1: none).
        self._stream = -1
        self._need = 0

    def feed(self, data: BytesLike) -> list[Message]:
        """Consume ``data`` and return every frame it completes.

        Raises:
            DockerStreamError: a header is malformed (the input is not multiplexed).
        """
        messages: list[Message] = []
        if not data:
            return messages
        view = memoryview(data)
        size = len(view)
        pos = 0
        buffer = self._buffer

        # Finish what earlier chunks started: a header, then a payload.
        if self._stream < 0 and buffer:
            take = min(HEADER_SIZE - len(buffer), size)
            buffer += view[:take]
            pos = take
            if len(buffer) < HEADER_SIZE:
                return messages
            stream, length = _parse_header(buffer, 0)
            buffer.clear()
            if length:
                self._stream = stream
                self._need = length
        if self._stream >= 0:
            take = min(self._need - len(buffer), size - pos)
            if not buffer and take == self._need:
                messages.append(Message(self._stream, bytes(view[pos : pos + take])))
            else:
                buffer += view[pos : pos + take]
                if len(buffer) < self._need:
                    return self._spill(messages)
                messages.append(Message(self._stream, bytes(buffer)))
                buffer.clear()
            pos += take
            self._stream = -1

        # Whole frames straight from the new chunk, without copying it into the buffer.
        while size - pos >= HEADER_SIZE:
            stream, length = _parse_header(view, pos)
            pos += HEADER_SIZE
            if size - pos < length:
                self._stream = stream
                self._need = length
                buffer += view[pos:]
                return self._spill(messages)
            if length:
                messages.append(Message(stream, bytes(view[pos : pos + length])))
            pos += length
        if pos < size:
            buffer += view[pos:]
        return messages

    def _spill(self, messages: list[Message]) -> list[Message]:
        """Hand out the received part of a large incomplete frame, keeping the rest due."""
        buffer = self._buffer
        if len(buffer) >= MAX_BUFFERED_PAYLOAD:
            messages.append(Message(self._stream, bytes(buffer)))
            self._need -= len(buffer)
            buffer.clear()
        return messages

    def flush(self) -> list[Message]:
        """Return nothing more, and check that the input ended on a frame boundary.

        Raises:
            DockerTruncatedStreamError: the input ended inside a header or a payload;
                the message says how many bytes were missing.
        """
        buffer = self._buffer
        stream, need = self._stream, self._need
        have = len(buffer)
        self._stream = -1
        self._need = 0
        buffer.clear()
        if stream >= 0:
            raise DockerTruncatedStreamError(
                f"multiplexed stream ended inside a frame of stream {stream}: "
                f"got {have} of {need} payload bytes, {need - have} bytes missing"
            )
        if have:
            raise DockerTruncatedStreamError(
                f"multiplexed stream ended inside a frame header: got {have} of "
                f"{HEADER_SIZE} header bytes, {HEADER_SIZE - have} bytes missing"
            )
        return []


def _parse_header(data: memoryview | bytearray, offset: int) -> tuple[int, int]:
    """Return the stream id and payload length of the header at ``offset``."""
    word: int
    length: int
    word, length = _HEADER.unpack_from(data, offset)
    if word not in _VALID_TYPE_WORDS:
        header = bytes(data[offset : offset + HEADER_SIZE]).hex(" ")
        raise DockerStreamError(
            f"malformed multiplexed frame header {header}: the stream is probably not "
            "multiplexed (a tty container's output is raw)"
        )
    return word >> 24, length


class RawDecoder:
    """Pass raw (tty) output through: every non-empty chunk becomes a stdout ``Message``."""

    __slots__ = ()

    def feed(self, data: BytesLike) -> list[Message]:
        """Return ``data`` as one stdout message, or nothing if it is empty."""
        return [Message(STDOUT, bytes(data))] if data else []

    def flush(self) -> list[Message]:
        """Return nothing: raw output has no framing that could be cut short."""
        return []


def decoder_for(content_type: str | None, tty: bool | None) -> FrameDecoder | RawDecoder:
    """Choose the decoder for a logs or attach response.

    The rule:

    * ``application/vnd.docker.multiplexed-stream`` is always trusted: frames.
    * ``application/vnd.docker.raw-stream`` is trusted only when ``tty`` is None
      (unknown). Before API 1.42 daemons send it for attach/exec even when the output
      is multiplexed, so when ``tty`` is known, ``tty`` decides.
    * Anything else, or no Content-Type: ``tty`` decides; True means raw, False or
      unknown means frames (a non-tty container is what Docker multiplexes).

    Parameters (``; charset=...``) and letter case in ``content_type`` are ignored.
    """
    media_type = (content_type or "").partition(";")[0].strip().lower()
    if media_type == MULTIPLEXED_STREAM_TYPE:
        return FrameDecoder()
    if tty is None:
        return RawDecoder() if media_type == RAW_STREAM_TYPE else FrameDecoder()
    return RawDecoder() if tty else FrameDecoder()


def encode_frame(stream: int, data: bytes) -> bytes:
    """Return ``data`` framed for ``stream`` as the daemon would send it.

    Raises:
        ValueError: ``stream`` is not 0-3 or ``data`` is longer than 2**32 - 1 bytes.
    """
    if not STDIN <= stream <= SYSTEMERR:
        raise ValueError(f"stream must be 0 (stdin) to 3 (systemerr), got {stream!r}")
    if len(data) > MAX_PAYLOAD_SIZE:
        raise ValueError(f"frame payload too large: {len(data)} bytes")
    return _HEADER.pack(stream << 24, len(data)) + data
