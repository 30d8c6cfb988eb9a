"""Loading a project: files, env files, interpolation, include, extends, merge, profiles."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from . import _canonical as canonical
from ._dotenv import read_dotenv
from ._errors import ComposeError
from ._interpolate import interpolate_tree, mapping_lookup
from ._merge import merge_document, merge_service, strip_markers
from ._model import Project, Service
from ._schema import validate
from ._yaml import load_documents, markers_read

DEFAULT_FILES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def normalize_project_name(name: str) -> str:
    """A directory name as a project name: lower case, only ``a-z0-9_-``, no leading ``_-``."""
    return re.sub(r"[^a-z0-9_-]", "", name.lower()).lstrip("_-")


def find_default_files(start: str) -> list[str]:
    """``compose.yaml`` (or its other names) in ``start`` or the nearest parent, plus its override."""
    directory = os.path.abspath(start)
    while True:
        for candidate in DEFAULT_FILES:
            path = os.path.join(directory, candidate)
            if os.path.isfile(path):
                stem, ext = os.path.splitext(candidate)
                override = os.path.join(directory, f"{stem}.override{ext}")
                if not os.path.isfile(override):
                    alt = ".yml" if ext == ".yaml" else ".yaml"
                    override = os.path.join(directory, f"{stem}.override{alt}")
                return [path, override] if os.path.isfile(override) else [path]
        parent = os.path.dirname(directory)
        if parent == directory:
            raise ComposeError(
                "no configuration file provided: not found (looked for "
                + ", ".join(DEFAULT_FILES) + f" from {start})"
            )
        directory = parent


class _Loader:
    def __init__(self, environment: dict[str, str], profiles: list[str]) -> None:
        self.environment = environment
        self.lookup = mapping_lookup(environment)
        self.profiles = profiles
        self.loading: list[str] = []
        self.warnings: list[str] = []

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def read_file(self, path: str, base_dir: str, *, check: bool = True) -> dict[str, Any]:
        """One file, interpolated, validated, canonical, its extends and includes resolved."""
        try:
            if path == "-":
                text = sys.stdin.read()
            else:
                with open(path, encoding="utf-8") as stream:
                    text = stream.read()
        except OSError as exc:
            raise ComposeError(f"cannot read compose file: {exc.strerror or exc}", file=path) from None
        merged: dict[str, Any] = {}
        for document in load_documents(text, path):
            merged = merge_document(merged, self.read_document(document, path, base_dir, check=check))
        return merged

    def read_document(self, document: Any, path: str, base_dir: str, *, check: bool = True) -> dict[str, Any]:
        if not isinstance(document, dict):
            raise ComposeError("top-level object must be a mapping", file=path)
        try:
            document = interpolate_tree(document, self.lookup, "", self.warn)
        except ComposeError as exc:
            raise ComposeError(exc.problem, file=path, path=exc.path) from None
        plain = strip_markers(document) if markers_read() else document
        if check:
            try:
                validate(plain, path)
            except ComposeError:
                raise
        ctx = canonical.Context(base_dir, path, self.lookup)
        out: dict[str, Any] = {}
        for key, value in document.items():
            if key == "services":
                out[key] = {str(n): canonical.service(str(n), s, ctx) for n, s in (value or {}).items()}
            elif key in ("networks", "volumes", "secrets", "configs"):
                out[key] = canonical.named_resources(key, value, ctx)
            elif key == "version":
                continue
            else:
                out[key] = value
        services = out.get("services") or {}
        for name in list(services):
            services[name] = self.resolve_extends(name, services, path, base_dir, [])
        if "include" in out:
            out = self.apply_include(out, path, base_dir)
        return out

    def resolve_extends(
        self, name: str, services: dict[str, Any], path: str, base_dir: str, chain: list[str]
    ) -> dict[str, Any]:
        spec = services[name]
        if not isinstance(spec, dict) or "extends" not in spec:
            return spec
        extends = spec["extends"]
        key = f"{path}#{name}"
        if key in chain:
            raise ComposeError(f"circular reference in extends: {' -> '.join([*chain, key])}", file=path,
                               path=f"services.{name}.extends")
        target = str(extends.get("service", ""))
        other = extends.get("file")
        if other:
            other_path = os.path.normpath(os.path.join(os.path.dirname(path), str(other)))
            other_services = self.read_file(other_path, os.path.dirname(other_path), check=True).get("services") or {}
            if target not in other_services:
                raise ComposeError(f"cannot extend service {target!r}: not found in {other_path}", file=path,
                                   path=f"services.{name}.extends")
            base = self.resolve_extends(target, other_services, other_path, os.path.dirname(other_path), [*chain, key])
        else:
            if target not in services:
                raise ComposeError(f"cannot extend service {target!r}: no such service", file=path,
                                   path=f"services.{name}.extends")
            base = self.resolve_extends(target, services, path, base_dir, [*chain, key])
            services[target] = base
        own = {k: v for k, v in spec.items() if k != "extends"}
        base = {k: v for k, v in base.items() if k != "extends"}
        return merge_service(base, own)

    def apply_include(self, document: dict[str, Any], path: str, base_dir: str) -> dict[str, Any]:
        includes = document.pop("include") or []
        merged_includes: dict[str, Any] = {}
        for index, entry in enumerate(includes):
            if isinstance(entry, str):
                entry = {"path": entry}
            paths = entry.get("path")
            paths = [paths] if isinstance(paths, str) else list(paths or [])
            if not paths:
                raise ComposeError("include needs a path", file=path, path=f"include[{index}]")
            files = [os.path.normpath(os.path.join(base_dir, p)) for p in paths]
            project_dir = entry.get("project_directory")
            project_dir = os.path.normpath(os.path.join(base_dir, project_dir)) if project_dir else os.path.dirname(files[0])
            env_files = entry.get("env_file")
            env_files = [env_files] if isinstance(env_files, str) else list(env_files or [])
            environment = dict(self.environment)
            env_paths = [os.path.normpath(os.path.join(base_dir, e)) for e in env_files]
            if not env_paths and os.path.isfile(os.path.join(project_dir, ".env")):
                env_paths = [os.path.join(project_dir, ".env")]
            for env_path in env_paths:
                values = read_dotenv(env_path, self.lookup)
                for k, v in values.items():
                    environment.setdefault(k, v)
            for file in files:
                if file in self.loading:
                    raise ComposeError(f"include cycle: {' -> '.join([*self.loading, file])}", file=path)
            sub = _Loader(environment, self.profiles)
            sub.loading = [*self.loading, path, *files]
            included: dict[str, Any] = {}
            for file in files:
                included = merge_document(included, sub.read_file(file, project_dir))
            for warning in sub.warnings:
                self.warn(warning)
            for section in ("services", "networks", "volumes", "secrets", "configs", "models"):
                for key, value in (included.get(section) or {}).items():
                    existing = merged_includes.setdefault(section, {})
                    if key in existing and existing[key] != value:
                        raise ComposeError(f"imported {section[:-1]} {key!r} conflicts with another include",
                                           file=path, path=f"include[{index}]")
                    existing[key] = value
        for section, table in merged_includes.items():
            own = document.get(section) or {}
            for key, value in table.items():
                if key in own:
                    if own[key] != value:
                        raise ComposeError(f"{section}.{key} conflicts with imported resource", file=path)
                    continue
                own[key] = value
            document[section] = own
        return document


def _split_list(value: str | None, separator: str) -> list[str]:
    return [part for part in (value or "").split(separator) if part]


def _dotenv_of(
    directory: str, env_files: Sequence[str] | None, cwd: str, process_env: dict[str, str]
) -> dict[str, str]:
    """Return the env files' variables: the explicit ones (from ``cwd``), else ``directory``'s ``.env``."""
    if env_files:
        values: dict[str, str] = {}
        for env_file in env_files:
            values.update(read_dotenv(os.path.join(cwd, env_file), mapping_lookup(process_env, values)))
        return values
    default = os.path.join(directory, ".env")
    if os.path.isfile(default):
        return read_dotenv(default, process_env.get)
    return {}


def _default_paths(directory: str, early_env: Mapping[str, str]) -> list[str]:
    """The compose files without ``-f``: ``COMPOSE_FILE``'s, else the default ones."""
    compose_file = early_env.get("COMPOSE_FILE")
    if not compose_file:
        return find_default_files(directory)
    separator = early_env.get("COMPOSE_PATH_SEPARATOR") or os.pathsep
    files = _split_list(compose_file, separator)
    return [os.path.normpath(os.path.join(directory, f)) for f in files]


def _project_name(
    given: str | None,
    environment: Mapping[str, str],
    model: Mapping[str, Any],
    first_file: str,
    working_dir: str,
) -> str:
    """The project's name: ``-p``, ``COMPOSE_PROJECT_NAME``, ``name:`` or the directory's.

    Raises:
        ComposeError: the name is not a valid project name, or none can be derived.
    """
    name = given or environment.get("COMPOSE_PROJECT_NAME")
    if name:
        if not _NAME.match(name):
            raise ComposeError(
                f"invalid project name {name!r}: must contain only lowercase letters, digits, dashes and"
                " underscores, and start with a letter or digit"
            )
        return name
    if model.get("name"):
        name = str(model["name"])
        if not _NAME.match(name):
            raise ComposeError(f"invalid project name {name!r}", file=first_file, path="name")
        return name
    name = normalize_project_name(os.path.basename(working_dir))
    if not name:
        raise ComposeError(f"cannot derive a project name from the directory {working_dir!r}; use -p")
    return name


def load_project(
    files: Sequence[str] | None = None,
    *,
    project_name: str | None = None,
    project_directory: str | None = None,
    profiles: Sequence[str] | None = None,
    env_files: Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: str | None = None,
) -> Project:
    """Load a compose project as ``docker compose`` does.

    Args:
        files: the compose files (``-f``; ``-`` reads standard input), in order; None for ``COMPOSE_FILE`` or the default
            ``compose.yaml`` (searched from ``cwd`` up) and its ``compose.override.yaml``.
        project_name: ``-p``; else ``COMPOSE_PROJECT_NAME``, the top-level ``name``, or the
            project directory's name.
        project_directory: ``--project-directory``; else the first file's directory.
        profiles: ``--profile`` values; else ``COMPOSE_PROFILES``.
        env_files: ``--env-file`` paths; else ``COMPOSE_ENV_FILES`` (comma-separated), else
            the project directory's ``.env``.
        environ: the process environment (default ``os.environ``).
        cwd: the directory relative paths given here are resolved against (default the
            current one).

    Returns:
        The normalised [Project][aiodocker.compose.Project].

    Raises:
        ComposeError: a file is missing, malformed or invalid (it names file, path, problem).
    """
    cwd = os.path.abspath(cwd or os.getcwd())
    process_env = dict(os.environ if environ is None else environ)
    if not env_files and process_env.get("COMPOSE_ENV_FILES"):
        env_files = [item for item in process_env["COMPOSE_ENV_FILES"].split(",") if item]
    explicit_dir = os.path.normpath(os.path.join(cwd, project_directory)) if project_directory else None

    if files:
        paths = [f if f == "-" else os.path.normpath(os.path.join(cwd, f)) for f in files]
    else:
        start = explicit_dir or cwd
        paths = _default_paths(start, {**_dotenv_of(start, env_files, cwd, process_env), **process_env})
    working_dir = explicit_dir or (cwd if paths[0] == "-" else os.path.dirname(paths[0]))
    environment = {**_dotenv_of(working_dir, env_files, cwd, process_env), **process_env}
    if profiles is None:
        profiles = [p.strip() for p in _split_list(environment.get("COMPOSE_PROFILES"), ",")]
    loader = _Loader(environment, list(profiles))
    model: dict[str, Any] = {}
    origins: dict[str, str] = {}  # service -> the last file that defines or changes it
    for path in paths:
        document = loader.read_file(path, working_dir)
        for service in document.get("services") or {}:
            origins[service] = path
        model = merge_document(model, document)
    name = _project_name(project_name, environment, model, paths[0], working_dir)
    from ._normalize import finish

    if markers_read():
        model = strip_markers(model)
    try:
        project = finish(model, name=name, working_dir=working_dir, environment=environment,
                         config_files=paths, profiles=list(profiles), lookup=loader.lookup)
    except ComposeError as exc:
        # a check of the merged project: blame the file that last touched the service
        parts = exc.path.split(".")
        if exc.file is None and len(parts) > 1 and parts[0] == "services" and parts[1] in origins:
            raise ComposeError(exc.problem, file=origins[parts[1]], path=exc.path) from None
        raise
    project.warnings = loader.warnings
    project.environment_files = [os.path.normpath(os.path.join(cwd, f)) for f in env_files or ()]
    return project


__all__ = ["load_project", "normalize_project_name", "Project", "Service"]
