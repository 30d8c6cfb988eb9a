"""Connection slots: at most ``size`` holders at a time, the others served in arrival order.

Layer: ``_transport``; imports the stdlib only. :class:`~.http.HTTPEngine` keeps
two of these per event loop, one for short requests and one for long-lived
streams (see docs/DESIGN.md, "Connection limit").
"""

from __future__ import annotations

import asyncio
import collections


class Slots:
    """A first-in first-out counting limit (``size`` 0 means no limit).

    ``asyncio.Semaphore`` is not strictly first-in first-out on every Python
    this package supports; here a released slot always goes to the longest
    waiter. Invariant: while a live waiter exists every slot is in use, so
    a caller finding a free slot never jumps the queue.
    """

    __slots__ = ("size", "used", "_waiters")

    def __init__(self, size: int) -> None:
        self.size = size
        self.used = 0
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    @property
    def waiting(self) -> int:
        """How many callers wait for a slot (cancelled ones may still be counted)."""
        return sum(1 for waiter in self._waiters if not waiter.done())

    def try_acquire(self) -> bool:
        """Take a free slot if there is one (no coroutine: the common case stays cheap)."""
        if self.size == 0 or self.used < self.size:
            self.used += 1
            if self._waiters:
                self._waiters.clear()  # only cancelled waiters can be left (see the invariant)
            return True
        return False

    async def acquire(self) -> None:
        """Take a slot, waiting behind earlier callers when all are in use."""
        if self.try_acquire():
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self.release()  # granted as we were cancelled: pass it on
            raise

    def release(self) -> None:
        """Give a slot back: to the longest waiter, or to the free count."""
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot changes hands: ``used`` stays
                return
        self.used -= 1
