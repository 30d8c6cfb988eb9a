"""Request hooks: callbacks around every request a :class:`~aiodocker.Docker` makes.

Pass one :class:`RequestHooks` subclass instance (or several) as
``Docker(hooks=...)``. The hooks see every request on every transport (unix,
tcp, TLS, ssh, a caller's aiohttp session), streams included: a stream's
``on_request_end`` comes when the stream really ends (read to its end,
closed, cancelled or failed). :mod:`aiodocker.otel` turns them into
OpenTelemetry spans.

Example, a request counter::

    import collections
    from aiodocker import Docker
    from aiodocker.hooks import RequestHooks, RequestInfo, RequestResult

    class Metrics(RequestHooks):
        def __init__(self) -> None:
            self.requests = collections.Counter()
            self.seconds = 0.0

        def on_request_end(self, request: RequestInfo, result: RequestResult) -> None:
            self.requests[(request.method, result.status)] += 1
            self.seconds += result.duration

    metrics = Metrics()
    async with Docker(hooks=metrics) as docker:
        await docker.containers.list()
    print(metrics.requests)  # Counter({('GET', 200): 2}) (version negotiation, then the list)
"""

from __future__ import annotations

from ._core.hooks import RequestHooks, RequestInfo, RequestResult

__all__ = ("RequestHooks", "RequestInfo", "RequestResult")
