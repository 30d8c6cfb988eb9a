"""Differential test: seeded random projects (tests/compose/generate.py) load here as in Compose."""

from __future__ import annotations

import io
import json
import os
import subprocess
from pathlib import Path

import pytest

from aiodocker.compose._cli import main
from tests.compose.generate import project, write
from tests.testenv import require

SEEDS = range(40)


@pytest.mark.parametrize("seed", SEEDS)
def test_generated_project_matches_docker_compose(seed: int, tmp_path: Path) -> None:
    directory = tmp_path / "gen"
    directory.mkdir()
    write(directory, project(seed))
    env = {"HOME": "/home/corpus"}
    for profiles in ([], ["--profile", "x"]):
        ref = subprocess.run([require("compose_bin"), *profiles, "config", "--format", "json"], cwd=directory,
                             env=env, capture_output=True, text=True, timeout=60, check=False)
        out, err = io.StringIO(), io.StringIO()
        cwd = os.getcwd()
        os.chdir(directory)
        try:
            code = main([*profiles, "config", "--format", "json"], out, err, environ=env)
        finally:
            os.chdir(cwd)
        assert (code != 0) == (ref.returncode != 0), (ref.stderr, err.getvalue())
        if code == 0:
            assert json.loads(out.getvalue()) == json.loads(ref.stdout)


def test_generator_covers_both_outcomes_and_overrides() -> None:
    texts = [project(seed) for seed in SEEDS]
    assert sum("compose.override.yaml" in files for files in texts) >= 10
    assert sum("profiles" in files["compose.yaml"] for files in texts) >= 5
