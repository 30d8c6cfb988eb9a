"""Public type aliases and protocols.

Leaf module: imports nothing from the package.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, MutableMapping, MutableSequence, Sequence
from typing import TYPE_CHECKING, Any, Final, Protocol, TypeAlias, TypedDict, TypeVar

if TYPE_CHECKING:
    from .containers import DockerContainer

__all__ = (
    "JSONValue",
    "JSONObject",
    "JSONList",
    "MutableJSONValue",
    "MutableJSONObject",
    "MutableJSONList",
    "SupportsRead",
    "AsyncContainerFactory",
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


class AsyncContainerFactory(Protocol):
    """A callable that creates a container (used by test fixtures)."""

    async def __call__(
        self, config: dict[str, Any], *, name: str
    ) -> DockerContainer: ...


class PortInfo(TypedDict):
    """One host binding of a published container port."""

    HostIp: str
    HostPort: str


class Sentinel(enum.Enum):
    """Marker type for "use the default" arguments."""

    TOKEN = enum.auto()


SENTINEL: Final = Sentinel.TOKEN
