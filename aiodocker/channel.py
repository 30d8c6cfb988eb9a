"""Fan-out channel, kept at aiodocker's import path ``aiodocker.channel``.

A compatibility module: it re-exports :mod:`aiodocker._streams.channel`.
"""

from __future__ import annotations

from ._streams.channel import Channel, ChannelSubscriber

__all__ = ("Channel", "ChannelSubscriber")
