"""Shared fixtures: the real-daemon test environment, a client, unique names, clean-up.

``--loop=uvloop`` runs every test, integration included, on uvloop: it installs
uvloop's event loop policy for the whole session, so pytest-asyncio's loops and
the tests' own ``asyncio.run`` calls all get a uvloop loop. A test that cannot
run on uvloop carries ``@pytest.mark.not_on_uvloop(reason)`` and is skipped there.

Every test under tests/integration/ gets the ``integration`` marker.  Integration
fixtures read env.json (see tests/testenv.py); without it they skip, or fail in CI.
Names made by ``make_name`` start with ``aiodocker-test-<session>-``; at the end of
the session the containers, volumes, networks and images of this session on every
engine are removed with the docker CLI, together with ``aiodocker-test-``
leftovers older than an hour (from crashed runs), so parallel sessions do not
remove each other's objects.

The engine matrix: a test that uses the ``engine`` fixture (the ``docker`` client
does) runs once per engine of ``testenv.ENGINES``: Docker 20.10 (``docker20``,
the main daemon), Docker 26 (``docker26``), podman 4.3 (``podman``) and podman 5
(``podman5``).  A real difference is
marked on the test with ``@pytest.mark.engine_difference(engines, reason)``,
which skips it on those engines with the reason.  ``AIODOCKER_TEST_ENGINES``
(comma-separated names) narrows the matrix, and ``AIODOCKER_ENGINE_TESTS_ONLY=1``
keeps only the matrix's tests (scripts/test.sh runs the engines in two processes).

The swarm tests (the ``swarm`` fixture of tests/swarm_fixtures.py) run the same
way, once per engine, on a two-node swarm of that engine; Podman has no swarm
mode, so they are skipped there with that reason.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import pytest

TESTS_DIR: Final = Path(__file__).resolve().parent
if str(TESTS_DIR) not in sys.path:  # `import testenv` works in every import mode
    sys.path.insert(0, str(TESTS_DIR))

from testenv import (  # noqa: E402
    ENGINES,
    SETUP_HINT,
    Engine,
    engine_named,
    env_path,
    load_testenv,
    require,
    unavailable,
)

if TYPE_CHECKING:
    from aiodocker import Docker
    from aiodocker.containers import DockerContainer

# pytester runs aiodocker's opt-in pytest plugin in isolated sessions (tests/unit/testing)
pytest_plugins = ["pytester"]

INTEGRATION_DIR: Final = TESTS_DIR / "integration"
NAME_PREFIX: Final = "aiodocker-test-"
SESSION_PREFIX: Final = f"{NAME_PREFIX}{uuid.uuid4().hex[:6]}-"
STALE_AFTER: Final = timedelta(hours=1)
CLI_TIMEOUT: Final = 120.0


LOOPS: Final = ("asyncio", "uvloop")
_SAVED_POLICY: Final = pytest.StashKey[asyncio.AbstractEventLoopPolicy]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--loop",
        choices=LOOPS,
        default="asyncio",
        help="event loop to run every test on (default: asyncio's own)",
    )
# --------------------------------------------------------------------------
# the engine matrix

ENGINES_VARIABLE: Final = "AIODOCKER_TEST_ENGINES"


def selected_engines() -> tuple[str, ...]:
    """The engines of the matrix: all, or the comma-separated AIODOCKER_TEST_ENGINES."""
    value = os.environ.get(ENGINES_VARIABLE, "").strip()
    if not value:
        return ENGINES
    names = tuple(name.strip() for name in value.split(",") if name.strip())
    unknown = set(names) - set(ENGINES)
    if unknown:
        raise pytest.UsageError(f"{ENGINES_VARIABLE}: unknown engines {sorted(unknown)}")
    return names


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "not_on_uvloop(reason): the test cannot run on uvloop, for the reason given"
    )
    config.addinivalue_line(
        "markers",
        "engine_difference(engines, reason): the test does not hold on these engines "
        "(a name or a tuple of names of conftest.ENGINES) for the reason given",
    )
    if config.getoption("loop") == "uvloop":
        import uvloop

        config.stash[_SAVED_POLICY] = asyncio.get_event_loop_policy()
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def pytest_unconfigure(config: pytest.Config) -> None:
    saved = config.stash.get(_SAVED_POLICY, None)
    if saved is not None:
        asyncio.set_event_loop_policy(saved)


def pytest_report_header(config: pytest.Config) -> str:
    return f"event loop: {config.getoption('loop')}"


# engines without a swarm mode, and why: the swarm tests skip on them
NO_SWARM: Final = {name: "Podman has no swarm mode" for name in ("podman", "podman5")}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every test that uses the ``engine`` fixture (``docker`` does) on each engine.

    A test of the ``swarm`` fixture runs on each engine's swarm; that fixture is
    session-scoped, so pytest sets up one swarm per engine and groups the tests by it.
    """
    for argname, scope, lacking in (("engine", None, {}), ("swarm", "session", NO_SWARM)):
        if argname in metafunc.fixturenames:
            params = engine_params(metafunc, lacking)
            metafunc.parametrize(argname, params, indirect=True, scope=scope)


def engine_params(metafunc: pytest.Metafunc, lacking: dict[str, str]) -> list[Any]:
    """The selected engines as parameters, skipped where the test is marked not to hold."""
    differences = dict(lacking)
    for mark in metafunc.definition.iter_markers("engine_difference"):
        engines, reason = mark.args
        for name in (engines,) if isinstance(engines, str) else engines:
            if name not in ENGINES:
                raise pytest.UsageError(f"{metafunc.definition.nodeid}: unknown engine {name!r}")
            differences.setdefault(name, reason)
    return [
        pytest.param(
            name,
            id=name,
            marks=[pytest.mark.skip(reason=f"{name}: {differences[name]}")]
            if name in differences
            else [],
        )
        for name in selected_engines()
    ]


# AIODOCKER_ENGINE_TESTS_ONLY=1 keeps only the tests of the engine matrix (those of the
# ``engine`` or ``swarm`` fixture): scripts/test.sh runs the matrix's engines in two
# pytest processes at once, and only one of them runs the tests outside the matrix.
ENGINE_TESTS_ONLY_VARIABLE: Final = "AIODOCKER_ENGINE_TESTS_ONLY"


def in_engine_matrix(item: pytest.Item) -> bool:
    """True for a test that runs once per engine (it uses ``engine`` or ``swarm``)."""
    callspec = getattr(item, "callspec", None)
    return callspec is not None and ("engine" in callspec.params or "swarm" in callspec.params)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark tests under tests/integration/ ``integration``; skip not_on_uvloop ones on uvloop.

    With AIODOCKER_ENGINE_TESTS_ONLY=1, deselect every test outside the engine matrix.
    """
    if os.environ.get(ENGINE_TESTS_ONLY_VARIABLE) == "1":
        outside = [item for item in items if not in_engine_matrix(item)]
        if outside:
            config.hook.pytest_deselected(items=outside)
            items[:] = [item for item in items if in_engine_matrix(item)]
    on_uvloop = config.getoption("loop") == "uvloop"
    for item in items:
        if Path(item.path).resolve().is_relative_to(INTEGRATION_DIR):
            item.add_marker(pytest.mark.integration)
        marker = item.get_closest_marker("not_on_uvloop")
        if on_uvloop and marker is not None:
            reason = marker.args[0] if marker.args else marker.kwargs.get("reason", "")
            item.add_marker(pytest.mark.skip(reason=f"not on uvloop: {reason}"))
        callspec = getattr(item, "callspec", None)
        if callspec is not None:
            for argname in ("engine", "swarm"):
                if argname in callspec.params:
                    config.stash.setdefault(_ENGINE_OF, {})[item.nodeid] = callspec.params[argname]


_ENGINE_OF: Final = pytest.StashKey[dict[str, str]]()


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Print the outcomes per engine of the matrix (tests outside it are not counted)."""
    engine_of = config.stash.get(_ENGINE_OF, {})
    if not engine_of:
        return
    outcomes: dict[str, dict[str, set[str]]] = {}
    for outcome in ("passed", "failed", "error", "skipped"):
        for report in terminalreporter.stats.get(outcome, []):
            engine = engine_of.get(getattr(report, "nodeid", ""))
            if engine is not None and (outcome != "passed" or report.when == "call"):
                outcomes.setdefault(engine, {}).setdefault(outcome, set()).add(report.nodeid)
    terminalreporter.write_sep("=", "engine matrix")
    for engine in ENGINES:
        if engine in outcomes:
            counts = ", ".join(
                f"{len(ids)} {outcome}" for outcome, ids in sorted(outcomes[engine].items())
            )
            terminalreporter.write_line(f"{engine}: {counts}")


# --------------------------------------------------------------------------
# clean-up of what the tests left on the main daemon


def run_docker_cli(host: str, *args: str) -> str:
    """Run the docker CLI against ``host``; return stdout, or "" when it failed."""
    try:
        completed = subprocess.run(
            ["docker", "-H", host, *args],
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return completed.stdout if completed.returncode == 0 else ""


_TIME_PATTERN: Final = re.compile(
    r"(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(?:\.\d+)?\s*(Z|[+-]\d\d:?\d\d)?"
)


def parse_docker_time(text: str) -> datetime | None:
    """Parse a timestamp as the docker CLI prints it (RFC 3339 or "... +0000 UTC")."""
    match = _TIME_PATTERN.search(text)
    if match is None:
        return None
    date, clock, offset = match.groups()
    if offset is None or offset == "Z":
        offset = "+00:00"
    elif ":" not in offset:
        offset = f"{offset[:3]}:{offset[3:]}"
    try:
        return datetime.fromisoformat(f"{date}T{clock}{offset}")
    except ValueError:
        return None


def leftover_names(host: str, kind: str, names: list[str]) -> list[str]:
    """Return the names of this session, plus prefixed names older than STALE_AFTER."""
    ours = [name for name in names if name.startswith(SESSION_PREFIX)]
    others = [name for name in names if name.startswith(NAME_PREFIX) and name not in ours]
    if not others:
        return ours
    created_field = "{{.CreatedAt}}" if kind == "volume" else "{{.Created}}"
    output = run_docker_cli(host, kind, "inspect", "--format", f"{created_field}", *others)
    cutoff = datetime.now(timezone.utc) - STALE_AFTER
    stale = []
    for name, line in zip(others, output.splitlines(), strict=False):
        created = parse_docker_time(line)
        if created is not None and created < cutoff:
            stale.append(name)
    return ours + stale


def remove_test_objects(host: str) -> None:
    """Remove test containers, networks, volumes and images from the daemon at ``host``."""
    containers = [
        name.lstrip("/")
        for line in run_docker_cli(host, "ps", "-a", "--format", "{{.Names}}").splitlines()
        for name in line.split(",")
    ]
    removable = leftover_names(host, "container", containers)
    if removable:
        run_docker_cli(host, "rm", "-f", "-v", *removable)
    networks = run_docker_cli(host, "network", "ls", "--format", "{{.Name}}").split()
    removable = leftover_names(host, "network", networks)
    if removable:
        run_docker_cli(host, "network", "rm", *removable)
    volumes = run_docker_cli(host, "volume", "ls", "-q").split()
    removable = leftover_names(host, "volume", volumes)
    if removable:
        run_docker_cli(host, "volume", "rm", "-f", *removable)
    images = run_docker_cli(host, "image", "ls", "--format", "{{.Repository}}:{{.Tag}}").split()
    removable = [ref for ref in images if ref.rpartition("/")[2].startswith(SESSION_PREFIX)]
    if removable:
        run_docker_cli(host, "image", "rm", "-f", *removable)


@pytest.fixture(scope="session")
def docker_cleanup() -> Iterator[None]:
    """Remove, at the end of the session, what the tests left on the engines."""
    yield
    env = load_testenv()
    if env is None or shutil.which("docker") is None:
        return
    remove_test_objects(f"unix://{env.get('unix_socket', '/var/run/docker.sock')}")
    docker26 = env.get("docker26")
    if docker26:
        remove_test_objects(docker26["host"])
    if env.get("podman_socket"):
        remove_test_objects(f"unix://{env['podman_socket']}")
    podman5 = env.get("podman5")
    if podman5:
        remove_test_objects(podman5["host"])


# --------------------------------------------------------------------------
# fixtures


@pytest.fixture(scope="session")
def testenv(docker_cleanup: None) -> dict[str, Any]:
    """Return env.json of the test environment (skip, or fail in CI, without it)."""
    try:
        env = load_testenv()
    except ValueError as exc:
        pytest.fail(str(exc), pytrace=False)
    if env is None:
        unavailable("testenv", f"{env_path()} does not exist; {SETUP_HINT}")
    return env


@pytest.fixture
def engine(
    request: pytest.FixtureRequest, testenv: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> Engine:
    """Return the engine of this run of the test (the main daemon outside the matrix).

    Beside the main daemon, DOCKER_HOST names the engine, so that the docker CLI
    a test runs without ``-H`` talks to it as well.
    """
    selected = engine_named(getattr(request, "param", "docker20"))
    if selected.name != "docker20":
        monkeypatch.setenv("DOCKER_HOST", selected.host)
    return selected


@pytest.fixture
def image(request: pytest.FixtureRequest, testenv: dict[str, Any]) -> str:
    """Return the name of the test image (busybox) on the engine of the test."""
    if "engine" in request.fixturenames:
        engine: Engine = request.getfixturevalue("engine")
        return engine.image
    name: str = require("image")
    return name


@pytest.fixture
async def docker(engine: Engine) -> AsyncIterator[Docker]:
    """Yield a client of the engine's unix socket; close it after the test."""
    try:
        from aiodocker import Docker
    except ImportError as exc:
        unavailable("aiodocker.Docker", f"cannot be imported yet: {exc}")
    client = Docker(url=engine.host)
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
async def sleeper(
    docker: Docker, image: str, make_name: Callable[..., str]
) -> AsyncIterator[DockerContainer]:
    """A running container whose PID 1 ignores SIGTERM (``sleep``); removed afterwards."""
    from helpers import create_container, remove_container

    container = await create_container(
        docker, make_name("sleeper"), {"Image": image, "Cmd": ["sleep", "600"]}
    )
    try:
        yield container
    finally:
        await remove_container(container)


@pytest.fixture
def make_name(docker_cleanup: None) -> Callable[..., str]:
    """Return a factory of unique names ``aiodocker-test-<session>-[<hint>-]<random>``.

    The names are valid for containers, volumes, networks, services and image
    repositories (lowercase letters, digits and dashes).
    """

    def make(hint: str = "") -> str:
        cleaned = re.sub(r"[^a-z0-9]+", "-", hint.lower()).strip("-")
        middle = f"{cleaned}-" if cleaned else ""
        return f"{SESSION_PREFIX}{middle}{uuid.uuid4().hex[:8]}"

    return make
