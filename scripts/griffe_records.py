"""Griffe extension of the docs build: the ``__init__`` of each ``Record`` subclass, from its fields.

``aiodocker._record.Record`` makes a subclass's constructor from its annotated
fields at run time (and tells type checkers so with ``dataclass_transform``);
griffe reads the source and knows that only of ``@dataclass``. Without this the
reference pages would show ``(*args, **kwargs)``.
"""

from __future__ import annotations

from typing import Any

import griffe

RECORD = "aiodocker._record.Record"


class RecordInit(griffe.Extension):
    def on_class_members(self, *, cls: griffe.Class, **kwargs: Any) -> None:
        if not any(getattr(base, "canonical_path", str(base)) == RECORD for base in cls.bases):
            return
        fields = [
            member
            for member in cls.attributes.values()
            if member.annotation is not None
            and "property" not in member.labels
            and "instance-attribute" in member.labels  # not a ClassVar
        ]
        parameters = griffe.Parameters(
            griffe.Parameter("self", kind=griffe.ParameterKind.positional_or_keyword),
            *(
                griffe.Parameter(
                    field.name,
                    annotation=field.annotation,
                    kind=griffe.ParameterKind.positional_or_keyword,
                    default=field.value,
                )
                for field in fields
            ),
        )
        cls.set_member(
            "__init__",
            griffe.Function("__init__", parent=cls, parameters=parameters, returns="None"),
        )
