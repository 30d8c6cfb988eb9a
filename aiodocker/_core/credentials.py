"""Registry credentials looked up the way the docker CLI looks them up.

Layer: ``_core``. Imports the standard library (credential helpers run as
asyncio subprocesses), the ``exceptions`` leaf and ``_transport.endpoint``'s
config file name; no HTTP.

Facts followed (docker CLI config file and credential-helper protocol):

* The config key of a registry is its host name (``localhost:5000``); Docker
  Hub's key is ``https://index.docker.io/v1/``.
* ``credHelpers[key]`` names the helper for one registry; otherwise
  ``credsStore`` names the helper for all; otherwise ``auths[key]`` holds
  ``auth`` (base64 ``user:password``) or ``identitytoken``. Legacy ``auths``
  keys written with a scheme or a path (``http://127.0.0.1:5000/v1/``) match
  their host name.
* A helper is ``docker-credential-<name>`` on ``PATH``: ``get`` reads the
  server URL on stdin and prints ``{"ServerURL", "Username", "Secret"}``;
  ``Username == "<token>"`` means ``Secret`` is an identity token; a failure
  whose output says "credentials not found" means there are none. ``list``
  prints ``{server URL: user name}``.
* When a helper answers "not found" the CLI sends no credentials: it does NOT
  fall back to ``auths`` (with a helper configured, ``auths`` only holds empty
  placeholders and e-mail addresses). When the helper itself fails (missing
  binary, bad output) the CLI silently uses whatever ``auths[key]`` holds; we
  do the same after a ``RuntimeWarning``, and add a timeout the CLI lacks.

Secrets never reach a repr, a warning or an error message.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import os
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Final

from .._transport.endpoint import CONFIG_FILE_NAME
from ..exceptions import add_note

__all__ = (
    "AuthConfig",
    "DOCKER_HUB_AUTH_KEY",
    "DOCKER_HUB_HOSTS",
    "compose_auth_header",
    "encode_registry_config",
    "explicit_registry",
    "registry_key",
    "resolve_all_auths",
    "resolve_auth",
    "split_leniently",
    "split_reference",
)

DOCKER_HUB_DOMAIN: Final = "docker.io"
DOCKER_HUB_AUTH_KEY: Final = "https://index.docker.io/v1/"
DOCKER_HUB_HOSTS: Final = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
_LEGACY_HUB_DOMAIN: Final = "index.docker.io"
_OFFICIAL_REPO_PREFIX: Final = "library/"
_LOCALHOST: Final = "localhost"

HELPER_PREFIX: Final = "docker-credential-"
TOKEN_USERNAME: Final = "<token>"
_NOT_FOUND_TEXT: Final = "credentials not found"
_KILL_GRACE: Final = 2.0

# Docker reference grammar (distribution/reference), ASCII only.
_COMPONENT: Final = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN_LABEL: Final = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
# Patterns, not compiled ones: re compiles (and caches) each on its first use,
# so a program that never names an image does not pay for them at import.
_DOMAIN_RE: Final = (
    rf"(?:{_DOMAIN_LABEL}(?:\.{_DOMAIN_LABEL})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
)
_COMPONENT_RE: Final = _COMPONENT
_TAG_RE: Final = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
_DIGEST_RE: Final = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_IDENTIFIER_RE: Final = r"[a-f0-9]{64}"
_DIGEST_HEX_LENGTHS: Final = {"sha256": 64, "sha384": 96, "sha512": 128}
_NAME_MAX: Final = 255

# Field order of the engine's AuthConfig JSON.
_WIRE_FIELDS: Final = (
    "username",
    "password",
    "auth",
    "email",
    "serveraddress",
    "identitytoken",
    "registrytoken",
)


def explicit_registry(name: str) -> str | None:
    """Return the registry host written in ``name``, or None for an implicit Docker Hub.

    The first path component is a host when it holds ``.`` or ``:``, is
    ``localhost`` or has an upper-case letter (repository names cannot), as
    the docker CLI decides; nothing else of ``name`` is checked.
    """
    first, slash, _rest = name.partition("/")
    if slash and (any(c in first for c in ".:") or first == _LOCALHOST or first.lower() != first):
        return first
    return None


def split_reference(ref: str) -> tuple[str, str, str | None, str | None]:
    """Split an image reference into (registry, repository, tag, digest).

    A reference without a registry host means Docker Hub (``docker.io``) and a
    one-part Hub repository gets ``library/``: ``alpine`` gives
    ``("docker.io", "library/alpine", None, None)``.

    Raises:
        ValueError: the reference is malformed; the message names it and the fault.
    """
    if not isinstance(ref, str):
        raise TypeError(f"image reference must be a str, not {type(ref).__name__}")

    def bad(reason: str) -> ValueError:
        return ValueError(f"invalid image reference {ref!r}: {reason}")

    if not ref:
        raise bad("it is empty")
    if re.fullmatch(_IDENTIFIER_RE, ref):
        raise bad("a 64-character hexadecimal string is an image ID, not a repository name")

    explicit = explicit_registry(ref)
    if explicit is not None:
        domain, remainder = explicit, ref[len(explicit) + 1 :]
    else:
        domain, remainder = DOCKER_HUB_DOMAIN, ref
    if domain == _LEGACY_HUB_DOMAIN:
        domain = DOCKER_HUB_DOMAIN
    official = domain == DOCKER_HUB_DOMAIN and "/" not in remainder
    if official:
        remainder = _OFFICIAL_REPO_PREFIX + remainder

    remainder, at, digest = remainder.partition("@")
    digest_value = digest if at else None
    repository, tag_value = remainder, None
    colon = remainder.rfind(":")
    if colon > remainder.rfind("/"):
        repository, tag_value = remainder[:colon], remainder[colon + 1 :]

    if not re.fullmatch(_DOMAIN_RE, domain):
        raise bad(f"registry host {domain!r} is not a valid host[:port]")
    if repository.lower() != repository:
        written = repository[len(_OFFICIAL_REPO_PREFIX) :] if official else repository
        raise bad(f"repository name {written!r} must be lowercase")
    for component in repository.split("/"):
        if not component:
            raise bad("the repository name has an empty path component")
        if not re.fullmatch(_COMPONENT_RE, component):
            raise bad(
                f"repository path component {component!r} may only hold [a-z0-9] "
                "separated by '.', '_', '__' or dashes"
            )
    if len(repository) > _NAME_MAX:
        raise bad(f"the repository name is longer than {_NAME_MAX} characters")
    if tag_value is not None and not re.fullmatch(_TAG_RE, tag_value):
        raise bad(
            f"tag {tag_value!r} must be 1 to 128 characters of [A-Za-z0-9_.-] "
            "and not start with '.' or '-'"
        )
    if digest_value is not None:
        if not re.fullmatch(_DIGEST_RE, digest_value):
            raise bad(f"digest {digest_value!r} is not of the form algorithm:hex")
        algorithm, _, encoded = digest_value.partition(":")
        length = _DIGEST_HEX_LENGTHS.get(algorithm)
        if length is None:
            raise bad(f"digest algorithm {algorithm!r} is not supported")
        if len(encoded) != length or encoded.lower() != encoded:
            raise bad(f"a {algorithm} digest needs {length} lowercase hexadecimal digits")
    return domain, repository, tag_value, digest_value


def split_leniently(ref: str) -> tuple[str, str | None, str | None]:
    """Return (registry, tag, digest) of an image reference, never refusing a malformed one.

    aiodocker 0.27 sends any reference as given and lets the daemon judge it;
    a reference that :func:`split_reference` refuses is split the simple way
    0.27 does (registry: the explicit host or ``docker.io``).
    """
    try:
        registry, _repository, tag, digest = split_reference(ref)
    except ValueError:
        last = ref.rsplit("/", 1)[-1]
        name, at, digest_part = last.partition("@")
        _, colon, tag_part = name.partition(":")
        registry = explicit_registry(ref) or DOCKER_HUB_DOMAIN
        return registry, tag_part if colon else None, digest_part if at else None
    return registry, tag, digest


def _host_of(address: str) -> str:
    """Strip a scheme and any path from a registry address, as the CLI does."""
    for scheme in ("http://", "https://"):
        if address.startswith(scheme):
            address = address[len(scheme) :]
            break
    return address.partition("/")[0]


def registry_key(registry: str) -> str:
    """Return the config.json key for ``registry`` (Docker Hub: ``https://index.docker.io/v1/``)."""
    if registry == DOCKER_HUB_AUTH_KEY:
        return registry
    host = _host_of(registry)
    if host in DOCKER_HUB_HOSTS:
        return DOCKER_HUB_AUTH_KEY
    return host


@dataclass(frozen=True, repr=False)
class AuthConfig:
    """Credentials for one registry, in the engine's ``AuthConfig`` shape.

    ``repr`` shows only ``username`` and ``serveraddress``.
    """

    username: str = ""
    password: str = ""
    auth: str = ""
    identitytoken: str = ""
    registrytoken: str = ""
    serveraddress: str = ""
    email: str = ""

    def __repr__(self) -> str:
        return f"AuthConfig(username={self.username!r}, serveraddress={self.serveraddress!r})"

    @property
    def has_credentials(self) -> bool:
        """Whether any secret (password, auth, token) is set."""
        return bool(self.password or self.auth or self.identitytoken or self.registrytoken)

    def to_dict(self) -> dict[str, str]:
        """Return the non-empty fields in the engine's JSON field order."""
        return {name: value for name in _WIRE_FIELDS if (value := getattr(self, name))}

    def to_header(self) -> str:
        """Return the ``X-Registry-Auth`` value: URL-safe base64 of the JSON."""
        payload = json.dumps(self.to_dict(), separators=(",", ":")).encode("utf-8")
        return base64.urlsafe_b64encode(payload).decode("ascii")


def _decode_user_password(encoded: str | bytes) -> tuple[str, str]:
    try:
        raw = base64.b64decode(encoded, validate=True)
        username, colon, password = raw.decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ValueError("auth is not base64 of 'username:password'") from None
    if not colon or not username:
        raise ValueError("auth is not base64 of 'username:password'")
    return username, password


def compose_auth_header(
    auth: Mapping[str, Any] | str | bytes, registry_addr: str | None = None
) -> str:
    """Compose an ``X-Registry-Auth`` value exactly as aiodocker does.

    A str/bytes ``auth`` is base64 of ``user:password``; a mapping with
    ``auth`` is unwrapped to that; a mapping with ``identitytoken`` is sent
    as given; any other mapping gets ``serveraddress`` = ``registry_addr``
    when that is given. The caller's mapping is never modified.

    Raises:
        binascii.Error: a str/bytes ``auth`` is not base64 (0.27's error).
        ValueError: it decodes to no ``user:password`` (0.27's unpacking error).
        TypeError: ``auth`` is neither a mapping nor str/bytes.
    """
    if isinstance(auth, Mapping):
        if "identitytoken" in auth:
            payload: dict[str, Any] = dict(auth)
        elif "auth" in auth:
            return compose_auth_header(auth["auth"], registry_addr)
        else:
            payload = dict(auth)
            if registry_addr:
                payload["serveraddress"] = registry_addr
    elif isinstance(auth, (str, bytes)):
        # 0.27's decoding, errors included: binascii.Error for bad base64, the
        # unpacking ValueError without a colon; the hint goes in a note only.
        try:
            username, password = base64.b64decode(auth).split(b":", 1)
        except ValueError as exc:
            add_note(exc, "auth must be base64 of 'username:password'")
            raise
        payload = {
            "username": username.decode("utf-8"),
            "password": password.decode("utf-8"),
            "email": None,
            "serveraddress": registry_addr,
        }
    else:
        raise TypeError("auth must be base64 encoded string/bytes or a dictionary")
    return base64.urlsafe_b64encode(json.dumps(payload).encode("utf-8")).decode("ascii")


def encode_registry_config(auths: Mapping[str, AuthConfig]) -> str:
    """Return the ``X-Registry-Config`` value of a build: base64 JSON registry -> auth."""
    payload = {registry: auth.to_dict() for registry, auth in auths.items()}
    return base64.urlsafe_b64encode(json.dumps(payload).encode("utf-8")).decode("ascii")


# --- config.json ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Config:
    auths: dict[str, dict[str, Any]]
    creds_store: str
    cred_helpers: dict[str, str]


def _warn(message: str) -> None:
    warnings.warn(message, RuntimeWarning, stacklevel=3)


def _load_config(config_dir: str) -> _Config | None:
    path = os.path.join(config_dir, CONFIG_FILE_NAME)
    try:
        with open(path, "rb") as config_file:
            data = json.loads(config_file.read())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        # ValueError covers JSONDecodeError, whose text holds no file content.
        detail = (exc.strerror if isinstance(exc, OSError) else None) or type(exc).__name__
        _warn(f"cannot read docker config file {path!r} ({detail}); using no credentials")
        return None
    if not isinstance(data, dict):
        _warn(f"docker config file {path!r} is not a JSON object; using no credentials")
        return None
    auths = data.get("auths")
    helpers = data.get("credHelpers")
    store = data.get("credsStore")
    return _Config(
        auths={k: v for k, v in auths.items() if isinstance(v, dict)}
        if isinstance(auths, dict)
        else {},
        creds_store=store if isinstance(store, str) else "",
        cred_helpers={k: v for k, v in helpers.items() if isinstance(v, str) and v}
        if isinstance(helpers, dict)
        else {},
    )


def _auth_entry(config: _Config, key: str) -> tuple[str, dict[str, Any]] | None:
    entry = config.auths.get(key)
    if entry is not None:
        return key, entry
    hub = key == DOCKER_HUB_AUTH_KEY
    for address, candidate in config.auths.items():
        host = _host_of(address)
        if host == key or (hub and host in DOCKER_HUB_HOSTS):
            return address, candidate
    return None


def _auth_from_entry(address: str, entry: Mapping[str, Any], server: str) -> AuthConfig | None:
    def text(name: str) -> str:
        value = entry.get(name)
        return value if isinstance(value, str) else ""

    username, password = text("username"), text("password")
    encoded = text("auth")
    if encoded:
        try:
            username, password = _decode_user_password(encoded)
        except ValueError:
            _warn(f"the 'auth' of {address!r} in the docker config file is malformed; ignored")
            username = password = ""
    config = AuthConfig(
        username=username,
        password=password.strip("\x00"),
        identitytoken=text("identitytoken"),
        registrytoken=text("registrytoken"),
        serveraddress=server,
        email=text("email"),
    )
    return config if config.has_credentials else None


# --- credential helpers --------------------------------------------------------------------


class _HelperFailed(Exception):
    """A helper could not be run or gave unusable output (message is safe to show)."""


async def _run_helper(name: str, action: str, stdin: bytes, timeout: float) -> tuple[int, bytes]:
    program = HELPER_PREFIX + name
    try:
        process = await asyncio.create_subprocess_exec(
            program,
            action,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except FileNotFoundError:
        raise _HelperFailed(f"credential helper {program!r} was not found on PATH") from None
    except OSError as exc:
        raise _HelperFailed(
            f"credential helper {program!r} cannot be run ({exc.strerror})"
        ) from None
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(stdin), timeout)
    except asyncio.TimeoutError:
        raise _HelperFailed(
            f"credential helper {program!r} did not answer {action!r} within {timeout:g}s"
        ) from None
    finally:
        if process.returncode is None:
            try:
                process.kill()
            except ProcessLookupError:
                pass
            try:
                await asyncio.wait_for(process.wait(), _KILL_GRACE)
            except asyncio.TimeoutError:
                pass
    assert process.returncode is not None
    if process.returncode != 0:
        answer = (stdout + b"\n" + stderr).decode("utf-8", "replace").lower()
        if _NOT_FOUND_TEXT in answer:
            return process.returncode, b""
        raise _HelperFailed(
            f"credential helper {program!r} {action} failed with exit status {process.returncode}"
        )
    return 0, stdout


async def _helper_get(name: str, server: str, timeout: float) -> AuthConfig | None:
    """Ask helper ``name`` for ``server``; None when it has no credentials."""
    status, output = await _run_helper(name, "get", server.encode("utf-8"), timeout)
    if status != 0:
        return None
    try:
        answer = json.loads(output)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise _HelperFailed(f"credential helper '{HELPER_PREFIX}{name}' returned invalid JSON")
    username, secret = answer.get("Username", ""), answer.get("Secret", "")
    if not isinstance(username, str) or not isinstance(secret, str):
        raise _HelperFailed(
            f"credential helper '{HELPER_PREFIX}{name}' returned non-string credentials"
        )
    if not secret:
        return None
    if username == TOKEN_USERNAME:
        return AuthConfig(identitytoken=secret, serveraddress=server)
    return AuthConfig(username=username, password=secret, serveraddress=server)


async def _helper_list(name: str, timeout: float) -> list[str]:
    status, output = await _run_helper(name, "list", b"unused", timeout)
    if status != 0:
        return []
    try:
        answer = json.loads(output)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise _HelperFailed(f"credential helper '{HELPER_PREFIX}{name}' list returned invalid JSON")
    return [server for server in answer if isinstance(server, str)]


async def _resolve(config: _Config, key: str, timeout: float) -> AuthConfig | None:
    helper = config.cred_helpers.get(key) or config.creds_store
    found = _auth_entry(config, key)
    email = ""
    if found is not None and isinstance(found[1].get("email"), str):
        email = found[1]["email"]
    if helper:
        try:
            auth = await _helper_get(helper, key, timeout)
        except _HelperFailed as exc:
            _warn(f"{exc}; trying the 'auths' entry for {key!r} instead")
        else:
            if auth is not None and email:
                auth = AuthConfig(**{**_as_kwargs(auth), "email": email})
            return auth
    if found is None:
        return None
    return _auth_from_entry(found[0], found[1], key)


def _as_kwargs(auth: AuthConfig) -> dict[str, str]:
    return {field.name: getattr(auth, field.name) for field in fields(auth)}


async def resolve_auth(
    registry: str, *, config_dir: str, timeout: float = 10.0
) -> AuthConfig | None:
    """Look up the credentials the docker CLI would use for ``registry``.

    ``registry`` is a host (``docker.io``, ``localhost:5000``) or a config
    key. Returns None for an anonymous attempt: no config file, no entry, a
    helper without credentials, or (after a ``RuntimeWarning``) a helper that
    failed and no usable ``auths`` entry.
    """
    config = _load_config(config_dir)
    if config is None:
        return None
    return await _resolve(config, registry_key(registry), timeout)


async def resolve_all_auths(*, config_dir: str, timeout: float = 10.0) -> dict[str, AuthConfig]:
    """Collect every credential the CLI sends with a build (``X-Registry-Config``).

    With a ``credsStore`` the registries are those it lists; without one,
    those in ``auths``. Each ``credHelpers`` registry then overrides. Entries
    without credentials are left out; a failing helper is warned about and skipped.
    """
    config = _load_config(config_dir)
    if config is None:
        return {}
    result: dict[str, AuthConfig] = {}
    if config.creds_store:
        try:
            servers = await _helper_list(config.creds_store, timeout)
        except _HelperFailed as exc:
            _warn(f"{exc}; registries of the credential store are left out")
            servers = []
        outcomes = await asyncio.gather(
            *(_try_get(config.creds_store, server, timeout) for server in servers)
        )
        for server, (_, auth) in zip(servers, outcomes, strict=True):
            if auth is not None:
                result[server] = auth
    else:
        for address, entry in config.auths.items():
            auth = _auth_from_entry(address, entry, address)
            if auth is not None:
                result[address] = auth
    helper_keys = list(config.cred_helpers)
    outcomes = await asyncio.gather(
        *(_try_get(config.cred_helpers[key], key, timeout) for key in helper_keys)
    )
    for key, (answered, auth) in zip(helper_keys, outcomes, strict=True):
        if not answered:
            continue  # keep what the credential store gave, as the CLI does
        if auth is None:
            result.pop(key, None)
        else:
            result[key] = auth
    return result


async def _try_get(name: str, server: str, timeout: float) -> tuple[bool, AuthConfig | None]:
    """Return (whether the helper answered, its credentials)."""
    try:
        return True, await _helper_get(name, server, timeout)
    except _HelperFailed as exc:
        _warn(f"{exc}; no credentials for {server!r}")
        return False, None
