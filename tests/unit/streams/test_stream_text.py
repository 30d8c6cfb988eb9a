"""TextDecoder, FrameText and LineSplitter."""

from __future__ import annotations

from pathlib import Path

import pytest

from aiodocker._streams.frames import (
    STDERR,
    STDOUT,
    FrameDecoder,
    Message,
    RawDecoder,
    encode_frame,
)
from aiodocker._streams.text import FrameText, LineSplitter, TextDecoder
from aiodocker.exceptions import DockerTruncatedStreamError

DATA = Path(__file__).parent / "data"


def test_text_decoder_joins_a_character_split_around_a_frame_of_the_other_stream() -> None:
    decoder = TextDecoder()
    snowman = "☃".encode()
    assert decoder.decode(Message(STDOUT, b"a" + snowman[:2])) == "a"
    assert decoder.decode(Message(STDERR, b"err " + "é".encode()[:1])) == "err "
    assert decoder.decode(Message(STDOUT, snowman[2:] + b"b")) == "☃b"
    assert decoder.decode(Message(STDERR, "é".encode()[1:])) == "é"
    assert decoder.flush() == ""


def test_text_decoder_never_mixes_bytes_of_two_streams() -> None:
    decoder = TextDecoder(errors="replace")
    # A lead byte on stdout must not be completed by a continuation byte on stderr.
    assert decoder.decode(Message(STDOUT, b"\xe2\x98")) == ""
    assert decoder.decode(Message(STDERR, b"\x83")) == "\ufffd"
    assert decoder.flush(STDOUT) == "\ufffd"


def test_text_decoder_strict_flush_raises_on_an_unfinished_character() -> None:
    decoder = TextDecoder()
    decoder.decode(Message(STDOUT, b"ok \xc3"))
    with pytest.raises(UnicodeDecodeError):
        decoder.flush(STDOUT)


def test_text_decoder_ignore_drops_invalid_bytes() -> None:
    decoder = TextDecoder(errors="ignore")
    assert decoder.decode(Message(STDOUT, b"a\xffb\xc3")) == "ab"
    assert decoder.flush() == ""


def test_text_decoder_flush_of_all_streams_returns_leftovers_in_stream_order() -> None:
    decoder = TextDecoder(errors="replace")
    decoder.decode(Message(STDERR, b"\xc3"))
    decoder.decode(Message(STDOUT, b"\xe2"))
    assert decoder.flush() == "\ufffd\ufffd"
    assert decoder.flush() == ""
    assert decoder.flush(STDOUT) == ""


def test_text_decoder_rejects_unknown_error_handler() -> None:
    with pytest.raises(LookupError):
        TextDecoder(errors="no-such-handler")


def test_text_decoder_decodes_recorded_daemon_logs_cut_at_every_byte() -> None:
    recorded = (DATA / "logs-multiplexed.bin").read_bytes()
    expected = {
        STDOUT: "out 1 é\nout 2 é\nout 3 é\nno newline ✓",
        STDERR: "err 1 ☃\nerr 2 ☃\nerr 3 ☃\n",
    }
    for cut in range(len(recorded) + 1):
        frames, text = FrameDecoder(), TextDecoder()
        out = {STDOUT: "", STDERR: ""}
        for chunk in (recorded[:cut], recorded[cut:]):
            for message in frames.feed(chunk):
                out[message.stream] += text.decode(message)
        assert frames.flush() == []
        assert out == expected, cut


def test_line_splitter_returns_lines_with_their_newline() -> None:
    splitter = LineSplitter()
    assert splitter.feed(b"one\ntwo\r\nthr") == [b"one\n", b"two\r\n"]
    assert splitter.feed(b"ee") == []
    assert splitter.feed(b"\n\nfour") == [b"three\n", b"\n"]
    assert splitter.flush() == [b"four"]
    assert splitter.flush() == []


def test_line_splitter_splits_only_on_newline() -> None:
    splitter = LineSplitter()
    assert splitter.feed(b"a\rb\x0bc\x1cd\n") == [b"a\rb\x0bc\x1cd\n"]


def test_line_splitter_flush_without_trailing_line_is_empty() -> None:
    splitter = LineSplitter()
    assert splitter.feed(b"") == []
    assert splitter.feed(b"done\n") == [b"done\n"]
    assert splitter.flush() == []


def test_line_splitter_splits_at_every_boundary() -> None:
    data = b"alpha\n\nbeta\r\ngamma \xe2\x98\x83\ndelta"
    expected = [b"alpha\n", b"\n", b"beta\r\n", b"gamma \xe2\x98\x83\n", b"delta"]
    for cut in range(len(data) + 1):
        splitter = LineSplitter()
        lines = splitter.feed(data[:cut]) + splitter.feed(data[cut:]) + splitter.flush()
        assert lines == expected, cut


FRAMES = encode_frame(1, b"out \xe2\x82") + encode_frame(2, b"err\n") + encode_frame(1, b"\xac\n")


# --- FrameText: the one frames-to-text decoder of logs --------------------------------


def test_frame_text_decodes_a_character_split_across_frames_per_stream() -> None:
    decoder = FrameText(FrameDecoder())
    items = [item for byte in range(len(FRAMES)) for item in decoder.feed(FRAMES[byte : byte + 1])]
    assert items == ["out ", "err\n", "\u20ac\n"]
    assert decoder.flush() == []


def test_frame_text_drops_invalid_utf8_and_a_cut_character_at_the_end() -> None:
    decoder = FrameText(RawDecoder())
    assert decoder.feed(b"ok\xff\n\xe2\x82") == ["ok\n"]
    assert decoder.flush() == []


def test_frame_text_raises_when_the_stream_ends_inside_a_frame() -> None:
    decoder = FrameText(FrameDecoder())
    decoder.feed(FRAMES[:-1])
    with pytest.raises(DockerTruncatedStreamError):
        decoder.flush()
def test_line_splitter_hands_out_a_line_longer_than_the_limit_in_pieces() -> None:
    splitter = LineSplitter(max_line=4)
    assert splitter.feed(b"ab") == []
    assert splitter.feed(b"cdefg") == [b"abcd"]
    assert splitter.feed(b"h\nij\n") == [b"efgh", b"\n", b"ij\n"]
    assert splitter.feed(b"0123456789\nxy") == [b"0123", b"4567", b"89\n"]
    assert splitter.flush() == [b"xy"]
