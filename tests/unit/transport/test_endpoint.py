"""Host resolution: precedence, context store, URL parsing, TLS from env, auto-detection."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from aiodocker._transport.endpoint import (
    Endpoint,
    TLSConfig,
    default_config_dir,
    parse_host,
    resolve_endpoint,
    tls_from_env,
)
from aiodocker.exceptions import DockerContextInvalidError, DockerContextTLSError

HOME = "/home/tester"


def nothing_exists(path: str) -> bool:
    return False


def only(*paths: str) -> Callable[[str], bool]:
    wanted = set(paths)
    return lambda path: path in wanted


def write_context(
    config_dir: Path,
    name: str,
    host: str | None = "tcp://ctx.example:2376",
    *,
    skip_verify: bool | None = None,
    tls_files: tuple[str, ...] = (),
    meta: Any = None,
) -> Path:
    """Write a context the way the docker CLI lays it out; return its TLS dir."""
    digest = hashlib.sha256(name.encode()).hexdigest()
    meta_dir = config_dir / "contexts" / "meta" / digest
    meta_dir.mkdir(parents=True, exist_ok=True)
    if meta is None:
        endpoint: dict[str, Any] = {}
        if host is not None:
            endpoint["Host"] = host
        if skip_verify is not None:
            endpoint["SkipTLSVerify"] = skip_verify
        meta = {"Name": name, "Metadata": {}, "Endpoints": {"docker": endpoint}}
    text = meta if isinstance(meta, str) else json.dumps(meta)
    (meta_dir / "meta.json").write_text(text)
    tls_dir = config_dir / "contexts" / "tls" / digest / "docker"
    if tls_files:
        tls_dir.mkdir(parents=True, exist_ok=True)
        for file_name in tls_files:
            (tls_dir / file_name).write_text("PEM PLACEHOLDER\n")
    return tls_dir


def write_config(config_dir: Path, content: Any) -> None:
    config_dir.mkdir(parents=True, exist_ok=True)
    text = content if isinstance(content, str) else json.dumps(content)
    (config_dir / "config.json").write_text(text)


def resolve(
    url: str | None = None,
    context: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    config_dir: Path | None = None,
    home: str = HOME,
    platform: str = "linux",
    exists: Callable[[str], bool] = nothing_exists,
) -> Endpoint:
    return resolve_endpoint(
        url,
        context,
        env=env or {},
        config_dir=None if config_dir is None else str(config_dir),
        home=home,
        platform=platform,
        exists=exists,
    )


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    path = tmp_path / "dockercfg"
    path.mkdir()
    return path


# --- precedence ---------------------------------------------------------------------------


@pytest.fixture
def everything(cfg: Path) -> dict[str, str]:
    """A config dir where every precedence level has a distinct answer."""
    write_context(cfg, "argctx", "tcp://argctx:1")
    write_context(cfg, "envctx", "tcp://envctx:2")
    write_context(cfg, "curctx", "tcp://curctx:3")
    write_config(cfg, {"currentContext": "curctx"})
    return {"DOCKER_HOST": "tcp://envhost:4", "DOCKER_CONTEXT": "envctx"}


def test_url_argument_beats_everything(cfg: Path, everything: dict[str, str]) -> None:
    ep = resolve("tcp://urlhost:9", "argctx", env=everything, config_dir=cfg, exists=lambda p: True)
    assert (ep.url, ep.source, ep.context_name) == ("tcp://urlhost:9", "url", None)


def test_context_argument_beats_docker_host(cfg: Path, everything: dict[str, str]) -> None:
    ep = resolve(None, "argctx", env=everything, config_dir=cfg)
    assert (ep.url, ep.source, ep.context_name) == ("tcp://argctx:1", "context", "argctx")


def test_docker_host_beats_docker_context(cfg: Path, everything: dict[str, str]) -> None:
    ep = resolve(env=everything, config_dir=cfg)
    assert (ep.url, ep.source, ep.context_name) == ("tcp://envhost:4", "DOCKER_HOST", None)


def test_docker_context_beats_current_context(cfg: Path, everything: dict[str, str]) -> None:
    env = {"DOCKER_CONTEXT": "envctx"}
    ep = resolve(env=env, config_dir=cfg)
    assert (ep.url, ep.source, ep.context_name) == ("tcp://envctx:2", "DOCKER_CONTEXT", "envctx")


def test_current_context_beats_auto_detection(cfg: Path, everything: dict[str, str]) -> None:
    ep = resolve(env={}, config_dir=cfg, exists=lambda p: True)
    assert (ep.url, ep.source, ep.context_name) == ("tcp://curctx:3", "currentContext", "curctx")


def test_auto_detection_is_the_last_resort(cfg: Path) -> None:
    ep = resolve(env={}, config_dir=cfg, exists=only("/var/run/docker.sock"))
    assert (ep.url, ep.source, ep.context_name) == (
        "unix:///var/run/docker.sock",
        "auto-detect",
        None,
    )


def test_empty_env_vars_count_as_unset(cfg: Path) -> None:
    write_config(cfg, {"currentContext": "curctx"})
    write_context(cfg, "curctx", "tcp://curctx:3")
    env = {"DOCKER_HOST": "", "DOCKER_CONTEXT": "", "DOCKER_CONFIG": ""}
    ep = resolve(env=env, config_dir=cfg)
    assert ep.source == "currentContext"


def test_context_argument_default_uses_docker_host(cfg: Path, everything: dict[str, str]) -> None:
    ep = resolve(None, "default", env=everything, config_dir=cfg)
    assert (ep.url, ep.source) == ("tcp://envhost:4", "DOCKER_HOST")


def test_context_argument_default_without_docker_host_auto_detects(
    cfg: Path, everything: dict[str, str]
) -> None:
    env = {"DOCKER_CONTEXT": "envctx"}
    ep = resolve(None, "default", env=env, config_dir=cfg, exists=only("/run/docker.sock"))
    assert (ep.url, ep.source) == ("unix:///run/docker.sock", "auto-detect")


def test_docker_context_default_selects_default_context_not_current_context(
    cfg: Path, everything: dict[str, str]
) -> None:
    ep = resolve(env={"DOCKER_CONTEXT": "default"}, config_dir=cfg, exists=only("/run/docker.sock"))
    assert ep.source == "auto-detect"


def test_current_context_default_means_auto_detect(cfg: Path) -> None:
    write_config(cfg, {"currentContext": "default"})
    ep = resolve(env={}, config_dir=cfg, exists=only("/run/docker.sock"))
    assert ep.source == "auto-detect"


def test_empty_context_argument_is_rejected(cfg: Path) -> None:
    with pytest.raises(ValueError, match="context"):
        resolve(None, "", env={}, config_dir=cfg)


# --- config dir and config.json -----------------------------------------------------------


def test_default_config_dir_is_home_dot_docker() -> None:
    assert default_config_dir({}, HOME) == os.path.join(HOME, ".docker")


def test_default_config_dir_follows_docker_config() -> None:
    assert default_config_dir({"DOCKER_CONFIG": "/etc/dc"}, HOME) == "/etc/dc"
    assert default_config_dir({"DOCKER_CONFIG": ""}, HOME) == os.path.join(HOME, ".docker")


def test_docker_config_moves_config_json_and_context_store(tmp_path: Path) -> None:
    moved = tmp_path / "elsewhere"
    write_config(moved, {"currentContext": "remote"})
    write_context(moved, "remote", "ssh://me@remote")
    ep = resolve_endpoint(
        env={"DOCKER_CONFIG": str(moved)}, home=str(tmp_path / "home"), exists=nothing_exists
    )
    assert (ep.url, ep.source, ep.context_name) == ("ssh://me@remote", "currentContext", "remote")


def test_config_dir_defaults_to_home_dot_docker(tmp_path: Path) -> None:
    dot_docker = tmp_path / ".docker"
    write_config(dot_docker, {"currentContext": "remote"})
    write_context(dot_docker, "remote", "tcp://remote:2375")
    ep = resolve_endpoint(env={}, home=str(tmp_path), exists=nothing_exists)
    assert ep.context_name == "remote"


def test_missing_config_json_is_fine(cfg: Path) -> None:
    ep = resolve(env={}, config_dir=cfg, exists=only("/var/run/docker.sock"))
    assert ep.source == "auto-detect"


def test_config_json_without_current_context_is_fine(cfg: Path) -> None:
    write_config(cfg, {"auths": {}})
    ep = resolve(env={}, config_dir=cfg, exists=only("/var/run/docker.sock"))
    assert ep.source == "auto-detect"


@pytest.mark.parametrize(
    "content", ["{not json", "[1, 2]", '{"currentContext": 5}'], ids=["syntax", "list", "type"]
)
def test_malformed_config_json_raises_naming_the_file(cfg: Path, content: str) -> None:
    write_config(cfg, content)
    with pytest.raises(DockerContextInvalidError) as info:
        resolve(env={}, config_dir=cfg, exists=lambda p: True)
    assert str(cfg / "config.json") in info.value.message


def test_config_json_is_not_read_when_docker_host_is_set(cfg: Path) -> None:
    write_config(cfg, "{not json")
    ep = resolve(env={"DOCKER_HOST": "unix:///x.sock"}, config_dir=cfg)
    assert ep.address == "/x.sock"


# --- context store ------------------------------------------------------------------------


def test_context_is_found_by_sha256_of_its_name(cfg: Path) -> None:
    write_context(cfg, "my ctx/π", "unix:///ctx.sock")
    ep = resolve(None, "my ctx/π", env={}, config_dir=cfg)
    assert (ep.scheme, ep.address, ep.context_name) == ("unix", "/ctx.sock", "my ctx/π")


def test_missing_named_context_raises_never_falls_back(cfg: Path) -> None:
    with pytest.raises(DockerContextInvalidError) as info:
        resolve(
            None, "ghost", env={"DOCKER_HOST": "tcp://h:1"}, config_dir=cfg, exists=lambda p: True
        )
    assert info.value.context_name == "ghost"
    assert "ghost" in info.value.message


def test_missing_docker_context_from_env_raises(cfg: Path) -> None:
    with pytest.raises(DockerContextInvalidError) as info:
        resolve(env={"DOCKER_CONTEXT": "ghost"}, config_dir=cfg, exists=lambda p: True)
    assert info.value.context_name == "ghost"


def test_missing_current_context_raises(cfg: Path) -> None:
    write_config(cfg, {"currentContext": "ghost"})
    with pytest.raises(DockerContextInvalidError) as info:
        resolve(env={}, config_dir=cfg, exists=lambda p: True)
    assert info.value.context_name == "ghost"


@pytest.mark.parametrize(
    "meta",
    [
        "{broken",
        "[]",
        {"Name": "bad", "Endpoints": {}},
        {"Name": "bad", "Endpoints": {"docker": {}}},
        {"Name": "bad", "Endpoints": {"docker": {"Host": ""}}},
        {"Name": "bad", "Endpoints": {"docker": {"Host": 7}}},
        {"Name": "bad", "Endpoints": {"docker": {"Host": "fd://"}}},
        {"Name": "bad", "Endpoints": {"docker": {"Host": "tcp://h:1", "SkipTLSVerify": "yes"}}},
    ],
    ids=[
        "syntax",
        "list",
        "no-docker",
        "no-host",
        "empty-host",
        "host-type",
        "bad-host",
        "skip-type",
    ],
)
def test_malformed_context_meta_raises_with_context_name(cfg: Path, meta: Any) -> None:
    write_context(cfg, "bad", meta=meta)
    with pytest.raises(DockerContextInvalidError) as info:
        resolve(None, "bad", env={}, config_dir=cfg)
    assert info.value.context_name == "bad"


def test_context_without_tls_files_is_plain_with_port_2375_default(cfg: Path) -> None:
    write_context(cfg, "plain", "tcp://plainhost")
    ep = resolve(None, "plain", env={}, config_dir=cfg)
    assert ep.tls is None
    assert ep.url == "tcp://plainhost:2375"


def test_context_with_ca_has_tls_with_its_own_files(cfg: Path) -> None:
    tls_dir = write_context(
        cfg, "secure", "tcp://sec:2376", tls_files=("ca.pem", "cert.pem", "key.pem")
    )
    ep = resolve(None, "secure", env={}, config_dir=cfg)
    assert ep.tls == TLSConfig(
        ca=str(tls_dir / "ca.pem"),
        cert=str(tls_dir / "cert.pem"),
        key=str(tls_dir / "key.pem"),
        verify=True,
    )


def test_context_tls_files_may_be_partly_absent(cfg: Path) -> None:
    tls_dir = write_context(cfg, "partial", "tcp://p", tls_files=("ca.pem",))
    ep = resolve(None, "partial", env={}, config_dir=cfg)
    assert ep.tls == TLSConfig(ca=str(tls_dir / "ca.pem"), cert=None, key=None, verify=True)
    assert ep.port == 2376


def test_context_skip_tls_verify_gives_tls_without_verification(cfg: Path) -> None:
    write_context(cfg, "skip", "tcp://s:2376", skip_verify=True)
    ep = resolve(None, "skip", env={}, config_dir=cfg)
    assert ep.tls == TLSConfig(ca=None, cert=None, key=None, verify=False)


def test_context_never_uses_tls_from_env(cfg: Path, tmp_path: Path) -> None:
    certs = tmp_path / "certs"
    certs.mkdir()
    (certs / "ca.pem").write_text("PEM PLACEHOLDER\n")
    (certs / "ca.pem").write_text("x")
    write_context(cfg, "plain", "tcp://plainhost:2375")
    env = {"DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": str(certs)}
    ep = resolve(None, "plain", env=env, config_dir=cfg)
    assert ep.tls is None


def test_context_unix_host_has_no_tls_even_with_tls_files(cfg: Path) -> None:
    write_context(cfg, "local", "unix:///l.sock", tls_files=("ca.pem",))
    assert resolve(None, "local", env={}, config_dir=cfg).tls is None


@pytest.mark.skipif(
    sys.platform == "win32" or os.geteuid() == 0,
    reason="needs POSIX permissions and a non-root user",
)
def test_unreadable_context_tls_file_raises_tls_error(cfg: Path) -> None:
    tls_dir = write_context(cfg, "locked", "tcp://l:2376", tls_files=("ca.pem",))
    (tls_dir / "ca.pem").chmod(0)
    with pytest.raises(DockerContextTLSError) as info:
        resolve(None, "locked", env={}, config_dir=cfg)
    assert info.value.context_name == "locked"


def test_context_tls_path_that_is_a_directory_raises_tls_error(cfg: Path) -> None:
    tls_dir = write_context(cfg, "dir", "tcp://d:2376", tls_files=("ca.pem",))
    (tls_dir / "key.pem").mkdir()
    with pytest.raises(DockerContextTLSError) as info:
        resolve(None, "dir", env={}, config_dir=cfg)
    assert info.value.context_name == "dir"
    assert str(tls_dir / "key.pem") in info.value.message


# --- parse_host ---------------------------------------------------------------------------


def test_parse_unix_url() -> None:
    ep = parse_host("unix:///var/run/docker.sock")
    assert (ep.scheme, ep.address, ep.url, ep.tls, ep.source) == (
        "unix",
        "/var/run/docker.sock",
        "unix:///var/run/docker.sock",
        None,
        "url",
    )
    assert (ep.host, ep.port, ep.user) == (None, None, None)


def test_parse_unix_url_strips_trailing_slash() -> None:
    assert parse_host("unix:///tmp/d.sock/").address == "/tmp/d.sock"


def test_parse_unix_without_path_means_default_socket() -> None:
    assert parse_host("unix://").address == "/var/run/docker.sock"


def test_parse_bare_absolute_path_is_unix() -> None:
    ep = parse_host("/tmp/docker.sock")
    assert (ep.scheme, ep.url) == ("unix", "unix:///tmp/docker.sock")


def test_parse_tcp_url_keeps_port() -> None:
    ep = parse_host("tcp://10.0.0.1:1234")
    assert (ep.scheme, ep.address, ep.url, ep.host, ep.port, ep.tls) == (
        "tcp",
        "10.0.0.1:1234",
        "tcp://10.0.0.1:1234",
        "10.0.0.1",
        1234,
        None,
    )


def test_parse_tcp_port_defaults_to_2375_without_tls() -> None:
    assert parse_host("tcp://docker.example").address == "docker.example:2375"


def test_parse_tcp_port_defaults_to_2376_with_tls() -> None:
    tls = TLSConfig(ca="/c/ca.pem", cert=None, key=None)
    ep = parse_host("tcp://docker.example", tls=tls)
    assert (ep.address, ep.tls) == ("docker.example:2376", tls)


def test_parse_tcp_ipv6() -> None:
    ep = parse_host("tcp://[::1]:2376")
    assert (ep.address, ep.url, ep.host, ep.port) == ("[::1]:2376", "tcp://[::1]:2376", "::1", 2376)
    assert parse_host("tcp://[fe80::1]").address == "[fe80::1]:2375"


def test_parse_tcp_trailing_slash_is_ignored() -> None:
    assert parse_host("tcp://h:1/").url == "tcp://h:1"


def test_parse_tcp_with_path_is_rejected() -> None:
    with pytest.raises(ValueError, match="path"):
        parse_host("tcp://h:1/prefix")


def test_parse_tcp_with_query_is_rejected() -> None:
    with pytest.raises(ValueError, match="query"):
        parse_host("tcp://h:1?x=1")


def test_parse_tcp_without_host_means_localhost() -> None:
    assert parse_host("tcp://:2375").address == "127.0.0.1:2375"


@pytest.mark.parametrize("host", ["tcp://h:notaport", "tcp://h:70000", "tcp://h:0"])
def test_parse_tcp_bad_port_is_rejected(host: str) -> None:
    with pytest.raises(ValueError, match="h"):
        parse_host(host)


def test_parse_tcp_with_credentials_is_rejected_without_echoing_password() -> None:
    with pytest.raises(ValueError) as info:
        parse_host("tcp://bob:s3cret@h:1")
    assert "s3cret" not in str(info.value)


def test_parse_http_is_plain_tcp() -> None:
    ep = parse_host("http://h")
    assert (ep.scheme, ep.url, ep.tls) == ("tcp", "tcp://h:2375", None)


def test_parse_https_is_tcp_with_verified_tls_on_system_cas() -> None:
    ep = parse_host("https://h")
    assert (ep.scheme, ep.url) == ("tcp", "tcp://h:2376")
    assert ep.tls == TLSConfig(ca=None, cert=None, key=None, verify=True)


def test_parse_https_uses_given_tls() -> None:
    tls = TLSConfig(ca="/x/ca.pem", cert="/x/cert.pem", key="/x/key.pem")
    assert parse_host("https://h:443", tls=tls).tls is tls


def test_parse_ssh_url() -> None:
    ep = parse_host("ssh://root@host:22")
    assert (ep.scheme, ep.address, ep.url, ep.tls) == (
        "ssh",
        "ssh://root@host:22",
        "ssh://root@host:22",
        None,
    )
    assert (ep.user, ep.host, ep.port) == ("root", "host", 22)


def test_parse_ssh_without_user_or_port() -> None:
    ep = parse_host("ssh://host")
    assert (ep.user, ep.host, ep.port, ep.url) == (None, "host", None, "ssh://host")


def test_parse_ssh_ipv6() -> None:
    ep = parse_host("ssh://me@[2001:db8::1]:2222/")
    assert (ep.user, ep.host, ep.port, ep.url) == (
        "me",
        "2001:db8::1",
        2222,
        "ssh://me@[2001:db8::1]:2222",
    )


def test_parse_ssh_with_password_is_rejected_without_echoing_it() -> None:
    with pytest.raises(ValueError, match="credentials") as info:
        parse_host("ssh://root:hunter2@host")
    assert "hunter2" not in str(info.value)


def test_parse_ssh_with_path_is_rejected() -> None:
    with pytest.raises(ValueError, match="path"):
        parse_host("ssh://host/var/run/docker.sock")


def test_parse_ssh_ignores_tls() -> None:
    assert parse_host("ssh://h", tls=TLSConfig(None, None, None)).tls is None


def test_parse_npipe_url() -> None:
    ep = parse_host("npipe:////./pipe/docker_engine")
    assert (ep.scheme, ep.address, ep.url) == (
        "npipe",
        "//./pipe/docker_engine",
        "npipe:////./pipe/docker_engine",
    )


def test_parse_npipe_without_path_means_docker_engine() -> None:
    assert parse_host("npipe://").address == "//./pipe/docker_engine"


def test_parse_npipe_must_be_a_pipe_path() -> None:
    with pytest.raises(ValueError, match="pipe"):
        parse_host("npipe://docker_engine")


@pytest.mark.parametrize(
    "host", ["fd://", "fd://3", "ftp://h", "localhost:2375", "docker.sock", ""]
)
def test_parse_unsupported_host_names_value_and_supported_schemes(host: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_host(host, source="DOCKER_HOST")
    assert info.value.args == ("Missing protocol scheme in docker_host.",)  # 0.27's words
    if sys.version_info >= (3, 11):  # the details are a note (add_note)
        (message,) = info.value.__notes__
        assert repr(host) in message or not host
        assert "unix://" in message and "ssh://" in message and "DOCKER_HOST" in message


def test_parse_host_carries_source_and_context_name() -> None:
    ep = parse_host("unix:///s", source="context", context_name="c1")
    assert (ep.source, ep.context_name) == ("context", "c1")


def test_parse_host_strips_whitespace_and_lowercases_scheme() -> None:
    assert parse_host("  TCP://h:1 ").url == "tcp://h:1"


# --- TLS from the environment -------------------------------------------------------------


@pytest.fixture
def certs(tmp_path: Path) -> Path:
    path = tmp_path / "certs"
    path.mkdir()
    for name in ("ca.pem", "cert.pem", "key.pem"):
        (path / name).write_text("PEM\n")
    return path


def test_tls_from_env_is_none_without_tls_variables(certs: Path) -> None:
    assert tls_from_env({"DOCKER_CERT_PATH": str(certs)}, HOME) is None
    assert tls_from_env({"DOCKER_TLS_VERIFY": "", "DOCKER_TLS": ""}, HOME) is None


@pytest.mark.parametrize("value", ["1", "true", "0", "false", "yes"])
def test_tls_from_env_any_non_empty_tls_verify_means_verify(certs: Path, value: str) -> None:
    tls = tls_from_env({"DOCKER_TLS_VERIFY": value, "DOCKER_CERT_PATH": str(certs)}, HOME)
    assert tls == TLSConfig(
        ca=str(certs / "ca.pem"),
        cert=str(certs / "cert.pem"),
        key=str(certs / "key.pem"),
        verify=True,
    )


def test_tls_from_env_docker_tls_alone_is_tls_without_verification(certs: Path) -> None:
    tls = tls_from_env({"DOCKER_TLS": "1", "DOCKER_CERT_PATH": str(certs)}, HOME)
    assert tls == TLSConfig(
        ca=None,
        cert=str(certs / "cert.pem"),
        key=str(certs / "key.pem"),
        verify=False,
    )


def test_tls_from_env_cert_path_defaults_to_config_dir(tmp_path: Path) -> None:
    dot_docker = tmp_path / ".docker"
    dot_docker.mkdir()
    (dot_docker / "ca.pem").write_text("x")
    tls = tls_from_env({"DOCKER_TLS_VERIFY": "1"}, str(tmp_path))
    assert tls == TLSConfig(ca=str(dot_docker / "ca.pem"), cert=None, key=None, verify=True)


def test_tls_from_env_cert_path_defaults_to_docker_config(tmp_path: Path) -> None:
    moved = tmp_path / "moved"
    moved.mkdir()
    (moved / "ca.pem").write_text("x")
    tls = tls_from_env({"DOCKER_TLS_VERIFY": "1", "DOCKER_CONFIG": str(moved)}, "/nonexistent")
    assert tls is not None and tls.ca == str(moved / "ca.pem")


def test_tls_from_env_missing_ca_with_verify_raises_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(DockerContextTLSError) as info:
        tls_from_env({"DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": str(tmp_path)}, HOME)
    assert str(tmp_path / "ca.pem") in info.value.message


def test_tls_from_env_leaves_out_missing_cert_and_key(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("x")
    (tmp_path / "key.pem").write_text("x")
    tls = tls_from_env({"DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": str(tmp_path)}, HOME)
    assert tls is not None
    assert (tls.cert, tls.key) == (None, str(tmp_path / "key.pem"))


def test_tls_from_env_applies_to_docker_host_tcp(certs: Path, cfg: Path) -> None:
    env = {"DOCKER_HOST": "tcp://remote", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": str(certs)}
    ep = resolve(env=env, config_dir=cfg)
    assert ep.url == "tcp://remote:2376"
    assert ep.tls is not None and ep.tls.ca == str(certs / "ca.pem") and ep.tls.verify


def test_tls_from_env_applies_to_url_tcp(certs: Path, cfg: Path) -> None:
    env = {"DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": str(certs)}
    ep = resolve("tcp://remote:2376", env=env, config_dir=cfg)
    assert ep.tls is not None and ep.tls.cert == str(certs / "cert.pem")


def test_tls_from_env_replaces_system_cas_for_https(certs: Path, cfg: Path) -> None:
    env = {"DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": str(certs)}
    ep = resolve("https://remote", env=env, config_dir=cfg)
    assert ep.tls is not None and ep.tls.ca == str(certs / "ca.pem")


def test_tls_from_env_is_ignored_for_unix_and_not_even_checked(cfg: Path, tmp_path: Path) -> None:
    env = {
        "DOCKER_HOST": "unix:///s.sock",
        "DOCKER_TLS_VERIFY": "1",
        "DOCKER_CERT_PATH": str(tmp_path / "missing"),
    }
    ep = resolve(env=env, config_dir=cfg)
    assert ep.tls is None


def test_docker_host_tcp_without_tls_env_is_plain(cfg: Path) -> None:
    ep = resolve(env={"DOCKER_HOST": "tcp://remote"}, config_dir=cfg)
    assert (ep.url, ep.tls) == ("tcp://remote:2375", None)


def test_invalid_docker_host_names_the_variable(cfg: Path) -> None:
    with pytest.raises(ValueError, match="DOCKER_HOST"):
        resolve(env={"DOCKER_HOST": "fd://"}, config_dir=cfg)


# --- auto-detection -----------------------------------------------------------------------

LINUX_ORDER_WITH_XDG = [
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/xdg/docker.sock",
    f"{HOME}/.docker/run/docker.sock",
    f"{HOME}/.docker/desktop/docker.sock",
    "/xdg/podman/podman.sock",
    "/run/podman/podman.sock",
]


@pytest.mark.parametrize("index", range(len(LINUX_ORDER_WITH_XDG)))
def test_auto_detection_picks_first_existing_socket_in_order(cfg: Path, index: int) -> None:
    present = set(LINUX_ORDER_WITH_XDG[index:])
    ep = resolve(env={"XDG_RUNTIME_DIR": "/xdg"}, config_dir=cfg, exists=lambda p: p in present)
    assert ep.address == LINUX_ORDER_WITH_XDG[index]
    assert ep.tried == tuple(LINUX_ORDER_WITH_XDG[: index + 1])
    assert (ep.scheme, ep.source, ep.tls) == ("unix", "auto-detect", None)


def test_auto_detection_skips_xdg_paths_when_xdg_runtime_dir_is_unset(cfg: Path) -> None:
    with pytest.raises(ValueError) as info:
        resolve(env={"XDG_RUNTIME_DIR": ""}, config_dir=cfg)
    assert "/xdg" not in str(info.value)
    assert "None" not in str(info.value)


def test_auto_detection_uses_home_not_docker_config(cfg: Path) -> None:
    target = f"{HOME}/.docker/run/docker.sock"
    ep = resolve(env={"DOCKER_CONFIG": str(cfg)}, config_dir=cfg, exists=only(target))
    assert ep.address == target


def test_auto_detection_failure_lists_every_path_and_the_remedy(cfg: Path) -> None:
    with pytest.raises(ValueError) as info:
        resolve(env={"XDG_RUNTIME_DIR": "/xdg"}, config_dir=cfg)
    message = str(info.value)
    for path in LINUX_ORDER_WITH_XDG:
        assert path in message
    assert "DOCKER_HOST" in message and "url" in message


def test_auto_detection_on_darwin_uses_the_socket_list(cfg: Path) -> None:
    target = f"{HOME}/.docker/run/docker.sock"
    ep = resolve(env={}, config_dir=cfg, platform="darwin", exists=only(target))
    assert ep.url == f"unix://{target}"


def test_auto_detection_on_win32_uses_the_docker_engine_pipe(cfg: Path) -> None:
    ep = resolve(env={}, config_dir=cfg, platform="win32", exists=only("//./pipe/docker_engine"))
    assert (ep.scheme, ep.address, ep.url, ep.tried) == (
        "npipe",
        "//./pipe/docker_engine",
        "npipe:////./pipe/docker_engine",
        ("//./pipe/docker_engine",),
    )


def test_auto_detection_on_win32_without_pipe_raises(cfg: Path) -> None:
    with pytest.raises(ValueError, match="docker_engine"):
        resolve(env={}, config_dir=cfg, platform="win32", exists=lambda p: "pipe" not in p)


def test_auto_detection_checks_a_path_only_once(cfg: Path) -> None:
    checked: list[str] = []

    def exists(path: str) -> bool:
        checked.append(path)
        return False

    with pytest.raises(ValueError):
        resolve(env={"XDG_RUNTIME_DIR": "/run"}, config_dir=cfg, exists=exists)
    assert len(checked) == len(set(checked))


# --- representation -----------------------------------------------------------------------


def test_repr_shows_paths_never_key_material(certs: Path, cfg: Path) -> None:
    (certs / "key.pem").write_text("-----BEGIN PRIVATE KEY-----\nSECRETKEYBYTES\n")
    env = {"DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": str(certs)}
    ep = resolve("tcp://h:2376", env=env, config_dir=cfg)
    for text in (repr(ep), str(ep), repr(ep.tls), str(ep.tls)):
        assert "SECRETKEYBYTES" not in text and "PRIVATE KEY" not in text
    assert str(certs / "key.pem") in repr(ep)


def test_endpoint_and_tls_config_are_frozen() -> None:
    ep = parse_host("unix:///s")
    with pytest.raises(AttributeError):
        ep.address = "/other"  # type: ignore[misc]
    tls = TLSConfig(None, None, None)
    with pytest.raises(AttributeError):
        tls.verify = False  # type: ignore[misc]


# --- edges found by mutation testing (issue 27) ----------------------------------------


@pytest.mark.parametrize(
    "how",
    [
        {"context": "default"},
        {"env": {"DOCKER_CONTEXT": "default"}},
        {"config": {"currentContext": "default"}},
    ],
)
def test_the_default_context_auto_detects_on_the_callers_platform(
    cfg: Path, how: dict[str, Any]
) -> None:
    if "config" in how:
        write_config(cfg, how["config"])
    ep = resolve(
        context=how.get("context"),
        env=how.get("env", {}),
        config_dir=cfg,
        platform="win32",
        exists=only("//./pipe/docker_engine"),
    )
    assert (ep.scheme, ep.address, ep.source) == ("npipe", "//./pipe/docker_engine", "auto-detect")


def test_tls_from_the_environment_keeps_the_source_docker_host(cfg: Path, tmp_path: Path) -> None:
    certs = tmp_path / "certs"
    certs.mkdir()
    (certs / "ca.pem").write_text("PEM PLACEHOLDER\n")
    env = {
        "DOCKER_HOST": "tcp://h.example:2376",
        "DOCKER_TLS_VERIFY": "1",
        "DOCKER_CERT_PATH": str(certs),
    }
    ep = resolve(env=env, config_dir=cfg)
    assert ep.tls is not None
    assert ep.source == "DOCKER_HOST"


def test_parse_host_keeps_source_and_context_name_for_every_scheme() -> None:
    for host in ("unix:///s.sock", "npipe:////./pipe/x", "tcp://h:1", "https://h:1", "ssh://u@h"):
        ep = parse_host(host, source="context", context_name="ctx")
        assert (ep.source, ep.context_name) == ("context", "ctx"), host
    with pytest.raises(ValueError) as caught:
        parse_host("tcp://h:1", source="nowhere")
    assert str(caught.value) == (
        "unknown endpoint source 'nowhere'; expected one of ['DOCKER_CONTEXT', 'DOCKER_HOST', "
        "'auto-detect', 'context', 'currentContext', 'url']"
    )


def test_ssh_urls_exact_errors_and_trailing_slash() -> None:
    assert parse_host("ssh://u@h.example/").address == "ssh://u@h.example"
    with pytest.raises(ValueError, match=r"ssh URL has an empty user"):
        parse_host("ssh://@h.example")
    with pytest.raises(ValueError, match=r"a path after the host \('/x'\) is not supported"):
        parse_host("ssh://u@h.example/x")
    with pytest.raises(ValueError, match=r"never put credentials in URLs \(use ssh keys"):
        parse_host("ssh://u:pw@h.example")


def test_auto_detect_error_lists_every_path_tried() -> None:
    with pytest.raises(ValueError) as caught:
        resolve(env={}, exists=nothing_exists)
    assert "tried: /var/run/docker.sock, /run/docker.sock, " in str(caught.value)


def test_context_errors_name_the_context_and_what_is_wrong(cfg: Path) -> None:
    write_context(cfg, "broken", meta={"Name": "broken", "Endpoints": {}})
    with pytest.raises(
        DockerContextInvalidError,
        match=r"'broken' at .* has no docker endpoint \(context: broken\)$",
    ):
        resolve(context="broken", config_dir=cfg)
    tls_dir = write_context(cfg, "tls", tls_files=("ca.pem",))
    (tls_dir / "cert.pem").mkdir()  # exists but cannot be read as a file
    with pytest.raises(DockerContextTLSError, match=r"cert.pem' of docker context 'tls': "):
        resolve(context="tls", config_dir=cfg)


@pytest.mark.parametrize(
    ("host", "shown"),
    [
        ("ftp://u:pw@h/p", "ftp://u:***@h/p"),
        ("ftp://a:b@c:d@h/x", "ftp://a:***@h/x"),  # the last @ ends the user info
        ("ftp://u:pw@h/p@q", "ftp://u:***@h/p@q"),  # an @ in the path is not user info
        ("ftp://u:pw@h/a://b", "ftp://u:***@h/a://b"),
        ("ftp://u@h", "ftp://u@h"),  # no password: nothing to hide
    ],
)
def test_unsupported_host_error_hides_the_password(host: str, shown: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_host(host)
    assert f"unsupported docker host {shown!r} (from url)" in caught.value.__notes__[0]


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("unix:///tmp/X", "/tmp/X"),
        ("unix:///tmp/s.sock//", "/tmp/s.sock"),
        ("unix:////", "/"),
        ("unix://", "/var/run/docker.sock"),
        ("npipe://\\\\.\\pipe\\docker_engine", "//./pipe/docker_engine"),
        ("npipe:////./pipe/X/", "//./pipe/X"),
        ("ssh://u@boX", "ssh://u@boX"),
    ],
)
def test_socket_paths_are_normalised_as_the_cli_does(host: str, address: str) -> None:
    assert parse_host(host).address == address


@pytest.mark.parametrize(
    ("host", "message"),
    [
        ("unix:///a\x00b", r"unix socket path '/a\\x00b' \(from url\) contains a NUL byte"),
        ("ssh://h:99999", r"invalid docker host 'ssh://h:99999' \(from url\): "),
        ("ssh://", r"docker host 'ssh://' \(from url\): ssh URL has no host"),
        ("ssh://h:0", r"docker host 'ssh://h:0' \(from url\): port 0 is not valid"),
        ("ssh://h/x", r"docker host 'ssh://h/x' \(from url\): a path after the host"),
        (
            "ssh://u:pw@h",
            r"^docker host 'ssh://u:\*\*\*@h' \(from url\): a password in an ssh URL is not",
        ),
    ],
)
def test_bad_hosts_are_named_with_their_source(host: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_host(host)
    assert parse_host("ssh://h:1").url == "ssh://h:1"


def test_docker_host_tls_defaults_to_the_certs_in_home(cfg: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".docker").mkdir(parents=True)
    (home / ".docker" / "ca.pem").write_text("PEM PLACEHOLDER\n")
    env = {"DOCKER_HOST": "tcp://h.example:2376", "DOCKER_TLS_VERIFY": "1"}
    ep = resolve(env=env, config_dir=cfg, home=str(home))
    assert ep.tls is not None and ep.tls.ca == str(home / ".docker" / "ca.pem")


def test_auto_detect_error_starts_with_what_it_looked_for() -> None:
    with pytest.raises(ValueError, match="^cannot find a Docker daemon socket; tried: /var/run"):
        resolve(env={}, exists=nothing_exists)


@pytest.mark.parametrize(
    ("host", "message"),
    [
        (
            "tcp://u@h:1",
            r"^docker host 'tcp://u@h:1' \(from url\): credentials in a tcp URL are not "
            r"supported; never put credentials in URLs$",
        ),
        (
            "tcp://h:1/x",
            r"^docker host 'tcp://h:1/x' \(from url\): a path after the host:port \('/x'\) is not",
        ),
        ("tcp://h:99999", r"^invalid docker host 'tcp://h:99999' \(from url\): "),
    ],
)
def test_bad_tcp_hosts_are_named_with_their_source(host: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_host(host)


def test_context_tls_needs_a_file_or_skip_verify(cfg: Path) -> None:
    write_context(cfg, "plain", skip_verify=None, meta=None)
    assert resolve(context="plain", config_dir=cfg).tls is None
    write_context(
        cfg,
        "nullskip",
        meta={
            "Name": "nullskip",
            "Endpoints": {"docker": {"Host": "tcp://h:1", "SkipTLSVerify": None}},
        },
    )
    assert resolve(context="nullskip", config_dir=cfg).tls is None
    write_context(cfg, "certonly", tls_files=("cert.pem",))
    tls = resolve(context="certonly", config_dir=cfg).tls
    assert tls is not None and tls.cert is not None and tls.ca is None and tls.verify
    write_context(cfg, "skip", skip_verify=True)
    tls = resolve(context="skip", config_dir=cfg).tls
    assert tls is not None and not tls.verify
