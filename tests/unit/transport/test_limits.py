"""The FIFO connection slots: order, hand-over on release, cancelled waiters."""

from __future__ import annotations

import asyncio

from aiodocker._transport.limits import Slots


async def test_slots_are_handed_out_in_arrival_order() -> None:
    slots = Slots(1)
    await slots.acquire()
    order: list[int] = []

    async def take(i: int) -> None:
        await slots.acquire()
        order.append(i)

    waiters = [asyncio.create_task(take(i)) for i in range(5)]
    await asyncio.sleep(0)
    assert slots.waiting == 5
    for _ in range(5):
        slots.release()
        await asyncio.sleep(0)
    await asyncio.gather(*waiters)
    assert order == [0, 1, 2, 3, 4]
    assert slots.used == 1


async def test_a_free_slot_is_never_taken_ahead_of_a_waiter() -> None:
    slots = Slots(1)
    assert slots.try_acquire()
    waiter = asyncio.create_task(slots.acquire())
    await asyncio.sleep(0)
    slots.release()  # handed to the waiter, not freed
    assert slots.used == 1
    assert not slots.try_acquire()
    await waiter


async def test_a_cancelled_waiter_is_skipped_and_a_granted_one_passes_its_slot_on() -> None:
    slots = Slots(1)
    assert slots.try_acquire()
    first = asyncio.create_task(slots.acquire())
    second = asyncio.create_task(slots.acquire())
    await asyncio.sleep(0)
    first.cancel()
    await asyncio.sleep(0)
    slots.release()  # skips the cancelled one
    await second
    assert slots.used == 1
    third = asyncio.create_task(slots.acquire())
    fourth = asyncio.create_task(slots.acquire())
    await asyncio.sleep(0)
    slots.release()  # granted to the third...
    third.cancel()  # ...which is cancelled before it runs: the slot goes on to the fourth
    await asyncio.gather(third, return_exceptions=True)
    await fourth
    assert slots.used == 1
    slots.release()
    assert slots.used == 0 and slots.waiting == 0


async def test_size_zero_is_no_limit() -> None:
    slots = Slots(0)
    for _ in range(1000):
        assert slots.try_acquire()
    assert slots.used == 1000
