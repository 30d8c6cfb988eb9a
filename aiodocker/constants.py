"""Protocol constants kept at aiodocker's import path."""

from __future__ import annotations

from typing import Final

STREAM_HEADER_SIZE_BYTES: Final = 8
