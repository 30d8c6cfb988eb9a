"""``python -m aiodocker compose [options] config [flags]``: Docker Compose's ``config``.

Global options (before the command): ``-f/--file`` (repeatable), ``-p/--project-name``,
``--profile`` (repeatable), ``--env-file`` (repeatable), ``--project-directory``.
``config`` flags: ``--format json|yaml``, ``--services``, ``--volumes``, ``--networks``,
``--profiles``, ``--images``, ``-q/--quiet``.  Exit status as Compose's: 0 on success,
1 on any error (an invalid project, a usage error), with one message on standard error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from typing import NoReturn, TextIO

from ._errors import ComposeError


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m aiodocker compose", add_help=True)
    parser.add_argument("-f", "--file", action="append", dest="files", metavar="FILE")
    parser.add_argument("-p", "--project-name", dest="project_name")
    parser.add_argument("--profile", action="append", dest="profiles")
    parser.add_argument("--env-file", action="append", dest="env_files")
    parser.add_argument("--project-directory", dest="project_directory")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    config = sub.add_parser("config", help="parse, resolve and render the compose file")
    config.add_argument("--format", choices=("yaml", "json"), default="yaml")
    for flag in ("services", "volumes", "networks", "profiles", "images"):
        config.add_argument(f"--{flag}", action="store_true", dest=f"list_{flag}")
    config.add_argument("-q", "--quiet", action="store_true")
    config.add_argument("-o", "--output")
    from ._runtime_cli import add_commands  # up, down, ps, ... (the runtime's commands)

    add_commands(sub)
    return parser


def main(
    argv: list[str],
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
    environ: Mapping[str, str] | None = None,
) -> int:
    """Run ``compose`` with ``argv`` (the words after ``compose``); return the exit status."""
    from ._loader import load_project

    try:
        args = _parser().parse_args(argv)
    except _UsageError as exc:
        err.write(f"{exc}\n")
        return 1
    if args.command is None:
        err.write("a command is required: config, up, down, ps, ...\n")
        return 1
    if args.command == "ls":  # needs no project (the runtime's command)
        from ._runtime_cli import run

        return run(args, None, out, err)
    try:
        project = load_project(
            args.files,
            project_name=args.project_name,
            project_directory=args.project_directory,
            profiles=args.profiles,
            env_files=args.env_files,
            environ=environ,
        )
    except ComposeError as exc:
        err.write(f"{exc}\n")
        return 1
    for warning in project.warnings:
        err.write(f"WARN: {warning}\n")
    if args.command != "config":
        from ._runtime_cli import run

        return run(args, project, out, err)
    if args.quiet:
        return 0
    lines: list[str] | None = None
    if args.list_services:
        lines = project.service_names()
    elif args.list_volumes:
        lines = sorted(project.volumes)
    elif args.list_networks:
        lines = sorted(project.networks)
    elif args.list_profiles:
        names = set()
        for spec in [*project.services.values(), *project.disabled_services.values()]:
            names.update(spec.get("profiles") or [])
        lines = sorted(names)
    elif args.list_images:
        lines = project.images()
    if lines is not None:
        text = "".join(f"{line}\n" for line in lines)
    elif args.format == "json":
        text = project.to_json()
    else:
        text = project.to_yaml()
    if args.output:
        with open(args.output, "w", encoding="utf-8") as stream:
            stream.write(text)
    else:
        out.write(text)
    return 0
