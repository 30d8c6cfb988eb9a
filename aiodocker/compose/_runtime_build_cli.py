"""``python -m aiodocker compose build|pull|push`` and ``up/create --build/--no-build``.

Private runtime module of :mod:`aiodocker.compose`; ``_runtime_cli`` adds these
commands with :func:`add_build_commands` and hands them to :func:`run_build_command`.
Flags and exit codes are Docker Compose's (0, or 1 with one message on standard
error). As Compose does, ``build`` writes BuildKit's plain progress to standard
output (``-q``: nothing) and ``pull``/``push`` write their status lines to
standard error.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from ._runtime_build import BuildProgress
from ._units import parse_bytes
from .project import ComposeProject, ImageTransfer

if TYPE_CHECKING:
    from .. import buildkit

BUILD_COMMANDS = ("build", "pull", "push")


def add_build_commands(sub: Any) -> None:
    """Add ``build``, ``pull`` and ``push``, and ``--build``/``--no-build`` on up and create."""
    build = sub.add_parser("build", help="build or rebuild services")
    build.add_argument("--build-arg", action="append", default=[], dest="build_args")
    build.add_argument("-m", "--memory")
    build.add_argument("--no-cache", action="store_true")
    build.add_argument("--pull", action="store_true")
    build.add_argument("--push", action="store_true")
    build.add_argument("-q", "--quiet", action="store_true")
    build.add_argument("--ssh")
    build.add_argument("--with-dependencies", action="store_true")
    build.add_argument("services", nargs="*")
    pull = sub.add_parser("pull", help="pull service images")
    pull.add_argument("--ignore-buildable", action="store_true")
    pull.add_argument("--ignore-pull-failures", action="store_true")
    pull.add_argument("--include-deps", action="store_true")
    pull.add_argument("--policy", choices=("missing", "always"))
    pull.add_argument("-q", "--quiet", action="store_true")
    pull.add_argument("services", nargs="*")
    push = sub.add_parser("push", help="push service images")
    push.add_argument("--ignore-push-failures", action="store_true")
    push.add_argument("--include-deps", action="store_true")
    push.add_argument("-q", "--quiet", action="store_true")
    push.add_argument("services", nargs="*")
    for verb in ("up", "create"):
        parser = sub.choices.get(verb)
        if parser is not None:
            group = parser.add_mutually_exclusive_group()
            group.add_argument("--build", action="store_true")
            group.add_argument("--no-build", action="store_true")


def build_policy(args: argparse.Namespace) -> bool | None:
    """``up``'s build choice: True (``--build``), False (``--no-build``), None (when missing)."""
    if getattr(args, "build", False):
        return True
    if getattr(args, "no_build", False):
        return False
    return None


def build_args(values: Sequence[str], environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """``--build-arg KEY=VALUE`` items; a bare ``KEY`` takes its value from the environment
    (and is left out when the variable is not set), as Compose does."""
    env = os.environ if environ is None else environ
    found: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not key:
            raise ValueError(f"invalid --build-arg {item!r}: expected KEY[=VALUE]")
        if sep:
            found[key] = value
        elif key in env:
            found[key] = env[key]
    return found


async def run_build_command(
    project: ComposeProject, args: argparse.Namespace, out: TextIO, err: TextIO
) -> int:
    """Run ``build``, ``pull`` or ``push``; return the exit status (a failed build raises)."""
    services = list(args.services) or None
    if args.command == "pull":
        items = await project.pull(
            services,
            ignore_pull_failures=True,  # every line is printed first, then the error
            ignore_buildable=args.ignore_buildable,
            include_deps=args.include_deps,
            policy=args.policy,
        )
        return _finish(project, items, err, args, "Pulled", args.ignore_pull_failures)
    if args.command == "push":
        items = await project.push(
            services, ignore_push_failures=True, include_deps=args.include_deps
        )
        return _finish(project, items, err, args, "Pushed", args.ignore_push_failures)
    show = build_printer(out)
    built = await project.build(
        services,
        no_cache=args.no_cache,
        pull=args.pull,
        build_args=build_args(args.build_args) or None,
        ssh=[args.ssh] if args.ssh else (),
        memory=parse_bytes(args.memory) if args.memory else None,
        with_dependencies=args.with_dependencies,
        progress=None if args.quiet else show,
    )
    if not args.quiet:
        for item in built:
            err.write(f" {item.service}  Built\n")
    if args.push:
        pushed = await project.push(
            [item.service for item in built] if services else None, ignore_push_failures=True
        )
        return _finish(project, pushed, err, args, "Pushed", False)
    return 0


def build_printer(out: TextIO) -> BuildProgress:
    """Return a build progress callback that prints BuildKit's plain lines of each build."""
    renderers: dict[str, buildkit.PlainRenderer] = {}

    def show(service: str, event: buildkit.BuildEvent) -> None:
        from .. import buildkit  # when a build runs: up without one need not import it

        renderer = renderers.setdefault(service, buildkit.PlainRenderer())
        for line in renderer.render(event):
            out.write(line + "\n")
        out.flush()

    return show


def _finish(
    project: ComposeProject,
    items: Sequence[ImageTransfer],
    err: TextIO,
    args: argparse.Namespace,
    done: str,
    ignore_failures: bool,
) -> int:
    """Print a line per service as Compose does, then the first failure's error (status 1)."""
    if not args.quiet:
        for item in items:
            if item.status == "skipped":
                text = item.message if item.message == "Skipped" else f"Skipped - {item.message}"
            elif item.status == "failed":  # a buildable service's failure is a warning
                buildable = project.services[item.service].get("build") is not None
                text = f"{'Warning' if buildable else 'Error'} {item.message}"
            else:
                text = done
            err.write(f" {item.service} {text}\n")
    failed = [item for item in items if item.status == "failed"]
    if failed and not ignore_failures:
        err.write(f"{failed[0].message}\n")
        err.flush()
        return 1
    err.flush()
    return 0
