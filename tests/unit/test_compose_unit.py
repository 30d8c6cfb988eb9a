"""aiodocker.compose's pieces, without the reference binary (tests/compose/ compares with it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from aiodocker.compose import ComposeError, load_project, normalize_project_name
from aiodocker.compose._dotenv import parse_dotenv
from aiodocker.compose._interpolate import InterpolationError, substitute
from aiodocker.compose._units import format_duration, parse_bytes, parse_duration
from aiodocker.compose._yaml import load_documents

ENV = {"SET": "v", "EMPTY": ""}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("$SET ${SET}", "v v"),
        ("${UNSET:-d} ${EMPTY:-d} ${UNSET-d} ${EMPTY-d}", "d d d "),
        ("${SET:+r} ${EMPTY:+r} ${EMPTY+r} ${UNSET+r}", "r  r "),
        ("${UNSET:-${ALSO:-${SET}x}}", "vx"),
        ("$$SET $$ $1 a$", "$SET $ $1 a$"),
        ("${SET:?no}", "v"),
    ],
)
def test_interpolation_forms(template: str, expected: str) -> None:
    assert substitute(template, ENV.get) == expected


@pytest.mark.parametrize("template", ["${UNSET:?need it}", "${EMPTY:?x}", "${UNSET?x}", "${", "${1X}", "${A!b}"])
def test_interpolation_refuses(template: str) -> None:
    with pytest.raises(InterpolationError):
        substitute(template, ENV.get)


def test_unset_variable_warns_once_per_use() -> None:
    warnings: list[str] = []
    assert substitute("${NOPE}-${NOPE:-d}", ENV.get, warnings.append) == "-d"
    assert warnings == ['The "NOPE" variable is not set. Defaulting to a blank string.']


def test_dotenv_syntax() -> None:
    text = (
        "A=a\\nb\nB=\"x\\ny ${A}\"\nC='lit ${A}'\nD=\"multi\nline\"\n export E = e  \n"
        "F=x #c\nG=x#c\nH: colon\nI\n# comment\n"
    )
    values = parse_dotenv(text, {"I": "from-env"}.get)
    assert values == {
        "A": "a\\nb", "B": "x\ny a\\nb", "C": "lit ${A}", "D": "multi\nline", "E": "e",
        "F": "x", "G": "x#c", "H": "colon", "I": "from-env",
    }


def test_dotenv_environment_wins_inside_the_file() -> None:
    assert parse_dotenv("X=file\nY=${X}\n", {"X": "env"}.get)["Y"] == "env"


@pytest.mark.parametrize(("text", "ns", "shown"), [("90s", 90 * 10**9, "1m30s"), ("1500ms", 1500 * 10**6, "1.5s"),
                                                  ("1h", 3600 * 10**9, "1h0m0s"), ("0", 0, "0s")])
def test_durations_in_go_notation(text: str, ns: int, shown: str) -> None:
    assert parse_duration(text) == ns
    assert format_duration(ns) == shown


def test_byte_sizes_are_binary() -> None:
    assert [parse_bytes(v) for v in ("1g", "50M", "1kb", 1024, "1.5g")] == [
        1 << 30, 50 << 20, 1024, 1024, 3 << 29
    ]
    with pytest.raises(ValueError):
        parse_bytes("lots")


def test_yaml_reads_1_2_scalars_and_refuses_duplicate_keys() -> None:
    [doc] = load_documents("a: yes\nb: 22:22\nc: 017\nd: 0o17\ne: True\nf: ~\n", "f.yaml")
    assert doc == {"a": "yes", "b": "22:22", "c": 15, "d": 15, "e": True, "f": None}
    with pytest.raises(ComposeError, match="already defined"):
        load_documents("a: 1\na: 2\n", "f.yaml")


def test_project_name_normalisation() -> None:
    assert normalize_project_name("My App.v2") == "myappv2"
    assert normalize_project_name("__x") == "x"


def write(directory: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_default_files_are_found_from_a_subdirectory_with_their_override(tmp_path: Path) -> None:
    write(tmp_path, {
        "compose.yaml": "services:\n  web:\n    image: a\n    volumes: ['./d:/d']\n",
        "compose.override.yaml": "services:\n  web:\n    image: b\n",
        "sub/deeper/.keep": "",
    })
    project = load_project(cwd=str(tmp_path / "sub" / "deeper"), environ={"HOME": "/h"})
    assert project.name == normalize_project_name(tmp_path.name)
    assert project.working_dir == str(tmp_path)
    web = project.services["web"]
    assert web["image"] == "b"
    assert web["volumes"][0]["source"] == str(tmp_path / "d")
    assert project.networks["default"]["name"] == f"{project.name}_default"
    assert project.config_files == [str(tmp_path / "compose.yaml"), str(tmp_path / "compose.override.yaml")]


def test_errors_name_the_file_the_path_and_the_problem(tmp_path: Path) -> None:
    write(tmp_path, {"compose.yaml": "services:\n  web:\n    image: x\n    ports: ['80', {target: 1, x: 2}]\n"})
    with pytest.raises(ComposeError) as caught:
        load_project(cwd=str(tmp_path), environ={})
    assert isinstance(caught.value, ValueError)
    assert (caught.value.file, caught.value.path) == (str(tmp_path / "compose.yaml"), "services.web.ports[1]")
    assert "x" in caught.value.problem


def test_missing_required_variable_names_the_variable(tmp_path: Path) -> None:
    write(tmp_path, {"compose.yaml": "services:\n  web:\n    image: \"x:${TAG:?set TAG}\"\n"})
    with pytest.raises(ComposeError, match="TAG.*set TAG") as caught:
        load_project(cwd=str(tmp_path), environ={})
    assert caught.value.path == "services.web.image"
    assert load_project(cwd=str(tmp_path), environ={"TAG": "1"}).services["web"]["image"] == "x:1"


def test_cycle_and_unknown_dependency(tmp_path: Path) -> None:
    write(tmp_path, {"compose.yaml": "services:\n  a: {image: x, depends_on: [b]}\n  b: {image: x, depends_on: [a]}\n"})
    with pytest.raises(ComposeError, match="cycle"):
        load_project(cwd=str(tmp_path), environ={})
    (tmp_path / "compose.yaml").write_text("services:\n  a: {image: x, depends_on: [ghost]}\n")
    with pytest.raises(ComposeError, match="undefined service 'ghost'") as caught:
        load_project(cwd=str(tmp_path), environ={})
    assert (caught.value.file, caught.value.path) == (str(tmp_path / "compose.yaml"), "services.a.depends_on")


def test_service_order_puts_dependencies_first(tmp_path: Path) -> None:
    write(tmp_path, {"compose.yaml": "services:\n  a: {image: x, depends_on: [c]}\n  b: {image: x}\n"
                     "  c: {image: x, depends_on: [b]}\n"})
    project = load_project(cwd=str(tmp_path), environ={})
    assert project.service_names() == ["b", "c", "a"]


def test_dollar_is_plain_in_the_model_and_doubled_in_the_output(tmp_path: Path) -> None:
    write(tmp_path, {"compose.yaml": "services:\n  a:\n    image: x\n    command: echo $$HOME\n"})
    project = load_project(cwd=str(tmp_path), environ={})
    assert project.services["a"]["command"] == ["echo", "$HOME"]
    assert '"$$HOME"' in project.to_json()
    assert "$$HOME" in project.to_yaml()


def test_json_text_is_the_same_with_and_without_orjson(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json
    import sys

    write(tmp_path, {"compose.yaml": "services:\n  a:\n    image: x\n    environment: {A: 'é', B: '1'}\n"})
    project = load_project(cwd=str(tmp_path), environ={})
    first = project.to_json()
    monkeypatch.setitem(sys.modules, "orjson", None)  # import orjson now fails
    second = project.to_json()
    assert json.loads(first) == json.loads(second)
    assert '"A": "é"' in second
