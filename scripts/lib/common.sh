# Sourced by scripts/*.sh: the build and Wine plumbing the demo and the tests share.

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
deps_dir="${WINMMF_DEPS_DIR:-$root/build/deps}"
jobs="${WINMMF_JOBS:-$(nproc)}"

# Configures and builds one CMake preset.
build_preset() {
    local preset=$1
    shift
    cmake --preset "$preset" -DWINMMF_CATCH2_SOURCE="$deps_dir/catch2_3.7.1.orig.tar.gz" "$@" >/dev/null
    cmake --build --preset "$preset" -j "$jobs"
}

# Builds some targets of the Windows x64 build, quietly when it works and with the whole log
# when it does not. Sets build_dir: the preset's directory, or $WINMMF_BUILD_DIR (configured
# there from the same toolchain file).
build_windows_targets() {
    build_dir=${WINMMF_BUILD_DIR:-$root/build/mingw-wine}
    local log
    log=$(mktemp)
    local status=0
    {
        if [ -n "${WINMMF_BUILD_DIR:-}" ]; then
            cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
                -DCMAKE_TOOLCHAIN_FILE="$root/cmake/toolchains/x86_64-w64-mingw32-wine.cmake" \
                -DWINMMF_CATCH2_SOURCE="$deps_dir/catch2_3.7.1.orig.tar.gz" &&
                cmake --build "$build_dir" -j "$jobs" --target "$@"
        else
            cmake --preset mingw-wine -DWINMMF_CATCH2_SOURCE="$deps_dir/catch2_3.7.1.orig.tar.gz" &&
                cmake --build --preset mingw-wine -j "$jobs" --target "$@"
        fi
    } >"$log" 2>&1 </dev/null || status=$?
    if [ $status -ne 0 ]; then
        cat "$log" >&2
        echo "build failed" >&2
    fi
    rm -f "$log"
    return $status
}

# Starts a persistent wineserver for one prefix, created first if needed. Everything is
# started with stdio detached: Wine's helper processes inherit their parent's stdout, and a
# pipe they hold open never sees EOF (a `ctest | tee` would hang forever).
wine_up() {
    export WINEPREFIX=$1
    export WINEDEBUG=-all
    export WINEDLLOVERRIDES="mscoree,mshtml="
    if [ ! -f "$WINEPREFIX/system.reg" ]; then
        echo "wine: creating prefix $WINEPREFIX (once, ~10 s)"
        mkdir -p "$WINEPREFIX"
        wineboot --init >/dev/null 2>&1 </dev/null || true
        wineserver -w >/dev/null 2>&1 </dev/null || true
    fi
    wineserver -p >/dev/null 2>&1 </dev/null
    wine cmd /c exit >/dev/null 2>&1 </dev/null || true
}

wine_down() {
    if [ -n "${WINEPREFIX:-}" ]; then
        wineserver -k >/dev/null 2>&1 </dev/null || true
    fi
}
