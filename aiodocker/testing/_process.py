"""What a fake container's (or exec's) process does: output, exit code, duration, health.

Layer: ``aiodocker.testing``; imports the stdlib only.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Sequence
from typing import Final

__all__ = ["Process", "ProcessRule", "busybox"]

STDOUT: Final = 1
STDERR: Final = 2


class Process:
    """The behaviour of one process of a fake container or exec.

    Args:
        stdout: what it writes on stdout (all at start).
        stderr: what it writes on stderr (after stdout, unless ``output`` orders them).
        exit_code: its exit status when it ends by itself.
        duration: seconds it runs; None runs until stopped or killed.
        health: a health status to report (``"healthy"``, ``"unhealthy"``,
            ``"starting"``), None for a container without a health check.
        ignores_sigterm: whether SIGTERM leaves it running (true of a PID 1
            without a handler, such as ``sleep``: ``stop`` then kills it after
            the timeout, exit code 137).
        output: ``(stream, bytes)`` or ``(stream, bytes, seconds)`` pieces in
            order (stream 1 = stdout, 2 = stderr; written ``seconds`` after the
            start, default 0); overrides ``stdout`` and ``stderr``.
        echo_stdin: whether what is written to its stdin comes back on stdout
            (``cat``).
    """

    def __init__(
        self,
        stdout: bytes | str = b"",
        stderr: bytes | str = b"",
        *,
        exit_code: int = 0,
        duration: float | None = 0.0,
        health: str | None = None,
        ignores_sigterm: bool = True,
        output: Sequence[tuple[int, bytes | str] | tuple[int, bytes | str, float]] | None = None,
        echo_stdin: bool = False,
    ) -> None:
        if output is None:
            output = [(STDOUT, stdout), (STDERR, stderr)]
        self.output: list[tuple[int, bytes, float]] = []
        for piece in output:
            stream, data = piece[0], piece[1]
            at = float(piece[2]) if len(piece) > 2 else 0.0
            if data:
                self.output.append((stream, data.encode() if isinstance(data, str) else data, at))
        self.exit_code = exit_code
        self.duration = duration
        self.health = health
        self.ignores_sigterm = ignores_sigterm
        self.echo_stdin = echo_stdin

    def __repr__(self) -> str:
        return (
            f"Process(exit_code={self.exit_code}, duration={self.duration}, output={self.output!r})"
        )


# A rule answers a command (the argv) with a Process, or None to let the next rule decide.
ProcessRule = Callable[[list[str]], "Process | None"]


def _parse_seconds(text: str) -> float | None:
    if text == "infinity":
        return None
    try:
        return float(text.rstrip("s"))
    except ValueError:
        return 0.0


def _script(script: str, env: Sequence[str]) -> Process:
    """Run the few shell forms the fake understands: echo (``>&2``), exit, sleep, true, false."""
    output: list[tuple[int, bytes, float]] = []
    elapsed: float | None = 0.0  # None: an endless sleep came first
    code = 0
    for part in script.replace("&&", ";").replace("\n", ";").split(";"):
        try:
            words = shlex.split(part)
        except ValueError:
            words = part.split()
        if not words:
            continue
        stream = STDOUT
        if words[-1] in (">&2", "1>&2"):
            stream = STDERR
            words = words[:-1]
        command = words[0]
        if command == "exit":
            code = int(words[1]) if len(words) > 1 else code
            break
        if command == "exec":
            words = words[1:]
        single = busybox(words, env)
        if elapsed is not None:
            output.extend(
                (stream if s == STDOUT else s, data, elapsed + at) for s, data, at in single.output
            )
            elapsed = None if single.duration is None else elapsed + single.duration
        code = single.exit_code
        if command == "exec":
            break
    return Process(output=output, exit_code=code, duration=elapsed)


def busybox(argv: Sequence[str], env: Sequence[str] = (), stdin_open: bool = False) -> Process:
    """The fake's default behaviour of a busybox command line.

    Understood: ``echo``, ``printf`` (its text), ``sleep N``, ``true``,
    ``false``, ``env``, ``cat`` (echoes stdin), ``sh`` alone (waits on stdin)
    and ``sh -c SCRIPT`` of those; anything else exits 0 without output. ``cat``
    and a bare ``sh`` run while stdin is open (``stdin_open``), else end at once.
    """
    args = list(argv)
    if not args:
        return Process()
    command = args[0].rsplit("/", 1)[-1]
    rest = args[1:]
    if command == "echo":
        newline = True
        if rest and rest[0] == "-n":
            newline, rest = False, rest[1:]
        return Process(" ".join(rest) + ("\n" if newline else ""))
    if command == "printf":
        text = rest[0] if rest else ""
        return Process(text.replace("\\n", "\n").replace("\\t", "\t"))
    if command == "sleep":
        return Process(duration=_parse_seconds(rest[0]) if rest else 0.0)
    if command == "true":
        return Process()
    if command == "false":
        return Process(exit_code=1)
    if command == "env":
        return Process("".join(f"{line}\n" for line in env))
    if command == "cat" and not rest:
        return Process(duration=None if stdin_open else 0.0, echo_stdin=True)
    if command in ("sh", "ash", "bash"):
        if len(rest) >= 2 and rest[0] == "-c":
            return _script(rest[1], env)
        if not rest:
            return Process(duration=None if stdin_open else 0.0)  # reads commands from stdin
    return Process()
