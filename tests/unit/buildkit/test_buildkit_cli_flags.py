"""``python -m aiodocker build``'s buildx-style flags, parsed without a daemon."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from aiodocker.__main__ import _build_secrets, _build_ssh, _pairs, main
from aiodocker.buildkit import Secret


def test_build_args_take_values_or_the_environment_and_labels_need_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FROM_ENV", "env-value")
    monkeypatch.delenv("UNSET_VAR", raising=False)
    flags = ["A=1", "B=x=y", "FROM_ENV", "UNSET_VAR"]
    assert _pairs(flags, "--build-arg", from_env=True) == {
        "A": "1",
        "B": "x=y",
        "FROM_ENV": "env-value",
    }
    with pytest.raises(ValueError, match="--label 'bare': expected KEY=VALUE"):
        _pairs(["bare"], "--label")


def test_secret_specs_follow_buildx() -> None:
    secrets = _build_secrets(
        ["id=a,src=/run/a", "id=b,env=B_VAR", "id=c", "type=env,id=d,src=D_VAR", "src=/x/token"]
    )
    assert secrets == {
        "a": Secret(file="/run/a"),
        "b": Secret(env="B_VAR"),
        "c": Secret(env="c"),  # no source: the variable named like the id
        "d": Secret(env="D_VAR"),  # type=env: src names the variable
        "token": Secret(file="/x/token"),  # no id: the file's name
    }
    with pytest.raises(ValueError, match="unknown field 'colour'"):
        _build_secrets(["id=a,colour=red"])


def test_ssh_specs_name_sockets_or_key_lists() -> None:
    assert _build_ssh(["default", "deploy=/k1,/k2"]) == {"default": None, "deploy": ["/k1", "/k2"]}
    assert _build_ssh(["=/run/agent.sock"]) == {"default": ["/run/agent.sock"]}


def test_a_bad_flag_exits_2_before_any_daemon_is_asked(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    argv = ["-H", "unix:///nonexistent.sock", "build", "--label", "bare", str(tmp_path)]
    assert main(argv, out=out, err=err) == 2
    assert "expected KEY=VALUE" in err.getvalue()
