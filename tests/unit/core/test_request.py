"""Request building rules: quoting, query encoding, version strings, error mapping."""

from __future__ import annotations

import pytest

from aiodocker._core.request import (
    build_path,
    encode_query,
    error_from_response,
    parse_api_version,
    path_arg,
)
from aiodocker.exceptions import DockerConflictError, DockerError, DockerNotFoundError


def test_path_argument_cannot_escape_its_segment():
    assert build_path("containers/{}/json", "../images/json") == "containers/..%2Fimages%2Fjson/json"
    assert path_arg("a b?c#d") == "a%20b%3Fc%23d"


@pytest.mark.parametrize("bad", ["", ".", ".."])
def test_empty_or_relative_path_argument_is_rejected(bad):
    with pytest.raises(ValueError, match="invalid"):
        path_arg(bad, "container id")


def test_non_string_path_argument_is_a_type_error():
    with pytest.raises(TypeError, match="container id must be a str"):
        path_arg(123, "container id")  # type: ignore[arg-type]


def test_query_encodes_bools_as_digits_and_containers_as_json_and_drops_none():
    query = encode_query({"all": True, "size": False, "limit": 3, "filters": {"a": ["b"]}, "x": None})
    assert query == "all=1&size=0&limit=3&filters=%7B%22a%22%3A%5B%22b%22%5D%7D"


@pytest.mark.parametrize("value,expected", [("v1.41", (1, 41)), ("1.55", (1, 55))])
def test_api_version_parses(value, expected):
    assert parse_api_version(value) == expected


@pytest.mark.parametrize("value", ["1", "v1", "latest", "v1.41.2", "", "auto"])
def test_malformed_api_version_raises_value_error(value):
    with pytest.raises(ValueError, match="Invalid API version"):
        parse_api_version(value)


def test_error_mapping_picks_subclass_by_status_and_reads_json_message():
    err = error_from_response(404, b'{"message":"No such container: x"}', "application/json")
    assert type(err) is DockerNotFoundError and err.status == 404
    assert err.message == "No such container: x"
    assert type(error_from_response(409, b'{"message":"conflict"}', "application/json")) is DockerConflictError
    plain = error_from_response(500, b"boom\n", "text/plain")
    assert type(plain) is DockerError and plain.message == "boom"
    assert error_from_response(502, b"", "text/plain").message == "HTTP 502 with an empty body"


def test_redact_hides_authorization_tokens_but_keeps_the_daemons_own_words() -> None:
    from aiodocker._core.request import redact

    assert redact("no basic auth credentials") == "no basic auth credentials"
    assert redact("Bearer realm missing") == "Bearer realm missing"
    hidden = redact("Authorization: Basic dXNlcjpwYXNzd29yZA== refused")
    assert "dXNlcjpwYXNzd29yZA" not in hidden and hidden.endswith("refused")
    assert "abc.def.ghi" not in redact("got Bearer abc.def.ghi")
    assert "s3cret" not in redact('{"password": "s3cret"}')


def test_require_checks_every_item_of_an_array_of_objects() -> None:
    from aiodocker._core.request import Shape, decode_body
    from aiodocker.exceptions import DockerResponseError

    body = b'[{"Id": "a"}, {"Id": "b", "Names": []}]'
    assert decode_body("GET", "/x", 200, body, Shape.OBJECTS, ("Id",)) == [
        {"Id": "a"},
        {"Id": "b", "Names": []},
    ]
    with pytest.raises(DockerResponseError, match="item 1 of the answer has no Id"):
        decode_body("GET", "/x", 200, b'[{"Id": "a"}, {"Names": []}]', Shape.OBJECTS, ("Id",))
    with pytest.raises(DockerResponseError, match="the answer has no Id"):
        decode_body("GET", "/x", 200, b'{"Names": []}', Shape.OBJECT, ("Id",))
