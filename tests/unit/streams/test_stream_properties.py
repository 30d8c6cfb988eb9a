"""Property tests: decoding never depends on where the input was cut."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aiodocker._streams.frames import FrameDecoder, Message, encode_frame
from aiodocker._streams.jsonseq import JSONSeqDecoder
from aiodocker._streams.text import LineSplitter, TextDecoder
from aiodocker.exceptions import DockerTruncatedStreamError

RECORDED = (Path(__file__).parent / "data" / "logs-multiplexed.bin").read_bytes()

frame_lists = st.lists(st.tuples(st.integers(0, 3), st.binary(max_size=40)), max_size=12)


def multiplexed(frames: list[tuple[int, bytes]]) -> bytes:
    return b"".join(encode_frame(stream, data) for stream, data in frames)


def frame_ends(stream: bytes) -> set[int]:
    """Offsets where a frame ends (0 included): the only clean places to stop."""
    ends = {0}
    pos = 0
    while pos < len(stream):
        pos += 8 + int.from_bytes(stream[pos + 4 : pos + 8], "big")
        ends.add(pos)
    return ends


def cut(data: bytes, points: list[int]) -> list[bytes]:
    bounds = [0, *sorted(p % (len(data) + 1) for p in points), len(data)]
    return [data[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


def decode_frames(chunks: list[bytes]) -> list[Message]:
    decoder = FrameDecoder()
    messages: list[Message] = []
    for chunk in chunks:
        messages += decoder.feed(chunk)
    return messages + decoder.flush()


streams = st.one_of(st.just(RECORDED), frame_lists.map(multiplexed))
cut_points = st.lists(st.integers(min_value=0, max_value=10**6), max_size=20)


@given(stream=streams, points=cut_points)
def test_frame_decoder_output_does_not_depend_on_chunking(stream: bytes, points: list[int]) -> None:
    assert decode_frames(cut(stream, points)) == decode_frames([stream])


@given(frames=frame_lists)
def test_frame_decoder_returns_every_nonempty_frame_with_its_stream(
    frames: list[tuple[int, bytes]],
) -> None:
    expected = [Message(stream, data) for stream, data in frames if data]
    assert decode_frames([multiplexed(frames)]) == expected


@given(stream=streams, data=st.data())
def test_frame_decoder_flush_raises_when_stream_stops_inside_a_frame(
    stream: bytes, data: st.DataObject
) -> None:
    inside = sorted(set(range(len(stream) + 1)) - frame_ends(stream))
    if not inside:
        return
    stop = data.draw(st.sampled_from(inside), label="stop")
    points = data.draw(cut_points, label="points")
    decoder = FrameDecoder()
    for chunk in cut(stream[:stop], points):
        decoder.feed(chunk)
    with pytest.raises(DockerTruncatedStreamError, match="bytes missing"):
        decoder.flush()


@given(stream=streams, points=cut_points)
def test_text_decoder_text_per_stream_does_not_depend_on_chunking(
    stream: bytes, points: list[int]
) -> None:
    def texts(chunks: list[bytes]) -> dict[int, str]:
        decoder = TextDecoder(errors="replace")
        out: dict[int, str] = {}
        for message in decode_frames(chunks):
            out[message.stream] = out.get(message.stream, "") + decoder.decode(message)
        for stream_id in list(out):
            out[stream_id] += decoder.flush(stream_id)
        return out

    assert texts(cut(stream, points)) == texts([stream])


@given(data=st.binary(max_size=200), points=cut_points)
def test_line_splitter_output_does_not_depend_on_chunking(data: bytes, points: list[int]) -> None:
    splitter = LineSplitter()
    lines: list[bytes] = []
    for chunk in cut(data, points):
        lines += splitter.feed(chunk)
    lines += splitter.flush()
    assert b"".join(lines) == data
    assert all(line.endswith(b"\n") for line in lines[:-1])
    assert all(b"\n" not in line[:-1] for line in lines)


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=False),
)
texts = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)
json_values = st.recursive(
    st.one_of(scalars, texts),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(texts, children, max_size=4)
    ),
    max_leaves=12,
)
separators = st.sampled_from(["", "\n", "\r\n", " ", "\n\n", "\t", " \r\n"])


def is_bare_scalar(value: Any) -> bool:
    return not isinstance(value, str | list | dict)


@st.composite
def json_sequences(draw: st.DrawFn) -> tuple[list[Any], bytes]:
    values = draw(st.lists(json_values, max_size=6))
    indent = draw(st.sampled_from([None, None, 2]))
    ascii_only = draw(st.booleans())
    text = draw(separators)
    for index, value in enumerate(values):
        text += json.dumps(value, indent=indent, ensure_ascii=ascii_only)
        separator = draw(separators)
        following = values[index + 1] if index + 1 < len(values) else None
        if (
            not separator
            and is_bare_scalar(value)
            and (following is None or is_bare_scalar(following))
        ):
            separator = "\n"  # two bare scalars need something between them
        text += separator
    return values, text.encode()


@settings(max_examples=300)
@given(sequence=json_sequences(), points=cut_points)
def test_json_decoder_output_does_not_depend_on_chunking(
    sequence: tuple[list[Any], bytes], points: list[int]
) -> None:
    values, data = sequence
    decoder = JSONSeqDecoder()
    decoded: list[Any] = []
    for chunk in cut(data, points):
        decoded += decoder.feed(chunk)
    decoded += decoder.flush()
    assert decoded == values


@settings(max_examples=300)
@given(sequence=json_sequences(), data=st.data())
def test_json_decoder_flush_raises_exactly_when_stream_stops_inside_a_value(
    sequence: tuple[list[Any], bytes], data: st.DataObject
) -> None:
    _, encoded = sequence
    stop = data.draw(st.integers(min_value=0, max_value=len(encoded)), label="stop")
    prefix = encoded[:stop]
    decoder = JSONSeqDecoder()
    decoded: list[Any] = []
    for chunk in cut(prefix, data.draw(cut_points, label="points")):
        decoded += decoder.feed(chunk)
    # The stdlib, given the whole prefix at once, says whether it ends inside a value
    # (a number cut short, such as 12 from 123, is a complete value to both).
    try:
        expected = _stdlib_decode_all(prefix)
    except ValueError:
        with pytest.raises(DockerTruncatedStreamError):
            decoder.flush()
    else:
        assert decoded + decoder.flush() == expected


def _stdlib_decode_all(data: bytes) -> list[Any]:
    text = data.decode()
    decoder = json.JSONDecoder()
    pos = 0
    out: list[Any] = []
    while True:
        while pos < len(text) and text[pos] in " \t\r\n":
            pos += 1
        if pos == len(text):
            return out
        value, pos = decoder.raw_decode(text, pos)
        out.append(value)
