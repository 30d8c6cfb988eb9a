"""aiodocker 0.27's ``Stream._resp``: the hijacked response that 0.27 code half-closes through.

0.27 has no public half-close, so its callers write
``stream._resp.connection.transport.write_eof()``, and its tests assign
``stream._resp`` (None, or a response they closed) to silence the unclosed-stream
warning. :class:`~aiodocker.stream.Stream` keeps that attribute by delegating here.

Layer: ``_legacy`` (0.27 compatibility); imports the stdlib only (``Stream`` for
annotations). It reads the stream's connection state (``_channel``, ``_closed``,
``_eof_sent``, ``_pending``), which ``stream.py`` keeps for it.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from .._transport.base import Channel
    from ..stream import Stream

__all__ = ("CLOSED_WRITE", "assign_resp", "resp_view", "warns_unclosed")

CLOSED_WRITE: Final = "Cannot write to closed transport"

_UNSET: Final = object()  # Stream._resp never assigned
_ASSIGNED: Final = "_resp_assigned"


def resp_view(stream: Stream) -> Any:
    """What ``stream._resp`` reads: the assigned value, else a bridge once connected, else None."""
    assigned = stream.__dict__.get(_ASSIGNED, _UNSET)
    if assigned is not _UNSET:
        return assigned
    if getattr(stream, "_channel", None) is None:
        return None
    return SimpleNamespace(connection=SimpleNamespace(transport=_HijackedTransport(stream)))


def assign_resp(stream: Stream, value: Any) -> None:
    """``stream._resp = value``: kept, and from then on it decides whether the stream warns."""
    stream.__dict__[_ASSIGNED] = value


def warns_unclosed(stream: Stream, channel: Channel | None, closed: bool) -> bool:
    """Whether a stream collected unclosed warns ``ResourceWarning``.

    It does when its connection is open; once 0.27 code assigned ``_resp``, as in
    0.27, when the assigned response is neither None nor closed.
    """
    assigned = stream.__dict__.get(_ASSIGNED, _UNSET)
    if assigned is _UNSET:
        return channel is not None and not closed
    return not closed and assigned is not None and not getattr(assigned, "closed", False)


class _HijackedTransport:
    """The ``asyncio.Transport`` calls 0.27 code makes on ``stream._resp.connection.transport``."""

    def __init__(self, stream: Stream) -> None:
        self._stream = stream

    def write(self, data: bytes) -> None:
        """Queue ``data`` for stdin (no waiting, as ``asyncio.Transport.write``)."""
        channel = self._stream._channel
        if channel is None or self._stream._closed:
            raise RuntimeError(CLOSED_WRITE)
        channel.write(bytes(data))

    def can_write_eof(self) -> bool:
        channel = self._stream._channel
        return channel is not None and channel.can_write_eof()

    def write_eof(self) -> None:
        """Half-close stdin, as :meth:`Stream.write_eof`; does nothing once closed."""
        stream = self._stream
        channel = stream._channel
        if channel is None or stream._closed or stream._eof_sent:
            return
        if not channel.can_write_eof():
            raise RuntimeError("this transport cannot half-close the stream")
        stream._eof_sent = True
        channel.write_eof()

    def is_closing(self) -> bool:
        return self._stream._channel is None or self._stream._closed

    def close(self) -> None:
        """Close the connection: the stream is closed too (reads end, writes raise)."""
        stream = self._stream
        stream._closed = True
        stream._pending.clear()
        channel, stream._channel = stream._channel, None
        if channel is not None:
            channel.close()
