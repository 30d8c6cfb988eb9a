"""The one error tree of the package.

Leaf module: imports nothing from the package. Every error carries ``status``
and ``message``; ``status`` is the HTTP status for daemon errors, 900 for
connection failures (aiodocker's convention) and 0 for local conditions.
"""

from __future__ import annotations

from typing import Any

__all__ = (
    "DockerError",
    "DockerContainerError",
    "DockerStreamError",
    "DockerContextError",
    "DockerContextInvalidError",
    "DockerContextTLSError",
    "DockerConnectionError",
    "DockerClientClosedError",
    "DockerNotFoundError",
    "DockerConflictError",
    "DockerAPIVersionError",
    "DockerEventsLostError",
    "DockerTruncatedStreamError",
    "DockerResponseError",
    "DockerCopyError",
)

CONNECTION_ERROR_STATUS = 900


def add_note(exc: BaseException, note: str) -> None:
    """``exc.add_note(note)`` where Python has it (3.11+); on 3.10 the same ``__notes__`` list.

    3.10's tracebacks do not print it, but code (and pytest's ``match``) can read it.
    """
    adder = getattr(exc, "add_note", None)
    if adder is not None:
        adder(note)
        return
    notes = getattr(exc, "__notes__", None)
    if not isinstance(notes, list):
        notes = []
        exc.__notes__ = notes  # type: ignore[attr-defined]
    notes.append(note)


class DockerError(Exception):
    """An error reported by, or while talking to, the Docker daemon.

    ``message`` is the daemon's (or aiodocker 0.27's) own text. What this client
    adds to explain it is in ``hint`` and, on Python >= 3.11, a note
    (``add_note``) that tracebacks show but ``str()`` does not.
    """

    hint: str | None = None

    def __init__(self, status: int, message: str, *args: Any) -> None:
        super().__init__(message, *args)  # ``args`` as aiodocker has them
        self.status = status
        self.message = message
        self._extra = args

    def add_hint(self, hint: str) -> None:
        """Attach an explanation without changing ``message``, ``str()`` or ``args``."""
        self.hint = hint
        add_note(self, hint)

    def __str__(self) -> str:
        return f"[{self.status}] {self.message}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.status!r}, {self.message!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.status, self.message, *self._extra))


class DockerNotFoundError(DockerError):
    """The daemon answered 404: the named object does not exist."""


class DockerConflictError(DockerError):
    """The daemon answered 409: the request conflicts with the object's state."""


class DockerResponseError(DockerError, ValueError):
    """The daemon's answer breaks the API contract (wrong status class, body or shape).

    ``status`` is the HTTP status of that answer; the message names the request
    and quotes at most 200 bytes of the body, with credentials redacted. Also a
    ``ValueError``: in aiodocker 0.27 a body that is not JSON raised
    ``json.JSONDecodeError``, so ``except ValueError`` around such calls still works.
    """


class DockerConnectionError(DockerError):
    """The daemon could not be reached (status 900, as aiodocker reports it)."""

    def __init__(self, message: str, *args: Any) -> None:
        super().__init__(CONNECTION_ERROR_STATUS, message, *args)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.message, *self._extra))


class DockerClientClosedError(DockerConnectionError, RuntimeError):
    """The client was used after ``close()``.

    Also a ``RuntimeError`` whose ``str()`` and ``args`` are those of aiodocker
    0.27's ``RuntimeError('Session is closed')`` (raised there by aiohttp), so
    ``except RuntimeError`` and ``except DockerError`` both catch it.
    """

    def __init__(self, message: str = "Session is closed") -> None:
        super().__init__(message)

    def __str__(self) -> str:
        return self.message


class DockerEventsLostError(DockerConnectionError):
    """The event follower spent its retry budget: the stream could not be resumed.

    ``attempts`` is the number of failed connection attempts in a row; ``since`` the
    point (``"secs.nanos"``) the follower was trying to resume from. The last
    connection error is chained as ``__cause__``.
    """

    def __init__(self, message: str, attempts: int = 0, since: str | None = None) -> None:
        super().__init__(message, attempts, since)
        self.attempts = attempts
        self.since = since

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.message, self.attempts, self.since))


class DockerAPIVersionError(DockerError):
    """The daemon and this client share no API version, or an endpoint needs a newer one."""

    def __init__(self, message: str, *args: Any) -> None:
        super().__init__(0, message, *args)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.message, *self._extra))


class DockerContainerError(DockerError):
    """A container operation failed; carries the container's id."""

    def __init__(self, status: int, message: str, container_id: str, *args: Any) -> None:
        super().__init__(status, message, *args)
        self.container_id = container_id

    def __str__(self) -> str:
        return f"[{self.status}] {self.message} (container: {self.container_id})"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.status!r}, {self.message!r}, {self.container_id!r})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.status, self.message, self.container_id, *self._extra))


class DockerCopyError(DockerError, ValueError):
    """A ``docker cp`` path rule refused a copy (status 0: decided locally, as the CLI does).

    ``path`` names the path the rule is about (on the host or in the container).
    """

    def __init__(self, message: str, path: str) -> None:
        super().__init__(0, message, path)
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.message, self.path))


class DockerStreamError(DockerError):
    """An error reported in-band inside a streamed response (pull, push, build, load)."""

    def __init__(
        self,
        message: str,
        *,
        error_detail: dict[str, Any] | None = None,
        status: int = 0,
    ) -> None:
        super().__init__(status, message)
        self.error_detail = error_detail if error_detail is not None else {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, error_detail={self.error_detail!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_stream_error, (type(self), self.message, self.error_detail, self.status))


class DockerTruncatedStreamError(DockerStreamError):
    """A stream ended in the middle of a frame or document: data was lost."""


def _rebuild_stream_error(
    cls: type[DockerStreamError], message: str, error_detail: dict[str, Any], status: int
) -> DockerStreamError:
    return cls(message, error_detail=error_detail, status=status)


class DockerContextError(DockerError):
    """A Docker context could not be used."""

    def __init__(self, message: str, context_name: str | None = None) -> None:
        super().__init__(0, message)
        self.context_name = context_name

    def __str__(self) -> str:
        if self.context_name:
            return f"{self.message} (context: {self.context_name})"
        return self.message

    def __repr__(self) -> str:
        if self.context_name:
            return f"{type(self).__name__}({self.message!r}, context={self.context_name!r})"
        return f"{type(self).__name__}({self.message!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.message, self.context_name))


class DockerContextInvalidError(DockerContextError):
    """The named context does not exist or its metadata is malformed."""


class DockerContextTLSError(DockerContextError):
    """The TLS material of a context (or of DOCKER_CERT_PATH) cannot be read."""
