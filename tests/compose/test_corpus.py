"""Conformance: every case of ``corpus/`` loads here exactly as Docker Compose 2.40.3 loads it.

A case is a directory holding compose files (and their env files). Optional files:

- ``args``: the global options of ``docker compose`` (``-f a.yaml -p name --profile x``);
- ``env``: the process environment (``KEY=VALUE`` lines), on top of a fixed ``HOME``;
- ``error``: the case is invalid: both tools must refuse it (it says why, for readers).

Each case runs ``config --format json`` through the reference binary (env.json's
``compose_bin``) in a controlled environment, and through ``aiodocker.compose`` with the
same arguments: the JSON must be equal; an error case must make both fail.
"""

from __future__ import annotations

import io
import json
import os
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest

from aiodocker.compose import ComposeError, load_project
from aiodocker.compose._cli import main as compose_main
from tests.testenv import require

CORPUS = Path(__file__).with_name("corpus")
CASES = sorted(p.name for p in CORPUS.iterdir() if p.is_dir())
HOME = "/home/corpus"


def case_inputs(case: Path) -> tuple[list[str], dict[str, str]]:
    args = shlex.split((case / "args").read_text()) if (case / "args").exists() else []
    env = {"HOME": HOME}
    if (case / "env").exists():
        for line in (case / "env").read_text().splitlines():
            if line.strip():
                key, _, value = line.partition("=")
                env[key] = value
    return args, env


def reference(case: Path, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    binary = require("compose_bin")
    return subprocess.run(
        [binary, *args, "config", "--format", "json"],
        cwd=case, env=env, capture_output=True, text=True, timeout=60, check=False,
    )


def ours(case: Path, args: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    cwd = os.getcwd()
    os.chdir(case)
    try:
        code = compose_main([*args, "config", "--format", "json"], out, err, environ=env)
    finally:
        os.chdir(cwd)
    return code, out.getvalue(), err.getvalue()


def test_the_corpus_is_big_enough() -> None:
    assert len(CASES) >= 60
    assert sum((CORPUS / c / "error").exists() for c in CASES) >= 10


@pytest.mark.parametrize("name", CASES)
def test_case_matches_docker_compose(name: str) -> None:
    case = CORPUS / name
    args, env = case_inputs(case)
    ref = reference(case, args, env)
    code, out, err = ours(case, args, env)
    if (case / "error").exists():
        assert ref.returncode == 1, f"Docker Compose accepted an error case:\n{ref.stdout[:2000]}"
        assert code == 1, f"aiodocker.compose accepted an error case:\n{out[:2000]}"
        assert err.strip() and "Traceback" not in err
        return
    assert ref.returncode == 0, f"Docker Compose refused the case: {ref.stderr}"
    assert code == 0, f"aiodocker.compose refused the case: {err}"
    expected: Any = json.loads(ref.stdout)
    assert json.loads(out) == expected


def test_yaml_form_matches_docker_compose() -> None:
    import yaml

    case = CORPUS / "ports-short-and-long"
    args, env = case_inputs(case)
    binary = require("compose_bin")
    ref = subprocess.run([binary, *args, "config"], cwd=case, env=env, capture_output=True,
                         text=True, timeout=60, check=True)
    project = load_project(cwd=str(case), environ=env)
    assert yaml.safe_load(project.to_yaml()) == yaml.safe_load(ref.stdout)


def test_error_names_file_path_and_problem() -> None:
    case = CORPUS / "error-bad-port-type"
    with pytest.raises(ComposeError) as caught:
        load_project(cwd=str(case), environ={"HOME": HOME})
    error = caught.value
    assert isinstance(error, ValueError)
    assert error.file == str(case / "compose.yaml")
    assert error.path == "services.web.ports[1]"
    assert str(error).startswith(f"{case / 'compose.yaml'}: services.web.ports[1]: ")


def test_the_corpus_touches_every_key_of_the_service_schema() -> None:
    import yaml

    from aiodocker.compose._schema import schema

    wanted = set(schema()["definitions"]["service"]["properties"])
    seen: set[str] = set()
    for path in CORPUS.rglob("*.y*ml"):
        try:
            documents = list(yaml.safe_load_all(path.read_text()))
        except yaml.YAMLError:
            continue  # the cases of invalid YAML
        for document in documents:
            services = document.get("services") if isinstance(document, dict) else None
            for spec in (services or {}).values() if isinstance(services, dict) else ():
                if isinstance(spec, dict):
                    seen.update(spec)
    assert sorted(wanted - seen) == []


def test_the_corpus_uses_every_interpolation_form() -> None:
    text = "".join(p.read_text() for p in CORPUS.rglob("*") if p.is_file())
    for form in ("${", ":-", "${UNSET-", ":?", "?unset", ":+", "+r", "$$", "$SET"):
        assert form in text, form
