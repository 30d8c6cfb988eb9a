"""Streams over a response the caller already holds: 0.27's ``json_stream_*`` and
``multiplexed_result_*`` helpers, built on :mod:`aiodocker._responses`.

Layer: resource (private). Imports ``_responses``, ``_streams`` and
``_transport.base``. Re-exported at 0.27's import paths by the facades
``aiodocker.jsonstream`` and ``aiodocker.multiplexed``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._responses import ResponseStream, collect, json_stream
from ._streams.frames import FrameDecoder, RawDecoder
from ._streams.jsonseq import JSONSeqDecoder, check_stream_error
from ._streams.text import FrameText
from ._transport.base import Response

__all__ = (
    "json_stream_list",
    "json_stream_stream",
    "multiplexed_result_list",
    "multiplexed_result_stream",
)


def _stream(
    response: Response,
    transform: Callable[[Any], Any] | None,
    raise_on_error: bool,
) -> ResponseStream[Any]:
    async def opener() -> Response:
        return response

    stream = json_stream(opener, check_errors=raise_on_error)
    if transform is None:
        return stream
    return ResponseStream(opener, lambda _: _Mapped(JSONSeqDecoder(), transform), check=None)


class _Mapped:
    """A JSON decoder whose values go through ``transform``."""

    def __init__(self, decoder: JSONSeqDecoder, transform: Callable[[Any], Any]) -> None:
        self._decoder = decoder
        self._transform = transform

    def feed(self, data: bytes) -> list[Any]:
        return [self._transform(value) for value in self._decoder.feed(data)]

    def flush(self) -> list[Any]:
        return [self._transform(value) for value in self._decoder.flush()]


def json_stream_stream(
    response: Response,
    transform: Callable[[Any], Any] | None = None,
    *,
    raise_on_error: bool = True,
) -> ResponseStream[Any]:
    """Iterate over the JSON values of ``response`` (released at the end or on exit).

    Raises:
        DockerStreamError: a value reports an in-band error and ``raise_on_error`` is set.
    """
    if transform is not None and raise_on_error:
        # check before transforming: the transform may drop the error fields
        def checked(value: Any) -> Any:
            check_stream_error(value)
            return transform(value)

        return _stream(response, checked, False)
    return _stream(response, transform, raise_on_error)


async def json_stream_list(
    response: Response,
    transform: Callable[[Any], Any] | None = None,
    *,
    raise_on_error: bool = True,
) -> list[Any]:
    """Read every JSON value of ``response`` into a list."""
    return await collect(json_stream_stream(response, transform, raise_on_error=raise_on_error))


def multiplexed_result_stream(
    response: Response, is_tty: bool = False, encoding: str = "utf-8"
) -> ResponseStream[str]:
    """Iterate over the text of ``response`` (released at the end or on exit).

    Raises:
        DockerTruncatedStreamError: the body ended inside a frame.
    """
    if encoding.replace("-", "").replace("_", "").lower() != "utf8":
        raise ValueError(f"only utf-8 output is supported, not {encoding!r}")
    text = FrameText(RawDecoder() if is_tty else FrameDecoder(), "ignore")

    async def opener() -> Response:
        return response

    return ResponseStream(opener, lambda _: text)


async def multiplexed_result_list(
    response: Response, is_tty: bool = False, encoding: str = "utf-8"
) -> list[str]:
    """Read the text of ``response`` into a list."""
    return await collect(multiplexed_result_stream(response, is_tty, encoding))
