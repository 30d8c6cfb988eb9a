"""``FakeEngine``: a stateful, in-memory Docker Engine behind the transport seam.

Layer: ``aiodocker.testing``; imports ``_mock`` and ``_process`` (its siblings)
and the stdlib. It answers the Engine API as Docker 26.1 (``version="26.1.5"``,
API 1.45) or 20.10 (``version="20.10.24"``, API 1.41) do: same shapes, states,
statuses, events and error messages, copied from those daemons.
"""

from __future__ import annotations

import asyncio
import fnmatch
import hashlib
import json
import re
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from typing import Any, Final

from .._humanize import human_duration
from ._mock import MULTIPLEXED, RAW_STREAM, MockTransport, Request, Response, frame
from ._process import Process, ProcessRule, busybox

__all__ = ["FakeEngine"]

_NAME: Final = re.compile(r"^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$")
_ZERO_TIME: Final = "0001-01-01T00:00:00Z"
_SIGNALS: Final = {
    "SIGHUP": 1,
    "SIGINT": 2,
    "SIGQUIT": 3,
    "SIGKILL": 9,
    "SIGUSR1": 10,
    "SIGUSR2": 12,
    "SIGTERM": 15,
    "SIGSTOP": 19,
}
_STATUSES: Final = ("created", "restarting", "running", "removing", "paused", "exited", "dead")


class _Error(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _rfc3339(at: float) -> str:
    whole = int(at)
    nanos = int(round((at - whole) * 1e9))
    if nanos >= 1_000_000_000:
        whole, nanos = whole + 1, 0
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
    fraction = f"{nanos:09d}".rstrip("0")
    return f"{text}.{fraction}Z" if fraction else f"{text}Z"


def normalize_reference(ref: str) -> str:
    """``docker.io/library/busybox`` -> ``busybox:latest``; a digest or tag is kept."""
    name, digest = ref.split("@", 1) if "@" in ref else (ref, "")
    last = name.rsplit("/", 1)[-1]
    if ":" not in last and not digest:
        name += ":latest"
    for prefix in ("docker.io/library/", "index.docker.io/library/", "docker.io/", "library/"):
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    return f"{name}@{digest}" if digest else name


def _repository(ref: str) -> str:
    name = ref.split("@", 1)[0]
    head, sep, tail = name.rpartition(":")
    return head if sep and "/" not in tail else name


class _Image:
    def __init__(self, ref: str, created: float) -> None:
        self.id = "sha256:" + hashlib.sha256(ref.encode()).hexdigest()
        self.tags: list[str] = [ref]
        self.created = created
        self.cmd = ["sh"]
        self.env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
        self.labels: dict[str, str] | None = None
        self.size = 4_261_550


class _Container:
    def __init__(
        self,
        cid: str,
        name: str,
        image: _Image,
        image_ref: str,
        config: dict[str, Any],
        created: float,
    ) -> None:
        self.id = cid
        self.name = name
        self.image = image
        self.image_ref = image_ref
        self.config = config
        self.host_config: dict[str, Any] = dict(config.get("HostConfig") or {})
        self.labels: dict[str, str] = dict(config.get("Labels") or {})
        self.created = created
        self.status = "created"
        self.pid = 0
        self.exit_code = 0
        self.started_at: float | None = None
        self.finished_at: float | None = None
        self.process: Process | None = None
        self.health: str | None = None
        self.logs: list[tuple[int, bytes, float]] = []
        self.exited = asyncio.Event()
        self.changed = asyncio.Event()
        self.wrote = asyncio.Event()  # new output, or the end
        self.timer: asyncio.TimerHandle | None = None
        self.restart_count = 0
        self.networks: dict[str, dict[str, Any]] = {}
        self.exec_ids: list[str] = []
        self.stdin_closed = False

    @property
    def argv(self) -> list[str]:
        entry = self.config.get("Entrypoint") or []
        cmd = self.config.get("Cmd")
        if cmd is None:
            cmd = [] if entry else self.image.cmd
        if isinstance(entry, str):
            entry = [entry]
        if isinstance(cmd, str):
            cmd = ["/bin/sh", "-c", cmd]
        return [*entry, *cmd]

    @property
    def running(self) -> bool:
        return self.status in ("running", "paused", "restarting")


class _Exec:
    def __init__(self, eid: str, container: _Container, config: dict[str, Any]) -> None:
        self.id = eid
        self.container = container
        self.config = config
        self.running = False
        self.exit_code: int | None = None
        self.pid = 0
        self.started = False


class _Fault:
    def __init__(
        self,
        method: str,
        pattern: str,
        nth: int,
        times: int,
        status: int | None,
        message: str,
        cut_after: int | None,
    ) -> None:
        self.method = method.upper()
        self.pattern = pattern
        self.nth = nth
        self.times = times
        self.status = status
        self.message = message
        self.cut_after = cut_after
        self.calls = 0

    def matches(self, request: Request) -> bool:
        return self.method in ("*", request.method) and fnmatch.fnmatchcase(
            request.path, self.pattern
        )


Route = Callable[..., Awaitable[Response]]


class FakeEngine(MockTransport):
    """A stateful in-memory Docker Engine: ``Docker(transport=FakeEngine(images=[...]))``.

    Args:
        images: the references present locally (``"busybox:latest"``); any other
            image is a 404, as on a daemon that has never pulled it.
        registry: references a pull can fetch (default: those of ``images``).
        version: the daemon to imitate: ``"26.1.5"`` (API 1.45) or
            ``"20.10.24"`` (API 1.41); error messages and shapes follow it.

    What a container's process does comes from, in order: a rule added with
    :meth:`on_command`, the image's program (:meth:`program`), then a small
    busybox imitation (``echo``, ``sleep``, ``true``/``false``, ``cat``,
    ``sh -c`` of those). Faults come from :meth:`fail` and :meth:`cut_stream`.
    """

    def __init__(
        self,
        images: Iterable[str] = ("busybox:latest",),
        *,
        registry: Iterable[str] | None = None,
        version: str = "26.1.5",
    ) -> None:
        super().__init__(self._dispatch, description="fake://engine")
        now = time.time()
        self.version = version
        self.modern = int(version.split(".", 1)[0]) >= 23
        self.api_version = "1.45" if self.modern else "1.41"
        self.min_api_version = "1.24" if self.modern else "1.12"
        self.images: dict[str, _Image] = {}
        for ref in images:
            self._add_image(normalize_reference(ref), now)
        self.registry = {
            normalize_reference(r)
            for r in (registry if registry is not None else [*self._all_tags()])
        }
        self.containers: dict[str, _Container] = {}
        self.execs: dict[str, _Exec] = {}
        self.networks: dict[str, dict[str, Any]] = {}
        for name, driver in (("bridge", "bridge"), ("host", "host"), ("none", "null")):
            self._new_network(name, driver, {}, now, builtin=True)
        self.volumes: dict[str, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []
        self._listeners: list[asyncio.Queue[dict[str, Any]]] = []
        self._programs: dict[str, ProcessRule] = {}
        self._rules: list[tuple[list[str], ProcessRule]] = []
        self._faults: list[_Fault] = []
        self._next_pid = 1000
        self.engine_id = secrets.token_hex(16)
        self._routes: list[tuple[str, re.Pattern[str], Route]] = [
            (m, re.compile(p), r) for m, p, r in self._table()
        ]

    # --- programming ---------------------------------------------------------

    def program(self, image: str, behaviour: Process | ProcessRule) -> None:
        """Set what containers of ``image`` do (a Process, or a rule of the argv).

        ``image`` without a tag covers every tag of that repository.
        """
        rule = behaviour if callable(behaviour) else (lambda argv, p=behaviour: p)
        tagged = ":" in image.rsplit("/", 1)[-1] or "@" in image
        # "busybox:1" is that tag; "busybox" alone every tag of the repository
        key = normalize_reference(image) if tagged else _repository(normalize_reference(image))
        self._programs[key] = rule

    def on_command(self, argv: Sequence[str], behaviour: Process | ProcessRule) -> None:
        """Set what a command line starting with ``argv`` does, in containers and execs."""
        rule = behaviour if callable(behaviour) else (lambda a, p=behaviour: p)
        self._rules.insert(0, (list(argv), rule))

    def fail(
        self,
        method: str,
        path: str,
        *,
        status: int = 500,
        message: str = "fake fault",
        nth: int = 1,
        times: int = 1,
    ) -> None:
        """Answer the ``nth`` matching call (and ``times - 1`` more) with an error.

        ``path`` is a glob over the unversioned path (``/containers/*/start``),
        ``method`` an HTTP method or ``*``.
        """
        self._faults.append(_Fault(method, path, nth, times, status, message, None))

    def cut_stream(self, method: str, path: str, *, after: int = 0, nth: int = 1) -> None:
        """Cut the streamed body of the ``nth`` matching call after ``after`` chunks."""
        self._faults.append(_Fault(method, path, nth, 1, None, "", after))

    def set_health(self, container: str, status: str) -> None:
        """Report ``status`` as the container's health (and emit ``health_status``)."""
        found = self._container(container)
        found.health = status
        self._emit_container(found, f"health_status: {status}")

    # --- dispatch -------------------------------------------------------------

    def _table(self) -> list[tuple[str, str, Route]]:
        c = r"/containers/([^/]+)"
        return [
            ("GET", r"^/_ping$", self._ping),
            ("HEAD", r"^/_ping$", self._ping),
            ("GET", r"^/version$", self._version),
            ("GET", r"^/info$", self._info),
            ("GET", r"^/events$", self._events),
            ("GET", r"^/containers/json$", self._container_list),
            ("POST", r"^/containers/create$", self._container_create),
            ("POST", r"^/containers/prune$", self._container_prune),
            ("GET", c + r"/json$", self._container_inspect),
            ("POST", c + r"/start$", self._container_start),
            ("POST", c + r"/stop$", self._container_stop),
            ("POST", c + r"/restart$", self._container_restart),
            ("POST", c + r"/kill$", self._container_kill),
            ("POST", c + r"/wait$", self._container_wait),
            ("POST", c + r"/pause$", self._container_pause),
            ("POST", c + r"/unpause$", self._container_unpause),
            ("POST", c + r"/rename$", self._container_rename),
            ("POST", c + r"/resize$", self._container_resize),
            ("GET", c + r"/logs$", self._container_logs),
            ("POST", c + r"/attach$", self._container_attach),
            ("POST", c + r"/exec$", self._exec_create),
            ("DELETE", c + r"$", self._container_delete),
            ("POST", r"^/exec/([^/]+)/start$", self._exec_start),
            ("POST", r"^/exec/([^/]+)/resize$", self._exec_resize),
            ("GET", r"^/exec/([^/]+)/json$", self._exec_inspect),
            ("GET", r"^/images/json$", self._image_list),
            ("POST", r"^/images/create$", self._image_pull),
            ("GET", r"^/images/(.+)/json$", self._image_inspect),
            ("POST", r"^/images/(.+)/tag$", self._image_tag),
            ("POST", r"^/images/(.+)/push$", self._image_push),
            ("DELETE", r"^/images/(.+)$", self._image_delete),
            ("GET", r"^/networks$", self._network_list),
            ("POST", r"^/networks/create$", self._network_create),
            ("POST", r"^/networks/prune$", self._network_prune),
            ("GET", r"^/networks/([^/]+)$", self._network_inspect),
            ("POST", r"^/networks/([^/]+)/connect$", self._network_connect),
            ("POST", r"^/networks/([^/]+)/disconnect$", self._network_disconnect),
            ("DELETE", r"^/networks/([^/]+)$", self._network_delete),
            ("GET", r"^/volumes$", self._volume_list),
            ("POST", r"^/volumes/create$", self._volume_create),
            ("POST", r"^/volumes/prune$", self._volume_prune),
            ("GET", r"^/volumes/([^/]+)$", self._volume_inspect),
            ("DELETE", r"^/volumes/([^/]+)$", self._volume_delete),
        ]

    async def _dispatch(self, request: Request) -> Response:
        fault = self._fault_for(request)
        if fault is not None and fault.status is not None:
            return Response.error(fault.status, fault.message)
        for method, pattern, route in self._routes:
            if method != request.method:
                continue
            match = pattern.match(request.path)
            if match is None:
                continue
            try:
                response = await route(request, *match.groups())
            except _Error as exc:
                return Response.error(exc.status, exc.message)
            if fault is not None and fault.cut_after is not None:
                return self._cut(response, fault.cut_after)
            return response
        if any(pattern.match(request.path) for _, pattern, _ in self._routes):
            return Response(405, content="Method Not Allowed")
        return Response.error(404, "page not found")

    def _fault_for(self, request: Request) -> _Fault | None:
        for fault in self._faults:
            if fault.matches(request):
                fault.calls += 1
                if fault.nth <= fault.calls < fault.nth + fault.times:
                    return fault
        return None

    @staticmethod
    def _cut(response: Response, after: int) -> Response:
        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(after):
                chunk = await response.body.read_chunk()
                if not chunk:
                    return
                yield chunk
            response.release()

        return Response(response.status, stream=chunks(), headers=response.headers, cut_short=True)

    # --- helpers --------------------------------------------------------------

    def _msg(self, modern: str, old: str) -> str:
        return modern if self.modern else old

    def _all_tags(self) -> list[str]:
        return [tag for image in self.images.values() for tag in image.tags]

    def _add_image(self, ref: str, now: float) -> _Image:
        existing = self._find_image(ref)
        if existing is not None:
            return existing
        image = _Image(ref, now)
        self.images[image.id] = image
        return image

    def _find_image(self, ref: str) -> _Image | None:
        if ref.startswith("sha256:") or re.fullmatch(r"[0-9a-f]{12,64}", ref):
            digest = ref.removeprefix("sha256:")
            hits = [i for i in self.images.values() if i.id[7:].startswith(digest)]
            if len(hits) == 1:
                return hits[0]
        wanted = normalize_reference(ref)
        for image in self.images.values():
            if wanted in image.tags:
                return image
        return None

    def _image(self, ref: str) -> _Image:
        image = self._find_image(ref)
        if image is None:
            raise _Error(
                404, f"No such image: {normalize_reference(ref) if '@' not in ref else ref}"
            )
        return image

    def _find_container(self, ref: str) -> _Container | None:
        if ref in self.containers:
            return self.containers[ref]
        name = ref.lstrip("/")
        for container in self.containers.values():
            if container.name == name:
                return container
        hits = [c for c in self.containers.values() if c.id.startswith(ref)]
        return hits[0] if len(hits) == 1 else None

    def _container(self, ref: str) -> _Container:
        found = self._find_container(ref)
        if found is None:
            raise _Error(404, f"No such container: {ref}")
        return found

    def _process_for(
        self, argv: list[str], image: _Image | None, env: Sequence[str], stdin_open: bool
    ) -> Process:
        for prefix, rule in self._rules:
            if argv[: len(prefix)] == prefix:
                result = rule(argv)
                if result is not None:
                    return result
        if image is not None:
            for tag in [*image.tags, *map(_repository, image.tags)]:
                program = self._programs.get(tag)
                if program is not None:
                    result = program(argv)
                    if result is not None:
                        return result
        return busybox(argv, env, stdin_open)

    # --- events ----------------------------------------------------------------

    def _emit(
        self,
        kind: str,
        action: str,
        actor: str,
        attributes: dict[str, str],
        legacy: dict[str, str] | None = None,
    ) -> None:
        now = time.time_ns()
        event: dict[str, Any] = {}
        if legacy is not None:
            event.update(legacy)
        event.update(
            {
                "Type": kind,
                "Action": action,
                "Actor": {"ID": actor, "Attributes": attributes},
                "scope": "local",
                "time": now // 1_000_000_000,
                "timeNano": now,
            }
        )
        self.events.append(event)
        for queue in self._listeners:
            queue.put_nowait(event)

    def _emit_container(self, container: _Container, action: str, **extra: str) -> None:
        attributes = {
            **container.labels,
            "image": container.image_ref,
            "name": container.name,
            **extra,
        }
        self._emit(
            "container",
            action,
            container.id,
            dict(sorted(attributes.items())),
            {"status": action, "id": container.id, "from": container.image_ref},
        )

    def _emit_network(self, network: dict[str, Any], action: str, **extra: str) -> None:
        self._emit(
            "network",
            action,
            network["Id"],
            {"name": network["Name"], "type": network["Driver"], **extra},
        )

    # --- system -----------------------------------------------------------------

    async def _ping(self, request: Request) -> Response:
        headers = {
            "Api-Version": self.api_version,
            "Docker-Experimental": "false",
            "Ostype": "linux",
            "Builder-Version": "2" if self.modern else "1",
            "Cache-Control": "no-cache, no-store, must-revalidate",
            "Pragma": "no-cache",
            "Server": f"Docker/{self.version} (linux)",
        }
        if request.method == "HEAD":
            return Response(200, content=b"", headers=headers)
        return Response(200, content="OK", headers=headers)

    async def _version(self, request: Request) -> Response:
        return Response(
            json={
                "Platform": {"Name": ""},
                "Components": [
                    {
                        "Name": "Engine",
                        "Version": self.version,
                        "Details": {
                            "ApiVersion": self.api_version,
                            "Os": "linux",
                            "Arch": "amd64",
                            "MinAPIVersion": self.min_api_version,
                        },
                    }
                ],
                "Version": self.version,
                "ApiVersion": self.api_version,
                "MinAPIVersion": self.min_api_version,
                "GitCommit": "fake",
                "GoVersion": "go1.21",
                "Os": "linux",
                "Arch": "amd64",
                "KernelVersion": "6.1.0-fake",
                "BuildTime": "2024-01-01T00:00:00.000000000+00:00",
            }
        )

    async def _info(self, request: Request) -> Response:
        self._settle_all()
        states = [c.status for c in self.containers.values()]
        return Response(
            json={
                "ID": self.engine_id,
                "Containers": len(states),
                "ContainersRunning": states.count("running"),
                "ContainersPaused": states.count("paused"),
                "ContainersStopped": len(states) - states.count("running") - states.count("paused"),
                "Images": len(self.images),
                "Driver": "overlay2",
                "DriverStatus": [],
                "Plugins": {
                    "Volume": ["local"],
                    "Network": ["bridge", "host", "null"],
                    "Authorization": None,
                    "Log": ["json-file", "local"],
                },
                "MemoryLimit": True,
                "SwapLimit": True,
                "OomKillDisable": True,
                "NGoroutines": 40,
                "SystemTime": _rfc3339(time.time()),
                "LoggingDriver": "json-file",
                "CgroupDriver": "systemd",
                "CgroupVersion": "2",
                "NEventsListener": len(self._listeners),
                "KernelVersion": "6.1.0-fake",
                "OperatingSystem": "Fake Engine",
                "OSVersion": "",
                "OSType": "linux",
                "Architecture": "x86_64",
                "IndexServerAddress": "https://index.docker.io/v1/",
                "RegistryConfig": {},
                "NCPU": 2,
                "MemTotal": 4_000_000_000,
                "DockerRootDir": "/var/lib/docker",
                "Name": "fake",
                "Labels": [],
                "ExperimentalBuild": False,
                "ServerVersion": self.version,
                "Runtimes": {"runc": {"path": "runc"}},
                "DefaultRuntime": "runc",
                "Swarm": {
                    "NodeID": "",
                    "NodeAddr": "",
                    "LocalNodeState": "inactive",
                    "ControlAvailable": False,
                    "Error": "",
                    "RemoteManagers": None,
                },
                "LiveRestoreEnabled": False,
                "Isolation": "",
                "InitBinary": "docker-init",
                "SecurityOptions": ["name=seccomp,profile=builtin", "name=cgroupns"],
                "Warnings": None,
            }
        )

    async def _events(self, request: Request) -> Response:
        filters = request.filters()  # neither daemon rejects an unknown key: it is ignored
        now = time.time()
        since = _parse_time(request.params.get("since"), now)
        until = _parse_time(request.params.get("until"), now)
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        past = [e for e in self.events if since is not None and e["timeNano"] >= since * 1e9]
        if until is not None:
            past = [e for e in past if e["timeNano"] <= until * 1e9]
        live = until is None or until > now
        if live:
            self._listeners.append(queue)

        def wanted(event: dict[str, Any]) -> bool:
            return _event_matches(event, filters)

        async def stream() -> AsyncIterator[bytes]:
            try:
                for event in past:
                    if wanted(event):
                        yield json.dumps(event).encode() + b"\n"
                if not live:
                    return
                while True:
                    timeout = None if until is None else max(0.0, until - time.time())
                    try:
                        event = await asyncio.wait_for(queue.get(), timeout)
                    except asyncio.TimeoutError:
                        return
                    if wanted(event):
                        yield json.dumps(event).encode() + b"\n"
            finally:
                if queue in self._listeners:
                    self._listeners.remove(queue)

        return Response(200, stream=stream(), headers={"Content-Type": "application/json"})

    # --- containers -------------------------------------------------------------

    def _settle(self, container: _Container) -> None:
        """Apply a process end that is due (its duration passed)."""
        process = container.process
        if (
            container.status == "running"
            and process is not None
            and process.duration is not None
            and container.started_at is not None
            and time.time() >= container.started_at + process.duration
        ):
            self._exit(container, process.exit_code)

    def _due(self, container: _Container, process: Process) -> None:
        """The timer of a process's end: end it (a loop's clock may run ahead of the wall's)."""
        container.timer = None
        if container.process is not process:
            return  # restarted since
        if container.status == "paused":  # a frozen process ends after it thaws
            loop = asyncio.get_running_loop()
            container.timer = loop.call_later(0.05, self._due, container, process)
        elif container.status == "running":
            self._exit(container, process.exit_code)

    def _settle_all(self) -> None:
        for container in list(self.containers.values()):
            self._settle(container)

    def _exit(
        self, container: _Container, code: int, at: float | None = None, *, stopping: bool = False
    ) -> None:
        """End the process; ``stopping``: a stop request ended it, so a ``stop`` event too.

        Docker 26 logs that ``stop`` just before ``die``; 20.10 after it.
        """
        if container.timer is not None:
            container.timer.cancel()
            container.timer = None
        container.status = "exited"
        container.exit_code = code
        container.pid = 0
        container.finished_at = finished = at or time.time()
        # what the process wrote before its end is there by then (the loop's timer may
        # fire a little before the wall clock reaches the end); what it would have
        # written later (it was killed) never is
        container.logs = [
            (s, d, min(t, finished)) for s, d, t in container.logs if t <= finished + 0.05
        ]
        if stopping and self.modern:
            self._emit_container(container, "stop")
        extra = {"exitCode": str(code)}
        if self.modern and container.started_at is not None:
            extra["execDuration"] = str(int(container.finished_at - container.started_at))
        self._emit_container(container, "die", **extra)
        for name in container.networks:
            network = self._find_network(name)
            if network is not None:
                self._emit_network(network, "disconnect", container=container.id)
        if stopping and not self.modern:
            self._emit_container(container, "stop")
        container.exited.set()
        container.changed.set()
        container.wrote.set()

    def _launch(self, container: _Container) -> None:
        cfg = container.config
        env = [*container.image.env, *(cfg.get("Env") or [])]
        process = self._process_for(
            container.argv, container.image, env, bool(cfg.get("OpenStdin"))
        )
        now = time.time()
        container.process = process
        container.status = "running"
        container.started_at = now
        container.finished_at = None
        container.exit_code = 0
        container.stdin_closed = False
        self._next_pid += 1
        container.pid = self._next_pid
        container.health = process.health
        container.exited = asyncio.Event()
        tty = bool(cfg.get("Tty"))
        for stream, data, offset in process.output:
            if tty:
                data = data.replace(b"\n", b"\r\n")
                stream = 1
            for line in data.splitlines(keepends=True):
                container.logs.append((stream, line, now + offset))
        for name in container.networks:
            network = self._find_network(name)
            if network is not None:
                self._emit_network(network, "connect", container=container.id)
        self._emit_container(container, "start")
        if process.duration is not None:
            loop = asyncio.get_running_loop()
            container.timer = loop.call_later(process.duration, self._due, container, process)
        container.changed.set()

    def _container_json(self, c: _Container, *, size: bool = False) -> dict[str, Any]:
        self._settle(c)
        argv = c.argv
        result = {
            "Id": c.id,
            "Created": _rfc3339(c.created),
            "Path": argv[0] if argv else "",
            "Args": argv[1:],
            "State": _state_json(c),
            "Image": c.image.id,
            "ResolvConfPath": f"/var/lib/docker/containers/{c.id}/resolv.conf",
            "HostnamePath": f"/var/lib/docker/containers/{c.id}/hostname",
            "HostsPath": f"/var/lib/docker/containers/{c.id}/hosts",
            "LogPath": f"/var/lib/docker/containers/{c.id}/{c.id}-json.log",
            "Name": "/" + c.name,
            "RestartCount": c.restart_count,
            "Driver": "overlay2",
            "Platform": "linux",
            "MountLabel": "",
            "ProcessLabel": "",
            "AppArmorProfile": "",
            "ExecIDs": list(c.exec_ids) or None,
            "HostConfig": self._host_config_json(c),
            "GraphDriver": {"Data": None, "Name": "overlay2"},
            "Mounts": _mounts_json(c),
            "Config": _config_json(c),
            "NetworkSettings": {
                "Bridge": "",
                "SandboxID": "",
                "HairpinMode": False,
                "Ports": {},
                "SandboxKey": "",
                "Networks": {name: self._endpoint(c, name) for name in c.networks},
            },
        }
        if size:
            result["SizeRw"] = 0
            result["SizeRootFs"] = c.image.size
        return result

    def _host_config_json(self, c: _Container) -> dict[str, Any]:
        """The ``HostConfig`` of a container's inspect: the defaults, then what was asked."""
        host_config = {
            "NetworkMode": "default" if not self.modern else "bridge",
            "RestartPolicy": {"Name": "no", "MaximumRetryCount": 0},
            "AutoRemove": False,
            "Binds": None,
            "PortBindings": {},
            "LogConfig": {"Type": "json-file", "Config": {}},
            "Privileged": False,
            "Memory": 0,
            "NanoCpus": 0,
            "CpuShares": 0,
        }
        host_config.update(c.host_config)
        return host_config

    def _endpoint(self, c: _Container, name: str) -> dict[str, Any]:
        network = self._find_network(name)
        settings = c.networks[name]
        running = c.running
        return {
            "IPAMConfig": None,
            "Links": None,
            "Aliases": settings.get("Aliases"),
            "NetworkID": network["Id"] if network else "",
            "EndpointID": secrets.token_hex(32) if running else "",
            "Gateway": "172.17.0.1" if running else "",
            "IPAddress": settings.get("IPAddress", "") if running else "",
            "IPPrefixLen": 16 if running else 0,
            "IPv6Gateway": "",
            "GlobalIPv6Address": "",
            "GlobalIPv6PrefixLen": 0,
            "MacAddress": "",
            "DriverOpts": None,
        }

    def _status_text(self, c: _Container) -> str:
        now = time.time()
        if c.status in ("running", "paused"):
            up = human_duration(now - (c.started_at or now))
            if c.status == "paused":
                return f"Up {up} (Paused)"
            if c.health is not None:
                label = "health: starting" if c.health == "starting" else c.health
                return f"Up {up} ({label})"
            return f"Up {up}"
        if c.started_at is None:
            return "Created"
        return f"Exited ({c.exit_code}) {human_duration(now - (c.finished_at or now))} ago"

    def _container_summary(self, c: _Container) -> dict[str, Any]:
        argv = c.argv
        return {
            "Id": c.id,
            "Names": ["/" + c.name],
            "Image": c.image_ref,
            "ImageID": c.image.id,
            "Command": " ".join(argv),
            "Created": int(c.created),
            "Ports": [],
            "Labels": dict(c.labels),
            "State": c.status,
            "Status": self._status_text(c),
            "HostConfig": {
                "NetworkMode": c.host_config.get(
                    "NetworkMode", "bridge" if self.modern else "default"
                )
            },
            "NetworkSettings": {"Networks": {name: self._endpoint(c, name) for name in c.networks}},
            "Mounts": [],
        }

    async def _container_list(self, request: Request) -> Response:
        self._settle_all()
        filters = request.filters()
        allowed = (
            "ancestor",
            "before",
            "expose",
            "exited",
            "health",
            "id",
            "isolation",
            "is-task",
            "label",
            "name",
            "network",
            "publish",
            "since",
            "status",
            "volume",
        )
        for key in filters:
            if key not in allowed:
                raise _Error(400, self._msg(f"invalid filter '{key}'", f"Invalid filter '{key}'"))
        for value in filters.get("status", []):
            if value not in _STATUSES:
                raise _Error(
                    400,
                    self._msg(
                        f"invalid filter 'status={value}'", f"Invalid filter 'status={value}'"
                    ),
                )
        show_all = request.params.get("all") in ("1", "true", "True")
        ordered = sorted(self.containers.values(), key=lambda c: c.created, reverse=True)
        before = [self._container(v) for v in filters.get("before", [])]
        since = [self._container(v) for v in filters.get("since", [])]
        result = []
        for c in ordered:
            if not show_all and not c.running and "status" not in filters:
                continue
            if "status" in filters and c.status not in filters["status"]:
                continue
            if "id" in filters and not any(c.id.startswith(v) for v in filters["id"]):
                continue
            if "name" in filters and not any(re.search(v, "/" + c.name) for v in filters["name"]):
                continue
            if "label" in filters and not all(_label_match(c.labels, v) for v in filters["label"]):
                continue
            if "exited" in filters and (
                c.status != "exited" or str(c.exit_code) not in filters["exited"]
            ):
                continue
            if "ancestor" in filters and not any(
                (img := self._find_image(v)) is not None and img is c.image
                for v in filters["ancestor"]
            ):
                continue
            if "health" in filters and (c.health or "none") not in filters["health"]:
                continue
            if "network" in filters and not any(
                (n := self._find_network(v)) is not None and n["Name"] in c.networks
                for v in filters["network"]
            ):
                continue
            if "volume" in filters and not any(
                any(b.split(":")[0] == v for b in (c.host_config.get("Binds") or []))
                for v in filters["volume"]
            ):
                continue
            if any(c.created >= b.created for b in before):
                continue
            if any(c.created <= s.created for s in since):
                continue
            result.append(self._container_summary(c))
        limit = int(request.params.get("limit", "-1") or -1)
        if limit > 0:
            result = result[:limit]
        return Response(json=result)

    async def _container_create(self, request: Request) -> Response:
        config = request.json() or {}
        name = request.params.get("name", "")
        if name and not _NAME.match(name):
            raise _Error(
                400, f"Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
            )
        name = name.lstrip("/")
        ref = config.get("Image") or ""
        if not ref:
            raise _Error(400, self._msg("no command specified", "No command specified"))
        image = self._image(ref)
        if name:
            taken = self._find_container_by_name(name)
            if taken is not None:
                raise _Error(
                    409,
                    f'Conflict. The container name "/{name}" is already in use '
                    f'by container "{taken.id}". You have to remove (or rename) '
                    "that container to be able to reuse that name.",
                )
        cid = secrets.token_hex(32)
        if not name:
            name = f"fake_{cid[:8]}"
        container = _Container(cid, name, image, ref, config, time.time())
        mode = container.host_config.get("NetworkMode") or "default"
        network_names = list((config.get("NetworkingConfig") or {}).get("EndpointsConfig") or {})
        if mode in ("default", "bridge") and not network_names:
            network_names = ["bridge"]
        elif mode not in ("default", "bridge", "host", "none") and mode not in network_names:
            if self._find_network(mode) is None:
                raise _Error(404, f"network {mode} not found")
            network_names = [mode]
        for net_name in network_names:
            network = self._find_network(net_name)
            if network is None:
                raise _Error(404, f"network {net_name} not found")
            container.networks[network["Name"]] = {"IPAddress": self._next_ip(network)}
        for bind in container.host_config.get("Binds") or []:
            source = bind.split(":")[0]
            if not source.startswith("/") and source not in self.volumes:
                self._new_volume(source, "local", {}, {})
        self.containers[cid] = container
        self._emit_container(container, "create")
        return Response(201, json={"Id": cid, "Warnings": []})

    def _find_container_by_name(self, name: str) -> _Container | None:
        for container in self.containers.values():
            if container.name == name:
                return container
        return None

    async def _container_inspect(self, request: Request, ref: str) -> Response:
        container = self._container(ref)
        return Response(
            json=self._container_json(container, size=request.params.get("size") in ("1", "true"))
        )

    async def _container_start(self, request: Request, ref: str) -> Response:
        c = self._container(ref)
        self._settle(c)
        if c.status == "paused":
            raise _Error(
                409,
                self._msg(
                    "cannot start a paused container, try unpause instead",
                    "cannot start a paused container, try unpause instead",
                ),
            )
        if c.running:
            return Response(304)
        self._launch(c)
        return Response(204)

    async def _stop(self, c: _Container, timeout: float, signal: int = 15) -> None:
        self._emit_container(c, "kill", signal=str(signal))
        process = c.process
        if process is not None and not process.ignores_sigterm:
            self._exit(c, 128 + signal, stopping=True)
            return
        if timeout > 0:
            try:
                await asyncio.wait_for(c.exited.wait(), timeout)
                self._emit_container(c, "stop")
                return
            except asyncio.TimeoutError:
                pass
        if c.running:
            self._emit_container(c, "kill", signal="9")
            self._exit(c, 137, stopping=True)
        else:
            self._emit_container(c, "stop")

    def _stop_timeout(self, request: Request, c: _Container) -> float:
        raw = request.params.get("t", request.params.get("timeout"))
        if raw is None:
            return float(c.config.get("StopTimeout") or 10)
        return max(0.0, float(raw))

    async def _container_stop(self, request: Request, ref: str) -> Response:
        c = self._container(ref)
        self._settle(c)
        if not c.running:
            return Response(304)
        await self._stop(c, self._stop_timeout(request, c))
        return Response(204)

    async def _container_restart(self, request: Request, ref: str) -> Response:
        c = self._container(ref)
        self._settle(c)
        if c.running:
            if c.status == "paused":
                c.status = "running"
            await self._stop(c, self._stop_timeout(request, c))
        self._launch(c)
        self._emit_container(c, "restart")
        return Response(204)

    async def _container_kill(self, request: Request, ref: str) -> Response:
        c = self._container(ref)
        self._settle(c)
        raw = request.params.get("signal", "SIGKILL")
        signal = _signal_number(raw)
        if signal is None:
            raise _Error(400, self._msg(f"Invalid signal: {raw}", f"Invalid signal: {raw}"))
        if not c.running:
            raise _Error(
                409,
                self._msg(
                    f"cannot kill container: {ref}: container {c.id} is not running",
                    f"Cannot kill container: {ref}: Container {c.id} is not running",
                ),
            )
        self._emit_container(c, "kill", signal=str(signal))
        process = c.process
        ignored = signal == 15 and process is not None and process.ignores_sigterm
        if signal in (9, 15, 2, 1, 3) and not ignored and signal != 19:
            self._exit(c, 128 + signal)
        return Response(204)

    async def _container_wait(self, request: Request, ref: str) -> Response:
        c = self._container(ref)
        self._settle(c)
        condition = request.params.get("condition", "not-running")
        if condition not in ("not-running", "next-exit", "removed"):
            raise _Error(
                400,
                f"invalid condition: {condition!r}"
                if self.modern
                else f'invalid condition: "{condition}"',
            )
        if condition == "not-running" and not c.running:
            return Response(json={"Error": None, "StatusCode": c.exit_code})

        async def body() -> AsyncIterator[bytes]:
            while True:
                if condition == "removed":
                    if c.id not in self.containers:
                        break
                elif c.status == "exited":
                    break
                c.changed.clear()
                await c.changed.wait()
            yield json.dumps({"Error": None, "StatusCode": c.exit_code}).encode() + b"\n"

        return Response(200, stream=body(), headers={"Content-Type": "application/json"})

    async def _container_pause(self, request: Request, ref: str) -> Response:
        c = self._container(ref)
        self._settle(c)
        if not c.running:
            raise _Error(
                409,
                self._msg(f"container {c.id} is not running", f"Container {c.id} is not running"),
            )
        if c.status == "paused":
            raise _Error(
                409,
                self._msg(
                    f"container {c.id} is already paused", f"Container {c.id} is already paused"
                ),
            )
        c.status = "paused"
        self._emit_container(c, "pause")
        return Response(204)

    async def _container_unpause(self, request: Request, ref: str) -> Response:
        c = self._container(ref)
        self._settle(c)
        if c.status != "paused":
            raise _Error(500, f"Container {c.id} is not paused")  # sic: a 500 on 20.10 and 26
        c.status = "running"
        self._emit_container(c, "unpause")
        self._settle(c)
        return Response(204)

    async def _container_rename(self, request: Request, ref: str) -> Response:
        c = self._container(ref)
        new = request.params.get("name", "")
        if not new:
            raise _Error(400, "Neither old nor new names may be empty")
        if not _NAME.match(new):
            raise _Error(
                400, f"Invalid container name ({new}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
            )
        new = new.lstrip("/")
        if new == c.name:
            raise _Error(400, "Renaming a container with the same name as its current name")
        taken = self._find_container_by_name(new)
        if taken is not None:
            raise _Error(
                409,
                f'Conflict. The container name "/{new}" is already in use by '
                f'container "{taken.id}". You have to remove (or rename) that '
                "container to be able to reuse that name.",
            )
        old = c.name
        c.name = new
        self._emit_container(c, "rename", oldName="/" + old)
        return Response(204)

    async def _container_resize(self, request: Request, ref: str) -> Response:
        c = self._container(ref)
        if not c.running:
            raise _Error(
                409,
                self._msg(f"container {c.id} is not running", f"Container {c.id} is not running"),
            )
        return Response(200, content=b"")

    async def _container_delete(self, request: Request, ref: str) -> Response:
        c = self._container(ref)
        self._settle(c)
        force = request.params.get("force") in ("1", "true", "True")
        if c.running and not force:
            if c.status == "paused":
                raise _Error(
                    409,
                    self._msg(
                        f'cannot remove container "/{c.name}": container is paused and must be '
                        "unpaused first",
                        f"You cannot remove a paused container {c.id}. Unpause and then stop the "
                        "container before attempting removal or force remove",
                    ),
                )
            raise _Error(
                409,
                self._msg(
                    f'cannot remove container "/{c.name}": container is running: stop the '
                    "container before removing or force remove",
                    f"You cannot remove a running container {c.id}. Stop the container before "
                    "attempting removal or force remove",
                ),
            )
        if c.running:
            self._emit_container(c, "kill", signal="9")
            self._exit(c, 137)
        del self.containers[c.id]
        for eid in c.exec_ids:
            self.execs.pop(eid, None)
        self._emit_container(c, "destroy")
        if request.params.get("v") in ("1", "true", "True"):
            pass  # anonymous volumes: the fake makes none
        c.changed.set()
        return Response(204)

    async def _container_prune(self, request: Request) -> Response:
        self._settle_all()
        filters = request.filters()
        deleted = []
        for c in list(self.containers.values()):
            if c.running:
                continue
            if "label" in filters and not all(_label_match(c.labels, v) for v in filters["label"]):
                continue
            del self.containers[c.id]
            self._emit_container(c, "destroy")
            deleted.append(c.id)
        self._emit("container", "prune", "", {"reclaimed": "0"})
        return Response(json={"ContainersDeleted": deleted or None, "SpaceReclaimed": 0})

    def _logs_for(self, c: _Container, request: Request) -> list[bytes]:
        params = request.params
        want = {
            1: params.get("stdout") in ("1", "true", "True"),
            2: params.get("stderr") in ("1", "true", "True"),
        }
        since = float(params.get("since", "0") or 0)
        until = float(params.get("until", "0") or 0)
        now = time.time()
        entries = [
            (s, d, t)
            for s, d, t in c.logs
            if want.get(s) and t <= now and (not since or t >= since) and (not until or t <= until)
        ]
        tail = params.get("tail", "all")
        if tail not in ("all", "") and int(tail) >= 0:
            entries = entries[len(entries) - int(tail) :] if int(tail) else []
        tty = bool(c.config.get("Tty"))
        stamps = params.get("timestamps") in ("1", "true", "True")
        chunks = []
        for stream, data, at in entries:
            if stamps:
                data = _rfc3339(at).encode() + b" " + data
            chunks.append(data if tty else frame(stream, data))
        return chunks

    async def _container_logs(self, request: Request, ref: str) -> Response:
        c = self._container(ref)
        self._settle(c)
        params = request.params
        if not (
            params.get("stdout") in ("1", "true", "True")
            or params.get("stderr") in ("1", "true", "True")
        ):
            raise _Error(400, "Bad parameters: you must choose at least one stream")
        chunks = self._logs_for(c, request)
        tty = bool(c.config.get("Tty"))
        content_type = RAW_STREAM if tty else MULTIPLEXED
        follow = params.get("follow") in ("1", "true", "True")

        sent = sum(1 for _, _, t in c.logs if t <= time.time())
        stamps = params.get("timestamps") in ("1", "true", "True")
        want = {
            1: params.get("stdout") in ("1", "true", "True"),
            2: params.get("stderr") in ("1", "true", "True"),
        }

        async def stream() -> AsyncIterator[bytes]:
            for chunk in chunks:
                yield chunk
            if not follow:
                return
            async for stream_id, data in self._written_after(c, sent):
                if want.get(stream_id):
                    if stamps:
                        data = _rfc3339(time.time()).encode() + b" " + data
                    yield data if tty else frame(stream_id, data)

        return Response(200, stream=stream(), headers={"Content-Type": content_type})

    async def _written_after(self, c: _Container, index: int) -> AsyncIterator[tuple[int, bytes]]:
        """The output lines from ``c.logs[index]`` on, as their time comes, until the exit."""
        while True:
            self._settle(c)
            now = time.time()
            while index < len(c.logs) and c.logs[index][2] <= now:
                stream_id, data, _ = c.logs[index]
                index += 1
                yield stream_id, data
            if not c.running:
                return
            delay = c.logs[index][2] - now if index < len(c.logs) else None
            c.wrote.clear()
            try:
                await asyncio.wait_for(c.wrote.wait(), delay)
            except asyncio.TimeoutError:
                pass

    async def _container_attach(self, request: Request, ref: str) -> Response:
        c = self._container(ref)
        self._settle(c)
        params = request.params
        tty = bool(c.config.get("Tty"))
        chunks = self._logs_for(c, request) if params.get("logs") in ("1", "true") else []
        live = params.get("stream") in ("1", "true", "True")
        start = sum(1 for _, _, t in c.logs if t <= time.time())
        echo = c.process is not None and c.process.echo_stdin
        wants = {
            1: params.get("stdout") in ("1", "true", "True"),
            2: params.get("stderr") in ("1", "true", "True"),
        }

        def on_input(data: bytes) -> None:
            if not data:  # the client's half-close ends stdin only with StdinOnce
                if c.config.get("StdinOnce"):
                    c.stdin_closed = True
                    if echo and c.running:
                        self._exit(c, 0)
                return
            if echo and c.running:
                c.logs.append((1, data, time.time()))
                c.wrote.set()

        async def stream() -> AsyncIterator[bytes]:
            for chunk in chunks:
                yield chunk
            if not live:
                return
            async for stream_id, data in self._written_after(c, start):
                if wants.get(stream_id):
                    yield data if tty else frame(stream_id, data)

        return Response.hijacked(stream(), tty=tty, on_input=on_input)

    # --- exec -------------------------------------------------------------------

    async def _exec_create(self, request: Request, ref: str) -> Response:
        c = self._container(ref)
        self._settle(c)
        config = request.json() or {}
        if not c.running:
            raise _Error(
                409,
                self._msg(f"container {c.id} is not running", f"Container {c.id} is not running"),
            )
        if c.status == "paused":
            raise _Error(409, f"Container {c.id} is paused, unpause the container before exec")
        cmd = config.get("Cmd")
        if not cmd:
            raise _Error(400, "No exec command specified")
        eid = secrets.token_hex(32)
        self.execs[eid] = _Exec(eid, c, config)
        c.exec_ids.append(eid)
        self._emit_container(c, f"exec_create: {_command_text(cmd)}", execID=eid)
        return Response(201, json={"Id": eid})

    def _exec_of(self, eid: str) -> _Exec:
        found = self.execs.get(eid)
        if found is None:
            raise _Error(404, f"No such exec instance: {eid}")
        return found

    async def _exec_start(self, request: Request, eid: str) -> Response:
        ex = self._exec_of(eid)
        body = request.json() or {}
        c = ex.container
        self._settle(c)
        if ex.started:  # both daemons say it inside the already upgraded stream, on stdout
            text = f"Error: Exec command {eid} has already run\r\n"
            exec_tty = bool(ex.config.get("Tty"))
            return Response.hijacked([text if exec_tty else frame(1, text)], tty=exec_tty)
        if not c.running:
            raise _Error(
                409,
                self._msg(f"container {c.id} is not running", f"Container {c.id} is not running"),
            )
        cfg = ex.config
        cmd = list(cfg.get("Cmd") or [])
        env = [*c.image.env, *(c.config.get("Env") or []), *(cfg.get("Env") or [])]
        process = self._process_for(cmd, c.image, env, bool(cfg.get("AttachStdin")))
        ex.started = True
        ex.running = True
        self._next_pid += 1
        ex.pid = self._next_pid
        self._emit_container(c, f"exec_start: {_command_text(cmd)}", execID=eid)
        tty = bool(body.get("Tty", cfg.get("Tty")))
        wants = {
            1: cfg.get("AttachStdout", True) is not False,
            2: cfg.get("AttachStderr", True) is not False,
        }

        def finish(code: int) -> None:
            if ex.running:
                ex.running = False
                ex.exit_code = code
                ex.pid = 0
                self._emit_container(c, "exec_die", execID=eid, exitCode=str(code))

        if body.get("Detach"):
            if process.duration is None:
                return Response(200, content=b"", headers={"Content-Type": "application/json"})
            asyncio.get_running_loop().call_later(process.duration, finish, process.exit_code)
            return Response(200, content=b"", headers={"Content-Type": "application/json"})
        pending: asyncio.Queue[bytes | None] = asyncio.Queue()

        def on_input(data: bytes) -> None:
            if not data:
                pending.put_nowait(None)
            elif process.echo_stdin:
                pending.put_nowait(data if tty else frame(1, data))

        async def stream() -> AsyncIterator[bytes]:
            began = time.time()
            try:
                for stream_id, data, at in process.output:
                    if at > time.time() - began:
                        await asyncio.sleep(at - (time.time() - began))
                    if not wants.get(stream_id):
                        continue
                    if tty:
                        yield data.replace(b"\n", b"\r\n")
                    else:
                        yield frame(stream_id, data)
                if process.duration is None:
                    while (item := await pending.get()) is not None:
                        yield item
                elif process.duration > time.time() - began:
                    await asyncio.sleep(process.duration - (time.time() - began))
                finish(process.exit_code)
            finally:
                finish(process.exit_code if process.duration is not None else 0)

        return Response.hijacked(stream(), tty=tty, on_input=on_input)

    async def _exec_resize(self, request: Request, eid: str) -> Response:
        self._exec_of(eid)
        return Response(201, content=b"")

    async def _exec_inspect(self, request: Request, eid: str) -> Response:
        ex = self._exec_of(eid)
        cfg = ex.config
        cmd = list(cfg.get("Cmd") or [])
        return Response(
            json={
                "ID": ex.id,
                "Running": ex.running,
                "ExitCode": ex.exit_code,
                "ProcessConfig": {
                    "tty": bool(cfg.get("Tty")),
                    "entrypoint": cmd[0] if cmd else "",
                    "arguments": cmd[1:],
                    "privileged": bool(cfg.get("Privileged")),
                    **({"user": cfg["User"]} if cfg.get("User") else {}),
                },
                "OpenStdin": bool(cfg.get("AttachStdin")),
                "OpenStderr": cfg.get("AttachStderr", True) is not False,
                "OpenStdout": cfg.get("AttachStdout", True) is not False,
                "CanRemove": False,
                "ContainerID": ex.container.id,
                "DetachKeys": "",
                "Pid": ex.pid,
            }
        )

    # --- images -------------------------------------------------------------------

    def _image_summary(self, image: _Image) -> dict[str, Any]:
        summary: dict[str, Any] = {
            "Containers": -1,
            "Created": int(image.created),
            "Id": image.id,
            "Labels": image.labels,
            "ParentId": "",
            "RepoDigests": [],
            "RepoTags": list(image.tags),
            "SharedSize": -1,
            "Size": image.size,
        }
        if not self.modern:
            summary["VirtualSize"] = image.size
        return summary

    async def _image_list(self, request: Request) -> Response:
        filters = request.filters()
        for key in filters:
            if key not in ("before", "dangling", "label", "reference", "since", "until"):
                raise _Error(400, self._msg(f"invalid filter '{key}'", f"Invalid filter '{key}'"))
        result = []
        for image in sorted(self.images.values(), key=lambda i: i.created, reverse=True):
            if "reference" in filters and not any(
                fnmatch.fnmatchcase(tag, pattern)
                or fnmatch.fnmatchcase(
                    tag, pattern if ":" in pattern.rsplit("/", 1)[-1] else pattern + ":*"
                )
                for tag in image.tags
                for pattern in filters["reference"]
            ):
                continue
            if "label" in filters and not all(
                _label_match(image.labels or {}, v) for v in filters["label"]
            ):
                continue
            if "dangling" in filters and (filters["dangling"][0] in ("true", "1")) != (
                not image.tags
            ):
                continue
            result.append(self._image_summary(image))
        return Response(json=result)

    async def _image_inspect(self, request: Request, ref: str) -> Response:
        image = self._find_image(ref)
        if image is None:
            wanted = normalize_reference(ref)
            raise _Error(
                404,
                self._msg(
                    f"No such image: {wanted}", f"no such image: {wanted}: No such image: {wanted}"
                ),
            )
        config = {
            "Hostname": "",
            "Domainname": "",
            "User": "",
            "AttachStdin": False,
            "AttachStdout": False,
            "AttachStderr": False,
            "Tty": False,
            "OpenStdin": False,
            "StdinOnce": False,
            "Env": image.env,
            "Cmd": image.cmd,
            "Image": "",
            "Volumes": None,
            "WorkingDir": "",
            "Entrypoint": None,
            "OnBuild": None,
            "Labels": image.labels,
        }
        result: dict[str, Any] = {
            "Id": image.id,
            "RepoTags": list(image.tags),
            "RepoDigests": [],
            "Parent": "",
            "Comment": "",
            "Created": _rfc3339(image.created),
            "DockerVersion": "",
            "Author": "",
            "Config": config,
            "Architecture": "amd64",
            "Os": "linux",
            "Size": image.size,
            "GraphDriver": {"Data": None, "Name": "overlay2"},
            "RootFS": {"Type": "layers", "Layers": ["sha256:" + "0" * 64]},
            "Metadata": {"LastTagTime": _ZERO_TIME},
        }
        if not self.modern:
            result["Container"] = ""
            result["ContainerConfig"] = dict(config, Cmd=None, Env=None)
            result["VirtualSize"] = image.size
        return Response(json=result)

    async def _image_tag(self, request: Request, ref: str) -> Response:
        image = self._image(ref)
        repo = request.params.get("repo", "")
        tag = request.params.get("tag") or "latest"
        if not repo:
            raise _Error(400, "repository name must have at least one component")
        if repo != repo.lower():
            raise _Error(
                400,
                f"invalid reference format: repository name ({repo}) must be lowercase"
                if self.modern
                else "invalid reference format: repository name must be lowercase",
            )
        new = normalize_reference(f"{repo}:{tag}")
        for other in self.images.values():
            if new in other.tags and other is not image:
                other.tags.remove(new)
        if new not in image.tags:
            image.tags.append(new)
        self._emit("image", "tag", image.id, {"name": new}, {"status": "tag", "id": image.id})
        return Response(201, content=b"")

    async def _image_delete(self, request: Request, ref: str) -> Response:
        image = self._find_image(ref)
        if image is None:
            raise _Error(404, f"No such image: {normalize_reference(ref)}")
        force = request.params.get("force") in ("1", "true", "True")
        by_tag = normalize_reference(ref) in image.tags
        users = [c for c in self.containers.values() if c.image is image]
        removes_image = not by_tag or len(image.tags) <= 1
        if users and removes_image and not force:
            c = users[0]
            what = (
                f'repository reference "{normalize_reference(ref)}"' if by_tag else image.id[7:19]
            )
            if c.running or not by_tag:
                raise _Error(
                    409,
                    f"conflict: unable to delete {image.id[7:19]} (cannot be forced) "
                    f"- image is being used by running container {c.id[:12]}"
                    if c.running
                    else f"conflict: unable to delete {image.id[7:19]} (must be forced) - "
                    f"image is being used by stopped container {c.id[:12]}",
                )
            raise _Error(
                409,
                f"conflict: unable to remove {what} (must force) - container "
                f"{c.id[:12]} is using its referenced image {image.id[7:19]}",
            )
        answer: list[dict[str, str]] = []
        if by_tag and len(image.tags) > 1:
            tag = normalize_reference(ref)
            image.tags.remove(tag)
            self._emit(
                "image", "untag", image.id, {"name": image.id}, {"status": "untag", "id": image.id}
            )
            return Response(json=[{"Untagged": tag}])
        for tag in list(image.tags):
            answer.append({"Untagged": tag})
            self._emit(
                "image", "untag", image.id, {"name": image.id}, {"status": "untag", "id": image.id}
            )
        image.tags.clear()
        del self.images[image.id]
        answer.append({"Deleted": image.id})
        self._emit(
            "image", "delete", image.id, {"name": image.id}, {"status": "delete", "id": image.id}
        )
        return Response(json=answer)

    async def _image_pull(self, request: Request) -> Response:
        name = request.params.get("fromImage", "")
        tag = request.params.get("tag", "")
        if not name:
            raise _Error(400, "image name is required" if self.modern else "No such image: ")
        ref = normalize_reference(f"{name}:{tag}" if tag and "@" not in name else name)
        if ref not in self.registry:
            repo = _repository(ref)
            raise _Error(
                404,
                f"pull access denied for {repo}, repository does not exist or "
                "may require 'docker login': denied: requested access to the "
                "resource is denied",
            )
        present = self._find_image(ref) is not None
        image = self._add_image(ref, time.time())
        digest = "sha256:" + hashlib.sha256(image.id.encode()).hexdigest()
        tag_part = ref.rsplit(":", 1)[-1]
        progress: list[dict[str, Any]] = [
            {"status": f"Pulling from {_repository(ref)}", "id": tag_part}
        ]
        if not present:
            layer = image.id[7:19]
            progress += [
                {"status": "Pulling fs layer", "progressDetail": {}, "id": layer},
                {"status": "Download complete", "progressDetail": {}, "id": layer},
                {"status": "Pull complete", "progressDetail": {}, "id": layer},
            ]
        progress += [
            {"status": f"Digest: {digest}"},
            {
                "status": f"Status: Image is up to date for {ref}"
                if present
                else f"Status: Downloaded newer image for {ref}"
            },
        ]
        self._emit("image", "pull", ref, {"name": _repository(ref)}, {"status": "pull", "id": ref})
        return Response(200, stream=progress)

    async def _image_push(self, request: Request, ref: str) -> Response:
        tag = request.params.get("tag", "")
        full = normalize_reference(f"{ref}:{tag}" if tag else ref)
        image = self._find_image(full)
        if image is None:  # an error inside a 200 stream, as both daemons report it
            message = f"An image does not exist locally with the tag: {_repository(full)}"
            return Response(200, stream=[{"errorDetail": {"message": message}, "error": message}])
        self.registry.add(full)
        digest = "sha256:" + hashlib.sha256(image.id.encode()).hexdigest()
        layer = image.id[7:19]
        repo = _repository(full)
        shown = (
            repo
            if "/" in repo.split("/", 1)[0]
            or "." in repo.split("/", 1)[0]
            or ":" in repo.split("/", 1)[0]
            else ("docker.io/library/" + repo if "/" not in repo else "docker.io/" + repo)
        )
        progress = [
            {"status": f"The push refers to repository [{shown}]"},
            {"status": "Preparing", "progressDetail": {}, "id": layer},
            {"status": "Pushed", "progressDetail": {}, "id": layer},
            {"status": f"{full.rsplit(':', 1)[-1]}: digest: {digest} size: 527"},
            {
                "progressDetail": {},
                "aux": {"Tag": full.rsplit(":", 1)[-1], "Digest": digest, "Size": 527},
            },
        ]
        self._emit("image", "push", full, {"name": full}, {"status": "push", "id": full})
        return Response(200, stream=progress)

    # --- networks ------------------------------------------------------------------

    def _new_network(
        self, name: str, driver: str, body: dict[str, Any], now: float, builtin: bool = False
    ) -> dict[str, Any]:
        index = len(self.networks) + 17
        network: dict[str, Any] = {
            "Name": name,
            "Id": secrets.token_hex(32),
            "Created": _rfc3339(now),
            "Scope": "local",
            "Driver": driver,
            "EnableIPv6": bool(body.get("EnableIPv6")),
            "IPAM": {
                "Driver": "default",
                "Options": None if builtin else {},
                "Config": [{"Subnet": f"172.{index}.0.0/16", "Gateway": f"172.{index}.0.1"}]
                if driver == "bridge"
                else [],
            },
            "Internal": bool(body.get("Internal")),
            "Attachable": bool(body.get("Attachable")),
            "Ingress": False,
            "ConfigFrom": {"Network": ""},
            "ConfigOnly": False,
            "Containers": {},
            "Options": dict(body.get("Options") or {}),
            "Labels": dict(body.get("Labels") or {}),
            "_builtin": builtin,
            "_next": 2,
        }
        self.networks[network["Id"]] = network
        return network

    def _next_ip(self, network: dict[str, Any]) -> str:
        config = network["IPAM"]["Config"]
        if not config:
            return ""
        prefix = config[0]["Subnet"].rsplit(".", 2)[0]
        network["_next"] += 1
        return f"{prefix}.0.{network['_next']}"

    def _find_network(self, ref: str) -> dict[str, Any] | None:
        if ref in self.networks:
            return self.networks[ref]
        for network in self.networks.values():
            if network["Name"] == ref:
                return network
        hits = [n for n in self.networks.values() if n["Id"].startswith(ref)]
        return hits[0] if len(hits) == 1 else None

    def _network(self, ref: str) -> dict[str, Any]:
        network = self._find_network(ref)
        if network is None:
            raise _Error(404, f"network {ref} not found")
        return network

    def _network_json(self, network: dict[str, Any], *, detail: bool) -> dict[str, Any]:
        result = {k: v for k, v in network.items() if not k.startswith("_")}
        members = {}
        if detail:
            for c in self.containers.values():
                if network["Name"] in c.networks and c.running:
                    members[c.id] = {
                        "Name": c.name,
                        "EndpointID": secrets.token_hex(32),
                        "MacAddress": "",
                        "IPv4Address": f"{c.networks[network['Name']].get('IPAddress', '')}/16",
                        "IPv6Address": "",
                    }
        result["Containers"] = members
        return result

    async def _network_list(self, request: Request) -> Response:
        filters = request.filters()
        for key in filters:
            if key not in ("dangling", "driver", "id", "label", "name", "scope", "type"):
                raise _Error(400, self._msg(f"invalid filter '{key}'", f"Invalid filter '{key}'"))
        result = []
        for network in self.networks.values():
            if "name" in filters and not any(v in network["Name"] for v in filters["name"]):
                continue
            if "id" in filters and not any(network["Id"].startswith(v) for v in filters["id"]):
                continue
            if "driver" in filters and network["Driver"] not in filters["driver"]:
                continue
            if "label" in filters and not all(
                _label_match(network["Labels"], v) for v in filters["label"]
            ):
                continue
            if (
                "type" in filters
                and ("builtin" if network["_builtin"] else "custom") not in filters["type"]
            ):
                continue
            result.append(self._network_json(network, detail=False))
        return Response(json=result)

    async def _network_create(self, request: Request) -> Response:
        body = request.json() or {}
        name = body.get("Name", "")
        if not name:
            raise _Error(400, "network name is required" if self.modern else "invalid name: ")
        if any(n["Name"] == name for n in self.networks.values()):
            raise _Error(409, f"network with name {name} already exists")
        driver = body.get("Driver") or "bridge"
        if driver not in ("bridge", "overlay", "macvlan", "ipvlan"):
            raise _Error(
                404,
                f'plugin "{driver}" not found' if self.modern else f'plugin "{driver}" not found',
            )
        network = self._new_network(name, driver, body, time.time())
        self._emit_network(network, "create")
        return Response(201, json={"Id": network["Id"], "Warning": ""})

    async def _network_inspect(self, request: Request, ref: str) -> Response:
        return Response(json=self._network_json(self._network(ref), detail=True))

    async def _network_connect(self, request: Request, ref: str) -> Response:
        network = self._network(ref)
        body = request.json() or {}
        c = self._container(body.get("Container", ""))
        if network["Name"] in c.networks:
            raise _Error(
                403, f"endpoint with name {c.name} already exists in network {network['Name']}"
            )
        endpoint = body.get("EndpointConfig") or {}
        c.networks[network["Name"]] = {
            "IPAddress": self._next_ip(network),
            "Aliases": endpoint.get("Aliases"),
        }
        if c.running:
            self._emit_network(network, "connect", container=c.id)
        return Response(200, content=b"")

    async def _network_disconnect(self, request: Request, ref: str) -> Response:
        network = self._network(ref)
        body = request.json() or {}
        c = self._container(body.get("Container", ""))
        if network["Name"] not in c.networks:
            raise _Error(
                403 if self.modern else 500,
                f"container {c.id} is not connected to network {network['Name']}"
                if self.modern
                else f"container {c.id} is not connected to network {network['Name']}",
            )
        del c.networks[network["Name"]]
        if c.running:
            self._emit_network(network, "disconnect", container=c.id)
        return Response(200, content=b"")

    async def _network_delete(self, request: Request, ref: str) -> Response:
        network = self._network(ref)
        if network["_builtin"]:
            raise _Error(403, f"{network['Name']} is a pre-defined network and cannot be removed")
        users = [c for c in self.containers.values() if network["Name"] in c.networks and c.running]
        if users:
            raise _Error(
                403,
                f"error while removing network: network {network['Name']} id "
                f"{network['Id']} has active endpoints",
            )
        for c in self.containers.values():
            c.networks.pop(network["Name"], None)
        del self.networks[network["Id"]]
        self._emit_network(network, "destroy")
        return Response(204)

    async def _network_prune(self, request: Request) -> Response:
        deleted = []
        for network in list(self.networks.values()):
            if network["_builtin"] or any(
                network["Name"] in c.networks for c in self.containers.values()
            ):
                continue
            del self.networks[network["Id"]]
            self._emit_network(network, "destroy")
            deleted.append(network["Name"])
        return Response(json={"NetworksDeleted": deleted or None})

    # --- volumes ----------------------------------------------------------------------

    def _new_volume(
        self, name: str, driver: str, labels: dict[str, str], options: dict[str, str]
    ) -> dict[str, Any]:
        volume = {
            "CreatedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "Driver": driver,
            "Labels": labels or None if not self.modern else labels,
            "Mountpoint": f"/var/lib/docker/volumes/{name}/_data",
            "Name": name,
            "Options": options or None if not self.modern else options,
            "Scope": "local",
        }
        self.volumes[name] = volume
        self._emit("volume", "create", name, {"driver": driver})
        return volume

    def _volume(self, name: str) -> dict[str, Any]:
        volume = self.volumes.get(name)
        if volume is None:
            raise _Error(404, f"get {name}: no such volume")
        return volume

    def _volume_users(self, name: str) -> list[_Container]:
        return [
            c
            for c in self.containers.values()
            if any(b.split(":")[0] == name for b in (c.host_config.get("Binds") or []))
        ]

    async def _volume_list(self, request: Request) -> Response:
        filters = request.filters()
        for key in filters:
            if key not in ("dangling", "driver", "label", "name"):
                raise _Error(400, self._msg(f"invalid filter '{key}'", f"Invalid filter '{key}'"))
        result = []
        for volume in self.volumes.values():
            if "name" in filters and not any(v in volume["Name"] for v in filters["name"]):
                continue
            if "driver" in filters and volume["Driver"] not in filters["driver"]:
                continue
            if "label" in filters and not all(
                _label_match(volume["Labels"] or {}, v) for v in filters["label"]
            ):
                continue
            if "dangling" in filters and (filters["dangling"][0] in ("true", "1")) == bool(
                self._volume_users(volume["Name"])
            ):
                continue
            result.append(volume)
        return Response(json={"Volumes": result, "Warnings": [] if self.modern else None})

    async def _volume_create(self, request: Request) -> Response:
        body = request.json() or {}
        name = body.get("Name") or secrets.token_hex(32)
        if name in self.volumes:
            return Response(201, json=self.volumes[name])
        driver = body.get("Driver") or "local"
        volume = self._new_volume(
            name, driver, dict(body.get("Labels") or {}), dict(body.get("DriverOpts") or {})
        )
        return Response(201, json=volume)

    async def _volume_inspect(self, request: Request, name: str) -> Response:
        return Response(json=self._volume(name))

    async def _volume_delete(self, request: Request, name: str) -> Response:
        self._volume(name)
        users = self._volume_users(name)
        if users:
            raise _Error(409, f"remove {name}: volume is in use - [{users[0].id}]")
        del self.volumes[name]
        self._emit("volume", "destroy", name, {"driver": "local"})
        return Response(204)

    async def _volume_prune(self, request: Request) -> Response:
        deleted = []
        for name in list(self.volumes):
            if self._volume_users(name):
                continue
            if (
                self.modern
                and request.params.get("filters", "").find("all") < 0
                and len(name) != 64
            ):
                continue  # API >= 1.42 prunes anonymous volumes only, unless all=true
            del self.volumes[name]
            self._emit("volume", "destroy", name, {"driver": "local"})
            deleted.append(name)
        return Response(json={"VolumesDeleted": deleted or None, "SpaceReclaimed": 0})


def _state_json(c: _Container) -> dict[str, Any]:
    """The ``State`` of a container's inspect."""
    state: dict[str, Any] = {
        "Status": c.status,
        "Running": c.running,
        "Paused": c.status == "paused",
        "Restarting": c.status == "restarting",
        "OOMKilled": False,
        "Dead": False,
        "Pid": c.pid,
        "ExitCode": c.exit_code,
        "Error": "",
        "StartedAt": _rfc3339(c.started_at) if c.started_at else _ZERO_TIME,
        "FinishedAt": _rfc3339(c.finished_at) if c.finished_at else _ZERO_TIME,
    }
    if c.health is not None:
        state["Health"] = {"Status": c.health, "FailingStreak": 0, "Log": []}
    return state


def _mounts_json(c: _Container) -> list[dict[str, Any]]:
    """The ``Mounts`` of a container's inspect: its named volumes."""
    mounts = [
        {
            "Type": "volume",
            "Name": b.split(":")[0],
            "Source": "",
            "Destination": b.split(":")[1],
            "Driver": "local",
            "Mode": "",
            "RW": True,
            "Propagation": "",
        }
        for b in (c.host_config.get("Binds") or [])
        if ":" in b and not b.startswith("/")
    ]
    return mounts


def _config_json(c: _Container) -> dict[str, Any]:
    """The ``Config`` of a container's inspect."""
    cfg = c.config
    env = [*c.image.env, *(cfg.get("Env") or [])]
    return {
        "Hostname": cfg.get("Hostname") or c.id[:12],
        "Domainname": "",
        "User": cfg.get("User", ""),
        "AttachStdin": bool(cfg.get("AttachStdin")),
        "AttachStdout": bool(cfg.get("AttachStdout", True)),
        "AttachStderr": bool(cfg.get("AttachStderr", True)),
        "Tty": bool(cfg.get("Tty")),
        "OpenStdin": bool(cfg.get("OpenStdin")),
        "StdinOnce": bool(cfg.get("StdinOnce")),
        "Env": env,
        "Cmd": cfg.get("Cmd")
        if cfg.get("Cmd") is not None
        else (None if cfg.get("Entrypoint") else c.image.cmd),
        "Image": c.image_ref,
        "Volumes": cfg.get("Volumes"),
        "WorkingDir": cfg.get("WorkingDir", ""),
        "Entrypoint": cfg.get("Entrypoint"),
        "OnBuild": None,
        "Labels": dict(c.labels),
    }


def _command_text(cmd: list[str]) -> str:
    """An exec's command as its events name it: the path, a space, then the arguments."""
    return f"{cmd[0]} {' '.join(cmd[1:])}"


def _parse_time(raw: str | None, now: float) -> float | None:
    if raw is None or raw == "":
        return None
    try:
        return float(raw)
    except ValueError:
        pass
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)", raw)
    if match:
        units = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
        return now - float(match.group(1)) * units[match.group(2)]
    return None


def _label_match(labels: dict[str, str], wanted: str) -> bool:
    key, sep, value = wanted.partition("=")
    if key not in labels:
        return False
    return not sep or labels[key] == value


def _signal_number(raw: str) -> int | None:
    if raw.isdigit():
        return int(raw)
    name = raw.upper()
    if not name.startswith("SIG"):
        name = "SIG" + name
    return _SIGNALS.get(name)


def _event_matches(event: dict[str, Any], filters: dict[str, list[str]]) -> bool:
    kind = event["Type"]
    actor = event["Actor"]
    attributes = actor["Attributes"]
    if "type" in filters and kind not in filters["type"]:
        return False
    if "event" in filters:
        action = event["Action"]
        if not any(action == v or action.split(":", 1)[0] == v for v in filters["event"]):
            return False
    if "container" in filters:
        if kind != "container" and not (kind == "network" and "container" in attributes):
            return False
        ident = actor["ID"] if kind == "container" else attributes.get("container", "")
        if not any(
            ident.startswith(v) or attributes.get("name") == v and kind == "container"
            for v in filters["container"]
        ):
            return False
    if "image" in filters:
        image = attributes.get("image", actor["ID"] if kind == "image" else "")
        name = attributes.get("name", "")
        if not any(
            v in (image, name, normalize_reference(image) if image else "")
            or normalize_reference(v) in (image, normalize_reference(image or "x"))
            for v in filters["image"]
        ):
            return False
    if "label" in filters and not all(_label_match(attributes, v) for v in filters["label"]):
        return False
    if "network" in filters:
        if kind != "network" or not any(
            v in (actor["ID"], attributes.get("name")) for v in filters["network"]
        ):
            return False
    if "volume" in filters:
        if kind != "volume" or actor["ID"] not in filters["volume"]:
            return False
    return True
