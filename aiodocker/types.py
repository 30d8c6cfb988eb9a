"""Public type aliases and protocols.

Leaf module: imports nothing from the package.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, MutableMapping, MutableSequence, Sequence
from typing import Any, Final, Protocol, TypeAlias, TypedDict, TypeVar

__all__ = (
    "JSONValue",
    "JSONObject",
    "JSONList",
    "MutableJSONValue",
    "MutableJSONObject",
    "MutableJSONList",
    "SupportsRead",
    "AsyncContainerFactory",
    "ContainerLike",
    "PortInfo",
    "Sentinel",
    "SENTINEL",
)

JSONValue: TypeAlias = "str | int | float | bool | None | JSONObject | JSONList"
JSONObject: TypeAlias = Mapping[str, Any]
JSONList: TypeAlias = Sequence[Any]
MutableJSONValue: TypeAlias = "str | int | float | bool | None | MutableJSONObject | MutableJSONList"
MutableJSONObject: TypeAlias = MutableMapping[str, Any]
MutableJSONList: TypeAlias = MutableSequence[Any]

_T_co = TypeVar("_T_co", covariant=True)


class SupportsRead(Protocol[_T_co]):
    """Anything with a ``read(length)`` method, such as a binary file."""

    def read(self, length: int = ..., /) -> _T_co: ...


class ContainerLike(Protocol):
    """What :class:`AsyncContainerFactory` returns; ``DockerContainer`` is one.

    A protocol, not ``DockerContainer`` itself, so that this module stays a leaf:
    naming the class would make it import ``containers`` (0.27 does so for
    type checkers only, which still draws ``types`` into the package's import circle).
    """

    @property
    def id(self) -> str: ...

    def __getitem__(self, key: str) -> Any: ...

    async def show(self, *args: Any, **kwargs: Any) -> Any: ...

    async def start(self, *args: Any, **kwargs: Any) -> Any: ...

    async def stop(self, *args: Any, **kwargs: Any) -> Any: ...

    async def kill(self, *args: Any, **kwargs: Any) -> Any: ...

    async def wait(self, *args: Any, **kwargs: Any) -> Any: ...

    async def delete(self, *args: Any, **kwargs: Any) -> Any: ...


class AsyncContainerFactory(Protocol):
    """A callable that creates a container (used by test fixtures)."""

    async def __call__(self, config: dict[str, Any], *, name: str) -> ContainerLike: ...


class PortInfo(TypedDict):
    """One host binding of a published container port."""

    HostIp: str
    HostPort: str


class Sentinel(enum.Enum):
    """Marker type for "use the default" arguments."""

    TOKEN = enum.auto()


SENTINEL: Final = Sentinel.TOKEN
