"""``build``, ``pull`` and ``push`` of a compose project, as Docker Compose v2.40 does them.

Private runtime module of :mod:`aiodocker.compose`; ``ComposeProject.build``,
``pull`` and ``push`` (and ``up``'s image step) are thin entry points here.

* **Names.** A service's image is its ``image:``, else Compose's default
  ``{project}-{service}``. Built images carry the ``build.labels`` plus
  ``com.docker.compose.project``, ``.service`` and ``.version``, as Compose
  labels them, and the tags ``[image, *build.tags]``.
* **Build** goes through the package's BuildKit path
  (:class:`aiodocker.buildkit.BuildKitBuild`: a session serves the docker config's
  registry credentials, build secrets, ssh and named contexts) and honours the
  ``build:`` section (see :func:`build_kwargs`).
* **Pull** skips a service without ``image:``, one whose ``pull_policy`` is
  ``never`` or ``build``, and, with ``pull_policy: missing``, one whose image is
  present with a tag other than ``latest``. A failed pull of a buildable service is a warning that does not stop
  the others, yet the command still fails unless ``ignore_pull_failures``.
* **Push** pushes ``image:`` and ``build.tags`` of the services that have both
  ``build:`` and ``image:``; the others are skipped, as Compose skips them.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from ..exceptions import DockerError, DockerNotFoundError
from . import _runtime_labels as labels
from ._runtime_events import ComposeServiceError

if TYPE_CHECKING:
    from .. import buildkit
    from .project import ComposeProject

__all__ = [
    "BuildProgress",
    "BuiltImage",
    "ImageTransfer",
    "build_kwargs",
    "build_labels",
    "build_services",
    "ensure_image",
    "image_name",
    "pull_services",
    "push_services",
]

BuildProgress = Callable[[str, "buildkit.BuildEvent"], object]
"""Called with (service, event) for every BuildKit event of every build."""
TransferProgress = Callable[[str, Mapping[str, Any]], object]
"""Called with (service, item) for every item of a pull or push stream."""


@dataclass(frozen=True)
class BuiltImage:
    """One image ``build`` made: the service, the image's name and its ID."""

    service: str
    image: str
    id: str


@dataclass(frozen=True)
class ImageTransfer:
    """What ``pull`` or ``push`` did for one image of a service.

    ``status`` is ``"pulled"``, ``"pushed"``, ``"skipped"`` or ``"failed"``;
    ``message`` says why a service was skipped or how it failed.
    """

    service: str
    image: str | None
    status: Literal["pulled", "pushed", "skipped", "failed"]
    message: str = ""


def image_name(project: str, service: str, spec: Mapping[str, Any]) -> str:
    """Return the service's image: its ``image:``, else Compose's ``{project}-{service}``."""
    image = spec.get("image")
    return str(image) if image else f"{project}-{service}"


def build_labels(project: str, service: str, build: Mapping[str, Any]) -> dict[str, str]:
    """Return the labels Compose gives a built image: ``build.labels`` and its own three."""
    found = {str(k): str(v) for k, v in (build.get("labels") or {}).items()}
    found.update(
        {labels.VERSION: labels.COMPOSE_VERSION, labels.PROJECT: project, labels.SERVICE: service}
    )
    return found


def _pairs(values: Iterable[str], what: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in values:
        key, sep, value = str(item).partition("=")
        if not sep:
            key, sep, value = str(item).partition(":")
        if not sep or not key:
            raise ValueError(f"{what}: {item!r} is not NAME=VALUE")
        found[key] = value
    return found


def ssh_sources(values: Iterable[str]) -> dict[str, str | None]:
    """Return ``build.ssh`` / ``--ssh`` items (``default``, ``id=path[,path]``) as ssh sources."""
    found: dict[str, str | None] = {}
    for item in values:
        key, sep, value = str(item).partition("=")
        if not key:
            raise ValueError(f"ssh: {item!r} has no id")
        found[key] = value if sep and value else None
    return found


def _secrets(
    build: Mapping[str, Any], secrets: Mapping[str, Mapping[str, Any]]
) -> dict[str, buildkit.Secret]:
    """Build secrets by id (the target, else the source), from a file or a variable."""
    from .. import buildkit  # on first use: it costs ~0.15 s, which ps and config need not pay

    found: dict[str, buildkit.Secret] = {}
    for item in build.get("secrets") or ():
        entry = {"source": item} if isinstance(item, str) else dict(item)
        source = str(entry.get("source") or "")
        config = secrets.get(source)
        if config is None:
            raise ValueError(f"build.secrets: undefined secret {source!r}")
        key = str(entry.get("target") or source)
        if config.get("file"):
            found[key] = buildkit.Secret(file=str(config["file"]))
        elif config.get("environment"):
            found[key] = buildkit.Secret(env=str(config["environment"]))
        else:
            raise ValueError(
                f"build.secrets only supports environment or file-based secrets: {source!r}"
            )
    return found


def build_kwargs(
    project: str,
    service: str,
    spec: Mapping[str, Any],
    *,
    secrets: Mapping[str, Mapping[str, Any]] | None = None,
    no_cache: bool = False,
    pull: bool = False,
    build_args: Mapping[str, str] | None = None,
    ssh: Sequence[str] = (),
    memory: int | None = None,
    inline_dir: str | None = None,
) -> dict[str, Any]:
    """Return the keywords of :class:`aiodocker.buildkit.BuildKitBuild` for a service.

    ``spec`` is the service's normalised entry (``config --format json``);
    ``dockerfile_inline`` is written to ``inline_dir`` (a directory outside the
    context that the session serves the Dockerfile from).

    Raises:
        ValueError: the service has no ``build:``, more than one platform, a build
            secret that is not defined or not file- or environment-based, a
            ``service:`` additional context, or a malformed option.
    """
    build = spec.get("build")
    if not isinstance(build, Mapping):
        raise ValueError(f"service {service!r} has no build section")
    context = str(build.get("context") or ".")
    kwargs: dict[str, Any] = {
        "tag": [image_name(project, service, spec), *map(str, build.get("tags") or ())],
        "labels": build_labels(project, service, build),
        "nocache": bool(no_cache or build.get("no_cache")),
        "pull": bool(pull or build.get("pull")),
    }
    if "://" in context or context.startswith("git@"):
        kwargs["remote"] = context
    else:
        kwargs["path"] = context
    if build.get("dockerfile_inline") is not None:
        if inline_dir is None:
            raise ValueError("dockerfile_inline needs a directory to write the Dockerfile to")
        path = os.path.join(inline_dir, "Dockerfile")
        with open(path, "w", encoding="utf-8") as file:
            file.write(str(build["dockerfile_inline"]))
        kwargs["path_dockerfile"] = path
    elif build.get("dockerfile"):
        kwargs["path_dockerfile"] = str(build["dockerfile"])
    args = {str(k): str(v) for k, v in (build.get("args") or {}).items() if v is not None}
    args.update(build_args or {})
    if args:
        kwargs["buildargs"] = args
    kwargs.update(_optional_kwargs(service, spec, build))
    if memory is not None:
        kwargs["memory"] = memory
    sources = ssh_sources([*(build.get("ssh") or ()), *ssh])
    if sources:
        kwargs["ssh"] = sources
    found = _secrets(build, secrets or {})
    if found:
        kwargs["secrets"] = found
    return kwargs


def _optional_kwargs(
    service: str, spec: Mapping[str, Any], build: Mapping[str, Any]
) -> dict[str, Any]:
    """The ``build:`` keys that map one to one (target, caches, network, hosts, ...)."""
    kwargs: dict[str, Any] = {}
    for key, target in (("target", "target"), ("network", "network_mode")):
        if build.get(key):
            kwargs[target] = str(build[key])
    if build.get("cache_from"):
        kwargs["cache_from"] = [str(item) for item in build["cache_from"]]
    if build.get("cache_to"):
        kwargs["cache_to"] = [str(item) for item in build["cache_to"]]
    if build.get("extra_hosts"):
        hosts = build["extra_hosts"]
        items = [f"{k}={v}" for k, v in hosts.items()] if isinstance(hosts, Mapping) else hosts
        kwargs["extra_hosts"] = _pairs(items, "build.extra_hosts")
    if build.get("shm_size") is not None:
        kwargs["shm_size"] = int(build["shm_size"])
    platforms = [str(item) for item in build.get("platforms") or ()]
    if spec.get("platform") and not platforms:
        platforms = [str(spec["platform"])]
    if len(platforms) > 1:
        raise ValueError(
            f"service {service!r}: building for several platforms needs the containerd image "
            f"store, which this runtime does not drive: {', '.join(platforms)}"
        )
    if platforms:
        kwargs["platform"] = platforms[0]
    contexts = dict(build.get("additional_contexts") or {})
    for name, value in contexts.items():
        if str(value).startswith("service:"):
            raise ValueError(
                f"service {service!r}: additional context {name!r} names a service "
                f"({value}); build that service's image and use docker-image:// instead"
            )
    if contexts:
        kwargs["build_contexts"] = {str(k): str(v) for k, v in contexts.items()}
    return kwargs


async def build_one(
    project: ComposeProject,
    service: str,
    *,
    progress: BuildProgress | None = None,
    **options: Any,
) -> BuiltImage:
    """Build one service's image through BuildKit; return it.

    Raises:
        ComposeServiceError: the build failed (the message names the service and the step).
    """
    import tempfile

    from .. import buildkit

    spec = project.services[service]
    with tempfile.TemporaryDirectory(prefix="aiodocker-compose-") as inline_dir:
        try:
            kwargs = build_kwargs(
                project.name,
                service,
                spec,
                secrets=project.secrets,
                inline_dir=inline_dir,
                **options,
            )
            events = None if progress is None else (lambda event: progress(service, event))
            image_id = await buildkit.build(project.docker, progress=events, **kwargs)
        except (DockerError, ValueError, OSError) as exc:
            message = getattr(exc, "message", None) or str(exc)
            raise ComposeServiceError(service, f"failed to build: {message}") from exc
    if image_id is None:
        raise ComposeServiceError(service, "the build made no image")
    return BuiltImage(service, kwargs["tag"][0], image_id)


async def build_services(
    project: ComposeProject,
    services: Iterable[str] | None,
    *,
    with_dependencies: bool = False,
    progress: BuildProgress | None = None,
    **options: Any,
) -> list[BuiltImage]:
    """Build the selected services that have ``build:``, concurrently under the project's bound."""
    selected = project._select(services, with_deps=with_dependencies)
    buildable = [name for name in selected if project.services[name].get("build") is not None]
    bound = asyncio.Semaphore(project.parallelism)

    async def one(name: str) -> BuiltImage:
        async with bound:
            return await build_one(project, name, progress=progress, **options)

    return list(await asyncio.gather(*(one(name) for name in buildable)))


async def ensure_image(
    project: ComposeProject,
    service: str,
    policy: str | None,
    build: bool | None,
    *,
    progress: BuildProgress | None = None,
) -> str:
    """Return the image ID ``up`` uses for a service with ``build:``, building as Compose does.

    ``build=True`` (``up --build``) or ``pull_policy: build`` always builds; ``False``
    (``--no-build``) never does; otherwise a missing image is pulled first when the
    service names one and its policy allows it, and built when that fails.

    Raises:
        ComposeServiceError: the image is missing and cannot be pulled or built.
    """
    spec = project.services[service]
    name = image_name(project.name, service, spec)
    policy = policy or spec.get("pull_policy") or "missing"
    if build is True or policy == "build":
        if build is False:
            raise ComposeServiceError(service, "pull_policy is build but building is disabled")
        return (await build_one(project, service, progress=progress)).id
    if policy == "always" and spec.get("image"):
        await _pull_quietly(project, name)
    try:
        return str((await project.docker.images.inspect(name))["Id"])
    except DockerNotFoundError:
        pass
    tried = policy in ("never", "always")  # never pulls; always has just tried
    if spec.get("image") and not tried and await _pull_quietly(project, name):
        return str((await project.docker.images.inspect(name))["Id"])
    if build is False:
        raise ComposeServiceError(
            service, f"image {name} not found locally and building is disabled (--no-build)"
        )
    return (await build_one(project, service, progress=progress)).id


async def _pull_quietly(project: ComposeProject, image: str) -> bool:
    """Pull ``image``; a failure is only a warning (the service can be built)."""
    try:
        await project.docker.images.pull(image)
    except DockerError:
        return False
    return True


def _pull_skip(spec: Mapping[str, Any], ignore_buildable: bool) -> str | None:
    if not spec.get("image"):
        return "No image to be pulled"
    if spec.get("pull_policy") in ("never", "build"):
        return "pull_policy is " + str(spec["pull_policy"])
    if spec.get("build") is not None and ignore_buildable:
        return "Image can be built"
    return None


async def _present(project: ComposeProject, image: str) -> bool:
    try:
        await project.docker.images.inspect(image)
    except DockerNotFoundError:
        return False
    return True


async def pull_services(
    project: ComposeProject,
    services: Iterable[str] | None,
    *,
    ignore_pull_failures: bool = False,
    ignore_buildable: bool = False,
    include_deps: bool = False,
    policy: Literal["missing", "always"] | None = None,
    progress: TransferProgress | None = None,
) -> list[ImageTransfer]:
    """Pull the selected services' images as ``docker compose pull`` does; see the module doc.

    Raises:
        ComposeServiceError: a pull failed (after every pull ended) and
            ``ignore_pull_failures`` is not set.
    """
    if policy not in (None, "missing", "always"):
        raise ValueError(f"policy must be missing or always, not {policy!r}")
    results: dict[str, ImageTransfer] = {}
    pulling: dict[str, str] = {}
    for name in project._select(services, with_deps=include_deps):
        spec = dict(project.services[name])
        if policy is not None and spec.get("image"):
            spec["pull_policy"] = policy
        reason = _pull_skip(spec, ignore_buildable)
        image = str(spec.get("image") or "")
        if reason is None and image in pulling:
            reason = f"Image is already being pulled by {pulling[image]}"
        if reason is None and spec.get("pull_policy") in ("missing", "if_not_present"):
            if _tag_of(image) not in (None, "latest") and await _present(project, image):
                reason = "Image is already present locally"
        if reason is not None:
            results[name] = ImageTransfer(name, image or None, "skipped", reason)
        else:
            pulling[image] = name
    bound = asyncio.Semaphore(project.parallelism)

    async def one(name: str, image: str) -> None:
        async with bound:
            results[name] = await _transfer(project, name, image, "pull", progress)

    await asyncio.gather(*(one(name, image) for image, name in pulling.items()))
    ordered = [results[name] for name in project._select(services, with_deps=include_deps)]
    failed = [item for item in ordered if item.status == "failed"]
    if failed and not ignore_pull_failures:
        first = failed[0]
        raise ComposeServiceError(first.service, f"pulling {first.image} failed: {first.message}")
    return ordered


async def _transfer(
    project: ComposeProject,
    service: str,
    image: str,
    verb: Literal["pull", "push"],
    progress: TransferProgress | None,
) -> ImageTransfer:
    """Pull or push one image, reporting each stream item; a failure is returned."""
    images = project.docker.images
    try:
        if verb == "pull":
            stream = images.pull(image, stream=True)
        else:
            repository = image.partition("@")[0]
            tag = _tag_of(image)
            if tag is not None:  # /images/{repository}/push?tag=, as the docker CLI sends it
                repository = repository[: -len(tag) - 1]
            stream = images.push(repository, tag=tag or "latest", stream=True)
        async for item in stream:
            if progress is not None:
                progress(service, item)
    except DockerError as exc:
        return ImageTransfer(service, image, "failed", exc.message or str(exc))
    return ImageTransfer(service, image, "pulled" if verb == "pull" else "pushed")


def _tag_of(image: str) -> str | None:
    """The reference's tag, None without one (a digest-only reference has none either).

    Compose's ``missing`` policy skips a present image only when it has a tag other
    than ``latest``: ``latest`` may have moved.
    """
    name = image.partition("@")[0].rpartition("/")[2]
    return name.partition(":")[2] or None


async def push_services(
    project: ComposeProject,
    services: Iterable[str] | None,
    *,
    ignore_push_failures: bool = False,
    include_deps: bool = False,
    progress: TransferProgress | None = None,
) -> list[ImageTransfer]:
    """Push ``image:`` and ``build.tags`` of the selected services with ``build:`` and ``image:``.

    Raises:
        ComposeServiceError: a push failed and ``ignore_push_failures`` is not set.
    """
    work: list[tuple[str, str]] = []
    results: list[ImageTransfer] = []
    for name in project._select(services, with_deps=include_deps):
        spec = project.services[name]
        build = spec.get("build")
        if build is None or not spec.get("image"):
            results.append(ImageTransfer(name, spec.get("image"), "skipped", "Skipped"))
            continue
        for tag in [str(spec["image"]), *map(str, build.get("tags") or ())]:
            work.append((name, tag))
    bound = asyncio.Semaphore(project.parallelism)

    async def one(name: str, image: str) -> ImageTransfer:
        async with bound:
            return await _transfer(project, name, image, "push", progress)

    results += await asyncio.gather(*(one(name, image) for name, image in work))
    failed = [item for item in results if item.status == "failed"]
    if failed and not ignore_push_failures:
        first = failed[0]
        raise ComposeServiceError(first.service, f"pushing {first.image} failed: {first.message}")
    return results
