"""Build the minimal managed volume plugin the plugin tests install, enable and push.

The plugin directory holds ``config.json`` and ``rootfs/``: the test image's
filesystem (``docker export`` of a container) plus ``volume_plugin.c`` compiled
with ``gcc -static``.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any, Final

FIXTURE_DIR: Final = Path(__file__).resolve().parent
SOURCE: Final = FIXTURE_DIR / "volume_plugin.c"
BINARY_NAME: Final = "aiodocker-volume-plugin"
SOCKET_NAME: Final = "aiodocker.sock"
COMMAND_TIMEOUT: Final = 120.0


class FixtureUnavailable(Exception):
    """A tool the fixture needs is missing (the caller skips, or fails in CI)."""


def plugin_config(description: str = "aiodocker test volume plugin") -> dict[str, Any]:
    """The plugin's config.json: a volume driver on host networking, GREETING settable."""
    return {
        "description": description,
        "documentation": "https://github.com/aio-libs/aiodocker",
        "entrypoint": [f"/{BINARY_NAME}"],
        "interface": {"types": ["docker.volumedriver/1.0"], "socket": SOCKET_NAME},
        "network": {"type": "host"},
        "env": [
            {
                "name": "GREETING",
                "description": "reported in the Status of every volume",
                "settable": ["value"],
                "value": "hi",
            }
        ],
    }


def _run(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(args, capture_output=True, timeout=COMMAND_TIMEOUT, check=False, **kwargs)


def compile_plugin(dest: Path) -> Path:
    """Compile the plugin program statically into ``dest``.

    Raises:
        FixtureUnavailable: no gcc, or no static C library to link against.
    """
    gcc = shutil.which("gcc")
    if gcc is None:
        raise FixtureUnavailable("gcc is not installed (needed to build the test plugin)")
    result = _run(gcc, "-static", "-Os", "-D_GNU_SOURCE", "-o", str(dest), str(SOURCE))
    if result.returncode != 0:
        raise FixtureUnavailable(
            "gcc -static failed (is the static C library, e.g. libc6-dev, installed?): "
            + result.stderr.decode(errors="replace")[-2000:]
        )
    return dest


def export_rootfs(docker_host: str, image: str, dest: Path) -> None:
    """Unpack the filesystem of ``image`` into ``dest`` (``docker create`` + ``export``)."""
    docker = shutil.which("docker")
    if docker is None:
        raise FixtureUnavailable("the docker CLI is not installed")
    created = _run(docker, "-H", docker_host, "create", image, "true")
    if created.returncode != 0:
        raise RuntimeError(f"docker create {image} failed: {created.stderr.decode()}")
    container_id = created.stdout.decode().strip()
    dest.mkdir(parents=True)
    archive = dest.parent / "rootfs.tar"
    try:
        with open(archive, "wb") as out:
            exported = subprocess.run(
                [docker, "-H", docker_host, "export", container_id],
                stdout=out,
                stderr=subprocess.PIPE,
                timeout=COMMAND_TIMEOUT,
                check=False,
            )
        if exported.returncode != 0:
            raise RuntimeError(f"docker export failed: {exported.stderr.decode()}")
    finally:
        _run(docker, "-H", docker_host, "rm", "-f", container_id)
    with tarfile.open(archive) as tar:
        tar.extractall(dest, filter="tar")
    archive.unlink()


def build_plugin_dir(
    dest: Path, *, docker_host: str, image: str, binary: Path, description: str | None = None
) -> Path:
    """Create ``dest`` holding ``config.json`` and ``rootfs/`` with the plugin program."""
    rootfs = dest / "rootfs"
    export_rootfs(docker_host, image, rootfs)
    shutil.copy2(binary, rootfs / BINARY_NAME)
    (rootfs / "run" / "docker" / "plugins").mkdir(parents=True, exist_ok=True)
    config = plugin_config() if description is None else plugin_config(description)
    (dest / "config.json").write_text(json.dumps(config, indent=2))
    return dest


def tar_plugin_dir(source: Path) -> bytes:
    """Return an uncompressed tar of a plugin directory (config.json and rootfs/)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.add(source / "config.json", "config.json")
        tar.add(source / "rootfs", "rootfs")
    return buffer.getvalue()
