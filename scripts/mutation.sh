#!/usr/bin/env bash
# Mutation testing (issue 27): mutmut over the targets of pyproject's [tool.mutmut]
# (the response contract, the host resolution, the frame decoder, the retry decision),
# each mutant tried against the fast unit tests there.
#
#   bash scripts/mutation.sh          # the bounded sample CI runs (mutants numbered *0 and *5)
#   bash scripts/mutation.sh --all    # every mutant (about 15 minutes on 2 busy cores)
#
# Fails when the score (killed / mutants tried; a mutant no test reaches counts as
# survived) is below MUTATION_MIN_SCORE percent. Lists the survivors; `python3 -m mutmut
# show NAME` shows one. Works in a scratch copy (mutants/, git-ignored), rebuilt each run.

set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON=${PYTHON:-python3}
MIN_SCORE=${MUTATION_MIN_SCORE:-95}
SAMPLE=${MUTATION_SAMPLE:-'*__mutmut_*[05]'}
JOBS=${MUTATION_JOBS:-2}

if [ "${1:-}" = "--all" ]; then
    selection=()
else
    selection=("$SAMPLE")
fi
rm -rf mutants
log=$(mktemp "${TMPDIR:-/tmp}/aiodocker-mutmut.XXXXXX") || exit 1
start=$(date +%s)
# mutmut draws a progress line per mutant: keep it out of the CI log
"$PYTHON" -m mutmut run --max-children "$JOBS" "${selection[@]}" </dev/null >"$log" 2>&1
rc=$?
if [ $rc -ne 0 ]; then
    tail -c 4000 "$log" >&2
    echo "scripts/mutation.sh: mutmut run failed (exit status $rc); log: $log" >&2
    exit $rc
fi
"$PYTHON" -m mutmut export-cicd-stats >/dev/null || exit 1
"$PYTHON" -m mutmut results >"$log.survivors" 2>&1
"$PYTHON" - "$MIN_SCORE" "$(($(date +%s) - start))" "$log.survivors" <<'EOF'
import json
import sys

minimum, seconds, survivors_file = float(sys.argv[1]), sys.argv[2], sys.argv[3]
with open("mutants/mutmut-cicd-stats.json", encoding="utf-8") as file:
    stats = json.load(file)
killed = stats["killed"] + stats["timeout"]
tried = killed + stats["survived"] + stats["no_tests"] + stats["suspicious"] + stats["segfault"]
score = 100.0 * killed / tried if tried else 0.0
with open(survivors_file, encoding="utf-8") as file:
    survivors = [line.strip() for line in file if line.strip() and "not checked" not in line]
for line in survivors:
    print("  " + line)
print(
    f"mutation score {score:.1f}% ({killed} killed of {tried} tried, "
    f"{stats['no_tests']} reached by no test) in {seconds} s; minimum {minimum:g}%"
)
sys.exit(0 if tried and score >= minimum else 1)
EOF
