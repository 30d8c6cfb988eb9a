"""Turn container output bytes into text and lines.

Layer ``_streams/``: imports only ``aiodocker.exceptions``, ``aiodocker.types`` and the
stdlib. No I/O.
"""

from __future__ import annotations

import codecs
import re
from typing import Final

from .frames import FrameDecoder, Message, RawDecoder

__all__ = ("MAX_LINE_BYTES", "FrameText", "LineSplitter", "TextDecoder")

_LINE: Final = re.compile(rb"[^\n]*\n")
# A line longer than this (output that never writes a newline) is handed out in
# pieces of this size, so memory stays bounded whatever a container prints.
MAX_LINE_BYTES: Final = 1024 * 1024


class TextDecoder:
    """Decode UTF-8 incrementally, with one decoder per stream id.

    A character whose bytes are split across frames is decoded whole, and bytes of
    stdout never complete a character begun on stderr (or the other way round).

    Args:
        errors: the codecs error handler for invalid UTF-8 (``"strict"``, ``"replace"``,
            ``"ignore"``, ...).
    """

    __slots__ = ("_errors", "_decoders")

    def __init__(self, errors: str = "strict") -> None:
        codecs.lookup_error(errors)  # fail now on a misspelt handler
        self._errors = errors
        self._decoders: dict[int, codecs.IncrementalDecoder] = {}

    def decode(self, msg: Message) -> str:
        """Return the text completed by ``msg.data`` on ``msg.stream``.

        Raises:
            UnicodeDecodeError: the bytes are not UTF-8 and ``errors`` is ``"strict"``.
        """
        decoder = self._decoders.get(msg.stream)
        if decoder is None:
            decoder = self._decoders[msg.stream] = codecs.getincrementaldecoder("utf-8")(
                self._errors
            )
        return decoder.decode(msg.data)

    def flush(self, stream: int | None = None) -> str:
        """Return what is left of ``stream`` (of every stream, in id order, if None).

        Bytes of an unfinished character are handled by ``errors`` (with ``"strict"``
        they raise ``UnicodeDecodeError``). The stream's decoder is reset.
        """
        if stream is not None:
            decoder = self._decoders.pop(stream, None)
            return decoder.decode(b"", final=True) if decoder is not None else ""
        decoders = sorted(self._decoders.items())
        self._decoders.clear()
        return "".join(decoder.decode(b"", final=True) for _, decoder in decoders)


class FrameText:
    """Frames (or raw tty chunks) in, text out: one item per non-empty piece.

    The one frames-to-text decoder of container, service and task logs. UTF-8 is
    decoded per stream by a :class:`TextDecoder` with the ``errors`` handler.
    """

    __slots__ = ("_frames", "_text")

    def __init__(self, frames: FrameDecoder | RawDecoder, errors: str = "ignore") -> None:
        self._frames = frames
        self._text = TextDecoder(errors)

    def feed(self, data: bytes) -> list[str]:
        decode = self._text.decode
        return [text for text in map(decode, self._frames.feed(data)) if text]

    def flush(self) -> list[str]:
        """Return the rest of the text.

        Raises:
            DockerTruncatedStreamError: the input ended inside a frame.
        """
        texts = [text for text in map(self._text.decode, self._frames.flush()) if text]
        rest = self._text.flush()
        return [*texts, rest] if rest else texts


class LineSplitter:
    """Split bytes into lines, each returned with its trailing ``b"\\n"``.

    A line longer than ``max_line`` bytes comes out in pieces of that size, the last
    one with the newline.
    """

    __slots__ = ("_partial", "_max_line")

    def __init__(self, max_line: int = MAX_LINE_BYTES) -> None:
        self._partial = bytearray()
        self._max_line = max_line

    def feed(self, data: bytes) -> list[bytes]:
        """Consume ``data`` and return every line (or piece of a long line) it completes."""
        end = data.rfind(b"\n") + 1
        if not end:
            self._partial += data
            return self._pieces()
        partial = self._partial
        span = len(partial) + end  # no line can be longer than what the lines took
        if partial:
            partial += memoryview(data)[:end]
            lines = _LINE.findall(partial)
            partial.clear()
        else:
            lines = _LINE.findall(data, 0, end)
        partial += memoryview(data)[end:]
        longest = self._max_line
        if len(partial) >= longest or (span > longest and any(len(x) > longest for x in lines)):
            return [piece for line in lines for piece in self._split(line)] + self._pieces()
        return lines

    def _split(self, line: bytes) -> list[bytes]:
        size = self._max_line
        return [line[i : i + size] for i in range(0, len(line), size)]

    def _pieces(self) -> list[bytes]:
        """Hand out whole ``max_line`` pieces of the unfinished line."""
        partial = self._partial
        if len(partial) < self._max_line:
            return []
        keep = len(partial) % self._max_line
        pieces = self._split(bytes(partial[: len(partial) - keep]))
        del partial[: len(partial) - keep]
        return pieces

    def flush(self) -> list[bytes]:
        """Return the last line if it has no newline (a normal end, not an error)."""
        rest = bytes(self._partial)
        self._partial.clear()
        return [rest] if rest else []
