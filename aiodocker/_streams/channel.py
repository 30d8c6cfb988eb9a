"""Fan out published items (events, log lines) to any number of subscribers.

Layer ``_streams/``: imports only ``aiodocker.exceptions``, ``aiodocker.types`` and the
stdlib. Uses asyncio queues only; no I/O.

Each subscriber has its own unbounded ``asyncio.Queue`` (as aiodocker does): a
publisher never waits for a slow subscriber, so a subscriber that stops reading
without unsubscribing keeps every later item in memory.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Any, Final

__all__ = ("Channel", "ChannelSubscriber")


class _End:
    """Queued after the last item a subscriber will get."""

    __slots__ = ()


_END: Final = _End()


class Channel:
    """Deliver every published item to every current subscriber, in order.

    ``None`` is aiodocker's end-of-stream item: publishing it tells subscribers that a
    stream ended (async iteration stops there) without closing the channel.
    """

    __slots__ = ("_subscribers", "_closed")

    def __init__(self) -> None:
        self._subscribers: list[ChannelSubscriber] = []
        self._closed = False

    @property
    def closed(self) -> bool:
        """Whether ``close()`` was called."""
        return self._closed

    async def publish(self, obj: Any) -> None:
        """Queue ``obj`` for every current subscriber (dropped if the channel is closed)."""
        if self._closed:
            return
        for subscriber in self._subscribers:
            subscriber._queue.put_nowait(obj)

    def subscribe(self) -> ChannelSubscriber:
        """Return a new subscriber that gets every item published from now on.

        After ``close()`` the subscriber gets ``None`` straight away. The same as
        ``ChannelSubscriber(channel)``, which registers itself.
        """
        return ChannelSubscriber(self)

    def close(self) -> None:
        """Close the channel: subscribers get what is already queued, then ``None``.

        Idempotent. Items published afterwards are dropped.
        """
        if self._closed:
            return
        self._closed = True
        subscribers, self._subscribers = self._subscribers, []
        for subscriber in subscribers:
            subscriber._end()

    def _remove(self, subscriber: ChannelSubscriber) -> None:
        try:
            self._subscribers.remove(subscriber)
        except ValueError:
            pass


class ChannelSubscriber:
    """One reader of a ``Channel``: ``get()`` items until ``None``.

    Usable as ``async for item in subscriber`` (stops at ``None``) and as
    ``async with subscriber:`` (unsubscribes on exit). Building one registers it with
    the channel, as in aiodocker 0.27: ``ChannelSubscriber(channel)`` gets everything
    published from then on, exactly like ``channel.subscribe()``.
    """

    __slots__ = ("_channel", "_queue", "_ended")

    def __init__(self, channel: Channel) -> None:
        self._channel = channel
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._ended = False
        if channel._closed:
            self._end()
        else:
            channel._subscribers.append(self)

    async def get(self) -> Any:
        """Return the next item; ``None`` means the stream or the channel ended.

        Once the channel is closed (or this subscriber unsubscribed) and the queue is
        drained, every call returns ``None`` at once.
        """
        item = await self._queue.get()
        if item is _END:
            self._queue.put_nowait(_END)  # for the next call, and for other waiting tasks
            return None
        return item

    def unsubscribe(self) -> None:
        """Stop receiving: queued items are discarded and ``get()`` returns ``None``.

        Idempotent; a task waiting in ``get()`` wakes up with ``None``.
        """
        self._channel._remove(self)
        queue = self._queue
        while not queue.empty():
            queue.get_nowait()
        self._ended = True
        queue.put_nowait(_END)

    def _end(self) -> None:
        if not self._ended:
            self._ended = True
            self._queue.put_nowait(_END)

    def __aiter__(self) -> ChannelSubscriber:
        return self

    async def __anext__(self) -> Any:
        item = await self.get()
        if item is None:
            raise StopAsyncIteration
        return item

    async def __aenter__(self) -> ChannelSubscriber:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.unsubscribe()
