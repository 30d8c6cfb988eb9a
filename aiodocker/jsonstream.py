"""JSON-stream helpers, kept at aiodocker's import path ``aiodocker.jsonstream``.

A compatibility module: it reads a response that a caller got from
``Docker._query`` (or any object with ``content.readline()`` and ``close()``, as
aiodocker 0.27 accepts) as a sequence of JSON values.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from typing import Any

from ._streams.jsonseq import JSONSeqDecoder, check_stream_error

__all__ = ("JSONSeqDecoder", "check_stream_error", "json_stream_list", "json_stream_stream")


async def json_stream_stream(
    response: Any,
    transform: Callable[[Any], Any] | None = None,
    *,
    raise_on_error: bool = True,
) -> AsyncGenerator[Any, None]:
    """Yield the JSON values of ``response``, read line by line; close it at the end or on exit.

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
                yield value if transform is None else transform(value)
            if not line:
                return
    finally:
        response.close()


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
