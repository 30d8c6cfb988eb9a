#!/usr/bin/env bash
# THE test command: bring up the test environment, install, lint, type-check, test.
#
#   bash scripts/test.sh [pytest args...]
#
# Stops at the first failing step and names it.  PYTHON picks the interpreter
# (default: python3).  Extra arguments go to pytest.

set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON=${PYTHON:-python3}

# step NAME COMMAND...: run COMMAND, stop the whole run if it fails
step() {
    local name=$1 rc
    shift
    echo "==> $name"
    "$@"
    rc=$?
    if [ $rc -ne 0 ]; then
        echo "scripts/test.sh: step '$name' failed (exit status $rc)" >&2
        exit $rc
    fi
}

if [ "$(id -u)" = 0 ]; then
    step "test environment (scripts/testenv.sh)" bash scripts/testenv.sh
else
    step "test environment (scripts/testenv.sh)" sudo bash scripts/testenv.sh
fi

if ! "$PYTHON" -m pip --version >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    step "install pip" sh -c 'apt-get update -qq && apt-get install -y -qq python3-pip'
fi
# a throw-away CI machine may have a Debian-managed python: allow installing into it
step "pip install -e '.[test,docs,buildkit,orjson]'" env PIP_BREAK_SYSTEM_PACKAGES=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    "$PYTHON" -m pip install -q -e '.[test,docs,buildkit,orjson]'
# tests/docs renders pages in headless Chromium: Debian's package
if ! command -v chromium >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    step "install chromium" sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium'
fi
step "ruff check aiodocker tests" "$PYTHON" -m ruff check aiodocker tests
step "mypy" "$PYTHON" -m mypy
# Mutation testing (issue 27): a fixed sample of the mutants of the response contract,
# host resolution and frame decoder, against their unit tests; it fails under its
# minimum score. About 75 s of CPU: it runs beside the typing, docs and venv steps
# below (mostly waiting on other processes and the network) and is awaited before pytest.
mutation_log=$(mktemp "${TMPDIR:-/tmp}/aiodocker-mutation.XXXXXX")
bash scripts/mutation.sh >"$mutation_log" 2>&1 </dev/null &
mutation_pid=$!
trap 'kill "$mutation_pid" 2>/dev/null' EXIT
await_mutation() {
    local rc
    wait "$mutation_pid"
    rc=$?
    cat "$mutation_log"
    rm -f "$mutation_log"
    return $rc
}
# The typing corpus: 0.27-style code with its annotations, and code using the typed
# models, must stay clean for users' type checkers (tests/typing/, issue 21).
step "typing corpus: mypy --strict tests/typing" "$PYTHON" -m mypy --strict tests/typing
step "typing corpus: pyright tests/typing" "$PYTHON" -m pyright tests/typing
# ... and its 0.27-style part is 0.27-annotated code: it must check against aiodocker
# 0.27.0 itself (its untyped functions allowed), so it can never drift to fit this client.
aiod027_venv=${TMPDIR:-/tmp}/aiodocker-027-typing
if [ ! -x "$aiod027_venv/bin/python" ]; then
    step "venv for aiodocker 0.27.0" "$PYTHON" -m venv "$aiod027_venv"
fi
step "install aiodocker 0.27.0 and mypy" env PIP_DISABLE_PIP_VERSION_CHECK=1 \
    "$aiod027_venv/bin/python" -m pip install -q "aiodocker==0.27.0" mypy
step "typing corpus against aiodocker 0.27.0" bash scripts/typing_027.sh "$aiod027_venv/bin/python"
# the documentation site, strict: a broken link or reference fails; it lands in site/
step "docs (mkdocs build --strict -> site/)" env NO_MKDOCS_2_WARNING=1 "$PYTHON" -m mkdocs build --strict --site-dir site
# sharded_pytest ARGS...: the whole suite in two pytest processes at once, on disjoint
# engines: Docker 20.10 with every test outside the engine matrix, and the matrix's
# tests on Docker 26, podman 4.3 and Podman 5. Each engine is a daemon (and swarm) of
# its own, and each process names what it makes with its own prefix, so the two never
# touch each other's objects; most of a test's time is the daemon's, so two at once
# finish in well under the time of one after the other. With AIODOCKER_TEST_ENGINES
# set, the one process runs the engines it names.
sharded_pytest() {
    if [ -n "${AIODOCKER_TEST_ENGINES:-}" ]; then
        "$PYTHON" -m pytest "$@"
        return
    fi
    local log pid rc_a rc_b
    log=$(mktemp "${TMPDIR:-/tmp}/aiodocker-pytest-shard.XXXXXX") || return 1
    AIODOCKER_TEST_ENGINES=docker26,podman,podman5 AIODOCKER_ENGINE_TESTS_ONLY=1 \
        "$PYTHON" -m pytest -p no:cacheprovider "$@" >"$log" 2>&1 </dev/null &
    pid=$!
    echo "(the engine matrix's tests on Docker 26, podman 4.3 and Podman 5 run beside this, output below)"
    AIODOCKER_TEST_ENGINES=docker20 "$PYTHON" -m pytest "$@"
    rc_a=$?
    wait "$pid"
    rc_b=$?
    echo "---- the engine matrix's tests on Docker 26, podman 4.3 and Podman 5 ----"
    cat "$log"
    rm -f "$log"
    [ "$rc_a" = 0 ] && [ "$rc_b" = 0 ]
}
step "mutation testing (scripts/mutation.sh, run beside the steps since mypy)" await_mutation
trap - EXIT
step "pytest" sharded_pytest -W error::ResourceWarning "$@"
# The event-loop matrix: the whole suite again, every loop a uvloop loop.
step "pytest on uvloop" sharded_pytest -W error::ResourceWarning --loop=uvloop "$@"

# The oldest supported aiohttp (pyproject's lower bound) against the tests that
# exercise the caller-brings-aiohttp paths; the run above used the newest.
OLDEST_AIOHTTP=3.11.13
old_venv=${TMPDIR:-/tmp}/aiodocker-oldest-aiohttp
if [ ! -x "$old_venv/bin/python" ]; then
    step "venv for aiohttp $OLDEST_AIOHTTP" "$PYTHON" -m venv --system-site-packages "$old_venv"
fi
step "install aiohttp $OLDEST_AIOHTTP" env PIP_DISABLE_PIP_VERSION_CHECK=1 \
    "$old_venv/bin/python" -m pip install -q "aiohttp==$OLDEST_AIOHTTP"
step "pytest with aiohttp $OLDEST_AIOHTTP" "$old_venv/bin/python" -m pytest -q -p no:cacheprovider \
    -W error::ResourceWarning tests/unit/test_aiohttp_path.py tests/unit/test_docker_client.py \
    tests/unit/test_compat_surface.py tests/integration/test_client.py \
    tests/unit/test_dropin_unit.py tests/integration/test_dropin.py \
    tests/unit/test_dropin_027_semantics.py \
    tests/unit/core/test_hooks_aiohttp_content.py tests/integration/test_websocket.py \
    tests/faults/test_aiohttp_path.py \
    -k "aiohttp or connector or session or compat or surface or websocket or content"
# The Python matrix: unit tests and a smoke run against the daemon on 3.10, 3.12, 3.13.
step "Python matrix (scripts/python_matrix.sh)" bash scripts/python_matrix.sh
echo "scripts/test.sh: all steps passed"
