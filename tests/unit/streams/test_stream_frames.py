"""FrameDecoder, RawDecoder, decoder_for and encode_frame."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from aiodocker._streams.frames import (
    HEADER_SIZE,
    MAX_BUFFERED_PAYLOAD,
    MAX_PAYLOAD_SIZE,
    STDERR,
    STDIN,
    STDOUT,
    SYSTEMERR,
    FrameDecoder,
    Message,
    RawDecoder,
    decoder_for,
    encode_frame,
)
from aiodocker.exceptions import DockerStreamError, DockerTruncatedStreamError

DATA = Path(__file__).parent / "data"

FRAMES = [
    Message(STDOUT, b"hello\n"),
    Message(STDERR, b"caf\xc3"),
    Message(STDOUT, b""),
    Message(STDERR, b"\xa9 err\n"),
    Message(SYSTEMERR, b"sys"),
    Message(STDIN, b"in"),
    Message(STDOUT, b"x"),
]
SAMPLE = b"".join(encode_frame(stream, data) for stream, data in FRAMES)
EXPECTED = [frame for frame in FRAMES if frame.data]


def decode_chunks(chunks: list[bytes]) -> list[Message]:
    decoder = FrameDecoder()
    messages: list[Message] = []
    for chunk in chunks:
        messages += decoder.feed(chunk)
    return messages + decoder.flush()


def test_encode_frame_writes_type_padding_and_big_endian_length() -> None:
    assert encode_frame(STDERR, b"abc") == b"\x02\x00\x00\x00\x00\x00\x00\x03abc"
    assert len(encode_frame(STDOUT, b"")) == HEADER_SIZE


@pytest.mark.parametrize("stream", [-1, 4, 256])
def test_encode_frame_rejects_unknown_stream(stream: int) -> None:
    with pytest.raises(ValueError, match="stream"):
        encode_frame(stream, b"x")


def test_frame_decoder_decodes_whole_stream_in_one_chunk() -> None:
    assert decode_chunks([SAMPLE]) == EXPECTED


def test_frame_decoder_keeps_stream_ids() -> None:
    streams = [message.stream for message in decode_chunks([SAMPLE])]
    assert streams == [STDOUT, STDERR, STDERR, SYSTEMERR, STDIN, STDOUT]


def test_frame_decoder_reassembles_frames_split_at_every_boundary() -> None:
    for cut in range(len(SAMPLE) + 1):
        assert decode_chunks([SAMPLE[:cut], SAMPLE[cut:]]) == EXPECTED, cut


def test_frame_decoder_reassembles_frames_split_at_every_pair_of_boundaries() -> None:
    for first in range(len(SAMPLE) + 1):
        for second in range(first, len(SAMPLE) + 1):
            chunks = [SAMPLE[:first], SAMPLE[first:second], SAMPLE[second:]]
            assert decode_chunks(chunks) == EXPECTED, (first, second)


def test_frame_decoder_reassembles_frames_fed_one_byte_at_a_time() -> None:
    assert decode_chunks([SAMPLE[i : i + 1] for i in range(len(SAMPLE))]) == EXPECTED


def test_frame_decoder_waits_for_header_split_across_chunks() -> None:
    decoder = FrameDecoder()
    frame = encode_frame(STDERR, b"payload")
    assert decoder.feed(frame[:3]) == []
    assert decoder.feed(frame[3:7]) == []
    assert decoder.feed(frame[7:9]) == []
    assert decoder.feed(frame[9:]) == [Message(STDERR, b"payload")]
    assert decoder.flush() == []


def test_frame_decoder_drops_zero_length_frames() -> None:
    decoder = FrameDecoder()
    empty = encode_frame(STDOUT, b"")
    assert decoder.feed(empty * 3) == []
    assert decoder.feed(empty[:5]) == []
    assert decoder.feed(empty[5:] + encode_frame(STDERR, b"e") + empty) == [Message(STDERR, b"e")]
    assert decoder.flush() == []


def test_frame_decoder_ignores_empty_chunks() -> None:
    decoder = FrameDecoder()
    assert decoder.feed(b"") == []
    assert decoder.feed(SAMPLE[:4]) == []
    assert decoder.feed(b"") == []
    assert decoder.feed(SAMPLE[4:]) + decoder.flush() == EXPECTED


def test_frame_decoder_returns_bytes_even_when_fed_bytearray_or_memoryview() -> None:
    decoder = FrameDecoder()
    messages = decoder.feed(bytearray(SAMPLE[:20])) + decoder.feed(memoryview(SAMPLE)[20:])
    assert messages == EXPECTED
    assert all(type(message.data) is bytes for message in messages)


@pytest.mark.parametrize("cut", [1, 3, 7])
def test_frame_decoder_flush_reports_missing_header_bytes(cut: int) -> None:
    decoder = FrameDecoder()
    frame = encode_frame(STDOUT, b"abc")
    assert decoder.feed(encode_frame(STDERR, b"ok") + frame[:cut]) == [Message(STDERR, b"ok")]
    with pytest.raises(DockerTruncatedStreamError, match=f"{HEADER_SIZE - cut} bytes missing"):
        decoder.flush()


def test_frame_decoder_flush_reports_missing_payload_bytes() -> None:
    decoder = FrameDecoder()
    frame = encode_frame(STDERR, b"0123456789")
    assert decoder.feed(frame[:-4]) == []
    with pytest.raises(DockerTruncatedStreamError, match="got 6 of 10 payload bytes, 4 bytes"):
        decoder.flush()


def test_frame_decoder_flush_reports_missing_payload_right_after_header() -> None:
    decoder = FrameDecoder()
    assert decoder.feed(encode_frame(STDOUT, b"abc")[:HEADER_SIZE]) == []
    with pytest.raises(DockerTruncatedStreamError, match="3 bytes missing"):
        decoder.flush()


def test_frame_decoder_is_reusable_after_flush() -> None:
    decoder = FrameDecoder()
    decoder.feed(SAMPLE[:5])
    with pytest.raises(DockerTruncatedStreamError):
        decoder.flush()
    assert decoder.feed(SAMPLE) + decoder.flush() == EXPECTED


@pytest.mark.parametrize(
    "header",
    [b"\x04\x00\x00\x00\x00\x00\x00\x01", b"\x01\x00\x01\x00\x00\x00\x00\x01", b"out 1 \xc3\xa9"],
)
def test_frame_decoder_rejects_malformed_header(header: bytes) -> None:
    with pytest.raises(DockerStreamError, match="not multiplexed") as info:
        FrameDecoder().feed(header + b"x")
    assert not isinstance(info.value, DockerTruncatedStreamError)


def test_frame_decoder_rejects_malformed_header_split_across_chunks() -> None:
    decoder = FrameDecoder()
    decoder.feed(b"\x01\x00")
    with pytest.raises(DockerStreamError, match="not multiplexed"):
        decoder.feed(b"\x00\x07\x00\x00\x00\x01x")


def test_frame_decoder_decodes_large_frames_fed_in_smaller_chunks() -> None:
    block = bytes(range(256)) * 128  # 32 KiB
    payloads = [bytes([i]) + block[: 32 * 1024 - 1] for i in range(256)]  # 8 MiB in all
    stream = b"".join(encode_frame(STDOUT if i % 3 else STDERR, p) for i, p in enumerate(payloads))
    chunk = 64 * 1024
    messages = decode_chunks([stream[i : i + chunk] for i in range(0, len(stream), chunk)])
    assert [message.data for message in messages] == payloads
    assert [message.stream for message in messages] == [
        STDOUT if i % 3 else STDERR for i in range(len(payloads))
    ]


def test_frame_decoder_hands_out_one_huge_frame_in_bounded_pieces() -> None:
    payload = bytes(range(256)) * (64 * 1024)  # 16 MiB
    stream = encode_frame(STDERR, payload) + encode_frame(STDOUT, b"after")
    chunk = 64 * 1024 + 3
    messages = decode_chunks([stream[i : i + chunk] for i in range(0, len(stream), chunk)])
    assert messages[-1] == Message(STDOUT, b"after")
    pieces = messages[:-1]
    assert b"".join(piece.data for piece in pieces) == payload
    assert {piece.stream for piece in pieces} == {STDERR}
    assert len(pieces) > 1
    assert all(len(piece.data) < MAX_BUFFERED_PAYLOAD + chunk for piece in pieces)


def test_frame_header_announcing_4_gib_buffers_at_most_one_piece() -> None:
    decoder = FrameDecoder()
    received = 0
    decoder.feed(encode_frame(STDOUT, b"")[:4] + (0xFFFFFFFF).to_bytes(4, "big"))
    for _ in range(48):  # 3 MiB of the announced 4 GiB
        for message in decoder.feed(b"x" * 65536):
            received += len(message.data)
        assert len(decoder._buffer) < MAX_BUFFERED_PAYLOAD
    assert received == 3 * MAX_BUFFERED_PAYLOAD
    with pytest.raises(DockerTruncatedStreamError, match="bytes missing"):
        decoder.flush()


def test_frame_decoder_decodes_recorded_daemon_logs() -> None:
    recorded = (DATA / "logs-multiplexed.bin").read_bytes()
    messages = decode_chunks([recorded])
    assert [(m.stream, m.data.decode()) for m in messages] == [
        (STDOUT, "out 1 é\n"),
        (STDERR, "err 1 ☃\n"),
        (STDOUT, "out 2 é\n"),
        (STDERR, "err 2 ☃\n"),
        (STDOUT, "out 3 é\n"),
        (STDERR, "err 3 ☃\n"),
        (STDOUT, "no newline ✓"),
    ]


def test_raw_decoder_turns_every_nonempty_chunk_into_stdout() -> None:
    decoder = RawDecoder()
    assert decoder.feed(b"") == []
    assert decoder.feed(b"\x02\x00\x00\x00") == [Message(STDOUT, b"\x02\x00\x00\x00")]
    assert decoder.feed(bytearray(b"tty")) == [Message(STDOUT, b"tty")]
    assert decoder.flush() == []


def test_raw_decoder_passes_recorded_tty_logs_through() -> None:
    recorded = (DATA / "logs-tty.bin").read_bytes()
    assert RawDecoder().feed(recorded) == [Message(STDOUT, "out é\r\nerr ☃\r\n".encode())]


MULTIPLEXED = "application/vnd.docker.multiplexed-stream"
RAW = "application/vnd.docker.raw-stream"


@pytest.mark.parametrize(
    ("content_type", "tty", "expected"),
    [
        # multiplexed-stream is always trusted
        (MULTIPLEXED, None, FrameDecoder),
        (MULTIPLEXED, False, FrameDecoder),
        (MULTIPLEXED, True, FrameDecoder),
        (MULTIPLEXED.upper() + "; charset=binary", True, FrameDecoder),
        # raw-stream only when tty is unknown: API < 1.42 says raw-stream for everything
        (RAW, None, RawDecoder),
        (RAW, False, FrameDecoder),
        (RAW, True, RawDecoder),
        # missing or other types: tty decides, unknown means frames
        (None, None, FrameDecoder),
        (None, False, FrameDecoder),
        (None, True, RawDecoder),
        ("text/plain; charset=utf-8", True, RawDecoder),
        ("text/plain; charset=utf-8", False, FrameDecoder),
        ("", None, FrameDecoder),
    ],
)
def test_decoder_for_trusts_multiplexed_always_and_raw_only_without_tty(
    content_type: str | None, tty: bool | None, expected: type
) -> None:
    assert type(decoder_for(content_type, tty)) is expected


# --- edges found by mutation testing (issue 27) ----------------------------------------


def test_truncated_stdin_frame_names_stream_0() -> None:
    # stream 0 is a real stream id: a payload cut short on it is a truncated frame too
    decoder = FrameDecoder()
    assert decoder.feed(struct.pack(">LL", 0, 5) + b"ab") == []
    with pytest.raises(DockerTruncatedStreamError) as caught:
        decoder.flush()
    assert str(caught.value.message) == (
        "multiplexed stream ended inside a frame of stream 0: got 2 of 5 payload bytes, "
        "3 bytes missing"
    )


def test_malformed_header_error_shows_the_header_bytes() -> None:
    decoder = FrameDecoder()
    with pytest.raises(DockerStreamError) as caught:
        decoder.feed(b"\x05\x00\x00\x00\x00\x00\x00\x01xhello")
    assert caught.value.message.startswith(
        "malformed multiplexed frame header 05 00 00 00 00 00 00 01:"
    )
    # a header found after a frame: the bytes shown are those at its own offset
    decoder = FrameDecoder()
    with pytest.raises(DockerStreamError) as caught:
        decoder.feed(encode_frame(1, b"ok") + b"hello, world")
    assert caught.value.message.startswith(
        "malformed multiplexed frame header 68 65 6c 6c 6f 2c 20 77:"
    )


class _Sized(bytes):
    """Empty bytes that report another length: encode_frame's limit without 4 GiB."""

    def __new__(cls, size: int) -> _Sized:
        made = super().__new__(cls)
        made.size = size  # type: ignore[attr-defined]
        return made

    def __len__(self) -> int:
        return self.size  # type: ignore[attr-defined,no-any-return]


def test_encode_frame_bounds_are_inclusive() -> None:
    assert encode_frame(0, b"x") == b"\x00\x00\x00\x00\x00\x00\x00\x01x"
    assert encode_frame(3, b"x") == b"\x03\x00\x00\x00\x00\x00\x00\x01x"
    for bad in (-1, 4):
        with pytest.raises(
            ValueError, match=rf"stream must be 0 \(stdin\) to 3 \(systemerr\), got {bad}"
        ):
            encode_frame(bad, b"x")
    assert encode_frame(1, _Sized(MAX_PAYLOAD_SIZE))[:8] == b"\x01\x00\x00\x00\xff\xff\xff\xff"
    with pytest.raises(ValueError, match=f"frame payload too large: {MAX_PAYLOAD_SIZE + 1} bytes"):
        encode_frame(1, _Sized(MAX_PAYLOAD_SIZE + 1))
