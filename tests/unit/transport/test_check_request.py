"""check_request: what a request head may hold, the line each transport checks before sending."""

from __future__ import annotations

import pytest

from aiodocker._transport.base import check_request


@pytest.mark.parametrize(
    ("method", "target", "headers"),
    [
        ("GET", "/v1.41/containers/a%20b/json", None),
        ("POST", "/v1.41/build?t=app%3A1&buildargs=%7B%7D", {"Content-Type": "application/tar"}),
        ("PROPFIND", "/_ping", {"X_Under.score~": "a\tb", "X-Latin": "caf\u00e9"}),
        ("GET", "/v1.41/containers/json?filters={\"a\":[\"b\"]}", {"X-Empty": ""}),
    ],
)
def test_well_formed_requests_pass(method, target, headers):
    check_request(method, target, headers)


@pytest.mark.parametrize(
    ("method", "target", "headers", "problem"),
    [
        ("GET", "/a b", None, "request target"),
        ("GET", "/a\tb", None, "request target"),
        ("GET", "/a\x00b", None, "request target"),
        ("GET", "/caf\u00e9", None, "request target"),
        ("GET", "", None, "request target"),
        ("GE T", "/", None, "HTTP method"),
        ("", "/", None, "HTTP method"),
        ("GET", "/", {"": "1"}, "header name"),
        ("GET", "/", {"X-A\r\nX-B": "1"}, "header name"),
        ("GET", "/", {"X-A": "1\rX-B: 2"}, "'X-A'"),
        ("GET", "/", {"X-A": "1\nX-B: 2"}, "'X-A'"),
        ("GET", "/", {"X-A": "1\x00"}, "'X-A'"),
    ],
)
def test_what_would_break_the_head_raises_value_error_naming_it(method, target, headers, problem):
    with pytest.raises(ValueError, match=problem):
        check_request(method, target, headers)
