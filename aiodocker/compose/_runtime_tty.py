"""Interactive ``compose run``/``compose exec``: the local terminal relayed over a hijacked stream.

Private runtime module of :mod:`aiodocker.compose`.  With a tty the local terminal is
put in raw mode (every key goes to the container, whose own tty echoes and edits),
its size is sent at the start and on each ``SIGWINCH``, and it is restored on the way
out, whatever happened.  Without a tty, standard input is piped (half-closed at its
end) and the output keeps stdout and stderr apart.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, BinaryIO, TextIO

if TYPE_CHECKING:
    from ..stream import Stream

Resize = Callable[[int, int], Awaitable[None]]
"""Set the remote tty's size: ``resize(height, width)``."""

_CHUNK = 65536


@contextlib.contextmanager
def raw_terminal(fd: int | None) -> Iterator[None]:
    """Put the terminal ``fd`` in raw mode for the block and restore its settings after it.

    Does nothing when ``fd`` is None or not a terminal.
    """
    if fd is None or not os.isatty(fd):
        yield
        return
    import termios
    import tty

    saved = termios.tcgetattr(fd)
    try:
        tty.setraw(fd, termios.TCSANOW)
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def terminal_size(fd: int | None) -> tuple[int, int] | None:
    """Return ``(rows, columns)`` of the terminal ``fd``, or None if it is not one."""
    if fd is None:
        return None
    try:
        size = os.get_terminal_size(fd)
    except OSError:
        return None
    return (size.lines, size.columns) if size.lines and size.columns else None


def byte_writer(stream: TextIO) -> Callable[[bytes], None]:
    """Return a function writing bytes to the text stream ``stream`` (its buffer when it has one)."""
    buffer: BinaryIO | None = getattr(stream, "buffer", None)

    def write(data: bytes) -> None:
        if buffer is not None:
            stream.flush()
            buffer.write(data)
            buffer.flush()
        else:
            stream.write(data.decode("utf-8", "replace"))
            stream.flush()

    return write


def usable_fd(stream: object) -> int | None:
    """Return the file descriptor behind ``stream``, or None (closed, captured, in memory)."""
    try:
        fd = stream.fileno()  # type: ignore[attr-defined]
        os.fstat(fd)
    except (AttributeError, OSError, ValueError):
        return None
    return int(fd)


async def relay(
    stream: Stream,
    *,
    stdin_fd: int | None,
    out: Callable[[bytes], None],
    err: Callable[[bytes], None],
    resize: Resize | None = None,
    size_fd: int | None = None,
    close_stdin: bool = True,
) -> None:
    """Relay ``stdin_fd`` to ``stream`` and its output to ``out``/``err`` until the output ends.

    ``resize`` (given for a tty) is called with the size of the terminal
    ``size_fd`` at once and on each ``SIGWINCH``. ``close_stdin`` half-closes the
    stream at the end of the local input (a terminal in raw mode has none).
    """
    loop = asyncio.get_running_loop()
    resizing: set[asyncio.Task[None]] = set()

    def on_winch() -> None:
        size = terminal_size(size_fd)
        if resize is not None and size is not None:
            task = loop.create_task(_quiet(resize(*size)))
            resizing.add(task)
            task.add_done_callback(resizing.discard)

    watching = False
    if resize is not None and size_fd is not None:
        on_winch()
        with contextlib.suppress(ValueError, RuntimeError, NotImplementedError):
            loop.add_signal_handler(signal.SIGWINCH, on_winch)
            watching = True
    pump = loop.create_task(_pump_stdin(stream, stdin_fd, close_stdin)) if stdin_fd is not None else None
    try:
        async for message in stream:
            (err if message.stream == 2 else out)(bytes(message.data))
    finally:
        if watching:
            loop.remove_signal_handler(signal.SIGWINCH)
        if pump is not None:
            pump.cancel()
            await asyncio.gather(pump, return_exceptions=True)
        await asyncio.gather(*resizing, return_exceptions=True)


async def _quiet(call: Awaitable[None]) -> None:
    # a resize racing the process's exit is refused by the daemon: nothing to report
    with contextlib.suppress(Exception):
        await call


async def _pump_stdin(stream: Stream, fd: int, close: bool) -> None:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[bytes] = asyncio.Queue()

    def readable() -> None:
        try:
            data = os.read(fd, _CHUNK)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            loop.remove_reader(fd)
        queue.put_nowait(data)

    try:
        loop.add_reader(fd, readable)
    except (OSError, ValueError, NotImplementedError):
        # a regular file (epoll refuses it): reading it never blocks
        while data := os.read(fd, _CHUNK):
            await stream.write_in(data)
        await _end_input(stream, close)
        return
    try:
        while data := await queue.get():
            await stream.write_in(data)
        await _end_input(stream, close)
    except (RuntimeError, ConnectionError):
        pass  # the process exited and its stream closed: the rest of the input is unread
    finally:
        loop.remove_reader(fd)


async def _end_input(stream: Stream, close: bool) -> None:
    if close:
        with contextlib.suppress(RuntimeError, ConnectionError):
            await stream.write_eof()
