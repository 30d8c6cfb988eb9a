"""A base for small immutable value classes. Leaf module: imports nothing from the package.

It gives what ``@dataclass(frozen=True)`` gives (an ``__init__`` from the annotated
fields, comparison, hashing and a repr by field value; no assignment after
``__init__``) without building the class at import time: a dataclass costs about a
millisecond each to create (it compiles its methods), this costs nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    # typing.Self and typing.dataclass_transform from Python 3.11: only type checkers read them
    from typing_extensions import Self, dataclass_transform
else:

    def dataclass_transform(**_: Any) -> Any:
        return lambda cls: cls


@dataclass_transform(frozen_default=True)
class _RecordType(type):
    """Turns the annotated names of a class body, in order, into its fields and ``__slots__``.

    A value assigned to a field in the class body is that field's default;
    ``class Name(Record, kw_only=True)`` takes the fields by keyword only. The
    annotations must be strings in the class namespace, as ``from __future__ import
    annotations`` (which every module of the package has) leaves them.
    """

    def __new__(
        mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any], *, kw_only: bool = False
    ) -> _RecordType:
        fields: tuple[str, ...] = ()
        defaults: dict[str, Any] = {}
        for base in bases:  # the fields of a record that is subclassed come first
            fields += getattr(base, "_fields", ())
            defaults.update(getattr(base, "_defaults", {}))
        own = tuple(namespace.get("__annotations__", ()))
        defaults.update({field: namespace.pop(field) for field in own if field in namespace})
        fields += own
        namespace.update(
            __slots__=own,
            _fields=fields,
            _field_set=frozenset(fields),
            _defaults=defaults,
            _kw_only=kw_only,
        )
        return super().__new__(mcs, name, bases, namespace)


def _wrong_arguments(cls: type[Record], args: tuple[Any, ...], kwargs: dict[str, Any]) -> TypeError:
    """The TypeError a dataclass's ``__init__`` raises for these arguments."""
    fields, name = cls._fields, cls.__qualname__
    if args and cls._kw_only:
        return TypeError(f"{name}() takes its fields by keyword only")
    if len(args) > len(fields):
        return TypeError(f"{name}() takes {len(fields)} positional arguments but {len(args)} were given")
    for field in fields[: len(args)]:
        if field in kwargs:
            return TypeError(f"{name}() got multiple values for argument {field!r}")
    for key in kwargs:
        if key not in cls._field_set:
            return TypeError(f"{name}() got an unexpected keyword argument {key!r}")
    missing = next(f for f in fields[len(args) :] if f not in kwargs and f not in cls._defaults)
    return TypeError(f"{name}() missing required argument {missing!r}")


class Record(metaclass=_RecordType):
    """Fields are the annotated names of the subclass, in order, each with its default if any.

    ``__init__`` takes them positionally or by keyword and raises ``TypeError`` for
    what a dataclass's ``__init__`` refuses; type checkers see that signature too.
    """

    if TYPE_CHECKING:
        _fields: ClassVar[tuple[str, ...]]
        _field_set: ClassVar[frozenset[str]]
        _defaults: ClassVar[dict[str, Any]]
        _kw_only: ClassVar[bool]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        cls = self.__class__
        given = kwargs
        if args:
            if cls._kw_only:
                raise _wrong_arguments(cls, args, kwargs)
            given = dict(zip(cls._fields, args, strict=False))
            given.update(kwargs)
        values = cls._defaults | given
        # a name given twice, or too many positional ones, leave fewer entries than given
        if len(given) != len(args) + len(kwargs) or values.keys() != cls._field_set:
            raise _wrong_arguments(cls, args, kwargs)
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._fields)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Record) or other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
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
        return {name: getattr(self, name) for name in self._fields}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            object.__setattr__(self, name, value)
