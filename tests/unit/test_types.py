"""``aiodocker.types``: the container protocol that keeps the module a leaf."""

from __future__ import annotations

import inspect

from aiodocker.containers import DockerContainer
from aiodocker.types import AsyncContainerFactory, ContainerLike


def protocol_members(proto: type) -> set[str]:
    return {
        name
        for name, value in vars(proto).items()
        if callable(value) or isinstance(value, property)
        if not name.startswith("_") or name == "__getitem__"
    } - {"__init__", "__subclasshook__"}


def test_every_member_of_container_like_is_a_docker_container_member_of_the_same_kind() -> None:
    members = protocol_members(ContainerLike)
    assert {"id", "show", "delete"} <= members
    for name in members:
        ours, theirs = getattr(ContainerLike, name), getattr(DockerContainer, name, None)
        assert theirs is not None, f"DockerContainer has no {name}"
        assert isinstance(theirs, property) == isinstance(ours, property), name
        if not isinstance(ours, property):
            assert inspect.iscoroutinefunction(theirs) == inspect.iscoroutinefunction(ours), name


def test_container_factory_returns_a_container_like() -> None:
    hints = inspect.get_annotations(AsyncContainerFactory.__call__, eval_str=True)
    assert hints["return"] is ContainerLike
