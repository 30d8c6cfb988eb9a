"""Warnings for what the user should fix: a client that is never closed."""

from __future__ import annotations

import gc
import logging
import subprocess
import sys

import pytest

import aiodocker

UNCLOSED = "a Docker client for unix:///nonexistent.sock was never closed"


def run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)


def test_a_client_still_open_at_interpreter_exit_is_reported_on_stderr() -> None:
    done = run("import aiodocker\nclient = aiodocker.Docker(url='unix:///nonexistent.sock')\n")
    assert UNCLOSED in done.stderr


def test_a_closed_client_is_not_reported_at_exit() -> None:
    done = run(
        "import asyncio, aiodocker\n"
        "async def main():\n"
        "    async with aiodocker.Docker(url='unix:///nonexistent.sock'):\n"
        "        pass\n"
        "asyncio.run(main())\n"
    )
    assert done.stderr == ""


@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_an_unclosed_client_collected_early_logs_a_warning(caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="aiodocker"):
        client = aiodocker.Docker(url="unix:///nonexistent.sock")
        del client
        gc.collect()
    assert [(r.name, r.levelno) for r in caplog.records if UNCLOSED in r.getMessage()] == [
        ("aiodocker.docker", logging.WARNING)
    ]
