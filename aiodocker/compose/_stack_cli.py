"""``python -m aiodocker stack ...``: deploy, ls, ps, services and rm, with the docker CLI's flags.

Layer: the command line over :mod:`aiodocker.compose.stack`; ``__main__`` adds the
parser with :func:`add_parser` and runs :func:`run`. The compose files are loaded by
the package's own compose loader (``aiodocker.compose.load_project``).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any, TextIO

from ..exceptions import DockerError
from ._errors import ComposeError
from ._loader import load_project
from ._model import Project
from ._stack_format import FormatError, render
from ._stack_rows import SERVICE_FIELDS, TASK_FIELDS, service_row, task_rows
from .stack import Stack, StackConvertError, deploy_stack, list_stacks, plan_stack

if TYPE_CHECKING:
    from ..docker import Docker


def _bool(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("1", "t", "true", "yes"):
        return True
    if lowered in ("0", "f", "false", "no"):
        return False
    raise argparse.ArgumentTypeError(f"invalid boolean value {text!r}")


def add_parser(sub: Any) -> None:
    """Add ``stack`` and its subcommands to the ``python -m aiodocker`` parser."""
    stack = sub.add_parser("stack", help="manage Swarm stacks (docker stack)")
    commands = stack.add_subparsers(dest="stack_command", required=True)
    deploy = commands.add_parser("deploy", help="deploy a new stack or update an existing one")
    deploy.add_argument(
        "-c",
        "--compose-file",
        action="append",
        required=True,
        metavar="FILE",
        help="compose file (repeatable)",
    )
    deploy.add_argument(
        "--prune", action="store_true", help="remove services no longer in the file"
    )
    deploy.add_argument(
        "--with-registry-auth",
        action="store_true",
        help="send registry credentials to the swarm agents",
    )
    deploy.add_argument(
        "--resolve-image",
        choices=("always", "changed", "never"),
        default="always",
        help="query the registry to pin image digests",
    )
    deploy.add_argument(
        "-d",
        "--detach",
        type=_bool,
        nargs="?",
        const=True,
        default=True,
        help="--detach=false waits until the services converged",
    )
    deploy.add_argument("name", metavar="STACK")
    ls = commands.add_parser("ls", help="list stacks")
    _add_format(ls)
    services = commands.add_parser("services", help="list the services of a stack")
    _add_filter_quiet_format(services, "only display IDs")
    services.add_argument("name", metavar="STACK")
    ps = commands.add_parser("ps", help="list the tasks of a stack")
    _add_filter_quiet_format(ps, "only display task IDs")
    ps.add_argument("--no-resolve", action="store_true", help="do not map IDs to names")
    ps.add_argument("--no-trunc", action="store_true", help="do not truncate output")
    ps.add_argument("name", metavar="STACK")
    rm = commands.add_parser("rm", help="remove one or more stacks")
    rm.add_argument(
        "-d",
        "--detach",
        type=_bool,
        nargs="?",
        const=True,
        default=True,
        help="--detach=false waits until the stack's tasks are gone",
    )
    rm.add_argument("names", nargs="+", metavar="STACK")


def _add_format(parser: Any) -> None:
    parser.add_argument(
        "--format",
        default="table",
        help="table, json, 'table TEMPLATE' or a Go TEMPLATE ({{.Field}}, {{json .}})",
    )


def _add_filter_quiet_format(parser: Any, quiet: str) -> None:
    parser.add_argument(
        "-f",
        "--filter",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="filter output based on conditions provided",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help=quiet)
    _add_format(parser)


def _filters(items: list[str]) -> dict[str, list[str]]:
    """``-f key=value`` flags as a filters mapping, as the docker CLI parses them."""
    filters: dict[str, list[str]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise FormatError(f"bad format of filter (expected name=value): {item!r}")
        filters.setdefault(key.strip().lower(), []).append(value)
    return filters


def load_files(files: list[str]) -> Project:
    """Load ``files`` with the package's compose loader, as ``docker stack deploy -c`` reads them."""
    return load_project(files)


async def run(docker: Docker, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run one ``stack`` subcommand; return the exit status."""
    try:
        if args.stack_command == "deploy":
            return await _deploy(docker, args, out, err)
        if args.stack_command == "ls":
            stacks = await list_stacks(docker)
            rows = [{"Name": stack.name, "Services": str(stack.services)} for stack in stacks]
            out.write(render(args.format, rows, ("Name", "Services")))
            return 0
        if args.stack_command == "services":
            return await _services(docker, args, out)
        if args.stack_command == "ps":
            return await _ps(docker, args, out)
        return await _rm(docker, args, out, err)
    except (ComposeError, StackConvertError, DockerError, FormatError) as exc:
        print(f"error: {exc}", file=err)
        return 1


async def _deploy(docker: Docker, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    project = load_files(args.compose_file)
    warnings = set(plan_stack(project, args.name).warnings)

    def progress(line: str) -> None:
        print(line, file=err if line in warnings or line.startswith("image ") else out)

    await deploy_stack(
        docker,
        project,
        args.name,
        prune=args.prune,
        with_registry_auth=args.with_registry_auth,
        resolve_image=args.resolve_image,
        detach=args.detach,
        progress=progress,
    )
    return 0


async def _rm(docker: Docker, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    for name in args.names:
        stack = Stack(docker, name)
        removed = await stack.rm()
        if removed.empty:
            print(f"Nothing found in stack: {name}", file=err)
            continue
        for kind, items in (
            ("service", removed.services),
            ("secret", removed.secrets),
            ("config", removed.configs),
            ("network", removed.networks),
        ):
            for item in items:
                print(f"Removing {kind} {item}", file=out)
        if not args.detach:
            print(f"Waiting for the stack {name} to be removed", file=out)
            await stack.wait_removed()
    return 0


async def _services(docker: Docker, args: argparse.Namespace, out: TextIO) -> int:
    services = await Stack(docker, args.name).services(filters=_filters(args.filter))
    rows = [service_row(service) for service in services]
    fmt = "{{.ID}}" if args.quiet and args.format == "table" else args.format
    out.write(render(fmt, rows, SERVICE_FIELDS))
    return 0


async def _ps(docker: Docker, args: argparse.Namespace, out: TextIO) -> int:
    stack = Stack(docker, args.name)
    tasks = await stack.ps(filters=_filters(args.filter))
    services: dict[str, str] = {}
    nodes: dict[str, str] = {}
    if not args.no_resolve:
        services = {
            str(service["ID"]): str(service["Spec"]["Name"])
            for service in await docker.services.list()
        }
        nodes = {
            str(node["ID"]): str((node.get("Description") or {}).get("Hostname") or node["ID"])
            for node in await docker.nodes.list()
        }
    fmt = "{{.ID}}" if args.quiet and args.format == "table" else args.format
    rows = task_rows(tasks, services, nodes, trunc=not args.no_trunc, table=fmt.startswith("table"))
    out.write(render(fmt, rows, TASK_FIELDS))
    return 0
