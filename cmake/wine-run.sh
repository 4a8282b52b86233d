#!/bin/sh
# CMAKE_CROSSCOMPILING_EMULATOR for the mingw-w64 toolchain: runs a Windows program under Wine.
#
# Without WINEPREFIX set, every build tree gets its own prefix (next to CMakeCache.txt above
# the program), so test runs never touch ~/.wine. Creating a prefix takes ~10 s; scripts/test.sh
# creates it once, before tests run in parallel (parallel first runs race and fail).
set -eu
if [ -z "${WINEPREFIX:-}" ]; then
    dir=$(cd "$(dirname "$1")" && pwd)
    while [ "$dir" != / ] && [ ! -f "$dir/CMakeCache.txt" ]; do
        dir=$(dirname "$dir")
    done
    [ "$dir" = / ] && dir=$(cd "$(dirname "$1")" && pwd)
    WINEPREFIX="$dir/wineprefix"
    export WINEPREFIX
fi
export WINEDEBUG="${WINEDEBUG:--all}"
export WINEDLLOVERRIDES="${WINEDLLOVERRIDES:-mscoree,mshtml=}"
exec wine "$@"
