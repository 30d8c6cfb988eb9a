"""The response contract (``_core/request.py``): each break of a declared shape, word for word.

Table-driven, so a mutant that names the wrong request, drops the status or the body
excerpt, or lets a wrong shape through fails a row (issue 27's mutation run).
"""

from __future__ import annotations

from typing import Any

import pytest

from aiodocker._core.request import (
    EXCERPT_BYTES,
    Shape,
    check_shape,
    decode_body,
    encode_filters,
    encode_query,
    encode_value,
    error_from_response,
    excerpt,
    httpize,
    parse_api_version,
    path_arg,
)
from aiodocker.exceptions import (
    DockerConflictError,
    DockerError,
    DockerNotFoundError,
    DockerResponseError,
)

BROKEN: list[tuple[Shape, bytes, tuple[str, ...], str]] = [
    # (shape, body, require, the problem named in the message)
    (Shape.OBJECT, b"", (), "expected a JSON object, got no body"),
    (Shape.OBJECT, b" \n", (), "expected a JSON object, got no body"),
    (Shape.ARRAY, b"", (), "expected a JSON array, got no body"),
    (Shape.OBJECT, b"\xff{}", (), "the body is not valid UTF-8"),
    (Shape.OBJECT, b"[1]", (), "expected a JSON object, got a JSON array"),
    (Shape.OBJECT, b'"x"', (), "expected a JSON object, got a JSON string"),
    (Shape.OBJECT, b"true", (), "expected a JSON object, got a JSON boolean"),
    (Shape.OBJECT, b"1.5", (), "expected a JSON object, got a JSON number"),
    (Shape.OBJECT, b"null", (), "expected a JSON object, got a JSON null"),
    (Shape.OBJECT_OR_NOTHING, b"[]", (), "expected a JSON object or no body, got a JSON array"),
    (Shape.ARRAY, b"{}", (), "expected a JSON array, got a JSON object"),
    (Shape.STRING, b"{}", (), "expected a JSON string, got a JSON object"),
    (
        Shape.OBJECTS,
        b'[{}, {}, "x"]',
        (),
        "expected a JSON array of objects, item 2 is a JSON string",
    ),
    (Shape.OBJECTS, b"[{}, 3]", (), "expected a JSON array of objects, item 1 is a JSON number"),
    (Shape.OBJECTS, b"[[]]", (), "expected a JSON array of objects, item 0 is a JSON array"),
    (Shape.OBJECT, b'{"Warnings": []}', ("Id",), "the answer has no Id"),
    (Shape.OBJECTS, b'[{"Id": "a"}, {"Name": "b"}]', ("Id",), "item 1 of the answer has no Id"),
    (Shape.OBJECT, b'{"A": 1}', ("A", "B", "C"), "the answer has no B, C"),
    # a field is a key of the object, not a substring of one
    (Shape.OBJECT, b'{"Idx": 1}', ("Id",), "the answer has no Id"),
]


@pytest.mark.parametrize(("shape", "body", "require", "problem"), BROKEN)
def test_a_broken_answer_raises_naming_request_problem_status_and_body(
    shape: Shape, body: bytes, require: tuple[str, ...], problem: str
) -> None:
    with pytest.raises(DockerResponseError) as caught:
        decode_body("POST", "/containers/create?name=secret", 201, body, shape, require)
    error = caught.value
    assert error.status == 201
    # the query (which may hold a name or a filter) is never in the message
    assert error.message == f"POST /containers/create: {problem} (HTTP 201, {excerpt(body)})"


def test_invalid_json_names_the_decoders_complaint() -> None:
    body = b'{"a": '
    with pytest.raises(DockerResponseError) as caught:
        decode_body("GET", "/info", 200, body, Shape.OBJECT)
    assert caught.value.status == 200
    assert caught.value.message.startswith("GET /info: the body is not valid JSON (")
    assert caught.value.message.endswith(f"(HTTP 200, {excerpt(body)})")


GOOD: list[tuple[Shape, bytes, tuple[str, ...], Any]] = [
    (Shape.OBJECT, b'{"Id": "a"}', ("Id",), {"Id": "a"}),
    (Shape.OBJECT_OR_NOTHING, b"", (), None),
    (Shape.OBJECT_OR_NOTHING, b"  ", (), None),
    (Shape.OBJECT_OR_NOTHING, b"{}", (), {}),
    (Shape.ARRAY, b"null", (), []),  # Go's nil slice
    (Shape.OBJECTS, b"null", ("Id",), []),
    (Shape.OBJECTS, b'[{"Id": "a"}, {"Id": "b"}]', ("Id",), [{"Id": "a"}, {"Id": "b"}]),
    (Shape.ARRAY, b"[1, {}]", (), [1, {}]),
    (Shape.STRING, b'"OK"', (), "OK"),
    (Shape.NOTHING, b"anything, even not JSON", (), None),
    (Shape.NOTHING, b"", (), None),
]


@pytest.mark.parametrize(("shape", "body", "require", "value"), GOOD)
def test_an_answer_of_the_declared_shape_is_returned(
    shape: Shape, body: bytes, require: tuple[str, ...], value: Any
) -> None:
    assert decode_body("GET", "/x", 200, body, shape, require) == value


def test_check_shape_alone_defaults_to_status_200_and_an_empty_body() -> None:
    with pytest.raises(DockerResponseError) as caught:
        check_shape({}, Shape.ARRAY, method="GET", path="/images/json?all=1")
    assert caught.value.status == 200
    assert caught.value.message == (
        "GET /images/json: expected a JSON array, got a JSON object (HTTP 200, an empty body)"
    )
    items = [{"a": 1}]
    assert check_shape(items, Shape.OBJECTS, method="GET", path="/x") is items


def test_excerpt_cuts_long_bodies_and_redacts_credentials() -> None:
    assert excerpt(b"") == "an empty body"
    assert excerpt(b" \r\n") == "an empty body"
    assert excerpt(b'  {"password": "hunter2"}  ') == repr('{"password": "<redacted>"}')
    long = b"x" * (EXCERPT_BYTES + 5)
    assert excerpt(long) == repr("x" * EXCERPT_BYTES) + f" ... ({EXCERPT_BYTES + 5} bytes)"
    assert excerpt(b"x" * EXCERPT_BYTES) == repr("x" * EXCERPT_BYTES)


ERRORS: list[tuple[int, bytes, str, type[DockerError], str]] = [
    (404, b'{"message": "No such container: c"}', "", DockerNotFoundError, "No such container: c"),
    (409, b'{"message": "in use"}', "application/json", DockerConflictError, "in use"),
    (500, b'{"message": "Bearer abcdefghij"}', "", DockerError, "Bearer <redacted>"),
    (500, b"  <html>bad gateway</html>  ", "text/html", DockerError, "<html>bad gateway</html>"),
    (502, b"", "", DockerError, "HTTP 502 with an empty body"),
    (503, b" \n", "", DockerError, "HTTP 503 with an empty body"),
    (500, b'{"message": 3}', "", DockerError, '{"message": 3}'),
    (500, b"{not json", "application/json", DockerError, "{not json"),
    (500, b"\xffoops", "", DockerError, "\ufffdoops"),
    (
        500,
        b"e" * (EXCERPT_BYTES + 1),
        "",
        DockerError,
        "e" * EXCERPT_BYTES + f" ... ({EXCERPT_BYTES + 1} bytes)",
    ),
    (400, b"e" * EXCERPT_BYTES, "", DockerError, "e" * EXCERPT_BYTES),
    # a JSON content type is parsed even after blanks; another type only from a "{"
    (500, b' {"message": "m"}', "application/json", DockerError, "m"),
    (500, b' {"message": "m"}', "text/plain", DockerError, '{"message": "m"}'),
]


@pytest.mark.parametrize(("status", "body", "content_type", "cls", "message"), ERRORS)
def test_error_from_response_maps_status_and_keeps_the_daemons_words(
    status: int, body: bytes, content_type: str, cls: type[DockerError], message: str
) -> None:
    error = error_from_response(status, body, content_type)
    assert type(error) is cls
    assert error.status == status
    assert error.message == message


def test_filters_and_0_27_query_values_are_encoded_as_the_daemon_reads_them() -> None:
    assert encode_filters(None) is None
    assert (
        encode_filters({"a": True, "b": [1, False, "x"], "c": {"k=v": True}, "d": 2.5})
        == '{"a": ["true"], "b": ["1", "false", "x"], "c": {"k=v": true}, "d": ["2.5"]}'
    )
    assert encode_filters({"s": ("x",), "f": frozenset({"y"})}) == '{"s": ["x"], "f": ["y"]}'
    with pytest.raises(TypeError, match="filters must be a mapping, not list"):
        encode_filters([("a", "b")])  # type: ignore[call-overload]
    assert httpize(None) is None
    assert httpize({"a": True, "b": False, "c": "s", "d": 3, "e": {"x": 1}}) == {
        "a": "1",
        "b": "0",
        "c": "s",
        "d": "3",
        "e": '{"x": 1}',
    }


def test_path_arguments_and_query_values_are_encoded_exactly() -> None:
    with pytest.raises(TypeError, match="^container id must be a str, not int$"):
        path_arg(3, "container id")  # type: ignore[arg-type]
    assert encode_value([1, {"a": "b"}]) == '[1,{"a":"b"}]'
    assert encode_value({"k": [True]}) == '{"k":[true]}'
    assert encode_query({}) == ""
    assert encode_query(None) == ""
    assert encode_query({"a": None}) == ""
    assert encode_query({"a": "x y/z", "b": True}) == "a=x%20y%2Fz&b=1"
    with pytest.raises(ValueError, match="Invalid API version format: 141"):
        parse_api_version(141)  # type: ignore[arg-type]
