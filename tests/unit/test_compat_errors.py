"""aiodocker 0.27's exceptions, with its exact words, where a caller could match on them (issue 9).

Every expected class and message below was taken by running the aiodocker 0.27.0
wheel on the same input; a refusal must happen before anything reaches the daemon.
Differences kept on purpose are in docs/guides/migrating.md's table (``nodes.update``'s message).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

import aiodocker
from aiodocker import utils
from tests.fakedaemon import VERSION_1_41, FakeDaemon, Request, http_response

AUTH = {"username": "u", "password": "p"}


def answer(request: Request) -> bytes:
    if request.target.endswith("/version"):
        return http_response(200, VERSION_1_41)
    return http_response(500, {"message": "this request should not have been sent"})


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[FakeDaemon, aiodocker.Docker]]:
    fake = await FakeDaemon(str(tmp_path / "d.sock"), answer).start()
    docker = aiodocker.Docker(url=f"unix://{fake.path}", api_version="v1.41")
    try:
        yield fake, docker
    finally:
        await docker.close()
        await fake.stop()


def sent(fake: FakeDaemon) -> list[str]:
    return [r.target for r in fake.requests if not r.target.endswith("/version")]


# --- aiodocker.utils ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (None, "{}"),
        ({}, "{}"),
        ({"a": 1}, '{"a": [1]}'),
        (
            {"a": True, "b": [1, "x"], "c": {"k": True}},
            '{"a": [true], "b": [1, "x"], "c": [{"k": true}]}',
        ),
        ({"a": ("x", "y")}, '{"a": [["x", "y"]]}'),
        ({"a": None}, '{"a": [null]}'),
    ],
)
def test_clean_filters_wraps_values_in_lists_and_converts_nothing(
    filters: Any, expected: str
) -> None:
    assert utils.clean_filters(filters) == expected


@pytest.mark.parametrize("filters", [["a"], "abc"])
def test_clean_filters_refuses_a_non_mapping_with_027_words(filters: Any) -> None:
    with pytest.raises(TypeError) as info:
        utils.clean_filters(filters)
    assert info.value.args == ("filters must be a mapping",)


@pytest.mark.parametrize("word", ["maybe", "T", "on", "off", ""])
def test_human_bool_knows_only_027_words(word: str) -> None:
    with pytest.raises(ValueError) as info:
        utils.human_bool(word)
    assert info.value.args == (f"Cannot interpret {word!r} as boolean.",)


@pytest.mark.parametrize(
    ("content_type", "message"),
    [
        ("text/plain; asdfasdf", 'Invalid option component: "asdfasdf"'),
        ("text/plain; a", 'Invalid option component: "a"'),
        ("text/plain/x", 'Invalid mime-type component: "text/plain/x"'),
        ("textplain", 'Invalid mime-type component: "textplain"'),
        ("", 'Invalid mime-type component: ""'),
    ],
)
def test_parse_content_type_refuses_with_027_words(content_type: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        utils.parse_content_type(content_type)
    assert info.value.args == (message,)


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("Text/Plain; A=B; ; c=D", ("text", "plain", {"a": "b", "c": "d"})),
        ("text/plain;", ("text", "plain", {})),
        ("a/b; =x", ("a", "b", {"": "x"})),
        ('text/plain; charset="UTF-8"', ("text", "plain", {"charset": '"utf-8"'})),
    ],
)
def test_parse_content_type_parses_as_027(content_type: str, expected: Any) -> None:
    assert utils.parse_content_type(content_type) == expected


@pytest.mark.parametrize("auth", ["abc", b"abc", {"auth": "abc"}])
def test_compose_auth_header_bad_base64_is_027s_binascii_error(auth: Any) -> None:
    with pytest.raises(binascii.Error) as info:
        utils.compose_auth_header(auth)
    assert info.value.args == ("Incorrect padding",)


@pytest.mark.parametrize("auth", [base64.b64encode(b"user").decode(), ""])
def test_compose_auth_header_without_colon_is_027s_unpacking_error(auth: str) -> None:
    with pytest.raises(ValueError) as info:
        utils.compose_auth_header(auth)
    assert type(info.value) is ValueError
    assert info.value.args == ("not enough values to unpack (expected 2, got 1)",)
    assert "username:password" in " ".join(getattr(info.value, "__notes__", []))


# --- services, nodes, images ---------------------------------------------------------------


async def test_services_create_without_image_has_027_key_error(served) -> None:
    fake, docker = served
    with pytest.raises(KeyError) as info:
        # auth without registry too: 0.27 reports the image first
        await docker.services.create({"ContainerSpec": {"Command": ["true"]}}, auth=AUTH)
    assert info.value.args == ("Missing mandatory Image key in ContainerSpec",)
    assert sent(fake) == []


async def test_services_create_auth_without_registry_has_027_key_error(served) -> None:
    fake, docker = served
    with pytest.raises(KeyError) as info:
        await docker.services.create({"ContainerSpec": {"Image": "busybox"}}, auth=AUTH)
    assert info.value.args == ("When auth is specified you need to specify also the registry",)
    assert sent(fake) == []


async def test_services_update_without_image_has_027_words(served) -> None:
    fake, docker = served
    with pytest.raises(ValueError) as info:
        await docker.services.update("svc", 1)
    assert info.value.args == ("You need to specify an image.",)
    assert sent(fake) == []


@pytest.mark.parametrize("spec", [{"Role": "boss"}, {"Availability": "asleep"}])
async def test_nodes_update_bad_value_is_an_assertion_error_as_in_027(
    served, spec: dict[str, str]
) -> None:
    fake, docker = served
    with pytest.raises(AssertionError) as info:
        await docker.nodes.update(node_id="n1", version=1, spec=spec)
    assert isinstance(info.value, ValueError)  # and what this client documents
    assert next(iter(spec.values())) in str(info.value)
    assert sent(fake) == []


async def test_push_with_auth_but_no_registry_host_has_027_words(served) -> None:
    fake, docker = served
    with pytest.raises(ValueError) as info:
        await docker.images.push("busybox", auth=AUTH)
    assert info.value.args == ("Image should have registry host when auth information is provided",)
    assert sent(fake) == []


async def test_push_with_auth_and_registry_host_sends_the_credentials(served) -> None:
    fake, docker = served
    with pytest.raises(aiodocker.DockerError):
        await docker.images.push("reg.example:5000/busybox", auth=AUTH)
    (request,) = [r for r in fake.requests if "/push" in r.target]
    header = request.headers["x-registry-auth"]
    decoded = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    assert decoded["serveraddress"] == "reg.example:5000"
