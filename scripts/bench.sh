#!/usr/bin/env bash
# The benchmarks, from a fresh Debian machine: installs what is missing, builds winmmf_bench for
# Windows with mingw-w64, and runs it under Wine. It measures winmmf's operations against the
# raw baselines and the peers (Boost.Interprocess, named pipes, TCP loopback) in one run, with
# Catch2's BENCHMARK, and ends with a table of ratios against the targets of
# docs/explanation/benchmarks.md. The table and Catch2's output are kept in <build>/bench/winmmf-bench.txt,
# the figures in <build>/bench/winmmf-bench.json.
#
#   scripts/bench.sh                  every group
#   scripts/bench.sh "[transfer]"     one group ([frame] [lock] [handoff] [transfer] [async]); any
#                                     Catch2 arguments pass through (--benchmark-samples 200, ...)
#   WINMMF_BUILD_DIR=<dir>            build there instead of build/mingw-wine
#
# Nothing is asserted: a missed target is reported as MISS, and the exit code is Catch2's
# (non-zero only if a benchmark could not run).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

"$root/scripts/deps.sh"
cd "$root"
echo "bench: building winmmf_bench.exe (mingw-w64)"
build_windows_targets winmmf_bench winmmf_bench_helper

trap wine_down EXIT
wine_up "$build_dir/wineprefix"
cd "$build_dir/bench"
echo "bench: running winmmf_bench.exe under Wine (under a minute; best on an otherwise idle machine)"
status=0
# The host's load average as the run starts (Wine has no API for it): printed with the table.
WINMMF_BENCH_LOADAVG=$(cat /proc/loadavg 2>/dev/null || true)
export WINMMF_BENCH_LOADAVG
# Output goes to a file (never a pipe: Wine's helper processes would keep it open).
WINMMF_BENCH_JSON=winmmf-bench.json wine ./winmmf_bench.exe "$@" >winmmf-bench.txt 2>&1 </dev/null || status=$?
cat winmmf-bench.txt
echo "bench: table and output in $build_dir/bench/winmmf-bench.txt, figures in $build_dir/bench/winmmf-bench.json"
exit $status
