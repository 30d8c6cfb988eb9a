"""I/O-free stream decoders and the fan-out channel.

Layer ``_streams/``: imports only ``aiodocker.exceptions``, ``aiodocker.types`` and the
stdlib; never ``_core/`` or ``_transport/``. Decoders take bytes through ``feed()`` and
report a cut-short input from ``flush()``; async wrappers around them live elsewhere.
"""

from __future__ import annotations

from .channel import Channel, ChannelSubscriber
from .frames import (
    HEADER_SIZE,
    MULTIPLEXED_STREAM_TYPE,
    RAW_STREAM_TYPE,
    STDERR,
    STDIN,
    STDOUT,
    SYSTEMERR,
    FrameDecoder,
    Message,
    RawDecoder,
    decoder_for,
    encode_frame,
)
from .jsonseq import JSONSeqDecoder, check_stream_error
from .text import LineSplitter, TextDecoder

__all__ = (
    "Channel",
    "ChannelSubscriber",
    "FrameDecoder",
    "HEADER_SIZE",
    "JSONSeqDecoder",
    "LineSplitter",
    "MULTIPLEXED_STREAM_TYPE",
    "Message",
    "RAW_STREAM_TYPE",
    "RawDecoder",
    "STDERR",
    "STDIN",
    "STDOUT",
    "SYSTEMERR",
    "TextDecoder",
    "check_stream_error",
    "decoder_for",
    "encode_frame",
)
