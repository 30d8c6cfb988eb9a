"""Compatibility facade: keeps aiodocker 0.27's import path ``aiodocker.constants``.

The protocol constants live in ``aiodocker._streams.frames``.
"""

from __future__ import annotations

from ._streams.frames import HEADER_SIZE as STREAM_HEADER_SIZE_BYTES

__all__ = ("STREAM_HEADER_SIZE_BYTES",)
