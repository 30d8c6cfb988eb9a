"""Closed connections give their memory back at once: OpenSSL's state, socket transports.

The connection and its TLS transport refer to each other. Were the OpenSSL state
left to the cyclic GC, which counts Python objects and not OpenSSL's buffers, a
client that opens and drops many TLS connections (exec, abandoned log follows)
would keep many dead SSLObjects alive (the soak benchmark counted 481 with 200
connections open, after 60 s at concurrency 200).
"""

from __future__ import annotations

import asyncio
import gc
import ssl
import weakref

from helpers import tls_context

import aiodocker
from aiodocker._core.request import Shape


def tls_client(testenv) -> aiodocker.Docker:
    return aiodocker.Docker(url=testenv["tls_url"], ssl_context=tls_context(testenv), api_version="v1.41")


async def pooled_then_closed(client: aiodocker.Docker, pick) -> list[weakref.ref]:
    """Pool a few connections of ``client``, take a weak reference to ``pick(connection)``
    of each, close the client and give the loop time to drop them: the references come
    back, to be checked dead. Call it with the cyclic GC off."""
    # Concurrent calls: each on its own connection, all pooled afterwards.
    await asyncio.gather(*(client._api.call("GET", "info", expect=Shape.OBJECT) for _ in range(5)))
    idle = list(client._api.transport._idle)  # type: ignore[attr-defined]
    assert idle
    refs = [weakref.ref(pick(c)) for c in idle]
    del idle
    await client.close()
    for _ in range(100):  # close() returns once the sockets are closed
        if all(ref() is None for ref in refs):
            break
        await asyncio.sleep(0.01)
    return refs


async def test_closed_tls_connections_free_their_ssl_state_without_the_cyclic_gc(testenv):
    gc.collect()
    gc.disable()
    try:
        def ssl_object(connection):
            found = connection.transport.get_extra_info("ssl_object")
            assert isinstance(found, ssl.SSLObject)
            return found

        objects = await pooled_then_closed(tls_client(testenv), ssl_object)
        assert all(ref() is None for ref in objects), "an SSLObject waits for the cyclic GC"
    finally:
        gc.enable()


async def test_a_connection_the_daemon_closed_frees_its_ssl_state(testenv):
    gc.collect()
    gc.disable()
    try:
        async with tls_client(testenv) as docker:
            await docker._api.call("GET", "info", expect=Shape.OBJECT)
            [connection] = docker._api.transport._idle  # type: ignore[attr-defined]
            ref = weakref.ref(connection.transport.get_extra_info("ssl_object"))
            connection.transport._raw.abort()  # the socket dies under the pooled connection
            del connection
            for _ in range(100):
                if ref() is None:
                    break
                await asyncio.sleep(0.01)
            assert ref() is None
            assert (await docker.version())["ApiVersion"]  # the pool dials a new one
    finally:
        gc.enable()


async def test_closed_tls_connections_free_their_socket_transport_without_the_cyclic_gc(testenv):
    """asyncio's selector transport refers to itself before Python 3.12 (CPython gh-100348):
    unless the TLS layer breaks that, each closed connection's socket transport waits for
    the cyclic GC (the TLS soak left about 12 a second to it)."""
    gc.collect()
    gc.disable()
    try:
        transports = await pooled_then_closed(tls_client(testenv), lambda c: c.transport._raw)
        assert all(ref() is None for ref in transports), "a socket transport waits for the cyclic GC"
    finally:
        gc.enable()


async def test_closed_unix_connections_free_their_socket_transport_without_the_cyclic_gc(engine):
    """The same self-reference on a plain unix socket: the HTTP connection breaks it."""
    gc.collect()
    gc.disable()
    try:
        transports = await pooled_then_closed(aiodocker.Docker(url=engine.host), lambda c: c.transport)
        assert all(ref() is None for ref in transports), "a socket transport waits for the cyclic GC"
    finally:
        gc.enable()
