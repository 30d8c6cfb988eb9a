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
# from outside the repository: its root holds this package's aiodocker/ and, once
# `pip install -e .` ran, aiodocker.egg-info (0.28), which would be found first
version=$(cd "$work" && "$python" -c 'import importlib.metadata as m; print(m.version("aiodocker"))')
if [ "$version" != 0.27.0 ]; then
    echo "scripts/typing_027.sh: $python has aiodocker $version, not 0.27.0" >&2
    exit 1
fi
# the generated part must be what 0.27's signatures give today
aiod027=$(cd "$work" && "$python" -c 'import aiodocker, os; print(os.path.dirname(aiodocker.__file__))')
"$python" scripts/gen_typing_027_calls.py "$aiod027" > "$work/generated.py"
if ! diff -u tests/typing/compat_signatures.py "$work/generated.py"; then
    echo "scripts/typing_027.sh: tests/typing/compat_signatures.py is stale; regenerate it" >&2
    exit 1
fi
rm "$work/generated.py"
cp tests/typing/compat_*.py "$work/"
cd "$work"
"$python" -m mypy --strict --allow-untyped-calls --no-incremental .
