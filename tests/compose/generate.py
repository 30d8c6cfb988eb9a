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
    "environment": [["A=1", "B", "C=${TAG}"], {"P": "a$$b", "Q": "${TAG:+set}${UNSET:-}"}, {"A": 1, "B": None, "C": True, "D": 1.5}, {"E": "${UNSET:-def}"}],
    "ports": [["80"], ["8080:80", "443:443/udp"], ["0.0.0.0:81:81", "[::1]:90:90/tcp"], [{"target": 80, "published": "8000-8001"}], ["127.0.0.1:53:53/udp"],
              ["9000-9002:9000-9002"], [8080]],
    "volumes": [["./data:/data"], ["cache:/cache:ro"], [{"type": "tmpfs", "target": "/t"}], ["/anon", "/x"],
                [{"type": "volume", "target": "/lv", "volume": {"nocopy": True}}],
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
    "networks": [["front"], {"front": {"aliases": ["a"]}, "back": None}, {"back": {"ipv4_address": "10.5.0.9"}}],
    "secrets": [["token"], [{"source": "token", "target": "/t", "mode": 0o400}]],
    "configs": [["conf"], [{"source": "conf", "target": "/etc/c"}]],
    "env_file": ["app.env", [{"path": "app.env"}, {"path": "missing.env", "required": False}]],
    "group_add": [["audio", 1001]],
    "security_opt": [["no-new-privileges"]],
    "stop_signal": ["SIGINT"],
    "hostname": ["h-${TAG}"],
    "container_name": ["c_${UNSET-x}"],
    "annotations": [["a=1"], {"b": 2}],
    "devices": [["/dev/null:/dev/n"]],
    "stdin_open": [True, "false"],
    "oom_score_adj": [-100, "5"],
    "platform": ["linux/arm64"],
    "pull_policy": ["always", "never", "missing"],
    "ipc": ["host", "private"],
    "x-meta": [{"owner": "me"}],
}
OVERRIDABLE = ["image", "command", "environment", "ports", "volumes", "labels", "restart", "dns", "tmpfs",
               "expose", "cap_add", "logging", "ulimits", "healthcheck", "build", "networks", "secrets",
               "configs", "env_file", "annotations", "extra_hosts", "sysctls", "deploy"]


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
        document["volumes"] = {"cache": rng.choice([{}, {"name": "shared-${TAG}"}, {"external": True}])}
    document["networks"] = {
        "front": rng.choice([{}, {"driver": "bridge", "labels": ["a=b"]}, {"external": True, "name": "fr"}]),
        "back": rng.choice([{}, {"internal": True, "ipam": {"config": [{"subnet": "10.5.0.0/16"}]}}]),
    }
    document["secrets"] = {"token": rng.choice([{"file": "./token.txt"}, {"environment": "TAG"}])}
    document["configs"] = {"conf": rng.choice([{"content": "x=${TAG}"}, {"file": "conf/app.conf"}])}
    if rng.random() < 0.3:
        document["name"] = "generated-${TAG}"
    if rng.random() < 0.3:
        document["x-top"] = {"a": [1, "${TAG}"]}
    extra: dict[str, str] = {}
    if rng.random() < 0.4:  # extends, from this file and from another one
        child: dict[str, Any] = {"extends": rng.choice(["s0", {"service": "s0"}])}
        for key in rng.sample(OVERRIDABLE, rng.randint(1, 3)):
            child[key] = rng.choice(VARIANTS[key])
        child.pop("networks", None)
        services["child"] = child
        base: dict[str, Any] = {"image": "base"}
        for key in rng.sample(sorted(VARIANTS), 3):
            if key not in ("networks", "secrets", "configs", "depends_on", "profiles", "volumes"):
                base[key] = rng.choice(VARIANTS[key])
        base["volumes"] = ["./lib-data:/lib"]
        extra["lib/common.yaml"] = yaml.safe_dump({"services": {"base": base}}, sort_keys=False)
        extra["lib/app.env"] = "LIB=1\n"
        services["fromlib"] = {"extends": {"file": "lib/common.yaml", "service": "base"},
                               "environment": ["OWN=1"]}
    if rng.random() < 0.3:  # include a sub-project with its own relative paths
        document["include"] = [rng.choice(["inc/compose.yaml", {"path": "inc/compose.yaml", "env_file": "inc/inc.env"}])]
        extra["inc/compose.yaml"] = yaml.safe_dump({"services": {"included": {
            "image": "inc:${INC_TAG:-none}", "volumes": ["./inc-data:/d"], "env_file": "local.env"}}})
        extra["inc/local.env"] = "LOCAL=1\n"
        extra["inc/inc.env"] = "INC_TAG=9\n"
    files = {
        **extra,
        "compose.yaml": yaml.safe_dump(document, sort_keys=False),
        ".env": "TAG=7\n",
        "app.env": "APP=1\nREF=${TAG}\n",
    }
    if rng.random() < 0.6:
        override: dict[str, Any] = {}
        for name in rng.sample(names, rng.randint(1, len(names))):
            spec = {}
            for key in rng.sample(OVERRIDABLE, rng.randint(1, 4)):
                spec[key] = rng.choice(VARIANTS[key])
            override[name] = spec
        files["compose.override.yaml"] = yaml.safe_dump({"services": override}, sort_keys=False)
        if rng.random() < 0.4:  # a third file, named by COMPOSE_FILE in .env
            last = {name: {key: rng.choice(VARIANTS[key]) for key in rng.sample(OVERRIDABLE, 2)}
                    for name in rng.sample(names, 1)}
            files["extra.yaml"] = yaml.safe_dump({"services": last}, sort_keys=False)
            files[".env"] += "COMPOSE_FILE=compose.yaml:compose.override.yaml:extra.yaml\n"
    return files


def write(directory: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
