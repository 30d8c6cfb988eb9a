"""``compose run``/``compose exec`` on a terminal, beside the reference binary under the same pty.

Each tool runs as a child process whose controlling terminal is a pseudo-terminal
this test holds: what is typed is echoed by the container's tty, the window size
(set before and changed during the session) is what ``stty size`` shows inside,
the exit status is the shell's, and the terminal's settings are restored after.
"""

from __future__ import annotations

import fcntl
import os
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from compose_runtime_helpers import compose_bin, run_compose

pytestmark = [
    pytest.mark.engine_difference(("podman", "podman5"), "the compose runtime targets Docker engines"),
    pytest.mark.skipif(sys.platform != "linux", reason="pseudo-terminals as Linux has them"),
]

ROOT = Path(__file__).resolve().parents[3]
COMPOSE_FILE = """
name: {name}
services:
  shell:
    image: {image}
    command: ["sleep", "600"]
    stop_signal: SIGKILL
"""


@pytest.fixture
def project_dir(tmp_path: Path, make_name: Callable[..., str], engine: Any) -> Iterator[Path]:
    (tmp_path / "compose.yaml").write_text(COMPOSE_FILE.format(name=make_name("tty"), image=engine.image))
    try:
        yield tmp_path
    finally:
        run_compose(tmp_path, "down", "-v", "-t", "0", host=engine.host, check=False)


def set_size(fd: int, rows: int, columns: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))


class Session:
    """A child process on a fresh pty (its controlling terminal)."""

    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.master, self.slave = os.openpty()
        set_size(self.master, 31, 97)
        self.settings = termios.tcgetattr(self.slave)
        self.proc = subprocess.Popen(
            argv, cwd=cwd, env=env, stdin=self.slave, stdout=self.slave, stderr=self.slave,
            start_new_session=True,
            preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),  # noqa: PLW1509
        )  # fmt: skip
        self.output = b""
        self.mark = 0  # where the output stood when input was last typed

    def absorb(self, chunk: bytes) -> None:
        self.output += chunk

    def prompt(self) -> None:
        """Wait for the shell's prompt that follows the last input typed."""
        self.read_until(b"# ", since=self.mark)

    def read_until(self, marker: bytes, timeout: float = 60, since: int = 0) -> bytes:
        deadline = time.monotonic() + timeout
        while marker not in self.output[since:]:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {marker!r} in {self.output!r}")
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:  # EIO: every holder of the slave side closed it
                    chunk = b""
                if not chunk:
                    raise AssertionError(f"no {marker!r} before the end in {self.output!r}")
                self.absorb(chunk)
        return self.output

    def type(self, text: str) -> None:
        self.mark = len(self.output)
        os.write(self.master, text.encode())

    def finish(self, timeout: float = 60) -> int:
        code = self.proc.wait(timeout)
        while select.select([self.master], [], [], 0.2)[0]:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                break
            if not chunk:
                break
            self.absorb(chunk)
        return code

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)
        os.close(self.slave)


def drive(session: Session) -> int:
    """Type into a shell in the container; check echo and size; leave with ``exit 3``."""
    session.prompt()  # the prompt of busybox's sh, as root
    # one empty line first: the client's initial resize makes the shell redraw the
    # line being typed if it lands meanwhile, which would split the echo checked below
    session.type("\r")
    session.prompt()
    session.type("echo typed-$((40+2))\r")
    session.read_until(b"\r\ntyped-42\r\n")
    # raw mode: the container's tty echoes the line once; a cooked local one would echo it too
    assert session.output.count(b"typed-$((40+2))") == 1, session.output
    session.prompt()
    session.type("sleep 30\r")
    session.read_until(b"sleep 30\r\n")
    session.type("\x03")  # raw mode: Ctrl-C reaches the shell in the container, not the client
    session.read_until(b"^C")
    session.prompt()
    session.type("echo still-$((1+1))\r")
    session.read_until(b"\r\nstill-2\r\n", 20)
    session.prompt()
    session.type("stty size\r")
    session.read_until(b"31 97\r\n")
    set_size(session.master, 42, 120)  # the kernel sends SIGWINCH to the client
    deadline = time.monotonic() + 20
    while b"42 120\r\n" not in session.output:
        assert time.monotonic() < deadline, session.output
        session.prompt()
        session.type("stty size\r")
        session.read_until(b"stty size", 20, since=session.mark)
        time.sleep(0.3)
        session.absorb(_drain(session))
    session.prompt()
    session.type("exit 3\r")
    return session.finish()


def _drain(session: Session) -> bytes:
    data = b""
    while select.select([session.master], [], [], 0.3)[0]:
        try:
            chunk = os.read(session.master, 65536)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    return data


def commands(project_dir: Path, engine: Any) -> dict[str, tuple[list[str], dict[str, str]]]:
    env = {k: v for k, v in os.environ.items() if k not in ("COMPOSE_PROJECT_NAME", "COMPOSE_FILE")}
    env["DOCKER_HOST"] = engine.host or "unix:///var/run/docker.sock"
    env["PYTHONPATH"] = str(ROOT)
    env["TERM"] = "xterm"
    ours = [sys.executable, "-m", "aiodocker", "compose", "-f", str(project_dir / "compose.yaml")]
    return {"ours": (ours, env), "reference": ([compose_bin()], env)}


@pytest.mark.parametrize("tool", ["ours", "reference"])
def test_run_and_exec_on_a_tty(project_dir: Path, engine: Any, tool: str) -> None:
    """One project serves both verbs; each tool is checked the same way (the reference first
    proves the checks are right)."""
    argv, env = commands(project_dir, engine)[tool]
    for verb in (["run", "--rm", "shell", "sh"], ["exec", "shell", "sh"]):
        if verb[0] == "exec":
            run_compose(project_dir, "up", "-d", host=engine.host)
        session = Session([*argv, *verb], project_dir, env)
        try:
            assert drive(session) == 3, session.output
            assert termios.tcgetattr(session.slave) == session.settings  # restored
        finally:
            session.close()
    # no tty: standard input is piped to the one-off and closed at its end
    piped = subprocess.run(
        [*argv, "run", "--rm", "-T", "shell", "sh", "-c", "cat; exit 5"], cwd=project_dir,
        env=env, input=b"piped-in\n", capture_output=True, timeout=120,
    )  # fmt: skip
    assert (piped.returncode, piped.stdout) == (5, b"piped-in\n"), piped.stderr
    # the one-offs were removed (--rm): only the service's container is left
    listed = run_compose(project_dir, "ps", "-a", "-q", host=engine.host).stdout.split()
    assert len(listed) == 1
