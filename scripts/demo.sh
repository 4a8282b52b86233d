#!/usr/bin/env bash
# The demo, from a fresh Debian machine: installs what is missing, builds the examples for
# Windows, and runs a writer and a reader as two separate processes under Wine, sharing
# Local\winmmf-hello.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

"$root/scripts/deps.sh"
cd "$root"
echo "demo: building (mingw-w64)"
build_preset mingw-wine >/dev/null

trap wine_down EXIT
wine_up "$root/build/mingw-wine/wineprefix"
bin="$root/build/mingw-wine/examples"

echo "demo: starting hello_writer.exe and hello_reader.exe"
wine "$bin/hello_writer.exe" </dev/null &
writer=$!
wine "$bin/hello_reader.exe" </dev/null &
reader=$!
status=0
wait $writer || status=1
wait $reader || status=1
[ $status -eq 0 ] && echo "demo: both processes finished cleanly" || echo "demo: FAILED" >&2
exit $status
