#!/usr/bin/env bash
# Installs what the demo and the tests need on a fresh Debian machine, and nothing that is
# already there: mingw-w64, Wine, CMake, Ninja, clang with its sanitizer runtimes, Boost
# headers (a benchmark peer and Boost.Asio), standalone Asio, Relacy (the memory-model checker, tests/relacy), GStreamer's
# plugins, ffmpeg and Xvfb (the frame service's media tests, tests/media), and the Catch2 v3
# source (Debian trixie's source package).
#
# Usage: scripts/deps.sh            (idempotent; uses sudo when not root)
#        scripts/deps.sh --demo     only what the demo needs: mingw-w64, Wine, CMake, Ninja
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
deps_dir="${WINMMF_DEPS_DIR:-$root/build/deps}"
catch2_tarball="$deps_dir/catch2_3.7.1.orig.tar.gz"

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
    sudo_cmd=(sudo)
fi
apt_get() { "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o Dpkg::Use-Pty=0 -qq "$@"; }

# package -> a file it installs
declare -A wanted=(
    [mingw-w64]=/usr/bin/x86_64-w64-mingw32-g++-posix
    [wine64]=/usr/lib/wine/wine64
    [wine]=/usr/bin/wine
    [cmake]=/usr/bin/cmake
    [ninja-build]=/usr/bin/ninja
    [clang]=/usr/bin/clang++
    [libclang-rt-14-dev]=/usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.tsan-x86_64.a
    [libboost-dev]=/usr/include/boost/version.hpp
    # Standalone Asio for <winmmf/asio.hpp>'s tests, example and benchmark rows (Boost.Asio
    # comes with libboost-dev).
    [libasio-dev]=/usr/include/asio.hpp
    [relacy-dev]=/usr/include/relacy/relacy.hpp
    # The frame service's media tests (tests/media): Wine's Media Foundation decodes through
    # GStreamer; ffmpeg makes the clips, their reference decodes and the window's screenshot
    # (x11grab) on an Xvfb display.
    [gstreamer1.0-plugins-base]=/usr/lib/x86_64-linux-gnu/gstreamer-1.0/libgstplayback.so
    [gstreamer1.0-plugins-good]=/usr/lib/x86_64-linux-gnu/gstreamer-1.0/libgstisomp4.so
    [gstreamer1.0-libav]=/usr/lib/x86_64-linux-gnu/gstreamer-1.0/libgstlibav.so
    [ffmpeg]=/usr/bin/ffmpeg
    [xvfb]=/usr/bin/Xvfb
)
# The demo builds two examples and runs them: no test framework, no sanitizers, no peers.
demo_only=no
if [ "${1:-}" = "--demo" ]; then
    demo_only=yes
    for package in "${!wanted[@]}"; do
        case "$package" in
        mingw-w64 | wine64 | wine | cmake | ninja-build) ;;
        *) unset "wanted[$package]" ;;
        esac
    done
fi
missing=()
for package in "${!wanted[@]}"; do
    [ -e "${wanted[$package]}" ] || missing+=("$package")
done
apt_updated=no
if [ ${#missing[@]} -gt 0 ]; then
    echo "deps: installing ${missing[*]}"
    apt_get update
    apt_updated=yes
    apt_get install -y --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "$demo_only" = yes ]; then
    echo "deps: ready for the demo"
    exit 0
fi

# Catch2 v3 is not packaged for bookworm; its source is, in trixie.
if [ ! -s "$catch2_tarball" ]; then
    sources=/etc/apt/sources.list.d/winmmf-trixie-src.sources
    if ! grep -rqs "trixie" /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null ||
       ! grep -rqs "deb-src" /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null; then
        echo "deps: adding a deb-src entry for trixie (source packages only)"
        printf '%s\n' "Types: deb-src" "URIs: http://deb.debian.org/debian" "Suites: trixie" \
            "Components: main" "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg" |
            "${sudo_cmd[@]}" tee "$sources" >/dev/null
        apt_updated=no
    fi
    [ "$apt_updated" = yes ] || apt_get update
    mkdir -p "$deps_dir"
    echo "deps: fetching the Catch2 source package"
    (cd "$deps_dir" && apt-get -qq source --download-only catch2 >/dev/null 2>&1)
    found=$(ls "$deps_dir"/catch2_3.*.orig.tar.* 2>/dev/null | head -n 1 || true)
    if [ -z "$found" ]; then
        echo "deps: could not download the Catch2 v3 source package" >&2
        exit 1
    fi
    [ "$found" = "$catch2_tarball" ] || cp "$found" "$catch2_tarball"
fi
echo "deps: ready (Catch2 source: $catch2_tarball)"
