"""Run a compose project on a daemon: ``ComposeProject`` (up, down, ps, start, stop, ...).

The input is the project's normalised JSON (the shape ``docker compose config
--format json`` prints, which the compose model produces).  What this runtime
creates carries Docker Compose v2's names and labels, and its config hashes are
Compose's, so each tool manages what the other brought up: ``docker compose up``
after ``ComposeProject.up`` recreates nothing, and the reverse holds too.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from ..exceptions import DockerError, DockerNotFoundError
from . import _runtime_labels as labels
from ._runtime_build import (
    BuildProgress,
    BuiltImage,
    ImageTransfer,
    TransferProgress,
    build_services,
    ensure_image,
    image_name,
    pull_services,
    push_services,
)
from ._runtime_convert import (
    FileGrant,
    ProjectContext,
    create_body,
    endpoint_config,
    file_grants,
    grants_tar,
    ordered_networks,
)
from ._runtime_events import ComposeDependencyError, ComposeServiceError, StateWatch
from ._runtime_hash import network_hash, service_hash, volume_hash
from ._runtime_tty import Resize

if TYPE_CHECKING:
    from ..containers import DockerContainer
    from ..docker import Docker
    from ..stream import Stream

__all__ = [
    "BuiltImage",
    "ComposeContainer",
    "ComposeDependencyError",
    "ComposeEvent",
    "ComposeProject",
    "ComposeServiceError",
    "ImageTransfer",
    "LogLine",
    "OneOff",
    "ProjectSummary",
    "Publisher",
    "ServiceImage",
    "list_projects",
]

_T = TypeVar("_T")
log = logging.getLogger(__name__)

PullPolicy = Literal["always", "missing", "never"]
DEFAULT_PARALLELISM = 8
Relay = Callable[["Stream", Resize], Awaitable[None]]
"""An interactive session's relay: given the attached stream and a tty ``resize``."""
_SUMMARY_KEYS = (
    "Id", "Names", "Image", "Command", "Created", "Ports", "Labels", "State", "Status",
    "NetworkSettings", "Mounts",
)  # fmt: skip
_SERVICE_CONDITIONS = ("service_started", "service_healthy", "service_completed_successfully")


@dataclass(frozen=True)
class Publisher:
    """One published port of a container (as Compose's ``ps --format json`` shows it)."""

    url: str
    target_port: int
    published_port: int
    protocol: str

    def to_json(self) -> dict[str, Any]:
        """Return Compose's JSON form (``URL``, ``TargetPort``, ``PublishedPort``, ``Protocol``)."""
        return {
            "URL": self.url,
            "TargetPort": self.target_port,
            "PublishedPort": self.published_port,
            "Protocol": self.protocol,
        }


@dataclass(frozen=True)
class LogLine:
    """One line of a container's output; ``stream`` is ``"stdout"`` or ``"stderr"``.

    ``container`` is the name Compose prefixes lines with (the container's name
    without the project's); ``partial`` marks a last line that had no newline.
    """

    container: str
    service: str
    stream: str
    text: str
    partial: bool = False


@dataclass(frozen=True)
class ComposeContainer:
    """A container of a project, from the daemon's container listing."""

    id: str
    name: str
    project: str
    service: str
    number: int
    oneoff: bool
    image: str
    command: str
    state: str
    status: str
    created: int
    labels: Mapping[str, str] = field(repr=False)
    networks: tuple[str, ...] = ()
    publishers: tuple[Publisher, ...] = ()
    mounts: tuple[str, ...] = ()
    local_volumes: int = 0
    network_ids: tuple[str, ...] = field(default=(), repr=False)
    volume_names: tuple[str, ...] = field(default=(), repr=False)

    @property
    def health(self) -> str:
        """``healthy``, ``unhealthy``, ``starting`` or ``""`` (no healthcheck), from the status."""
        for value in ("unhealthy", "healthy", "health: starting"):
            if f"({value})" in self.status:
                return value.replace("health: ", "")
        return ""

    @property
    def config_hash(self) -> str:
        """The ``com.docker.compose.config-hash`` label."""
        return self.labels.get(labels.CONFIG_HASH, "")

    @classmethod
    def from_summary(cls, summary: Mapping[str, Any]) -> ComposeContainer:
        """Build one from an entry of ``GET /containers/json``."""
        tags = dict(summary.get("Labels") or {})
        names = summary.get("Names") or [""]
        number = tags.get(labels.CONTAINER_NUMBER, "0")
        ports = []
        for port in summary.get("Ports") or ():
            ports.append(
                Publisher(
                    url=str(port.get("IP") or ""),
                    target_port=int(port.get("PrivatePort") or 0),
                    published_port=int(port.get("PublicPort") or 0),
                    protocol=str(port.get("Type") or "tcp"),
                )
            )
        networks = tuple(sorted((summary.get("NetworkSettings") or {}).get("Networks") or {}))
        mounts = [
            str(mount.get("Name") or mount.get("Source") or "")
            for mount in summary.get("Mounts") or ()
        ]
        local = sum(
            1
            for mount in summary.get("Mounts") or ()
            if mount.get("Type") == "volume" and mount.get("Driver") == "local"
        )
        return cls(
            id=str(summary.get("Id")),
            name=str(names[0]).lstrip("/"),
            project=tags.get(labels.PROJECT, ""),
            service=tags.get(labels.SERVICE, ""),
            number=int(number) if number.isdigit() else 0,
            oneoff=tags.get(labels.ONEOFF) == "True",
            image=str(summary.get("Image") or ""),
            command=str(summary.get("Command") or ""),
            state=str(summary.get("State") or ""),
            status=str(summary.get("Status") or ""),
            created=int(summary.get("Created") or 0),
            labels=tags,
            networks=networks,
            publishers=tuple(ports),
            mounts=tuple(mounts),
            local_volumes=local,
            network_ids=tuple(
                str(value.get("NetworkID") or "")
                for value in ((summary.get("NetworkSettings") or {}).get("Networks") or {}).values()
            ),
            volume_names=tuple(
                str(mount.get("Name") or "")
                for mount in summary.get("Mounts") or ()
                if mount.get("Type") == "volume"
            ),
        )


def _model_parts(model: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return (normalised dict, project metadata) of a model object or a plain mapping."""
    if isinstance(model, Mapping):
        return dict(model), {}
    meta: dict[str, Any] = {}
    for attr in ("working_dir", "project_directory", "workdir"):
        value = getattr(model, attr, None)
        if value:
            meta["working_dir"] = str(value)
            break
    for attr in ("config_files", "files", "compose_files"):
        value = getattr(model, attr, None)
        if value:
            meta["config_files"] = [str(item) for item in value]
            break
    for attr in ("environment_files", "env_files"):
        value = getattr(model, attr, None)
        if value:
            meta["environment_files"] = [str(item) for item in value]
            break
    environment = getattr(model, "environment", None)
    if isinstance(environment, Mapping):
        meta["environment"] = {str(k): str(v) for k, v in environment.items() if v is not None}
    for method in ("to_json", "to_dict", "as_dict", "model_dump", "dict"):
        func = getattr(model, method, None)
        if callable(func):
            data = func()
            if isinstance(data, Mapping):
                return dict(data), meta
    raise TypeError(
        f"a compose project must be its normalised JSON mapping or a model object with "
        f"to_json()/to_dict(), not {type(model).__name__}"
    )


class ComposeProject:
    """A compose project bound to a daemon: ``up``, ``down``, ``ps`` and the lifecycle verbs.

    ``model`` is the project's normalised JSON (``docker compose config --format
    json``) or the compose model's project object. ``working_dir``, ``config_files``
    and ``environment_files`` go into the project labels as Compose writes them
    (the model's own values are used when it has them).
    """

    def __init__(
        self,
        docker: Docker,
        model: Any,
        *,
        name: str | None = None,
        working_dir: str | None = None,
        config_files: Sequence[str] = (),
        environment_files: Sequence[str] = (),
        parallelism: int = DEFAULT_PARALLELISM,
        progress: Callable[[str, str], None] | None = None,
    ) -> None:
        data, meta = _model_parts(model)
        project_name = name or data.get("name")
        if not project_name or not isinstance(project_name, str):
            raise ValueError("the compose project has no name (give name=...)")
        services = data.get("services") or {}
        if not isinstance(services, Mapping):
            raise ValueError("the compose project's services must be a mapping")
        if parallelism < 1:
            raise ValueError(f"parallelism must be >= 1, got {parallelism!r}")
        self.docker = docker
        self.name: str = project_name
        self.services: dict[str, dict[str, Any]] = {k: dict(v) for k, v in services.items()}
        self.networks: dict[str, dict[str, Any]] = {
            key: dict(value or {}) for key, value in (data.get("networks") or {}).items()
        }
        self.volumes: dict[str, dict[str, Any]] = {
            key: dict(value or {}) for key, value in (data.get("volumes") or {}).items()
        }
        self.secrets: dict[str, dict[str, Any]] = dict(data.get("secrets") or {})
        self.configs: dict[str, dict[str, Any]] = dict(data.get("configs") or {})
        given = meta.get("environment")
        self.environment: dict[str, str] = dict(given if given is not None else os.environ)
        self.working_dir = working_dir or meta.get("working_dir")
        self.config_files = list(config_files or meta.get("config_files") or ())
        self.environment_files = list(environment_files or meta.get("environment_files") or ())
        self.parallelism = parallelism
        self.progress = progress
        self._context = ProjectContext(
            name=self.name,
            networks=self.networks,
            volumes=self.volumes,
            labels=labels.project_labels(
                self.name,
                working_dir=self.working_dir,
                config_files=self.config_files,
                environment_files=self.environment_files,
            ),
            secrets=self.secrets,
            configs=self.configs,
        )

    def __repr__(self) -> str:
        return f"ComposeProject({self.name!r}, services={sorted(self.services)!r})"

    def _report(self, resource: str, status: str) -> None:
        if self.progress is not None:
            self.progress(resource, status)

    async def _step(self, resource: str, words: tuple[str, str], call: Awaitable[_T]) -> _T:
        """Await ``call``, reporting ``words`` (``("Starting", "Started")``) around it."""
        self._report(resource, words[0])
        result = await call
        self._report(resource, words[1])
        return result

    # ------------------------------------------------------------------ selection

    def _select(self, services: Iterable[str] | None, *, with_deps: bool) -> list[str]:
        if services is None:
            return list(self.services)
        chosen: list[str] = []
        for name in services:
            if name not in self.services:
                raise ValueError(f"no such service: {name!r}")
            chosen.append(name)
        if with_deps:
            stack = list(chosen)
            while stack:
                for dep, spec in (self.services[stack.pop()].get("depends_on") or {}).items():
                    if dep in self.services and dep not in chosen:
                        if (spec or {}).get("required", True) or dep in self.services:
                            chosen.append(dep)
                            stack.append(dep)
        return [name for name in self.services if name in chosen]

    def _deps(self, service: str) -> dict[str, dict[str, Any]]:
        return {
            dep: dict(spec or {})
            for dep, spec in (self.services[service].get("depends_on") or {}).items()
        }

    async def _in_order(
        self,
        selected: Sequence[str],
        action: Callable[[str], Awaitable[None]],
        *,
        reverse: bool = False,
        bounded: bool = True,
    ) -> None:
        """Run ``action`` on each service after its dependencies (dependents first if reverse).

        Independent services run concurrently, at most ``parallelism`` at a time
        (``bounded=False``: the action bounds its own daemon calls, so that waiting
        for a dependency holds no slot).
        """
        chosen = set(selected)
        waits_for: dict[str, set[str]] = {name: set() for name in selected}
        for name in selected:
            for dep in self._deps(name):
                if dep in chosen:
                    if reverse:
                        waits_for[dep].add(name)
                    else:
                        waits_for[name].add(dep)
        done: dict[str, asyncio.Future[None]] = {
            name: asyncio.get_running_loop().create_future() for name in selected
        }
        bound = asyncio.Semaphore(self.parallelism)

        async def run(name: str) -> None:
            try:
                for other in waits_for[name]:
                    await asyncio.shield(done[other])
                if bounded:
                    async with bound:
                        await action(name)
                else:
                    await action(name)
            except BaseException as exc:
                if not done[name].done():
                    done[name].set_exception(exc)
                raise
            else:
                done[name].set_result(None)

        tasks = [asyncio.create_task(run(name)) for name in selected]
        try:
            results = await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            for task in tasks:
                task.cancel()
            for future in done.values():
                if future.done() and not future.cancelled():
                    future.exception()  # retrieved: the first error is raised below
        for result in results:
            if isinstance(result, BaseException):
                raise result

    # ------------------------------------------------------------------ queries

    async def _list(
        self, *, services: Iterable[str] | None = None, oneoff: bool | None = False
    ) -> list[ComposeContainer]:
        listed = await self.docker.containers.list(
            all=True, filters=labels.project_filter(self.name, oneoff=oneoff)
        )
        raw = [{key: item[key] for key in _SUMMARY_KEYS if key in item} for item in listed]
        found = [ComposeContainer.from_summary(item) for item in raw]
        if services is not None:
            wanted = set(services)
            found = [item for item in found if item.service in wanted]
        return sorted(found, key=lambda item: (item.service, item.number, item.name))

    async def ps(
        self, services: Iterable[str] | None = None, *, all: bool = False
    ) -> list[ComposeContainer]:
        """Return the project's containers (running ones unless ``all``), by service and number.

        One-off (``run``) containers are listed too, as Compose lists them.
        """
        found = await self._list(services=services, oneoff=None)
        if not all:
            found = [item for item in found if item.state in ("running", "restarting", "paused")]
        return found

    async def logs(
        self,
        services: Iterable[str] | None = None,
        *,
        follow: bool = False,
        since: str | int | None = None,
        until: str | int | None = None,
        tail: int | str | None = None,
        timestamps: bool = False,
    ) -> AsyncIterator[LogLine]:
        """Yield the containers' output line by line, merged as it arrives.

        stdout and stderr stay apart (``LogLine.stream``). With ``follow`` the
        iteration lasts until every container has stopped (or the caller stops
        iterating, which closes the streams).
        """
        found = await self._list(services=self._select(services, with_deps=False))
        params: dict[str, Any] = {"timestamps": timestamps}
        if since is not None:
            params["since"] = since
        if until is not None:
            params["until"] = until
        if tail is not None and str(tail) != "all":
            params["tail"] = str(tail)
        queue: asyncio.Queue[LogLine | BaseException | None] = asyncio.Queue(maxsize=1024)

        async def pump(item: ComposeContainer) -> None:
            short = item.name.removeprefix(f"{self.name}-") if item.number else item.name
            pending = {1: b"", 2: b""}
            try:
                stream = self.docker.containers.container(item.id).log_messages(
                    follow=follow, **params
                )
                async for message in stream:
                    data = pending[message.stream] + bytes(message.data)
                    *lines, pending[message.stream] = data.split(b"\n")
                    for line in lines:
                        await queue.put(_log_line(short, item.service, message.stream, line))
                for number, rest in pending.items():
                    if rest:
                        await queue.put(_log_line(short, item.service, number, rest, True))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                await queue.put(exc)
            finally:
                await queue.put(None)

        tasks = [asyncio.create_task(pump(item)) for item in found]
        remaining = len(tasks)
        try:
            while remaining:
                got = await queue.get()
                if got is None:
                    remaining -= 1
                elif isinstance(got, BaseException):
                    raise got
                else:
                    yield got
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def run(
        self,
        service: str,
        command: Sequence[str] | None = None,
        *,
        entrypoint: Sequence[str] | None = None,
        environment: Mapping[str, str] | None = None,
        rm: bool = False,
        detach: bool = False,
        service_ports: bool = False,
        no_deps: bool = False,
        name: str | None = None,
        user: str | None = None,
        workdir: str | None = None,
        pull: PullPolicy | None = None,
        on_output: Callable[[LogLine], Awaitable[None] | None] | None = None,
        tty: bool = False,
        stdin: bool = False,
        relay: Relay | None = None,
    ) -> OneOff:
        """Run a one-off container of ``service`` (``docker compose run``).

        Dependencies are brought up first unless ``no_deps``. The container is
        labelled ``oneoff=True`` and named ``{project}-{service}-run-{slug}`` unless
        ``name`` is given; ports are published only with ``service_ports``. Without
        ``detach`` it waits for the exit, passing each output line to ``on_output``,
        and ``rm`` removes the container afterwards.

        For an interactive session, ``relay`` is given the container's attached
        stream (``stdin`` attaches its input; ``tty`` allocates a terminal) once the
        container has started, and a ``resize(height, width)`` for its tty; the run
        ends when the relay returns.

        Raises:
            ValueError: no such service.
            ComposeServiceError: a dependency or the container failed to start.
        """
        self._select([service], with_deps=False)
        if not no_deps:
            deps = [dep for dep in self._select([service], with_deps=True) if dep != service]
            if deps:
                await self.up(deps, pull=pull)
        spec = dict(self.services[service])
        for key, value in (("command", command), ("entrypoint", entrypoint)):
            if value is not None:
                spec[key] = list(value)
        for key, text in (("user", user), ("working_dir", workdir)):
            if text is not None:
                spec[key] = text
        if environment:
            spec["environment"] = {**(spec.get("environment") or {}), **environment}
        if not service_ports:
            spec.pop("ports", None)
        container, final = await self._one_off_container(
            service, spec, name=name, pull=pull, tty=tty, stdin=stdin
        )
        if detach:
            await self._start_container(service, container)
            return OneOff(container.id, final, None)
        try:
            if relay is not None:
                await self._relay_one_off(service, container, relay, stdin=stdin)
            else:
                await self._start_container(service, container)
                await _follow_output(container, final, service, on_output)
            outcome = await container.wait()
        finally:
            if rm:
                await container.delete(force=True)
        return OneOff(container.id, final, int(outcome.get("StatusCode", -1)))

    async def _one_off_container(
        self,
        service: str,
        spec: dict[str, Any],
        *,
        name: str | None,
        pull: PullPolicy | None,
        tty: bool,
        stdin: bool,
    ) -> tuple[DockerContainer, str]:
        """Create (not start) ``run``'s container from the overridden ``spec``."""
        await self._ensure_networks(set((spec.get("networks") or {}).keys()))
        await self._ensure_volumes(assume_yes=False)
        spec.pop("restart", None)
        spec.pop("container_name", None)
        spec["stdin_open"] = True
        spec["tty"] = tty
        plan = _Plan(
            bound=asyncio.Semaphore(1), selected={service}, pull=pull, force_recreate=False,
            no_recreate=False, scale=None, timeout=None,
        )  # fmt: skip
        image_id = await plan.image_id(self, service)
        slug = os.urandom(32).hex()
        final = name or labels.oneoff_name(self.name, service, slug)
        body = create_body(
            self._context, service, {**spec, "image": image_name(self.name, service, spec)},
            container=final, number=1, config_hash=service_hash(spec), image_id=image_id,
            oneoff=True, slug=slug, grants=self._grants(service),
        )  # fmt: skip
        # as `docker run -i`: the container's stdin closes when the attached input ends
        body.update(AttachStdin=stdin, AttachStdout=True, AttachStderr=True, StdinOnce=stdin)
        container = await self.docker.containers.create(
            body, name=final, platform=spec.get("platform")
        )
        archive = grants_tar(self._grants(service))
        if archive is not None:
            await container.put_archive("/", archive)
        return container, final

    async def _relay_one_off(
        self, service: str, container: DockerContainer, relay: Relay, *, stdin: bool
    ) -> None:
        """Attach to ``container`` before starting it (no output is lost), then relay."""

        async def resize(height: int, width: int) -> None:
            await container.resize(h=height, w=width)

        async with container.attach(stdin=stdin, stdout=True, stderr=True) as stream:
            await self._start_container(service, container)
            await relay(stream, resize)

    async def events(self, services: Iterable[str] | None = None) -> AsyncIterator[ComposeEvent]:
        """Yield the project's container events as they happen (``docker compose events``).

        It runs until the caller stops iterating; reconnects are the client's
        ``events.follow`` ones.
        """
        wanted = set(self._select(services, with_deps=False))
        follower = self.docker.events.follow(
            filters={"type": ["container"], "label": [f"{labels.PROJECT}={self.name}"]}
        )
        async with follower:
            async for event in follower:
                actor = event.get("Actor") or {}
                attributes = dict(actor.get("Attributes") or {})
                service = attributes.get(labels.SERVICE, "")
                if service not in wanted:
                    continue
                yield ComposeEvent(
                    time=_rfc3339_nano(int(event.get("timeNano") or 0)),
                    type=str(event.get("Type") or "container"),
                    action=str(event.get("Action") or ""),
                    id=str(actor.get("ID") or event.get("id") or ""),
                    service=service,
                    attributes={
                        key: value
                        for key, value in attributes.items()
                        if not key.startswith(labels.PREFIX)
                    },
                )

    async def wait(
        self, services: Iterable[str] | None = None, *, down_project: bool = False
    ) -> OneOff:
        """Wait until the services' running containers stop; return the last one to stop.

        The result's ``exit_code`` is that container's exit status.

        ``down_project`` takes the project down as soon as the first one stops.

        Raises:
            ComposeServiceError: no container of the services is running.
        """
        running = await self.ps(self._select(services, with_deps=False))
        if not running:
            raise ComposeServiceError(
                ",".join(services or self.services), f"no containers for project {self.name!r}"
            )
        exits: list[OneOff] = []

        async def one(item: ComposeContainer) -> None:
            result = await self.docker.containers.container(item.id).wait()
            exits.append(OneOff(item.id, item.name, int(result.get("StatusCode", -1))))

        tasks = [asyncio.create_task(one(item)) for item in running]
        try:
            if down_project:
                await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                await self.down()
            else:
                await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        return exits[-1] if exits else OneOff(running[0].id, running[0].name, None)

    async def exec(
        self,
        service: str,
        command: Sequence[str],
        *,
        index: int = 1,
        user: str | None = None,
        workdir: str | None = None,
        environment: Mapping[str, str] | None = None,
        privileged: bool = False,
        detach: bool = False,
        on_output: Callable[[LogLine], Awaitable[None] | None] | None = None,
        tty: bool = False,
        stdin: bool = False,
        relay: Relay | None = None,
    ) -> int | None:
        """Run ``command`` in container number ``index`` of ``service``; return its exit code.

        Output lines go to ``on_output`` (stdout and stderr apart). ``detach``
        returns None at once. For an interactive session, ``relay`` is given the
        exec's stream (``stdin`` attaches its input, ``tty`` allocates a terminal)
        and a ``resize(height, width)`` for its tty.

        Raises:
            ValueError: no such service.
            ComposeServiceError: the service has no running container ``index``.
        """
        self._select([service], with_deps=False)
        found = [item for item in await self.ps([service]) if item.number == index]
        if not found or found[0].state != "running":
            raise ComposeServiceError(service, f"has no running container number {index}")
        container = self.docker.containers.container(found[0].id)
        execution = await container.exec(
            list(command), user=user or "", workdir=workdir, environment=environment,
            privileged=privileged, tty=tty, stdin=stdin,
        )  # fmt: skip
        if detach:
            await execution.start(detach=True)
            return None

        async def resize(height: int, width: int) -> None:
            await execution.resize(h=height, w=width)

        async with execution.start(detach=False) as stream:
            if relay is not None:
                await relay(stream, resize)
            while (message := await stream.read_out()) is not None:
                if on_output is None:
                    continue
                kind = "stderr" if message.stream == 2 else "stdout"
                for text in bytes(message.data).decode("utf-8", "replace").splitlines():
                    result = on_output(LogLine(found[0].name, service, kind, text))
                    if result is not None:
                        await result
        info = await execution.inspect()
        return int(info.get("ExitCode") or 0)

    async def cp(
        self,
        source: str | Any,
        destination: str | Any,
        *,
        index: int = 0,
        all: bool = False,
        follow_links: bool = False,
        archive: bool = False,
    ) -> list[ComposeContainer]:
        """``docker compose cp``: copy between a service's containers and the host.

        One of ``source`` and ``destination`` is ``SERVICE:PATH``, the other a host
        path; as in :meth:`DockerContainer.copy_to
        <aiodocker.containers.DockerContainer.copy_to>`, a binary file object (or
        async iterable of bytes) as ``source`` is a tar to extract (the CLI's
        ``-``), and a binary file object as ``destination`` receives the tar.
        ``index`` picks container number ``index``; without it a copy into a
        service goes to each of its containers (one-offs too with ``all``) and a
        copy out of it reads its first container. Returns the containers copied
        to or from.

        Raises:
            ValueError: both or neither side names a service, or no such service.
            ComposeServiceError: the service has no container (number ``index``).
            DockerCopyError: a ``docker cp`` path rule refused the copy.
        """
        from .._copy import split_cp_arg

        src_service, src_path = split_cp_arg(source) if isinstance(source, str) else ("", "")
        dst_service, dst_path = (
            split_cp_arg(destination) if isinstance(destination, str) else ("", "")
        )
        if src_service and dst_service:
            raise ValueError("copying between services is not supported")
        if not (src_service or dst_service):
            raise ValueError("unknown copy direction: name SERVICE:PATH on one side")
        service = src_service or dst_service
        self._select([service], with_deps=False)
        found = await self._list(services=[service], oneoff=None if all else False)
        if index > 0:
            found = [item for item in found if item.number == index and not item.oneoff]
            if not found:
                raise ComposeServiceError(service, f"is not running container #{index}")
        elif not found:
            raise ComposeServiceError(service, "has no container")
        if src_service:
            if index <= 0:  # Compose reads the first container the daemon lists (the newest)
                found = await self._daemon_order(found)
            box = self.docker.containers.container(found[0].id)
            await box.copy_from(src_path, destination, follow_links=follow_links)
            return found[:1]

        if not isinstance(source, str) and len(found) > 1:
            raise ValueError(f"a tar stream goes into one container: give the index of {service}")

        async def to(item: ComposeContainer) -> None:
            box = self.docker.containers.container(item.id)
            await box.copy_to(source, dst_path, follow_links=follow_links, archive=archive)

        results = await asyncio.gather(*(to(item) for item in found), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return found

    async def _daemon_order(self, found: list[ComposeContainer]) -> list[ComposeContainer]:
        """``found`` in the order the daemon lists containers (newest first)."""
        listed = await self.docker.containers.list(all=True, filters={"id": [f.id for f in found]})
        rank = {item["Id"]: position for position, item in enumerate(listed)}
        return sorted(found, key=lambda item: rank.get(item.id, len(rank)))

    async def port(
        self, service: str, private_port: int, *, protocol: str = "tcp", index: int = 1
    ) -> str | None:
        """Return ``host:port`` a container of ``service`` publishes ``private_port`` on.

        None when that port is not published.

        Raises:
            ValueError: no such service.
            ComposeServiceError: the service has no container number ``index``.
        """
        self._select([service], with_deps=False)
        for item in await self._list(services=[service]):
            if item.number == index:
                for pub in item.publishers:
                    if pub.target_port == private_port and pub.protocol == protocol:
                        if pub.published_port:
                            return f"{pub.url}:{pub.published_port}"
                return None
        raise ComposeServiceError(service, f"has no container number {index}")

    async def images(self, services: Iterable[str] | None = None) -> list[ServiceImage]:
        """Return the image each of the services' containers uses."""
        found = await self._list(services=self._select(services, with_deps=False))
        details: dict[str, dict[str, Any]] = {}
        out = []
        for item in found:
            image_id = item.labels.get(labels.IMAGE) or item.image
            if image_id not in details:
                details[image_id] = dict(await self.docker.images.inspect(image_id))
            info = details[image_id]
            tags = list(info.get("RepoTags") or [])
            reference = tags[0] if tags else ""
            repository, _, tag = (
                reference.rpartition(":") if ":" in reference else (reference, "", "")
            )
            out.append(
                ServiceImage(
                    id=str(info.get("Id") or image_id),
                    container=item.name,
                    repository=repository,
                    tag=tag,
                    platform=f"{info.get('Os', '')}/{info.get('Architecture', '')}",
                    size=int(info.get("Size") or 0),
                )
            )
        return out

    async def top(self, services: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
        """Return each running container's processes (``docker top``), by container name."""
        found = await self.ps(self._select(services, with_deps=False))
        return {
            item.name: dict(await self.docker.containers.container(item.id).top()) for item in found
        }

    # ------------------------------------------------------------------ networks, volumes

    async def _ensure_networks(self, used: set[str]) -> dict[str, str]:
        """Create or check the used networks; return their IDs by key."""
        ids: dict[str, str] = {}
        for key, spec in self.networks.items():
            if key not in used:
                continue
            full = labels.resource_name(self.name, key, spec)
            if spec.get("external"):
                try:
                    ids[key] = (await self.docker.networks.get(full)).id
                except DockerNotFoundError as exc:
                    raise ComposeServiceError(
                        key, f"network {full} declared as external, but could not be found"
                    ) from exc
                continue
            dangling: list[ComposeContainer] = []
            try:
                found: dict[str, Any] | None = await (await self.docker.networks.get(full)).show()
            except DockerNotFoundError:
                found = None
            if found is not None and full in (found.get("Name"), found.get("Id")):
                if not self._network_diverged(key, full, spec, found):
                    ids[key] = str(found["Id"])
                    continue
                dangling = await self._remove_diverged_network(key, full)
            network = await self._step(
                f"Network {full}",
                ("Creating", "Created"),
                self.docker.networks.create(self._network_body(key, full, spec)),
            )
            ids[key] = network.id
            for item in dangling:  # reconnected bare, as Compose does (no aliases)
                await network.connect({"Container": item.id})
        return ids

    def _detached(
        self, service: str, item: ComposeContainer, network_ids: Mapping[str, str]
    ) -> bool:
        """Whether a container misses a network (when running) or a volume of its service.

        Compose recreates such a container even when its config hash is unchanged (a
        network or volume was created again under it).
        """
        spec = self.services[service]
        if item.state == "running" and not spec.get("network_mode"):
            for key in spec.get("networks") or {}:
                if key in network_ids and network_ids[key] not in item.network_ids:
                    return True
        for mount in spec.get("volumes") or ():
            if not isinstance(mount, Mapping) or mount.get("type") != "volume":
                continue
            source = mount.get("source")
            if source and source in self.volumes:
                name = labels.resource_name(self.name, source, self.volumes[source])
                if name not in item.volume_names:
                    return True
        return False

    def _network_diverged(
        self, key: str, full: str, spec: Mapping[str, Any], found: Mapping[str, Any]
    ) -> bool:
        """Whether an existing network's config hash differs (Compose's checks first)."""
        found_labels = found.get("Labels") or {}
        self._warn_owner(
            found_labels.get(labels.PROJECT),
            f"a network with name {full} exists but was not created by compose.\n"
            "Set `external: true` to use an existing network",
            f"a network with name {full} exists but was not created for project "
            f"{self.name!r}.\nSet `external: true` to use an existing network",
        )
        if found_labels.get(labels.NETWORK) != key:
            raise ComposeServiceError(
                key,
                f"network {full} was found but has incorrect label {labels.NETWORK} set to "
                f"{found_labels.get(labels.NETWORK, '')!r} (expected: {key!r})",
            )
        actual = found_labels.get(labels.CONFIG_HASH) or ""
        return bool(actual) and actual != network_hash(spec)

    async def _remove_diverged_network(self, key: str, full: str) -> list[ComposeContainer]:
        """Stop the services on a changed network, detach their containers, remove it.

        Returns the containers to reconnect to the new network (Compose keeps them:
        they are started again by the convergence, not recreated).
        """
        users = [
            name for name, spec in self.services.items() if key in (spec.get("networks") or {})
        ]
        if not users:
            return []
        await self.stop(users)
        attached = await self._list(services=users)
        old = await self.docker.networks.get(full)
        for item in attached:
            try:
                await old.disconnect({"Container": item.id, "Force": False})
            except DockerError:
                pass  # not attached to it (a container of a service that left it)
        await old.delete()
        return attached

    def _network_body(self, key: str, full: str, spec: Mapping[str, Any]) -> dict[str, Any]:
        body: dict[str, Any] = {
            "Name": full,
            "CheckDuplicate": True,
            "Labels": {
                **(spec.get("labels") or {}),
                labels.PROJECT: self.name,
                labels.NETWORK: key,
                labels.VERSION: labels.COMPOSE_VERSION,
                labels.CONFIG_HASH: network_hash(spec),
            },
        }
        if spec.get("driver"):
            body["Driver"] = spec["driver"]
        if spec.get("driver_opts"):
            body["Options"] = dict(spec["driver_opts"])
        for api, key_name in (
            ("Internal", "internal"),
            ("Attachable", "attachable"),
            ("EnableIPv6", "enable_ipv6"),
        ):
            if spec.get(key_name) is not None:
                body[api] = bool(spec[key_name])
        ipam = spec.get("ipam") or {}
        if ipam:
            body["IPAM"] = {
                "Driver": ipam.get("driver") or "default",
                "Config": [
                    {
                        api: pool[name]
                        for name, api in (
                            ("subnet", "Subnet"),
                            ("gateway", "Gateway"),
                            ("ip_range", "IPRange"),
                            ("aux_addresses", "AuxiliaryAddresses"),
                        )
                        if pool.get(name)
                    }
                    for pool in ipam.get("config") or ()
                ],
                "Options": ipam.get("options") or None,
            }
        return body

    async def _ensure_volumes(self, assume_yes: bool) -> None:
        for key, spec in self.volumes.items():
            full = labels.resource_name(self.name, key, spec)
            try:
                found = await (await self.docker.volumes.get(full)).show()
            except DockerNotFoundError:
                if spec.get("external"):
                    raise ComposeServiceError(key, f"external volume {full!r} not found") from None
                await self._create_volume(key, full, spec)
                continue
            if spec.get("external"):
                continue
            if not self._volume_diverged(full, spec, found.get("Labels") or {}):
                continue
            if not assume_yes:  # Compose asks; without a "y" it keeps the volume
                log.warning(
                    "Volume %r exists but doesn't match configuration in compose file; "
                    "kept (pass assume_yes=True to recreate it, data will be lost)",
                    full,
                )
                continue
            users = [
                name
                for name, service in self.services.items()
                if any(_mount_source(item) == key for item in service.get("volumes") or ())
            ]
            if users:  # stopped and removed, as Compose removes them
                await self.stop(users)
                for item in await self._list(services=users):
                    await self.docker.containers.container(item.id).delete(force=True)
            await (await self.docker.volumes.get(full)).delete(force=True)
            await self._create_volume(key, full, spec)

    def _warn_owner(self, owner: str | None, unowned: str, foreign: str) -> None:
        """Warn as Compose does about a network or volume of no project or another one."""
        if owner is None:
            log.warning("%s", unowned)
        elif owner != self.name:
            log.warning("%s", foreign)

    def _volume_diverged(
        self, full: str, spec: Mapping[str, Any], found_labels: Mapping[str, str]
    ) -> bool:
        owner = found_labels.get(labels.PROJECT)
        self._warn_owner(
            owner,
            f"volume {full!r} already exists but was not created by Docker Compose. "
            "Use `external: true` to use an existing volume",
            f"volume {full!r} already exists but was created for project {owner!r} "
            f"(expected {self.name!r}). Use `external: true` to use an existing volume",
        )
        actual = found_labels.get(labels.CONFIG_HASH)
        return actual is not None and actual != volume_hash(spec)

    async def _create_volume(self, key: str, full: str, spec: Mapping[str, Any]) -> None:
        body = {
            "Name": full,
            "Driver": spec.get("driver") or "local",
            "DriverOpts": dict(spec.get("driver_opts") or {}),
            "Labels": {
                **(spec.get("labels") or {}),
                labels.PROJECT: self.name,
                labels.VOLUME: key,
                labels.VERSION: labels.COMPOSE_VERSION,
                labels.CONFIG_HASH: volume_hash(spec),
            },
        }
        await self._step(f"Volume {full}", ("Creating", "Created"), self.docker.volumes.create(body))

    # ------------------------------------------------------------------ images

    async def _image_id(
        self,
        service: str,
        policy: str | None,
        build: bool | None = None,
        progress: BuildProgress | None = None,
    ) -> str:
        spec = self.services[service]
        image = spec.get("image")
        if spec.get("build") is not None:  # built as Compose builds (_runtime_build)
            return await ensure_image(self, service, policy, build, progress=progress)
        if not image:
            raise ComposeServiceError(service, "has neither image nor build")
        policy = policy or spec.get("pull_policy") or "missing"
        if policy in ("always",):
            await self._pull(service, image)
        try:
            info = await self.docker.images.inspect(image)
        except DockerNotFoundError:
            if policy == "never":
                raise ComposeServiceError(
                    service, f"image {image} not found locally and pull_policy is never"
                ) from None
            await self._pull(service, image)
            info = await self.docker.images.inspect(image)
        return str(info["Id"])

    async def _pull(self, service: str, image: str) -> None:
        try:
            await self.docker.images.pull(image)
        except DockerError as exc:
            raise ComposeServiceError(service, f"pulling {image} failed: {exc}") from exc

    # ------------------------------------------------------------------ convergence

    def _scale(self, service: str, overrides: Mapping[str, int] | None) -> int:
        if overrides and service in overrides:
            return int(overrides[service])
        spec = self.services[service]
        if spec.get("scale") is not None:
            return int(spec["scale"])
        replicas = (spec.get("deploy") or {}).get("replicas")
        return int(replicas) if replicas is not None else 1

    async def _resolve(self, service: str) -> ComposeContainer:
        found = [item for item in await self._list(services=[service]) if item.state == "running"]
        if not found:
            found = await self._list(services=[service])
        if not found:
            raise ComposeServiceError(service, "has no container (it is needed by another one)")
        return found[0]

    async def _resolved(self, service: str) -> tuple[dict[str, Any], dict[str, str]]:
        """Return the service with ``service:x`` references resolved as Compose resolves them.

        ``network_mode: service:x`` becomes ``container:<id>`` and a ``volumes_from``
        service becomes the container's ID (its ``:ro``/``:rw`` dropped, as Compose
        drops it) before the hash is taken; links keep naming containers by name.
        """
        spec = dict(self.services[service])
        names: dict[str, str] = {}
        mode = spec.get("network_mode") or ""
        if mode.startswith("service:") and mode[8:] in self.services:
            spec["network_mode"] = f"container:{(await self._resolve(mode[8:])).id}"
        if spec.get("volumes_from"):
            resolved = []
            for item in spec["volumes_from"]:
                source = str(item).partition(":")[0]
                if source in self.services:
                    resolved.append((await self._resolve(source)).id)
                else:
                    resolved.append(str(item))
            spec["volumes_from"] = resolved
        for item in spec.get("links") or ():
            other = str(item).partition(":")[0]
            names[other] = (await self._resolve(other)).name if other in self.services else other
        return spec, names

    async def _body(
        self,
        service: str,
        number: int,
        image_id: str,
        *,
        container: str,
        replace: str | None = None,
    ) -> dict[str, Any]:
        spec, names = await self._resolved(service)
        config_hash = service_hash(spec)  # Compose hashes a built service without its image
        spec["image"] = image_name(self.name, service, spec)
        return create_body(
            self._context,
            service,
            spec,
            container=container,
            number=number,
            config_hash=config_hash,
            image_id=image_id,
            resolve_service=lambda other: names.get(other, other),
            grants=self._grants(service),
            replace=replace,
        )

    def _grants(self, service: str) -> list[FileGrant]:
        try:
            return file_grants(self._context, self.services[service], self.environment)
        except ValueError as exc:
            raise ComposeServiceError(service, str(exc)) from exc

    async def _create_container(
        self,
        service: str,
        number: int,
        image_id: str,
        *,
        name: str | None = None,
        replace: str | None = None,
    ) -> DockerContainer:
        spec = self.services[service]
        final = labels.container_name(self.name, service, number, fixed=spec.get("container_name"))
        body = await self._body(service, number, image_id, container=final, replace=replace)
        if name is None:
            self._report(f"Container {final}", "Creating")
        container = await self.docker.containers.create(
            body, name=name or final, platform=spec.get("platform")
        )
        await self._connect_other_networks(service, container, final)
        archive = grants_tar(self._grants(service))
        if archive is not None:  # secrets and configs from environment or content
            await container.put_archive("/", archive)
        if name is None:
            self._report(f"Container {final}", "Created")
        return container

    async def _connect_other_networks(
        self, service: str, container: DockerContainer, name: str
    ) -> None:
        spec = self.services[service]
        if spec.get("network_mode"):
            return
        for key in ordered_networks(spec)[1:]:
            full = labels.resource_name(self.name, key, self.networks.get(key))
            network = await self.docker.networks.get(full)
            await network.connect(
                {
                    "Container": container.id,
                    "EndpointConfig": endpoint_config(
                        service, name, (spec.get("networks") or {}).get(key)
                    ),
                }
            )

    async def _converge(self, service: str, plan: _Plan) -> None:
        spec = self.services[service]
        image_id = await plan.image_id(self, service)
        check = spec.get("healthcheck") or {}
        if check.get("start_interval") and await self.docker.core.version_tuple() < (1, 44):
            raise ComposeServiceError(
                service, "healthcheck.start_interval requires Docker Engine 25 or later"
            )
        wanted = service_hash((await self._resolved(service))[0])
        existing = plan.existing.get(service, [])
        scale = self._scale(service, plan.scale)
        if spec.get("container_name") and scale > 1:
            raise ComposeServiceError(service, "container_name is set: it cannot scale above 1")
        keep, extra = existing[:scale], existing[scale:]
        for item in reversed(extra):
            container = self.docker.containers.container(item.id)
            if item.state in ("running", "restarting", "paused"):
                await container.stop(t=self._timeout(service, plan.timeout))
            await container.delete(force=True)
        for item in keep:
            stale = (
                item.config_hash != wanted
                or item.labels.get(labels.IMAGE) != image_id
                or self._detached(service, item, plan.network_ids)
            )
            if plan.force_recreate or (stale and not plan.no_recreate):
                await self._recreate(service, item, image_id, plan)
                plan.recreated.add(service)
            else:
                plan.add(service, item.id, item.name, item.state)
        next_number = max([item.number for item in existing] + [0]) + 1
        for _ in range(scale - len(keep)):
            container = await self._create_container(service, next_number, image_id)
            plan.created.add(service)
            name = labels.container_name(
                self.name, service, next_number, fixed=spec.get("container_name")
            )
            plan.add(service, container.id, name, "created")
            next_number += 1

    async def _recreate(
        self, service: str, old: ComposeContainer, image_id: str, plan: _Plan
    ) -> None:
        self._report(f"Container {old.name}", "Recreate")
        temporary = f"{old.id[:12]}_{old.name}"
        # Compose labels the new container with the one it replaces: its container_name,
        # else "{service}-{number}" (no project)
        replaced = self.services[service].get("container_name") or f"{service}-{old.number}"
        new = await self._create_container(
            service, old.number, image_id, name=temporary, replace=replaced
        )
        current = self.docker.containers.container(old.id)
        if old.state in ("running", "restarting", "paused"):
            await current.stop(t=self._timeout(service, plan.timeout))
        await current.delete(force=True)
        await new.rename(old.name)
        self._report(f"Container {old.name}", "Recreated")
        plan.add(service, new.id, old.name, "created")

    def _timeout(self, service: str, timeout: int | None) -> int | None:
        if timeout is not None:
            return timeout
        grace = self.services[service].get("stop_grace_period")
        if grace is None:
            return None
        from ._runtime_convert import duration_nanos

        return duration_nanos(grace, f"services.{service}.stop_grace_period") // 1_000_000_000

    # ------------------------------------------------------------------ start and wait

    async def _start_service(self, service: str, plan: _Plan, watch: StateWatch) -> None:
        for dep, spec in self._deps(service).items():
            condition = spec.get("condition") or "service_started"
            required = spec.get("required", True)
            if dep not in plan.selected:
                if dep not in self.services and required:
                    raise ComposeServiceError(service, f"depends on undefined service {dep!r}")
                continue
            try:
                await self._await_condition(dep, condition, watch, plan)
            except ComposeDependencyError as exc:
                if required:
                    raise ComposeServiceError(service, str(exc)) from exc
                log.warning("optional dependency %s of %s failed: %s", dep, service, exc)
        restart_for_deps = any(
            spec.get("restart") and dep in plan.recreated
            for dep, spec in self._deps(service).items()
        )
        async def bring_up(cid: str, name: str, state: str) -> None:
            container = self.docker.containers.container(cid)
            if state == "paused":
                return
            async with plan.bound:
                if state in ("running", "restarting"):
                    if restart_for_deps and service not in plan.recreated:
                        await container.restart(t=self._timeout(service, plan.timeout))
                    self._report(f"Container {name}", "Running")
                    return
                await self._start_container(service, container, name)

        await asyncio.gather(
            *(bring_up(cid, name, state) for cid, name, state in plan.members.get(service, []))
        )

    async def _start_container(
        self, service: str, container: DockerContainer, name: str | None = None
    ) -> None:
        try:
            if name is None:
                await container.start()
            else:
                await self._step(f"Container {name}", ("Starting", "Started"), container.start())
        except DockerError as exc:
            tail = await _last_log_lines(container)
            raise ComposeServiceError(service, f"failed to start: {exc.message}{tail}") from exc

    async def _await_condition(
        self, service: str, condition: str, watch: StateWatch, plan: _Plan
    ) -> None:
        if condition not in _SERVICE_CONDITIONS:
            raise ComposeDependencyError(f"unknown depends_on condition {condition!r}")
        if condition == "service_started":
            return  # the dependency's start phase has finished before this one began
        for cid, name, _ in plan.members.get(service, []):
            if condition == "service_healthy":
                self._report(f"Container {name}", "Waiting")
                await watch.wait_healthy(cid, name)
                self._report(f"Container {name}", "Healthy")
            else:
                code = await watch.wait_exited(cid, name)
                if code != 0:
                    raise ComposeDependencyError(
                        f"service {service!r} didn't complete successfully: exit {code}"
                    )

    async def _wait_running(self, selected: Sequence[str], watch: StateWatch) -> None:
        found = await self._list(services=selected)
        for item in found:
            self._report(f"Container {item.name}", "Waiting")
        for item in found:
            spec = self.services.get(item.service) or {}
            check = spec.get("healthcheck")
            if check and not check.get("disable"):
                try:
                    await watch.wait_healthy(item.id, item.name)
                except ComposeDependencyError as exc:
                    raise ComposeServiceError(item.service, str(exc)) from exc
            elif item.state != "running":
                raise ComposeServiceError(item.service, f"container {item.name} is {item.state}")
            self._report(f"Container {item.name}", "Healthy")

    # ------------------------------------------------------------------ public verbs

    async def up(
        self,
        services: Iterable[str] | None = None,
        *,
        no_deps: bool = False,
        force_recreate: bool = False,
        no_recreate: bool = False,
        no_start: bool = False,
        pull: PullPolicy | None = None,
        remove_orphans: bool = False,
        scale: Mapping[str, int] | None = None,
        timeout: int | None = None,
        wait: bool = False,
        wait_timeout: float | None = None,
        build: bool | None = None,
        build_progress: BuildProgress | None = None,
        assume_yes: bool = False,
    ) -> list[ComposeContainer]:
        """Create (or converge) and start the services; return the containers (``up -d``).

        Unchanged containers are left alone; a container whose config hash or image
        changed is recreated (``no_recreate`` keeps it, ``force_recreate`` recreates
        every one). Dependencies come first and their ``depends_on`` conditions are
        awaited from the event stream. Every image is pulled or built first, before
        anything is created: a service with ``build:`` whose image is missing is
        built (``build=True``, ``up --build``: always; ``False``,
        ``--no-build``: never); ``build_progress`` sees (service, event) of each build.

        A network whose config changed is removed and created again, as Compose does:
        its services are stopped, their containers detached and then attached to the
        new network bare (Compose's reconnect gives no aliases), and started again. A
        volume whose config changed is kept with a warning (Compose's prompt, answered
        no), unless ``assume_yes`` (``-y``): then the containers using it are removed,
        and the volume is created again (its data is lost).

        Raises:
            ComposeServiceError: a service could not be created or started, or a
                required dependency condition failed (the message names the service).
            ValueError: an unknown service, or both ``force_recreate`` and ``no_recreate``.
            asyncio.TimeoutError: ``wait`` and not healthy after ``wait_timeout`` seconds.
        """
        if force_recreate and no_recreate:
            raise ValueError("force_recreate and no_recreate are mutually exclusive")
        if pull is not None and pull not in ("always", "missing", "never"):
            raise ValueError(f"pull must be always, missing or never, not {pull!r}")
        selected = self._select(services, with_deps=not no_deps)
        plan = _Plan(
            bound=asyncio.Semaphore(self.parallelism),
            selected=set(selected),
            pull=pull,
            force_recreate=force_recreate,
            no_recreate=no_recreate,
            scale=scale,
            timeout=timeout,
            build=build,
            build_progress=build_progress,
        )
        if remove_orphans:
            await self._remove_orphans(timeout)
        await plan.prepare_images(self, selected)  # before anything is created, as Compose
        used: set[str] = {"default"} if "default" in self.networks else set()
        for name in selected:
            used.update((self.services[name].get("networks") or {}).keys())
        plan.network_ids = await self._ensure_networks(used)
        await self._ensure_volumes(assume_yes)
        for item in await self._list():  # observed after networks and volumes, as Compose
            plan.existing.setdefault(item.service, []).append(item)
        async with StateWatch(self.docker, self.name) as watch:
            await self._converge_and_start(selected, plan, watch, start=not no_start)
            if wait and not no_start:
                await asyncio.wait_for(self._wait_running(selected, watch), wait_timeout)
        return await self._list(services=selected)

    async def build(
        self,
        services: Iterable[str] | None = None,
        *,
        no_cache: bool = False,
        pull: bool = False,
        build_args: Mapping[str, str] | None = None,
        ssh: Sequence[str] = (),
        memory: int | None = None,
        with_dependencies: bool = False,
        progress: BuildProgress | None = None,
    ) -> list[BuiltImage]:
        """Build the services that have ``build:`` through BuildKit (``docker compose build``).

        Each image is named ``image:`` or ``{project}-{service}`` and labelled as
        Compose labels it; ``build_args`` override ``build.args``, ``ssh`` adds ssh
        sources (``default``, ``id=path``), ``progress`` sees (service, event) of
        every build. Services without ``build:`` are skipped.

        Raises:
            ComposeServiceError: a build failed (naming the service and the step).
            ValueError: an unknown service.
        """
        return await build_services(
            self, services, no_cache=no_cache, pull=pull, build_args=build_args, ssh=ssh,
            memory=memory, with_dependencies=with_dependencies, progress=progress,
        )  # fmt: skip

    async def pull(
        self,
        services: Iterable[str] | None = None,
        *,
        ignore_pull_failures: bool = False,
        ignore_buildable: bool = False,
        include_deps: bool = False,
        policy: Literal["missing", "always"] | None = None,
        progress: TransferProgress | None = None,
    ) -> list[ImageTransfer]:
        """Pull the services' images (``docker compose pull``), with the config's credentials.

        Services without ``image:`` are skipped, as are those whose ``pull_policy``
        is ``never`` or ``build`` and, with ``pull_policy: missing`` (or ``policy``),
        those whose image is present.

        Raises:
            ComposeServiceError: a pull failed and ``ignore_pull_failures`` is false.
        """
        return await pull_services(
            self, services, ignore_pull_failures=ignore_pull_failures,
            ignore_buildable=ignore_buildable, include_deps=include_deps, policy=policy,
            progress=progress,
        )  # fmt: skip

    async def push(
        self,
        services: Iterable[str] | None = None,
        *,
        ignore_push_failures: bool = False,
        include_deps: bool = False,
        progress: TransferProgress | None = None,
    ) -> list[ImageTransfer]:
        """Push the images of the services with ``build:`` and ``image:`` (``docker compose push``).

        Raises:
            ComposeServiceError: a push failed and ``ignore_push_failures`` is false.
        """
        return await push_services(
            self, services, ignore_push_failures=ignore_push_failures,
            include_deps=include_deps, progress=progress,
        )  # fmt: skip

    async def _converge_and_start(
        self, selected: Sequence[str], plan: _Plan, watch: StateWatch, *, start: bool
    ) -> None:
        """Converge the services in dependency order and start each one as soon as it can.

        A service starts once it is converged and its dependencies' conditions hold,
        while the others are still being created: the two passes overlap.
        """
        loop = asyncio.get_running_loop()
        converged = {name: loop.create_future() for name in selected}

        async def converge(name: str) -> None:
            try:
                await self._converge(name, plan)
            except BaseException as exc:
                converged[name].set_exception(exc)
                raise
            converged[name].set_result(None)

        async def create_all() -> None:
            try:
                await self._in_order(selected, converge)
            finally:
                for name, future in converged.items():
                    if not future.done():
                        future.set_exception(ComposeServiceError(name, "was not created"))
                    future.exception()  # retrieved: the error is raised by one pass

        async def bring_up(name: str) -> None:
            await asyncio.shield(converged[name])
            await self._start_service(name, plan, watch)

        passes = [create_all()]
        if start:
            passes.append(self._in_order(selected, bring_up, bounded=False))
        for result in await asyncio.gather(*passes, return_exceptions=True):
            if isinstance(result, BaseException):
                raise result

    async def create(
        self,
        services: Iterable[str] | None = None,
        *,
        force_recreate: bool = False,
        no_recreate: bool = False,
        pull: PullPolicy | None = None,
        remove_orphans: bool = False,
        scale: Mapping[str, int] | None = None,
        build: bool | None = None,
        build_progress: BuildProgress | None = None,
    ) -> list[ComposeContainer]:
        """Create (or converge) the services' containers without starting them."""
        return await self.up(
            services,
            build=build,
            build_progress=build_progress,
            force_recreate=force_recreate,
            no_recreate=no_recreate,
            pull=pull,
            remove_orphans=remove_orphans,
            scale=scale,
            no_start=True,
        )

    async def _remove_orphans(self, timeout: int | None) -> None:
        for item in await self._list(oneoff=None):
            if item.service not in self.services:
                container = self.docker.containers.container(item.id)
                if item.state in ("running", "restarting", "paused"):
                    await container.stop(t=timeout)
                await container.delete(force=True)

    async def _each(
        self,
        services: Iterable[str] | None,
        action: Callable[[ComposeContainer], Awaitable[None]],
        *,
        reverse: bool = False,
        states: tuple[str, ...] | None = None,
        words: tuple[str, str] | None = None,
        unless: tuple[str, ...] = (),
    ) -> list[ComposeContainer]:
        selected = self._select(services, with_deps=False)
        containers = await self._list(services=selected)
        by_service: dict[str, list[ComposeContainer]] = {}
        for item in containers:
            if (states is None or item.state in states) and item.state not in unless:
                by_service.setdefault(item.service, []).append(item)

        def step(item: ComposeContainer) -> Awaitable[None]:
            if words is None:
                return action(item)
            return self._step(f"Container {item.name}", words, action(item))

        async def run(service: str) -> None:
            await asyncio.gather(*(step(item) for item in by_service.get(service, [])))

        await self._in_order(selected, run, reverse=reverse)
        return [item for items in by_service.values() for item in items]

    async def start(self, services: Iterable[str] | None = None) -> list[ComposeContainer]:
        """Start the services' existing containers, dependencies first."""
        return await self._each(
            services,
            lambda item: self._start_container(
                item.service, self.docker.containers.container(item.id)
            ),
            states=("created", "exited"),
            words=("Starting", "Started"),
        )

    async def stop(
        self, services: Iterable[str] | None = None, *, timeout: int | None = None
    ) -> list[ComposeContainer]:
        """Stop the services' containers, dependents first (``-t`` is ``timeout``)."""
        return await self._each(
            services,
            lambda item: self.docker.containers.container(item.id).stop(
                t=self._timeout(item.service, timeout)
            ),
            reverse=True,
            states=("running", "restarting", "paused"),
            words=("Stopping", "Stopped"),
        )

    async def restart(
        self, services: Iterable[str] | None = None, *, timeout: int | None = None
    ) -> list[ComposeContainer]:
        """Restart the services' containers, dependencies first."""
        return await self._each(
            services,
            lambda item: self.docker.containers.container(item.id).restart(
                t=self._timeout(item.service, timeout)
            ),
            words=("Restarting", "Restarted"),
        )

    async def kill(
        self, services: Iterable[str] | None = None, *, signal: str = "SIGKILL"
    ) -> list[ComposeContainer]:
        """Send ``signal`` to the services' running containers."""
        return await self._each(
            services,
            lambda item: self.docker.containers.container(item.id).kill(signal=signal),
            reverse=True,
            states=("running", "restarting"),
            words=("Killing", "Killed"),
        )

    async def pause(self, services: Iterable[str] | None = None) -> list[ComposeContainer]:
        """Pause the services' running containers."""
        return await self._each(
            services,
            lambda item: self.docker.containers.container(item.id).pause(),
            states=("running",),
            words=("Pausing", "Paused"),
        )

    async def unpause(self, services: Iterable[str] | None = None) -> list[ComposeContainer]:
        """Unpause the services' paused containers."""
        return await self._each(
            services,
            lambda item: self.docker.containers.container(item.id).unpause(),
            states=("paused",),
            words=("Unpausing", "Unpaused"),
        )

    async def rm(
        self,
        services: Iterable[str] | None = None,
        *,
        stop: bool = False,
        volumes: bool = False,
        timeout: int | None = None,
    ) -> list[ComposeContainer]:
        """Remove the services' containers but running ones (``stop`` stops those first)."""
        if stop:
            await self.stop(services, timeout=timeout)
        return await self._each(
            services,
            lambda item: self.docker.containers.container(item.id).delete(v=volumes),
            unless=("running",),  # as Compose: all but running ones (podman says "stopped")
            words=("Removing", "Removed"),
        )

    async def down(
        self,
        *,
        volumes: bool = False,
        remove_orphans: bool = False,
        timeout: int | None = None,
    ) -> list[ComposeContainer]:
        """Stop and remove the project's containers, then its networks (and volumes with ``-v``).

        Orphans (containers of services the project no longer has) are removed with
        ``remove_orphans``; external networks and volumes are never removed.
        """
        removed: list[ComposeContainer] = []
        every = await self._list(oneoff=None)

        async def remove(item: ComposeContainer) -> None:
            container = self.docker.containers.container(item.id)
            resource = f"Container {item.name}"
            if item.state in ("running", "restarting", "paused"):
                grace = self._timeout(item.service, timeout) if item.service in self.services else timeout
                await self._step(resource, ("Stopping", "Stopped"), container.stop(t=grace))
            else:  # Compose reports the step for a container that had already stopped too
                self._report(resource, "Stopping")
                self._report(resource, "Stopped")
            await self._step(resource, ("Removing", "Removed"), container.delete(force=True, v=volumes))
            removed.append(item)

        ours = [item for item in every if item.service in self.services]
        orphans = [item for item in every if item.service not in self.services]
        by_service: dict[str, list[ComposeContainer]] = {}
        for item in ours:
            by_service.setdefault(item.service, []).append(item)

        async def run(service: str) -> None:
            await asyncio.gather(*(remove(item) for item in by_service.get(service, [])))

        await self._in_order(list(self.services), run, reverse=True)
        if remove_orphans:
            await asyncio.gather(*(remove(item) for item in orphans))
        elif orphans:
            log.warning(
                "found orphan containers (%s) for this project; use remove_orphans to remove them",
                ", ".join(item.name for item in orphans),
            )
        await self._remove_resources(volumes=volumes)
        return removed

    async def _remove_resources(self, *, volumes: bool) -> None:
        """Remove the project's networks (and volumes) at once, by name; external ones stay."""
        from ..networks import DockerNetwork
        from ..volumes import DockerVolume

        async def remove(resource: str, call: Callable[[], Awaitable[Any]]) -> None:
            try:
                await call()
            except DockerNotFoundError:
                return  # never created, or already gone: Compose reports nothing either
            self._report(resource, "Removing")
            self._report(resource, "Removed")

        calls = []
        for key, spec in self.networks.items():
            if not spec.get("external"):
                full = labels.resource_name(self.name, key, spec)
                calls.append(remove(f"Network {full}", DockerNetwork(self.docker, full).delete))
        for key, spec in self.volumes.items() if volumes else ():
            if not spec.get("external"):
                full = labels.resource_name(self.name, key, spec)
                calls.append(remove(f"Volume {full}", DockerVolume(self.docker, full).delete))
        await asyncio.gather(*calls)


@dataclass
class _Plan:
    """The options and the bookkeeping of one ``up``."""

    bound: asyncio.Semaphore
    selected: set[str]
    pull: str | None
    force_recreate: bool
    no_recreate: bool
    scale: Mapping[str, int] | None
    timeout: int | None
    build: bool | None = None
    build_progress: BuildProgress | None = None
    recreated: set[str] = field(default_factory=set)
    created: set[str] = field(default_factory=set)
    existing: dict[str, list[ComposeContainer]] = field(default_factory=dict)
    members: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)
    images: dict[str, asyncio.Future[str]] = field(default_factory=dict)
    network_ids: dict[str, str] = field(default_factory=dict)

    def add(self, service: str, cid: str, name: str, state: str) -> None:
        """Record a container of ``service`` this ``up`` keeps: (id, name, state)."""
        self.members.setdefault(service, []).append((cid, name, state))

    async def prepare_images(self, project: ComposeProject, selected: Sequence[str]) -> None:
        """Pull and build every selected service's image, at most ``bound`` at a time.

        Every one is awaited before the first failure is raised: none is left running.
        """

        async def one(service: str) -> str:
            async with self.bound:
                return await self.image_id(project, service)

        results = await asyncio.gather(*(one(name) for name in selected), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result

    async def image_id(self, project: ComposeProject, service: str) -> str:
        """Return the service's image ID, inspecting (or pulling) each image once."""
        spec = project.services[service]
        name = image_name(project.name, service, spec)
        key = f"{name}|{self.pull or spec.get('pull_policy') or 'missing'}"
        future = self.images.get(key)
        if future is None:
            future = asyncio.ensure_future(
                project._image_id(service, self.pull, self.build, self.build_progress)
            )
            self.images[key] = future
        return await asyncio.shield(future)


@dataclass(frozen=True)
class ComposeEvent:
    """A container event of a project, in Compose's terms (``events --json``)."""

    time: str
    type: str
    action: str
    id: str
    service: str
    attributes: Mapping[str, str]

    def to_json(self) -> dict[str, Any]:
        """Return Compose's JSON form (``action``, ``attributes``, ``id``, ``service``, ...)."""
        return {
            "action": self.action,
            "attributes": dict(sorted(self.attributes.items())),
            "id": self.id,
            "service": self.service,
            "time": self.time,
            "type": self.type,
        }


def _rfc3339_nano(nanos: int) -> str:
    """Format Unix nanoseconds as Go's RFC3339Nano in UTC (trailing zeros trimmed)."""
    import datetime as _dt

    seconds, fraction = divmod(nanos, 1_000_000_000)
    stamp = _dt.datetime.fromtimestamp(seconds, tz=_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    digits = f"{fraction:09d}".rstrip("0")
    return f"{stamp}.{digits}Z" if digits else f"{stamp}Z"


@dataclass(frozen=True)
class OneOff:
    """A container ``run`` made or ``wait`` saw stop; ``exit_code`` is None if it runs on."""

    id: str
    name: str
    exit_code: int | None


@dataclass(frozen=True)
class ServiceImage:
    """The image a container of a project uses (``docker compose images``)."""

    id: str
    container: str
    repository: str
    tag: str
    platform: str
    size: int

    def to_json(self) -> dict[str, Any]:
        """Return Compose's JSON form (``ID``, ``ContainerName``, ``Repository``, ...)."""
        return {
            "ID": self.id,
            "ContainerName": self.container,
            "Repository": self.repository,
            "Tag": self.tag,
            "Platform": self.platform,
            "Size": self.size,
        }


@dataclass(frozen=True)
class ProjectSummary:
    """One project on a daemon, as ``docker compose ls`` shows it."""

    name: str
    status: str
    config_files: str

    def to_json(self) -> dict[str, str]:
        """Return Compose's JSON form (``Name``, ``Status``, ``ConfigFiles``)."""
        return {"Name": self.name, "Status": self.status, "ConfigFiles": self.config_files}


async def list_projects(docker: Docker, *, all: bool = False) -> list[ProjectSummary]:
    """Return the compose projects that have containers on the daemon (``docker compose ls``).

    Without ``all`` only running containers are counted, so only projects with one
    are listed. ``status`` counts the containers per state, as Compose words it
    (``exited(1), running(2)``).
    """
    listed = await docker.containers.list(all=all, filters={"label": [labels.PROJECT]})
    states: dict[str, dict[str, int]] = {}
    files: dict[str, list[str]] = {}
    for item in listed:
        tags = item["Labels"] or {}
        name = tags.get(labels.PROJECT, "")
        counts = states.setdefault(name, {})
        counts[item["State"]] = counts.get(item["State"], 0) + 1
        for path in (tags.get(labels.CONFIG_FILES) or "").split(","):
            if path and path not in files.setdefault(name, []):
                files[name].append(path)
    out = []
    for name in sorted(states):
        counts = states[name]
        status = ", ".join(f"{state}({counts[state]})" for state in sorted(counts))
        out.append(ProjectSummary(name, status, ",".join(files.get(name, []))))
    return out


def _mount_source(item: Any) -> str:
    """Return a service volume's source (its top-level volume key for a named one)."""
    if isinstance(item, Mapping):
        return str(item.get("source") or "")
    return str(item).partition(":")[0]


def _log_line(
    container: str, service: str, stream: int, data: bytes, partial: bool = False
) -> LogLine:
    text = data.decode("utf-8", "replace").removesuffix("\r")
    return LogLine(container, service, "stderr" if stream == 2 else "stdout", text, partial)


async def _follow_output(
    container: DockerContainer,
    name: str,
    service: str,
    on_output: Callable[[LogLine], Awaitable[None] | None] | None,
) -> None:
    """Pass the container's output to ``on_output`` line by line until it stops."""
    async for message in container.log_messages(follow=True):
        if on_output is None:
            continue
        kind: Literal["stdout", "stderr"] = "stderr" if message.stream == 2 else "stdout"
        for text in bytes(message.data).decode("utf-8", "replace").splitlines():
            result = on_output(LogLine(name, service, kind, text))
            if result is not None:
                await result


async def _last_log_lines(container: DockerContainer, lines: int = 10) -> str:
    try:
        text = await container.log(stdout=True, stderr=True, tail=lines)
    except DockerError:
        return ""
    joined = "".join(text).rstrip()
    return f"; last log lines:\n{joined}" if joined else ""
