"""``docker.services``: swarm services (``/services``), as aiodocker exposes them.

Beyond aiodocker: ``create(spec=...)`` and ``update(..., spec=...)`` take a whole
ServiceSpec, and registry credentials come from the docker config (``config.json``,
credential helpers) when no ``auth`` is given, found as the docker CLI finds them
(``_core.registry_auth``, the lookup pulls and pushes use).
"""

from __future__ import annotations

import builtins
from collections.abc import Awaitable, Mapping
from typing import TYPE_CHECKING, Any, Literal, cast, overload

from ._core.bodies import clean_map, clean_networks, format_env
from ._core.registry_auth import AUTH_HEADER, registry_auth_header
from ._core.request import Shape, build_path
from ._responses import ResponseStream
from ._swarm_objects import MissingFieldError, SwarmLogs
from .exceptions import add_note

if TYPE_CHECKING:
    from .docker import Docker

__all__ = ("DockerServices",)


def _container_spec(task_template: dict[str, Any]) -> dict[str, Any]:
    """Return the (mutable) ``ContainerSpec`` of a task template that names an image."""
    container_spec = task_template.get("ContainerSpec")
    if not isinstance(container_spec, Mapping) or "Image" not in container_spec:
        raise MissingFieldError("Missing mandatory Image key in ContainerSpec")
    if not isinstance(container_spec, dict):
        container_spec = task_template["ContainerSpec"] = dict(container_spec)
    return container_spec


def _prepare_task_template(task_template: Mapping[str, Any]) -> dict[str, Any]:
    """Copy a task template, check its image, and turn an ``Env`` mapping into ``K=V`` strings.

    The caller's mapping is never modified.

    Raises:
        MissingFieldError (a KeyError and a ValueError): ``ContainerSpec.Image`` is missing.
    """
    from copy import deepcopy  # on first use: a bare import does not load copy

    template: dict[str, Any] = deepcopy(dict(task_template))
    container_spec = _container_spec(template)
    env = container_spec.get("Env")
    if isinstance(env, Mapping):
        container_spec["Env"] = [format_env(key, value) for key, value in env.items()]
    return template


class DockerServices(SwarmLogs):
    """Swarm services (needs a swarm manager)."""

    if TYPE_CHECKING:
        docker: Docker  # 0.27 types the attribute so; annotations only, no import at run time

    async def list(
        self, *, filters: Mapping[str, Any] | None = None, status: bool | None = None
    ) -> builtins.list[Mapping[str, Any]]:
        """List services (``GET /services``); filters: id, label, mode, name.

        ``status=True`` adds each service's ``ServiceStatus`` (running, desired
        and completed task counts).
        """
        services = await self._list("services", filters=filters or {}, params={"status": status})
        return cast("builtins.list[Mapping[str, Any]]", services)  # 0.27's element type

    async def create(
        self,
        task_template: Mapping[str, Any] | None = None,
        *,
        name: str | None = None,
        labels: Mapping[str, str] | None = None,
        mode: Mapping[str, Any] | None = None,
        update_config: Mapping[str, Any] | None = None,
        rollback_config: Mapping[str, Any] | None = None,
        networks: builtins.list[str] | None = None,
        endpoint_spec: Mapping[str, Any] | None = None,
        auth: Mapping[str, Any] | str | bytes | None = None,
        registry: str | None = None,
        spec: Mapping[str, Any] | None = None,
        with_registry_auth: bool = True,
    ) -> dict[str, Any]:
        """Create a service (``POST /services/create``) and return ``{"ID", "Warnings"}``.

        Either pass ``task_template`` (plus ``name``, ``mode``, ... as aiodocker does),
        or a whole ServiceSpec as ``spec``; keyword arguments that are not None
        override the fields of ``spec``. ``ContainerSpec.Env`` may be a mapping (sent
        as ``["K=V", ...]``) or a list of ``K=V`` strings.

        Args:
            networks: network names or ids, sent as ``[{"Target": name}]``.
            auth: registry credentials (dict, base64 ``user:password``, identity
                token); needs ``registry``.
            with_registry_auth: when ``auth`` is None, look the image's registry up
                in the docker config (``DOCKER_CONFIG``, credential helpers) and send
                what is found, so that the nodes can pull a private image.

        Raises:
            MissingFieldError: ``ContainerSpec.Image`` is missing, or ``auth`` is given
                without ``registry`` (a KeyError, as in aiodocker, and a ValueError).
            ValueError: both ``task_template`` and ``spec`` are given, or neither.
            DockerError: the daemon refused the spec (400), or the name is taken (409).
        """
        if (task_template is None) == (spec is None):
            raise ValueError("pass either task_template or spec (a whole ServiceSpec)")
        body: dict[str, Any] = dict(spec) if spec is not None else {}
        if task_template is None:
            task_template = body.get("TaskTemplate")
            if not isinstance(task_template, Mapping):
                raise MissingFieldError("Missing mandatory TaskTemplate in spec")
        body["TaskTemplate"] = _prepare_task_template(task_template)
        if auth and registry is None:
            raise MissingFieldError("When auth is specified you need to specify also the registry")
        body.update(
            clean_map(
                {
                    "Name": name,
                    "Labels": labels,
                    "Mode": mode,
                    "UpdateConfig": update_config,
                    "RollbackConfig": rollback_config,
                    "Networks": clean_networks(networks),
                    "EndpointSpec": endpoint_spec,
                }
            )
        )
        headers = await self._auth_headers(
            body["TaskTemplate"]["ContainerSpec"]["Image"],
            auth,
            registry,
            lookup=with_registry_auth,
        )
        result = await self._api.call(
            "POST", "services/create", json_body=body, headers=headers, expect=Shape.OBJECT
        )
        return result

    async def inspect(
        self, service_id: str, *, insert_defaults: bool | None = None
    ) -> dict[str, Any]:
        """Return a service's details (``GET /services/{id}``).

        ``insert_defaults=True`` fills the fields left empty in the spec with
        the daemon's defaults.

        Raises:
            DockerNotFoundError: no such service.
        """
        return await self._api.call(
            "GET",
            build_path("services/{}", service_id),
            params={"insertDefaults": insert_defaults},
            expect=Shape.OBJECT,
        )

    async def update(
        self,
        service_id: str,
        version: int | str,
        *,
        image: str | None = None,
        rollback: bool = False,
        spec: Mapping[str, Any] | None = None,
        with_registry_auth: bool = True,
        registry_auth_from: Literal["spec", "previous-spec"] | None = None,
    ) -> bool:
        """Update a service (``POST /services/{id}/update``) and return True.

        Three forms:

        * ``image=``: the current spec with a new image (aiodocker's form);
        * ``rollback=True``: back to the previous spec (``image`` is then ignored);
        * ``spec=``: a whole new ServiceSpec (start from ``inspect(id)["Spec"]``).

        Args:
            version: the ``Version.Index`` the change is based on.
            with_registry_auth: send the credentials found in the docker config for
                the new image's registry (see :meth:`create`).
            registry_auth_from: where the daemon takes the registry credentials
                from when none are sent: the new ``"spec"`` (its default) or the
                ``"previous-spec"``.

        Raises:
            ValueError: none of the three forms, or ``spec`` together with ``image``
                or ``rollback``.
            MissingFieldError: ``spec`` lacks ``TaskTemplate.ContainerSpec.Image``.
            DockerNotFoundError: no such service.
            DockerError: ``version`` is stale, or there is no previous spec to roll back to.
        """
        if spec is not None and (image is not None or rollback):
            raise ValueError(
                "spec replaces the whole service: do not combine it with image/rollback"
            )
        if image is None and not rollback and spec is None:
            exc = ValueError("You need to specify an image.")
            add_note(exc, "or pass rollback=True, or spec= (a whole ServiceSpec)")
            raise exc
        params: dict[str, str | None] = {
            "version": str(version),
            "registryAuthFrom": registry_auth_from,
        }
        headers: dict[str, str] | None = None
        if spec is not None:
            body = dict(spec)
            template = body.get("TaskTemplate")
            if not isinstance(template, Mapping):
                raise MissingFieldError("Missing mandatory TaskTemplate in spec")
            body["TaskTemplate"] = _prepare_task_template(template)
            new_image: str | None = body["TaskTemplate"]["ContainerSpec"]["Image"]
        else:
            current = await self.inspect(service_id)
            from copy import deepcopy

            body = deepcopy(current.get("Spec") or {})
            new_image = None
            if rollback:
                params["rollback"] = "previous"
            elif image is not None:
                _container_spec(body.get("TaskTemplate") or {})["Image"] = image
                new_image = image
        if new_image is not None:
            headers = await self._auth_headers(new_image, None, None, lookup=with_registry_auth)
        await self._api.call(
            "POST",
            build_path("services/{}/update", service_id),
            params=params,
            json_body=clean_map(body),
            headers=headers,
            expect=Shape.NOTHING,
        )
        return True

    async def delete(self, service_id: str) -> bool:
        """Remove a service (``DELETE /services/{id}``) and return True.

        Raises:
            DockerNotFoundError: no such service.
        """
        await self._api.call(
            "DELETE", build_path("services/{}", service_id), expect=Shape.NOTHING
        )
        return True

    @overload
    def logs(
        self,
        service_id: str,
        *,
        details: bool = ...,
        follow: Literal[False] = ...,
        stdout: bool = ...,
        stderr: bool = ...,
        since: int = ...,
        timestamps: bool = ...,
        is_tty: bool = ...,
        tail: str | int = ...,
    ) -> Awaitable[builtins.list[str]]: ...

    @overload
    def logs(
        self,
        service_id: str,
        *,
        details: bool = ...,
        follow: Literal[True],
        stdout: bool = ...,
        stderr: bool = ...,
        since: int = ...,
        timestamps: bool = ...,
        is_tty: bool = ...,
        tail: str | int = ...,
    ) -> ResponseStream[str]: ...

    @overload
    def logs(
        self,
        service_id: str,
        *,
        details: bool = ...,
        follow: bool,
        stdout: bool = ...,
        stderr: bool = ...,
        since: int = ...,
        timestamps: bool = ...,
        is_tty: bool = ...,
        tail: str | int = ...,
    ) -> Awaitable[builtins.list[str]] | ResponseStream[str]: ...

    def logs(
        self,
        service_id: str,
        *,
        details: bool = False,
        follow: bool = False,
        stdout: bool = False,
        stderr: bool = False,
        since: int = 0,
        timestamps: bool = False,
        is_tty: bool = False,
        tail: str | int = "all",
    ) -> Awaitable[builtins.list[str]] | ResponseStream[str]:
        """Read the output of a service's tasks (``GET /services/{id}/logs``).

        ``follow=False`` returns an awaitable list of str (one per output frame);
        ``follow=True`` an async iterator of str. Pass ``is_tty=True`` when the
        service has a tty (its output is not multiplexed).

        Raises:
            TypeError: neither ``stdout`` nor ``stderr`` is True.
            DockerNotFoundError: no such service (raised when the result is awaited or read).
        """
        return self._log_text(
            build_path("services/{}/logs", service_id),
            follow=follow,
            is_tty=is_tty,
            stdout=stdout,
            stderr=stderr,
            params={"details": details, "since": since, "timestamps": timestamps, "tail": tail},
        )

    async def _auth_headers(
        self,
        image: str,
        auth: Mapping[str, Any] | str | bytes | None,
        registry: str | None,
        *,
        lookup: bool,
    ) -> dict[str, str] | None:
        """The ``X-Registry-Auth`` header for ``image``: from ``auth``, or from the config."""
        if auth:
            from ._core.credentials import compose_auth_header

            return {AUTH_HEADER: compose_auth_header(auth, registry)}
        if not lookup or not isinstance(image, str):
            return None
        try:
            # the docker CLI's lookup, shared with pulls and pushes
            header = await registry_auth_header(image)
        except ValueError:
            return None  # a malformed reference: the daemon names what is wrong with it
        return {AUTH_HEADER: header} if header else None
