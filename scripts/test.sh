#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine: installs what is missing, then
#   1. builds for Windows with mingw-w64 and runs every test under Wine (real processes,
#      real mappings, real Win32 calls);
#   2. compiles every Windows source with clang as well (a second compiler's opinion), and
#      compiles and links everything for 32-bit Windows (i686; not run: no 32-bit Wine here);
#   3. builds the platform-independent core natively and runs it under ThreadSanitizer and
#      under AddressSanitizer + UndefinedBehaviorSanitizer (threads and fork()ed processes
#      hammering the lock words), then runs each libFuzzer target for a short, fixed time;
#   4. runs the Relacy models of the lock, channel, notification and creation protocols (the
#      shipped code under the C++ memory model's weak orders, not only x86's) and their mutation
#      checks, and compiles the Windows sources for ARM64 (aarch64-w64-windows-gnu) with clang
#      (compile-checked only: nothing runs on ARM64).
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
# Counted in the stage above; named here, since each is a way users take the library in.
consume_log="$root/build/mingw-wine.ctest.log"
if [ -f "$consume_log" ]; then
    consume_total=$(grep -cE "Test +#[0-9]+: consume: " "$consume_log")
    consume_passed=$(grep -E "Test +#[0-9]+: consume: " "$consume_log" | grep -c " Passed ")
    summary+=("  of which consumption paths (one include path, find_package, add_subdirectory, FetchContent, vcpkg port): $consume_passed of $consume_total passed")
    [ "$consume_total" -gt 0 ] || failed=1
fi

echo
echo "==== clang, Windows target (syntax and warnings) ===="
# (Captured, then printed: `tee /dev/stderr` would reopen - and truncate - a redirected log.)
clang_output=$("$root/scripts/clang-windows-check.sh" 2>&1)
clang_status=$?
printf '%s\n' "$clang_output"
clang_line=$(printf '%s\n' "$clang_output" | tail -n 1)
if [ $clang_status -eq 0 ]; then
    summary+=("$clang_line")
else
    summary+=("clang (windows target): FAILED - $clang_line")
    failed=1
fi

echo
echo "==== clang, Windows ARM64 target (syntax and warnings) ===="
arm64_output=$("$root/scripts/clang-arm64-check.sh" 2>&1)
arm64_status=$?
printf '%s\n' "$arm64_output"
arm64_line=$(printf '%s\n' "$arm64_output" | tail -n 1)
if [ $arm64_status -eq 0 ]; then
    summary+=("$arm64_line")
else
    summary+=("clang (windows arm64 target): FAILED - $arm64_line")
    failed=1
fi

# 32-bit: the library, tests, child, peer and examples, with the same warnings as errors
# (size_t is 32 bits there). Compile and link only: 32-bit Wine cannot be installed here.
echo
echo "==== Windows x86 (mingw-w64 i686, compile and link only) ===="
if build_preset mingw-i686; then
    i686_exes=$(find "$root/build/mingw-i686" -path '*/CMakeFiles' -prune -o -name '*.exe' -print | wc -l)
    summary+=("Windows x86 (mingw-w64 i686): $i686_exes executables compiled and linked, not run (no 32-bit Wine)")
else
    summary+=("Windows x86 (mingw-w64 i686): BUILD FAILED")
    failed=1
fi

run_stage "native ThreadSanitizer (clang)" native-tsan
run_stage "native AddressSanitizer + UBSan (clang)" native-asan
# libFuzzer (names, size rounding, both lock state machines against a model), each target for
# WINMMF_FUZZ_SECONDS (default 20) from the seed corpus in tests/fuzz/corpus.
run_stage "libFuzzer, ${WINMMF_FUZZ_SECONDS:-20} s per target (clang, ASan + UBSan)" native-fuzz
# Relacy (g++, no sanitizers): each model over the shipped protocol code, and each mutation check
# (one order weakened: Relacy must report it). Longer searches: scripts/models.sh.
run_stage "Relacy memory-model checks (g++; models and mutation checks)" native-relacy

echo
echo "==== summary ===="
printf '%s\n' "${summary[@]}"
exit $failed
