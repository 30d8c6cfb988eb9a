"""The sans-I/O response reader: what bytes mean does not depend on where they were cut.

Property tests (hypothesis) in the manner of ``tests/unit/streams``: random cuts of
valid responses give the same events as the whole; any bytes at all give events or
the package's protocol errors, never a parser's own exception.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aiodocker._transport.h1reader import MAX_HEAD_BYTES, Headers, ResponseReader
from aiodocker.exceptions import DockerConnectionError, DockerResponseError

PROTOCOL_ERRORS = (DockerConnectionError, DockerResponseError)


class Recorder:
    """A sink that records every event; body pieces are joined (their cuts are arbitrary)."""

    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []

    def on_head(self, status: int, headers: Headers) -> None:
        self.events.append(("head", status, dict(headers)))

    def on_body(self, data: bytes) -> None:
        if self.events and self.events[-1][0] == "body":
            self.events[-1] = ("body", self.events[-1][1] + data)
        else:
            self.events.append(("body", data))

    def on_end(self, keep_alive: bool) -> None:
        self.events.append(("end", keep_alive))

    def on_upgrade(self, rest: bytes) -> None:
        self.events.append(("upgrade",))
        if rest:
            self.on_body(rest)


def read(chunks: list[bytes], method: str = "GET", *, eof: bool = False) -> list[tuple[Any, ...]]:
    sink = Recorder()
    reader = ResponseReader(sink)
    reader.expect(method)
    for chunk in chunks:
        reader.feed(chunk)
    if eof:
        reader.feed_eof()
    return sink.events


def cut(data: bytes, points: list[int]) -> list[bytes]:
    bounds = [0, *sorted(p % (len(data) + 1) for p in points), len(data)]
    return [data[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


def chunked(pieces: list[bytes]) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces if p) + b"0\r\n\r\n"


header_names = st.sampled_from(
    ["Api-Version", "Docker-Experimental", "Ostype", "Server", "X-Extra"]
)
header_values = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789./ ()", max_size=20).map(
    str.strip
)
extra_headers = st.lists(st.tuples(header_names, header_values), max_size=5)
bodies = st.lists(st.binary(max_size=64), max_size=6)


@st.composite
def responses(draw: st.DrawFn) -> tuple[bytes, list[tuple[Any, ...]]]:
    """A valid response to a GET and the events it must give."""
    status = draw(st.sampled_from([200, 201, 204, 304, 404, 500]))
    pieces = draw(bodies)
    body = b"".join(pieces) if status not in (204, 304) else b""
    headers = draw(extra_headers)
    framing = draw(st.sampled_from(["length", "chunked"]))
    continues = draw(st.integers(0, 2))  # 100 Continue heads before the real one
    head = b"".join(b"HTTP/1.1 100 Continue\r\n\r\n" for _ in range(continues))
    head += b"HTTP/1.1 %d X\r\n" % status
    head += b"".join(f"{name}: {value}\r\n".encode() for name, value in headers)
    expected_headers: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        expected_headers[key] = (
            f"{expected_headers[key]}, {value}" if key in expected_headers else value
        )
    if status in (204, 304):
        wire = head + b"\r\n"
    elif framing == "length":
        head += b"Content-Length: %d\r\n" % len(body)
        expected_headers["content-length"] = str(len(body))
        wire = head + b"\r\n" + body
    else:
        head += b"Transfer-Encoding: chunked\r\n"
        expected_headers["transfer-encoding"] = "chunked"
        wire = head + b"\r\n" + chunked(pieces)
    events: list[tuple[Any, ...]] = [("head", status, expected_headers)]
    if body:
        events.append(("body", body))
    events.append(("end", True))
    return wire, events


cut_points = st.lists(st.integers(min_value=0, max_value=10**6), max_size=20)


@given(response=responses(), points=cut_points)
def test_any_cut_of_a_valid_response_gives_its_events(
    response: tuple[bytes, list[tuple[Any, ...]]], points: list[int]
) -> None:
    wire, expected = response
    assert read(cut(wire, points)) == expected


@given(response=responses(), points=cut_points)
def test_keep_alive_responses_follow_each_other_on_one_reader(
    response: tuple[bytes, list[tuple[Any, ...]]], points: list[int]
) -> None:
    wire, expected = response
    sink = Recorder()
    reader = ResponseReader(sink)
    for _ in range(2):
        reader.expect("GET")
        for chunk in cut(wire, points):
            reader.feed(chunk)
    assert sink.events == expected + expected


@settings(max_examples=300)
@given(garbage=st.binary(max_size=200), points=cut_points)
def test_any_bytes_give_events_or_the_protocol_error(garbage: bytes, points: list[int]) -> None:
    try:
        read(cut(garbage, points), eof=True)
    except PROTOCOL_ERRORS:
        pass


@settings(max_examples=300)
@given(
    response=responses(),
    position=st.integers(min_value=0, max_value=10**6),
    junk=st.binary(min_size=1, max_size=8),
)
def test_a_corrupted_response_gives_events_or_the_protocol_error(
    response: tuple[bytes, list[tuple[Any, ...]]], position: int, junk: bytes
) -> None:
    wire = response[0]
    at = position % (len(wire) + 1)
    try:
        read([wire[:at] + junk + wire[at + len(junk) :]], eof=True)
    except PROTOCOL_ERRORS:
        pass


def test_garbage_raises_the_connection_error_naming_it() -> None:
    with pytest.raises(DockerConnectionError, match="malformed HTTP response"):
        read([b"SSH-2.0-OpenSSH_9.2\r\n\r\n"])


def test_bytes_nobody_asked_for_are_refused() -> None:
    reader = ResponseReader(Recorder())
    with pytest.raises(DockerConnectionError, match="without a request"):
        reader.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    reader.expect("GET")
    reader.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    with pytest.raises(DockerConnectionError, match="without a request"):
        reader.feed(b"HTTP/1.1 200 OK\r\n")  # a second answer to one request


def test_a_head_past_the_bound_is_refused_even_in_pieces() -> None:
    reader = ResponseReader(Recorder())
    reader.expect("GET")
    reader.feed(b"HTTP/1.1 200 OK\r\n")
    line = b"X-Pad: " + b"a" * 1000 + b"\r\n"
    with pytest.raises(DockerResponseError, match=f"exceeds {MAX_HEAD_BYTES} bytes"):
        for _ in range(MAX_HEAD_BYTES // len(line) + 2):
            reader.feed(line)


def test_a_head_response_ends_at_its_head_whatever_it_announces() -> None:
    wire = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nApi-Version: 1.41\r\n\r\n"
    events = read([wire], "HEAD")
    assert events == [
        ("head", 200, {"content-length": "2", "api-version": "1.41"}),
        ("end", True),
    ]


def test_an_unframed_body_runs_to_eof_and_a_short_sized_one_does_not_end() -> None:
    unframed = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nsome"
    assert read([unframed, b" more"], eof=True)[1:] == [("body", b"some more"), ("end", False)]
    short = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nsome"
    assert read([short], eof=True)[1:] == [("body", b"some")]  # truncated: no end


def test_connection_close_is_not_kept_alive() -> None:
    wire = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    assert read([wire])[-1] == ("end", False)


@given(points=cut_points, stream=st.binary(max_size=64))
def test_an_upgrade_hands_over_every_later_byte_as_raw_stream(
    points: list[int], stream: bytes
) -> None:
    head = b"HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n"
    events = read(cut(head + stream, points))
    assert events[:2] == [("head", 101, {"connection": "Upgrade", "upgrade": "tcp"}), ("upgrade",)]
    assert events[2:] == ([("body", stream)] if stream else [])


def test_a_closed_reader_reports_nothing() -> None:
    sink = Recorder()
    reader = ResponseReader(sink)
    reader.expect("GET")
    reader.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab")
    reader.close()
    with pytest.raises(DockerConnectionError):
        reader.feed(b"cd")
    assert sink.events == [("head", 200, {"content-length": "4"}), ("body", b"ab")]
