"""A base for small immutable value classes. Leaf module: imports nothing from the package.

It gives what ``@dataclass(frozen=True)`` gives (comparison, hashing and a repr by
field value; no assignment after ``__init__``) without building the class at import
time: a dataclass costs about a millisecond each to create, this costs nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typing_extensions import Self  # typing.Self from Python 3.11


class Record:
    """Fields are the ``__slots__`` of the subclass, in order; ``__init__`` sets them."""

    __slots__: tuple[str, ...] = ()

    def __init__(self, **values: Any) -> None:
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Record) or other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{self.__class__.__qualname__}({shown})"

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}")

    def replace(self, **changes: Any) -> Self:
        """A copy with ``changes`` applied, as ``dataclasses.replace`` makes one."""
        state = self.__getstate__()
        state.update(changes)
        copied = object.__new__(self.__class__)
        copied.__setstate__(state)
        return copied

    # copy and pickle restore the fields through these, not through __setattr__
    def __getstate__(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            object.__setattr__(self, name, value)
