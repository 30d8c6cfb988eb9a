"""Registry authentication of image calls, as the docker CLI does it.

Which registry a reference names, the ``X-Registry-Auth`` of a pull, push,
search or distribution inspect (from ``auth=`` or looked up in the docker
config), the ``X-Registry-Config`` of a build, and the hint added to a
registry's refusal.

When a call gets no ``auth=``, the registry is looked up in ``config.json`` of
``DOCKER_CONFIG`` (or ``~/.docker``), read at call time (``credHelpers``,
``credsStore``, ``auths``). Secrets never reach a repr, a hint or a warning.

Layer: ``_core``; imports its siblings, ``_transport.endpoint`` (the config
directory rule) and the leaf ``exceptions``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

from .._transport.endpoint import CONFIG_FILE_NAME, default_config_dir
from ..exceptions import DockerError

if TYPE_CHECKING:
    from .credentials import AuthConfig

    AuthArg = Mapping[str, Any] | str | bytes | AuthConfig
    """What ``auth=`` takes: 0.27's mapping or base64 ``user:password``, or an ``AuthConfig``."""

# ``credentials`` (the reference grammar, config.json, credential helpers) is imported
# by the calls that need it: a program that never names a registry does not load it.

__all__ = (
    "AUTH_HEADER",
    "REGISTRY_CONFIG_HEADER",
    "RegistryLogin",
    "registry_auth_header",
    "registry_config_header",
)

AUTH_HEADER: Final = "X-Registry-Auth"
REGISTRY_CONFIG_HEADER: Final = "X-Registry-Config"
# base64url of "{}": an empty AuthConfig. The engine needs some X-Registry-Auth on
# push; aiodocker sends "placeholder", which old engines decode to the same empty
# config and newer ones may reject as malformed base64.
ANONYMOUS_AUTH: Final = "e30="

# A pattern, compiled (and cached by re) on the first refusal, not at import.
_AUTH_FAILURE: Final = (
    r"no basic auth credentials|unauthorized|authentication required|"
    r"access to the resource is denied|incorrect username or password"
)



def _config_dir() -> str:
    """The docker CLI's config directory, read from the environment at call time."""
    return default_config_dir(os.environ, os.path.expanduser("~"))


async def _configured_auth(registry: str) -> tuple[str | None, str]:
    """The header from the docker config for ``registry``, and the config file it came from."""
    from . import credentials

    config_dir = _config_dir()
    auth = await credentials.resolve_auth(registry, config_dir=config_dir)
    if auth is None:
        return None, ""
    return auth.to_header(), os.path.join(config_dir, CONFIG_FILE_NAME)


async def registry_auth_header(image: str) -> str | None:
    """Return the ``X-Registry-Auth`` value the docker CLI would send for ``image``.

    The credentials come from ``config.json`` (credential helpers, store,
    ``auths``); None means an anonymous attempt.

    Raises:
        ValueError: ``image`` is not a valid image reference.
    """
    from . import credentials

    registry, _repository, _tag, _digest = credentials.split_reference(image)
    header, _source = await _configured_auth(registry)
    return header


async def registry_config_header() -> str | None:
    """Return the ``X-Registry-Config`` of a build: every credential of the docker config.

    None when the config holds none.
    """
    from . import credentials

    auths = await credentials.resolve_all_auths(config_dir=_config_dir())
    return credentials.encode_registry_config(auths) if auths else None


class RegistryLogin:
    """The ``X-Registry-Auth`` of one call on ``reference`` and where it came from.

    ``auth`` given: sent as aiodocker 0.27 composes it (``serveraddress`` is
    the host written in the reference, else ``docker.io``). Otherwise the
    docker config is read when the headers are first asked for. ``source``
    is then "auth=", the config file's path, or "" (nothing sent).
    """

    def __init__(self, reference: str, auth: AuthArg | None) -> None:
        from . import credentials

        registry, _tag, _digest = credentials.split_leniently(reference)
        self.registry = registry
        self.source = ""
        self._header: str | None = None
        self._resolved = False
        if auth is not None:
            address = credentials.explicit_registry(reference) or registry
            self._header = (
                auth.to_header()
                if isinstance(auth, credentials.AuthConfig)
                else credentials.compose_auth_header(auth, address)
            )
            self.source = "auth="
            self._resolved = True

    def __repr__(self) -> str:
        return f"<RegistryLogin registry={self.registry!r} source={self.source or None!r}>"

    async def header(self) -> str | None:
        """The ``X-Registry-Auth`` value, or None for an anonymous call."""
        if not self._resolved:
            self._header, self.source = await _configured_auth(self.registry)
            self._resolved = True
        return self._header

    async def headers(self, *, anonymous: bool = False) -> dict[str, str]:
        """The request headers; ``anonymous=True`` sends an empty login rather than none."""
        header = await self.header()
        if header is None and anonymous:
            header = ANONYMOUS_AUTH
        return {AUTH_HEADER: header} if header else {}

    def explainer(self, action: str, image: str) -> Callable[[DockerError], None]:
        """A function that adds :meth:`explain`'s hint to an error of ``action`` on ``image``."""

        def explain(exc: DockerError) -> None:
            self.explain(exc, action=action, image=image)

        return explain

    def explain(self, exc: DockerError, *, action: str, image: str) -> None:
        """Hint, on a registry's refusal, which registry it was and where credentials came from.

        The hint goes to ``exc.hint`` and a note; ``message`` stays the daemon's.
        Other errors are left alone.
        """
        if not re.search(_AUTH_FAILURE, exc.message, re.IGNORECASE):
            return
        from . import credentials

        registry = self.registry
        hub = registry in credentials.DOCKER_HUB_HOSTS
        shown = "Docker Hub (docker.io)" if hub else registry
        if not self.source:
            hint = (
                f"{action} {image!r}: registry {shown} requires a login and no credentials "
                f"for it were found; pass auth= or log in with 'docker login {registry}'"
            )
        elif self.source == "auth=":
            hint = f"{action} {image!r}: registry {shown} refused the credentials passed as auth="
        else:
            hint = (
                f"{action} {image!r}: registry {shown} refused the credentials for it "
                f"in {self.source}"
            )
        exc.add_hint(hint)
