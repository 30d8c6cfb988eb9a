"""Parsing a response body by its content type (0.27's ``utils.parse_result``)."""

from __future__ import annotations

import io
import json
import tarfile
from typing import Any

import pytest

from aiodocker._legacy.bodies import parse_result
from aiodocker.exceptions import DockerResponseError


class BareResponse:
    """Only what 0.27's parse_result reads: headers and read(); no url, method or status."""

    def __init__(self, content_type: str, body: bytes) -> None:
        self.headers = {"content-type": content_type}
        self.body = body

    async def read(self) -> bytes:
        return self.body


def tar_bytes() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("f")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"hi"))
    return buffer.getvalue()


BAD = {
    "broken-json": ("application/json", b'{"a": ', "not valid JSON", json.JSONDecodeError),
    "json-not-utf8": ("application/json", b'"\xff"', "not valid UTF-8", UnicodeDecodeError),
    "text-not-utf8": ("text/plain", b"\xff", "not valid utf-8 text", UnicodeDecodeError),
    "text-unknown-charset": ("text/plain; charset=nope", b"x", "not valid nope text", LookupError),
    "not-a-tar": ("application/x-tar", b"x" * 600, "not a tar archive", tarfile.TarError),
}


@pytest.mark.parametrize("case", BAD)
async def test_a_bad_body_raises_a_response_error_chained_to_the_decode_error(case: str) -> None:
    content_type, body, problem, cause = BAD[case]
    with pytest.raises(DockerResponseError, match=problem) as info:
        await parse_result(BareResponse(content_type, body))
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value.__cause__, cause)
    assert info.value.status == 200


async def test_good_bodies_parse_by_their_type() -> None:
    assert await parse_result(BareResponse("application/json", b'{"a": [1]}')) == {"a": [1]}
    assert await parse_result(BareResponse("application/json", b"  ")) == ""
    assert await parse_result(BareResponse("text/plain; charset=latin-1", b"caf\xe9")) == "café"
    tar: Any = await parse_result(BareResponse("application/x-tar", tar_bytes()))
    assert tar.getnames() == ["f"]
