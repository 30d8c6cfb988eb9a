"""The runtime commands of ``python -m aiodocker compose``: up, down, ps, start, stop, ...

Private runtime module of :mod:`aiodocker.compose`.  ``_cli`` (the model's ``config``
command) hands over here: ``add_commands`` adds the subcommands to its parser and
``run`` executes one on the loaded project.  Flags and exit codes are Docker
Compose's: 0 on success, 1 on any error (one message on standard error).
``ps --format json`` prints one JSON object per line, with Compose's keys.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TextIO

from .._humanize import human_duration
from ..exceptions import DockerError
from ._runtime_build_cli import (
    BUILD_COMMANDS,
    add_build_commands,
    build_policy,
    build_printer,
    run_build_command,
)
from ._runtime_progress import Progress
from ._runtime_tty import Resize, byte_writer, raw_terminal, relay, usable_fd
from .project import ComposeContainer, ComposeProject, list_projects

if TYPE_CHECKING:
    from ..stream import Stream

_PULL = ("always", "missing", "never")


def add_commands(sub: Any) -> None:
    """Add the runtime subcommands (Docker Compose's flags) to the ``compose`` parser.

    Each group registers its subcommands here, one call each; a new command also
    adds its handler to ``HANDLERS``.
    """
    _add_converge(sub)
    _add_lifecycle(sub)
    _add_listing(sub)
    _add_one_off(sub)
    _add_cp(sub)
    add_build_commands(sub)  # build, pull, push; up/create --build/--no-build


def _add_converge(sub: Any) -> None:
    up = sub.add_parser("up", help="create and start containers")
    _converge_flags(up)
    up.add_argument("-d", "--detach", action="store_true")
    up.add_argument("--no-deps", action="store_true")
    up.add_argument("--no-start", action="store_true")
    up.add_argument("-t", "--timeout", type=int)
    up.add_argument("--wait", action="store_true")
    up.add_argument("--wait-timeout", type=int)
    up.add_argument("--abort-on-container-exit", action="store_true")
    up.add_argument("--exit-code-from")
    up.add_argument("-y", "--yes", action="store_true", dest="assume_yes")
    _converge_flags(sub.add_parser("create", help="create containers for services"))


def _add_lifecycle(sub: Any) -> None:
    down = sub.add_parser("down", help="stop and remove containers and networks")
    down.add_argument("-v", "--volumes", action="store_true")
    down.add_argument("--remove-orphans", action="store_true")
    down.add_argument("-t", "--timeout", type=int)
    for verb, text in (
        ("start", "start services"),
        ("pause", "pause services"),
        ("unpause", "unpause services"),
    ):
        sub.add_parser(verb, help=text).add_argument("services", nargs="*")
    for verb, text in (("stop", "stop services"), ("restart", "restart service containers")):
        parser = sub.add_parser(verb, help=text)
        parser.add_argument("-t", "--timeout", type=int)
        parser.add_argument("services", nargs="*")
    kill = sub.add_parser("kill", help="force stop service containers")
    kill.add_argument("-s", "--signal", default="SIGKILL")
    kill.add_argument("--remove-orphans", action="store_true")
    kill.add_argument("services", nargs="*")
    rm = sub.add_parser("rm", help="remove stopped service containers")
    rm.add_argument("-f", "--force", action="store_true")
    rm.add_argument("-s", "--stop", action="store_true")
    rm.add_argument("-v", "--volumes", action="store_true")
    rm.add_argument("services", nargs="*")


def _add_listing(sub: Any) -> None:
    ps = sub.add_parser("ps", help="list containers")
    ps.add_argument("-a", "--all", action="store_true")
    ps.add_argument("--format", default="table")
    ps.add_argument("-q", "--quiet", action="store_true")
    ps.add_argument("--services", action="store_true", dest="list_services")
    ps.add_argument("--status", action="append")
    ps.add_argument("services", nargs="*")
    logs = sub.add_parser("logs", help="view output from containers")
    logs.add_argument("-f", "--follow", action="store_true")
    logs.add_argument("--since")
    logs.add_argument("--until")
    logs.add_argument("-n", "--tail", default="all")
    logs.add_argument("-t", "--timestamps", action="store_true")
    logs.add_argument("--no-color", action="store_true")
    logs.add_argument("--no-log-prefix", action="store_true")
    logs.add_argument("services", nargs="*")
    events = sub.add_parser("events", help="receive real time events from containers")
    events.add_argument("--json", action="store_true")
    events.add_argument("services", nargs="*")
    wait = sub.add_parser("wait", help="block until the services' containers stop")
    wait.add_argument("--down-project", action="store_true")
    wait.add_argument("services", nargs="+")
    port = sub.add_parser("port", help="print the public port for a port binding")
    port.add_argument("--index", type=int, default=1)
    port.add_argument("--protocol", default="tcp")
    port.add_argument("service")
    port.add_argument("private_port", type=int)
    for verb, text in (
        ("images", "list images used by the created containers"),
        ("ls", "list running compose projects"),
    ):
        parser = sub.add_parser(verb, help=text)
        parser.add_argument("--format", default="table")
        parser.add_argument("-q", "--quiet", action="store_true")
    sub.choices["images"].add_argument("services", nargs="*")
    sub.choices["ls"].add_argument("-a", "--all", action="store_true")
    sub.choices["ls"].add_argument("--filter", action="append", default=[])


def _add_one_off(sub: Any) -> None:
    run = sub.add_parser("run", help="run a one-off command on a service")
    exe = sub.add_parser("exec", help="execute a command in a running container")
    for parser in (run, exe):
        parser.add_argument("-d", "--detach", action="store_true")
        parser.add_argument("-e", "--env", action="append", default=[])
        parser.add_argument("-u", "--user")
        parser.add_argument("-w", "--workdir")
        parser.add_argument("-T", "--no-TTY", action="store_true", dest="no_tty")
        # Compose's defaults: a tty when stdin is one, stdin kept open (piped)
        parser.add_argument("-t", "--tty", action="store_true")
        parser.add_argument("-i", "--interactive", action="store_true")
    run.add_argument("--rm", action="store_true")
    run.add_argument("--entrypoint")
    run.add_argument("--name")
    run.add_argument("-P", "--service-ports", action="store_true")
    run.add_argument("--no-deps", action="store_true")
    run.add_argument("--pull", choices=_PULL)
    run.add_argument("service")
    run.add_argument("run_command", nargs=argparse.REMAINDER)
    exe.add_argument("--index", type=int, default=1)
    exe.add_argument("--privileged", action="store_true")
    exe.add_argument("service")
    exe.add_argument("exec_command", nargs=argparse.REMAINDER)


def _add_cp(sub: Any) -> None:
    """``cp`` with Docker Compose's flags (``-`` is a tar on stdin or stdout)."""
    cp = sub.add_parser("cp", help="copy files/folders between a service container and the host")
    cp.add_argument("--all", action="store_true", dest="include_oneoff")
    cp.add_argument("-a", "--archive", action="store_true")
    cp.add_argument("-L", "--follow-link", action="store_true", dest="follow_link")
    cp.add_argument("--index", type=int, default=0)
    cp.add_argument("--dry-run", action="store_true")
    cp.add_argument("source")
    cp.add_argument("destination")


async def _cp(project: ComposeProject, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Copy as ``docker compose cp``; ``-`` reads a tar from stdin or writes one to stdout."""
    source: Any = sys.stdin.buffer if args.source == "-" else args.source
    destination: Any = args.destination
    if destination == "-":
        out.flush()
        destination = getattr(out, "buffer", sys.stdout.buffer)
    if args.dry_run:
        return 0
    done = await project.cp(
        source,
        destination,
        index=args.index,
        all=args.include_oneoff,
        follow_links=args.follow_link,
        archive=args.archive,
    )
    for item in done:
        err.write(f" {item.name}  Copied\n")
    return 0


def _converge_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--force-recreate", action="store_true")
    parser.add_argument("--no-recreate", action="store_true")
    parser.add_argument("--pull", choices=_PULL)
    parser.add_argument("--remove-orphans", action="store_true")
    parser.add_argument("--scale", action="append", default=[], metavar="SERVICE=NUM")
    parser.add_argument("services", nargs="*")


def _scale(values: Sequence[str]) -> dict[str, int]:
    scale: dict[str, int] = {}
    for value in values:
        service, sep, number = value.partition("=")
        if not sep or not number.isdigit():
            raise ValueError(f"invalid --scale {value!r}: expected SERVICE=NUM")
        scale[service] = int(number)
    return scale


def run(args: argparse.Namespace, model: Any, out: TextIO, err: TextIO) -> int:
    """Run the runtime command ``args.command`` on the loaded project; return the exit status."""
    try:
        return asyncio.run(_run(args, model, out, err))
    except (DockerError, ValueError) as exc:
        err.write(f"{getattr(exc, 'message', None) or exc}\n")
        return 1
    except KeyboardInterrupt:
        err.write("canceled\n")
        return 130


Handler = Callable[[ComposeProject, argparse.Namespace, TextIO, TextIO], Awaitable[int]]
"""A subcommand: ``handler(project, args, out, err)`` returns the exit status."""


async def _run(args: argparse.Namespace, model: Any, out: TextIO, err: TextIO) -> int:
    from ..docker import Docker

    async with Docker() as docker:
        if args.command == "ls":
            return await _ls(docker, args, out)
        project = ComposeProject(docker, model)
        return await HANDLERS[args.command](project, args, out, err)


def _services(args: argparse.Namespace) -> list[str] | None:
    return list(getattr(args, "services", None) or ()) or None


async def _converge(
    project: ComposeProject, args: argparse.Namespace, out: TextIO, err: TextIO
) -> int:
    if args.force_recreate and args.no_recreate:
        raise ValueError("--force-recreate and --no-recreate are incompatible")
    options: dict[str, Any] = {
        "force_recreate": args.force_recreate,
        "no_recreate": args.no_recreate,
        "pull": args.pull,
        "remove_orphans": args.remove_orphans,
        "scale": _scale(args.scale) or None,
        "build": build_policy(args),
        "build_progress": build_printer(out),
    }
    project.progress = Progress(err)
    if args.command == "create":
        await project.create(_services(args), **options)
        return 0
    done = await project.up(
        _services(args),
        no_deps=args.no_deps,
        no_start=args.no_start,
        timeout=args.timeout,
        wait=args.wait,
        wait_timeout=args.wait_timeout,
        assume_yes=args.assume_yes,
        **options,
    )
    if not args.detach and not args.no_start:
        project.progress = None
        return await _attached(project, done, out, args)
    return 0


async def _down(project: ComposeProject, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    project.progress = Progress(err)
    await project.down(
        volumes=args.volumes, remove_orphans=args.remove_orphans, timeout=args.timeout
    )
    return 0


async def _verb(project: ComposeProject, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    services = _services(args)
    verbs: dict[str, Callable[[], Awaitable[Any]]] = {
        "start": lambda: project.start(services),
        "stop": lambda: project.stop(services, timeout=args.timeout),
        "restart": lambda: project.restart(services, timeout=args.timeout),
        "kill": lambda: project.kill(services, signal=args.signal),
        "pause": lambda: project.pause(services),
        "unpause": lambda: project.unpause(services),
        "rm": lambda: project.rm(services, stop=args.stop, volumes=args.volumes),
    }
    project.progress = Progress(err)
    await verbs[args.command]()
    return 0


async def _events(
    project: ComposeProject, args: argparse.Namespace, out: TextIO, err: TextIO
) -> int:
    async for event in project.events(_services(args)):
        if args.json:
            out.write(json.dumps(event.to_json(), separators=(",", ":")) + "\n")
        else:
            attrs = ", ".join(f"{k}={v}" for k, v in sorted(event.attributes.items()))
            out.write(f"{event.time} {event.type} {event.action} {event.id} ({attrs})\n")
        out.flush()
    return 0


async def _wait(project: ComposeProject, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    stopped = await project.wait(_services(args), down_project=args.down_project)
    if stopped.exit_code is None:
        return 0
    out.write(f'container "{stopped.id}" exited with status code {stopped.exit_code}\n')
    return stopped.exit_code


async def _port(project: ComposeProject, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    found = await project.port(
        args.service, args.private_port, protocol=args.protocol, index=args.index
    )
    if found is None:
        raise ValueError(f"no port {args.private_port}/{args.protocol} for {args.service}")
    out.write(f"{found}\n")
    return 0


async def _images(
    project: ComposeProject, args: argparse.Namespace, out: TextIO, err: TextIO
) -> int:
    listed = await project.images(_services(args))
    if args.quiet:
        out.write("".join(f"{i.id}\n" for i in dict.fromkeys(listed)))
    elif args.format == "json":
        out.write(json.dumps([i.to_json() for i in listed], separators=(",", ":")) + "\n")
    else:
        for i in listed:
            out.write(f"{i.container}   {i.repository}   {i.tag}   {i.id[7:19]}\n")
    return 0


async def _attached(
    project: ComposeProject, done: list[ComposeContainer], out: TextIO, args: argparse.Namespace
) -> int:
    """Print the containers' output until they exit, as an attached ``up`` does.

    ``--abort-on-container-exit`` (implied by ``--exit-code-from``) stops the project
    when the first container exits; the exit status is then that container's, or
    the ``--exit-code-from`` service's. Ctrl-C stops the project, as Compose does.
    """
    short = {item.id: item.name.removeprefix(f"{project.name}-") for item in done}
    abort = args.abort_on_container_exit or args.exit_code_from is not None
    codes: dict[str, int] = {}

    async def show_logs() -> None:
        async for line in project.logs([item.service for item in done] or None, follow=True):
            if not line.partial:
                out.write(f"{line.container}  | {line.text}\n")
                out.flush()

    async def watch(item: ComposeContainer) -> ComposeContainer:
        result = await project.docker.containers.container(item.id).wait()
        codes[item.id] = int(result.get("StatusCode", 0))
        return item

    out.write(f"Attaching to {', '.join(short[item.id] for item in done)}\n")
    logs = asyncio.create_task(show_logs())
    waits = [asyncio.create_task(watch(item)) for item in done]
    try:
        if abort:
            finished, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            first = next(iter(finished)).result()
            await project.stop(timeout=args.timeout)
            await asyncio.gather(*waits, return_exceptions=True)
        else:
            await asyncio.gather(*waits)
            first = None
        await asyncio.wait_for(asyncio.shield(logs), 5)
    except asyncio.CancelledError:
        await project.stop(timeout=args.timeout)
        raise
    finally:
        for task in (*waits, logs):
            task.cancel()
        await asyncio.gather(*waits, logs, return_exceptions=True)
    for item in done:
        if item.id in codes:
            out.write(f"{short[item.id]} exited with code {codes[item.id]}\n")
    if args.exit_code_from is not None:
        chosen = [item for item in done if item.service == args.exit_code_from]
        return codes.get(chosen[0].id, 0) if chosen else 1
    if first is not None:
        return codes.get(first.id, 0)
    return 0


def _env_args(items: Sequence[str]) -> dict[str, str]:
    environment = {}
    for item in items:
        key, sep, value = item.partition("=")
        environment[key] = value if sep else os.environ.get(key, "")
    return environment


class _Session:
    """How ``run``/``exec`` talk to the local terminal, as Compose decides it.

    A tty when standard input and ``out`` are terminals and ``-T`` is not given;
    standard input is kept open (piped) unless it cannot be read.
    """

    def __init__(self, args: argparse.Namespace, out: TextIO, err: TextIO) -> None:
        self.stdin_fd = usable_fd(sys.stdin)
        out_fd = usable_fd(out)
        self.tty = (
            not args.no_tty
            and self.stdin_fd is not None
            and os.isatty(self.stdin_fd)
            and out_fd is not None
            and os.isatty(out_fd)
        )
        self.out, self.err = byte_writer(out), byte_writer(err)

    async def relay(self, stream: Stream, resize: Resize) -> None:
        with raw_terminal(self.stdin_fd if self.tty else None):
            await relay(
                stream,
                stdin_fd=self.stdin_fd,
                out=self.out,
                err=self.err,
                resize=resize if self.tty else None,
                size_fd=self.stdin_fd,
                close_stdin=not self.tty,
            )


async def _exec(project: ComposeProject, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    session = _Session(args, out, err)
    code = await project.exec(
        args.service,
        args.exec_command,
        index=args.index,
        user=args.user,
        workdir=args.workdir,
        environment=_env_args(args.env) or None,
        privileged=args.privileged,
        detach=args.detach,
        tty=session.tty,
        stdin=session.stdin_fd is not None,
        relay=session.relay,
    )
    return code or 0


async def _one_off(
    project: ComposeProject, args: argparse.Namespace, out: TextIO, err: TextIO
) -> int:
    import shlex

    session = _Session(args, out, err)
    result = await project.run(
        args.service,
        args.run_command or None,
        entrypoint=shlex.split(args.entrypoint) if args.entrypoint else None,
        environment=_env_args(args.env) or None,
        rm=args.rm,
        detach=args.detach,
        service_ports=args.service_ports,
        no_deps=args.no_deps,
        name=args.name,
        user=args.user,
        workdir=args.workdir,
        pull=args.pull,
        tty=session.tty,
        stdin=session.stdin_fd is not None,
        relay=session.relay,
    )
    if args.detach:
        out.write(f"{result.id}\n")
        return 0
    return result.exit_code or 0


_COLOURS = ("36", "33", "32", "35", "34", "96", "93", "92", "95", "94")


async def _logs_command(
    project: ComposeProject, args: argparse.Namespace, out: TextIO, err: TextIO
) -> int:
    services = _services(args)
    containers = await project.ps(services, all=True)
    colour = not args.no_color and out.isatty()
    names = sorted({item.name.removeprefix(f"{project.name}-") for item in containers})
    async for line in project.logs(
        services,
        follow=args.follow,
        since=args.since,
        until=args.until,
        tail=args.tail,
        timestamps=args.timestamps,
    ):
        if line.partial:
            continue  # Compose prints no unterminated last line
        if args.no_log_prefix:
            out.write(f"{line.text}\n")
            continue
        prefix = f"{line.container}  | "
        if colour:
            code = _COLOURS[names.index(line.container) % len(_COLOURS)] if line.container in names else "0"
            prefix = f"\x1b[{code}m{prefix}\x1b[0m"
        out.write(f"{prefix}{line.text}\n")
        out.flush()
    return 0


async def _ls(docker: Any, args: argparse.Namespace, out: TextIO) -> int:
    projects = await list_projects(docker, all=args.all)
    for item in args.filter:
        key, _, value = item.partition("=")
        if key != "name":
            raise ValueError(f"invalid filter {key!r}")
        projects = [p for p in projects if value in p.name]
    if args.quiet:
        out.write("".join(f"{p.name}\n" for p in projects))
    elif args.format == "json":
        out.write(json.dumps([p.to_json() for p in projects], separators=(",", ":")) + "\n")
    else:
        rows = [("NAME", "STATUS", "CONFIG FILES")]
        rows += [(p.name, p.status, p.config_files) for p in projects]
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        for row in rows:
            out.write("   ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n")
    return 0


async def _ps_command(
    project: ComposeProject, args: argparse.Namespace, out: TextIO, err: TextIO
) -> int:
    services = list(args.services) or None
    found = await project.ps(services, all=args.all or bool(args.status))
    if args.status:
        found = [item for item in found if item.state in args.status]
    if args.list_services:
        for name in dict.fromkeys(item.service for item in found):
            out.write(f"{name}\n")
        return 0
    if args.quiet:
        for item in found:
            out.write(f"{item.id}\n")
        return 0
    if args.format == "json":
        for item in found:
            out.write(json.dumps(ps_json(item), separators=(",", ":")) + "\n")
        return 0
    rows = [("NAME", "IMAGE", "COMMAND", "SERVICE", "CREATED", "STATUS", "PORTS")]
    for item in found:
        rows.append(
            (item.name, item.image, _quoted_command(item.command), item.service,
             _human_ago(item.created), item.status, _ports_text(item))
        )  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        out.write("   ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() + "\n")
    return 0


def _ellipsis(text: str, width: int) -> str:
    """Cut ``text`` to ``width`` characters, the last one an ellipsis (as the docker CLI)."""
    return text if len(text) <= width else text[: width - 1] + "…"


def _quoted_command(command: str) -> str:
    return f'"{_ellipsis(command, 20)}"'


def _human_ago(created: int) -> str:
    return f"{human_duration(time.time() - created)} ago"


def _ports_text(item: ComposeContainer) -> str:
    parts = []
    for port in item.publishers:
        if port.published_port:
            host = f"[{port.url}]" if ":" in port.url else port.url
            parts.append(f"{host}:{port.published_port}->{port.target_port}/{port.protocol}")
        else:
            parts.append(f"{port.target_port}/{port.protocol}")
    return ", ".join(parts)


def _exit_code(item: ComposeContainer) -> int:
    if item.status.startswith("Exited ("):
        code = item.status[len("Exited (") :].partition(")")[0]
        if code.lstrip("-").isdigit():
            return int(code)
    return 0


def ps_json(item: ComposeContainer) -> dict[str, Any]:
    """Return one container as Compose's ``ps --format json`` prints it."""
    created = datetime.fromtimestamp(item.created, tz=timezone.utc)
    return {
        "Command": _quoted_command(item.command),
        "CreatedAt": created.strftime("%Y-%m-%d %H:%M:%S +0000 UTC"),
        "ExitCode": _exit_code(item),
        "Health": item.health,
        "ID": item.id[:12],
        "Image": item.image,
        "Labels": ",".join(f"{key}={value}" for key, value in item.labels.items()),
        "LocalVolumes": str(item.local_volumes),
        "Mounts": ",".join(_ellipsis(name, 15) for name in item.mounts),
        "Name": item.name,
        "Names": item.name,
        "Networks": ",".join(item.networks),
        "Ports": _ports_text(item),
        "Project": item.project,
        "Publishers": [port.to_json() for port in item.publishers],
        "RunningFor": _human_ago(item.created),
        "Service": item.service,
        "Size": "0B",
        "State": item.state,
        "Status": item.status,
    }


HANDLERS: dict[str, Handler] = {
    "up": _converge, "create": _converge, "down": _down, "ps": _ps_command,
    "start": _verb, "stop": _verb, "restart": _verb, "kill": _verb, "pause": _verb,
    "unpause": _verb, "rm": _verb, "events": _events, "wait": _wait, "exec": _exec,
    "run": _one_off, "port": _port, "images": _images, "logs": _logs_command, "cp": _cp,
    **dict.fromkeys(BUILD_COMMANDS, run_build_command),
}  # fmt: skip
"""The runtime subcommands by name (``ls`` needs no project and is run apart)."""
