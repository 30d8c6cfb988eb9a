"""``python -m aiodocker``: show which daemon this client reaches, and how.

``python -m aiodocker [--json]`` prints the chosen endpoint and the precedence
rule that chose it, the transport and TLS state, the negotiated API version,
the daemon's version and OS, and container and image counts.
``python -m aiodocker pull IMAGE`` pulls an image with a progress display.
``python -m aiodocker build DIR -t TAG`` builds with BuildKit, showing its progress
(``-o type=local,dest=OUT`` / ``type=tar,dest=F`` export, ``--push``, ``--cache-from``/``--cache-to``).
``python -m aiodocker compose [-f FILE]... config`` loads a compose project as Docker
Compose does (see ``aiodocker.compose``); it keeps Compose's options and exit codes.
``--debug`` (before or after the command) logs what the client does, at DEBUG,
to standard error: requests, negotiation, connections, streams.
Exit status: 0 on success, 1 when the daemon cannot be reached or answers
with an error, 2 for usage errors.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sys
from collections.abc import Iterator
from typing import Any, TextIO

from .docker import Docker
from .exceptions import DockerError


async def diagnose(docker: Docker) -> dict[str, Any]:
    """Collect what the diagnostics report shows (no printing)."""
    endpoint = docker.endpoint
    report: dict[str, Any] = {
        "endpoint": endpoint.url,
        "source": endpoint.source,
        "context": endpoint.context_name,
        "transport": endpoint.scheme,
        "tls": docker.ssl_context is not None,
        "tls_verify": bool(docker.ssl_context is not None and docker.ssl_context.verify_mode),
        "tried": list(endpoint.tried),
    }
    version = await docker.version()
    info = await docker.system.info()
    report.update(
        {
            "api_version": docker.api_version,
            "daemon_version": version.get("Version"),
            "daemon_api_version": version.get("ApiVersion"),
            "daemon_min_api_version": version.get("MinAPIVersion"),
            "os": version.get("Os"),
            "arch": version.get("Arch"),
            "kernel": version.get("KernelVersion"),
            "containers": info.get("Containers"),
            "containers_running": info.get("ContainersRunning"),
            "images": info.get("Images"),
            "swarm": (info.get("Swarm") or {}).get("LocalNodeState"),
        }
    )
    return report


_LABELS = (
    ("endpoint", "Endpoint"),
    ("source", "Chosen by"),
    ("context", "Context"),
    ("transport", "Transport"),
    ("tls", "TLS"),
    ("tls_verify", "TLS verify"),
    ("api_version", "API version"),
    ("daemon_version", "Daemon version"),
    ("daemon_api_version", "Daemon API"),
    ("daemon_min_api_version", "Daemon min API"),
    ("os", "OS"),
    ("arch", "Arch"),
    ("kernel", "Kernel"),
    ("containers", "Containers"),
    ("containers_running", "Running"),
    ("images", "Images"),
    ("swarm", "Swarm"),
)


def format_report(report: dict[str, Any]) -> str:
    width = max(len(label) for _, label in _LABELS)
    lines = []
    for key, label in _LABELS:
        value = report.get(key)
        if value is None and key == "context":
            continue
        if isinstance(value, bool):
            value = "yes" if value else "no"
        lines.append(f"{label:<{width}}  {value}")
    return "\n".join(lines)


def _client(args: argparse.Namespace, err: TextIO) -> Docker | None:
    """Return a client of the daemon ``-H``/``-c`` choose; None when none can be chosen (said on err)."""
    try:
        return Docker(url=args.host, context=args.context)
    except (ValueError, DockerError) as exc:
        print(f"error: cannot choose a Docker daemon: {exc}", file=err)
        return None


async def _run_info(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    docker = _client(args, err)
    if docker is None:
        return 1
    async with docker:
        try:
            report = await diagnose(docker)
        except DockerError as exc:
            print(
                f"error: the Docker daemon at {docker.endpoint.url} "
                f"(chosen by {docker.endpoint.source}) is not reachable: {exc}",
                file=err,
            )
            return 1
    if args.json:
        json.dump(report, out, indent=2)
        out.write("\n")
    else:
        print(format_report(report), file=out)
    return 0


async def _run_pull(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from .progress import run_pull_cli

    docker = _client(args, err)
    if docker is None:
        return 1
    async with docker:
        try:
            return await run_pull_cli(docker, args.image, out=out)
        except DockerError as exc:
            print(f"error: pull of {args.image} failed: {exc}", file=err)
            return 1


@contextlib.contextmanager
def debug_logging(err: TextIO) -> Iterator[None]:
    """Send the ``aiodocker`` loggers' DEBUG records to ``err`` while the block runs."""
    logger = logging.getLogger("aiodocker")
    handler = logging.StreamHandler(err)
    handler.setFormatter(
        logging.Formatter("%(relativeCreated)8.1f ms %(name)s %(levelname)s: %(message)s")
    )
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


def _pairs(values: list[str], flag: str, *, from_env: bool = False) -> dict[str, str]:
    """``KEY=VALUE`` flags as a dict; a bare ``KEY`` takes the environment's value if ``from_env``."""
    result: dict[str, str] = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not key:
            raise ValueError(f"{flag} {value!r}: expected KEY=VALUE")
        if not sep:
            if not from_env:
                raise ValueError(f"{flag} {value!r}: expected KEY=VALUE")
            if key not in os.environ:
                continue  # as buildx: an unset variable passes no value
            rest = os.environ[key]
        result[key] = rest
    return result


def _build_secrets(specs: list[str]) -> dict[str, Any]:
    from .buildkit import Secret

    secrets: dict[str, Secret] = {}
    for spec in specs:
        fields: dict[str, str] = {}
        for part in spec.split(","):
            key, sep, value = part.partition("=")
            if not sep:
                raise ValueError(f"--secret {spec!r}: {part!r} is not KEY=VALUE")
            fields[key.strip().lower()] = value
        kind = fields.pop("type", None)
        name = fields.pop("id", "")
        src = fields.pop("src", None) or fields.pop("source", None)
        env = fields.pop("env", None)
        if fields:
            raise ValueError(f"--secret {spec!r}: unknown field {next(iter(fields))!r}")
        if kind == "env" and env is None:
            env, src = src or name, None
        if src is None and env is None:
            env = name  # as buildx: the variable named like the id
        if not name:
            name = os.path.basename(src) if src else str(env)
        secrets[name] = Secret(file=src, env=None if src else env)
    return secrets


def _build_ssh(specs: list[str]) -> dict[str, list[str] | None]:
    ssh: dict[str, list[str] | None] = {}
    for spec in specs:
        name, _, paths = spec.partition("=")
        ssh[name or "default"] = [p for p in paths.split(",") if p] or None
    return ssh


async def _run_build(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from .buildkit import run_build_cli

    try:
        buildargs = _pairs(args.build_arg, "--build-arg", from_env=True)
        labels = _pairs(args.label, "--label")
        secrets = _build_secrets(args.secret)
        ssh = _build_ssh(args.ssh)
        contexts = _pairs(args.build_context, "--build-context")
    except ValueError as exc:
        print(f"error: {exc}", file=err)
        return 2
    docker = _client(args, err)
    if docker is None:
        return 1
    # "-o -" (or dest=-) writes the tar to standard output: the progress goes to stderr
    to_stdout = any(spec == "-" or "dest=-" in spec.split(",") for spec in args.output)
    async with docker:
        return await run_build_cli(
            docker,
            out=err if to_stdout else out,
            err=err,
            progress="quiet" if args.quiet else args.progress,
            iidfile=args.iidfile,
            metadata_file=args.metadata_file,
            path=args.path,
            tag=args.tag or None,
            path_dockerfile=args.file,
            target=args.target,
            buildargs=buildargs or None,
            labels=labels or None,
            platform=args.platform,
            pull=args.pull,
            nocache=args.no_cache,
            network_mode=args.network,
            extra_hosts=args.add_host or None,
            context_sync=True if args.context_sync else None,
            secrets=secrets or None,
            ssh=ssh or None,
            build_contexts=contexts or None,
            outputs=args.output or None,
            push=args.push,
            cache_from=args.cache_from or None,
            cache_to=args.cache_to or None,
        )


def main(argv: list[str] | None = None, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["compose"]:  # Docker Compose's own option syntax and exit codes
        from .compose._cli import main as compose_main

        return compose_main(argv[1:], out, err)
    parser = argparse.ArgumentParser(prog="python -m aiodocker", description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", help="daemon URL (overrides DOCKER_HOST and contexts)")
    parser.add_argument("-c", "--context", help="Docker context name")
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")
    debug_help = "log what the client does (requests, connections, streams) to stderr"
    parser.add_argument("--debug", action="store_true", help=debug_help)
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("compose", help="compose projects: `compose [-f FILE]... config` (see --help there)")
    pull = sub.add_parser("pull", help="pull an image, showing progress")
    pull.add_argument("image")
    pull.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=debug_help)
    build = sub.add_parser("build", help="build an image with BuildKit, showing progress")
    build.add_argument("path", help="context directory")
    build.add_argument("-t", "--tag", action="append", default=[], help="name:tag (repeatable)")
    build.add_argument("-f", "--file", help="the Dockerfile (default: PATH/Dockerfile)")
    build.add_argument("--target", help="build stage to stop at")
    build.add_argument("--build-arg", action="append", default=[], metavar="KEY[=VALUE]")
    build.add_argument("--label", action="append", default=[], metavar="KEY=VALUE")
    build.add_argument("--platform", help="target platform, such as linux/amd64")
    build.add_argument("--pull", action="store_true", help="always pull the base images")
    build.add_argument("--no-cache", action="store_true")
    build.add_argument("--network", help="network mode of RUN steps (default, host, none)")
    build.add_argument("--add-host", action="append", default=[], metavar="HOST:IP")
    build.add_argument("--progress", choices=("auto", "plain", "tty", "rawjson"), default="auto")
    build.add_argument("-q", "--quiet", action="store_true", help="print only the image id")
    build.add_argument("--iidfile", help="write the image id to this file")
    build.add_argument("--metadata-file", help="write the build result's metadata (JSON)")
    build.add_argument(
        "--context-sync", action="store_true", help="require the context's file sync (a session)"
    )
    build.add_argument("--secret", action="append", default=[], metavar="id=ID,src=PATH|env=VAR")
    build.add_argument("--ssh", action="append", default=[], metavar="ID[=SOCKET|KEY[,KEY]]")
    build.add_argument("--build-context", action="append", default=[], metavar="NAME=VALUE")
    build.add_argument(
        "-o",
        "--output",
        action="append",
        default=[],
        metavar="SPEC",
        help="export the result instead of the image store: type=local,dest=DIR, "
        "type=tar,dest=FILE, DIR, or - (a tar on stdout)",
    )
    build.add_argument("--push", action="store_true", help="push the tags once built")
    build.add_argument("--cache-from", action="append", default=[], metavar="REF|type=registry,ref=REF")
    build.add_argument("--cache-to", action="append", default=[], metavar="type=inline")
    build.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=debug_help)
    args = parser.parse_args(argv)
    with debug_logging(err) if args.debug else contextlib.nullcontext():
        if args.command == "pull":
            return asyncio.run(_run_pull(args, out, err))
        if args.command == "build":
            if args.file is not None:
                args.file = os.path.abspath(args.file)  # as buildx: -f is relative to the cwd
            return asyncio.run(_run_build(args, out, err))
        return asyncio.run(_run_info(args, out, err))


if __name__ == "__main__":
    sys.exit(main())
