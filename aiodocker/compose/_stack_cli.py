"""``python -m aiodocker stack ...``: deploy, ls, ps, services and rm, with the docker CLI's flags.

Layer: the command line over :mod:`aiodocker.compose.stack`; ``__main__`` adds the
parser with :func:`add_parser` and runs :func:`run`. The compose files are loaded by
the package's own compose loader (``aiodocker.compose.load_project``).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TextIO

from ..exceptions import DockerError
from ._errors import ComposeError
from ._loader import load_project
from ._model import Project
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
    ls.add_argument("--format", choices=("table", "json"), default="table")
    for command, text in (
        ("ps", "list the tasks of a stack"),
        ("services", "list the services of a stack"),
    ):
        parser = commands.add_parser(command, help=text)
        parser.add_argument("--format", choices=("table", "json"), default="table")
        parser.add_argument("name", metavar="STACK")
    rm = commands.add_parser("rm", help="remove one or more stacks")
    rm.add_argument("names", nargs="+", metavar="STACK")


def load_files(files: list[str]) -> Project:
    """Load ``files`` with the package's compose loader, as ``docker stack deploy -c`` reads them."""
    return load_project(files)


async def run(docker: Docker, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run one ``stack`` subcommand; return the exit status."""
    try:
        if args.stack_command == "deploy":
            return await _deploy(docker, args, out, err)
        if args.stack_command == "ls":
            return _print_stacks(await list_stacks(docker), args.format, out)
        if args.stack_command == "services":
            return _print_services(await Stack(docker, args.name).services(), args.format, out)
        if args.stack_command == "ps":
            stack = Stack(docker, args.name)
            names = {service["ID"]: service["Spec"]["Name"] for service in await stack.services()}
            return _print_tasks(await stack.ps(), names, args.format, out)
        return await _rm(docker, args.names, out, err)
    except (ComposeError, StackConvertError, DockerError) as exc:
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


async def _rm(docker: Docker, names: list[str], out: TextIO, err: TextIO) -> int:
    for name in names:
        removed = await Stack(docker, name).rm()
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
    return 0


def _table(rows: list[list[str]], out: TextIO) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(
            "   ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip(),
            file=out,
        )


def _print_stacks(stacks: list[Any], fmt: str, out: TextIO) -> int:
    if fmt == "json":
        for stack in stacks:
            print(_json({"Name": stack.name, "Services": stack.services}), file=out)
        return 0
    _table([["NAME", "SERVICES"], *([stack.name, str(stack.services)] for stack in stacks)], out)
    return 0


def _mode_and_replicas(service: Mapping[str, Any]) -> tuple[str, str]:
    mode = service["Spec"].get("Mode") or {}
    status = service.get("ServiceStatus") or {}
    running = status.get("RunningTasks", 0)
    if "Global" in mode:
        return "global", f"{running}/{status.get('DesiredTasks', 0)}"
    if "ReplicatedJob" in mode:
        total = (mode["ReplicatedJob"] or {}).get("TotalCompletions", 1)
        return (
            "replicated job",
            f"{running}/{status.get('DesiredTasks', 0)} ({status.get('CompletedTasks', 0)}/{total} completed)",
        )
    if "GlobalJob" in mode:
        return (
            "global job",
            f"{running}/{status.get('DesiredTasks', 0)} ({status.get('CompletedTasks', 0)} completed)",
        )
    replicas = (mode.get("Replicated") or {}).get("Replicas", 1)
    return "replicated", f"{running}/{replicas}"


def _print_services(services: list[Mapping[str, Any]], fmt: str, out: TextIO) -> int:
    rows = []
    for service in services:
        mode, replicas = _mode_and_replicas(service)
        ports = ", ".join(
            f"*:{port.get('PublishedPort', '')}->{port.get('TargetPort')}/{port.get('Protocol', 'tcp')}"
            for port in (service.get("Endpoint") or {}).get("Ports") or []
        )
        image = str(service["Spec"]["TaskTemplate"]["ContainerSpec"].get("Image", "")).split("@")[0]
        rows.append(
            [str(service["ID"])[:12], service["Spec"]["Name"], mode, replicas, image, ports]
        )
    if fmt == "json":
        keys = ("ID", "Name", "Mode", "Replicas", "Image", "Ports")
        for row in rows:
            print(_json(dict(zip(keys, row, strict=True))), file=out)
        return 0
    _table([["ID", "NAME", "MODE", "REPLICAS", "IMAGE", "PORTS"], *rows], out)
    return 0


def _print_tasks(
    tasks: list[Mapping[str, Any]], names: Mapping[str, str], fmt: str, out: TextIO
) -> int:
    """Print tasks as ``docker stack ps`` names them: ``SERVICE.SLOT`` (``SERVICE.NODE`` if global)."""
    rows = []
    for task in sorted(
        tasks,
        key=lambda task: (
            str(task.get("ServiceID")),
            task.get("Slot") or 0,
            str(task.get("CreatedAt")),
        ),
    ):
        status = task.get("Status") or {}
        rows.append(
            [
                str(task["ID"])[:12],
                names.get(str(task.get("ServiceID")), str(task.get("ServiceID", ""))[:12])
                + (f".{task['Slot']}" if task.get("Slot") else f".{task.get('NodeID', '')}"),
                str(task["Spec"]["ContainerSpec"].get("Image", "")).split("@")[0],
                str(task.get("NodeID", ""))[:12],
                str(task.get("DesiredState", "")),
                str(status.get("State", "")),
                str(status.get("Err", "")),
            ]
        )
    if fmt == "json":
        keys = ("ID", "Name", "Image", "Node", "DesiredState", "CurrentState", "Error")
        for row in rows:
            print(_json(dict(zip(keys, row, strict=True))), file=out)
        return 0
    _table(
        [["ID", "NAME", "IMAGE", "NODE", "DESIRED STATE", "CURRENT STATE", "ERROR"], *rows],
        out,
    )
    return 0


def _json(value: Any) -> str:
    import json

    return json.dumps(value, sort_keys=True)
