"""A bare ``import aiodocker`` leaves the heavy modules unloaded until a feature needs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Each costs milliseconds at start-up and serves one feature only: __version__,
# the Date header of the event follower, archives and build contexts, session=/connector=,
# the response parser of the first request, registry references and credentials;
# dataclasses is replaced by _record.Record (a dataclass costs ~1 ms to create);
# ssh's command line, TLS contexts and the TLS stream; the TypedDict of build's keywords;
# copy, for the deep copy of a service or secret spec being updated; the resource
# modules (most of the package's own import time) and the 0.27 response object, until a
# sub-API such as docker.containers is first used.
RESOURCE_MODULES = (
    "aiodocker.configs",
    "aiodocker.containers",
    "aiodocker.events",
    "aiodocker.images",
    "aiodocker.logs",
    "aiodocker.networks",
    "aiodocker.nodes",
    "aiodocker.plugins",
    "aiodocker.secrets",
    "aiodocker.services",
    "aiodocker.swarm",
    "aiodocker.system",
    "aiodocker.tasks",
    "aiodocker.volumes",
    "aiodocker._responses",
)
HEAVY = (
    *RESOURCE_MODULES,
    "importlib.metadata",
    "email",
    "tarfile",
    "aiohttp",
    "httptools",
    "aiodocker._core.credentials",
    "dataclasses",
    "shlex",
    "aiodocker._transport.tls",
    "aiodocker._transport.tlsstream",
    "aiodocker._build_options",
    "copy",
    "aiodocker.compose",
    "yaml",
    "aiodocker.buildkit",
    "h2",
    "cryptography",
)


def _loaded_after(code: str) -> dict[str, bool]:
    probe = f"import sys\n{code}\nimport json\nprint(json.dumps({{m: m in sys.modules for m in {HEAVY!r}}}))"
    completed = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded: dict[str, bool] = json.loads(completed.stdout)
    return loaded


def test_bare_import_loads_none_of_the_heavy_modules() -> None:
    loaded = _loaded_after("import aiodocker, aiodocker.docker")
    assert [name for name, present in loaded.items() if present] == []


@pytest.mark.parametrize(
    ("code", "module"),
    [
        ("import aiodocker; aiodocker.__version__", "importlib.metadata"),
        ("from aiodocker.events import _daemon_seconds; _daemon_seconds('Mon, 02 Jan 2006 15:04:05 GMT')", "email"),
        ("from aiodocker.utils import mktar_from_dockerfile; mktar_from_dockerfile('FROM scratch').close()", "tarfile"),
        (
            "import asyncio\nfrom aiodocker._transport.http import Connection\n"
            "async def first_request(): Connection().begin('GET')\nasyncio.run(first_request())",
            "httptools",
        ),
        (
            "from aiodocker._core.registry_auth import RegistryLogin; RegistryLogin('alpine', None)",
            "aiodocker._core.credentials",
        ),
        (
            "from aiodocker._transport.dialers import SSHDialer; SSHDialer('host', user='u').argv()",
            "shlex",
        ),
        (
            "from aiodocker.docker import Docker\n"
            "from aiodocker._transport.endpoint import Endpoint, TLSConfig\n"
            "tls = TLSConfig(None, None, None, verify=False)\n"
            "Docker._ssl_for(Endpoint('tcp', 'h:2376', 'tcp://h:2376', tls, 'url'), None)",
            "aiodocker._transport.tls",
        ),
        ("from aiodocker.images import BuildOptions", "aiodocker._build_options"),
        # the BuildKit session's HTTP/2 (a core dependency since every BuildKit build
        # serves a session), on the first session; key files' cryptography on the first key
        (
            "import asyncio\nfrom aiodocker._buildkit.session import Session\n"
            "class Body:\n    async def read_chunk(self): return b''\n"
            "class Channel:\n    body = Body()\n    def write(self, data): pass\n"
            "    async def drain(self): pass\n    def close(self): pass\n"
            "async def main():\n    s = Session({}, name='n', key='k')\n    s.start(Channel())\n"
            "    await s.close()\nasyncio.run(main())",
            "h2",
        ),
        (
            "import os, tempfile\nfrom aiodocker._buildkit.sshagent import load_key\n"
            "path = os.path.join(tempfile.mkdtemp(), 'k'); open(path, 'w').write('x')\n"
            "try: load_key(path)\nexcept ValueError: pass",
            "cryptography",
        ),
        ("from aiodocker import buildkit", "aiodocker.buildkit"),
        *(  # each sub-API's module, on its first use
            (f"import aiodocker\naiodocker.Docker(url='unix:///none').{module[10:]}", module)
            for module in RESOURCE_MODULES
            if module not in ("aiodocker.logs", "aiodocker._responses")
        ),
        ("from aiodocker.docker import DockerLog", "aiodocker.logs"),
        ("from aiodocker.compose import load_project", "yaml"),
        ("import aiodocker.compose", "aiodocker.compose"),
        (
            "from aiodocker.services import _prepare_task_template\n"
            "_prepare_task_template({'ContainerSpec': {'Image': 'alpine'}})",
            "copy",
        ),
    ],
)
def test_the_feature_that_needs_a_heavy_module_still_loads_it(code: str, module: str) -> None:
    # Proves the probe above can see each module, so its empty answer means something.
    assert _loaded_after(code)[module]
