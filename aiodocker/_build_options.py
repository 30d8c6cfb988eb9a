"""``BuildOptions``: the typed keywords of ``DockerImages.build``, public as ``aiodocker.images.BuildOptions``.

Its own module because a TypedDict of string annotations costs over a millisecond to
create (each annotation is compiled into a ForwardRef): ``aiodocker.images`` imports
it for type checkers only and on first access at run time.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypedDict

if TYPE_CHECKING:
    from ._core.client import TimeoutArg

__all__ = ("BuildOptions",)


class BuildOptions(TypedDict, total=False):
    """The keyword arguments of :meth:`DockerImages.build` other than ``stream``.

    The defaults are those of ``build``'s own signature; see it for their meaning.
    """

    remote: str | None
    fileobj: Any
    path_dockerfile: str | None
    tag: str | Sequence[str] | None
    quiet: bool
    nocache: bool
    buildargs: Mapping[str, str] | None
    pull: bool
    rm: bool
    forcerm: bool
    labels: Mapping[str, str] | None
    platform: str | None
    encoding: str | None
    timeout: TimeoutArg
    path: str | os.PathLike[str] | None
    target: str | None
    network_mode: str | None
    extra_hosts: Mapping[str, str] | Sequence[str] | None
    cache_from: Sequence[str] | None
    shm_size: int | None
    memory: int | None
    memswap: int | None
    cpu_shares: int | None
    cpuset_cpus: str | None
    cpu_period: int | None
    cpu_quota: int | None
    squash: bool | None
    version: Literal["1", "2"] | None
    session_id: str | None
    outputs: Sequence[Mapping[str, Any]] | None
