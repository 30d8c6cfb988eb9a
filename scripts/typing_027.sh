#!/usr/bin/env bash
# Check the 0.27-style part of the typing corpus (tests/typing/compat_*.py) against
# aiodocker 0.27.0 itself: it is meant to be code written for 0.27, so it must pass there.
#
#   bash scripts/typing_027.sh PYTHON   (an interpreter with aiodocker==0.27.0 and mypy)
#
# The files are checked from a copy outside the repository, so that mypy finds the
# installed aiodocker 0.27 and not this package. 0.27 leaves some functions
# unannotated, hence --allow-untyped-calls.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
python=${1:?usage: typing_027.sh PYTHON}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp tests/typing/compat_*.py "$work/"
cd "$work"
"$python" -c 'import aiodocker, importlib.metadata as m; assert m.version("aiodocker") == "0.27.0"'
"$python" -m mypy --strict --allow-untyped-calls --no-incremental .
