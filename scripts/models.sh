#!/usr/bin/env bash
# The Relacy models (tests/relacy, docs/explanation/memory-model.md) with longer random searches than the
# test command runs: every random search's iteration count becomes WINMMF_RELACY_ITERATIONS
# (default 5000000; the test command's defaults are 100000 to 500000 per model, sized to keep
# the whole stage well under five minutes on two cores). The full searches run as they are.
# WINMMF_RELACY_SEARCH=full runs every model with Relacy's full search instead (most random
# models do not finish one in useful time). The mutation checks stop at the first failure, so
# they are run too, as a check of the build. Not part of the test command; expect well over
# half an hour on two cores at the default count.
#
# Usage: scripts/models.sh                 (installs what is missing, like the test command)
#        WINMMF_RELACY_ITERATIONS=20000000 scripts/models.sh
#        WINMMF_RELACY_SEARCH=full scripts/models.sh
# Ends with the counts; exits non-zero if any model or mutation check failed (histories in
# build/native-relacy/models/).
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

"$root/scripts/deps.sh" || exit 1
cd "$root"
export WINMMF_RELACY_ITERATIONS="${WINMMF_RELACY_ITERATIONS:-5000000}"
echo "==== Relacy models, $WINMMF_RELACY_ITERATIONS iterations per random search ===="
if ! build_preset native-relacy; then
    echo "models: BUILD FAILED"
    exit 1
fi
bin="$root/build/native-relacy/tests/relacy"
logdir="$root/build/native-relacy/models"
mkdir -p "$logdir"
# The five model programs, $jobs at a time (no ctest timeout: a long search takes what it takes).
printf '%s\n' lock_word notify frame robust section |
    xargs -P "$jobs" -I{} sh -c '"$1/relacy_$2" > "$3/$2.log" 2>&1; echo $? > "$3/$2.rc"' _ "$bin" {} "$logdir"
failed=0
passed=0
for model in lock_word notify frame robust section; do
    grep -E "^model .* after " "$logdir/$model.log"
    if [ "$(cat "$logdir/$model.rc")" = 0 ]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "models: $model FAILED; Relacy's history is in $logdir/$model.log"
    fi
done
# The mutation checks stop at their first failure: quick at any iteration count.
ctest --preset native-relacy -R "relacy mutation" -j "$jobs" --output-log "$logdir/mutations.log" </dev/null >/dev/null
mutation_status=$?
mutation_counts=$(grep -E "tests passed|tests failed" "$logdir/mutations.log" | tail -n 1)
echo
echo "==== summary ===="
echo "Relacy model programs at $WINMMF_RELACY_ITERATIONS iterations per random search: $passed passed, $failed failed"
echo "Relacy mutation checks: ${mutation_counts:-no test summary (ctest exit $mutation_status)}"
[ $failed -eq 0 ] && [ $mutation_status -eq 0 ]
