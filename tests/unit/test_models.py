"""aiodocker/models.py: the TypedDicts generated from the vendored Engine API spec 1.55."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, get_type_hints, is_typeddict

import pytest
import yaml

from aiodocker import models

REPO_ROOT = Path(__file__).resolve().parents[2]
SPEC = REPO_ROOT / "spec" / "engine-api-v1.55.yaml"


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_types", REPO_ROOT / "scripts" / "gen_types.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def definitions() -> dict[str, Any]:
    with SPEC.open(encoding="utf-8") as stream:
        return yaml.load(stream, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))["definitions"]


def test_the_committed_module_is_what_the_generator_writes() -> None:
    generated = load_generator().render(SPEC)
    committed = Path(models.__file__).read_text(encoding="utf-8")
    assert generated == committed, "aiodocker/models.py is stale: run python3 scripts/gen_types.py"


def test_the_check_mode_fails_on_a_stale_module(tmp_path: Path) -> None:
    generator = load_generator()
    generator.TARGET = tmp_path / "models.py"
    generator.TARGET.write_text("stale\n", encoding="utf-8")
    assert generator.main(["--check"]) == 1
    assert generator.main([]) == 0
    assert generator.main(["--check"]) == 0


def test_every_object_of_the_spec_is_a_typed_dict_with_exactly_its_keys(
    definitions: dict[str, Any],
) -> None:
    objects = {name: d for name, d in definitions.items() if "properties" in d and "allOf" not in d}
    assert len(objects) > 100
    for name, definition in objects.items():
        typed = getattr(models, name)
        assert is_typeddict(typed), name
        assert set(typed.__annotations__) == set(definition["properties"]), name
        assert not typed.__required_keys__, f"{name}: the daemon may leave any key out"


def test_all_of_definitions_inherit_their_parts(definitions: dict[str, Any]) -> None:
    host_config = definitions["HostConfig"]
    assert host_config["allOf"][0]["$ref"].endswith("/Resources")
    keys = set(models.HostConfig.__annotations__)
    assert set(definitions["Resources"]["properties"]) <= keys
    assert set(host_config["allOf"][1]["properties"]) <= keys


def test_references_and_nullable_fields_resolve_to_the_right_types() -> None:
    hints = get_type_hints(models.ContainerInspectResponse)
    assert hints["State"] is models.ContainerState
    assert hints["HostConfig"] is models.HostConfig
    volumes = get_type_hints(models.VolumeListResponse)
    assert volumes["Volumes"] == list[models.Volume]
    assert get_type_hints(models.SystemInfo)["ServerVersion"] is str


def test_models_is_not_imported_by_import_aiodocker() -> None:
    completed = subprocess.run(
        [sys.executable, "-c", "import aiodocker, sys; print('aiodocker.models' in sys.modules)"],
        capture_output=True, text=True, timeout=120, check=False, cwd=REPO_ROOT,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "False", "models are for annotations: import them lazily"
