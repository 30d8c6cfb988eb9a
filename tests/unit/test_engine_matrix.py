"""The engine matrix of tests/conftest.py: which engines a test runs on, and why not."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ENGINES_VARIABLE, pytest_generate_tests


class FakeDefinition:
    nodeid = "tests/integration/test_x.py::test_x"

    def __init__(self, marks: list[pytest.MarkDecorator]) -> None:
        self.marks = [decorator.mark for decorator in marks]

    def iter_markers(self, name: str) -> list[Any]:
        return [mark for mark in self.marks if mark.name == name]


class FakeMetafunc:
    def __init__(self, fixturenames: list[str], marks: list[pytest.MarkDecorator]) -> None:
        self.fixturenames = fixturenames
        self.definition = FakeDefinition(marks)
        self.calls: list[tuple[str, list[Any], bool]] = []
        self.scopes: list[str | None] = []

    def parametrize(
        self, argnames: str, params: list[Any], *, indirect: bool, scope: str | None = None
    ) -> None:
        self.calls.append((argnames, params, indirect))
        self.scopes.append(scope)


def skips(params: list[Any]) -> dict[str, str | None]:
    """engine id -> the reason it is skipped for, or None when it runs."""
    return {
        param.id: next((mark.kwargs["reason"] for mark in param.marks if mark.name == "skip"), None)
        for param in params
    }


def test_a_test_using_the_engine_runs_on_every_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENGINES_VARIABLE, raising=False)
    metafunc = FakeMetafunc(["docker", "engine"], [])
    pytest_generate_tests(metafunc)  # type: ignore[arg-type]
    [(argnames, params, indirect)] = metafunc.calls
    assert (argnames, indirect) == ("engine", True)
    assert skips(params) == {"docker20": None, "docker26": None, "podman": None, "podman5": None}


def test_a_swarm_test_runs_once_per_docker_swarm_and_skips_on_podman(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(ENGINES_VARIABLE, raising=False)
    metafunc = FakeMetafunc(
        ["swarm"], [pytest.mark.engine_difference("docker26", "a 26 difference")]
    )
    pytest_generate_tests(metafunc)  # type: ignore[arg-type]
    [(argnames, params, indirect)] = metafunc.calls
    # one swarm per engine for the whole session, not one per test
    assert (argnames, indirect, metafunc.scopes) == ("swarm", True, ["session"])
    assert skips(params) == {
        "docker20": None,
        "docker26": "docker26: a 26 difference",
        "podman": "podman: Podman has no swarm mode",
        "podman5": "podman5: Podman has no swarm mode",
    }


def test_a_difference_skips_only_its_engines_with_the_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(ENGINES_VARIABLE, raising=False)
    metafunc = FakeMetafunc(
        ["engine"],
        [
            pytest.mark.engine_difference("podman", "no plugin API"),
            pytest.mark.engine_difference(("docker26",), "own netns"),
        ],
    )
    pytest_generate_tests(metafunc)  # type: ignore[arg-type]
    assert skips(metafunc.calls[0][1]) == {
        "docker20": None,
        "docker26": "docker26: own netns",
        "podman": "podman: no plugin API",
        "podman5": None,
    }


def test_tests_without_the_engine_are_not_parametrised() -> None:
    metafunc = FakeMetafunc(["testenv", "image"], [])
    pytest_generate_tests(metafunc)  # type: ignore[arg-type]
    assert metafunc.calls == []


def test_the_variable_narrows_the_matrix_and_unknown_names_are_errors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(ENGINES_VARIABLE, "docker26, podman")
    metafunc = FakeMetafunc(["engine"], [])
    pytest_generate_tests(metafunc)  # type: ignore[arg-type]
    assert list(skips(metafunc.calls[0][1])) == ["docker26", "podman"]
    monkeypatch.setenv(ENGINES_VARIABLE, "docker99")
    with pytest.raises(pytest.UsageError, match="docker99"):
        pytest_generate_tests(FakeMetafunc(["engine"], []))  # type: ignore[arg-type]
    monkeypatch.delenv(ENGINES_VARIABLE)
    with pytest.raises(pytest.UsageError, match="docker99"):
        pytest_generate_tests(
            FakeMetafunc(["engine"], [pytest.mark.engine_difference("docker99", "x")])  # type: ignore[arg-type]
        )
