"""Connecting as a non-root user to a socket it may not open."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

CLIENT = """
import asyncio, sys
import aiodocker
from aiodocker.exceptions import DockerConnectionError

async def main():
    async with aiodocker.Docker(url="unix://" + sys.argv[1], api_version="v1.41") as docker:
        try:
            await docker.version()
        except DockerConnectionError as exc:
            print("DockerConnectionError", exc)
            return
    print("no error")

asyncio.run(main())
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run the client as another user")
@pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs setpriv to drop privileges")
def test_permission_denied_as_a_non_root_user_is_a_connection_error(tmp_path):
    path = tmp_path / "private.sock"
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(path))
    listener.listen()
    os.chmod(path, 0o600)  # root only, as /var/run/docker.sock without the docker group
    os.chmod(tmp_path, 0o755)
    try:
        completed = subprocess.run(
            # uid "nobody"; CAP_DAC_READ_SEARCH only lets it read the interpreter and
            # packages (which may live under a 0700 /root). Connecting to a socket needs
            # write permission, which it does not get.
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
             "--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search",
             sys.executable, "-c", CLIENT, str(path)],
            capture_output=True, text=True, timeout=60, cwd=REPO,
            env={**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), *sys.path]), "HOME": "/tmp"},
        )
    finally:
        listener.close()
    unusable = ("Permission denied", "ModuleNotFoundError")
    if any(text in completed.stderr for text in unusable) and not completed.stdout:
        # e.g. the interpreter or its packages live under a 0700 /root
        pytest.skip(f"the unprivileged user cannot run the client here: {completed.stderr[-200:]}")
    assert completed.stdout.startswith("DockerConnectionError"), completed.stdout + completed.stderr
    assert "ermission denied" in completed.stdout
    assert "Traceback" not in completed.stderr
