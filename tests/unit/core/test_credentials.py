"""Registry credential lookup like the docker CLI: config.json, helpers, references."""

from __future__ import annotations

import base64
import json
import os
import sys
import textwrap
import warnings
from pathlib import Path
from typing import Any

import pytest

from aiodocker._core.credentials import (
    DOCKER_HUB_AUTH_KEY,
    AuthConfig,
    compose_auth_header,
    encode_registry_config,
    registry_key,
    resolve_all_auths,
    resolve_auth,
    split_reference,
)

SECRET = "s3cr3t-Pa55"
TOKEN = "identity-tok-XYZ"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def decode_header(value: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(value))


def write_config(directory: Path, config: dict[str, Any]) -> str:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.json").write_text(json.dumps(config))
    return str(directory)


# A fake credential helper. Its behaviour per server URL comes from a JSON file
# next to it; every call is logged so tests can see what was asked.
HELPER_SOURCE = """\
#!{python}
import json, os, sys, time
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "fake-helper.json")) as f:
    table = json.load(f)
action = sys.argv[1]
data = sys.stdin.read()
with open(os.path.join(here, "fake-helper.log"), "a") as log:
    log.write(json.dumps([action, data]) + "\\n")
if action == "list":
    answer = table.get("__list__", {{}})
    if answer == "broken":
        print("not json")
    else:
        print(json.dumps(answer))
    sys.exit(0)
entry = table.get(data.strip())
if entry is None:
    print("credentials not found in native keychain")
    sys.exit(1)
if entry == "hang":
    time.sleep(60)
if entry == "broken":
    print("{{not json")
    sys.exit(0)
if entry == "crash":
    sys.stderr.write("keychain exploded\\n")
    sys.exit(3)
print(json.dumps({{"ServerURL": data.strip(), "Username": entry[0], "Secret": entry[1]}}))
"""


@pytest.fixture
def helper_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Directory on PATH (alone) holding docker-credential-fake."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "docker-credential-fake"
    script.write_text(HELPER_SOURCE.format(python=sys.executable))
    script.chmod(0o755)
    (bin_dir / "fake-helper.json").write_text("{}")
    monkeypatch.setenv("PATH", str(bin_dir))
    return bin_dir


def set_helper_table(helper_dir: Path, table: dict[str, Any]) -> None:
    (helper_dir / "fake-helper.json").write_text(json.dumps(table))


def helper_calls(helper_dir: Path) -> list[list[str]]:
    log = helper_dir / "fake-helper.log"
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines()]


def assert_no_secret(text: str) -> None:
    assert SECRET not in text
    assert TOKEN not in text
    assert b64(f"alice:{SECRET}") not in text


# --- references ------------------------------------------------------------------------------

REFERENCES = [
    ("alpine", ("docker.io", "library/alpine", None, None)),
    ("alpine:3.19", ("docker.io", "library/alpine", "3.19", None)),
    ("user/app", ("docker.io", "user/app", None, None)),
    ("user/app:v1.0-rc_1", ("docker.io", "user/app", "v1.0-rc_1", None)),
    ("docker.io/alpine", ("docker.io", "library/alpine", None, None)),
    ("index.docker.io/user/app", ("docker.io", "user/app", None, None)),
    ("localhost/app", ("localhost", "app", None, None)),
    ("localhost:5000/x", ("localhost:5000", "x", None, None)),
    ("127.0.0.1:5000/x:tag", ("127.0.0.1:5000", "x", "tag", None)),
    ("ghcr.io/org/team/app:1", ("ghcr.io", "org/team/app", "1", None)),
    ("[::1]:5000/app", ("[::1]:5000", "app", None, None)),
    ("x@sha256:" + "a" * 64, ("docker.io", "library/x", None, "sha256:" + "a" * 64)),
    (
        "reg.io:443/a/b:t@sha256:" + "0" * 64,
        ("reg.io:443", "a/b", "t", "sha256:" + "0" * 64),
    ),
    ("user/a.b-c__d---e", ("docker.io", "user/a.b-c__d---e", None, None)),
    ("Registry.Example/app", ("Registry.Example", "app", None, None)),
]


@pytest.mark.parametrize(("ref", "expected"), REFERENCES)
def test_split_reference_follows_the_docker_reference_grammar(
    ref: str, expected: tuple[str, str, str | None, str | None]
) -> None:
    assert split_reference(ref) == expected


BAD_REFERENCES = [
    ("", "empty"),
    ("Alpine", "lowercase"),
    ("user/App:1", "lowercase"),
    ("alpine:", "tag"),
    ("alpine:.x", "tag"),
    ("alpine:" + "t" * 129, "tag"),
    ("alpine:a/b", "registry host"),
    ("alpine@sha256:abc", "digest"),
    ("alpine@sha256:" + "A" * 64, "lowercase hexadecimal"),
    ("alpine@md5:" + "a" * 32, "not supported"),
    ("a" * 64, "image ID"),
    ("user//app", "empty path component"),
    ("user/-app", "path component"),
    ("user/app_", "path component"),
    ("bad_host:5000/app", "registry host"),
    ("user/" + "a" * 256, "255"),
]


@pytest.mark.parametrize(("ref", "fault"), BAD_REFERENCES)
def test_malformed_reference_raises_naming_reference_and_fault(ref: str, fault: str) -> None:
    with pytest.raises(ValueError) as info:
        split_reference(ref)
    assert repr(ref) in str(info.value)
    assert fault in str(info.value)


@pytest.mark.parametrize(
    ("registry", "key"),
    [
        ("docker.io", DOCKER_HUB_AUTH_KEY),
        ("index.docker.io", DOCKER_HUB_AUTH_KEY),
        ("registry-1.docker.io", DOCKER_HUB_AUTH_KEY),
        ("https://index.docker.io/v1/", DOCKER_HUB_AUTH_KEY),
        ("localhost:5000", "localhost:5000"),
        ("https://127.0.0.1:5000/v2/", "127.0.0.1:5000"),
        ("ghcr.io", "ghcr.io"),
    ],
)
def test_registry_key_normalises_docker_hub(registry: str, key: str) -> None:
    assert registry_key(registry) == key


# --- AuthConfig and headers -------------------------------------------------------------------


def test_auth_config_repr_hides_secrets() -> None:
    auth = AuthConfig(
        username="alice",
        password=SECRET,
        auth=b64(f"alice:{SECRET}"),
        identitytoken=TOKEN,
        registrytoken=TOKEN,
        serveraddress="reg.io",
        email="a@example.com",
    )
    for text in (repr(auth), str(auth), f"{auth}", repr([auth])):
        assert_no_secret(text)
        assert "alice" in text and "reg.io" in text


def test_auth_config_header_is_urlsafe_base64_of_nonempty_fields() -> None:
    auth = AuthConfig(username="alice", password="p?>>", serveraddress="reg.io")
    header = auth.to_header()
    assert "+" not in header and "/" not in header
    assert decode_header(header) == {
        "username": "alice",
        "password": "p?>>",
        "serveraddress": "reg.io",
    }
    assert auth.to_dict() == decode_header(header)


def test_compose_auth_header_from_base64_user_password_matches_aiodocker() -> None:
    header = compose_auth_header(b64("alice:pa:ss"), "reg.io")
    assert decode_header(header) == {
        "username": "alice",
        "password": "pa:ss",
        "email": None,
        "serveraddress": "reg.io",
    }
    assert compose_auth_header(b64("alice:pa:ss").encode(), "reg.io") == header


def test_compose_auth_header_unwraps_auth_key() -> None:
    header = compose_auth_header({"auth": b64("bob:pw"), "email": "x"}, "reg.io")
    assert decode_header(header)["username"] == "bob"
    assert decode_header(header)["serveraddress"] == "reg.io"


def test_compose_auth_header_passes_identity_token_through() -> None:
    auth = {"identitytoken": TOKEN}
    assert decode_header(compose_auth_header(auth, "reg.io")) == {"identitytoken": TOKEN}


def test_compose_auth_header_sets_serveraddress_without_mutating_argument() -> None:
    auth = {"username": "u", "password": "p"}
    header = compose_auth_header(auth, "reg.io")
    assert decode_header(header) == {"username": "u", "password": "p", "serveraddress": "reg.io"}
    assert auth == {"username": "u", "password": "p"}
    assert decode_header(compose_auth_header(auth)) == auth


def test_compose_auth_header_rejects_bad_input_without_echoing_it() -> None:
    with pytest.raises(ValueError) as info:
        compose_auth_header(b64(f"no-colon-{SECRET}"))
    assert_no_secret(str(info.value))
    with pytest.raises(ValueError):
        compose_auth_header("%%%not base64%%%")
    with pytest.raises(TypeError):
        compose_auth_header(42)  # type: ignore[arg-type]


def test_encode_registry_config_maps_registry_to_auth_dict() -> None:
    value = encode_registry_config(
        {
            "reg.io": AuthConfig(username="u", password="p", serveraddress="reg.io"),
            DOCKER_HUB_AUTH_KEY: AuthConfig(identitytoken=TOKEN),
        }
    )
    assert decode_header(value) == {
        "reg.io": {"username": "u", "password": "p", "serveraddress": "reg.io"},
        DOCKER_HUB_AUTH_KEY: {"identitytoken": TOKEN},
    }
    assert decode_header(encode_registry_config({})) == {}


# --- config.json: auths ---------------------------------------------------------------------


async def test_missing_config_file_means_anonymous(tmp_path: Path) -> None:
    assert await resolve_auth("docker.io", config_dir=str(tmp_path)) is None
    assert await resolve_all_auths(config_dir=str(tmp_path)) == {}


async def test_auths_entry_with_base64_auth_is_decoded(tmp_path: Path) -> None:
    config_dir = write_config(
        tmp_path, {"auths": {"reg.io": {"auth": b64(f"alice:{SECRET}"), "email": "a@x"}}}
    )
    auth = await resolve_auth("reg.io", config_dir=config_dir)
    assert auth == AuthConfig(
        username="alice", password=SECRET, serveraddress="reg.io", email="a@x"
    )


async def test_auths_entry_with_identity_token(tmp_path: Path) -> None:
    config_dir = write_config(tmp_path, {"auths": {"reg.io": {"identitytoken": TOKEN}}})
    auth = await resolve_auth("reg.io", config_dir=config_dir)
    assert auth is not None
    assert auth.identitytoken == TOKEN
    assert decode_header(auth.to_header()) == {"serveraddress": "reg.io", "identitytoken": TOKEN}


@pytest.mark.parametrize("registry", ["docker.io", "index.docker.io", "registry-1.docker.io"])
async def test_docker_hub_aliases_use_the_index_key(tmp_path: Path, registry: str) -> None:
    config_dir = write_config(
        tmp_path, {"auths": {DOCKER_HUB_AUTH_KEY: {"auth": b64(f"alice:{SECRET}")}}}
    )
    auth = await resolve_auth(registry, config_dir=config_dir)
    assert auth is not None
    assert (auth.username, auth.serveraddress) == ("alice", DOCKER_HUB_AUTH_KEY)


@pytest.mark.parametrize(
    "stored_key", ["http://127.0.0.1:5000", "https://127.0.0.1:5000/v1/", "127.0.0.1:5000"]
)
async def test_legacy_auths_keys_with_scheme_or_path_match_the_host(
    tmp_path: Path, stored_key: str
) -> None:
    config_dir = write_config(tmp_path, {"auths": {stored_key: {"auth": b64("bob:pw")}}})
    auth = await resolve_auth("127.0.0.1:5000", config_dir=config_dir)
    assert auth is not None
    assert (auth.username, auth.password, auth.serveraddress) == ("bob", "pw", "127.0.0.1:5000")


async def test_unknown_registry_and_empty_placeholder_are_anonymous(tmp_path: Path) -> None:
    config_dir = write_config(tmp_path, {"auths": {"reg.io": {}, "other.io": {"email": "e"}}})
    assert await resolve_auth("reg.io", config_dir=config_dir) is None
    assert await resolve_auth("other.io", config_dir=config_dir) is None
    assert await resolve_auth("nowhere.io", config_dir=config_dir) is None


async def test_malformed_auth_field_warns_without_secret(tmp_path: Path) -> None:
    config_dir = write_config(tmp_path, {"auths": {"reg.io": {"auth": b64(SECRET)}}})
    with pytest.warns(RuntimeWarning) as record:
        assert await resolve_auth("reg.io", config_dir=config_dir) is None
    assert_no_secret(str(record[0].message))


async def test_invalid_config_json_warns_and_is_anonymous(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text('{"auths": {"reg.io": {"auth": "' + SECRET)
    with pytest.warns(RuntimeWarning, match="config") as record:
        assert await resolve_auth("reg.io", config_dir=str(tmp_path)) is None
    assert_no_secret(str(record[0].message))


# --- credential helpers ---------------------------------------------------------------------


async def test_cred_helper_found(tmp_path: Path, helper_dir: Path) -> None:
    set_helper_table(helper_dir, {"reg.io": ["alice", SECRET]})
    config_dir = write_config(tmp_path / "cfg", {"credHelpers": {"reg.io": "fake"}})
    auth = await resolve_auth("reg.io", config_dir=config_dir)
    assert auth == AuthConfig(username="alice", password=SECRET, serveraddress="reg.io")
    assert helper_calls(helper_dir) == [["get", "reg.io"]]


async def test_cred_helper_token_username_means_identity_token(
    tmp_path: Path, helper_dir: Path
) -> None:
    set_helper_table(helper_dir, {DOCKER_HUB_AUTH_KEY: ["<token>", TOKEN]})
    config_dir = write_config(tmp_path / "cfg", {"credsStore": "fake"})
    auth = await resolve_auth("docker.io", config_dir=config_dir)
    assert auth == AuthConfig(identitytoken=TOKEN, serveraddress=DOCKER_HUB_AUTH_KEY)
    assert helper_calls(helper_dir) == [["get", DOCKER_HUB_AUTH_KEY]]


async def test_cred_helpers_entry_wins_over_creds_store_and_auths(
    tmp_path: Path, helper_dir: Path
) -> None:
    set_helper_table(helper_dir, {"reg.io": ["from-helper", SECRET]})
    config_dir = write_config(
        tmp_path / "cfg",
        {
            "credsStore": "missing-store",
            "credHelpers": {"reg.io": "fake"},
            "auths": {"reg.io": {"auth": b64("from-auths:pw")}},
        },
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        auth = await resolve_auth("reg.io", config_dir=config_dir)
    assert auth is not None and auth.username == "from-helper"


async def test_helper_not_found_is_anonymous_without_falling_back_to_auths(
    tmp_path: Path, helper_dir: Path
) -> None:
    # The CLI overwrites the file's credentials with the (empty) store answer.
    config_dir = write_config(
        tmp_path / "cfg",
        {"credsStore": "fake", "auths": {"reg.io": {"auth": b64("stale:pw")}}},
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert await resolve_auth("reg.io", config_dir=config_dir) is None


async def test_helper_keeps_email_from_auths(tmp_path: Path, helper_dir: Path) -> None:
    set_helper_table(helper_dir, {"reg.io": ["alice", SECRET]})
    config_dir = write_config(
        tmp_path / "cfg", {"credsStore": "fake", "auths": {"reg.io": {"email": "a@x"}}}
    )
    auth = await resolve_auth("reg.io", config_dir=config_dir)
    assert auth is not None and auth.email == "a@x" and auth.password == SECRET


@pytest.mark.parametrize("behaviour", ["broken", "crash"])
async def test_helper_with_invalid_output_warns_and_is_anonymous(
    tmp_path: Path, helper_dir: Path, behaviour: str
) -> None:
    set_helper_table(helper_dir, {"reg.io": behaviour})
    config_dir = write_config(tmp_path / "cfg", {"credHelpers": {"reg.io": "fake"}})
    with pytest.warns(RuntimeWarning, match="docker-credential-fake") as record:
        assert await resolve_auth("reg.io", config_dir=config_dir) is None
    assert "keychain exploded" not in str(record[0].message)


async def test_hanging_helper_is_killed_after_timeout(tmp_path: Path, helper_dir: Path) -> None:
    set_helper_table(helper_dir, {"reg.io": "hang"})
    config_dir = write_config(tmp_path / "cfg", {"credHelpers": {"reg.io": "fake"}})
    loop_time = __import__("asyncio").get_running_loop().time
    started = loop_time()
    with pytest.warns(RuntimeWarning, match="did not answer"):
        assert await resolve_auth("reg.io", config_dir=config_dir, timeout=0.5) is None
    assert loop_time() - started < 5


async def test_missing_helper_warns_and_is_anonymous(tmp_path: Path, helper_dir: Path) -> None:
    config_dir = write_config(tmp_path / "cfg", {"credsStore": "nonexistent"})
    with pytest.warns(RuntimeWarning, match="docker-credential-nonexistent.*not found"):
        assert await resolve_auth("reg.io", config_dir=config_dir) is None


async def test_failing_helper_falls_back_to_auths_entry_like_the_cli(
    tmp_path: Path, helper_dir: Path
) -> None:
    config_dir = write_config(
        tmp_path / "cfg",
        {"credsStore": "nonexistent", "auths": {"reg.io": {"auth": b64(f"alice:{SECRET}")}}},
    )
    with pytest.warns(RuntimeWarning) as record:
        auth = await resolve_auth("reg.io", config_dir=config_dir)
    assert auth is not None and auth.password == SECRET
    assert_no_secret(str(record[0].message))


async def test_warnings_never_contain_secrets(tmp_path: Path, helper_dir: Path) -> None:
    (helper_dir / "docker-credential-leaky").write_text(
        textwrap.dedent(
            f"""\
            #!{sys.executable}
            import sys
            print("{SECRET} {TOKEN}")
            sys.stderr.write("{SECRET}")
            sys.exit(1)
            """
        )
    )
    (helper_dir / "docker-credential-leaky").chmod(0o755)
    config_dir = write_config(tmp_path / "cfg", {"credsStore": "leaky"})
    with pytest.warns(RuntimeWarning) as record:
        assert await resolve_auth("reg.io", config_dir=config_dir) is None
    for warning in record:
        assert_no_secret(str(warning.message))


# --- resolve_all_auths ----------------------------------------------------------------------


async def test_all_auths_from_file_skip_empty_entries(tmp_path: Path) -> None:
    config_dir = write_config(
        tmp_path,
        {
            "auths": {
                "reg.io": {"auth": b64("u:p")},
                DOCKER_HUB_AUTH_KEY: {"identitytoken": TOKEN},
                "empty.io": {},
            }
        },
    )
    auths = await resolve_all_auths(config_dir=config_dir)
    assert auths == {
        "reg.io": AuthConfig(username="u", password="p", serveraddress="reg.io"),
        DOCKER_HUB_AUTH_KEY: AuthConfig(identitytoken=TOKEN, serveraddress=DOCKER_HUB_AUTH_KEY),
    }


async def test_all_auths_enumerate_creds_store_and_apply_cred_helpers(
    tmp_path: Path, helper_dir: Path
) -> None:
    set_helper_table(
        helper_dir,
        {
            "__list__": {"a.io": "alice", "b.io": "bob", "gone.io": "x"},
            "a.io": ["alice", "pa"],
            "b.io": ["bob", "pb"],
            "c.io": ["carol", "pc"],
        },
    )
    config_dir = write_config(
        tmp_path / "cfg",
        {
            "credsStore": "fake",
            "credHelpers": {"c.io": "fake", "b.io": "fake"},
            "auths": {"file-only.io": {"auth": b64("f:f")}},
        },
    )
    auths = await resolve_all_auths(config_dir=config_dir)
    assert {k: (v.username, v.password) for k, v in auths.items()} == {
        "a.io": ("alice", "pa"),
        "b.io": ("bob", "pb"),
        "c.io": ("carol", "pc"),
    }
    assert ["list", "unused"] in helper_calls(helper_dir)


async def test_all_auths_with_broken_store_list_warns_and_keeps_helpers(
    tmp_path: Path, helper_dir: Path
) -> None:
    set_helper_table(helper_dir, {"__list__": "broken", "c.io": ["carol", "pc"]})
    config_dir = write_config(
        tmp_path / "cfg", {"credsStore": "fake", "credHelpers": {"c.io": "fake"}}
    )
    with pytest.warns(RuntimeWarning, match="list"):
        auths = await resolve_all_auths(config_dir=config_dir)
    assert list(auths) == ["c.io"]


def test_fake_helper_is_not_found_outside_the_test_path() -> None:
    # Guards the fixture: PATH is replaced, so no real helper can answer.
    assert "docker-credential-fake" not in os.environ.get("PATH", "")
