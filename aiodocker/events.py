"""``docker.events``: the daemon's event stream, fanned out to subscribers, and a follower
that survives daemon restarts.

Layer: resource module; imports ``_core``, ``_responses``, ``_streams`` and the
package's leaf modules only.

Facts the follower relies on (Engine API, ``GET /events``): every event carries
``time`` (seconds) and ``timeNano``; ``since``/``until`` accept Unix seconds with a
fractional part (``"secs.nanos"``); the daemon keeps its most recent events in
memory (256 in 20.10) and replays those at or after ``since`` before following,
so a resumed stream repeats the events at its start that were already delivered.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import math
import time
import warnings
import weakref
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final

from ._core.request import encode_filters
from ._core.resource import Resource, cancel_and_wait
from ._responses import ResponseStream, json_stream
from ._streams.channel import Channel, ChannelSubscriber
from .exceptions import (
    DockerConnectionError,
    DockerError,
    DockerEventsLostError,
    DockerTruncatedStreamError,
)
from .types import SENTINEL

if TYPE_CHECKING:
    from ._core.client import TimeoutArg
    from .docker import Docker

__all__ = ("DockerEvents", "DockerEventsLostError", "EventFollower")

log = logging.getLogger(__name__)

NANOS_PER_SECOND: Final = 1_000_000_000
# How far back a resumed stream starts before the last delivered event. The daemon
# stamps an event before it queues it, so two events can reach us out of order by
# a hair; resuming a little early (and dropping what was already delivered) loses
# none of them.
RESUME_WINDOW_NANOS: Final = NANOS_PER_SECOND
DEFAULT_RETRIES: Final = 10
DEFAULT_BACKOFF: Final = 0.5
DEFAULT_MAX_BACKOFF: Final = 5.0
DEFAULT_OPEN_TIMEOUT: Final = 30.0
# Answers of a proxy or load balancer in front of a daemon that is away.
RETRYABLE_STATUSES: Final = frozenset({502, 503, 504})


def format_since(nanos: int) -> str:
    """Format a Unix time in nanoseconds as the ``"secs.nanos"`` the daemon accepts."""
    seconds, fraction = divmod(nanos, NANOS_PER_SECOND)
    return f"{seconds}.{fraction:09d}"


def _time_param(value: Any, name: str) -> str | None:
    """Encode ``since``/``until``: Unix seconds, a datetime, or a string the daemon parses."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    import datetime as dt  # here, not at the top: it costs ~1 ms of every start

    if isinstance(value, dt.datetime):
        value = value.timestamp()  # a naive datetime is local time, as fromtimestamp gives
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(
            f"{name} must be Unix seconds, a datetime or a string, not {type(value).__name__}"
        )
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite time, got {value!r}")
    seconds = math.floor(value)
    # value - floor(value) is exact in binary floating point; value * 1e9 is not
    return format_since(seconds * NANOS_PER_SECOND + round((value - seconds) * NANOS_PER_SECOND))


def event_nanos(event: Mapping[str, Any]) -> int | None:
    """Return an event's time in nanoseconds (``timeNano``, else ``time``), None if absent."""
    nanos = event.get("timeNano")
    if isinstance(nanos, int) and not isinstance(nanos, bool):
        return nanos
    seconds = event.get("time")
    if isinstance(seconds, (int, float)) and not isinstance(seconds, bool):
        return int(seconds * NANOS_PER_SECOND)
    return None


def _to_local_datetime(event: Any) -> Any:
    import datetime as dt

    if isinstance(event, dict) and isinstance(event.get("time"), (int, float)):
        event["time"] = dt.datetime.fromtimestamp(event["time"])
    return event


def _retryable(exc: BaseException) -> bool:
    """Whether a failure to open or read the stream may heal by reconnecting."""
    if isinstance(exc, (DockerConnectionError, DockerTruncatedStreamError)):
        return True
    if isinstance(exc, DockerError):
        # not 500: older daemons answer 500 for malformed filters and other bad input
        return exc.status in RETRYABLE_STATUSES
    return isinstance(exc, (asyncio.TimeoutError, OSError))


class DockerEvents(Resource):
    """The daemon's events (``docker.events``).

    ``subscribe()`` starts one background request whose events are published to
    ``channel`` for every subscriber; ``follow()`` gives an independent iterator
    that reconnects after a daemon restart or a dropped connection.

    Attributes:
        channel: the fan-out ``Channel`` that ``run()`` publishes to.
        json_stream: the running request's stream, None when not running.
        task: the background task started by ``subscribe()``, None when stopped.
    """

    if TYPE_CHECKING:
        docker: Docker  # 0.27 types the attribute so; annotations only, no import at run time

    def __init__(self, docker: Docker) -> None:
        super().__init__(docker)
        self.channel = Channel()
        self.json_stream: ResponseStream[Any] | None = None
        self.task: asyncio.Future[None] | None = None
        # tasks whose run() began (run() itself tells the subscribers when it ends)
        self._entered: weakref.WeakSet[asyncio.Future[None]] = weakref.WeakSet()
        self._followers: weakref.WeakSet[EventFollower] = weakref.WeakSet()

    def stream(
        self,
        *,
        since: Any = None,
        until: Any = None,
        filters: Mapping[str, Any] | str | None = None,
        timeout: TimeoutArg = SENTINEL,
        **params: Any,
    ) -> ResponseStream[dict[str, Any]]:
        """Return one ``GET /events`` request as a stream of raw event dicts.

        The request is sent on first iteration; ``timeout`` bounds the wait for the
        response head only. Without ``until`` the stream runs until closed.

        Raises:
            TypeError: ``since``/``until`` of an unsupported type, ``filters`` not a mapping.
        """
        query = {
            **params,
            "since": _time_param(since, "since"),
            "until": _time_param(until, "until"),
            "filters": filters if isinstance(filters, str) else encode_filters(filters),
        }
        query.pop("stream", None)
        api = self._api
        seconds = api.seconds(timeout, long_running=True)
        return json_stream(
            lambda: api.request(
                "GET", "events", params=query, timeout=seconds, long_lived=True
            ),
            check_errors=False,
        )

    # --- aiodocker's channel interface ----------------------------------------

    def listen(self) -> ChannelSubscriber:
        """Deprecated: use ``subscribe()``. Returns a subscriber and starts no task (as 0.27).

        The caller then runs ``run(filters=...)`` itself, whose events reach the subscriber.
        """
        warnings.warn("use subscribe() method instead", DeprecationWarning, stacklevel=2)
        return self.channel.subscribe()

    def subscribe(self, *, create_task: bool = True, **params: Any) -> ChannelSubscriber:
        """Return a new subscriber to ``channel``, starting ``run(**params)`` if not running.

        ``get()`` on the subscriber returns event dicts, then None when the stream ends.
        """
        if create_task and (self.task is None or self.task.done()):
            if self.task is not None and not self.task.cancelled():
                self.task.exception()  # the subscribers were told (None); mark it seen
            self.task = asyncio.ensure_future(self._run_task(params))
        return self.channel.subscribe()

    async def _run_task(self, params: dict[str, Any]) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._entered.add(task)
        await self.run(**params)

    async def run(self, *, timeout: TimeoutArg = SENTINEL, **params: Any) -> None:
        """Read ``GET /events`` and publish every event to ``channel``, then None.

        ``time`` in each event becomes a naive local ``datetime``. In-band errors
        are published like events, not raised. ``params``: ``since``, ``until``,
        ``filters`` (a mapping, JSON-encoded). Ends quietly when ``stop()`` closes it.

        Raises:
            DockerError: the request failed, or the connection broke.
        """
        if self.json_stream is not None:
            warnings.warn("already running", RuntimeWarning, stacklevel=2)
            return
        stream = self.stream(timeout=timeout, **params)
        self.json_stream = stream
        try:
            async for event in stream:
                await self.channel.publish(_to_local_datetime(event))
        except DockerError:
            if self.json_stream is stream:
                raise
            # stop() closed the stream under us: a normal end
        finally:
            if self.json_stream is stream:
                self.json_stream = None
            await stream.aclose()
            await self.channel.publish(None)

    async def stop(self) -> None:
        """Stop the event stream: close it, cancel and await the task, end the followers.

        Subscribers get None. Idempotent; ``subscribe()`` may start a new task later.
        """
        task, self.task = self.task, None
        stream, self.json_stream = self.json_stream, None
        for follower in list(self._followers):
            await follower.aclose()
        if stream is not None:
            await stream.aclose()
        if task is None:
            return
        await cancel_and_wait(task)  # its error is retrieved: the end was asked for
        if task.cancelled() and task not in self._entered:
            # cancelled before it ran: run() never got to tell the subscribers
            await self.channel.publish(None)

    # --- the resilient follower ---------------------------------------------

    def follow(
        self,
        *,
        filters: Mapping[str, Any] | str | None = None,
        since: Any = None,
        until: Any = None,
        retries: int = DEFAULT_RETRIES,
        backoff: float = DEFAULT_BACKOFF,
        max_backoff: float = DEFAULT_MAX_BACKOFF,
        open_timeout: float | None = DEFAULT_OPEN_TIMEOUT,
    ) -> EventFollower:
        """Iterate over events, reconnecting when the daemon restarts or the connection drops.

        Use as ``async for event in docker.events.follow(filters=...)``. Events are the
        daemon's raw dicts (``time`` stays an int). After a failure the follower
        resumes from just before the last event it delivered and drops what it already
        delivered, so each event arrives exactly once. The request is sent on the
        first iteration, or on entering ``async with`` (which makes sure that events
        from then on are seen). Leaving the loop (``break``) releases the connection
        at once; ``aclose()`` / leaving ``async with`` do so explicitly.

        Args:
            retries: failed connection attempts in a row tolerated before giving up.
            backoff: the first wait between attempts, doubled per failure up to
                ``max_backoff`` seconds.
            open_timeout: seconds to wait for the daemon to answer one attempt.

        Raises (from iteration):
            DockerEventsLostError: ``retries`` attempts in a row failed.
            DockerError: the daemon rejected the request (e.g. 400 for bad filters).
        """
        follower = EventFollower(
            self,
            filters=filters,
            since=since,
            until=until,
            retries=retries,
            backoff=backoff,
            max_backoff=max_backoff,
            open_timeout=open_timeout,
        )
        self._followers.add(follower)
        return follower


class EventFollower:
    """An async iterator over events that survives daemon restarts (see ``follow()``).

    Attributes:
        reconnects: how many times the stream was successfully reopened.
    """

    def __init__(
        self,
        events: DockerEvents,
        *,
        filters: Mapping[str, Any] | str | None,
        since: Any,
        until: Any,
        retries: int,
        backoff: float,
        max_backoff: float,
        open_timeout: float | None,
    ) -> None:
        if isinstance(retries, bool) or not isinstance(retries, int):
            raise TypeError(f"retries must be an int, not {type(retries).__name__}")
        if retries < 0:
            raise ValueError(f"retries must be >= 0, got {retries}")
        for name, value in (("backoff", backoff), ("max_backoff", max_backoff)):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"{name} must be a number, not {type(value).__name__}")
            if not value >= 0:
                raise ValueError(f"{name} must be >= 0, got {value!r}")
        if open_timeout is not None and not open_timeout > 0:
            raise ValueError(f"open_timeout must be positive or None, got {open_timeout!r}")
        self._events = events
        self._filters = filters if isinstance(filters, str) else encode_filters(filters)
        self._since = _time_param(since, "since")
        self._until = _time_param(until, "until")
        self._retries = retries
        self._backoff = float(backoff)
        self._max_backoff = float(max_backoff)
        self._open_timeout = open_timeout
        self._stream: ResponseStream[dict[str, Any]] | None = None
        self._closed = False
        self._closing = asyncio.Event()
        self._failures = 0
        self._last_error: BaseException | None = None
        # Where to resume when nothing was delivered yet: the daemon's clock at the
        # first successful connection (whole seconds, from the Date header).
        self._start_since: str | None = None
        # Delivered events of the last RESUME_WINDOW_NANOS: (nanos, identity).
        self._recent: collections.deque[tuple[int, str]] = collections.deque()
        self._recent_ids: set[str] = set()
        self._last_nanos: int | None = None
        self.reconnects = 0

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open" if self._stream else "idle"
        return f"<EventFollower {state} resume={self.resume_since()!r}>"

    def resume_since(self) -> str | None:
        """The ``since`` the next connection will send."""
        if self._last_nanos is not None:
            return format_since(max(0, self._last_nanos - RESUME_WINDOW_NANOS))
        return self._since if self._since is not None else self._start_since

    # --- iteration ----------------------------------------------------------

    def __aiter__(self) -> EventFollower:
        return self

    async def __anext__(self) -> dict[str, Any]:
        while not self._closed:
            stream = self._stream
            if stream is None:
                stream = await self._connect()
                if stream is None:
                    break
            try:
                event = await stream.__anext__()
            except StopAsyncIteration:
                await self._drop_stream()
                if self._until is not None:
                    self._closed = True
                    break
                # the daemon ended a following stream: it is shutting down
                self._last_error = DockerConnectionError("the daemon ended the event stream")
                continue
            except Exception as exc:
                await self._drop_stream()
                if self._closed:
                    break
                if not _retryable(exc):
                    self._closed = True
                    raise
                self._last_error = exc
                continue
            if self._is_new(event):
                return event
        raise StopAsyncIteration

    def _is_new(self, event: Any) -> bool:
        if not isinstance(event, dict):
            return True
        nanos = event_nanos(event)
        if nanos is None:
            return True
        identity = json.dumps(event, sort_keys=True, separators=(",", ":"))
        if identity in self._recent_ids:
            return False
        if self._last_nanos is None or nanos > self._last_nanos:
            self._last_nanos = nanos
        self._recent.append((nanos, identity))
        self._recent_ids.add(identity)
        horizon = self._last_nanos - RESUME_WINDOW_NANOS
        while self._recent and self._recent[0][0] < horizon:
            self._recent_ids.discard(self._recent.popleft()[1])
        return True

    async def _connect(self) -> ResponseStream[dict[str, Any]] | None:
        """Open the stream, retrying with backoff; None if closed meanwhile."""
        first = self._start_since is None and self._last_error is None
        while not self._closed:
            if self._events.docker.closed:
                raise DockerConnectionError("the Docker client is closed")
            stream = self._events.stream(
                since=self.resume_since(),
                until=self._until,
                filters=self._filters,
                timeout=self._open_timeout,
            )
            try:
                response = await stream.open()
            except Exception as exc:
                await stream.aclose()
                await self._back_off(exc)
                continue
            if self._closed:
                await stream.aclose()
                return None
            self._opened(response.headers.get("date"), first)
            self._stream = stream
            return stream
        return None

    async def _back_off(self, exc: Exception) -> None:
        """After a failed attempt: raise if it cannot heal or too many failed, else wait."""
        if not _retryable(exc):
            self._closed = True
            raise exc
        self._failures += 1
        self._last_error = exc
        if self._failures > self._retries:
            self._closed = True
            raise DockerEventsLostError(
                f"the event stream could not be resumed after {self._failures} "
                f"failed attempts in a row (resuming from {self.resume_since()}): {exc}",
                self._failures,
                self.resume_since(),
            ) from exc
        delay = min(self._backoff * 2 ** (self._failures - 1), self._max_backoff)
        log.debug(
            "event stream could not be opened (attempt %d of %d): %s; next try in %.1f s",
            self._failures,
            self._retries + 1,
            exc,
            delay,
        )
        try:  # sleep, but wake up at once when closed
            await asyncio.wait_for(self._closing.wait(), delay)
        except asyncio.TimeoutError:
            pass

    def _opened(self, date_header: str | None, first: bool) -> None:
        """Book a successful connection: the daemon's clock, the reconnect count."""
        if self._start_since is None:
            self._start_since = _daemon_seconds(date_header)
        if not first:
            self.reconnects += 1
            log.debug(
                "event stream reopened (reconnect %d), resuming from %s after: %s",
                self.reconnects,
                self.resume_since(),
                self._last_error,
            )
        self._failures = 0

    async def _drop_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            await stream.aclose()

    # --- closing --------------------------------------------------------------

    async def aclose(self) -> None:
        """Stop following and release the connection. Idempotent."""
        self._closed = True
        self._closing.set()
        await self._drop_stream()

    close = aclose

    async def __aenter__(self) -> EventFollower:
        """Connect now, so that every event from here on is delivered."""
        if self._stream is None and not self._closed:
            await self._connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __del__(self) -> None:
        stream = getattr(self, "_stream", None)
        if stream is not None and stream.response is not None:
            stream.response.release()


def _daemon_seconds(date_header: str | None) -> str:
    """The daemon's clock from a ``Date`` header, in whole seconds (ours if absent)."""
    if date_header:
        import email.utils  # only here: email costs a few ms at import

        try:
            return str(int(email.utils.parsedate_to_datetime(date_header).timestamp()))
        except (TypeError, ValueError, IndexError):
            pass
    return str(int(time.time()))
