"""``python -m aiodocker compose ... config`` against ``docker-compose ... config``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.compose.test_corpus import CORPUS, case_inputs, ours
from tests.testenv import require

ROOT = Path(__file__).resolve().parents[2]
LISTING_CASES = ("profiles-default", "profiles-flag", "depends-on-forms", "build-forms",
                 "volumes-top-level", "networks-top-level", "include-simple")
ORDERED = ("--profiles",)  # Compose prints the others in map order


def args_files(args: list[str]) -> list[str] | None:
    files = [args[i + 1] for i, a in enumerate(args) if a == "-f"]
    return files or None


def args_profiles(args: list[str]) -> list[str] | None:
    profiles = [args[i + 1] for i, a in enumerate(args) if a == "--profile"]
    return profiles or None


def reference(case: Path, args: list[str], env: dict[str, str], *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([require("compose_bin"), *args, *command], cwd=case, env=env,
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("flag", ["--services", "--volumes", "--networks", "--profiles", "--images"])
@pytest.mark.parametrize("name", LISTING_CASES)
def test_listing_flags_match(name: str, flag: str) -> None:
    case = CORPUS / name
    args, env = case_inputs(case)
    ref = reference(case, args, env, "config", flag)
    assert ref.returncode == 0, ref.stderr
    out = __import__("io").StringIO()
    cwd = os.getcwd()
    os.chdir(case)
    try:
        from aiodocker.compose._cli import main

        code = main([*args, "config", flag], out, sys.stderr, environ=env)
    finally:
        os.chdir(cwd)
    assert code == 0
    mine, theirs = out.getvalue().splitlines(), ref.stdout.splitlines()
    if flag in ORDERED:
        assert mine == theirs
    else:
        assert sorted(mine) == sorted(theirs)
    if flag == "--services":  # Compose's order is a map's; ours puts dependencies first
        from aiodocker.compose import load_project

        project = load_project(args_files(args), cwd=str(case), environ=env,
                               profiles=args_profiles(args))
        for index, service in enumerate(mine):
            assert set(project.services[service].get("depends_on", {})) <= set(mine[:index])


@pytest.mark.parametrize("name", ["ports-short-and-long", "volumes-short-and-long", "deploy-section",
                                  "interpolation-all-forms", "secrets-and-configs", "healthcheck-forms"])
def test_yaml_format_matches(name: str) -> None:
    case = CORPUS / name
    args, env = case_inputs(case)
    ref = reference(case, args, env, "config")
    assert ref.returncode == 0, ref.stderr
    out = __import__("io").StringIO()
    cwd = os.getcwd()
    os.chdir(case)
    try:
        from aiodocker.compose._cli import main

        assert main([*args, "config"], out, sys.stderr, environ=env) == 0
    finally:
        os.chdir(cwd)
    assert yaml.safe_load(out.getvalue()) == yaml.safe_load(ref.stdout)


def run_module(case: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {"HOME": "/home/corpus", "PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "aiodocker", "compose", *argv], cwd=case, env=env,
                          capture_output=True, text=True, timeout=60, check=False)


def test_module_quiet_success_and_error_exit_codes() -> None:
    good = run_module(CORPUS / "basic-image", "config", "-q")
    assert (good.returncode, good.stdout) == (0, "")
    bad = run_module(CORPUS / "error-cycle", "config")
    assert bad.returncode == 1
    assert "dependency cycle" in bad.stderr and "Traceback" not in bad.stderr
    assert bad.stderr.count("\n") == 1  # one message
    ref = reference(CORPUS / "error-cycle", [], {"HOME": "/home/corpus"}, "config")
    assert ref.returncode == bad.returncode


def test_usage_errors_exit_like_compose() -> None:
    for argv in (["config", "--bogus"], ["--format", "json"], ["config", "--format", "toml"]):
        ours_ = run_module(CORPUS / "basic-image", *argv)
        ref = reference(CORPUS / "basic-image", [], {"HOME": "/home/corpus"}, *argv)
        assert ours_.returncode == ref.returncode == 1, (argv, ours_.stderr, ref.stderr)
        assert "Traceback" not in ours_.stderr


def test_module_json_equals_reference_json() -> None:
    import json

    case = CORPUS / "merge-lists"
    args, env = case_inputs(case)
    ours_ = run_module(case, *args, "config", "--format", "json")
    ref = reference(case, args, env, "config", "--format", "json")
    assert ours_.returncode == 0, ours_.stderr
    assert json.loads(ours_.stdout) == json.loads(ref.stdout)
    code, out, _ = ours(case, args, env)
    assert code == 0 and json.loads(out) == json.loads(ref.stdout)


def test_compose_file_from_stdin() -> None:
    import json

    case = CORPUS / "volumes-short-and-long"
    text = (case / "compose.yaml").read_text()
    env = {"HOME": "/home/corpus", "PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT)}
    mine = subprocess.run([sys.executable, "-m", "aiodocker", "compose", "-f", "-", "config", "--format", "json"],
                          cwd=case, env=env, input=text, capture_output=True, text=True, timeout=60, check=False)
    ref = subprocess.run([require("compose_bin"), "-f", "-", "config", "--format", "json"], cwd=case,
                         env={"HOME": "/home/corpus"}, input=text, capture_output=True, text=True, timeout=60,
                         check=False)
    assert mine.returncode == ref.returncode == 0, (mine.stderr, ref.stderr)
    assert json.loads(mine.stdout) == json.loads(ref.stdout)


def test_unset_variable_is_warned_about_like_compose() -> None:
    case = CORPUS / "interpolation-edge-cases"
    mine = run_module(case, "config", "-q")
    ref = reference(case, [], {"HOME": "/home/corpus"}, "config", "-q")
    assert mine.returncode == ref.returncode == 0
    for name in ("SET", "SET_1x"):  # unset here: the case's env file is not used
        assert f'The \\"{name}\\" variable is not set' in ref.stderr  # logrus quotes the quotes
        assert f'The "{name}" variable is not set' in mine.stderr
    for output in (ref.stderr, mine.stderr):  # a default silences the warning
        assert '"lower"' not in output and '"UNSET"' not in output
