"""Compatibility facade: keeps aiodocker 0.27's import path ``aiodocker.jsonstream``.

Reads a response that a caller got from ``Docker._query`` (or any object with
``content.readline()`` and ``close()``, as aiodocker 0.27 accepts) as a sequence of
JSON values; the code lives in ``aiodocker._legacy.held_streams``.
"""

from __future__ import annotations

from ._legacy.held_streams import json_stream_list, json_stream_stream
from ._streams.jsonseq import JSONSeqDecoder, check_stream_error
from ._streams.jsonseq import check_stream_error as _maybe_raise_stream_error  # noqa: F401 (0.27's name)

__all__ = ("JSONSeqDecoder", "check_stream_error", "json_stream_list", "json_stream_stream")
