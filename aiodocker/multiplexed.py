"""Compatibility facade: keeps aiodocker 0.27's import path ``aiodocker.multiplexed``.

Reads a logs or attach-style response that a caller got from ``Docker._query`` as
text, one item per frame (a raw chunk under a tty); the code lives in
``aiodocker._legacy.held_streams`` and ``aiodocker._streams``.
"""

from __future__ import annotations

from ._legacy.held_streams import multiplexed_result_list, multiplexed_result_stream
from ._streams.frames import FrameDecoder, Message, RawDecoder
from ._streams.text import TextDecoder

__all__ = (
    "FrameDecoder",
    "Message",
    "RawDecoder",
    "TextDecoder",
    "multiplexed_result_list",
    "multiplexed_result_stream",
)
