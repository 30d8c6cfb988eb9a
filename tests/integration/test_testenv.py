"""Check the test environment itself with the docker CLI, curl and ssh.

A broken environment shows up here as plainly failing tests, instead of as
mysterious failures of the client tests.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from testenv import ENV_PATH_VARIABLE, require

ENV_KEYS = {
    "unix_socket",
    "tls_url",
    "tls_cert_path",
    "ssh_url",
    "ssh_config",
    "ssh_host_alias",
    "ssh_identity",
    "ssh_known_hosts",
    "registry",
    "registry_user",
    "registry_password",
    "image",
    "swarm_daemons",
    "api_version",
    "podman_socket",
    "podman_image",
    "podman_api_version",
    "docker26",
    "podman5",
    "compose_bin",
    "buildx_bin",
    "docker26_cli",
}

# the oracles of the tools section of testenv.sh, and what each says of its version
TOOLS = {
    "compose_bin": (["version"], "Docker Compose version v2.40.3"),
    "buildx_bin": (["version"], "github.com/docker/buildx 0.13.1"),
    "docker26_cli": (["--version"], "Docker version 26.1.5"),
}


def run(
    *args: str, stdin: bytes | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[bytes]:
    """Run a command, capturing its output (never raises on a non-zero exit)."""
    return subprocess.run(
        list(args), input=stdin, capture_output=True, timeout=timeout, check=False
    )


def tls_options(testenv: dict[str, Any]) -> list[str]:
    cert_path = Path(testenv["tls_cert_path"])
    return [
        "--cacert", str(cert_path / "ca.pem"),
        "--cert", str(cert_path / "cert.pem"),
        "--key", str(cert_path / "key.pem"),
    ]  # fmt: skip


def https_base(testenv: dict[str, Any]) -> str:
    address = urlsplit(testenv["tls_url"])
    return f"https://{address.hostname}:{address.port}"


def test_env_json_names_exactly_the_documented_components(testenv: dict[str, Any]) -> None:
    assert set(testenv) == ENV_KEYS


def test_unix_socket_answers_ping(testenv: dict[str, Any]) -> None:
    result = run("curl", "-sf", "--unix-socket", testenv["unix_socket"], "http://localhost/_ping")
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"OK"


def test_api_version_in_env_json_is_the_daemons(testenv: dict[str, Any]) -> None:
    result = run("curl", "-sf", "--unix-socket", testenv["unix_socket"], "http://localhost/version")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["ApiVersion"] == testenv["api_version"]


def test_tls_port_answers_ping_with_client_certificate(testenv: dict[str, Any]) -> None:
    require("tls")
    result = run("curl", "-sf", *tls_options(testenv), f"{https_base(testenv)}/_ping")
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"OK"


def test_tls_port_refuses_client_without_certificate(testenv: dict[str, Any]) -> None:
    require("tls")
    ca = str(Path(testenv["tls_cert_path"]) / "ca.pem")
    result = run("curl", "-sf", "--cacert", ca, f"{https_base(testenv)}/_ping")
    assert result.returncode != 0
    assert result.stdout != b"OK"


def test_docker_cli_reaches_daemon_over_tls(testenv: dict[str, Any]) -> None:
    require("tls")
    cert_path = Path(testenv["tls_cert_path"])
    result = run(
        "docker", "-H", testenv["tls_url"], "--tlsverify",
        "--tlscacert", str(cert_path / "ca.pem"),
        "--tlscert", str(cert_path / "cert.pem"),
        "--tlskey", str(cert_path / "key.pem"),
        "version", "--format", "{{.Server.APIVersion}}",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().strip() == testenv["api_version"]


def test_image_runs_a_container(testenv: dict[str, Any], image: str) -> None:
    host = f"unix://{testenv['unix_socket']}"
    result = run("docker", "-H", host, "run", "--rm", image, "echo", "ok")
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"ok\n"


def registry_status(testenv: dict[str, Any], *auth: str) -> str:
    result = run(
        "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", *auth,
        f"http://{testenv['registry']}/v2/",
    )  # fmt: skip
    return result.stdout.decode()


def test_registry_answers_only_with_credentials(testenv: dict[str, Any]) -> None:
    require("registry")
    credentials = f"{testenv['registry_user']}:{testenv['registry_password']}"
    assert registry_status(testenv) == "401"
    assert registry_status(testenv, "-u", credentials) == "200"
    assert registry_status(testenv, "-u", f"{testenv['registry_user']}:wrong") == "401"


def test_ssh_dial_stdio_reaches_daemon(testenv: dict[str, Any]) -> None:
    require("ssh")
    result = run(
        "ssh", "-F", testenv["ssh_config"], testenv["ssh_host_alias"],
        "docker", "system", "dial-stdio",
        stdin=b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.split(b"\r\n", 1)[0].endswith(b" 200 OK")
    assert result.stdout.endswith(b"\r\n\r\nOK")


def test_ssh_url_with_identity_and_known_hosts_reaches_host(testenv: dict[str, Any]) -> None:
    require("ssh")
    url = urlsplit(testenv["ssh_url"])
    assert url.username and url.hostname and url.port
    result = run(
        "ssh", "-F", "/dev/null", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
        "-o", "StrictHostKeyChecking=yes",
        "-o", f"UserKnownHostsFile={testenv['ssh_known_hosts']}",
        "-i", testenv["ssh_identity"], "-p", str(url.port),
        f"{url.username}@{url.hostname}", "echo", "ok",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"ok\n"


def test_swarm_daemons_run_the_test_image(testenv: dict[str, Any], image: str) -> None:
    daemons = require("swarm_daemons")
    # two per swarm engine, each at its own address
    assert sorted(daemon["engine"] for daemon in daemons) == ["docker20"] * 2 + ["docker26"] * 2
    assert len({daemon["addr"] for daemon in daemons}) == 4
    for daemon in daemons:
        host = f"unix://{daemon['socket']}"
        result = run("docker", "-H", host, "version", "--format", "{{.Server.APIVersion}}")
        assert result.stdout == {"docker20": b"1.41\n", "docker26": b"1.45\n"}[daemon["engine"]]
        result = run("docker", "-H", host, "run", "--rm", image, "echo", "ok")
        assert result.returncode == 0, result.stderr
        assert result.stdout == b"ok\n"


def test_docker26_is_docker_26_with_api_1_45(testenv: dict[str, Any]) -> None:
    engine = require("docker26")
    result = run("curl", "-sf", "--unix-socket", engine["socket"], "http://localhost/version")
    assert result.returncode == 0, result.stderr
    version = json.loads(result.stdout)
    assert version["Version"].startswith(engine["version"])
    assert version["ApiVersion"] == engine["api_version"] == "1.45"
    assert engine["host"] == f"unix://{engine['socket']}"


def test_docker26_runs_a_bridged_container(testenv: dict[str, Any], image: str) -> None:
    engine = require("docker26")
    result = run(
        "docker", "-H", engine["host"], "run", "--rm", image,
        "sh", "-c", "ip -4 addr show eth0 | grep -o 'inet [0-9.]*'",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(b"inet 10.232.0.")


@pytest.mark.parametrize("name", ["docker26", "podman5"])
def test_a_netns_engine_reaches_the_registry_under_its_usual_name(
    testenv: dict[str, Any], name: str
) -> None:
    engine = require(name)
    require("registry")
    result = run(
        "nsenter", f"--net=/run/netns/{engine['netns']}",
        "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
        "-u", f"{testenv['registry_user']}:{testenv['registry_password']}",
        f"http://{testenv['registry']}/v2/",
    )  # fmt: skip
    assert result.stdout == b"200", result.stderr


def test_podman5_is_podman_5_from_the_chroot(testenv: dict[str, Any]) -> None:
    engine = require("podman5")
    result = run("curl", "-sf", "--unix-socket", engine["socket"], "http://localhost/version")
    assert result.returncode == 0, result.stderr
    version = json.loads(result.stdout)
    assert version["Version"].startswith("5.")
    assert version["ApiVersion"] == engine["api_version"]
    assert engine["host"] == f"unix://{engine['socket']}"


def test_podman5_runs_a_bridged_container_with_the_ulimits_set(testenv: dict[str, Any]) -> None:
    engine = require("podman5")
    result = run(
        "docker", "-H", engine["host"], "run", "--rm", engine["image"],
        "sh", "-c", "ulimit -n; ip -4 addr show eth0 | grep -o 'inet [0-9.]*'",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(b"10000\ninet 10.88."), result.stdout


def test_podman5_containers_write_to_their_own_overlay_not_the_hosts_root(
    testenv: dict[str, Any],
) -> None:
    engine = require("podman5")
    marker = f"aiodocker-podman5-{uuid.uuid4().hex}"
    result = run(
        "docker", "-H", engine["host"], "run", "--rm", engine["image"],
        "sh", "-c", f"touch /{marker} && grep -c '^overlay / ' /proc/mounts",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"1\n"
    assert not Path("/", marker).exists()


# -- the helpers of tests/testenv.py (no daemon needed) ---------------------------


def write_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, Any]) -> None:
    path = tmp_path / "env.json"
    path.write_text(json.dumps(env))
    monkeypatch.setenv(ENV_PATH_VARIABLE, str(path))


def test_require_skips_outside_ci_when_env_json_is_absent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_PATH_VARIABLE, str(tmp_path / "absent.json"))
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="'registry'"):
        require("registry")


def test_require_fails_in_ci_when_component_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_env(tmp_path, monkeypatch, {"swarm_daemons": []})
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="'swarm'"):
        require("swarm")


def test_require_returns_the_entry_of_a_present_component(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_env(tmp_path, monkeypatch, {"registry": "127.0.0.1:5000"})
    assert require("registry") == "127.0.0.1:5000"


@pytest.mark.parametrize("key", sorted(TOOLS))
def test_oracle_tool_runs_at_its_pinned_version(key: str) -> None:
    binary = require(key)
    args, expected = TOOLS[key]
    result = run(binary, *args)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    assert result.stdout.decode().startswith(expected), result.stdout
