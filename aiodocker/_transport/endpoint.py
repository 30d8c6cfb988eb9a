"""Resolve which Docker daemon to talk to, and with which TLS material.

Layer: ``_transport``. Imports only ``aiodocker.exceptions``, ``aiodocker.types``
and the standard library.

Every function here is pure with respect to the machine: the environment, the
config directory, the home directory, the platform and a path-exists predicate
are passed in. Files are only read below directories the caller names
(``config_dir``, ``DOCKER_CERT_PATH``).

Host precedence (the documented one, as the docker CLI does it):

1. the ``url`` argument;
2. the ``context`` argument;
3. ``DOCKER_HOST``;
4. ``DOCKER_CONTEXT``;
5. ``currentContext`` in ``<config_dir>/config.json``;
6. socket auto-detection.

The context name ``default`` selects the CLI's default context, which is
``DOCKER_HOST`` when set and auto-detection otherwise; lower context sources
are not consulted once ``default`` has been chosen. Empty environment variables
count as unset.

TLS from the environment (docker CLI rules, ``cli/flags/options.go``) applies to
``tcp`` endpoints that come from ``url`` or ``DOCKER_HOST``, never to a context
(a context carries its own TLS material); see :func:`tls_from_env`.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Mapping
from typing import Final, Literal
from urllib.parse import SplitResult, urlsplit

from aiodocker._record import Record
from aiodocker.exceptions import DockerContextInvalidError, DockerContextTLSError, add_note

__all__ = (
    "TLSConfig",
    "Endpoint",
    "Scheme",
    "resolve_endpoint",
    "parse_host",
    "default_config_dir",
    "tls_from_env",
)

Scheme = Literal["unix", "tcp", "ssh", "npipe"]

ENV_HOST: Final = "DOCKER_HOST"
ENV_CONTEXT: Final = "DOCKER_CONTEXT"
ENV_CONFIG: Final = "DOCKER_CONFIG"
ENV_CERT_PATH: Final = "DOCKER_CERT_PATH"
ENV_TLS_VERIFY: Final = "DOCKER_TLS_VERIFY"
ENV_TLS: Final = "DOCKER_TLS"
ENV_XDG_RUNTIME_DIR: Final = "XDG_RUNTIME_DIR"

DEFAULT_CONTEXT_NAME: Final = "default"
CONFIG_FILE_NAME: Final = "config.json"
CONFIG_DIR_NAME: Final = ".docker"
CONTEXT_ENDPOINT_NAME: Final = "docker"
CA_FILE_NAME: Final = "ca.pem"
CERT_FILE_NAME: Final = "cert.pem"
KEY_FILE_NAME: Final = "key.pem"

DEFAULT_TLS_PORT: Final = 2376
DEFAULT_PLAIN_PORT: Final = 2375
DEFAULT_TCP_HOST: Final = "127.0.0.1"
DEFAULT_UNIX_SOCKET: Final = "/var/run/docker.sock"
DEFAULT_NAMED_PIPE: Final = "//./pipe/docker_engine"

SUPPORTED_SCHEMES: Final = (
    "unix:///path/to/docker.sock, tcp://host[:port], http://host[:port], "
    "https://host[:port], ssh://[user@]host[:port], npipe:////./pipe/name, "
    "or an absolute socket path"
)

_SOURCES: Final = frozenset(
    {"url", "context", "DOCKER_HOST", "DOCKER_CONTEXT", "currentContext", "auto-detect"}
)


class TLSConfig(Record):
    """Paths of the TLS material for a tcp endpoint (never the material itself).

    ``ca`` is None to use the system trust store. ``verify`` is False when the
    server certificate must not be checked: a context with ``SkipTLSVerify``, or
    TLS turned on by ``DOCKER_TLS`` without ``DOCKER_TLS_VERIFY``.
    """

    ca: str | None
    cert: str | None
    key: str | None
    verify: bool = True


class Endpoint(Record):
    """Where the daemon is and how to reach it.

    ``address`` is the socket path (unix), ``"host:port"`` (tcp, IPv6 in
    brackets), the ssh URL (ssh) or the pipe path (npipe). ``url`` is the
    canonical display form. ``source`` names the precedence rule that chose it.
    """

    scheme: Scheme
    address: str
    url: str
    tls: TLSConfig | None
    source: str
    context_name: str | None = None
    tried: tuple[str, ...] = ()

    @property
    def host(self) -> str | None:
        """Return the host name or IP (without brackets) for tcp and ssh, else None."""
        parts = self._netloc_parts()
        return None if parts is None else parts.hostname

    @property
    def port(self) -> int | None:
        """Return the port for tcp (always set) and ssh (None when not given), else None."""
        parts = self._netloc_parts()
        return None if parts is None else parts.port

    @property
    def user(self) -> str | None:
        """Return the ssh user name, or None when absent or not ssh."""
        if self.scheme != "ssh":
            return None
        parts = self._netloc_parts()
        return None if parts is None else parts.username

    def _netloc_parts(self) -> SplitResult | None:
        if self.scheme == "tcp":
            return urlsplit("//" + self.address)
        if self.scheme == "ssh":
            return urlsplit(self.url)
        return None


def default_config_dir(env: Mapping[str, str], home: str) -> str:
    """Return ``DOCKER_CONFIG`` if set, else ``<home>/.docker``."""
    configured = env.get(ENV_CONFIG)
    if configured:
        return configured
    return os.path.join(home, CONFIG_DIR_NAME)


def tls_from_env(env: Mapping[str, str], home: str) -> TLSConfig | None:
    """Return the TLS material the docker CLI would take from the environment.

    The rule (docker CLI ``--tls``/``--tlsverify`` defaults):

    - ``DOCKER_TLS_VERIFY`` set to any non-empty value (including ``"0"`` and
      ``"false"``: the CLI only tests for emptiness) turns TLS on *with*
      verification of the server against ``<cert path>/ca.pem`` only. The CA
      file must exist: a missing ca.pem raises :class:`DockerContextTLSError`,
      as the CLI fails.
    - Otherwise ``DOCKER_TLS`` set to a non-empty value turns TLS on *without*
      verification (``verify=False``, no CA loaded).
    - Otherwise there is no TLS (``DOCKER_CERT_PATH`` alone does not enable it).
    - The cert path is ``DOCKER_CERT_PATH``, else the config directory
      (``DOCKER_CONFIG`` or ``<home>/.docker``). ``cert.pem`` and ``key.pem``
      are used when they exist; a missing one is left out (tls.py then rejects
      a certificate without its key, and vice versa).

    Raises:
        DockerContextTLSError: a file exists but cannot be read, or ca.pem is
            missing while verification is on.
    """
    verify = bool(env.get(ENV_TLS_VERIFY))
    if not verify and not env.get(ENV_TLS):
        return None
    cert_path = env.get(ENV_CERT_PATH) or default_config_dir(env, home)
    ca_path = os.path.join(cert_path, CA_FILE_NAME)
    ca: str | None = None
    if verify:
        if not _probe_file(ca_path, None):
            raise DockerContextTLSError(
                f"{ENV_TLS_VERIFY} is set but the CA certificate {ca_path!r} does not exist "
                f"(set {ENV_CERT_PATH} to the directory holding ca.pem, cert.pem and key.pem)"
            )
        ca = ca_path
    cert = os.path.join(cert_path, CERT_FILE_NAME)
    key = os.path.join(cert_path, KEY_FILE_NAME)
    return TLSConfig(
        ca=ca,
        cert=cert if _probe_file(cert, None) else None,
        key=key if _probe_file(key, None) else None,
        verify=verify,
    )


def parse_host(
    host: str,
    *,
    tls: TLSConfig | None = None,
    source: str = "url",
    context_name: str | None = None,
) -> Endpoint:
    """Parse a Docker host URL (``DOCKER_HOST`` syntax) into an :class:`Endpoint`.

    ``tls`` applies to tcp endpoints only. ``https://`` always has TLS (``tls``
    if given, else verification against the system trust store); ``http://`` is
    a synonym of ``tcp://``. The tcp port defaults to 2376 with TLS, 2375
    without. ``unix://`` with no path means ``/var/run/docker.sock`` and
    ``npipe://`` with no path means ``//./pipe/docker_engine``, as in the CLI.

    Raises:
        ValueError: the scheme is unsupported (``fd://`` included), the URL
            carries a password or credentials, or it has a path, query or
            fragment where none is allowed.
    """
    if source not in _SOURCES:
        raise ValueError(f"unknown endpoint source {source!r}; expected one of {sorted(_SOURCES)}")
    text = host.strip()
    if not text:
        raise _no_scheme(f"empty docker host (from {source}); supported: {SUPPORTED_SCHEMES}")
    scheme, sep, rest = text.partition("://")
    if not sep:
        if text.startswith("/"):
            return _unix_endpoint(text, source, context_name)
        raise _no_scheme(
            f"docker host {_redact(text)!r} (from {source}) has no scheme; "
            f"supported: {SUPPORTED_SCHEMES}"
        )
    scheme = scheme.lower()
    if scheme == "unix":
        return _unix_endpoint(rest or DEFAULT_UNIX_SOCKET, source, context_name)
    if scheme == "npipe":
        return _npipe_endpoint(rest or DEFAULT_NAMED_PIPE, source, context_name)
    if scheme in ("tcp", "http"):
        return _tcp_endpoint(text, tls, source, context_name)
    if scheme == "https":
        return _tcp_endpoint(text, tls or TLSConfig(None, None, None), source, context_name)
    if scheme == "ssh":
        return _ssh_endpoint(text, source, context_name)
    raise _no_scheme(
        f"unsupported docker host {_redact(text)!r} (from {source}); supported: {SUPPORTED_SCHEMES}"
    )


def _no_scheme(detail: str) -> ValueError:
    """aiodocker 0.27's error for a host it cannot use; ``detail`` becomes a note."""
    exc = ValueError("Missing protocol scheme in docker_host.")
    add_note(exc, detail)
    return exc


def resolve_endpoint(
    url: str | None = None,
    context: str | None = None,
    *,
    env: Mapping[str, str],
    config_dir: str | None = None,
    home: str,
    platform: str = sys.platform,
    exists: Callable[[str], bool] = os.path.exists,
) -> Endpoint:
    """Choose the daemon endpoint by the documented precedence (see the module docstring).

    Args:
        config_dir: the docker config directory; None means ``DOCKER_CONFIG``
            or ``<home>/.docker``.
        exists: predicate used to probe sockets during auto-detection.

    Raises:
        ValueError: a host URL is invalid, or auto-detection found no socket.
        DockerContextInvalidError: a named context does not exist or is
            malformed, or config.json is malformed.
        DockerContextTLSError: TLS material exists but cannot be read.
    """
    if config_dir is None:
        config_dir = default_config_dir(env, home)

    if url is not None:
        return _from_host(url, "url", env, home)

    if context is not None:
        if not context:
            raise ValueError("context must be a non-empty context name or None")
        if context != DEFAULT_CONTEXT_NAME:
            return _from_context(context, "context", config_dir)
        return _default_context(env, home, platform, exists)

    docker_host = env.get(ENV_HOST)
    if docker_host:
        return _from_host(docker_host, "DOCKER_HOST", env, home)

    env_context = env.get(ENV_CONTEXT)
    if env_context:
        if env_context == DEFAULT_CONTEXT_NAME:
            return _auto_detect(env, home, platform, exists)
        return _from_context(env_context, "DOCKER_CONTEXT", config_dir)

    current = _current_context(config_dir)
    if current and current != DEFAULT_CONTEXT_NAME:
        return _from_context(current, "currentContext", config_dir)

    return _auto_detect(env, home, platform, exists)


# --- host sources -------------------------------------------------------------------------


def _from_host(host: str, source: str, env: Mapping[str, str], home: str) -> Endpoint:
    """Parse ``url``/``DOCKER_HOST``, applying TLS from the environment to tcp."""
    endpoint = parse_host(host, source=source)
    if endpoint.scheme != "tcp":
        return endpoint
    env_tls = tls_from_env(env, home)
    if env_tls is None:
        return endpoint
    return parse_host(host, tls=env_tls, source=source)


def _default_context(
    env: Mapping[str, str], home: str, platform: str, exists: Callable[[str], bool]
) -> Endpoint:
    """Resolve the CLI's ``default`` context: DOCKER_HOST, else auto-detection."""
    docker_host = env.get(ENV_HOST)
    if docker_host:
        return _from_host(docker_host, "DOCKER_HOST", env, home)
    return _auto_detect(env, home, platform, exists)


def _current_context(config_dir: str) -> str | None:
    """Return ``currentContext`` from config.json; a missing file means none."""
    path = os.path.join(config_dir, CONFIG_FILE_NAME)
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise DockerContextInvalidError(f"cannot read docker config file {path!r}: {exc}") from exc
    try:
        config = json.loads(raw)
    except ValueError as exc:
        raise DockerContextInvalidError(
            f"docker config file {path!r} is not valid JSON: {exc}"
        ) from exc
    if not isinstance(config, dict):
        raise DockerContextInvalidError(f"docker config file {path!r} is not a JSON object")
    current = config.get("currentContext")
    if current is None:
        return None
    if not isinstance(current, str):
        raise DockerContextInvalidError(
            f"docker config file {path!r}: currentContext must be a string, "
            f"got {type(current).__name__}"
        )
    return current or None


def _context_id(name: str) -> str:
    import hashlib  # only for named contexts; not worth its import on every start

    return hashlib.sha256(name.encode("utf-8")).hexdigest()


def _from_context(name: str, source: str, config_dir: str) -> Endpoint:
    """Load a named context from the CLI's context store."""
    context_id = _context_id(name)
    meta_path = os.path.join(config_dir, "contexts", "meta", context_id, "meta.json")
    try:
        with open(meta_path, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        raise DockerContextInvalidError(
            f"docker context {name!r} (from {source}) not found: {meta_path!r} does not exist",
            name,
        ) from None
    except OSError as exc:
        raise DockerContextInvalidError(
            f"cannot read metadata of docker context {name!r} at {meta_path!r}: {exc}", name
        ) from exc
    try:
        meta = json.loads(raw)
    except ValueError as exc:
        raise DockerContextInvalidError(
            f"metadata of docker context {name!r} at {meta_path!r} is not valid JSON: {exc}",
            name,
        ) from exc
    docker_ep = None
    if isinstance(meta, dict):
        endpoints = meta.get("Endpoints")
        if isinstance(endpoints, dict):
            docker_ep = endpoints.get(CONTEXT_ENDPOINT_NAME)
    if not isinstance(docker_ep, dict):
        raise DockerContextInvalidError(
            f"docker context {name!r} at {meta_path!r} has no docker endpoint", name
        )
    host = docker_ep.get("Host")
    if not isinstance(host, str) or not host.strip():
        raise DockerContextInvalidError(
            f"docker context {name!r} at {meta_path!r} has no docker endpoint Host", name
        )
    skip_verify = docker_ep.get("SkipTLSVerify", False)
    if skip_verify is None:
        skip_verify = False
    if not isinstance(skip_verify, bool):
        raise DockerContextInvalidError(
            f"docker context {name!r} at {meta_path!r}: SkipTLSVerify must be a boolean", name
        )

    tls_dir = os.path.join(config_dir, "contexts", "tls", context_id, CONTEXT_ENDPOINT_NAME)
    ca, cert, key = (
        path if _probe_file(path, name) else None
        for path in (
            os.path.join(tls_dir, CA_FILE_NAME),
            os.path.join(tls_dir, CERT_FILE_NAME),
            os.path.join(tls_dir, KEY_FILE_NAME),
        )
    )
    tls: TLSConfig | None = None
    if ca or cert or key or skip_verify:
        tls = TLSConfig(ca=ca, cert=cert, key=key, verify=not skip_verify)
    try:
        return parse_host(host, tls=tls, source=source, context_name=name)
    except ValueError as exc:
        raise DockerContextInvalidError(
            f"docker context {name!r} at {meta_path!r} has an invalid Host: {exc}", name
        ) from exc


def _probe_file(path: str, context_name: str | None) -> bool:
    """Return whether ``path`` exists; raise if it exists but cannot be read."""
    try:
        with open(path, "rb"):
            return True
    except FileNotFoundError:
        return False
    except OSError as exc:
        where = f" of docker context {context_name!r}" if context_name else ""
        raise DockerContextTLSError(
            f"cannot read TLS file {path!r}{where}: {exc}", context_name
        ) from exc


def _candidate_sockets(env: Mapping[str, str], home: str) -> list[str]:
    runtime_dir = env.get(ENV_XDG_RUNTIME_DIR)
    candidates = ["/var/run/docker.sock", "/run/docker.sock"]
    if runtime_dir:
        candidates.append(os.path.join(runtime_dir, "docker.sock"))
    candidates.append(os.path.join(home, CONFIG_DIR_NAME, "run", "docker.sock"))
    candidates.append(os.path.join(home, CONFIG_DIR_NAME, "desktop", "docker.sock"))
    if runtime_dir:
        candidates.append(os.path.join(runtime_dir, "podman", "podman.sock"))
    candidates.append("/run/podman/podman.sock")
    return list(dict.fromkeys(candidates))


def _auto_detect(
    env: Mapping[str, str], home: str, platform: str, exists: Callable[[str], bool]
) -> Endpoint:
    """Return the first socket (or named pipe on win32) that exists."""
    if platform == "win32":
        candidates = [DEFAULT_NAMED_PIPE]
    else:
        candidates = _candidate_sockets(env, home)
    tried: list[str] = []
    for path in candidates:
        tried.append(path)
        if exists(path):
            make = _npipe_endpoint if platform == "win32" else _unix_endpoint
            return make(path, "auto-detect", None).replace(tried=tuple(tried))
    raise ValueError(
        "cannot find a Docker daemon socket; tried: "
        + ", ".join(tried)
        + f". Set {ENV_HOST} or pass url= (e.g. unix:///path/to/docker.sock)"
    )


# --- scheme parsers -----------------------------------------------------------------------


def _unix_endpoint(path: str, source: str, context_name: str | None) -> Endpoint:
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    if "\x00" in path:
        raise ValueError(f"unix socket path {path!r} (from {source}) contains a NUL byte")
    return Endpoint(
        scheme="unix",
        address=path,
        url=f"unix://{path}",
        tls=None,
        source=source,
        context_name=context_name,
    )


def _npipe_endpoint(path: str, source: str, context_name: str | None) -> Endpoint:
    path = path.replace("\\", "/")
    if len(path) > 1:
        path = path.rstrip("/")
    if not path.startswith("//"):
        raise ValueError(
            f"named pipe {path!r} (from {source}) must look like //./pipe/name "
            f"(npipe:////./pipe/name)"
        )
    return Endpoint(
        scheme="npipe",
        address=path,
        url=f"npipe://{path}",
        tls=None,
        source=source,
        context_name=context_name,
    )


def _split(text: str, source: str) -> SplitResult:
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - validates the port
    except ValueError as exc:
        raise ValueError(f"invalid docker host {_redact(text)!r} (from {source}): {exc}") from exc
    return parts


def _check_no_extras(parts: SplitResult, text: str, source: str, what: str) -> None:
    if parts.path.strip("/"):
        raise ValueError(
            f"docker host {_redact(text)!r} (from {source}): a path after the {what} "
            f"({parts.path!r}) is not supported"
        )
    if parts.query or parts.fragment:
        raise ValueError(
            f"docker host {_redact(text)!r} (from {source}): query strings and fragments "
            "are not supported"
        )


def _format_host(hostname: str) -> str:
    return f"[{hostname}]" if ":" in hostname else hostname


def _tcp_endpoint(
    text: str, tls: TLSConfig | None, source: str, context_name: str | None
) -> Endpoint:
    parts = _split(text, source)
    if parts.username is not None or parts.password is not None:
        raise ValueError(
            f"docker host {_redact(text)!r} (from {source}): credentials in a tcp URL "
            "are not supported; never put credentials in URLs"
        )
    _check_no_extras(parts, text, source, "host:port")
    hostname = parts.hostname or DEFAULT_TCP_HOST
    port = parts.port
    if port is None:
        port = DEFAULT_TLS_PORT if tls is not None else DEFAULT_PLAIN_PORT
    if port == 0:
        raise ValueError(f"docker host {text!r} (from {source}): port 0 is not valid")
    address = f"{_format_host(hostname)}:{port}"
    return Endpoint(
        scheme="tcp",
        address=address,
        url=f"tcp://{address}",
        tls=tls,
        source=source,
        context_name=context_name,
    )


def _ssh_endpoint(text: str, source: str, context_name: str | None) -> Endpoint:
    parts = _split(text, source)
    if parts.password is not None:
        raise ValueError(
            f"docker host {_redact(text)!r} (from {source}): a password in an ssh URL is "
            "not supported; never put credentials in URLs (use ssh keys or an agent)"
        )
    if not parts.hostname:
        raise ValueError(f"docker host {text!r} (from {source}): ssh URL has no host")
    if parts.username == "":
        raise ValueError(f"docker host {text!r} (from {source}): ssh URL has an empty user")
    _check_no_extras(parts, text, source, "host")
    if parts.port == 0:
        raise ValueError(f"docker host {text!r} (from {source}): port 0 is not valid")
    netloc = _format_host(parts.hostname)
    if parts.username is not None:
        netloc = f"{parts.username}@{netloc}"
    if parts.port is not None:
        netloc = f"{netloc}:{parts.port}"
    return Endpoint(
        scheme="ssh",
        address=text.rstrip("/"),
        url=f"ssh://{netloc}",
        tls=None,
        source=source,
        context_name=context_name,
    )


def _redact(text: str) -> str:
    """Hide a password in ``scheme://user:password@host`` for error messages."""
    scheme, sep, rest = text.partition("://")
    if not sep:
        return text
    netloc, slash, tail = rest.partition("/")
    userinfo, at, hostport = netloc.rpartition("@")
    if not at or ":" not in userinfo:
        return text
    user = userinfo.split(":", 1)[0]
    return f"{scheme}://{user}:***@{hostport}{slash}{tail}"
