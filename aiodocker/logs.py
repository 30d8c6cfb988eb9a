"""``container.logs``: follow a container's log and fan it out to subscribers.

A public module at aiodocker's import path (``DockerLog``). Layer: resource
module; it calls the daemon through the core (``self._api``, from
:class:`~aiodocker._core.resource.Resource`) and publishes on a
``_streams.channel.Channel``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ._core.request import build_path
from ._core.resource import Resource
from ._streams.channel import Channel, ChannelSubscriber
from ._transport.base import Response
from .exceptions import DockerConnectionError, DockerTruncatedStreamError

if TYPE_CHECKING:
    from .containers import DockerContainer
    from .docker import Docker

__all__ = ("DockerLog",)


class DockerLog(Resource):
    """Follows one container's log and publishes it on :attr:`channel`.

    ``run()`` reads until the container stops (or ``stop()`` is called),
    publishing each raw line as ``bytes`` (for a non-tty container a line still
    carries the 8-byte frame headers, as aiodocker publishes it), then ``None``.
    For decoded text use ``DockerContainer.log(follow=True)`` or
    ``DockerContainer.log_messages(follow=True)`` instead.
    """

    if TYPE_CHECKING:
        docker: Docker  # 0.27 types the attribute so; annotations only, no import at run time

    def __init__(self, docker: Docker, container: DockerContainer) -> None:
        super().__init__(docker)
        self.channel = Channel()
        self.container = container
        self.response: Response | None = None

    def listen(self) -> ChannelSubscriber:
        """Deprecated alias of :meth:`subscribe`."""
        warnings.warn("use subscribe() method instead", DeprecationWarning, stacklevel=2)
        return self.subscribe()

    def subscribe(self) -> ChannelSubscriber:
        """Return a subscriber that gets every line published from now on, then None."""
        return self.channel.subscribe()

    async def run(self, **params: Any) -> None:
        """Follow the log and publish its lines until it ends, then publish ``None``.

        ``follow`` is forced on; ``stdout`` and ``stderr`` default to True. Other
        params (``since``, ``tail``, ``timestamps``...) are passed to the daemon.
        A lost connection ends the run quietly.

        Raises:
            DockerNotFoundError: no such container.
        """
        if self.response is not None:
            warnings.warn("already running", RuntimeWarning, stacklevel=2)
            return
        query: Mapping[str, Any] = {"stdout": True, "stderr": True, **params, "follow": True}
        path = build_path("containers/{}/logs", self.container.id)
        response: Response | None = None
        try:
            response = self.response = await self._api.request(
                "GET", path, params=query, long_lived=True
            )
            body = response.body
            while line := await body.readline():
                await self.channel.publish(line)
        except (DockerConnectionError, DockerTruncatedStreamError):
            pass  # the connection went away (or stop() cut it): the log ends here
        finally:
            if response is not None:
                response.release()
            if self.response is response:
                self.response = None
            await self.channel.publish(None)

    async def stop(self) -> None:
        """Stop following: close the connection; ``run()`` then publishes ``None``."""
        response, self.response = self.response, None
        if response is not None:
            response.release()
