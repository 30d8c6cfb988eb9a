"""Multiplexed-output helpers, kept at aiodocker's import path ``aiodocker.multiplexed``.

A compatibility module over :mod:`aiodocker._responses` and
:mod:`aiodocker._streams`: it reads a logs or attach-style response that a caller
got from ``Docker._query`` as text, one item per frame (a raw chunk under a tty),
decoded incrementally per stream with invalid bytes dropped.
"""

from __future__ import annotations

from ._responses import ResponseStream, collect
from ._streams.frames import FrameDecoder, Message, RawDecoder
from ._streams.text import TextDecoder
from ._transport.base import Response

__all__ = (
    "FrameDecoder",
    "Message",
    "RawDecoder",
    "TextDecoder",
    "multiplexed_result_list",
    "multiplexed_result_stream",
)


class _Text:
    def __init__(self, frames: FrameDecoder | RawDecoder, encoding: str) -> None:
        if encoding.replace("-", "").replace("_", "").lower() != "utf8":
            raise ValueError(f"only utf-8 output is supported, not {encoding!r}")
        self._frames = frames
        self._text = TextDecoder("ignore")

    def feed(self, data: bytes) -> list[str]:
        return [text for msg in self._frames.feed(data) if (text := self._text.decode(msg))]

    def flush(self) -> list[str]:
        self._frames.flush()
        rest = self._text.flush()
        return [rest] if rest else []


def multiplexed_result_stream(
    response: Response, is_tty: bool = False, encoding: str = "utf-8"
) -> ResponseStream[str]:
    """Iterate over the text of ``response`` (released at the end or on exit).

    Raises:
        DockerTruncatedStreamError: the body ended inside a frame.
    """
    frames: FrameDecoder | RawDecoder = RawDecoder() if is_tty else FrameDecoder()
    text = _Text(frames, encoding)

    async def opener() -> Response:
        return response

    return ResponseStream(opener, lambda _: text)


async def multiplexed_result_list(
    response: Response, is_tty: bool = False, encoding: str = "utf-8"
) -> list[str]:
    """Read the text of ``response`` into a list."""
    return await collect(multiplexed_result_stream(response, is_tty, encoding))
