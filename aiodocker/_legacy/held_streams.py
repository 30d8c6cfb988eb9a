"""Streams over a response the caller already holds: 0.27's ``json_stream_*`` and
``multiplexed_result_*`` helpers, built on :mod:`aiodocker._responses`.

Layer: ``_legacy`` (0.27 compatibility). Imports ``_responses``, ``_streams`` and
``_transport.base``. Re-exported at 0.27's import paths by the facades
``aiodocker.jsonstream`` and ``aiodocker.multiplexed``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Callable
from typing import Any

from .._responses import LOG_DECODE_ERRORS, ResponseStream, collect
from .._streams.frames import FrameDecoder, RawDecoder
from .._streams.jsonseq import JSONSeqDecoder, check_stream_error
from .._streams.text import FrameText
from .._transport.base import Response

__all__ = (
    "json_stream_list",
    "json_stream_stream",
    "multiplexed_result_list",
    "multiplexed_result_stream",
)

log = logging.getLogger("aiodocker.jsonstream")  # aiodocker 0.27's logger name


def _note_error(value: Any) -> None:
    """Log an in-band error that the caller asked not to raise."""
    if isinstance(value, dict) and ("error" in value or "errorDetail" in value):
        log.debug("in-band error in a JSON stream (not raised): %s", value.get("error"))


async def json_stream_stream(
    response: Any,
    transform: Callable[[Any], Any] | None = None,
    *,
    raise_on_error: bool = True,
) -> AsyncGenerator[Any, None]:
    """Yield the JSON values of ``response``, read line by line.

    ``response`` is anything with ``content.readline()`` and ``close()``, as 0.27 accepts.
    As in 0.27, the response is closed when reading fails (an in-band error, a cut
    body) and left to its owner otherwise: the ``async with docker._query(...)`` it
    came from releases it.

    Raises:
        DockerStreamError: a value reports an in-band error and ``raise_on_error`` is set.
        DockerTruncatedStreamError: the body ended inside a value.
    """
    decoder = JSONSeqDecoder()
    try:
        while True:
            line = await response.content.readline()
            for value in decoder.feed(line) if line else decoder.flush():
                if raise_on_error:
                    check_stream_error(value)  # before transforming: it may drop the fields
                else:
                    _note_error(value)
                yield value if transform is None else transform(value)
            if not line:
                return
    except Exception:
        response.close()  # the connection is in an unknown state: never reuse it
        raise


async def json_stream_list(
    response: Any,
    transform: Callable[[Any], Any] | None = None,
    *,
    raise_on_error: bool = True,
) -> list[Any]:
    """Read every JSON value of ``response`` into a list."""
    return [
        value
        async for value in json_stream_stream(response, transform, raise_on_error=raise_on_error)
    ]


def multiplexed_result_stream(
    response: Response, is_tty: bool = False, encoding: str = "utf-8"
) -> ResponseStream[str]:
    """Iterate over the text of ``response`` (released at the end or on exit).

    Raises:
        DockerTruncatedStreamError: the body ended inside a frame.
    """
    if encoding.replace("-", "").replace("_", "").lower() != "utf8":
        raise ValueError(f"only utf-8 output is supported, not {encoding!r}")
    text = FrameText(RawDecoder() if is_tty else FrameDecoder(), LOG_DECODE_ERRORS)

    async def opener() -> Response:
        return response

    return ResponseStream(opener, lambda _: text)


async def multiplexed_result_list(
    response: Response, is_tty: bool = False, encoding: str = "utf-8"
) -> list[str]:
    """Read the text of ``response`` into a list."""
    return await collect(multiplexed_result_stream(response, is_tty, encoding))
