"""``python -m aiodocker``: show which daemon this client reaches, and how.

``python -m aiodocker [--json]`` prints the chosen endpoint and the precedence
rule that chose it, the transport and TLS state, the negotiated API version,
the daemon's version and OS, and container and image counts.
``python -m aiodocker pull IMAGE`` pulls an image with a progress display.
``python -m aiodocker build DIR -t TAG`` builds with BuildKit, showing its progress.
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
async def _run_build(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from .buildkit import Secret, run_build_cli

    buildargs = dict(arg.partition("=")[::2] for arg in args.build_arg)
    try:
        secrets: dict[str, Secret] = {}
        for spec in args.secret:
            fields = dict(part.partition("=")[::2] for part in spec.split(","))
            secrets[fields.get("id", "")] = Secret(file=fields.get("src"), env=fields.get("env"))
    except ValueError as exc:
        print(f"error: --secret takes id=ID,src=PATH or id=ID,env=VAR: {exc}", file=err)
        return 2
    ssh = {name: path or None for name, _, path in (spec.partition("=") for spec in args.ssh)}
    docker = _client(args, err)
    if docker is None:
        return 1
    async with docker:
        return await run_build_cli(
            docker,
            out=out,
            err=err,
            progress=args.progress,
            path=args.path,
            tag=args.tag or None,
            path_dockerfile=args.file,
            target=args.target,
            buildargs=buildargs or None,
            nocache=args.no_cache,
            context_sync=args.context_sync,
            secrets=secrets or None,
            ssh=ssh or None,
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
    build.add_argument("-f", "--file", help="Dockerfile path inside the context")
    build.add_argument("--target", help="build stage to stop at")
    build.add_argument("--build-arg", action="append", default=[], metavar="KEY=VALUE")
    build.add_argument("--no-cache", action="store_true")
    build.add_argument("--progress", choices=("auto", "plain", "tty"), default="auto")
    build.add_argument(
        "--context-sync", action="store_true", help="send the context by file sync (a session)"
    )
    build.add_argument("--secret", action="append", default=[], metavar="id=ID,src=PATH|env=VAR")
    build.add_argument("--ssh", action="append", default=[], metavar="ID[=SOCKET]")
    build.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=debug_help)
    args = parser.parse_args(argv)
    with debug_logging(err) if args.debug else contextlib.nullcontext():
        if args.command == "pull":
            return asyncio.run(_run_pull(args, out, err))
        if args.command == "build":
            return asyncio.run(_run_build(args, out, err))
        return asyncio.run(_run_info(args, out, err))


if __name__ == "__main__":
    sys.exit(main())
