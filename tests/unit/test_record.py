"""Record-based values behave as the frozen dataclasses they replaced."""

from __future__ import annotations

import copy
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from aiodocker._core.hooks import RequestInfo, RequestResult
from aiodocker._record import Record
from aiodocker._swarm_objects import ObjectPaths
from aiodocker._transport.endpoint import Endpoint, TLSConfig

ROOT = Path(__file__).resolve().parents[2]


def _endpoint(**changes: object) -> Endpoint:
    base = Endpoint("tcp", "h:2376", "tcp://h:2376", TLSConfig("ca.pem", None, None), "url argument")
    return base.replace(**changes) if changes else base


def test_fields_are_taken_by_position_or_keyword_with_the_declared_defaults() -> None:
    assert TLSConfig("a", "c", "k") == TLSConfig(ca="a", cert="c", key="k", verify=True)
    assert TLSConfig("a", None, None, False).verify is False
    assert _endpoint().context_name is None and _endpoint().tried == ()
    assert RequestResult(200, 0.5, 0, 12, "eof", False).error is None


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("a", None), {}, "missing required argument 'key'"),
        (("a", None, None, True, "extra"), {}, "takes 4 positional arguments but 5 were given"),
        (("a", None, None), {"ca": "b"}, "got multiple values for argument 'ca'"),
        (("a", None, None), {"bogus": 1}, "got an unexpected keyword argument 'bogus'"),
    ],
)
def test_wrong_arguments_raise_type_error_as_a_dataclass_does(
    args: tuple[object, ...], kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(TypeError, match=f"^TLSConfig\\(\\) {message}$"):
        TLSConfig(*args, **kwargs)


class Point(Record):
    x: int
    y: int = 0


class Point3(Point):
    z: int = 0


def test_a_keyword_only_record_refuses_positional_fields() -> None:
    paths = ObjectPaths(collection="a", create="b", item="c/{}", update="c/{}/update")
    assert paths.item == "c/{}"
    with pytest.raises(TypeError, match=r"^ObjectPaths\(\) takes its fields by keyword only$"):
        ObjectPaths("a", "b", "c/{}", "c/{}/update")


def test_a_subclass_of_a_record_adds_its_fields_after_the_inherited_ones() -> None:
    point = Point3(1, z=3)
    assert (point.x, point.y, point.z) == (1, 0, 3)
    assert repr(point) == "Point3(x=1, y=0, z=3)"
    assert point != Point3(1, z=4) and point == Point3(x=1, y=0, z=3)
    assert not hasattr(point, "__dict__")  # slots only, as before


def test_mypy_types_the_constructors_from_the_field_annotations(tmp_path: Path) -> None:
    # Record.__init__ takes *args/**kwargs: only dataclass_transform lets mypy check a call
    probe = tmp_path / "probe.py"
    probe.write_text(
        textwrap.dedent(
            """\
            from aiodocker._swarm_objects import ObjectPaths
            from aiodocker._transport.endpoint import Endpoint, TLSConfig
            TLSConfig("ca", None, None, verify=False)
            ObjectPaths(collection="a", create="b", item="c/{}", update="c/{}/update")
            TLSConfig(1, None, None)
            TLSConfig("ca", None)
            TLSConfig("ca", None, None, bogus=1)
            ObjectPaths("a", "b", "c/{}", "c/{}/update")
            endpoint = Endpoint("tcp", "h:1", "tcp://h:1", None, "url")
            endpoint.url = "tcp://other:1"
            """
        )
    )
    completed = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", "/dev/null", str(probe)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    flagged = sorted({int(line.split(":")[1]) for line in completed.stdout.splitlines() if ": error:" in line})
    assert flagged == [5, 6, 7, 8, 10], completed.stdout


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
