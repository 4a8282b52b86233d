#!/usr/bin/env bash
# The repeat runs that are too long for every CI run: the native thread and fork tests (and the
# -O0 double-fetch test) under ThreadSanitizer and under AddressSanitizer + UBSan, each test
# repeated until it fails, up to WINMMF_SOAK_REPEAT times (default 50). These tests race real
# threads and processes, so one green run proves little about the rare interleaving; fifty in a
# row is the bar a change to a protocol header must clear.
#
# Usage: scripts/soak.sh            (installs what is missing, like the test command)
#        WINMMF_SOAK_REPEAT=200 scripts/soak.sh
# Ends with one line per sanitizer giving ctest's counts; exits non-zero if any test failed.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

"$root/scripts/deps.sh" || exit 1
cd "$root"
repeat="${WINMMF_SOAK_REPEAT:-50}"
filter='native:(threads|forked)|native -O0:'
declare -a summary=()
failed=0
for preset in native-tsan native-asan; do
    echo
    echo "==== $preset: thread and fork tests, until-fail:$repeat ===="
    if ! build_preset "$preset"; then
        summary+=("$preset: BUILD FAILED")
        failed=1
        continue
    fi
    log="$root/build/$preset.soak.log"
    ctest --preset "$preset" -R "$filter" --repeat "until-fail:$repeat" -j "$jobs" --output-log "$log" </dev/null
    status=$?
    counts=$(grep -E "tests passed|tests failed" "$log" | tail -n 1)
    summary+=("$preset, each test up to $repeat times: ${counts:-no test summary (ctest exit $status)}")
    [ $status -eq 0 ] || failed=1
done
echo
echo "==== summary ===="
printf '%s\n' "${summary[@]}"
exit $failed
