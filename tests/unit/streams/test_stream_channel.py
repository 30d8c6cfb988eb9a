"""Channel and ChannelSubscriber."""

from __future__ import annotations

import asyncio
from typing import Any

from aiodocker._streams.channel import Channel


async def test_channel_delivers_every_item_to_every_subscriber() -> None:
    channel = Channel()
    first, second = channel.subscribe(), channel.subscribe()
    for item in [{"Action": "start"}, b"line\n", 3]:
        await channel.publish(item)
    for subscriber in (first, second):
        assert [await subscriber.get() for _ in range(3)] == [{"Action": "start"}, b"line\n", 3]


async def test_channel_subscriber_gets_only_items_published_after_subscribing() -> None:
    channel = Channel()
    await channel.publish("early")
    subscriber = channel.subscribe()
    await channel.publish("late")
    assert await subscriber.get() == "late"


async def test_channel_close_delivers_queued_items_then_none_forever() -> None:
    channel = Channel()
    subscriber = channel.subscribe()
    await channel.publish(1)
    await channel.publish(2)
    channel.close()
    channel.close()  # idempotent
    await channel.publish(3)  # dropped
    assert [await subscriber.get() for _ in range(4)] == [1, 2, None, None]
    assert channel.closed


async def test_channel_close_wakes_every_waiting_reader() -> None:
    channel = Channel()
    subscriber = channel.subscribe()
    readers = [asyncio.create_task(subscriber.get()) for _ in range(2)]
    other = asyncio.create_task(channel.subscribe().get())
    await asyncio.sleep(0)
    channel.close()
    assert await asyncio.wait_for(asyncio.gather(*readers, other), 1) == [None, None, None]


async def test_channel_subscribe_after_close_gets_none() -> None:
    channel = Channel()
    channel.close()
    assert await asyncio.wait_for(channel.subscribe().get(), 1) is None


async def test_channel_subscriber_async_for_stops_at_none() -> None:
    channel = Channel()
    subscriber = channel.subscribe()
    for item in ["a", "b", None, "after"]:
        await channel.publish(item)
    assert [item async for item in subscriber] == ["a", "b"]
    # A published None ends one iteration; the channel itself stays open.
    assert await subscriber.get() == "after"


async def test_channel_subscriber_async_for_ends_on_close() -> None:
    channel = Channel()
    subscriber = channel.subscribe()
    received: list[Any] = []

    async def read() -> None:
        async for item in subscriber:
            received.append(item)

    task = asyncio.create_task(read())
    await channel.publish("x")
    await asyncio.sleep(0)
    channel.close()
    await asyncio.wait_for(task, 1)
    assert received == ["x"]


async def test_channel_unsubscribe_stops_delivery_and_wakes_reader() -> None:
    channel = Channel()
    leaving, staying = channel.subscribe(), channel.subscribe()
    await channel.publish("queued")
    waiting = asyncio.create_task(leaving.get())
    await asyncio.sleep(0)
    assert await waiting == "queued"
    waiting = asyncio.create_task(leaving.get())
    await asyncio.sleep(0)
    leaving.unsubscribe()
    leaving.unsubscribe()  # idempotent
    assert await asyncio.wait_for(waiting, 1) is None
    await channel.publish("later")
    assert await leaving.get() is None
    assert await staying.get() == "queued"
    assert await staying.get() == "later"


async def test_channel_unsubscribe_discards_queued_items() -> None:
    channel = Channel()
    subscriber = channel.subscribe()
    await channel.publish("unread")
    subscriber.unsubscribe()
    assert await subscriber.get() is None


async def test_channel_subscriber_context_manager_unsubscribes_on_exit() -> None:
    channel = Channel()
    async with channel.subscribe() as subscriber:
        await channel.publish(1)
        assert await subscriber.get() == 1
    await channel.publish(2)
    assert await subscriber.get() is None
