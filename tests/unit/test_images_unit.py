"""Unit tests of docker.images against a fake daemon: what goes on the wire, local errors."""

from __future__ import annotations

import asyncio
import base64
import gzip
import inspect
import io
import json
import os
import stat
import tarfile
import warnings
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

import aiodocker
from aiodocker.exceptions import (
    DockerError,
    DockerNotFoundError,
    DockerStreamError,
    DockerTruncatedStreamError,
)
from aiodocker.images import BuildOptions, DockerImages, registry_auth_header
from tests import fakedaemon_fixtures
from tests.fakedaemon import FakeDaemon, Request, chunked, http_response

# the shared fake-daemon fixtures (clean_env is autouse)
clean_env = fakedaemon_fixtures.clean_env
daemon = fakedaemon_fixtures.daemon
docker = fakedaemon_fixtures.docker
routes = fakedaemon_fixtures.routes

PULL_OK = [
    {"status": "Pulling from x", "id": "latest"},
    {"status": "Status: Downloaded newer image for x:latest"},
]


def json_lines(items: list[Any]) -> bytes:
    return b"".join(json.dumps(item).encode() + b"\n" for item in items)


def streamed(items: list[Any], *, end: bool = True) -> bytes:
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    return head + chunked(json_lines(items), end=end)


def query(request: Request) -> dict[str, list[str]]:
    return parse_qs(urlsplit(request.target).query, keep_blank_values=True)


def path_of(request: Request) -> str:
    return urlsplit(request.target).path


def decode_header(value: str) -> dict[str, Any]:
    return json.loads(base64.urlsafe_b64decode(value))


Handler = Callable[[Request], bytes | None]


def last(daemon: FakeDaemon, suffix: str) -> Request:
    return [r for r in daemon.requests if path_of(r).endswith(suffix)][-1]


def write_config(config_dir: Path, config: dict[str, Any]) -> None:
    (config_dir / "config.json").write_text(json.dumps(config))


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# --- pull --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "tag", "sent_tag"),
    [
        ("busybox", None, ["latest"]),
        ("busybox:1.36", None, None),
        ("busybox@sha256:" + "a" * 64, None, None),
        ("busybox", "", None),
        ("busybox", "musl", ["musl"]),
        ("127.0.0.1:5000/x", None, ["latest"]),
    ],
)
async def test_pull_defaults_tag_to_latest_only_without_tag_or_digest(
    docker: aiodocker.Docker,
    daemon: FakeDaemon,
    routes: dict[str, Handler],
    ref: str,
    tag: str | None,
    sent_tag: list[str] | None,
) -> None:
    routes["/images/create"] = lambda r: streamed(PULL_OK)
    await docker.images.pull(ref, tag=tag)
    sent = query(last(daemon, "/images/create"))
    assert sent["fromImage"] == [ref]
    assert sent.get("tag") == sent_tag


async def test_pull_without_auth_or_config_sends_no_registry_auth(
    docker: aiodocker.Docker, daemon: FakeDaemon, routes: dict[str, Handler]
) -> None:
    routes["/images/create"] = lambda r: streamed(PULL_OK)
    await docker.images.pull("busybox")
    assert "x-registry-auth" not in last(daemon, "/images/create").headers


async def test_pull_explicit_dict_auth_gets_the_registry_as_serveraddress(
    docker: aiodocker.Docker, daemon: FakeDaemon, routes: dict[str, Handler]
) -> None:
    routes["/images/create"] = lambda r: streamed(PULL_OK)
    await docker.images.pull("reg.example:5000/x", auth={"username": "u", "password": "p"})
    header = decode_header(last(daemon, "/images/create").headers["x-registry-auth"])
    assert header == {"username": "u", "password": "p", "serveraddress": "reg.example:5000"}


async def test_pull_explicit_base64_auth_is_decoded_into_user_and_password(
    docker: aiodocker.Docker, daemon: FakeDaemon, routes: dict[str, Handler]
) -> None:
    routes["/images/create"] = lambda r: streamed(PULL_OK)
    await docker.images.pull("reg.example/x:1", auth=b64("u:p"))
    header = decode_header(last(daemon, "/images/create").headers["x-registry-auth"])
    assert header["username"] == "u" and header["password"] == "p"


async def test_pull_with_auth_but_no_registry_host_raises_value_error(
    docker: aiodocker.Docker, daemon: FakeDaemon
) -> None:
    with pytest.raises(ValueError, match="registry host"):
        docker.images.pull("busybox", auth={"username": "u", "password": "p"})
    assert daemon.requests == []


@pytest.mark.parametrize("ref", ["library/Upper", "busybox:bad tag", "x@sha256:0123456789abcdef"])
async def test_pull_sends_a_reference_it_cannot_parse_and_the_daemon_judges_it(
    docker: aiodocker.Docker, daemon: FakeDaemon, routes: dict[str, Handler], ref: str
) -> None:
    """0.27 refuses no reference locally: the daemon's error is what the caller gets."""
    routes["/images/create"] = lambda r: http_response(
        400, {"message": "invalid reference format"}, reason="Bad Request"
    )
    with pytest.raises(DockerError) as info:
        await docker.images.pull(ref)
    assert info.value.status == 400 and info.value.message == "invalid reference format"
    assert query(last(daemon, "/images/create"))["fromImage"] == [ref]


async def test_pull_uses_auths_from_config_json_at_call_time(
    docker: aiodocker.Docker,
    daemon: FakeDaemon,
    routes: dict[str, Handler],
    clean_env: Path,
) -> None:
    routes["/images/create"] = lambda r: streamed(PULL_OK)
    await docker.images.pull("reg.example:5000/x")
    assert "x-registry-auth" not in last(daemon, "/images/create").headers
    write_config(clean_env, {"auths": {"reg.example:5000": {"auth": b64("cfguser:cfgpass")}}})
    await docker.images.pull("reg.example:5000/x")
    header = decode_header(last(daemon, "/images/create").headers["x-registry-auth"])
    assert header["username"] == "cfguser"
    assert header["password"] == "cfgpass"
    assert header["serveraddress"] == "reg.example:5000"


async def test_pull_stream_error_raises_docker_stream_error_with_detail(
    docker: aiodocker.Docker, routes: dict[str, Handler]
) -> None:
    detail = {"message": "manifest unknown"}
    routes["/images/create"] = lambda r: streamed(
        [PULL_OK[0], {"errorDetail": detail, "error": "manifest unknown"}]
    )
    with pytest.raises(DockerStreamError) as info:
        await docker.images.pull("busybox")
    assert info.value.error_detail == detail


async def test_pull_stream_cut_before_its_end_raises(
    docker: aiodocker.Docker, daemon: FakeDaemon, routes: dict[str, Handler]
) -> None:
    def cut(request: Request) -> bytes:
        # send whole JSON lines but no chunked terminator, then drop the connection
        loop = asyncio.get_running_loop()
        for writer in list(daemon.open_writers):
            loop.call_later(0.05, writer.close)
        return streamed(PULL_OK, end=False)

    routes["/images/create"] = cut
    with pytest.raises(DockerTruncatedStreamError):
        await docker.images.pull("busybox")


async def test_pull_cut_inside_a_json_value_raises_truncated_stream_error(
    docker: aiodocker.Docker, routes: dict[str, Handler]
) -> None:
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    routes["/images/create"] = lambda r: head + chunked(b'{"status": "Pulling fs', end=True)
    with pytest.raises(DockerTruncatedStreamError):
        await docker.images.pull("busybox")


async def test_pull_ending_without_confirmation_checks_that_the_image_exists(
    docker: aiodocker.Docker, daemon: FakeDaemon, routes: dict[str, Handler]
) -> None:
    routes["/images/create"] = lambda r: streamed(PULL_OK[:1])
    routes["/json"] = lambda r: http_response(404, {"message": "No such image: busybox:latest"})
    with pytest.raises(DockerStreamError, match="busybox:latest"):
        await docker.images.pull("busybox")
    assert path_of(last(daemon, "/json")) == "/v1.41/images/busybox%3Alatest/json"
    routes["/json"] = lambda r: http_response(200, {"Id": "sha256:x"})
    assert await docker.images.pull("busybox") == PULL_OK[:1]


async def test_pull_stream_true_yields_items_lazily(
    docker: aiodocker.Docker, daemon: FakeDaemon, routes: dict[str, Handler]
) -> None:
    routes["/images/create"] = lambda r: streamed(PULL_OK)
    stream = docker.images.pull("busybox", stream=True)
    assert not any(path_of(r).endswith("/images/create") for r in daemon.requests)
    items = [item async for item in stream]
    assert items == PULL_OK


async def test_refused_login_error_names_registry_and_hides_the_password(
    docker: aiodocker.Docker, routes: dict[str, Handler]
) -> None:
    routes["/images/create"] = lambda r: http_response(
        500, {"message": "unauthorized: authentication required"}
    )
    with pytest.raises(DockerError) as info:
        await docker.images.pull("reg.example:5000/x", auth={"username": "u", "password": "s3cr3t"})
    assert info.value.message == "unauthorized: authentication required"  # the daemon's words
    hint = info.value.hint or ""
    assert "reg.example:5000" in hint and "auth=" in hint
    assert "s3cr3t" not in str(info.value) + repr(info.value) + hint
    assert info.value.status == 500


# --- push --------------------------------------------------------------------------------


async def test_anonymous_push_still_sends_an_empty_registry_auth(
    docker: aiodocker.Docker, daemon: FakeDaemon, routes: dict[str, Handler]
) -> None:
    routes["/push"] = lambda r: streamed([{"status": "Pushed", "id": "a"}])
    await docker.images.push("reg.example/x", tag="v1")
    request = last(daemon, "/push")
    assert path_of(request) == "/v1.41/images/reg.example%2Fx/push"
    assert query(request) == {"tag": ["v1"]}
    assert decode_header(request.headers["x-registry-auth"]) == {}


async def test_push_uses_a_credential_helper_from_config(
    docker: aiodocker.Docker,
    daemon: FakeDaemon,
    routes: dict[str, Handler],
    clean_env: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    helper = bin_dir / "docker-credential-unittest"
    helper.write_text(
        "#!/bin/sh\nread server\n"
        'printf \'{"ServerURL":"%s","Username":"helperuser","Secret":"helpersecret"}\' "$server"\n'
    )
    helper.chmod(helper.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    write_config(clean_env, {"credHelpers": {"reg.example": "unittest"}})
    routes["/push"] = lambda r: streamed([{"status": "Pushed", "id": "a"}])
    await docker.images.push("reg.example/x:v1")
    header = decode_header(last(daemon, "/push").headers["x-registry-auth"])
    assert header == {
        "username": "helperuser",
        "password": "helpersecret",
        "serveraddress": "reg.example",
    }
    assert await registry_auth_header(docker, "reg.example/y") is not None
    assert await registry_auth_header(docker, "other.example/y") is None


async def test_push_in_band_error_raises_stream_error(
    docker: aiodocker.Docker, routes: dict[str, Handler]
) -> None:
    routes["/push"] = lambda r: streamed(
        [{"errorDetail": {"message": "denied"}, "error": "denied"}]
    )
    with pytest.raises(DockerStreamError, match="denied"):
        await docker.images.push("reg.example/x")


# --- build -------------------------------------------------------------------------------


def test_build_options_are_the_keywords_of_build_but_stream_with_their_annotations() -> None:
    # the typed overloads take **Unpack[BuildOptions]: a keyword added to build() but
    # not to BuildOptions (or typed differently) would be refused or mistyped by mypy
    params = inspect.signature(DockerImages.build).parameters
    keywords = {name: p.annotation for name, p in params.items() if name not in ("self", "stream")}
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params.values() if p.name != "self")
    assert BuildOptions.__optional_keys__ == frozenset(keywords)
    declared = {  # TypedDict keeps string annotations as ForwardRefs
        name: getattr(annotation, "__forward_arg__", annotation)
        for name, annotation in BuildOptions.__annotations__.items()
    }
    assert declared == keywords


async def test_build_argument_errors_raise_value_error_before_any_request(
    docker: aiodocker.Docker, daemon: FakeDaemon, tmp_path: Path
) -> None:
    images = docker.images
    with pytest.raises(ValueError) as info:
        images.build()
    assert info.value.args == ("You need to specify either remote or fileobj",)  # 0.27's words
    with pytest.raises(ValueError) as info:
        images.build(remote="http://x/Dockerfile", fileobj=io.BytesIO(b""), encoding="gzip")
    assert info.value.args == ("You cannot specify both fileobj and remote",)
    with pytest.raises(ValueError, match="more than one"):
        images.build(remote="http://x/Dockerfile", path=tmp_path)
    with pytest.raises(ValueError, match="encoding"):
        images.build(fileobj=io.BytesIO(b""))
    with pytest.raises(ValueError, match="does not exist"):
        images.build(path=tmp_path / "missing")
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    with pytest.raises(ValueError, match="encoding"):
        images.build(path=tmp_path, encoding="gzip")
    with pytest.raises(TypeError, match="fileobj"):
        images.build(fileobj=12, encoding="gzip")
    assert daemon.requests == []


async def test_build_sends_repeated_tags_and_hosts_and_json_args(
    docker: aiodocker.Docker, daemon: FakeDaemon, routes: dict[str, Handler]
) -> None:
    routes["/build"] = lambda r: streamed([{"stream": "Successfully built abc\n"}])
    context = io.BytesIO(gzip.compress(b"tar"))
    await docker.images.build(
        fileobj=context,
        encoding="gzip",
        tag=["a:1", "b:2"],
        buildargs={"X": "1"},
        labels={"l": "v"},
        extra_hosts={"h1": "10.0.0.1", "h2": "10.0.0.2"},
        cache_from=["a:0"],
        network_mode="none",
        target="stage",
        shm_size=1024,
        path_dockerfile="sub/Dockerfile",
    )
    request = last(daemon, "/build")
    sent = query(request)
    assert sent["t"] == ["a:1", "b:2"]
    assert sent["extrahosts"] == ["h1:10.0.0.1", "h2:10.0.0.2"]
    assert json.loads(sent["buildargs"][0]) == {"X": "1"}
    assert json.loads(sent["labels"][0]) == {"l": "v"}
    assert json.loads(sent["cachefrom"][0]) == ["a:0"]
    assert sent["networkmode"] == ["none"]
    assert sent["target"] == ["stage"]
    assert sent["shmsize"] == ["1024"]
    assert sent["dockerfile"] == ["sub/Dockerfile"]
    assert sent["rm"] == ["1"] and sent["q"] == ["0"]
    assert request.headers["content-type"] == "application/x-tar"
    assert request.headers["content-encoding"] == "gzip"
    assert request.headers["transfer-encoding"] == "chunked"
    assert request.body == context.getvalue()
    assert "x-registry-config" not in request.headers


async def test_build_from_path_streams_the_context_and_sends_registry_config(
    docker: aiodocker.Docker,
    daemon: FakeDaemon,
    routes: dict[str, Handler],
    clean_env: Path,
    tmp_path: Path,
) -> None:
    write_config(clean_env, {"auths": {"reg.example": {"auth": b64("u:p")}}})
    context = tmp_path / "ctx"
    context.mkdir()
    (context / "dockerfile").write_text("FROM scratch\n")
    (context / "keep.txt").write_text("keep")
    (context / "skip.log").write_text("skip")
    (context / ".dockerignore").write_text("*.log\n")
    routes["/build"] = lambda r: streamed([{"stream": "Successfully built abc\n"}])
    await docker.images.build(path=context)
    request = last(daemon, "/build")
    assert query(request)["dockerfile"] == ["dockerfile"]
    with tarfile.open(fileobj=io.BytesIO(request.body)) as tar:
        names = sorted(tar.getnames())
    assert names == [".dockerignore", "dockerfile", "keep.txt"]
    config = decode_header(request.headers["x-registry-config"])
    assert config["reg.example"]["username"] == "u"


async def test_build_failure_in_stream_raises_stream_error(
    docker: aiodocker.Docker, routes: dict[str, Handler]
) -> None:
    detail = {"code": 3, "message": "The command '/bin/sh -c exit 3' returned a non-zero code: 3"}
    routes["/build"] = lambda r: streamed(
        [{"stream": "Step 1/2\n"}, {"errorDetail": detail, "error": detail["message"]}]
    )
    with pytest.raises(DockerStreamError) as info:
        await docker.images.build(remote="http://example/Dockerfile")
    assert info.value.error_detail == detail


# --- other endpoints ---------------------------------------------------------------------


async def test_list_with_str_filters_warns_and_mapping_filters_are_encoded(
    docker: aiodocker.Docker, daemon: FakeDaemon, routes: dict[str, Handler]
) -> None:
    routes["/images/json"] = lambda r: http_response(200, [])
    with pytest.warns(DeprecationWarning, match="filters"):
        await docker.images.list(filters='{"dangling": ["true"]}')
    assert query(last(daemon, "/images/json"))["filters"] == ['{"dangling": ["true"]}']
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        await docker.images.list(filters={"dangling": True, "label": "a=b"}, all=True)
    sent = query(last(daemon, "/images/json"))
    assert json.loads(sent["filters"][0]) == {"dangling": ["true"], "label": ["a=b"]}
    assert sent["all"] == ["1"]


async def test_get_is_a_deprecated_alias_of_inspect(
    docker: aiodocker.Docker, routes: dict[str, Handler]
) -> None:
    routes["/json"] = lambda r: http_response(200, {"Id": "sha256:x"})
    with pytest.warns(DeprecationWarning):
        assert await docker.images.get("x") == {"Id": "sha256:x"}


async def test_image_names_cannot_escape_their_path_segment(
    docker: aiodocker.Docker, daemon: FakeDaemon, routes: dict[str, Handler]
) -> None:
    routes["/json"] = lambda r: http_response(404, {"message": "No such image"})
    with pytest.raises(DockerNotFoundError):
        await docker.images.inspect("../containers/x")
    assert path_of(last(daemon, "/json")) == "/v1.41/images/..%2Fcontainers%2Fx/json"


async def test_save_of_several_names_uses_images_get_with_repeated_names(
    docker: aiodocker.Docker, daemon: FakeDaemon, routes: dict[str, Handler]
) -> None:
    routes["/images/get"] = lambda r: http_response(
        200, b"tarbytes", headers={"Content-Type": "application/x-tar"}
    )
    data = b"".join([chunk async for chunk in docker.images.save(["a:1", "b:2"])])
    assert data == b"tarbytes"
    assert query(last(daemon, "/images/get"))["names"] == ["a:1", "b:2"]
    with pytest.raises(ValueError):
        docker.images.save([])


async def test_import_from_sends_fromsrc_changes_and_the_body(
    docker: aiodocker.Docker, daemon: FakeDaemon, routes: dict[str, Handler], tmp_path: Path
) -> None:
    routes["/images/create"] = lambda r: streamed([{"status": "sha256:abc"}])
    source = tmp_path / "rootfs.tar"
    source.write_bytes(b"x" * 3_000_000)
    result = await docker.images.import_from(
        source,
        repo="imported",
        tag="v1",
        changes=['CMD ["/bin/sh"]', "ENV A=b c"],
        message="hello",
    )
    assert result == [{"status": "sha256:abc"}]
    request = last(daemon, "/images/create")
    sent = query(request)
    assert sent["fromSrc"] == ["-"]
    assert sent["changes"] == ['CMD ["/bin/sh"]', "ENV A=b c"]
    assert sent["repo"] == ["imported"] and sent["tag"] == ["v1"]
    assert sent["message"] == ["hello"]
    assert request.body == source.read_bytes()

    await docker.images.import_from("https://example.com/rootfs.tar", repo="imported")
    request = last(daemon, "/images/create")
    assert query(request)["fromSrc"] == ["https://example.com/rootfs.tar"]
    assert request.body == b""


async def test_import_from_rejects_a_non_url_string_and_tag_without_repo(
    docker: aiodocker.Docker, daemon: FakeDaemon
) -> None:
    with pytest.raises(ValueError, match="URL"):
        docker.images.import_from("/tmp/rootfs.tar")
    with pytest.raises(ValueError, match="repo"):
        docker.images.import_from(b"", tag="v1")
    assert daemon.requests == []


async def test_load_streams_async_iterables_and_reports_in_band_errors(
    docker: aiodocker.Docker, daemon: FakeDaemon, routes: dict[str, Handler]
) -> None:
    async def parts() -> AsyncIterator[bytes]:
        yield b"abc"
        yield b"def"

    routes["/images/load"] = lambda r: streamed(
        [{"errorDetail": {"message": "unexpected EOF"}, "error": "unexpected EOF"}]
    )
    with pytest.raises(DockerStreamError, match="unexpected EOF"):
        await docker.images.import_image(parts())
    request = last(daemon, "/images/load")
    assert request.body == b"abcdef"
    assert request.headers["content-type"] == "application/x-tar"
    assert "quiet" not in query(request)
    routes["/images/load"] = lambda r: streamed([{"stream": "Loaded image: x:1\n"}])
    assert await docker.images.load(b"tar", quiet=False) == [{"stream": "Loaded image: x:1\n"}]
    assert query(last(daemon, "/images/load"))["quiet"] == ["0"]


async def test_prune_builds_maps_reserved_space_to_keep_storage_before_1_48(
    docker: aiodocker.Docker, daemon: FakeDaemon, routes: dict[str, Handler]
) -> None:
    routes["/build/prune"] = lambda r: http_response(200, {"SpaceReclaimed": 0})
    await docker.images.prune_builds(reserved_space=10, all_builds=True, filters={"id": "x"})
    sent = query(last(daemon, "/build/prune"))
    assert sent["keep-storage"] == ["10"]
    assert sent["all"] == ["1"]
    assert json.loads(sent["filters"][0]) == {"id": ["x"]}
    # 0.27 sends the 1.48 options to any daemon and lets it answer: no local refusal
    assert await docker.images.prune_builds(max_used_space=10, min_free_space=20) == {
        "SpaceReclaimed": 0
    }
    sent = query(last(daemon, "/build/prune"))
    assert sent["max-used-space"] == ["10"] and sent["min-free-space"] == ["20"]


async def test_search_sends_resolved_credentials_for_the_term_registry(
    docker: aiodocker.Docker,
    daemon: FakeDaemon,
    routes: dict[str, Handler],
    clean_env: Path,
) -> None:
    write_config(clean_env, {"auths": {"reg.example:5000": {"auth": b64("u:p")}}})
    routes["/images/search"] = lambda r: http_response(200, [{"name": "x"}])
    assert await docker.images.search("reg.example:5000/x", limit=3) == [{"name": "x"}]
    request = last(daemon, "/images/search")
    assert query(request) == {"term": ["reg.example:5000/x"], "limit": ["3"]}
    assert decode_header(request.headers["x-registry-auth"])["username"] == "u"
    await docker.images.search("busybox")
    assert "x-registry-auth" not in last(daemon, "/images/search").headers
