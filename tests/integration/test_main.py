"""``python -m aiodocker``: the diagnostics report and the pull command."""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys

import pytest
from helpers import clean_client_env  # noqa: F401 (the fixture is autouse)

from aiodocker.__main__ import main


def run_main(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_json_report_names_endpoint_rule_transport_and_daemon(testenv, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{testenv['unix_socket']}")
    code, out, _ = run_main("--json")
    assert code == 0
    report = json.loads(out)
    assert report["endpoint"] == f"unix://{testenv['unix_socket']}"
    assert report["source"] == "DOCKER_HOST"
    assert report["transport"] == "unix" and report["tls"] is False
    assert report["api_version"] == "v" + testenv["api_version"]
    assert report["daemon_api_version"] == testenv["api_version"]
    assert report["os"] == "linux"
    assert isinstance(report["containers"], int) and report["images"] >= 1


def test_text_report_over_mutual_tls_says_tls_and_verify(testenv, monkeypatch):
    monkeypatch.setenv("DOCKER_TLS_VERIFY", "1")
    monkeypatch.setenv("DOCKER_CERT_PATH", testenv["tls_cert_path"])
    code, out, _ = run_main("-H", testenv["tls_url"])
    assert code == 0
    lines = dict(line.split(None, 1) if " " in line else (line, "") for line in out.splitlines())
    assert "Chosen by       url" in out
    assert "TLS             yes" in out and "TLS verify      yes" in out
    assert lines["Transport"].strip() == "tcp"


def test_unreachable_daemon_exits_one_naming_the_address_and_rule(tmp_path):
    missing = tmp_path / "missing.sock"
    code, out, err = run_main("-H", f"unix://{missing}")
    assert code == 1 and out == ""
    assert str(missing) in err and "chosen by url" in err


@pytest.mark.parametrize("command", [[], ["pull", "alpine"], ["build", "."]])
def test_a_missing_context_is_reported_not_replaced(tmp_path, monkeypatch, command):
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    code, out, err = run_main("--context", "nowhere", *command)
    assert code == 1 and out == ""
    assert err.startswith("error: cannot choose a Docker daemon: ") and "nowhere" in err


def test_module_runs_as_a_script(testenv):
    completed = subprocess.run(
        [sys.executable, "-m", "aiodocker", "--json", "-H", f"unix://{testenv['unix_socket']}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["source"] == "url"


async def _push_private_image(docker, testenv, name: str) -> str:
    auth = {
        "username": testenv["registry_user"],
        "password": testenv["registry_password"],
        "serveraddress": testenv["registry"],
    }
    ref = f"{testenv['registry']}/{name}:v1"
    repo, tag = ref.rsplit(":", 1)
    await docker.images.tag(testenv["image"], repo, tag=tag)
    await docker.images.push(ref, auth=auth)
    await docker.images.delete(ref)
    return ref


@pytest.mark.engine_difference(("podman", "podman5"), "podman's pull/push progress lines differ from Docker's")
async def test_pull_command_prints_progress_lines_and_uses_config_credentials(
    docker, engine, testenv, make_name, tmp_path, monkeypatch
):
    ref = await _push_private_image(docker, testenv, make_name("cli-pull"))
    token = base64.b64encode(
        f"{testenv['registry_user']}:{testenv['registry_password']}".encode()
    ).decode()
    (tmp_path / "config.json").write_text(json.dumps({"auths": {testenv["registry"]: {"auth": token}}}))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "aiodocker", "-H", engine.host, "pull", ref],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert completed.returncode == 0, completed.stderr
        assert "Status: Downloaded newer image" in completed.stdout
        assert testenv["registry_password"] not in completed.stdout + completed.stderr
        assert ref in (await docker.images.inspect(ref))["RepoTags"]
    finally:
        await docker.images.delete(ref, force=True)


def test_pull_command_of_a_missing_image_exits_one(testenv, tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    completed = subprocess.run(
        [sys.executable, "-m", "aiodocker", "-H", f"unix://{testenv['unix_socket']}",
         "pull", f"{testenv['registry']}/aiodocker-test-no-such-image:v1"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 1
    assert "aiodocker-test-no-such-image" in completed.stderr + completed.stdout
