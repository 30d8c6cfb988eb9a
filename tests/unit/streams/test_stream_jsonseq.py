"""JSONSeqDecoder and check_stream_error."""

from __future__ import annotations

import json
from typing import Any

import pytest

from aiodocker._streams.jsonseq import MAX_VALUE_BYTES, JSONSeqDecoder, check_stream_error
from aiodocker.exceptions import DockerStreamError, DockerTruncatedStreamError

PULL = [
    {"status": "Pulling from library/busybox", "id": "latest"},
    {"status": "Downloading", "progressDetail": {"current": 1, "total": 2}, "id": "a1"},
    {"stream": 'Step 1/2 : RUN echo "{[\\" é ☃\n'},
    {"aux": {"ID": "sha256:0123"}},
    ["list", {"nested": [[], {}]}],
    "a bare string with } and ]",
    42,
    -1.5e3,
    True,
    None,
]
NEWLINE_DELIMITED = b"".join(json.dumps(v, ensure_ascii=False).encode() + b"\n" for v in PULL)
CONCATENATED = b"".join(
    json.dumps(v, ensure_ascii=False).encode() + (b" " if isinstance(v, int | float) else b"")
    for v in PULL
)
CRLF_DELIMITED = NEWLINE_DELIMITED.replace(b"\n", b"\r\n")
PRETTY = b"".join(json.dumps(v, indent=2).encode() + b"\n" for v in PULL)


def decode_chunks(chunks: list[bytes]) -> list[Any]:
    decoder = JSONSeqDecoder()
    values: list[Any] = []
    for chunk in chunks:
        values += decoder.feed(chunk)
    return values + decoder.flush()


@pytest.mark.parametrize(
    "stream",
    [NEWLINE_DELIMITED, CONCATENATED, CRLF_DELIMITED, PRETTY],
    ids=["newline", "concatenated", "crlf", "pretty"],
)
def test_json_decoder_decodes_values_split_at_every_byte(stream: bytes) -> None:
    assert decode_chunks([stream]) == PULL
    for cut in range(len(stream) + 1):
        assert decode_chunks([stream[:cut], stream[cut:]]) == PULL, cut


@pytest.mark.parametrize(
    "stream", [NEWLINE_DELIMITED, CONCATENATED, PRETTY], ids=["newline", "concatenated", "pretty"]
)
def test_json_decoder_decodes_values_fed_one_byte_at_a_time(stream: bytes) -> None:
    assert decode_chunks([stream[i : i + 1] for i in range(len(stream))]) == PULL


def test_json_decoder_returns_concatenated_values_without_waiting_for_flush() -> None:
    decoder = JSONSeqDecoder()
    assert decoder.feed(b'{"a": 1}{"b": 2}["c"]"d"{"e"') == [{"a": 1}, {"b": 2}, ["c"], "d"]
    assert decoder.feed(b": 5}") == [{"e": 5}]
    assert decoder.flush() == []


def test_json_decoder_returns_each_line_as_soon_as_its_newline_arrives() -> None:
    decoder = JSONSeqDecoder()
    assert decoder.feed(b'{"status": "a"}\r\n{"status"') == [{"status": "a"}]
    assert decoder.feed(b': "b"}\r') == [{"status": "b"}]
    assert decoder.feed(b"\n") == []
    assert decoder.flush() == []


def test_json_decoder_waits_for_the_end_of_a_bare_number() -> None:
    decoder = JSONSeqDecoder()
    assert decoder.feed(b"12") == []
    assert decoder.feed(b"3") == []
    assert decoder.feed(b" 4") == [123]
    assert decoder.flush() == [4]


def test_json_decoder_keeps_escaped_quotes_and_backslashes_split_across_chunks() -> None:
    value = {"k": 'a\\"b\\\\', "x": "\\"}
    encoded = json.dumps(value).encode()
    for cut in range(len(encoded) + 1):
        decoder = JSONSeqDecoder()
        assert decoder.feed(encoded[:cut]) + decoder.feed(encoded[cut:]) == [value], cut


def test_json_decoder_keeps_multibyte_characters_split_across_chunks() -> None:
    encoded = '{"s": "é☃𝄞"}'.encode()
    for cut in range(len(encoded) + 1):
        assert decode_chunks([encoded[:cut], encoded[cut:]]) == [{"s": "é☃𝄞"}], cut


def test_json_decoder_accepts_whitespace_only_input() -> None:
    assert decode_chunks([b" \r\n\t", b"\n"]) == []
    assert decode_chunks([]) == []


def test_json_decoder_decodes_a_long_value_fed_in_many_chunks() -> None:
    value = {"stream": "x" * 2_000_000, "list": list(range(20_000))}
    encoded = json.dumps(value).encode() + b"\n"
    chunks = [encoded[i : i + 1000] for i in range(0, len(encoded), 1000)]
    assert decode_chunks(chunks) == [value]


@pytest.mark.parametrize(
    ("data", "missing"),
    [
        (b'{"status": "Downloading", ', "1 closing brackets"),
        (b'[{"a": [1, ', "3 closing brackets"),
        (b'{"a": 1}\n{"b": "unterminated', "closing quote"),
        (b'"abc', "closing quote"),
        (b"{\n", "1 closing brackets"),
        (b'{"s": "\xc3', "closing quote"),
        (b"[1]\ntru", "cut short"),
        (b"-", "cut short"),
        (b"1.5e+", "cut short"),
    ],
)
def test_json_decoder_flush_raises_when_input_ends_inside_a_value(
    data: bytes, missing: str
) -> None:
    decoder = JSONSeqDecoder()
    decoder.feed(data)
    with pytest.raises(DockerTruncatedStreamError, match=missing):
        decoder.flush()


def test_json_decoder_is_reusable_after_a_truncated_flush() -> None:
    decoder = JSONSeqDecoder()
    decoder.feed(b'{"a": ')
    with pytest.raises(DockerTruncatedStreamError):
        decoder.flush()
    assert decoder.feed(b'{"b": 1}\n') == [{"b": 1}]


@pytest.mark.parametrize(
    "data",
    [b'{"a" 1}\n', b"tru\n", b"[1, 2}\n", b"{'a': 1}\n", b'{"a": "b\nc"}\n', b"}\n", b'{"a" 1}'],
)
def test_json_decoder_raises_stream_error_on_invalid_json(data: bytes) -> None:
    decoder = JSONSeqDecoder()
    with pytest.raises(DockerStreamError, match="invalid JSON") as info:
        decoder.feed(data)
        decoder.flush()
    assert not isinstance(info.value, DockerTruncatedStreamError)


def test_json_decoder_raises_stream_error_on_invalid_utf8() -> None:
    with pytest.raises(DockerStreamError, match="UTF-8"):
        JSONSeqDecoder().feed(b'{"a": "\xff"}\n')


def test_check_stream_error_ignores_progress_and_non_dicts() -> None:
    for item in [{"status": "Downloading"}, {}, "error", [1], None]:
        check_stream_error(item)


def test_check_stream_error_raises_on_an_error_key_whatever_its_value_as_027() -> None:
    for item in [{"error": "", "errorDetail": None}, {"errorDetail": {}}, {"error": None}]:
        with pytest.raises(DockerStreamError) as info:
            check_stream_error(item)
        assert info.value.message == "unknown error in Docker JSON stream"
        assert info.value.error_detail == {}


def test_check_stream_error_prefers_error_detail_message() -> None:
    item = {"errorDetail": {"message": "detail msg", "code": 1}, "error": "short msg"}
    with pytest.raises(DockerStreamError) as info:
        check_stream_error(item)
    assert info.value.message == "detail msg"
    assert info.value.error_detail == {"message": "detail msg", "code": 1}


def test_check_stream_error_falls_back_to_error_field() -> None:
    with pytest.raises(DockerStreamError) as info:
        check_stream_error({"error": "pull access denied"})
    assert info.value.message == "pull access denied"
    assert info.value.error_detail == {}  # as 0.27: only errorDetail fills it


def test_check_stream_error_wraps_a_detail_that_is_not_a_dict_as_027() -> None:
    with pytest.raises(DockerStreamError) as info:
        check_stream_error({"errorDetail": "raw string", "error": "boom"})
    assert info.value.message == "boom"
    assert info.value.error_detail == {"raw": "raw string"}


def test_check_stream_error_uses_error_when_detail_has_no_message() -> None:
    with pytest.raises(DockerStreamError) as info:
        check_stream_error({"errorDetail": {"code": 7}, "error": "boom"})
    assert info.value.message == "boom"
    assert info.value.error_detail == {"code": 7}


def test_json_decoder_returns_values_before_invalid_input_then_raises() -> None:
    decoder = JSONSeqDecoder()
    assert decoder.feed(b'{"ok": 1}\n{"bad" 2}\n') == [{"ok": 1}]
    with pytest.raises(DockerStreamError, match="invalid JSON"):
        decoder.feed(b"{}\n")
    with pytest.raises(DockerStreamError, match="invalid JSON"):
        decoder.flush()
    assert decoder.feed(b"{}\n") + decoder.flush() == [{}]


def test_json_decoder_returns_scanned_values_before_invalid_input_then_raises() -> None:
    decoder = JSONSeqDecoder()
    assert decoder.feed(b'{"ok": 1}{"bad" 2}') == [{"ok": 1}]
    with pytest.raises(DockerStreamError, match="invalid JSON"):
        decoder.flush()


def test_json_value_longer_than_the_limit_raises_and_frees_its_buffer() -> None:
    decoder = JSONSeqDecoder(max_value=1024)
    assert decoder.feed(b'{"ok": 1}\n{"aux": "') == [{"ok": 1}]
    with pytest.raises(DockerStreamError, match="longer than 1024 bytes"):
        for _ in range(10):
            decoder.feed(b"A" * 200)
    assert len(decoder._buffer) == 0


def test_json_value_just_under_the_limit_is_decoded() -> None:
    decoder = JSONSeqDecoder(max_value=1024)
    line = b'{"aux": "' + b"A" * 1000 + b'"}\n'
    assert decoder.feed(line[:500]) == []
    assert decoder.feed(line[500:]) == [{"aux": "A" * 1000}]


def test_default_value_limit_fits_buildkit_aux_lines() -> None:
    aux = "QUJD" * (1024 * 1024)  # 4 MiB of base64, as a large BuildKit trace
    line = ('{"id": "moby.buildkit.trace", "aux": "' + aux + '"}\n').encode()
    decoder = JSONSeqDecoder()
    chunks = [line[i : i + 65536] for i in range(0, len(line), 65536)]
    values = [value for chunk in chunks for value in decoder.feed(chunk)]
    assert values == [{"id": "moby.buildkit.trace", "aux": aux}]
    assert MAX_VALUE_BYTES > len(line)
