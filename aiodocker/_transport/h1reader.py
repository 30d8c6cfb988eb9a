"""The sans-I/O HTTP/1.1 response reader: bytes in, response events out.

Layer: ``_transport``. Imports the stdlib, httptools (on the first response) and
``aiodocker.exceptions``. No sockets and no event loop: :class:`ResponseReader`
is fed the bytes a connection received and reports what they hold to a
:class:`ResponseSink` (the head, body pieces, the end, an upgrade). Whatever a
peer sends, the reader reports events or raises :class:`DockerConnectionError`
(malformed bytes, bytes nobody asked for) or :class:`DockerResponseError` (a head
too large to buffer); never a parser's own exception.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Final, Protocol

from ..exceptions import DockerConnectionError, DockerResponseError

if TYPE_CHECKING:
    import httptools

NO_BODY_STATUSES: Final = frozenset({204, 304})
# The most a response head (status line, headers, and any 1xx heads before it) may
# take. The daemon's heads are well under 1 KiB; 256 KiB leaves room for any proxy
# in between and still bounds what a broken peer can make us buffer.
MAX_HEAD_BYTES: Final = 256 * 1024


class Headers(Mapping[str, str]):
    """Case-insensitive, read-only response headers (repeated fields joined by ``, ``).

    Kept as the raw head block the parser already validated and read lazily:
    most responses are consumed without looking at their headers, and a
    parser callback per header line would cost more than the whole lookup.
    """

    __slots__ = ("_block", "_lower", "_decoded")

    def __init__(self, block: bytes) -> None:
        self._block = block  # the field lines, each preceded by CRLF
        self._lower: bytes | None = None
        self._decoded: dict[str, str] | None = None

    @property
    def _items(self) -> dict[str, str]:
        items = self._decoded
        if items is None:
            items = {}
            for line in self._block.split(b"\r\n"):
                raw_name, colon, raw_value = line.partition(b":")
                if not colon:
                    continue
                key = raw_name.strip().decode("latin-1").lower()
                value = raw_value.strip().decode("latin-1")
                items[key] = f"{items[key]}, {value}" if key in items else value
            self._decoded = items
        return items

    def __getitem__(self, key: str) -> str:
        if self._decoded is not None:
            return self._decoded[key.lower()]
        lower = self._lower
        if lower is None:
            lower = self._lower = self._block.lower()
        needle = b"\r\n" + key.lower().encode("latin-1") + b":"
        start = lower.find(needle)
        if start < 0:
            raise KeyError(key)
        if lower.find(needle, start + 1) >= 0:
            return self._items[key.lower()]  # repeated field: join them all
        start += len(needle)
        end = self._block.find(b"\r\n", start)
        value = self._block[start:] if end < 0 else self._block[start:end]
        return value.strip().decode("latin-1")

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        try:
            self[key]
        except KeyError:
            return False
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"


class ResponseSink(Protocol):
    """What a :class:`ResponseReader` reports to, in this order for one response."""

    def on_head(self, status: int, headers: Headers) -> None:
        """The final head arrived (1xx heads other than 101 are skipped)."""

    def on_body(self, data: bytes) -> None:
        """A piece of the body, de-chunked."""

    def on_end(self, keep_alive: bool) -> None:
        """The body is complete; ``keep_alive``: the connection may carry another request."""

    def on_upgrade(self, rest: bytes) -> None:
        """The response switched protocols: ``rest`` and all later bytes are the raw stream."""


class ResponseReader:
    """Reads one response after another from the bytes of one connection.

    Call :meth:`expect` before each request is sent, then :meth:`feed` every
    byte received and :meth:`feed_eof` when the peer closes its side.
    """

    __slots__ = (
        "_sink",
        "_parser",
        "_method",
        "_head_buf",
        "_head_size",
        "_waiting",
        "_ended",
        "_headers",
        "upgraded",
        "on_body",
    )

    def __init__(self, sink: ResponseSink) -> None:
        self._sink = sink
        # httptools calls this one directly (it looks its callbacks up once): one call
        # less for every piece of every body
        self.on_body: Callable[[bytes], None] = sink.on_body
        self._parser: httptools.HttpResponseParser | None = None
        self._method = "GET"
        self._head_buf: bytes | bytearray | None = None  # the head's raw bytes while it comes
        self._head_size = 0
        self._waiting = False  # a request is outstanding and its response not complete
        self._ended = False
        self._headers: Headers | None = None  # those of the current response, once come
        self.upgraded = False

    @property
    def head_pending(self) -> bool:
        """The response to the outstanding request has not given its head yet."""
        return self._head_buf is not None

    def expect(self, method: str) -> None:
        """Get ready for the response to a ``method`` request being sent now."""
        self._method = method
        self._head_buf = b""
        self._head_size = 0
        self._waiting = True
        self._ended = False
        self._headers = None
        if self._parser is None:  # kept across keep-alive responses
            # imported with the first parser: 1.3 ms that a bare `import aiodocker` need not pay
            import httptools

            self._parser = httptools.HttpResponseParser(self)

    def feed(self, data: bytes) -> None:
        """Take bytes received from the peer.

        Raises:
            DockerConnectionError: the bytes are not an HTTP/1.1 response, or no
                request is waiting for them.
            DockerResponseError: the head grew past ``MAX_HEAD_BYTES``.
        """
        if self.upgraded:
            if data:
                self._sink.on_body(data)
            return
        parser = self._parser
        if not data:
            return  # nothing said (a socket never gives this; a caller may)
        if parser is None or not self._waiting:
            raise DockerConnectionError("daemon sent data without a request")
        head_buf = self._head_buf
        if head_buf is not None:  # the head is still coming: keep its raw bytes
            if not head_buf:
                self._head_buf = data  # the usual case, the head in one read: no copy of it
            else:  # the head came in pieces: gather them in place
                if type(head_buf) is bytes:
                    head_buf = self._head_buf = bytearray(head_buf)
                head_buf += data
            self._head_size += len(data)
        try:
            parser.feed_data(data)
        except Exception as exc:  # the module is loaded, as a parser exists
            self._parser_failed(exc, data)
        if self._head_buf is not None and self._head_size > MAX_HEAD_BYTES:
            self._head_buf = None
            self._waiting = False
            raise DockerResponseError(
                0, f"the daemon's response head exceeds {MAX_HEAD_BYTES} bytes"
            )

    def _parser_failed(self, exc: Exception, data: bytes) -> None:
        import httptools

        if isinstance(exc, httptools.HttpParserUpgrade):
            self.upgraded = True
            self._waiting = False
            rest = data[exc.args[0] :]
            self._sink.on_upgrade(rest)
            return
        self._waiting = False
        self._head_buf = None
        raise DockerConnectionError(f"malformed HTTP response from daemon: {exc}") from exc

    def feed_eof(self) -> bool:
        """The peer closed its side; True when that ended a body that runs to EOF.

        A body with neither ``Content-Length`` nor chunking ends with the
        connection; any other unfinished response stays unfinished (truncated).
        """
        if self.upgraded or self._head_buf is not None or not self._waiting or self._ended:
            return False
        headers = self._headers
        if headers is None or "content-length" in headers:
            return False
        if "chunked" in headers.get("transfer-encoding", ""):
            return False
        self._ended = True
        self._waiting = False
        self._sink.on_end(False)
        return True

    def close(self) -> None:
        """Forget the parser and the sink: nothing more arrives (this breaks their cycles)."""
        self._parser = None
        self._waiting = False
        self._sink = _CLOSED
        self.on_body = _CLOSED.on_body

    # --- httptools callbacks ----------------------------------------------

    def on_headers_complete(self) -> None:
        assert self._parser is not None
        status = self._parser.get_status_code()
        raw = self._head_buf if self._head_buf is not None else b""
        end = raw.find(b"\r\n\r\n")
        if 100 <= status < 200 and status != 101:
            self._head_buf = raw[end + 4 :]  # informational: the real head follows
            return
        self._head_buf = None
        first_line_end = raw.find(b"\r\n")
        block = bytes(raw[first_line_end:end]) if end >= 0 else b""
        headers = self._headers = Headers(block)
        self._sink.on_head(status, headers)
        if self._method == "HEAD" or status in NO_BODY_STATUSES:
            self._end()

    def on_message_complete(self) -> None:
        if self._parser is not None and 100 <= self._parser.get_status_code() < 200:
            return  # 101: the upgrade handler takes over; other 1xx: the answer follows
        self._end()

    def _end(self) -> None:
        if self._ended:
            return
        self._ended = True
        parser = self._parser
        keep_alive = bool(parser and parser.should_keep_alive())
        self._waiting = False
        if self._method == "HEAD":
            self._parser = None  # it expects the body a HEAD response announces but never sends
        self._sink.on_end(keep_alive)


class _ClosedSink:
    """The sink of a closed reader: reports go nowhere."""

    def on_head(self, status: int, headers: Headers) -> None:
        pass

    def on_body(self, data: bytes) -> None:
        pass

    def on_end(self, keep_alive: bool) -> None:
        pass

    def on_upgrade(self, rest: bytes) -> None:
        pass


_CLOSED: Final = _ClosedSink()
