"""Static types that keep aiodocker 0.27 code type-checking (issue 21).

Code written against 0.27 annotates results as 0.27 declares them (``info:
dict[str, Any] = await container.show()``); a ``TypedDict`` is not assignable to
``dict[str, Any]``, so no 0.27 method may return one of the generated models of
``aiodocker.models``. Two guards:

- every member of the 0.27 contract (tests/unit/test_compat_surface.py) is read
  with ``ast``: no return annotation, overloads included, names a model;
- the typing corpus tests/typing/ (0.27-style code with its annotations, and new
  code using the models) is clean under ``mypy --strict`` and pyright.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from aiodocker import models
from tests.testenv import unavailable
from tests.unit.test_compat_surface import CONTRACT, Member

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "typing"
MODEL_NAMES = frozenset(models.__all__)
CHECKED_KINDS = frozenset({"async", "sync", "flag", "cm", "property"})


def return_annotations(member: Member) -> list[str]:
    """The return annotations of ``member`` as written, one per definition (overloads too)."""
    module = importlib.import_module(member.module)
    name = member.name
    if member.owner is None:
        func = inspect.unwrap(getattr(module, name))  # a facade re-exports it: read its home
        name = func.__name__
        scope: list[ast.stmt] = ast.parse(inspect.getsource(inspect.getmodule(func))).body
    else:
        owner = getattr(module, member.owner)
        # the class that defines it: Docker's 0.27-only members live in a base class
        owner = next((k for k in owner.__mro__ if name in vars(k)), owner)
        source = textwrap.dedent(inspect.getsource(owner))
        cls = ast.parse(source).body[0]
        assert isinstance(cls, ast.ClassDef)
        scope = cls.body
    found = [
        ast.unparse(node.returns) if node.returns is not None else ""
        for node in scope
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name
    ]
    return found


def named_models(annotation: str) -> set[str]:
    words = {word.rsplit(".", 1)[-1] for word in re.findall(r"[A-Za-z_][\w.]*", annotation)}
    return words & MODEL_NAMES


CHECKED = [m for m in CONTRACT if m.kind in CHECKED_KINDS and not m.name.startswith("__")]


def test_the_contract_is_covered() -> None:
    """The check below reaches the methods the issue names, through the contract."""
    labels = {m.label for m in CHECKED}
    for label in (
        "containers.DockerContainer.show",
        "containers.DockerContainer.wait",
        "containers.DockerContainer.stats",
        "images.DockerImages.inspect",
        "system.DockerSystem.info",
        "networks.DockerNetworks.list",
        "volumes.DockerVolumes.list",
    ):
        assert label in labels


@pytest.mark.parametrize("member", CHECKED, ids=lambda m: m.label)
def test_no_0_27_method_returns_a_generated_model(member: Member) -> None:
    annotations = return_annotations(member)
    assert annotations, f"{member.label}: no definition found"
    for annotation in annotations:
        assert not named_models(annotation), (
            f"{member.label} returns {annotation}: 0.27-annotated code expects what 0.27 "
            "declares (dict[str, Any] and the like); offer the model through new API or cast"
        )


def run_mypy(*paths: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", *map(str, paths)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_corpus_covers_the_0_27_areas() -> None:
    names = {path.name for path in CORPUS.glob("*.py")}
    assert names >= {
        "compat_containers.py",
        "compat_exec_events_logs.py",
        "compat_images.py",
        "compat_networks_volumes_system.py",
        "compat_signatures.py",
        "compat_swarm.py",
        "typed_models.py",
    }


def test_the_typing_corpus_is_clean_under_mypy_strict() -> None:
    result = run_mypy(CORPUS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_rejects_a_model_where_0_27_code_expects_a_dict(tmp_path: Path) -> None:
    """The control: what the corpus guards against is an error mypy reports."""
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from typing import Any\n"
        "from aiodocker.models import ContainerInspectResponse\n\n\n"
        "def narrowed(value: ContainerInspectResponse) -> None:\n"
        "    info: dict[str, Any] = value\n"
        "    print(info)\n",
        encoding="utf-8",
    )
    result = run_mypy(probe, env={**os.environ, "MYPYPATH": str(ROOT)})
    assert result.returncode == 1
    assert 'variable has type "dict[str, Any]"' in result.stdout


def test_the_typing_corpus_is_clean_under_pyright() -> None:
    try:
        import pyright  # noqa: F401
    except ImportError:
        unavailable("pyright", "not installed (pip install pyright; it runs on node)")
    result = subprocess.run(
        [sys.executable, "-m", "pyright", str(CORPUS)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 errors" in result.stdout
