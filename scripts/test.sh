#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine: installs what is missing, then
#   1. builds for Windows with mingw-w64 and runs every test under Wine (real processes,
#      real mappings, real Win32 calls);
#   2. compiles every Windows source with clang as well (a second compiler's opinion);
#   3. builds the platform-independent core natively and runs it under ThreadSanitizer and
#      under AddressSanitizer + UndefinedBehaviorSanitizer.
# Ends with one line per stage giving ctest's counts; exits non-zero if any stage failed.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

"$root/scripts/deps.sh" || exit 1
cd "$root"

declare -a summary=()
failed=0

# run_stage <label> <preset> [ctest args...]: builds the preset and runs its tests.
run_stage() {
    local label=$1 preset=$2
    shift 2
    echo
    echo "==== $label ===="
    local log="$root/build/$preset.ctest.log"
    rm -f "$log"
    if ! build_preset "$preset"; then
        summary+=("$label: BUILD FAILED")
        failed=1
        return
    fi
    ctest --preset "$preset" -j "$jobs" --output-log "$log" "$@" </dev/null
    local status=$?
    local counts
    counts=$(grep -E "tests passed|tests failed" "$log" | tail -n 1)
    summary+=("$label: ${counts:-no test summary (ctest exit $status)}")
    [ $status -eq 0 ] || failed=1
}

trap wine_down EXIT
wine_up "$root/build/mingw-wine/wineprefix"
run_stage "Windows x64 (mingw-w64, under Wine)" mingw-wine
wine_down

echo
echo "==== clang, Windows target (syntax and warnings) ===="
if clang_line=$("$root/scripts/clang-windows-check.sh" 2>&1 | tee /dev/stderr | tail -n 1); then
    summary+=("$clang_line")
else
    summary+=("clang (windows target): FAILED - $clang_line")
    failed=1
fi

run_stage "native ThreadSanitizer (clang)" native-tsan
run_stage "native AddressSanitizer + UBSan (clang)" native-asan

echo
echo "==== summary ===="
printf '%s\n' "${summary[@]}"
exit $failed
