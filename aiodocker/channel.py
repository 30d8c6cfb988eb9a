"""Compatibility facade: keeps aiodocker 0.27's import path ``aiodocker.channel``.

The fan-out channel lives in ``aiodocker._streams.channel``.
"""

from __future__ import annotations

from ._streams.channel import Channel, ChannelSubscriber

__all__ = ("Channel", "ChannelSubscriber")
