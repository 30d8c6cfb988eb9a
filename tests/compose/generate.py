"""Random compose projects for differential tests against Docker Compose (seeded, reproducible).

Each project is a few services drawn from per-key value variants (short and long syntaxes,
interpolation, odd scalars), an optional override file and an env file.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import yaml

VARIANTS: dict[str, list[Any]] = {
    "image": ["busybox", "nginx:${TAG:-1.25}", "registry.example:5000/team/app@sha256:" + "a" * 64, "x:$TAG"],
    "command": ["echo hi", ["sh", "-c", "echo 'a b'"], "sh -c \"x=1; echo $$x\"", [], None],
    "entrypoint": ["/bin/sh -c", ["/init"], "tini --"],
    "environment": [["A=1", "B", "C=${TAG}"], {"A": 1, "B": None, "C": True, "D": 1.5}, {"E": "${UNSET:-def}"}],
    "ports": [["80"], ["8080:80", "443:443/udp"], [{"target": 80, "published": "8000-8001"}], ["127.0.0.1:53:53/udp"],
              ["9000-9002:9000-9002"], [8080]],
    "volumes": [["./data:/data"], ["cache:/cache:ro"], [{"type": "tmpfs", "target": "/t"}],
                ["/abs/path:/abs:z"], [{"type": "bind", "source": "../up", "target": "/up/"}]],
    "labels": [["a=b", "c"], {"x": 1, "y": "z"}],
    "restart": ["always", "no", "on-failure:2", "unless-stopped"],
    "healthcheck": [{"test": "true", "interval": "5s"}, {"test": ["CMD", "x"], "timeout": "100ms", "retries": "3"},
                    {"disable": True}],
    "mem_limit": ["64m", 1048576, "1.5g"],
    "shm_size": ["1gb", "256k"],
    "cpus": [0.5, "1.25", 2],
    "tty": [True, False, "true"],
    "stop_grace_period": ["1m", "90s", "500ms"],
    "dns": ["1.1.1.1", ["8.8.8.8", "8.8.4.4"]],
    "tmpfs": ["/run", ["/a", "/b:size=1m"]],
    "expose": [[80, "81"], ["3000-3001"]],
    "extra_hosts": [["h:10.0.0.1"], {"g": "10.0.0.2"}],
    "ulimits": [{"nofile": 1024}, {"nproc": {"soft": 1, "hard": 2}}],
    "sysctls": [["a.b=1"], {"c.d": 2}],
    "cap_add": [["NET_ADMIN"], ["SYS_TIME", "NET_ADMIN"]],
    "logging": [{"driver": "json-file", "options": {"max-size": "1m", "max-file": 3}}, {"driver": "none"}],
    "user": ["1000", "root:root"],
    "working_dir": ["/app"],
    "init": [True, False],
    "privileged": [True, False],
    "read_only": ["false", True],
    "pids_limit": [100, "200"],
    "scale": [1, "2"],
    "profiles": [["x"], ["y", "x"]],
    "deploy": [{"replicas": 2}, {"resources": {"limits": {"memory": "1g", "cpus": "0.5"}}},
               {"restart_policy": {"condition": "any", "delay": "5s"}}],
    "build": [".", {"context": "./ctx", "args": ["A=1", "B"]}, {"context": ".", "dockerfile": "Other", "target": "t"}],
}
OVERRIDABLE = ["image", "command", "environment", "ports", "volumes", "labels", "restart", "dns", "tmpfs",
               "expose", "cap_add", "logging", "ulimits", "healthcheck", "build"]


def project(seed: int) -> dict[str, str]:
    """The files of project ``seed``: name -> text."""
    rng = random.Random(seed)
    names = [f"s{i}" for i in range(rng.randint(1, 4))]
    services: dict[str, Any] = {}
    for index, name in enumerate(names):
        spec: dict[str, Any] = {"image": rng.choice(VARIANTS["image"])}
        for key in rng.sample(sorted(VARIANTS), rng.randint(2, 9)):
            spec[key] = rng.choice(VARIANTS[key])
        if key_profiles := spec.get("profiles"):
            spec["profiles"] = key_profiles
        if index and rng.random() < 0.5:
            spec["depends_on"] = rng.choice([[names[0]], {names[0]: {"condition": "service_healthy"}}])
            services[names[0]].pop("profiles", None)
            spec.pop("profiles", None)
        if "mem_limit" in spec and "deploy" in spec:
            del spec["mem_limit"]
        services[name] = spec
    document: dict[str, Any] = {"services": services}
    if any("cache:" in str(s.get("volumes")) for s in services.values()):
        document["volumes"] = {"cache": {}}
    files = {"compose.yaml": yaml.safe_dump(document, sort_keys=False), ".env": "TAG=7\n"}
    if rng.random() < 0.6:
        override: dict[str, Any] = {}
        for name in rng.sample(names, rng.randint(1, len(names))):
            spec = {}
            for key in rng.sample(OVERRIDABLE, rng.randint(1, 4)):
                spec[key] = rng.choice(VARIANTS[key])
            override[name] = spec
        files["compose.override.yaml"] = yaml.safe_dump({"services": override}, sort_keys=False)
    return files


def write(directory: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (directory / name).write_text(text)
