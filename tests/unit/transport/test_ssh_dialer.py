"""The ssh command lines of ``ssh://``: ssh takes the first value given for an option."""

from __future__ import annotations

from aiodocker._transport.dialers import CONNECT_TIMEOUT, SSHDialer


def first_values(argv: list[str]) -> dict[str, str]:
    """The value ssh uses for each ``-o Name=value``: the first one given."""
    values: dict[str, str] = {}
    for flag, option in zip(argv, argv[1:], strict=False):
        if flag == "-o":
            name, _, value = option.partition("=")
            values.setdefault(name.lower(), value)
    return values


def test_a_session_runs_over_the_clients_master_and_keeps_the_users_options(monkeypatch):
    monkeypatch.setenv(
        "AIODOCKER_SSH_OPTS",
        "-F /etc/app/ssh_config -o ConnectTimeout=5 -o ControlPath=/home/me/.ssh/cm -o BatchMode=no",
    )
    dialer = SSHDialer("build-host", user="me", port=2200)
    argv = dialer.argv("/tmp/aiodocker-ssh-x/m1")
    options = first_values(argv)
    assert options["controlmaster"] == "no"
    assert options["controlpath"] == "/tmp/aiodocker-ssh-x/m1"
    assert options["batchmode"] == "yes"  # never a password prompt
    assert options["connecttimeout"] == "5"  # the user's, not the default
    assert argv[argv.index("-F") + 1] == "/etc/app/ssh_config"
    assert argv[-6:] == ["-T", "--", "build-host", "docker", "system", "dial-stdio"]
    assert argv[argv.index("-l") + 1] == "me" and argv[argv.index("-p") + 1] == "2200"


def test_without_a_master_a_session_is_a_plain_ssh_with_the_default_timeout(monkeypatch):
    monkeypatch.delenv("AIODOCKER_SSH_OPTS", raising=False)
    argv = SSHDialer("build-host").argv()
    options = first_values(argv)
    assert "controlpath" not in options and "controlmaster" not in options
    assert options["connecttimeout"] == str(int(CONNECT_TIMEOUT))
