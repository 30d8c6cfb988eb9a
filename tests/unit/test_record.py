"""Record-based values behave as the frozen dataclasses they replaced."""

from __future__ import annotations

import copy
import pickle

import pytest

from aiodocker._core.hooks import RequestInfo, RequestResult
from aiodocker._transport.endpoint import Endpoint, TLSConfig


def _endpoint(**changes: object) -> Endpoint:
    base = Endpoint("tcp", "h:2376", "tcp://h:2376", TLSConfig("ca.pem", None, None), "url argument")
    return base.replace(**changes) if changes else base


def test_equal_by_value_and_hashable() -> None:
    assert _endpoint() == _endpoint()
    assert hash(_endpoint()) == hash(_endpoint())
    assert _endpoint() != _endpoint(source="DOCKER_HOST")
    assert _endpoint() != ("tcp", "h:2376")  # not a tuple
    assert TLSConfig("a", None, None) != TLSConfig("a", None, None, verify=False)
    assert len({_endpoint(), _endpoint(), _endpoint(tried=("x",))}) == 2


def test_repr_names_every_field_in_order() -> None:
    assert repr(TLSConfig("ca.pem", None, None)) == (
        "TLSConfig(ca='ca.pem', cert=None, key=None, verify=True)"
    )
    result = RequestResult(200, 0.5, 0, 12, "eof", False)
    assert repr(result) == (
        "RequestResult(status=200, duration=0.5, bytes_sent=0, bytes_received=12, "
        "end='eof', stream=False, error=None)"
    )


def test_fields_cannot_change() -> None:
    endpoint = _endpoint()
    with pytest.raises(AttributeError):
        endpoint.url = "tcp://other:2376"
    with pytest.raises(AttributeError):
        del endpoint.url
    with pytest.raises(AttributeError):
        endpoint.extra = 1
    assert endpoint.url == "tcp://h:2376"


def test_replace_copy_and_pickle_keep_the_values() -> None:
    endpoint = _endpoint()
    changed = endpoint.replace(tried=("/var/run/docker.sock",))
    assert changed.tried == ("/var/run/docker.sock",) and changed.url == endpoint.url
    assert endpoint.tried == ()
    assert copy.copy(endpoint) == endpoint
    assert copy.deepcopy(endpoint) == endpoint
    assert pickle.loads(pickle.dumps(endpoint)) == endpoint


def test_request_info_is_mutable_and_compared_by_identity() -> None:
    first = RequestInfo("GET", "/_ping", "unix:///var/run/docker.sock")
    first.context["span"] = 1
    second = RequestInfo("GET", "/_ping", "unix:///var/run/docker.sock")
    assert second.context == {}  # each request its own context
    assert first != second and first == first
