#!/usr/bin/env bash
# Compiles every Windows translation unit with clang for the x86_64-w64-windows-gnu target
# (-fsyntax-only, warnings as errors). The tests run from GCC builds; this keeps the code
# standard C++ that a second compiler accepts, the closest check to MSVC this machine has.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
gcc_dir=$(ls -d /usr/lib/gcc/x86_64-w64-mingw32/*-posix | sort -V | tail -n 1)
catch2_include="$root/build/mingw-wine/_deps/catch2-include"
flags=(--target=x86_64-w64-windows-gnu --sysroot=/usr/x86_64-w64-mingw32 -nostdinc++
       -isystem "$gcc_dir/include/c++" -isystem "$gcc_dir/include/c++/x86_64-w64-mingw32"
       -isystem /usr/x86_64-w64-mingw32/include -isystem "$catch2_include"
       -std=c++20 -fsyntax-only -Wall -Wextra -Wpedantic -Wconversion -Wsign-conversion
       -Wshadow -Werror -I"$root/include" -I"$root/tests/support")
source "$root/scripts/lib/asio-flags.sh"
count=0
failed=0
while IFS= read -r -d '' source; do
    count=$((count + 1))
    extra=()
    # tests/noexcept/ is the library without exceptions, as its CMakeLists builds it.
    case "$source" in "$root/tests/noexcept/"*) extra=(-fno-exceptions) ;; esac
    asio_variants_for "$source"
    for variant in "${asio_variants[@]}"; do
        # shellcheck disable=SC2086 # a variant is a list of flags
        if ! clang++ "${flags[@]}" "${extra[@]}" $variant "$source"; then
            echo "clang: FAILED $source ${variant:+($variant)}" >&2
            failed=$((failed + 1))
        fi
    done
done < <(find "$root/include" "$root/tests/win" "$root/tests/child" "$root/tests/peer" \
              "$root/tests/unit" "$root/tests/asio" "$root/tests/noexcept" "$root/examples" "$root/tools" "$root/bench" "$root/c" \
              \( -name '*.cpp' -o -name '*.hpp' \) -print0 2>/dev/null | sort -z)
echo "clang (windows target): $((count - failed)) of $count translation units compile cleanly"
[ $failed -eq 0 ]
