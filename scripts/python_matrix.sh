#!/usr/bin/env bash
# The Python matrix of CI: on each supported Python besides the one that ran the
# whole suite, the unit tests and a smoke run against the real daemon, on both
# event loops. Each Python gets a venv under ${TMPDIR:-/tmp} with '.[test,buildkit,orjson]'.
#
#   bash scripts/python_matrix.sh            # 3.10 3.12 3.13
#   PYTHON_MATRIX="3.13" bash scripts/python_matrix.sh
#
# The smoke run: connect over unix, TLS and ssh; a container round trip with
# stdin half-closed (10 MiB through cat, on each transport); one client across
# event loops.  It needs the test environment (scripts/testenv.sh) to be up.
# An interpreter is taken from pyenv (~/.pyenv/versions/3.X.*) or from PATH
# (python3.X); a missing one fails the run, it is never skipped.

set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON_MATRIX=${PYTHON_MATRIX-3.10 3.12 3.13}
SMOKE=(
    tests/integration/test_event_loops.py
    tests/integration/test_exec.py::test_exec_cat_returns_10_mib_of_random_bytes_unchanged_and_exits_0
    tests/integration/test_client.py::test_mutual_tls_via_environment_variables
    tests/integration/test_client.py::test_ssh_reaches_the_daemon_through_the_ssh_config
)

step() {
    local name=$1 rc
    shift
    echo "==> $name"
    "$@"
    rc=$?
    if [ $rc -ne 0 ]; then
        echo "scripts/python_matrix.sh: step '$name' failed (exit status $rc)" >&2
        exit $rc
    fi
}

# find_python 3.X: the newest pyenv 3.X.*, else python3.X on PATH (pyenv's shims
# are on PATH too but fail for a version that is not selected, hence the check)
find_python() {
    local version=$1 candidate
    for candidate in $(ls -d "$HOME"/.pyenv/versions/"$version".*/bin/python 2>/dev/null | sort -V -r) \
        $(command -v "python$version" 2>/dev/null); do
        if "$candidate" -c 'import sys' >/dev/null 2>&1; then
            echo "$candidate"
            return
        fi
    done
}

for version in $PYTHON_MATRIX; do
    interpreter=$(find_python "$version")
    if [ -z "$interpreter" ]; then
        echo "scripts/python_matrix.sh: no Python $version (~/.pyenv/versions/$version.* or" \
            "python$version on PATH); install it, or set PYTHON_MATRIX" >&2
        exit 1
    fi
    venv=${TMPDIR:-/tmp}/aiodocker-py$version
    if [ ! -x "$venv/bin/python" ]; then
        step "venv for Python $version ($interpreter)" "$interpreter" -m venv "$venv"
    fi
    step "pip install -e '.[test,buildkit,orjson]' (Python $version)" env PIP_DISABLE_PIP_VERSION_CHECK=1 \
        "$venv/bin/python" -m pip install -q -e '.[test,buildkit,orjson]'
    run_pytest=("$venv/bin/python" -m pytest -q -p no:cacheprovider -W error::ResourceWarning)
    step "unit tests (Python $version)" "${run_pytest[@]}" tests/unit
    step "smoke against the daemon (Python $version, asyncio)" "${run_pytest[@]}" "${SMOKE[@]}"
    step "smoke against the daemon (Python $version, uvloop)" "${run_pytest[@]}" --loop=uvloop "${SMOKE[@]}"
done
echo "scripts/python_matrix.sh: Python ${PYTHON_MATRIX:-(none)} passed"
