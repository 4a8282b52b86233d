#!/usr/bin/env bash
# Compiles every Windows translation unit with clang for Windows on ARM64
# (aarch64-w64-windows-gnu; -fsyntax-only, the project's warnings as errors), so that nothing
# x86-only - an intrinsic without a fallback, an inline-assembly pause, an assumption about the
# alignment or lock-freedom of the shared words - slips into the headers, tests or examples.
# Like scripts/clang-windows-check.sh for x86-64, of which it is a sibling: the same sources and
# flags, another target. ARM64 is compile-checked here and model-checked by the Relacy models
# (tests/relacy, docs/explanation/memory-model.md); nothing is run on ARM64.
#
# Headers: mingw-w64's Windows headers are architecture-neutral (/usr/x86_64-w64-mingw32/include
# serves aarch64 as it is); Debian has no aarch64 mingw libstdc++, so the x86-64 one's headers are
# used, which are target-neutral apart from bits/c++config.h's x86 defaults, none of which the
# library depends on (the static_asserts on lock-free atomics are evaluated by clang for aarch64).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
gcc_dir=$(ls -d /usr/lib/gcc/x86_64-w64-mingw32/*-posix | sort -V | tail -n 1)
catch2_include="$root/build/mingw-wine/_deps/catch2-include"
flags=(--target=aarch64-w64-windows-gnu --sysroot=/usr/x86_64-w64-mingw32 -nostdinc++
       -isystem "$gcc_dir/include/c++" -isystem "$gcc_dir/include/c++/x86_64-w64-mingw32"
       -isystem /usr/x86_64-w64-mingw32/include -isystem "$catch2_include"
       -std=c++20 -fsyntax-only -Wall -Wextra -Wpedantic -Wconversion -Wsign-conversion
       -Wshadow -Werror -I"$root/include" -I"$root/tests/support")
source "$root/scripts/lib/asio-flags.sh"
# The target really is ARM64, and the shared words are lock-free there (what the headers assert).
probe=$(mktemp --suffix=.cpp)
trap 'rm -f "$probe"' EXIT
cat > "$probe" <<'CPP'
#include <atomic>
#include <cstdint>
#if !defined(__aarch64__) || !defined(_WIN64) || defined(__x86_64__)
#error "not an aarch64 Windows target"
#endif
static_assert(std::atomic_ref<std::uint32_t>::is_always_lock_free);
static_assert(std::atomic_ref<std::uint64_t>::is_always_lock_free);
static_assert(alignof(std::uint64_t) == 8);
int main() {}
CPP
clang++ "${flags[@]}" "$probe"
# Sources that are x86-only on purpose, with the reason; each is named in the output.
declare -A x86_only=(
    [bench/winmmf_bench.cpp]="cpu_name() reads the CPU's name with x86 CPUID (<cpuid.h>, __get_cpuid) and has no ARM64 branch"
)
count=0
failed=0
skipped=0
while IFS= read -r -d '' source; do
    rel=${source#"$root/"}
    if [ -n "${x86_only[$rel]+set}" ]; then
        echo "clang arm64: not checked: $rel: ${x86_only[$rel]}"
        skipped=$((skipped + 1))
        continue
    fi
    count=$((count + 1))
    asio_variants_for "$source"
    for variant in "${asio_variants[@]}"; do
        # shellcheck disable=SC2086 # a variant is a list of flags
        if ! clang++ "${flags[@]}" $variant "$source"; then
            echo "clang arm64: FAILED $source ${variant:+($variant)}" >&2
            failed=$((failed + 1))
        fi
    done
done < <(find "$root/include" "$root/tests/win" "$root/tests/child" "$root/tests/peer" \
              "$root/tests/unit" "$root/tests/asio" "$root/examples" "$root/tools" "$root/bench" "$root/c" \
              \( -name '*.cpp' -o -name '*.hpp' \) -print0 2>/dev/null | sort -z)
echo "clang (windows arm64 target): $((count - failed)) of $count translation units compile cleanly ($skipped x86-only, not checked)"
[ $failed -eq 0 ]
