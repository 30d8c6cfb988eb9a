"""Registry auth of image calls: the registry a reference names, the headers sent, the hint."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from aiodocker._core.credentials import AuthConfig, explicit_registry, split_leniently
from aiodocker._core.registry_auth import (
    AUTH_HEADER,
    RegistryLogin,
    registry_auth_header,
    registry_config_header,
)
from aiodocker.exceptions import DockerError

SECRET = "pa55-w0rd"


@pytest.fixture
def config_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    directory = tmp_path / "docker-config"
    directory.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(directory))
    return directory


def write_config(config_dir: Path, auths: dict[str, str]) -> None:
    entries = {
        registry: {"auth": base64.b64encode(user_password.encode()).decode()}
        for registry, user_password in auths.items()
    }
    (config_dir / "config.json").write_text(json.dumps({"auths": entries}))


def decoded(header: str) -> dict[str, Any]:
    value = json.loads(base64.urlsafe_b64decode(header))
    assert isinstance(value, dict)
    return value


@pytest.mark.parametrize(
    ("name", "registry"),
    [
        ("reg.example/x", "reg.example"),
        ("localhost:5000/x:1", "localhost:5000"),
        ("localhost/x", "localhost"),
        ("Upper/x", "Upper"),  # a repository name cannot hold upper case: a host
        ("library/alpine", None),
        ("alpine:3", None),
        ("reg.example", None),  # one component is a repository, never a host
    ],
)
def test_explicit_registry_is_the_first_component_only_when_it_looks_like_a_host(
    name: str, registry: str | None
) -> None:
    assert explicit_registry(name) == registry


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("alpine", ("docker.io", None, None)),
        ("index.docker.io/library/alpine:3", ("docker.io", "3", None)),
        ("reg.example:5000/a/b:v1", ("reg.example:5000", "v1", None)),
        # malformed (upper case repository, bad tag): split as 0.27 does, never refused
        ("reg.example/Bad:v1", ("reg.example", "v1", None)),
        ("Bad/x:-tag", ("Bad", "-tag", None)),
        ("bad:-tag@sha256:12", ("docker.io", "-tag", "sha256:12")),
    ],
)
def test_split_leniently_never_refuses_a_reference(
    ref: str, expected: tuple[str, str | None, str | None]
) -> None:
    assert split_leniently(ref) == expected


async def test_auth_argument_gets_the_written_host_as_server_address(config_dir: Path) -> None:
    write_config(config_dir, {"reg.example": f"cfguser:{SECRET}"})  # auth= wins over the config
    login = RegistryLogin("reg.example/x:1", {"username": "u", "password": "p"})
    headers = await login.headers()
    assert decoded(headers[AUTH_HEADER]) == {
        "username": "u",
        "password": "p",
        "serveraddress": "reg.example",
    }
    assert login.source == "auth="
    hub = RegistryLogin("index.docker.io/me/x", {"username": "u", "password": "p"})
    assert hub.registry == "docker.io"
    assert decoded(await hub.header() or "")["serveraddress"] == "index.docker.io"
    implicit = RegistryLogin("me/x", {"username": "u", "password": "p"})
    assert decoded(await implicit.header() or "")["serveraddress"] == "docker.io"


async def test_auth_config_argument_is_sent_as_it_is(config_dir: Path) -> None:
    auth = AuthConfig(identitytoken="tok", serveraddress="elsewhere.example")
    login = RegistryLogin("reg.example/x", auth)
    assert decoded(await login.header() or "") == {
        "serveraddress": "elsewhere.example",
        "identitytoken": "tok",
    }


async def test_without_auth_the_config_is_read_when_headers_are_asked_for(
    config_dir: Path,
) -> None:
    login = RegistryLogin("reg.example/x", None)
    write_config(config_dir, {"reg.example": f"cfguser:{SECRET}"})  # written after the login
    header = decoded((await login.headers())[AUTH_HEADER])
    assert (header["username"], header["password"]) == ("cfguser", SECRET)
    assert login.source == str(config_dir / "config.json")
    assert SECRET not in repr(login)


async def test_anonymous_call_sends_no_header_unless_an_empty_login_is_asked_for(
    config_dir: Path,
) -> None:
    login = RegistryLogin("reg.example/x", None)
    assert await login.headers() == {}
    assert decoded((await login.headers(anonymous=True))[AUTH_HEADER]) == {}
    assert login.source == ""


async def test_image_header_and_build_config_come_from_the_config(config_dir: Path) -> None:
    assert await registry_auth_header("reg.example/x") is None
    assert await registry_config_header() is None
    write_config(config_dir, {"reg.example": f"u:{SECRET}", "other.example:5000": "v:w"})
    header = decoded(await registry_auth_header("reg.example/x") or "")
    assert (header["username"], header["serveraddress"]) == ("u", "reg.example")
    assert await registry_auth_header("third.example/x") is None
    config = decoded(await registry_config_header() or "")
    assert set(config) == {"reg.example", "other.example:5000"}
    assert config["other.example:5000"]["username"] == "v"
    with pytest.raises(ValueError, match="invalid image reference"):
        await registry_auth_header("reg.example/Bad")


def refusal(message: str = "unauthorized: authentication required") -> DockerError:
    return DockerError(500, message)


@pytest.mark.parametrize(
    ("reference", "auth", "config", "expected"),
    [
        ("reg.example/x", None, False, "registry reg.example requires a login and no credentials"),
        ("x", None, False, "registry Docker Hub (docker.io) requires a login"),
        ("reg.example/x", {"username": "u", "password": SECRET}, False, "passed as auth="),
        ("reg.example/x", None, True, "refused the credentials for it in "),
    ],
)
async def test_refusal_hint_names_the_registry_and_where_the_credentials_came_from(
    config_dir: Path, reference: str, auth: Any, config: bool, expected: str
) -> None:
    if config:
        write_config(config_dir, {"reg.example": f"u:{SECRET}"})
    login = RegistryLogin(reference, auth)
    await login.headers()
    exc = refusal()
    login.explainer("pulling", reference)(exc)
    assert exc.hint is not None and expected in exc.hint
    assert exc.hint.startswith(f"pulling {reference!r}: ")
    assert exc.message == "unauthorized: authentication required"
    assert SECRET not in exc.hint


async def test_other_errors_get_no_hint(config_dir: Path) -> None:
    login = RegistryLogin("reg.example/x", None)
    exc = refusal("manifest unknown")
    login.explain(exc, action="pulling", image="reg.example/x")
    assert exc.hint is None
